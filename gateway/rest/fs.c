/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/rest/fs.c - the file API: one uniform tree
 *   /api/v1/fs/                         the configured servers
 *   /api/v1/fs/{server}/                the shares this user may see
 *   /api/v1/fs/{server}/{share}/{path}  folders (JSON) and files (bytes)
 * GET/HEAD read, PUT uploads, POST {"op": mkdir|move|copy}, DELETE; the
 * operations themselves are files/'s (fileops.h).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "client.h"
#include "files/fileops.h"
#include "files/listing.h"
#include "http/body.h"
#include "http/path.h"
#include "http/reply.h"
#include "proto.h"
#include "rest/rest.h"

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static bool arg_true(struct MHD_Connection *c, const char *name)
{
	const char *v = arg(c, name);
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

/* ---- listings ---- */

static enum MHD_Result list_servers(struct gw_req *r, struct MHD_Connection *c)
{
	struct gw_session *s = gw_fs_authenticate(r, c, SIZE_MAX);
	if (!s)
		return MHD_YES;
	json_t *entries = json_array();
	for (size_t i = 0; i < r->gw->cfg->n_servers; i++)
		json_array_append_new(
		    entries,
		    json_pack("{s:s,s:s}", "name", r->gw->cfg->servers[i].name, "type", "server"));
	return gw_reply_json(r, c, MHD_HTTP_OK,
			     json_pack("{s:s,s:o}", "path", "/", "entries", entries));
}

static enum MHD_Result list_shares(struct gw_req *r, struct MHD_Connection *c, size_t server,
				   const struct gw_path *p)
{
	struct gw_session *session = gw_fs_authenticate(r, c, server);
	if (!session)
		return MHD_YES;
	struct gw_listing k = {.entries = json_array(), .shares = true};
	int err = sbxc_shares(gw_fs_client(session), gw_listing_entry, &k);
	if (err) {
		json_decref(k.entries);
		return gw_fs_failed(r, c, session, err);
	}
	char path[CFG_MAX_NAME + 3];
	snprintf(path, sizeof(path), "/%s/", p->server);
	return gw_reply_json(r, c, MHD_HTTP_OK, gw_listing_answer(path, k.entries, 0));
}

static enum MHD_Result list_dir(struct gw_req *r, struct MHD_Connection *c,
				struct gw_session *session, const struct gw_path *p)
{
	struct gw_listing k = {.entries = json_array()};
	unsigned skipped = 0;
	int err = sbxc_list_skipped(gw_fs_client(session), p->share, p->path, gw_listing_entry, &k,
				    &skipped);
	if (err) {
		json_decref(k.entries);
		if (err == PROTO_E_NOT_DIR && p->trailing_slash) {
			return gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
					      "this is a file, not a folder");
		}
		return gw_fs_failed(r, c, session, err);
	}
	size_t n = strlen(p->server) + strlen(p->share) + strlen(p->path) + 4;
	char *path = malloc(n);
	if (!path) {
		json_decref(k.entries);
		return MHD_NO;
	}
	snprintf(path, n, "/%s/%s%s%s", p->server, p->share, *p->path ? "/" : "", p->path);
	json_t *body = gw_listing_answer(path, k.entries, skipped);
	free(path);
	return gw_reply_json(r, c, MHD_HTTP_OK, body);
}

static enum MHD_Result get_path(struct gw_req *r, struct MHD_Connection *c,
				struct gw_session *session, const struct gw_path *p)
{
	struct proto_stat st = {0};
	int err;

	const char *dl = arg(c, "download");
	if (dl && strcmp(dl, "zip") == 0)
		return gw_zip_folder(r, c, session, p);
	/* A trailing slash says "folder": one round trip, no stat first. */
	if (p->trailing_slash || !*p->path)
		return list_dir(r, c, session, p);
	err = sbxc_stat(gw_fs_client(session), p->share, p->path, &st);

	if (err)
		return gw_fs_failed(r, c, session, err);
	if (st.ftype == PROTO_FT_DIR)
		return list_dir(r, c, session, p);
	return gw_fs_get_file(r, c, session, p, &st);
}

static enum MHD_Result post_op(struct gw_req *r, struct MHD_Connection *c,
			       struct gw_session *session, const struct gw_path *p)
{
	struct body_op b;
	int err = body_op_decode(r->body, r->body ? r->body_len : 0, &b);

	switch (err) {
	case 0:
		break;
	case -ENOMEM:
		return MHD_NO;
	case -EBADMSG:
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "expected a JSON object {\"op\": ...}");
	case -EINVAL:
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "expected {\"op\": \"mkdir\"|\"move\"|\"copy\", \"to\"?: "
				      "\"/path\", \"overwrite\"?: bool}");
	case -EILSEQ:
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_path",
				      "\"to\" must be a path in the same share, like "
				      "\"/folder/name\"");
	default:
		return gw_reply_error(
		    r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "unknown op, or wrong fields for it: mkdir takes none; move and "
		    "copy take \"to\" and \"overwrite\"");
	}
	if (b.op == BODY_OP_MKDIR) {
		err = sbxc_mkdir(gw_fs_client(session), p->share, p->path);
		if (err)
			return gw_fs_failed(r, c, session, err);
		return gw_reply_empty(r, c, MHD_HTTP_CREATED);
	}
	uint32_t flags = b.overwrite ? PROTO_F_OVERWRITE : 0, created = 0;
	err = b.op == BODY_OP_MOVE
		  ? sbxc_rename(gw_fs_client(session), p->share, p->path, b.to, flags, &created)
		  : sbxc_copy(gw_fs_client(session), p->share, p->path, b.to, flags, &created);
	body_op_clear(&b);
	if (err)
		return gw_fs_failed(r, c, session, err);
	return gw_reply_empty(r, c, created ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT);
}

/* [gateway] audit: which file operation this request is (http/request.h). */
static void audit_op(struct gw_req *r, const struct gw_path *p)
{
	const char *m = r->method;
	const char *op = "read";
	char post[16];
	char *to = NULL;

	if (!r->gw->cfg->audit)
		return;
	if (strcmp(m, "PUT") == 0)
		op = "upload";
	else if (strcmp(m, "DELETE") == 0)
		op = "delete";
	else if (strcmp(m, "POST") == 0) {
		body_op_peek(r->body, r->body ? r->body_len : 0, post, &to);
		op = *post ? post : "post";
	} else if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
		op = m;
	gw_audit_set(r, op, p->server, p->share, p->path, to);
	free(to);
}

enum MHD_Result gw_api_fs(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			  const char *upload_data, size_t *upload_data_size)
{
	const char *m = r->method;
	bool put = strcmp(m, "PUT") == 0;
	struct gw_path p = {0};
	enum MHD_Result ret;
	int err;

	/* PUT streams (its route row says so); the other methods come here once,
	 * their body (POST's JSON) collected by the router. */
	if (r->upload)
		return gw_fs_put_data(r, c, upload_data, upload_data_size);

	err = gw_path_parse(rest, &p);
	if (err < 0)
		return gw_fs_bad_path(r, c, err);
	bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;

	if (!p.server) {
		ret = get ? list_servers(r, c) : gw_reply_not_allowed(r, c, "GET, HEAD");
		goto out;
	}
	size_t server = gw_fs_server(r, c, p.server);
	if (server == SIZE_MAX) {
		ret = r->responded ? MHD_YES : MHD_NO;
		goto out;
	}
	if (!p.share) {
		ret = get ? list_shares(r, c, server, &p) : gw_reply_not_allowed(r, c, "GET, HEAD");
		goto out;
	}
	audit_op(r, &p);
	if (put) {
		ret = gw_fs_put_start(r, c, server, &p);
		goto out;
	}
	if (!get && strcmp(m, "POST") != 0 && strcmp(m, "DELETE") != 0) {
		ret = gw_reply_not_allowed(r, c, "GET, HEAD, PUT, POST, DELETE");
		goto out;
	}
	if (!get && !*p.path) {
		ret = gw_reply_not_allowed(r, c, "GET, HEAD");
		goto out;
	}
	struct gw_session *session = gw_fs_authenticate(r, c, server);
	if (!session) {
		ret = MHD_YES;
		goto out;
	}
	if (get)
		ret = get_path(r, c, session, &p);
	else if (strcmp(m, "POST") == 0)
		ret = post_op(r, c, session, &p);
	else
		ret = gw_fs_delete(r, c, session, &p, arg_true(c, "recursive"));
out:
	gw_path_clear(&p);
	return ret;
}
