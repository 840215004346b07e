/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz-path.c - fuzz target of the gateway's parsers of request
 * paths and headers: gw_path_parse(), gw_path_parse_plain() (gateway/http/path.c),
 * gw_range_parse(), gw_http_date_parse(), gw_etag_match() and
 * gw_content_disposition() (gateway/http/httputil.c).
 *
 * The input, NUL-terminated, is given to each. None may crash or read out of
 * bounds; a failure must return one of the documented errors and leave the
 * outputs untouched. On success:
 *   - gw_path_parse(): every segment of server, share and path passes
 *     proto_name_valid(), the caps hold, and re-encoding the result with
 *     gw_path_encode_segment()/gw_path_encode() and parsing it again gives
 *     exactly the same result;
 *   - gw_path_parse_plain(): the result is the input without its '/', every
 *     segment valid;
 *   - gw_path_parse_destination(), given "HOST\nDESTINATION" (no newline: no
 *     Host header): -EXDEV only for an absolute URI, success only when an
 *     absolute URI's authority is the Host (case aside), and then exactly
 *     what gw_path_parse() gives for the path after "/dav";
 *   - gw_range_parse(): 1 <= len, start + len <= size, for several sizes;
 *   - gw_http_date_parse(): formatting the time and parsing it gives it back;
 *   - gw_content_disposition(): no control character, and nothing that could
 *     end the quoted string early.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) or with run-corpus.c, a
 * plain driver that runs as a meson test; see README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http/httputil.h"
#include "http/path.h"
#include "proto.h"

#define SENTINEL 0xa5a5a5a5a5a5a5a5ull

/* Every '/'-separated segment of @s is a valid name ("" is fine: no segment). */
static void check_segments(const char *s)
{
	char name[PROTO_MAX_NAME + 1];

	if (*s == '\0')
		return;
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t l = slash ? (size_t)(slash - s) : strlen(s);

		CHECK(l >= 1 && l <= PROTO_MAX_NAME);
		memcpy(name, s, l);
		name[l] = '\0';
		CHECK(proto_name_valid(name));
		if (!slash)
			return;
		s = slash + 1;
	}
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_path(const char *s)
{
	struct gw_path p, saved, q;
	char *server, *share = NULL, *path = NULL, *raw;
	size_t n;
	int r;

	memset(&p, 0xa5, sizeof(p));
	memcpy(&saved, &p, sizeof(p));
	r = gw_path_parse(s, &p);
	if (r < 0) {
		CHECK(r == -EINVAL || r == -ENAMETOOLONG || r == -ENOMEM);
		CHECK(memcmp(&p, &saved, sizeof(p)) == 0);
		return;
	}
	CHECK(r == 0);
	CHECK(s[0] == '/' && strlen(s) <= GW_PATH_MAX_RAW);
	CHECK(!strpbrk(s, "?#"));
	if (!p.server) {
		CHECK(strcmp(s, "/") == 0);
		CHECK(!p.share && !p.path && p.trailing_slash);
		gw_path_clear(&p);
		return;
	}
	CHECK(proto_name_valid(p.server));
	CHECK(!p.share == !p.path);
	if (p.share) {
		CHECK(proto_name_valid(p.share));
		CHECK(strlen(p.path) <= PROTO_MAX_PATH);
		check_segments(p.path);
	}
	CHECK(p.trailing_slash == (s[strlen(s) - 1] == '/'));

	/* re-encode and parse again */
	server = gw_path_encode_segment(p.server);
	CHECK(server);
	if (p.share) {
		share = gw_path_encode_segment(p.share);
		path = gw_path_encode(p.path);
		CHECK(share && path);
	}
	n = strlen(server) + (share ? strlen(share) + strlen(path) : 0) + 8;
	raw = malloc(n);
	CHECK(raw);
	snprintf(raw, n, "/%s%s%s%s%s%s", server, share ? "/" : "", share ? share : "",
		 path && *path ? "/" : "", path ? path : "", p.trailing_slash ? "/" : "");
	CHECK(gw_path_parse(raw, &q) == 0);
	CHECK(str_eq(q.server, p.server) && str_eq(q.share, p.share) && str_eq(q.path, p.path));
	CHECK(q.trailing_slash == p.trailing_slash);
	gw_path_clear(&q);
	free(raw);
	free(server);
	free(share);
	free(path);
	gw_path_clear(&p);
}

static void check_plain(const char *s)
{
	char sentinel, *ret = &sentinel;
	int r = gw_path_parse_plain(s, &ret);

	if (r < 0) {
		CHECK(r == -EINVAL || r == -ENAMETOOLONG || r == -ENOMEM);
		CHECK(ret == &sentinel);
		return;
	}
	CHECK(r == 0 && ret != &sentinel);
	CHECK(s[0] == '/' && strcmp(s + 1, ret) == 0);
	CHECK(strlen(ret) <= PROTO_MAX_PATH);
	check_segments(ret);
	free(ret);
}

static void check_destination(const char *s)
{
	struct gw_path p, saved, q;
	char *copy = strdup(s), *host = NULL, *dest = copy, *nl;
	int r;

	CHECK(copy);
	nl = strchr(copy, '\n');
	if (nl) {
		*nl = '\0';
		host = copy;
		dest = nl + 1;
	}
	memset(&p, 0xa5, sizeof(p));
	memcpy(&saved, &p, sizeof(p));
	r = gw_path_parse_destination(dest, host, &p);
	const char *scheme = strstr(dest, "://"), *slash = strchr(dest, '/');
	bool uri = scheme && scheme < slash;
	const char *path = uri ? strchr(scheme + 3, '/') : dest;
	if (r < 0) {
		CHECK(r == -EXDEV || r == -EINVAL || r == -ENAMETOOLONG || r == -ENOMEM);
		CHECK(memcmp(&p, &saved, sizeof(p)) == 0);
		CHECK(r != -EXDEV || uri);
		free(copy);
		return;
	}
	CHECK(r == 0);
	if (uri) {
		size_t n = (size_t)(path - (scheme + 3));
		CHECK(host && strlen(host) == n && strncasecmp(host, scheme + 3, n) == 0);
	}
	CHECK(path && strncmp(path, "/dav/", 5) == 0);
	CHECK(gw_path_parse(path + 4, &q) == 0);
	CHECK(str_eq(q.server, p.server) && str_eq(q.share, p.share) && str_eq(q.path, p.path));
	CHECK(q.trailing_slash == p.trailing_slash);
	gw_path_clear(&q);
	gw_path_clear(&p);
	free(copy);
}

static void check_range(const char *s)
{
	static const uint64_t sizes[] = {0, 1, 2, 1000, UINT64_MAX - 1, UINT64_MAX};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t start = SENTINEL, len = SENTINEL;
		int r = gw_range_parse(s, sizes[i], &start, &len);

		if (r < 0) {
			CHECK(r == -EINVAL || r == -ERANGE);
			CHECK(start == SENTINEL && len == SENTINEL);
			continue;
		}
		CHECK(r == 0);
		CHECK(len >= 1 && start < sizes[i] && len <= sizes[i] - start);
	}
}

static void check_headers(const char *s)
{
	int64_t t = (int64_t)SENTINEL, u;
	char buf[32], *cd;

	if (gw_http_date_parse(s, &t) == 0) {
		gw_http_date(t, buf);
		CHECK(gw_http_date_parse(buf, &u) == 0 && u == t);
	} else {
		CHECK(t == (int64_t)SENTINEL);
	}
	(void)gw_etag_match(s, "\"1a-2b\"");
	(void)gw_etag_match("\"1a-2b\", W/\"x\"", s);
	CHECK(gw_mime_type(s) != NULL);

	cd = gw_content_disposition(s);
	if (cd) {
		const char *q = strchr(cd, '"'), *end;

		for (const char *c = cd; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
		/* the quoted fallback closes right before "; filename*=" */
		CHECK(q);
		end = strchr(q + 1, '"');
		CHECK(end && strncmp(end, "\"; filename*=UTF-8''", 20) == 0);
		CHECK(!strchr(end + 1, '"'));
		free(cd);
	} else {
		CHECK(errno == ENAMETOOLONG || errno == ENOMEM);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_path(s);
	check_plain(s);
	check_destination(s);
	check_range(s);
	check_headers(s);
	free(s);
	return 0;
}
