/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/dav.c - WebDAV (RFC 4918 classes 1 and 2) at /dav/:
 *   /dav/                          the configured servers (read-only collections)
 *   /dav/{server}/                 the shares this user may see (read-only)
 *   /dav/{server}/{share}/{path}   the share's content
 * through the same sessions, sandboxes, worker requests and path rules as the
 * file operations (files/fileops.h): PUT and DELETE are the same code as the
 * file API's; GET and HEAD under /dav are the file API's own (routes.c).
 * XML bodies: davxml.h; locks and the If header: davlock.h.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth/session.h"
#include "cfg.h"
#include "client.h"
#include "dav/dav.h"
#include "dav/davlock.h"
#include "dav/davms.h"
#include "dav/davxml.h"
#include "files/fileops.h"
#include "files/journal.h"
#include "http/httputil.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/request.h"
#include "proto.h"

/* What the site's root answers (the web UI's page, and the probes). */
#define DAV_ROOT_ALLOW "GET, HEAD, OPTIONS, PROPFIND"
#define DAV_ALLOW                                                                                  \
	"OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"
#define DAV_LOCK_TIMEOUT 600 /* seconds, when the client asks for none */
#define COPY_MAX_DEPTH	 64  /* folder levels a COPY of a collection goes down */
#define COPY_MAX_ENTRIES 100000
#define MS_NS		 "urn:schemas-microsoft-com:"

/* The lock table: gw_dav_locks_open()'s, kept in a file, else (no such
 * file, or the unit harness) made in memory at the first request. */
static struct davlock_table *locks;
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;

static void locks_init(void)
{
	if (!locks && davlock_new(&locks) < 0)
		locks = NULL;
}

static int64_t now_s(void)
{
	return gw_now_us() / 1000000;
}

int gw_dav_locks_open(const char *path)
{
	struct timespec ts;
	unsigned dropped = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	int err = davlock_open(path, now_s(), (int64_t)ts.tv_sec, &dropped, &locks);
	if (err == 0 && dropped)
		fprintf(stderr, "smbgate: %s: %u expired or unreadable WebDAV locks left out\n",
			path, dropped);
	return err;
}

void gw_dav_locks_close(void)
{
	davlock_free(locks);
	locks = NULL;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- answers ---- */

static enum MHD_Result reply_xml(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				 struct davxml_buf *b, const gw_headers hdrs)
{
	size_t len = 0;
	char *text = davxml_buf_take(b, &len);

	if (!text)
		return MHD_NO;
	return gw_reply_xml(r, c, status, text, len, hdrs);
}

/* An error with a precondition element: <D:error><D:@cond/></D:error>. */
static enum MHD_Result reply_cond(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				  const char *cond)
{
	struct davxml_buf b = {0};

	davxml_putf(&b,
		    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		    "<D:error xmlns:D=\"DAV:\"><D:%s/></D:error>\n",
		    cond);
	return reply_xml(r, c, status, &b, NULL);
}

static enum MHD_Result reply_locked(struct gw_req *r, struct MHD_Connection *c)
{
	return reply_cond(r, c, 423, "lock-token-submitted");
}

/* ---- names ---- */

/* ---- the If header (RFC 4918 10.4) ---- */

/* What a request presents: its If header parsed, and its state tokens. */
struct cond {
	struct davlock_if h;
	const char **tokens; /* into h; every state token, negated or not */
	size_t n;
};

static void cond_clear(struct cond *k)
{
	davlock_if_clear(&k->h);
	free(k->tokens);
	*k = (struct cond){0};
}

/* The key of a tagged resource (an absolute URL or a path under /dav/), or NULL. */
static char *key_of_url(const struct cfg *cfg, const char *url)
{
	const char *path = url;
	const char *scheme = strstr(url, "://");
	struct gw_path p = {0};
	char *k = NULL;

	if (scheme) {
		path = strchr(scheme + 3, '/');
		if (!path)
			return NULL;
	}
	if (strncmp(path, "/dav/", 5) != 0 || gw_path_parse(path + 4, &p) < 0)
		return NULL;
	if (p.share && cfg_server_find(cfg, p.server))
		k = davms_key(p.server, p.share, p.path);
	gw_path_clear(&p);
	return k;
}

/*
 * Parses the If header; answers 400 for a malformed one. Returns true when
 * the request may go on.
 */
static bool cond_parse(struct gw_req *r, struct MHD_Connection *c, struct cond *k)
{
	const char *v = header(c, "If");

	*k = (struct cond){0};
	if (!v)
		return true;
	if (davlock_if_parse(v, &k->h) < 0) {
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_if", "the If header is malformed");
		return false;
	}
	size_t n = 0;
	for (size_t i = 0; i < k->h.n; i++)
		n += k->h.lists[i].n;
	k->tokens = calloc(n + 1, sizeof(*k->tokens));
	if (!k->tokens) {
		cond_clear(k);
		gw_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no_memory", "out of memory");
		return false;
	}
	for (size_t i = 0; i < k->h.n; i++)
		for (size_t j = 0; j < k->h.lists[i].n; j++)
			if (!k->h.lists[i].c[j].etag)
				k->tokens[k->n++] = k->h.lists[i].c[j].value;
	return true;
}

/* Whether the If header holds (true without one). @key, @etag: the request's
 * resource (etag NULL when it has none). */
static bool cond_holds(struct gw_req *r, const struct cond *k, const char *key, const char *etag)
{
	if (k->h.n == 0)
		return true;
	for (size_t i = 0; i < k->h.n; i++) {
		const struct davlock_iflist *l = &k->h.lists[i];
		char *tagged = l->resource ? key_of_url(r->gw->cfg, l->resource) : NULL;
		const char *rk = l->resource ? tagged : key;
		bool ok = true;
		for (size_t j = 0; j < l->n && ok; j++) {
			const struct davlock_cond *d = &l->c[j];
			bool m;
			if (d->etag)
				m = !l->resource && etag && strcmp(etag, d->value) == 0;
			else
				m = rk && davlock_covers(locks, rk, d->value, now_s());
			ok = d->not ? !m : m;
		}
		free(tagged);
		if (ok)
			return true;
	}
	return false;
}

/* @p's lock key (the caller frees it) and the If header parsed into @k (the
 * caller clears it); NULL when either fails: after answering, or ENOMEM. */
static char *key_cond(struct gw_req *r, struct MHD_Connection *c, const struct gw_path *p,
		      struct cond *k)
{
	char *key = davms_key(p->server, p->share, p->path);

	if (!key || !cond_parse(r, c, k)) {
		free(key);
		return NULL;
	}
	return key;
}

/*
 * The checks before a change of @key (and below it, with @tree): the If
 * header holds (else 412), and every lock on it is the user's and presented
 * (else 423). Returns true when the request may go on, else after answering.
 */
static bool may_write(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
		      const struct cond *k, const char *key, bool tree, const char *etag)
{
	if (!cond_holds(r, k, key, etag)) {
		gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "precondition_failed",
			       "the If header does not hold");
		return false;
	}
	if (davlock_check(locks, key, tree, k->tokens, k->n, gw_session_user(s), now_s(), NULL) <
	    0) {
		reply_locked(r, c);
		return false;
	}
	return true;
}

/* ---- PROPFIND ---- */

/* PROPFIND on /dav/: the root, and with @one its servers. */
static void propfind_root(struct davxml_buf *b, const struct davxml_propfind *pf,
			  const struct cfg *cfg, bool one)
{
	struct davms_res x = {.href = "/dav/", .name = "", .collection = true};

	davms_response(b, pf, &x);
	for (size_t i = 0; one && i < cfg->n_servers; i++) {
		char *href = davms_href(cfg->servers[i].name, NULL, NULL, true);
		struct davms_res y = {.href = href ? href : "/dav/",
				      .name = cfg->servers[i].name,
				      .collection = true};
		davms_response(b, pf, &y);
		free(href);
	}
}

/* PROPFIND on /dav/{server}/: the server, and with @one its shares. Returns 0
 * or the worker's error. */
static int propfind_server(struct davxml_buf *b, const struct davxml_propfind *pf,
			   struct gw_session *s, const struct gw_path *p, bool one)
{
	char *href = davms_href(p->server, NULL, NULL, true);
	struct davms_res x = {.href = href ? href : "", .name = p->server, .collection = true};

	davms_response(b, pf, &x);
	free(href);
	if (!one)
		return 0;
	struct davms_listing l = {
	    .b = b, .pf = pf, .locks = locks, .now = now_s(), .server = p->server, .shares = true};
	return sbxc_shares(gw_fs_client(s), davms_list_entry, &l);
}

/* RFC 4331's quota of @share, only when @pf asks for it by name (never in
 * allprop): fills @q and returns it, or NULL when not asked for or the server
 * does not say (404 for both). *@err: 0, or the worker's error. */
static const struct davms_quota *propfind_quota(const struct davxml_propfind *pf,
						struct gw_session *s, const char *share,
						struct davms_quota *q, int *err)
{
	*err = 0;
	for (size_t i = 0; pf->kind == DAVXML_PROP && i < pf->n; i++)
		if (strcmp(pf->props[i].ns, "DAV:") == 0 &&
		    strncmp(pf->props[i].name, "quota-", 6) == 0) {
			int e = sbxc_statvfs(gw_fs_client(s), share, &q->total, &q->avail);
			if (e == 0)
				return q;
			if (e < 0) {
				*err = e;
				return NULL;
			}
			/* the server does not say: 404 for both */
		}
	return NULL;
}

/* PROPFIND in a share: @p (a share's root, a folder or a file), and with @one
 * a folder's entries. Returns 0 or the worker's error. */
static int propfind_share(struct davxml_buf *b, const struct davxml_propfind *pf,
			  struct gw_session *s, const struct gw_path *p, bool one)
{
	struct proto_stat st = {0};
	struct davms_quota q = {0};
	int err;
	const struct davms_quota *qp = propfind_quota(pf, s, p->share, &q, &err);

	if (!err)
		err = sbxc_stat(gw_fs_client(s), p->share, p->path, &st);
	if (err)
		return err;
	bool dir = st.ftype != PROTO_FT_FILE;
	char *href = davms_href(p->server, p->share, p->path, dir);
	char *key = davms_key(p->server, p->share, p->path);
	const char *slash = strrchr(p->path, '/');
	struct davms_res x = {.quota = qp,
			      .href = href ? href : "",
			      .name = *p->path ? (slash ? slash + 1 : p->path) : p->share,
			      .key = key,
			      .locks = locks,
			      .now = now_s(),
			      .collection = dir,
			      .stat = true,
			      .st = st};
	davms_response(b, pf, &x);
	free(href);
	free(key);
	if (!one || !dir)
		return 0;
	struct davms_listing l = {.quota = qp,
				  .b = b,
				  .pf = pf,
				  .locks = locks,
				  .now = now_s(),
				  .server = p->server,
				  .share = p->share,
				  .dir = p->path};
	return sbxc_list(gw_fs_client(s), p->share, p->path, davms_list_entry, &l);
}

/* The Depth of a PROPFIND in *@one (1, else 0); false after answering a
 * Depth other than 0 or 1 (*@ret: what to return). */
static bool propfind_depth(struct gw_req *r, struct MHD_Connection *c, bool *one,
			   enum MHD_Result *ret)
{
	const char *depth = header(c, "Depth");

	if (!depth || strcasecmp(depth, "infinity") == 0) {
		*ret = reply_cond(r, c, MHD_HTTP_FORBIDDEN, "propfind-finite-depth");
		return false;
	}
	if (strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0) {
		*ret =
		    gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_depth", "Depth must be 0 or 1");
		return false;
	}
	*one = depth[0] == '1';
	return true;
}

/* The PROPFIND's body into *@pf (the caller clears it), and the multistatus
 * opened in @b; false after answering a body that is not a DAV:propfind. */
static bool propfind_body(struct gw_req *r, struct MHD_Connection *c, struct davxml_propfind *pf,
			  struct davxml_buf *b, enum MHD_Result *ret)
{
	int err = davxml_parse_propfind(r->body, r->body ? r->body_len : 0, pf);

	if (err) {
		*ret = err == -ENOMEM ? MHD_NO
				      : gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_xml",
						       "the body is not a valid DAV:propfind");
		return false;
	}
	davxml_put(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<D:multistatus xmlns:D=\"DAV:\">");
	return true;
}

static enum MHD_Result do_propfind(struct gw_req *r, struct MHD_Connection *c, size_t server,
				   const struct gw_path *p)
{
	struct davxml_propfind pf;
	struct davxml_buf b = {0};
	struct gw_session *s;
	enum MHD_Result ret;
	bool one;
	int err = 0;

	if (!propfind_depth(r, c, &one, &ret))
		return ret;
	s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	if (!propfind_body(r, c, &pf, &b, &ret))
		return ret;
	if (!p->server)
		propfind_root(&b, &pf, r->gw->cfg, one);
	else if (!p->share)
		err = propfind_server(&b, &pf, s, p, one);
	else
		err = propfind_share(&b, &pf, s, p, one);
	davxml_propfind_clear(&pf);
	if (err) {
		davxml_buf_clear(&b);
		return gw_fs_failed(r, c, s, err);
	}
	davxml_put(&b, "</D:multistatus>\n");
	return reply_xml(r, c, 207, &b, NULL);
}

/* ---- PROPPATCH ---- */

static bool ms_prop(const struct davxml_prop *pr)
{
	static const char *const win32[] = {"Win32CreationTime", "Win32LastAccessTime",
					    "Win32LastModifiedTime", "Win32FileAttributes"};
	if (strcmp(pr->ns, MS_NS) != 0)
		return false;
	for (size_t i = 0; i < sizeof(win32) / sizeof(win32[0]); i++)
		if (strcmp(pr->name, win32[i]) == 0)
			return true;
	return false;
}

/* Win32LastModifiedTime or Win32LastAccessTime. */
static bool time_prop(const struct davxml_prop *pr)
{
	return ms_prop(pr) && (strcmp(pr->name, "Win32LastModifiedTime") == 0 ||
			       strcmp(pr->name, "Win32LastAccessTime") == 0);
}

/* A Win32 time as Windows sends it: an HTTP date, maybe with blanks around. */
static int parse_time(const char *v, int64_t *ret)
{
	char buf[64];
	size_t n;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return gw_http_date_parse(buf, ret);
}

/* A time set to a value that is not a date (RFC 4918 9.2: 409 Conflict, "a
 * value whose semantics are not appropriate for the property"). */
static bool bad_time(const struct davxml_prop *pr)
{
	int64_t t;

	return time_prop(pr) && !pr->remove && (!pr->value || parse_time(pr->value, &t) < 0);
}

/* The multistatus of a PROPPATCH into @b: each property's status, the
 * request being all or nothing (RFC 4918 9.2). */
static void proppatch_result(struct davxml_buf *b, const char *href,
			     const struct davxml_prop *props, size_t n, bool all_ok,
			     bool times_failed)
{
	static const char *const status[] = {"200 OK", "403 Forbidden", "409 Conflict",
					     "424 Failed Dependency"};

	davxml_put(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>");
	davxml_put_text(b, href);
	davxml_put(b, "</D:href>");
	for (int pass = 0; pass < 4; pass++) {
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			const struct davxml_prop *pr = &props[i];
			int want = all_ok && !times_failed	   ? 0
				   : !ms_prop(pr)		   ? 1
				   : bad_time(pr)		   ? 2
				   : times_failed && time_prop(pr) ? 1
								   : 3;
			if (want != pass)
				continue;
			if (!any)
				davxml_put(b, "<D:propstat><D:prop>");
			any = true;
			davxml_put_empty_prop(b, pr->ns, pr->name);
		}
		if (any)
			davxml_putf(b, "</D:prop><D:status>HTTP/1.1 %s</D:status></D:propstat>",
				    status[pass]);
	}
	davxml_put(b, "</D:response></D:multistatus>\n");
}

static enum MHD_Result do_proppatch(struct gw_req *r, struct MHD_Connection *c, size_t server,
				    const struct gw_path *p)
{
	struct davxml_prop *props = NULL;
	size_t n = 0;
	struct proto_stat st;
	struct cond k;
	char etag[48];

	if (!p->share)
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "read_only",
				      "servers and the list of shares cannot be changed");
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	int err = davxml_parse_proppatch(r->body, r->body ? r->body_len : 0, &props, &n);
	if (err == -ENOMEM)
		return MHD_NO;
	if (err)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_xml",
				      "the body is not a valid DAV:propertyupdate");
	err = sbxc_stat(gw_fs_client(s), p->share, p->path, &st);
	if (err) {
		davxml_props_free(props, n);
		return gw_fs_failed(r, c, s, err);
	}
	char *key = davms_key(p->server, p->share, p->path);
	char *href = davms_href(p->server, p->share, p->path, st.ftype != PROTO_FT_FILE);
	gw_etag(&st, etag);
	if (!key || !href || !cond_parse(r, c, &k)) {
		enum MHD_Result ret = r->responded ? MHD_YES : MHD_NO;
		free(key);
		free(href);
		davxml_props_free(props, n);
		return ret;
	}
	if (!may_write(r, c, s, &k, key, false, st.ftype == PROTO_FT_FILE ? etag : NULL)) {
		cond_clear(&k);
		free(key);
		free(href);
		davxml_props_free(props, n);
		return MHD_YES;
	}
	cond_clear(&k);
	free(key);
	/* Windows' Win32 properties are accepted: the modification and access
	 * times are applied, the creation time and attributes left as the server
	 * has them; anything else cannot be stored on a share: 403; a time that
	 * is not a date: 409; and the rest fails with it (424): PROPPATCH is all
	 * or nothing. */
	bool all_ok = true, times_failed = false;
	for (size_t i = 0; i < n; i++)
		all_ok = all_ok && ms_prop(&props[i]) && !bad_time(&props[i]);
	if (all_ok) {
		int64_t mt = st.mtime, at = INT64_MIN;
		bool set = false;
		for (size_t i = 0; i < n; i++) {
			int64_t t;
			if (props[i].remove || !props[i].value || !time_prop(&props[i]) ||
			    parse_time(props[i].value, &t) < 0)
				continue;
			if (props[i].name[9] == 'M') /* Win32LastModifiedTime */
				mt = t;
			else
				at = t;
			set = true;
		}
		if (set) {
			err = sbxc_utimes(gw_fs_client(s), p->share, p->path, mt,
					  at == INT64_MIN ? mt : at);
			if (err < 0) {
				free(href);
				davxml_props_free(props, n);
				return gw_fs_failed(r, c, s, err);
			}
			times_failed = err != 0;
		}
	}
	struct davxml_buf b = {0};
	proppatch_result(&b, href, props, n, all_ok, times_failed);
	free(href);
	davxml_props_free(props, n);
	return reply_xml(r, c, 207, &b, NULL);
}

/* ---- MKCOL, DELETE, PUT ---- */

static enum MHD_Result do_mkcol(struct gw_req *r, struct MHD_Connection *c, size_t server,
				const struct gw_path *p)
{
	struct cond k;

	if (r->body_len > 0)
		return gw_reply_error(r, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_body",
				      "MKCOL takes no body");
	if (!p->share || !*p->path)
		return gw_reply_not_allowed(r, c, "OPTIONS, GET, HEAD, PROPFIND");
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	char *key = key_cond(r, c, p, &k);
	if (!key)
		return r->responded ? MHD_YES : MHD_NO;
	bool ok = may_write(r, c, s, &k, key, false, NULL);
	cond_clear(&k);
	free(key);
	if (!ok)
		return MHD_YES;
	int err = sbxc_mkdir(gw_fs_client(s), p->share, p->path);
	if (err == PROTO_E_EXISTS)
		return gw_reply_not_allowed(r, c, DAV_ALLOW);
	if (err == PROTO_E_NOT_FOUND || err == PROTO_E_NOT_DIR)
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "no_parent",
				      "the folder of the target does not exist");
	if (err)
		return gw_fs_failed(r, c, s, err);
	return gw_reply_empty(r, c, MHD_HTTP_CREATED);
}

static enum MHD_Result do_delete(struct gw_req *r, struct MHD_Connection *c, size_t server,
				 const struct gw_path *p)
{
	struct cond k;
	struct proto_stat st;
	char etag[48];

	if (!p->share || !*p->path)
		return gw_reply_not_allowed(r, c, "OPTIONS, GET, HEAD, PROPFIND");
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	int err = sbxc_stat(gw_fs_client(s), p->share, p->path, &st);
	if (err)
		return gw_fs_failed(r, c, s, err);
	gw_etag(&st, etag);
	char *key = key_cond(r, c, p, &k);
	if (!key)
		return r->responded ? MHD_YES : MHD_NO;
	bool ok = may_write(r, c, s, &k, key, true, st.ftype == PROTO_FT_FILE ? etag : NULL);
	cond_clear(&k);
	enum MHD_Result ret = MHD_YES;
	if (ok) {
		ret = gw_fs_delete(r, c, s, p, true);
		if (r->status == MHD_HTTP_NO_CONTENT)
			davlock_drop_tree(locks, key, now_s());
	}
	free(key);
	return ret;
}

static enum MHD_Result do_put(struct gw_req *r, struct MHD_Connection *c, size_t server,
			      const struct gw_path *p)
{
	struct cond k;
	struct proto_stat st;
	char etag[48];
	const char *etagp = NULL;

	if (!p->share)
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "read_only",
				      "servers and the list of shares cannot be changed");
	if (!*p->path || p->trailing_slash)
		return gw_reply_not_allowed(r, c, "OPTIONS, GET, HEAD, PROPFIND");
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	char *key = key_cond(r, c, p, &k);
	if (!key)
		return r->responded ? MHD_YES : MHD_NO;
	/* An etag in the If header needs the file's. */
	for (size_t i = 0; i < k.h.n && !etagp; i++)
		for (size_t j = 0; j < k.h.lists[i].n; j++)
			if (k.h.lists[i].c[j].etag &&
			    sbxc_stat(gw_fs_client(s), p->share, p->path, &st) == 0 &&
			    st.ftype == PROTO_FT_FILE) {
				gw_etag(&st, etag);
				etagp = etag;
				break;
			}
	bool ok = may_write(r, c, s, &k, key, false, etagp);
	cond_clear(&k);
	free(key);
	if (!ok)
		return MHD_YES;
	return gw_fs_put_start(r, c, server, p);
}

/* ---- COPY, MOVE ---- */

/* What a deep COPY of a folder copies: paths relative to it, parents first;
 * also a folder's entries, by their names (collect_name()). */
struct plan {
	char **rel;
	bool *dir;
	size_t n, cap;
};

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->rel[i]);
	free(pl->rel);
	free(pl->dir);
}

/* Appends @rel (taken on success) and @dir. Returns 0 or PROTO_E_IO. */
static int plan_add(struct plan *pl, char *rel, bool dir)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		char **nr = realloc(pl->rel, cap * sizeof(*nr));
		if (!nr)
			return PROTO_E_IO;
		pl->rel = nr;
		bool *nd = realloc(pl->dir, cap * sizeof(*nd));
		if (!nd)
			return PROTO_E_IO;
		pl->dir = nd;
		pl->cap = cap;
	}
	pl->rel[pl->n] = rel;
	pl->dir[pl->n++] = dir;
	return 0;
}

/* sbxc_list()'s callback: each entry's name into @ud, a struct plan. */
static int collect_name(void *ud, const struct proto_entry_rec *rec, const char *name,
			const char *comment)
{
	char *copy = strdup(name);
	(void)comment;

	if (!copy)
		return PROTO_E_IO;
	int err = plan_add(ud, copy, rec->ftype == PROTO_FT_DIR);
	if (err)
		free(copy);
	return err;
}

/*
 * Walks the folder @top (@rel below it: "" for @top itself) into @pl, before
 * anything is copied. A folder that is a link the server followed (to
 * anywhere, out of the share too) is never entered: PROTO_E_LINK, the rule
 * of the worker's walks (recursive delete, zip, search), told by the worker
 * (sbxc_followed()). @budget counts entries left.
 */
static int plan_tree(struct sbxc *cl, const char *share, const char *top, const char *rel,
		     unsigned level, size_t *budget, struct plan *pl)
{
	struct plan l = {0};
	char *from = NULL;

	if (level >= COPY_MAX_DEPTH)
		return PROTO_E_TOO_DEEP;
	if (asprintf(&from, "%s%s%s", top, *rel ? "/" : "", rel) < 0)
		return PROTO_E_IO;
	int err = sbxc_followed(cl, share, from);
	if (!err)
		err = sbxc_list(cl, share, from, collect_name, &l);
	free(from);
	for (size_t i = 0; !err && i < l.n; i++) {
		char *sub = NULL;
		if (*budget == 0) {
			err = PROTO_E_TOO_BIG;
			break;
		}
		(*budget)--;
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", l.rel[i]) < 0)
			err = PROTO_E_IO;
		else if ((err = plan_add(pl, sub, l.dir[i])) != 0)
			free(sub);
		else if (l.dir[i])
			err = plan_tree(cl, share, top, sub, level + 1, budget, pl);
	}
	plan_free(&l);
	return err;
}

/* Copies the folder @from to @to (which must not exist), and what @pl holds
 * (plan_tree() of @from; empty for Depth 0). */
static int copy_tree(struct sbxc *cl, const char *share, const char *from, const char *to,
		     const struct plan *pl)
{
	int err = sbxc_mkdir(cl, share, to);

	for (size_t i = 0; !err && i < pl->n; i++) {
		char *f = NULL, *t = NULL;
		uint32_t created;
		if (asprintf(&f, "%s/%s", from, pl->rel[i]) < 0)
			f = NULL;
		if (asprintf(&t, "%s/%s", to, pl->rel[i]) < 0)
			t = NULL;
		if (!f || !t)
			err = PROTO_E_IO;
		else if (pl->dir[i])
			err = sbxc_mkdir(cl, share, t);
		else
			err = sbxc_copy(cl, share, f, t, 0, &created);
		free(f);
		free(t);
	}
	return err;
}

/* Parses the Destination header into @dst; answers and returns false when it
 * cannot be used. */
static bool destination(struct gw_req *r, struct MHD_Connection *c, const struct gw_path *src,
			struct gw_path *dst)
{
	const char *d = header(c, "Destination");

	if (!d) {
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "no_destination",
			       "COPY and MOVE need a Destination header");
		return false;
	}
	/* An absolute URI must name this gateway as the client reached it (its
	 * Host header): a COPY or MOVE to another server is 502. */
	int err = gw_path_parse_destination(d, header(c, MHD_HTTP_HEADER_HOST), dst);
	if (err == -EXDEV) {
		gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "other_server",
			       "the Destination names another server than this one");
		return false;
	}
	if (err < 0) {
		gw_fs_bad_path(r, c, err);
		return false;
	}
	if (!dst->share || !*dst->path || strcmp(dst->server, src->server) != 0 ||
	    strcmp(dst->share, src->share) != 0) {
		gw_path_clear(dst);
		gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "other_share",
			       "the Destination must be in the same share");
		return false;
	}
	return true;
}

/* Whether @dst is @src, inside it or holds it, in a spelling that differs in
 * ASCII case at most: what the gateway can tell without file ids, for the
 * COPY of a folder (one file at a time from here). The worker's smb_rename()
 * and smb_copy() tell it for sure, by file id, for the rest. */
static bool overlaps(const char *src, const char *dst)
{
	size_t sl = strlen(src), dl = strlen(dst), n = sl < dl ? sl : dl;

	return strncasecmp(src, dst, n) == 0 && (sl == dl || (sl < dl ? dst : src)[n] == '/');
}

/* Answers a failed COPY or MOVE of @src to @dst (a proto_err). */
static enum MHD_Result copymove_failed(struct gw_req *r, struct MHD_Connection *c,
				       struct gw_session *s, const char *src, const char *dst,
				       int err)
{
	if (err == PROTO_E_EXISTS)
		return gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "exists",
				      "the Destination exists (Overwrite: F)");
	if (err == PROTO_E_OVERLAP && strcasecmp(src, dst) == 0)
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "same_path",
				      "the Destination is the source (in another spelling)");
	if (err == PROTO_E_OVERLAP)
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "into_itself",
				      "the Destination is inside the source or holds it; nothing "
				      "was changed");
	if (err == PROTO_E_NOT_FOUND || err == PROTO_E_NOT_DIR)
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "no_parent",
				      "the folder of the Destination does not exist");
	if (err == PROTO_E_LINK)
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "contains_link",
				      "the folder is or holds a link to a folder, which is "
				      "never followed; nothing was changed");
	return gw_fs_failed(r, c, s, err);
}

/*
 * Copies the folder @src over the existing @dst (a file or a folder) for
 * @s, deleting nothing before the copy is whole: @dst goes aside under a
 * temporary name beside it (the worker's ASIDE), the copy is made, and only
 * then is the aside dropped. A copy that fails midway (or an aside that
 * cannot be dropped) is removed and the aside put back: @dst as it was. Should
 * that fail too (the sandbox died), the log says where the old @dst is.
 */
static int copy_over(struct gw_req *r, struct gw_session *s, const char *share, const char *src,
		     const char *dst, const struct plan *pl)
{
	struct sbxc *cl = gw_fs_client(s);
	char tmp[PROTO_TMP_NAME_LEN + 1];
	const char *user = gw_session_user(s);
	size_t server = gw_session_server(s);

	if (sbxc_tmp_name(tmp) < 0)
		return PROTO_E_IO;
	/* in the journal first: the next start of a gateway killed midway says
	 * where the old Destination is (main.c) */
	uint64_t jid = gw_journal_begin_aside(r->gw->journal, user,
					      r->gw->cfg->servers[server].name, share, dst, tmp);
	int err = sbxc_aside(cl, share, dst, tmp, PROTO_ASIDE_PUT);
	if (!err) {
		err = copy_tree(cl, share, src, dst, pl);
		if (!err && (err = sbxc_aside(cl, share, dst, tmp, PROTO_ASIDE_DROP)) == 0)
			goto out;
		if (sbxc_aside(cl, share, dst, tmp, PROTO_ASIDE_BACK) != 0) {
			gw_log_tmp(r->gw, user, server, share, dst, tmp,
				   "a COPY over a folder failed and the old Destination could not "
				   "be put back; it is kept as",
				   "(rename it back by hand)");
			return err; /* and the journal's entry stays: the next start says it too */
		}
	}
out:
	gw_journal_end(r->gw->journal, jid);
	return err;
}

/*
 * The deep COPY of the folder @src to @dst, one file at a time. The folder is
 * walked whole first: a link to a folder in it (never followed), too many
 * entries or levels, and nothing changes, the Destination neither; an
 * existing Destination is replaced by copy_over(). Returns 0, or a
 * proto_err; *@ret_created.
 */
static int copy_folder(struct gw_req *r, struct gw_session *s, const char *share, const char *src,
		       const char *dst, bool deep, bool overwrite, uint32_t *ret_created)
{
	struct sbxc *cl = gw_fs_client(s);
	struct plan pl = {0};
	struct proto_stat dst_st;
	size_t budget = COPY_MAX_ENTRIES;

	if (overlaps(src, dst))
		return PROTO_E_OVERLAP;
	int err = sbxc_stat(cl, share, dst, &dst_st);
	bool existed = err == 0;
	if (err && err != PROTO_E_NOT_FOUND)
		return err;
	if (existed && !overwrite)
		return PROTO_E_EXISTS;
	err = deep ? plan_tree(cl, share, src, "", 0, &budget, &pl) : 0;
	/* Overwrite: T replaces the destination as a whole (RFC 4918 9.8.4). */
	if (!err)
		err = existed ? copy_over(r, s, share, src, dst, &pl)
			      : copy_tree(cl, share, src, dst, &pl);
	plan_free(&pl);
	*ret_created = !existed;
	return err;
}

/* The checks of a COPY or MOVE before anything else: the source, the
 * Overwrite and Depth headers. Answers and returns false when one fails. */
static bool copymove_args(struct gw_req *r, struct MHD_Connection *c, const struct gw_path *p,
			  bool move, bool *ret_overwrite, bool *ret_deep)
{
	const char *ow = header(c, "Overwrite");
	const char *depth = header(c, "Depth");

	if (!p->share || !*p->path) {
		gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "read_only",
			       "servers, shares and share roots cannot be copied or moved");
		return false;
	}
	if (ow && strcmp(ow, "T") != 0 && strcmp(ow, "F") != 0) {
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_overwrite",
			       "Overwrite must be T or F");
		return false;
	}
	*ret_overwrite = !ow || ow[0] == 'T';
	*ret_deep = !depth || strcasecmp(depth, "infinity") == 0;
	if (depth && !*ret_deep && (move || strcmp(depth, "0") != 0)) {
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_depth",
			       move ? "MOVE takes Depth: infinity only"
				    : "COPY takes Depth: 0 or infinity");
		return false;
	}
	return true;
}

/*
 * COPY and MOVE. What replaces the Destination (Overwrite: T) is the
 * worker's smb_rename() and smb_copy(): nothing is deleted before the new
 * content is in place, and a Destination that is the source in another
 * spelling, inside it or above it is refused there. The Destination's locks
 * stay with it (RFC 4918 7.5); a MOVE takes the source's away.
 */
static enum MHD_Result do_copymove(struct gw_req *r, struct MHD_Connection *c, size_t server,
				   const struct gw_path *p, bool move)
{
	struct gw_path dst = {0};
	struct proto_stat st;
	struct cond k = {0};
	char *skey = NULL, *dkey = NULL;
	enum MHD_Result ret = MHD_YES;
	bool overwrite, deep;
	char etag[48];

	if (!copymove_args(r, c, p, move, &overwrite, &deep))
		return MHD_YES;
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s || !destination(r, c, p, &dst))
		return MHD_YES;
	if (r->gw->cfg->audit) { /* "to" from the share's root, as the file API's */
		char *to = NULL;
		if (asprintf(&to, "/%s", dst.path) > 0)
			gw_audit_set(r, move ? "move" : "copy", p->server, p->share, p->path, to);
		free(to);
	}
	struct sbxc *cl = gw_fs_client(s);
	if (strcmp(dst.path, p->path) == 0) {
		ret = gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "same_path",
				     "the Destination is the source");
		goto out;
	}
	int err = sbxc_stat(cl, p->share, p->path, &st);
	if (err) {
		ret = gw_fs_failed(r, c, s, err);
		goto out;
	}
	skey = davms_key(p->server, p->share, p->path);
	dkey = davms_key(dst.server, dst.share, dst.path);
	if (!skey || !dkey || !cond_parse(r, c, &k)) {
		ret = r->responded ? MHD_YES : MHD_NO;
		goto out;
	}
	gw_etag(&st, etag);
	if (!cond_holds(r, &k, skey, st.ftype == PROTO_FT_FILE ? etag : NULL)) {
		ret = gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "precondition_failed",
				     "the If header does not hold");
		goto out;
	}
	const char *user = gw_session_user(s);
	if ((move && davlock_check(locks, skey, true, k.tokens, k.n, user, now_s(), NULL) < 0) ||
	    davlock_check(locks, dkey, true, k.tokens, k.n, user, now_s(), NULL) < 0) {
		ret = reply_locked(r, c);
		goto out;
	}
	uint32_t created = 0, flags = overwrite ? PROTO_F_OVERWRITE : 0;
	if (move)
		err = sbxc_rename(cl, p->share, p->path, dst.path, flags, &created);
	else if (st.ftype == PROTO_FT_DIR)
		err = copy_folder(r, s, p->share, p->path, dst.path, deep, overwrite, &created);
	else
		err = sbxc_copy(cl, p->share, p->path, dst.path, flags, &created);
	if (err) {
		ret = copymove_failed(r, c, s, p->path, dst.path, err);
		goto out;
	}
	if (move)
		davlock_drop_tree(locks, skey, now_s());
	ret = gw_reply_empty(r, c, created ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT);
out:
	cond_clear(&k);
	free(skey);
	free(dkey);
	gw_path_clear(&dst);
	return ret;
}

/* ---- LOCK, UNLOCK ---- */

/* Seconds from a Timeout header ("Second-600, Infinite"): the first it
 * understands; 0 for Infinite (the table's maximum); DAV_LOCK_TIMEOUT without. */
static unsigned timeout_of(const char *v)
{
	while (v && *v) {
		while (*v == ' ' || *v == ',')
			v++;
		if (strncasecmp(v, "Infinite", 8) == 0)
			return 0;
		if (strncasecmp(v, "Second-", 7) == 0) {
			char *end;
			unsigned long n = strtoul(v + 7, &end, 10);
			if (end != v + 7)
				return n > DAVLOCK_MAX_TIMEOUT ? DAVLOCK_MAX_TIMEOUT
				       : n == 0		       ? 1
							       : (unsigned)n;
		}
		v = strchr(v, ',');
	}
	return DAV_LOCK_TIMEOUT;
}

struct one_lock {
	const char *token;
	struct davxml_buf *b;
};

static void put_if_token(void *ud, const struct davlock_info *info)
{
	struct one_lock *o = ud;
	if (strcmp(info->token, o->token) == 0)
		davms_activelock(o->b, info);
}

static enum MHD_Result reply_lock(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				  const char *key, const char *token, bool with_header)
{
	struct davxml_buf b = {0};
	struct one_lock o = {token, &b};
	char lt[DAVLOCK_TOKEN_LEN + 3];

	davxml_put(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		       "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
	davlock_each(locks, key, now_s(), put_if_token, &o);
	davxml_put(&b, "</D:lockdiscovery></D:prop>\n");
	snprintf(lt, sizeof(lt), "<%s>", token);
	const char *const hdrs[] = {"Lock-Token", lt, NULL};
	return reply_xml(r, c, status, &b, with_header ? hdrs : NULL);
}

/* The answer to a LOCK that davlock_lock() refused with @err. */
static enum MHD_Result lock_refused(struct gw_req *r, struct MHD_Connection *c, int err)
{
	switch (err) {
	case -EBUSY:
		return reply_cond(r, c, 423, "no-conflicting-lock");
	case -EMLINK:
		return gw_reply_error(r, c, 423, "too_many_shared_locks",
				      "this resource is under %d locks already", DAVLOCK_MAX_COVER);
	case -EDQUOT:
		return gw_reply_error(
		    r, c, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_user_locks",
		    "this user holds max_locks_per_user (%u) locks: unlock some, or "
		    "wait until they time out",
		    r->gw->cfg->max_locks_per_user);
	case -E2BIG:
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "lock_owner_too_large",
				      "the lock's owner is longer than %d bytes",
				      DAVLOCK_MAX_OWNER);
	case -ENOMEM:
		return MHD_NO;
	default:
		return gw_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "too_many_locks",
				      "the gateway holds too many locks");
	}
}

/*
 * RFC 4918 7.3: a lock on an unmapped URL makes an empty file; the lock
 * @token just taken is removed when that fails (the folder is missing, the
 * user may not write there). Answers only on failure (false).
 */
static bool lock_null(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
		      const struct gw_path *p, const char *key, const char *token)
{
	char tmp[PROTO_TMP_NAME_LEN + 1];
	struct sbxc_lane *lane;
	struct proto_stat st;
	uint32_t created = 0;
	int fd;
	int err = sbxc_write_begin(gw_fs_client(s), p->share, p->path, 0, 0, tmp, &fd, &lane);

	if (err == 0) {
		close(fd);
		err = sbxc_write_end(lane, &created, NULL);
	}
	if (err == 0)
		return true;
	davlock_unlock(locks, key, token, gw_session_user(s), now_s());
	if (err == PROTO_E_NOT_FOUND || err == PROTO_E_NOT_DIR) {
		/* No such share (404), or no such folder in it (409). */
		int serr = sbxc_stat(gw_fs_client(s), p->share, "", &st);
		if (serr != 0 && serr != PROTO_E_NOT_FOUND)
			gw_fs_failed(r, c, s, serr);
		else if (serr == PROTO_E_NOT_FOUND)
			gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such share");
		else
			gw_reply_error(r, c, MHD_HTTP_CONFLICT, "no_parent",
				       "the folder of the target does not exist");
	} else {
		gw_fs_failed(r, c, s, err);
	}
	return false;
}

static enum MHD_Result do_lock(struct gw_req *r, struct MHD_Connection *c, size_t server,
			       const struct gw_path *p)
{
	const char *depth = header(c, "Depth");
	unsigned timeout = timeout_of(header(c, "Timeout"));
	struct cond k = {0};
	char token[DAVLOCK_TOKEN_LEN + 1];
	enum MHD_Result ret = MHD_YES;
	char *owner = NULL;
	bool exclusive = true;

	if (!p->share)
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "read_only",
				      "servers and the list of shares cannot be locked");
	if (depth && strcmp(depth, "0") != 0 && strcasecmp(depth, "infinity") != 0)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_depth",
				      "LOCK takes Depth: 0 or infinity");
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	const char *user = gw_session_user(s);
	char *key = key_cond(r, c, p, &k);
	if (!key)
		return r->responded ? MHD_YES : MHD_NO;
	if (!r->body || r->body_len == 0) {
		/* A refresh: the lock named in the If header. */
		for (size_t i = 0; i < k.n; i++) {
			int err = davlock_refresh(locks, key, k.tokens[i], user, timeout, now_s());
			if (err == 0) {
				ret = reply_lock(r, c, MHD_HTTP_OK, key, k.tokens[i], false);
				goto out;
			}
		}
		ret = reply_cond(r, c, MHD_HTTP_PRECONDITION_FAILED,
				 "lock-token-matches-request-uri");
		goto out;
	}
	int err = davxml_parse_lockinfo(r->body, r->body_len, &exclusive, &owner);
	if (err) {
		ret = err == -ENOMEM ? MHD_NO
				     : gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_xml",
						      "the body is not a valid DAV:lockinfo");
		goto out;
	}
	if (!cond_holds(r, &k, key, NULL)) {
		ret = gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "precondition_failed",
				     "the If header does not hold");
		goto out;
	}
	if (owner && strlen(owner) > DAVLOCK_MAX_OWNER) {
		ret = lock_refused(r, c, -E2BIG);
		goto out;
	}
	/* A lock needs write access, as the file server tells it through the
	 * user's own sandbox: to the file or folder; for a new name, to its
	 * folder, which making the empty file (lock_null()) checks. */
	err = sbxc_writable(gw_fs_client(s), p->share, p->path);
	if (err && (err != PROTO_E_NOT_FOUND || !*p->path)) {
		ret = err == PROTO_E_NOT_FOUND
			  ? gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such share")
			  : gw_fs_failed(r, c, s, err);
		goto out;
	}
	bool create = err == PROTO_E_NOT_FOUND;
	bool infinite = !depth || depth[0] != '0';
	err = davlock_lock(locks, key, exclusive, infinite, timeout, user, owner,
			   r->gw->cfg->max_locks_per_user, now_s(), token);
	if (err) {
		ret = lock_refused(r, c, err);
		goto out;
	}
	if (create && !lock_null(r, c, s, p, key, token))
		goto out;
	ret = reply_lock(r, c, create ? MHD_HTTP_CREATED : MHD_HTTP_OK, key, token, true);
out:
	free(owner);
	cond_clear(&k);
	free(key);
	return ret;
}

static enum MHD_Result do_unlock(struct gw_req *r, struct MHD_Connection *c, size_t server,
				 const struct gw_path *p)
{
	const char *lt = header(c, "Lock-Token");
	char token[DAVLOCK_TOKEN_LEN + 1];
	size_t n = lt ? strlen(lt) : 0;

	if (!p->share)
		return reply_cond(r, c, MHD_HTTP_CONFLICT, "lock-token-matches-request-uri");
	if (n < 2 || lt[0] != '<' || lt[n - 1] != '>' || n - 2 > DAVLOCK_TOKEN_LEN)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_lock_token",
				      "UNLOCK needs a Lock-Token header: <token>");
	memcpy(token, lt + 1, n - 2);
	token[n - 2] = '\0';
	struct gw_session *s = gw_fs_authenticate(r, c, server);
	if (!s)
		return MHD_YES;
	char *key = davms_key(p->server, p->share, p->path);
	if (!key)
		return MHD_NO;
	int err = davlock_unlock(locks, key, token, gw_session_user(s), now_s());
	free(key);
	if (err == -ENOENT)
		return reply_cond(r, c, MHD_HTTP_CONFLICT, "lock-token-matches-request-uri");
	if (err == -EPERM)
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "not_lock_owner",
				      "this lock belongs to another user");
	return gw_reply_empty(r, c, MHD_HTTP_NO_CONTENT);
}

/* ---- entry ---- */

static enum MHD_Result do_options(struct gw_req *r, struct MHD_Connection *c)
{
	static const char *const hdrs[] = {
	    "DAV", "1, 2", MHD_HTTP_HEADER_ALLOW, DAV_ALLOW, "MS-Author-Via", "DAV", NULL};
	return gw_reply_empty_with(r, c, MHD_HTTP_OK, hdrs);
}

enum MHD_Result gw_api_dav(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size)
{
	const char *m = r->method;
	struct gw_path p = {0};
	enum MHD_Result ret;

	r->dav = true;
	if (r->upload)
		return gw_fs_put_data(r, c, upload_data, upload_data_size);
	pthread_once(&locks_once, locks_init);
	if (!locks)
		return MHD_NO;
	if (!*rest)
		rest = "/";
	if (strcmp(m, "OPTIONS") == 0)
		return do_options(r, c);
	int err = gw_path_parse(rest, &p);
	if (err < 0)
		return gw_fs_bad_path(r, c, err);
	size_t server = SIZE_MAX;
	if (p.server) {
		server = gw_fs_server(r, c, p.server);
		if (server == SIZE_MAX) {
			ret = r->responded ? MHD_YES : MHD_NO;
			goto out;
		}
	}
	/* [gateway] audit: the file operations (COPY and MOVE set theirs with
	 * the destination; GET and HEAD went through the file API's). */
	static const char *const ops[][2] = {
	    {"PUT", "upload"}, {"DELETE", "delete"}, {"MKCOL", "mkdir"},
	    {"LOCK", "lock"},  {"UNLOCK", "unlock"}, {"PROPPATCH", "proppatch"},
	};
	for (size_t i = 0; p.share && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(m, ops[i][0]) == 0)
			gw_audit_set(r, ops[i][1], p.server, p.share, p.path, NULL);
	if (strcmp(m, "PROPFIND") == 0)
		ret = do_propfind(r, c, server, &p);
	else if (!p.server)
		ret = gw_reply_not_allowed(r, c, "OPTIONS, GET, HEAD, PROPFIND");
	else if (strcmp(m, "PUT") == 0)
		ret = do_put(r, c, server, &p);
	else if (strcmp(m, "PROPPATCH") == 0)
		ret = do_proppatch(r, c, server, &p);
	else if (strcmp(m, "MKCOL") == 0)
		ret = do_mkcol(r, c, server, &p);
	else if (strcmp(m, "DELETE") == 0)
		ret = do_delete(r, c, server, &p);
	else if (strcmp(m, "COPY") == 0 || strcmp(m, "MOVE") == 0)
		ret = do_copymove(r, c, server, &p, m[0] == 'M');
	else if (strcmp(m, "LOCK") == 0)
		ret = do_lock(r, c, server, &p);
	else if (strcmp(m, "UNLOCK") == 0)
		ret = do_unlock(r, c, server, &p);
	else
		ret = gw_reply_not_allowed(r, c, DAV_ALLOW);
out:
	gw_path_clear(&p);
	return ret;
}

/* ---- the site's root, for the clients that probe it ---- */

/* OPTIONS and PROPFIND on "/": Windows' WebClient and Office ask the root
 * whether the site speaks WebDAV before they open /dav/. The root is a
 * collection whose one member is /dav/; nothing is authenticated (nothing
 * there is the user's). */
static enum MHD_Result root_propfind(struct gw_req *r, struct MHD_Connection *c)
{
	struct davxml_propfind pf;
	struct davxml_buf b = {0};
	enum MHD_Result ret;
	bool one;

	if (!propfind_depth(r, c, &one, &ret) || !propfind_body(r, c, &pf, &b, &ret))
		return ret;
	struct davms_res top = {.href = "/", .name = "", .collection = true};
	struct davms_res dav = {.href = "/dav/", .name = "dav", .collection = true};
	davms_response(&b, &pf, &top);
	if (one)
		davms_response(&b, &pf, &dav);
	davxml_propfind_clear(&pf);
	davxml_put(&b, "</D:multistatus>\n");
	return reply_xml(r, c, 207, &b, NULL);
}

enum MHD_Result gw_dav_root(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			    const char *upload_data, size_t *upload_data_size)
{
	static const char *const hdrs[] = {
	    "DAV", "1, 2", MHD_HTTP_HEADER_ALLOW, DAV_ROOT_ALLOW, "MS-Author-Via", "DAV", NULL};

	(void)rest, (void)upload_data, (void)upload_data_size;
	r->dav = true;
	if (strcmp(r->method, "OPTIONS") == 0)
		return gw_reply_empty_with(r, c, MHD_HTTP_OK, hdrs);
	return root_propfind(r, c);
}
