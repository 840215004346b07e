/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/rest/tus.c - resumable uploads, tus 1.0 (core, creation,
 * creation-with-upload, termination, expiration) at /api/v1/uploads/:
 *   OPTIONS /api/v1/uploads/       what this server supports
 *   POST    /api/v1/uploads/       a new upload (Upload-Length, Upload-Metadata:
 *                                  server, share, path, overwrite), maybe with
 *                                  its first bytes
 *   HEAD    /api/v1/uploads/{id}   its offset
 *   PATCH   /api/v1/uploads/{id}   bytes at Upload-Offset
 *   DELETE  /api/v1/uploads/{id}   terminated: its temporary removed
 * The bytes go straight through a pipe to the worker, which appends them to
 * the upload's temporary beside the target on the share; the last byte
 * renames it over the target (as a PUT does). The table (files/uploads.h) keeps what
 * lies between requests; the offset is always the file server's word.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/session.h"
#include "cfg.h"
#include "client.h"
#include "files/fileops.h"
#include "files/journal.h"
#include "files/uploads.h"
#include "http/httputil.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/request.h"
#include "proto.h"
#include "rest/rest.h"

#define TUS_VERSION	 GW_TUS_VERSION
#define TUS_EXTENSIONS	 "creation,creation-with-upload,termination,expiration"
#define TUS_MAX_METADATA 4096
#define TUS_MAX_SIZE	 (1ull << 40) /* when max_upload_size does not say less */
#define TUS_PREFIX	 "/api/v1/uploads/"

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static uint64_t max_size(const struct gw *gw)
{
	uint64_t m = gw->cfg->max_upload_size;
	return m && m < TUS_MAX_SIZE ? m : TUS_MAX_SIZE;
}

/* Every answer carries Tus-Resumable; a few more headers on the way. */
#define TUS_HDRS(...) ((const char *const[]){"Tus-Resumable", TUS_VERSION, __VA_ARGS__ NULL})

static enum MHD_Result tus_error(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				 const char *code, const char *msg)
{
	return gw_reply_error_with(r, c, status, TUS_HDRS(), code, "%s", msg);
}

static enum MHD_Result tus_failed(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
				  int err)
{
	if (err < 0)
		gw_session_failed(r->gw, s);
	/* gw_reply_sbx_error() without the header would do; with it, tus clients are happy. */
	switch (err) {
	case PROTO_E_NOT_FOUND:
		return tus_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				 "the target's folder does not exist");
	case PROTO_E_EXISTS:
		return tus_error(r, c, MHD_HTTP_PRECONDITION_FAILED, "exists",
				 "the file exists (metadata overwrite is not 1)");
	case PROTO_E_IS_DIR:
		return tus_error(r, c, MHD_HTTP_CONFLICT, "is_a_directory", "the path is a folder");
	case PROTO_E_OFFSET:
		return tus_error(r, c, MHD_HTTP_CONFLICT, "offset_mismatch",
				 "Upload-Offset is not the upload's offset (HEAD says it)");
	case PROTO_E_INVALID:
		return tus_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				 "more bytes than Upload-Length");
	default:
		return gw_reply_sbx_error(r, c, err);
	}
}

/* ---- expiry: the temporaries of expired uploads go the way of orphans ---- */

static void expire(struct gw *gw, struct gw_tus_upload *list, const char *why)
{
	while (list) {
		struct gw_tus_upload *u = list;
		list = u->next;
		if (!u->done)
			gw_orphans_record(gw, u->user, u->server, u->share, u->path, u->tmp, u->jid,
					  why);
		free(u);
	}
}

void gw_tus_expire_all(struct gw *gw)
{
	expire(gw, gw_tus_expire(gw->tus), "resumable upload expired:");
}

void gw_tus_stop(struct gw *gw)
{
	struct gw_tus_upload *list = gw_tus_take_all(gw->tus);

	while (list) {
		struct gw_tus_upload *u = list;
		list = u->next;
		if (!u->done)
			gw_log_tmp(gw, u->user, u->server, u->share, u->path, u->tmp,
				   "resumable upload unfinished (smbgate stopped):",
				   u->jid ? "kept in the journal: removed at the user's first "
					    "request after the next start"
					  : "remove it by hand");
		free(u);
	}
}

/* ---- Upload-Metadata ---- */

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Decodes @n bytes of base64 at @s into a new string (NULL: bad, or NUL inside). */
static char *b64_decode(const char *s, size_t n)
{
	char *out = malloc(n / 4 * 3 + 4);
	size_t o = 0;
	unsigned acc = 0, bits = 0;

	if (!out || n % 4) {
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i >= n - 2) {
			if (i == n - 2 && s[n - 1] != '=')
				goto bad;
			break;
		}
		int v = b64_value(s[i]);
		if (v < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o] = (char)((acc >> bits) & 0xff);
			if (!out[o])
				goto bad;
			o++;
		}
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

struct meta {
	char *server, *share, *path, *overwrite;
};

static void meta_clear(struct meta *m)
{
	free(m->server);
	free(m->share);
	free(m->path);
	free(m->overwrite);
	*m = (struct meta){0};
}

/* "key b64,key b64,key": the keys we know; others are kept for HEAD only. */
static int meta_parse(const char *h, struct meta *m)
{
	for (const char *p = h; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *sp = memchr(p, ' ', len);
		size_t kl = sp ? (size_t)(sp - p) : len;
		char **slot = NULL;
		if (kl == 6 && memcmp(p, "server", 6) == 0)
			slot = &m->server;
		else if (kl == 5 && memcmp(p, "share", 5) == 0)
			slot = &m->share;
		else if (kl == 4 && memcmp(p, "path", 4) == 0)
			slot = &m->path;
		else if (kl == 9 && memcmp(p, "overwrite", 9) == 0)
			slot = &m->overwrite;
		if (kl == 0)
			return -EINVAL;
		if (slot) {
			if (*slot)
				return -EINVAL; /* twice */
			*slot = sp ? b64_decode(sp + 1, len - kl - 1) : strdup("");
			if (!*slot)
				return -EINVAL;
		}
		if (!end)
			break;
		p = end + 1;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static bool parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 19)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*ret = v;
	return true;
}

/* ---- the bytes of a PATCH (or of a POST with its first bytes) ---- */

struct tus_body {
	struct gw_session *s;
	struct gw_tus_upload *u; /* a copy; taken (busy) in the table */
	struct sbxc_lane *lane;
	int fd;
	bool broken; /* the worker stopped reading (it will say why) */
	bool hung;   /* ... and no longer read at all: killed */
	bool create; /* a POST: answer 201 with Location */
	uint64_t offset;
	uint64_t sid; /* the session's id, and the connection's socket: a */
	int conn_fd;  /* stalled writer is taken over by its session (files/uploads.h) */
};

static void body_free(struct gw_req *r, struct tus_body *b)
{
	gw_session_put(b->s);
	free(b->u);
	free(b);
	r->upload = NULL;
	r->upload_abort = NULL;
}

/* Closes the pipe and takes the worker's word; the upload goes back to the
 * table with what is known. Returns the append's result. */
static int body_finish(struct gw *gw, struct tus_body *b, uint64_t *ret_size)
{
	uint64_t size = b->offset;
	uint32_t created = 0;

	gw_tus_writer(gw->tus, b->u->id, b->sid, -1); /* the socket may close from now on */
	close(b->fd);
	int err = sbxc_tus_append_end(b->lane, &size, &created);
	if (err < 0 && b->hung)
		err = -ETIMEDOUT; /* the sandbox is gone because it hung: say so */
	if (err == 0) {
		gw_tus_release(gw->tus, b->u->id, size, true, size == b->u->length);
		if (size == b->u->length) /* renamed over its target */
			gw_journal_end(gw->journal, b->u->jid);
	} else if (err == PROTO_E_EXISTS || err == PROTO_E_IS_DIR) {
		gw_tus_remove(gw->tus,
			      b->u->id); /* the rename was refused: the temporary is gone */
		gw_journal_end(gw->journal, b->u->jid);
	} else {
		if (err < 0)
			gw_session_failed(gw, b->s);
		/* The temporary stays (a new sandbox resumes it); its size is the truth. */
		gw_tus_release(gw->tus, b->u->id, size, false, false);
	}
	*ret_size = size;
	return err;
}

static void body_abort(struct gw_req *r)
{
	struct tus_body *b = r->upload;
	uint64_t size;

	if (!b)
		return;
	body_finish(r->gw, b, &size); /* what came is kept: the client resumes from HEAD */
	body_free(r, b);
}

static enum MHD_Result body_data(struct gw_req *r, struct MHD_Connection *c, const char *data,
				 size_t *size)
{
	struct tus_body *b = r->upload;

	if (*size > 0) {
		size_t n = *size;
		*size = 0;
		r->bytes_in += n;
		if (!b->broken) {
			gw_tus_writer(r->gw->tus, b->u->id, b->sid, -1); /* in the gateway */
			int w = sbxc_stream_write(b->lane, b->fd, data, n);
			b->broken = w < 0;
			b->hung = w == -ETIMEDOUT;
		}
		gw_tus_writer(r->gw->tus, b->u->id, b->sid, b->conn_fd); /* waits for its client */
		return MHD_YES;
	}
	uint64_t done = 0;
	int err = body_finish(r->gw, b, &done);
	char off[24], loc[sizeof(TUS_PREFIX) + GW_TUS_ID_LEN];
	snprintf(off, sizeof(off), "%llu", (unsigned long long)done);
	snprintf(loc, sizeof(loc), TUS_PREFIX "%s", b->u->id);
	bool create = b->create;
	struct gw_session *s = b->s;
	gw_session_hold(s);
	body_free(r, b);
	enum MHD_Result ret;
	if (err)
		ret = tus_failed(r, c, s, err);
	else if (create)
		ret = gw_reply_empty_with(r, c, MHD_HTTP_CREATED,
					  TUS_HDRS("Location", loc, "Upload-Offset", off, ));
	else
		ret = gw_reply_empty_with(r, c, MHD_HTTP_NO_CONTENT,
					  TUS_HDRS("Upload-Offset", off, ));
	gw_session_put(s);
	return ret;
}

/* Starts an append of the request's body to @u (taken) at @offset. */
static enum MHD_Result body_start(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
				  struct gw_tus_upload *u, uint64_t offset, bool create)
{
	struct tus_body *b = calloc(1, sizeof(*b));
	int err;

	if (!b) {
		gw_tus_release(r->gw->tus, u->id, u->offset, u->offset_known, u->done);
		free(u);
		return MHD_NO;
	}
	err = sbxc_tus_append_begin(gw_fs_client(s), u->share, u->path, u->tmp, offset, u->length,
				    u->flags, &b->fd, &b->lane);
	if (err) {
		gw_tus_release(r->gw->tus, u->id, u->offset, false, false);
		free(u);
		free(b);
		return tus_failed(r, c, s, err);
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	b->s = gw_session_hold(s);
	b->u = u;
	b->offset = offset;
	b->create = create;
	b->sid = gw_session_id(s);
	b->conn_fd = ci ? ci->connect_fd : -1;
	gw_tus_writer(r->gw->tus, u->id, b->sid, b->conn_fd);
	r->upload = b;
	r->upload_abort = body_abort;
	return MHD_YES;
}

/* ---- the requests ---- */

static enum MHD_Result options(struct gw_req *r, struct MHD_Connection *c)
{
	char max[24];

	snprintf(max, sizeof(max), "%llu", (unsigned long long)max_size(r->gw));
	return gw_reply_empty_with(r, c, MHD_HTTP_NO_CONTENT,
				   TUS_HDRS("Tus-Version", TUS_VERSION, "Tus-Extension",
					    TUS_EXTENSIONS, "Tus-Max-Size", max, ));
}

static bool has_body(struct MHD_Connection *c)
{
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	return (cl && strcmp(cl, "0") != 0) || te;
}

static bool octet_stream(struct MHD_Connection *c)
{
	const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	return ct && strcmp(ct, "application/offset+octet-stream") == 0;
}

static enum MHD_Result create(struct gw_req *r, struct MHD_Connection *c)
{
	const char *ul = header(c, "Upload-Length");
	const char *um = header(c, "Upload-Metadata");
	struct meta m = {0};
	char *path = NULL;
	uint64_t length;
	enum MHD_Result ret;

	if (header(c, "Upload-Defer-Length"))
		return tus_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				 "Upload-Defer-Length is not supported: give Upload-Length");
	if (!parse_u64(ul, &length))
		return tus_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				 "Upload-Length must be a number of bytes");
	if (length > max_size(r->gw))
		return tus_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				 "Upload-Length is over Tus-Max-Size");
	if (!um || strlen(um) > TUS_MAX_METADATA || meta_parse(um, &m) < 0 || !m.server ||
	    !m.share || !m.path || !proto_name_valid(m.share) ||
	    gw_path_parse_plain(m.path, &path) < 0 || !*path ||
	    (m.overwrite && strcmp(m.overwrite, "0") != 0 && strcmp(m.overwrite, "1") != 0)) {
		ret = tus_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_metadata",
				"Upload-Metadata needs server, share and path (\"/folder/name\"), "
				"base64; overwrite 0 or 1 if given");
		goto out;
	}
	if (has_body(c) && !octet_stream(c)) {
		ret = tus_error(r, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_content_type",
				"a body must be application/offset+octet-stream");
		goto out;
	}
	/* (every answer has Tus-Resumable: r->every_answer) */
	const struct cfg_server *srv;
	struct gw_session *s = gw_fs_authenticate_named(r, c, m.server, &srv);
	if (!s) {
		ret = r->responded ? MHD_YES : MHD_NO;
		goto out;
	}
	size_t server = (size_t)(srv - r->gw->cfg->servers);
	uint32_t flags = m.overwrite && strcmp(m.overwrite, "1") == 0 ? PROTO_F_OVERWRITE : 0;
	char tmp[PROTO_TMP_NAME_LEN + 1], id[GW_TUS_ID_LEN + 1];
	uint64_t jid = 0;
	int err = sbxc_tmp_name(tmp);
	if (err == 0)
		jid = gw_journal_begin(r->gw->journal, gw_session_user(s), srv->name, m.share, path,
				       tmp);
	if (err == 0)
		err = gw_tus_add(r->gw->tus, gw_session_user(s), server, m.share, path, tmp, jid,
				 length, flags, um, id);
	if (err)
		gw_journal_end(r->gw->journal, jid);
	if (err == -EUSERS || err == -ENOSPC) {
		ret = tus_error(r, c, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_uploads",
				err == -EUSERS ? "too many unfinished uploads of yours: finish or "
						 "terminate one"
					       : "too many unfinished uploads");
		goto out;
	}
	if (err) {
		ret = MHD_NO;
		goto out;
	}
	err = sbxc_tus_create(gw_fs_client(s), m.share, path, tmp, flags);
	if (err) {
		gw_tus_remove(r->gw->tus, id);
		gw_journal_end(r->gw->journal, jid); /* the worker made no temporary */
		ret = tus_failed(r, c, s, err);
		goto out;
	}
	struct gw_tus_upload *u = NULL;
	err = gw_tus_acquire(r->gw->tus, id, gw_session_user(s), server, &u);
	if (err) {
		ret = MHD_NO;
		goto out;
	}
	char loc[sizeof(TUS_PREFIX) + GW_TUS_ID_LEN], exp[32];
	snprintf(loc, sizeof(loc), TUS_PREFIX "%s", id);
	if (has_body(c) || length == 0) {
		/* creation-with-upload (or nothing to wait for): the body is appended
		 * now, and the last byte commits. */
		ret = body_start(r, c, s, u, 0, true);
		goto out;
	}
	gw_http_date(gw_tus_expires_epoch(r->gw->tus, u), exp);
	gw_tus_release(r->gw->tus, id, 0, true, false);
	free(u);
	ret = gw_reply_empty_with(
	    r, c, MHD_HTTP_CREATED,
	    TUS_HDRS("Location", loc, "Upload-Offset", "0", "Upload-Expires", exp, ));
out:
	meta_clear(&m);
	free(path);
	return ret;
}

/* Authenticates the request for upload @id and takes it (*@ret_u) for it. */
static struct gw_session *take(struct gw_req *r, struct MHD_Connection *c, const char *id,
			       struct gw_tus_upload **ret_u, enum MHD_Result *ret)
{
	size_t server;
	struct gw_session *s;

	if (gw_tus_server(r->gw->tus, id, &server) < 0) {
		*ret = tus_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				 "no such upload (finished long ago, terminated or expired)");
		return NULL;
	}
	s = gw_fs_authenticate(r, c, server);
	if (!s) {
		*ret = MHD_YES;
		return NULL;
	}
	unsigned retry = GW_TUS_RETRY_AFTER;
	int err = gw_tus_acquire_as(r->gw->tus, id, gw_session_user(s), server, gw_session_id(s),
				    ret_u, &retry);
	if (err == -EBUSY) {
		/* A stalled writer of this session was taken over above; another
		 * one (or a writer of another session) is waited for. */
		char ra[12];
		snprintf(ra, sizeof(ra), "%u", retry);
		*ret = gw_reply_error_with(r, c, MHD_HTTP_LOCKED, TUS_HDRS("Retry-After", ra, ),
					   "upload_busy",
					   "another request is writing to this upload: retry after "
					   "%u s (HEAD says where it stands)",
					   retry);
	} else if (err)
		*ret = err == -ENOENT
			   ? tus_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such upload")
			   : MHD_NO;
	return err ? NULL : s;
}

/* The offset as the file server says it (the temporary's size). */
static int true_offset(struct gw_req *r, struct gw_session *s, struct gw_tus_upload *u)
{
	uint64_t size = 0;

	if (u->done)
		return 0;
	int err = sbxc_tus_info(gw_fs_client(s), u->share, u->path, u->tmp, &size);
	if (err == 0) {
		u->offset = size;
		u->offset_known = true;
	} else if (err == PROTO_E_NOT_FOUND) {
		gw_tus_remove(r->gw->tus, u->id); /* the temporary went away */
		gw_journal_end(r->gw->journal, u->jid);
	}
	return err;
}

static enum MHD_Result head(struct gw_req *r, struct MHD_Connection *c, const char *id)
{
	struct gw_tus_upload *u = NULL;
	enum MHD_Result ret;
	struct gw_session *s = take(r, c, id, &u, &ret);

	if (!s)
		return ret;
	int err = true_offset(r, s, u);
	if (err == PROTO_E_NOT_FOUND) {
		free(u);
		return tus_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				 "the upload's temporary is gone from the file server");
	}
	if (err) {
		gw_tus_release(r->gw->tus, id, u->offset, false, false);
		free(u);
		return tus_failed(r, c, s, err);
	}
	gw_tus_release(r->gw->tus, id, u->offset, true, u->done);
	char off[24], len[24], exp[32];
	snprintf(off, sizeof(off), "%llu", (unsigned long long)(u->done ? u->length : u->offset));
	snprintf(len, sizeof(len), "%llu", (unsigned long long)u->length);
	gw_http_date(gw_tus_expires_epoch(r->gw->tus, u), exp);
	const char *const hdrs[] = {"Tus-Resumable",
				    TUS_VERSION,
				    "Upload-Offset",
				    off,
				    "Upload-Length",
				    len,
				    "Upload-Expires",
				    exp,
				    "Cache-Control",
				    "no-store",
				    *u->metadata ? "Upload-Metadata" : NULL,
				    u->metadata,
				    NULL};
	ret = gw_reply_empty_with(r, c, MHD_HTTP_OK, hdrs);
	free(u);
	return ret;
}

static enum MHD_Result patch(struct gw_req *r, struct MHD_Connection *c, const char *id)
{
	const char *uo = header(c, "Upload-Offset");
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct gw_tus_upload *u = NULL;
	uint64_t offset, clen = 0;
	enum MHD_Result ret;

	if (!octet_stream(c))
		return tus_error(r, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_content_type",
				 "PATCH takes application/offset+octet-stream");
	if (!parse_u64(uo, &offset))
		return tus_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				 "Upload-Offset must be a number of bytes");
	if (cl && !parse_u64(cl, &clen))
		return tus_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request", "bad Content-Length");
	struct gw_session *s = take(r, c, id, &u, &ret);
	if (!s)
		return ret;
	if (!u->offset_known) {
		int err = true_offset(r, s, u);
		if (err) {
			if (err != PROTO_E_NOT_FOUND)
				gw_tus_release(r->gw->tus, id, u->offset, false, false);
			free(u);
			return err == PROTO_E_NOT_FOUND
				   ? tus_error(
					 r, c, MHD_HTTP_NOT_FOUND, "not_found",
					 "the upload's temporary is gone from the file server")
				   : tus_failed(r, c, s, err);
		}
	}
	uint64_t at = u->done ? u->length : u->offset;
	char off[24];
	snprintf(off, sizeof(off), "%llu", (unsigned long long)at);
	if (offset != at) {
		gw_tus_release(r->gw->tus, id, u->offset, true, u->done);
		free(u);
		return gw_reply_error_with(r, c, MHD_HTTP_CONFLICT,
					   TUS_HDRS("Upload-Offset", off, ), "offset_mismatch",
					   "Upload-Offset is not the upload's offset, %s", off);
	}
	if (cl && clen > u->length - at) {
		gw_tus_release(r->gw->tus, id, u->offset, true, u->done);
		free(u);
		return tus_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				 "more bytes than Upload-Length");
	}
	if (u->done) { /* complete already: nothing to add */
		gw_tus_release(r->gw->tus, id, u->offset, true, true);
		free(u);
		return gw_reply_empty_with(r, c, MHD_HTTP_NO_CONTENT,
					   TUS_HDRS("Upload-Offset", off, ));
	}
	return body_start(r, c, s, u, offset, false);
}

static enum MHD_Result terminate(struct gw_req *r, struct MHD_Connection *c, const char *id)
{
	struct gw_tus_upload *u = NULL;
	enum MHD_Result ret;
	struct gw_session *s = take(r, c, id, &u, &ret);

	if (!s)
		return ret;
	int err = u->done ? 0 : sbxc_drop_tmp(gw_fs_client(s), u->share, u->path, u->tmp);
	gw_tus_remove(r->gw->tus, id);
	if (err == 0 || err == PROTO_E_NOT_FOUND)
		gw_journal_end(r->gw->journal, u->jid);
	else {
		/* Not removed now: at the user's next request, as orphans are. */
		u->next = NULL;
		expire(r->gw, u, "a terminated upload's temporary could not be removed:");
		u = NULL;
		if (err < 0)
			gw_session_failed(r->gw, s);
	}
	free(u);
	return gw_reply_empty_with(r, c, MHD_HTTP_NO_CONTENT, TUS_HDRS());
}

enum MHD_Result gw_api_tus(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size)
{
	const char *m = r->method;

	r->every_answer[0] = "Tus-Resumable";
	r->every_answer[1] = TUS_VERSION;
	if (r->upload)
		return body_data(r, c, upload_data, upload_data_size);
	gw_tus_expire_all(r->gw);

	bool collection = !*rest || strcmp(rest, "/") == 0;
	const char *id = collection ? NULL : rest + 1;
	if (id && (strlen(id) != GW_TUS_ID_LEN || strspn(id, "0123456789abcdef") != GW_TUS_ID_LEN))
		return tus_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such upload");
	if (strcmp(m, "OPTIONS") == 0)
		return options(r, c);
	const char *allow = collection ? "OPTIONS, POST" : "OPTIONS, HEAD, PATCH, DELETE";
	if (collection
		? strcmp(m, "POST") != 0
		: strcmp(m, "HEAD") != 0 && strcmp(m, "PATCH") != 0 && strcmp(m, "DELETE") != 0)
		return gw_reply_not_allowed(r, c, allow);
	const char *tr = header(c, "Tus-Resumable");
	if (!tr || strcmp(tr, TUS_VERSION) != 0)
		return gw_reply_error_with(r, c, MHD_HTTP_PRECONDITION_FAILED,
					   TUS_HDRS("Tus-Version", TUS_VERSION, ), "tus_version",
					   "Tus-Resumable: 1.0.0 is the version spoken here");
	if (collection)
		return create(r, c);
	if (strcmp(m, "HEAD") == 0)
		return head(r, c, id);
	if (strcmp(m, "PATCH") == 0)
		return patch(r, c, id);
	return terminate(r, c, id);
}
