/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/fileops.c - the file operations every protocol shares:
 * authentication with the removal of what dead sandboxes left, errors,
 * downloads (Range, conditionals), atomic streamed uploads, deletes.
 * File bytes stream through pipes from/to the sandbox; memory stays flat.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/sbxsession.h"
#include "auth/session.h"
#include "cfg.h"
#include "client.h"
#include "files/fileops.h"
#include "files/journal.h"
#include "files/listing.h"
#include "files/orphans.h"
#include "http/body.h"
#include "http/httputil.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/request.h"
#include "proto.h"

#define STREAM_BLOCK (1024 * 1024)

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static bool arg_true(struct MHD_Connection *c, const char *name)
{
	const char *v = arg(c, name);
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

struct sbxc *gw_fs_client(struct gw_session *s)
{
	return ((struct gw_sbx *)gw_session_sbx(s))->c;
}
#define client_of gw_fs_client

/* ---- upload temporaries left by dead sandboxes (orphans.h) ---- */

/* Logs @what, then where the temporary @tmp of an upload to @path is:
 * share/dir/name, as on the server, then @after. */
void gw_log_tmp(struct gw *gw, const char *user, size_t server, const char *share, const char *path,
		const char *tmp, const char *what, const char *after)
{
	const char *slash = strrchr(path, '/');
	int dl = slash ? (int)(slash - path + 1) : 0;

	fprintf(stderr, "smbgate: user=%s server=%s: %s %s/%.*s%s%s%s\n", user,
		gw->cfg->servers[server].name, what, share, dl, path, tmp, after ? " " : "",
		after ? after : "");
}

static void log_orphan(struct gw *gw, const struct gw_orphan *e, const char *what)
{
	gw_log_tmp(gw, e->user, e->server, e->share, e->path, e->tmp, what, NULL);
}

void gw_orphans_log_dropped(struct gw *gw, struct gw_orphan *list, const char *why)
{
	while (list) {
		struct gw_orphan *next = list->next;
		gw_journal_end(gw->journal, list->jid); /* given up: the log says where */
		char what[160];
		snprintf(what, sizeof(what),
			 "upload temporary left on the file server (%s); remove it by hand:", why);
		log_orphan(gw, list, what);
		gw_orphan_free(list);
		list = next;
	}
}

/* Removes, through @s's sandbox, the temporaries that dead sandboxes of the
 * same user left; a temporary that cannot be removed now waits for another
 * try. Called for every authenticated request: cheap when nothing waits. */
static void drop_orphans(struct gw *gw, struct gw_session *s)
{
	struct gw_orphan *list =
	    gw_orphans_take(gw->orphans, gw_session_user(s), gw_session_server(s));

	while (list) {
		struct gw_orphan *e = list, *dropped = NULL;
		list = e->next;
		e->next = NULL;
		int err = sbxc_drop_tmp(gw_fs_client(s), e->share, e->path, e->tmp);
		if (err < 0 && !sbxc_dead(gw_fs_client(s))) {
			gw_orphans_log_dropped(gw, e, "the request cannot be sent"); /* never */
			continue;
		}
		if (err == 0 || err == PROTO_E_NOT_FOUND) {
			log_orphan(gw, e,
				   err == 0 ? "removed the upload temporary"
					    : "the upload temporary was already gone:");
			gw_journal_end(gw->journal, e->jid);
			gw_orphan_free(e);
			continue;
		}
		if (err > 0 && ++e->tries >= GW_ORPHANS_TRIES) {
			char why[80];
			snprintf(why, sizeof(why), "%u failed attempts, the last: %s", e->tries,
				 proto_err_name((uint32_t)err));
			gw_orphans_log_dropped(gw, e, why);
			continue;
		}
		gw_orphans_put_back(gw->orphans, e, &dropped);
		gw_orphans_log_dropped(gw, dropped, "too many waiting");
		if (err < 0) {
			/* This sandbox is gone too: the rest waits for the next one
			 * (the request itself then fails as usual). */
			while (list) {
				e = list;
				list = e->next;
				gw_orphans_put_back(gw->orphans, e, &dropped);
				gw_orphans_log_dropped(gw, dropped, "too many waiting");
			}
		}
	}
}

struct gw_session *gw_fs_authenticate(struct gw_req *r, struct MHD_Connection *c, size_t server)
{
	struct gw_session *s = gw_authenticate(r, c, server);

	if (s)
		drop_orphans(r->gw, s);
	return s;
}

size_t gw_fs_server(struct gw_req *r, struct MHD_Connection *c, const char *name)
{
	const struct cfg_server *srv = cfg_server_find(r->gw->cfg, name);

	if (!srv) {
		gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such server");
		return SIZE_MAX;
	}
	return (size_t)(srv - r->gw->cfg->servers);
}

struct gw_session *gw_fs_authenticate_named(struct gw_req *r, struct MHD_Connection *c,
					    const char *name, const struct cfg_server **srv)
{
	size_t server = gw_fs_server(r, c, name);

	if (server == SIZE_MAX)
		return NULL;
	if (srv)
		*srv = &r->gw->cfg->servers[server];
	return gw_fs_authenticate(r, c, server);
}

enum MHD_Result gw_fs_failed(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			     int err)
{
	if (err < 0)
		gw_session_failed(r->gw, s);
	return gw_reply_sbx_error(r, c, err);
}
#define reply_failed gw_fs_failed

/* ---- downloads ---- */

struct download {
	struct gw *gw;
	struct gw_session *s;
	struct sbxc_lane *lane;
	int fd;
	uint64_t expected;
	uint64_t sent;
};

static ssize_t download_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct download *d = cls;
	(void)pos;

	ssize_t n = sbxc_stream_read(d->lane, d->fd, buf, max);
	if (n > 0) {
		d->sent += (uint64_t)n;
		return n;
	}
	/* EOF before every byte: the sandbox died or hung (killed); the client
	 * sees a cut body. */
	if (n == 0 && d->sent >= d->expected)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void download_free(void *cls)
{
	struct download *d = cls;
	uint64_t bytes = 0;

	close(d->fd); /* an aborted download: the worker stops on EPIPE */
	int err = sbxc_read_end(d->lane, &bytes);
	if (err < 0)
		gw_session_failed(d->gw, d->s);
	gw_session_put(d->s); /* its own reference */
	free(d);
}

static ssize_t no_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void file_headers(struct MHD_Response *resp, const struct gw_path *p,
			 const struct proto_stat *st, const char *etag, bool attachment)
{
	char date[32];
	const char *name = strrchr(p->path, '/') ? strrchr(p->path, '/') + 1 : p->path;

	const char *type = gw_mime_type(name);
	gw_http_date(st->mtime, date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* A file from a share is not the gateway's own page: an HTML or SVG file
	 * opened in the browser runs in a sandbox, with no script and a unique
	 * origin (PDF viewers refuse to run sandboxed, and PDFs need no such care). */
	if (strcmp(type, "application/pdf") != 0)
		MHD_add_response_header(resp, "Content-Security-Policy", "sandbox");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
	if (attachment) {
		char *cd = gw_content_disposition(name);
		if (cd) {
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
			free(cd);
		}
	}
}

enum MHD_Result gw_fs_get_file(struct gw_req *r, struct MHD_Connection *c,
			       struct gw_session *session, const struct gw_path *p,
			       const struct proto_stat *st)
{
	bool head = strcmp(r->method, "HEAD") == 0;
	bool attachment = arg_true(c, "download");
	char etag[48], date[32];
	uint64_t start = 0, len = st->size;
	unsigned status = MHD_HTTP_OK;
	struct MHD_Response *resp;

	gw_etag(st, etag);
	/* Conditional requests: If-None-Match wins over If-Modified-Since. */
	const char *inm = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims = header(c, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	int64_t since;
	if ((inm && gw_etag_match(inm, etag)) ||
	    (!inm && ims && gw_http_date_parse(ims, &since) == 0 && st->mtime <= since)) {
		gw_http_date(st->mtime, date);
		const char *const hdrs[] = {MHD_HTTP_HEADER_ETAG, etag,
					    MHD_HTTP_HEADER_LAST_MODIFIED, date, NULL};
		return gw_reply_empty_with(r, c, MHD_HTTP_NOT_MODIFIED, hdrs);
	}
	const char *range = header(c, MHD_HTTP_HEADER_RANGE);
	if (range) {
		int rr = gw_range_parse(range, st->size, &start, &len);
		if (rr == -ERANGE) {
			char cr[64];
			snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)st->size);
			const char *const hdrs[] = {MHD_HTTP_HEADER_CONTENT_RANGE, cr, NULL};
			return gw_reply_error_with(r, c, MHD_HTTP_RANGE_NOT_SATISFIABLE, hdrs,
						   "range_not_satisfiable",
						   "the range is outside the file");
		}
		if (rr == 0)
			status = MHD_HTTP_PARTIAL_CONTENT;
		else {
			start = 0;
			len = st->size;
		}
	}
	if (head) {
		resp = MHD_create_response_from_callback(len, 4096, no_read, NULL, NULL);
	} else {
		struct proto_read_ok ok;
		struct sbxc_lane *lane;
		int fd;
		int err = sbxc_read_begin(gw_fs_client(session), p->share, p->path, start, len, &ok,
					  &fd, &lane);
		if (err)
			return gw_fs_failed(r, c, session, err);
		struct download *d = calloc(1, sizeof(*d));
		if (!d) {
			close(fd);
			sbxc_read_end(lane, NULL);
			return MHD_NO;
		}
		/* The body streams after this handler returns: its own reference. */
		*d = (struct download){.gw = r->gw,
				       .s = gw_session_hold(session),
				       .lane = lane,
				       .fd = fd,
				       .expected = ok.length};
		len = ok.length;
		resp = MHD_create_response_from_callback(len, STREAM_BLOCK, download_read, d,
							 download_free);
		if (!resp) {
			download_free(d);
			return MHD_NO;
		}
	}
	file_headers(resp, p, st, etag, attachment);
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		char cr[96];
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
			 (unsigned long long)(start + len - 1), (unsigned long long)st->size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	r->bytes_out += head ? 0 : len;
	return gw_queue(r, c, status, resp);
}

/* ---- uploads ---- */

struct upload {
	struct gw_session *s;
	struct sbxc_lane *lane;
	int fd;
	bool broken;			  /* the worker stopped reading (it will say why) */
	bool hung;			  /* ... and no longer read at all: killed */
	bool exclusive;			  /* If-None-Match: * */
	bool framed;			  /* chunked: size unknown (PROTO_WRITE_UNKNOWN) */
	bool too_large;			  /* ... and past max_upload_size: cut short */
	uint64_t got;			  /* the body's bytes so far */
	char tmp[PROTO_TMP_NAME_LEN + 1]; /* the temporary beside the target */
	uint64_t jid;			  /* its journal entry (journal.h) */
	char *share, *path;		  /* point into data */
	char data[];
};

/* Whether an upload that ended with @err (sbxc_write_end()) may have left its
 * temporary on the server: the sandbox died or was killed (< 0), or the
 * connection to the server broke, so that the worker could not remove it. */
static bool upload_may_leave_tmp(int err)
{
	return err < 0 || err == PROTO_E_UNREACHABLE || err == PROTO_E_TIMEOUT ||
	       err == PROTO_E_PROTOCOL || err == PROTO_E_IO;
}

/* The temporary of an upload that failed so (upload_may_leave_tmp()) may be
 * left on the server; remember it for the user's next request, through the
 * same sandbox or the next one (drop_orphans(); a temporary already gone
 * costs one request). */
static void upload_orphaned(struct gw *gw, struct upload *u, int err)
{
	gw_orphans_record(gw, gw_session_user(u->s), gw_session_server(u->s), u->share, u->path,
			  u->tmp, u->jid,
			  err < 0 ? "the sandbox ended during an upload:"
				  : "the connection to the file server broke during an upload:");
	u->jid = 0; /* the orphan has it now */
}

void gw_orphans_record(struct gw *gw, const char *user, size_t server, const char *share,
		       const char *path, const char *tmp, uint64_t jid, const char *what)
{
	struct gw_orphan *dropped = NULL;
	int r = gw_orphans_add(gw->orphans, user, server, share, path, tmp, jid, &dropped);

	gw_log_tmp(gw, user, server, share, path, tmp, what,
		   r == 0 ? "will be removed at the user's next request"
			  : "may be left on the file server; remove it by hand");
	if (r < 0)
		gw_journal_end(gw->journal, jid);
	gw_orphans_log_dropped(gw, dropped, "too many waiting");
}

static void upload_free(struct gw_req *r, struct upload *u)
{
	gw_journal_end(r->gw->journal, u->jid); /* renamed or removed, unless orphaned */
	gw_session_put(u->s);			/* its own reference */
	free(u);
	r->upload = NULL;
	r->upload_abort = NULL;
}

static void upload_abort(struct gw_req *r)
{
	struct upload *u = r->upload;

	if (!u)
		return;
	if (u->fd >= 0) /* short of the size or the end frame: the worker drops its temporary */
		close(u->fd);
	int err = sbxc_write_end(u->lane, NULL, NULL);
	if (upload_may_leave_tmp(err))
		upload_orphaned(r->gw, u, err);
	if (err < 0)
		gw_session_failed(r->gw, u->s);
	upload_free(r, u);
}

/* WebDAV wants 409 for an upload whose folder does not exist (RFC 4918 9.7.1). */
static enum MHD_Result put_failed(struct gw_req *r, struct MHD_Connection *c,
				  struct gw_session *session, int err)
{
	if (r->dav && (err == PROTO_E_NOT_FOUND || err == PROTO_E_NOT_DIR))
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "no_parent",
				      "the folder of the target does not exist");
	return gw_fs_failed(r, c, session, err);
}

/*
 * The conditions of a PUT on the file as it is now (RFC 9110 13.1), checked
 * before the body comes: If-None-Match "*" (it must not exist) or a list of
 * tags (its tag must not be one), If-Match "*" (it must exist) or a list (its
 * tag, gw_etag(), must be one). Returns true after answering (412, or the
 * error of the stat). The file can still change while the body comes.
 */
static bool put_preconditions(struct gw_req *r, struct MHD_Connection *c,
			      struct gw_session *session, const struct gw_path *p, const char *inm)
{
	const char *im = header(c, MHD_HTTP_HEADER_IF_MATCH);
	struct proto_stat st;
	char etag[48];
	int err;

	if (!inm && !im)
		return false;
	err = sbxc_stat(gw_fs_client(session), p->share, p->path, &st);
	if (err && err != PROTO_E_NOT_FOUND) {
		gw_fs_failed(r, c, session, err);
		return true;
	}
	if (err == 0)
		gw_etag(&st, etag);
	if (inm && strcmp(inm, "*") == 0 && err == 0) {
		gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "exists",
			       "the file exists (If-None-Match: *)");
		return true;
	}
	if (inm && err == 0 && st.ftype == PROTO_FT_FILE && gw_etag_match(inm, etag)) {
		gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "precondition_failed",
			       "the file is as If-None-Match names it");
		return true;
	}
	if (im && !gw_if_match(im, err == 0 && st.ftype == PROTO_FT_FILE ? etag : NULL)) {
		gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "precondition_failed",
			       "the file is not the one If-Match names: it changed, or is gone");
		return true;
	}
	return false;
}

/* 413: the body is over [gateway] max_upload_size. */
static enum MHD_Result reply_too_large(struct gw_req *r, struct MHD_Connection *c)
{
	return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			      "uploads are limited to %llu bytes",
			      (unsigned long long)r->gw->cfg->max_upload_size);
}

enum MHD_Result gw_fs_put_start(struct gw_req *r, struct MHD_Connection *c, size_t server,
				const struct gw_path *p)
{
	const struct cfg *cfg = r->gw->cfg;
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *inm = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct gw_session *session;
	uint64_t size;
	char *end;

	if (!*p->path || p->trailing_slash)
		return gw_reply_not_allowed(r, c, "GET, HEAD"); /* a folder takes no PUT */
	session = gw_fs_authenticate(r, c, server);
	if (!session)
		return MHD_YES;
	if (!cl && !header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		return gw_reply_error(
		    r, c, MHD_HTTP_LENGTH_REQUIRED, "length_required",
		    "uploads need a Content-Length or Transfer-Encoding: chunked");
	}
	if (cl) {
		errno = 0;
		size = strtoull(cl, &end, 10);
		if (errno || *end || end == cl || *cl == '-') {
			return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
					      "bad Content-Length");
		}
	} else {
		/* Chunked (the daemon's framing checks allow no other coding):
		 * the size is known at the end only, and counted as it comes
		 * (gw_fs_put_data()); Finder announces it beforehand. */
		size = PROTO_WRITE_UNKNOWN;
		const char *xl = header(c, "X-Expected-Entity-Length");
		uint64_t expected = 0;
		if (xl && *xl >= '0' && *xl <= '9') {
			errno = 0;
			expected = strtoull(xl, &end, 10);
			if (errno || *end)
				expected = 0; /* a bad hint: the count still holds */
		}
		if (cfg->max_upload_size && expected > cfg->max_upload_size)
			return reply_too_large(r, c);
	}
	if (cfg->max_upload_size && size != PROTO_WRITE_UNKNOWN && size > cfg->max_upload_size) {
		return reply_too_large(r, c);
	}
	/* A new name the server would mangle: refused before the body comes
	 * (the worker refuses it too, for every interface). */
	const char *base = strrchr(p->path, '/');
	if (!proto_name_creatable(base ? base + 1 : p->path)) {
		struct proto_stat st;
		int err = sbxc_stat(gw_fs_client(session), p->share, p->path, &st);
		if (err == PROTO_E_NOT_FOUND)
			return gw_fs_failed(r, c, session, PROTO_E_RESERVED_NAME);
	}
	bool exclusive = inm && strcmp(inm, "*") == 0;
	if (put_preconditions(r, c, session, p, inm))
		return r->responded ? MHD_YES : MHD_NO;
	size_t sl = strlen(p->share) + 1, pl = strlen(p->path) + 1;
	struct upload *u = calloc(1, sizeof(*u) + sl + pl);
	if (!u) {
		return MHD_NO;
	}
	u->share = memcpy(u->data, p->share, sl);
	u->path = memcpy(u->data + sl, p->path, pl);
	int err =
	    sbxc_write_begin(gw_fs_client(session), p->share, p->path,
			     exclusive ? 0 : PROTO_F_OVERWRITE, size, u->tmp, &u->fd, &u->lane);
	if (err) {
		free(u);
		return put_failed(r, c, session, err);
	}
	u->jid = gw_journal_begin(r->gw->journal, gw_session_user(session),
				  cfg->servers[server].name, p->share, p->path, u->tmp);
	u->s = gw_session_hold(session); /* its own, for the upload's whole body */
	u->exclusive = exclusive;
	u->framed = size == PROTO_WRITE_UNKNOWN;
	r->upload = u;
	r->upload_abort = upload_abort;
	return MHD_YES;
}

/*
 * Passes @n bytes of the body to the worker. A chunked body (u->framed) is
 * counted: past max_upload_size the pipe is closed without its end frame,
 * so that the worker drops its temporary and the old file stays, and the
 * answer is a 413 (at once; with the gateway's own TLS once the body is read).
 */
static void upload_write(struct gw_req *r, struct upload *u, const char *data, size_t n)
{
	uint64_t max = r->gw->cfg->max_upload_size;
	int w;

	u->got += n;
	if (u->framed && max && u->got > max) {
		u->too_large = true;
		close(u->fd);
		u->fd = -1;
		r->answer_now = !r->gw->cfg->tls_certificate;
		return;
	}
	w = u->framed ? sbxc_stream_write_frame(u->lane, u->fd, data, n)
		      : sbxc_stream_write(u->lane, u->fd, data, n);
	u->broken = w < 0;
	u->hung = w == -ETIMEDOUT;
	r->answer_now = u->broken && !r->gw->cfg->tls_certificate;
}

enum MHD_Result gw_fs_put_data(struct gw_req *r, struct MHD_Connection *c, const char *data,
			       size_t *size)
{
	struct upload *u = r->upload;

	if (*size > 0) {
		size_t n = *size;
		*size = 0;
		r->bytes_in += n;
		/* On failure the worker tells why (or, hung and killed,
		 * sbxc_write_end() says the sandbox is gone): answered at once
		 * and the connection closed, the rest of the body unread; with
		 * the gateway's own TLS, the body is read to its end first (the
		 * answer cannot be written past libmicrohttpd's TLS). */
		if (!u->broken && !u->too_large)
			upload_write(r, u, data, n);
		if (!r->answer_now)
			return MHD_YES;
	}
	/* The whole body is in, or the upload failed. */
	uint32_t created = 0;
	uint64_t bytes = 0;
	if (u->framed && !u->broken && !u->too_large) { /* the end frame: it may commit */
		int w = sbxc_stream_write_frame(u->lane, u->fd, NULL, 0);
		u->broken = w < 0;
		u->hung = w == -ETIMEDOUT;
	}
	if (u->fd >= 0)
		close(u->fd);
	int err = sbxc_write_end(u->lane, &created, &bytes);
	bool too_large = u->too_large;
	if (err < 0 && u->hung)
		err = -ETIMEDOUT; /* the sandbox is gone because it hung: say so */
	bool exclusive = u->exclusive;
	if (upload_may_leave_tmp(err))
		upload_orphaned(r->gw, u, err);
	upload_free(r, u);
	if (too_large && err >= 0)
		return reply_too_large(r, c);
	if (err == PROTO_E_EXISTS && exclusive)
		return gw_reply_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "exists",
				      "the file exists (If-None-Match: *)");
	if (err)
		return put_failed(r, c, r->session, err);
	return gw_reply_empty(r, c, created ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT);
}

/* ---- DELETE ---- */

enum MHD_Result gw_fs_delete(struct gw_req *r, struct MHD_Connection *c, struct gw_session *session,
			     const struct gw_path *p, bool recursive)
{
	struct proto_stat st;
	int err = sbxc_stat(gw_fs_client(session), p->share, p->path, &st);

	if (err)
		return gw_fs_failed(r, c, session, err);
	if (st.ftype == PROTO_FT_DIR)
		err = sbxc_rmdir(gw_fs_client(session), p->share, p->path,
				 recursive ? PROTO_F_RECURSIVE : 0);
	else
		err = sbxc_unlink(gw_fs_client(session), p->share, p->path);
	if (err)
		return gw_fs_failed(r, c, session, err);
	return gw_reply_empty(r, c, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result gw_fs_bad_path(struct gw_req *r, struct MHD_Connection *c, int err)
{
	if (err == -ENAMETOOLONG)
		return gw_reply_error(r, c, MHD_HTTP_URI_TOO_LONG, "path_too_long",
				      "the path is too long");
	return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_path",
			      "the path is not valid (empty, '.' or '..' segments, NUL, "
			      "backslash or invalid UTF-8)");
}
