/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/rest/search.c - GET /api/v1/search/{server}/{share}/{folder}?q=TEXT
 * The worker walks the folder (sandbox/worker/search.c) and sends each match
 * as it finds it; this file turns each into one NDJSON line, and ends with a
 * line that says whether the result limit or the deadline stopped the walk,
 * and whether folders at the depth limit were left unsearched.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/session.h"
#include "cfg.h"
#include "client.h"
#include "files/fileops.h"
#include "http/httputil.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/request.h"
#include "proto.h"
#include "rest/rest.h"

#define SEARCH_MAX_RESULTS  10000
#define SEARCH_DEF_RESULTS  1000
#define SEARCH_MAX_DEADLINE 60 /* seconds */
#define SEARCH_DEF_DEADLINE 20
#define SEARCH_MAX_DEPTH    64
#define SEARCH_BLOCK	    (16 * 1024)

struct search {
	struct gw *gw;
	struct gw_session *s;
	struct sbxc_lane *lane; /* NULL once drained */
	char *prefix;		/* "/server/share/folder" of every path */
	uint32_t max_results;
	char *line; /* the line being sent */
	size_t len, off;
	bool done;
	/* the last answer: an entry (found) or the end; the first is read
	 * before the status is chosen */
	bool found;
	struct proto_entry_rec rec;
	char path[PROTO_MAX_PATH + 1];
	struct proto_end end;
};

/* The NDJSON line of the last answer. */
static int make_line(struct search *s)
{
	json_t *j;

	free(s->line);
	s->line = NULL;
	if (s->found) {
		char mt[32];
		const char *slash = strrchr(s->path, '/');
		size_t n = strlen(s->prefix) + strlen(s->path) + 2;
		char *full = malloc(n);
		if (!full)
			return -ENOMEM;
		snprintf(full, n, "%s/%s", s->prefix, s->path);
		gw_rfc3339(s->rec.mtime, mt);
		j = json_pack("{s:s,s:s,s:s,s:I,s:s}", "path", full, "name",
			      slash ? slash + 1 : s->path, "type",
			      s->rec.ftype == PROTO_FT_DIR ? "dir" : "file", "size",
			      (json_int_t)s->rec.size, "mtime", mt);
		free(full);
	} else {
		bool stopped = s->end.created & PROTO_SEARCH_STOPPED;
		bool limit = stopped && s->end.bytes >= s->max_results;
		j = json_pack("{s:b,s:I,s:b,s:b,s:b,s:I}", "done", 1, "results",
			      (json_int_t)s->end.bytes, "limit_reached", limit, "deadline_reached",
			      stopped && !limit, "depth_reached",
			      (s->end.created & PROTO_SEARCH_TOO_DEEP) != 0, "unsearched_folders",
			      (json_int_t)s->end.skipped);
	}
	if (!j)
		return -ENOMEM;
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	s->len = strlen(text);
	s->line = realloc(text, s->len + 2);
	if (!s->line) {
		free(text);
		return -ENOMEM;
	}
	s->line[s->len++] = '\n';
	s->off = 0;
	return 0;
}

static ssize_t search_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct search *s = cls;
	(void)pos;

	while (!s->line || s->off == s->len) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int r = sbxc_search_next(s->lane, &s->found, &s->rec, s->path, &s->end);
		if (r || !s->found)
			s->lane = NULL; /* given back */
		if (r < 0)
			gw_session_failed(s->gw, s->s);
		if (r)
			return MHD_CONTENT_READER_END_WITH_ERROR; /* a cut body */
		s->done = !s->found;
		if (make_line(s) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->line + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* Frees @cls, a search; also one not yet answering (its session NULL). */
static void search_free(void *cls)
{
	struct search *s = cls;

	/* A client that went away: the rest is drained (the worker's deadline
	 * bounds it), so that the lane can serve again (never left busy). */
	while (s->lane) {
		int r = sbxc_search_next(s->lane, &s->found, &s->rec, s->path, &s->end);
		if (r || !s->found)
			s->lane = NULL;
		if (r < 0 && s->s)
			gw_session_failed(s->gw, s->s);
	}
	gw_session_put(s->s);
	free(s->line);
	free(s->prefix);
	free(s);
}

static unsigned arg_num(struct MHD_Connection *c, const char *name, unsigned def, unsigned max)
{
	return gw_query_num(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name), def, max);
}

/* The walk's limits from the query (limit, depth, deadline: 0 for a bad
 * one); the gateway waits for each answer at most the server's timeout (and
 * 5 s): a walk that finds nothing for longer would look dead. */
static struct proto_search search_limits(struct MHD_Connection *c, const struct cfg_server *srv)
{
	struct proto_search req = {
	    .max_results = arg_num(c, "limit", SEARCH_DEF_RESULTS, SEARCH_MAX_RESULTS),
	    .max_depth = arg_num(c, "depth", SEARCH_MAX_DEPTH, SEARCH_MAX_DEPTH),
	    .deadline_ms = arg_num(c, "deadline", SEARCH_DEF_DEADLINE, SEARCH_MAX_DEADLINE) * 1000u,
	};

	if (req.deadline_ms > srv->timeout * 1000u)
		req.deadline_ms = srv->timeout * 1000u;
	return req;
}

/* Whether the search text @q (NULL: none) and the limits @req are valid. */
static bool search_valid(const char *q, const struct proto_search *req)
{
	size_t ql = q ? strnlen(q, PROTO_SEARCH_MAX_PATTERN + 1) : 0;

	return q && ql != 0 && ql <= PROTO_SEARCH_MAX_PATTERN && proto_utf8_valid(q, ql) &&
	       req->max_results && req->max_depth && req->deadline_ms;
}

/* A new search of @p's folder (its results' prefix "/server/share/folder"),
 * or NULL (ENOMEM). */
static struct search *search_new(struct gw *gw, const struct gw_path *p, uint32_t max_results)
{
	struct search *s = calloc(1, sizeof(*s));
	size_t pl = strlen(p->server) + strlen(p->share) + strlen(p->path) + 4;

	if (!s || !(s->prefix = malloc(pl))) {
		free(s);
		return NULL;
	}
	snprintf(s->prefix, pl, "/%s/%s%s%s", p->server, p->share, *p->path ? "/" : "", p->path);
	s->gw = gw;
	s->max_results = max_results;
	return s;
}

/* Starts the worker's walk of @p's folder for @q and reads its first answer,
 * which says whether the folder can be searched at all. Returns 0 or the
 * worker's error (the lane given back). */
static int search_begin(struct search *s, struct gw_session *session, const struct gw_path *p,
			const char *q, const struct proto_search *req)
{
	int err = sbxc_search_begin(gw_fs_client(session), p->share, p->path, q, req, &s->lane);

	if (err == 0) {
		err = sbxc_search_next(s->lane, &s->found, &s->rec, s->path, &s->end);
		if (err || !s->found)
			s->lane = NULL;
	}
	return err;
}

/* Answers 200 with @s's NDJSON lines, streamed; takes @s. */
static enum MHD_Result search_reply(struct gw_req *r, struct MHD_Connection *c,
				    struct gw_session *session, struct search *s)
{
	s->done = !s->found;
	if (make_line(s) < 0) {
		search_free(s);
		return MHD_NO;
	}
	s->s = gw_session_hold(session);
	struct MHD_Response *resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, SEARCH_BLOCK, search_read, s, search_free);
	if (!resp) {
		search_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
	return gw_queue(r, c, MHD_HTTP_OK, resp);
}

enum MHD_Result gw_api_search(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			      const char *upload_data, size_t *upload_data_size)
{
	struct gw_path p = {0};
	enum MHD_Result ret;
	struct search *s;
	char *q = NULL;
	const struct cfg_server *srv;
	(void)upload_data;
	(void)upload_data_size;

	int perr = gw_path_parse(*rest ? rest : "/", &p);
	if (perr < 0 || !p.share) {
		ret = gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				     "use GET /api/v1/search/{server}/{share}/{folder}?q=TEXT");
		goto out;
	}
	struct gw_session *session = gw_fs_authenticate_named(r, c, p.server, &srv);
	if (!session) {
		ret = r->responded ? MHD_YES : MHD_NO;
		goto out;
	}
	const char *raw_q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
	q = raw_q ? gw_query_arg_decode(raw_q) : NULL;
	struct proto_search req = search_limits(c, srv);
	if (!search_valid(q, &req)) {
		ret = gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "expected q=TEXT (1..%d bytes of UTF-8; '*' and '?' make it a "
				     "pattern), limit=1..%d, depth=1..%d, deadline=1..%d (s)",
				     PROTO_SEARCH_MAX_PATTERN, SEARCH_MAX_RESULTS, SEARCH_MAX_DEPTH,
				     SEARCH_MAX_DEADLINE);
		goto out;
	}
	s = search_new(r->gw, &p, req.max_results);
	if (!s) {
		ret = MHD_NO;
		goto out;
	}
	int err = search_begin(s, session, &p, q, &req);
	if (err) {
		search_free(s);
		ret = err == PROTO_E_INVALID
			  ? gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
					   "the search text is not valid")
			  : gw_fs_failed(r, c, session, err);
		goto out;
	}
	ret = search_reply(r, c, session, s);
out:
	gw_path_clear(&p);
	free(q);
	return ret;
}
