/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/search.c - name search under a folder; see search.h.
 *
 * Case folding: towlower_l() of the C.UTF-8 locale (Unicode simple case
 * mapping), through a locale object of its own, so that nothing else of the
 * worker changes locale. Without that locale, ASCII letters only.
 *
 * Runs in: the worker (and its lanes), inside the sandbox.
 */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include "search.h"

#define STOPPED 1000 /* not a proto_err: the walk stopped at a limit */

struct search_matcher {
	bool glob;
	size_t n;
	locale_t loc;
	uint32_t cp[]; /* folded */
};

/* The code point at *@s (valid UTF-8, from proto_utf8_valid()); advances *@s. */
static uint32_t next_cp(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	size_t n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;

	if (n)
		c &= 0x3f >> n;
	for (size_t i = 1; i <= n; i++)
		c = (c << 6) | (p[i] & 0x3f);
	*s += n + 1;
	return c;
}

static uint32_t fold(locale_t loc, uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	return loc ? (uint32_t)towlower_l((wint_t)c, loc) : c;
}

int search_matcher_new(const char *pattern, struct search_matcher **ret)
{
	size_t len = strnlen(pattern, PROTO_SEARCH_MAX_PATTERN + 1);
	struct search_matcher *m;

	if (len == 0 || len > PROTO_SEARCH_MAX_PATTERN || !proto_utf8_valid(pattern, len))
		return PROTO_E_INVALID;
	m = calloc(1, sizeof(*m) + (len + 1) * sizeof(uint32_t));
	if (!m)
		return PROTO_E_IO;
	m->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	for (const char *p = pattern; *p;) {
		uint32_t c = next_cp(&p);
		if (c == '*' || c == '?')
			m->glob = true;
		m->cp[m->n++] = fold(m->loc, c);
	}
	*ret = m;
	return 0;
}

void search_matcher_free(struct search_matcher *m)
{
	if (!m)
		return;
	if (m->loc)
		freelocale(m->loc);
	free(m);
}

/* '*' any run, '?' one code point; iterative, with one backtrack point. */
static bool glob_match(const uint32_t *p, size_t pn, const uint32_t *s, size_t sn)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

bool search_match(const struct search_matcher *m, const char *name)
{
	uint32_t buf[PROTO_MAX_NAME];
	size_t n = 0;

	for (const char *p = name; *p && n < PROTO_MAX_NAME;)
		buf[n++] = fold(m->loc, next_cp(&p));
	if (m->glob)
		return glob_match(m->cp, m->n, buf, n);
	if (m->n > n)
		return false;
	for (size_t i = 0; i + m->n <= n; i++)
		if (memcmp(buf + i, m->cp, m->n * sizeof(uint32_t)) == 0)
			return true;
	return false;
}

struct run {
	const struct search_matcher *m;
	const struct proto_search *req;
	struct timespec deadline;
	int (*found)(void *ud, const struct smb_walk_entry *e);
	void *ud;
	struct search_result *res;
};

static bool past(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static int run_cb(void *ud, enum smb_walk_event ev, const struct smb_walk_entry *e, int err)
{
	struct run *r = ud;
	(void)err;

	if (past(&r->deadline)) {
		r->res->stopped = true;
		return STOPPED;
	}
	if (ev == SMB_WALK_LINK || ev == SMB_WALK_UNREADABLE) {
		r->res->unreadable++;
		return 0;
	}
	if (ev != SMB_WALK_ENTRY)
		return 0;
	const char *slash = strrchr(e->path, '/');
	if (search_match(r->m, slash ? slash + 1 : e->path)) {
		int x = r->found(r->ud, e);
		if (x)
			return x;
		if (++r->res->results >= r->req->max_results) {
			r->res->stopped = true;
			return STOPPED;
		}
	}
	if (e->ftype == PROTO_FT_DIR && e->depth + 1 >= r->req->max_depth) {
		r->res->too_deep = true;
		return SMB_WALK_PRUNE;
	}
	return 0;
}

int search_run(struct smb *s, const char *share, const char *folder, const char *pattern,
	       const struct proto_search *req,
	       int (*found)(void *ud, const struct smb_walk_entry *e), void *ud,
	       struct search_result *ret)
{
	struct search_matcher *m = NULL;
	struct search_result res = {0};
	struct run run = {.req = req, .found = found, .ud = ud, .res = &res};
	int r = search_matcher_new(pattern, &m);

	if (r)
		return r;
	run.m = m;
	clock_gettime(CLOCK_MONOTONIC, &run.deadline);
	run.deadline.tv_sec += req->deadline_ms / 1000;
	run.deadline.tv_nsec += (long)(req->deadline_ms % 1000) * 1000000L;
	if (run.deadline.tv_nsec >= 1000000000L) {
		run.deadline.tv_sec++;
		run.deadline.tv_nsec -= 1000000000L;
	}
	r = smb_walk(s, share, folder, NULL, 0, run_cb, &run);
	search_matcher_free(m);
	if (r == STOPPED)
		r = 0;
	if (r == 0)
		*ret = res;
	return r;
}
