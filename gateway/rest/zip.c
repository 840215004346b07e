/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/rest/zip.c - folders and selections downloaded as one zip archive:
 *   GET  /api/v1/fs/{server}/{share}/{folder}?download=zip
 *   POST /api/v1/zip/{server}/{share}   {"paths": ["/folder/a", "/folder/b"]}
 * The worker walks the tree (limits first), then writes the archive into a
 * pipe (sandbox/worker/zip.c); this file relays the pipe as a chunked body,
 * exactly as a download: memory stays flat whatever the archive's size.
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
#include "client.h"
#include "files/fileops.h"
#include "http/body.h"
#include "http/httputil.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/request.h"
#include "proto.h"
#include "rest/rest.h"

#define ZIP_BLOCK	(256 * 1024)
#define ZIP_MAX_ENTRIES PROTO_MAX_LIST_ENTRIES /* files and folders of one archive */
#define ZIP_MAX_DEPTH	64		       /* folders below the one archived */

struct zip_stream {
	struct gw *gw;
	struct gw_session *s;
	struct sbxc_lane *lane;
	int fd;
	bool ended; /* sbxc_zip_end() called */
};

static int stream_end(struct zip_stream *z)
{
	uint64_t bytes = 0;
	uint32_t errors = 0;

	z->ended = true;
	int err = sbxc_zip_end(z->lane, &bytes, &errors);
	if (err < 0)
		gw_session_failed(z->gw, z->s);
	return err;
}

static ssize_t zip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct zip_stream *z = cls;
	(void)pos;

	ssize_t n = sbxc_stream_read(z->lane, z->fd, buf, max);
	if (n > 0)
		return n;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	/* EOF: complete only when the worker says so (else the client sees a
	 * cut chunked body, never a truncated archive as whole). */
	return stream_end(z) == 0 ? MHD_CONTENT_READER_END_OF_STREAM
				  : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void zip_free(void *cls)
{
	struct zip_stream *z = cls;

	close(z->fd); /* an aborted download: the worker stops on EPIPE */
	if (!z->ended)
		stream_end(z);
	gw_session_put(z->s);
	free(z);
}

static unsigned arg_limit(struct MHD_Connection *c, const char *name, unsigned max)
{
	return gw_query_num(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name), max, max);
}

static bool arg_is(struct MHD_Connection *c, const char *name, const char *want)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v && strcmp(v, want) == 0;
}

/*
 * Streams the archive of @folder's @names ('\n'-separated, "" for all) of
 * @share, named @filename for the client.
 */
static enum MHD_Result zip_reply(struct gw_req *r, struct MHD_Connection *c,
				 struct gw_session *session, const char *share, const char *folder,
				 const char *names, const char *filename)
{
	struct proto_zip req = {
	    .flags = (arg_is(c, "compress", "1") ? PROTO_ZIP_DEFLATE : 0) |
		     (arg_is(c, "zip64", "1") ? PROTO_ZIP_ZIP64 : 0),
	    .max_entries = arg_limit(c, "max_entries", ZIP_MAX_ENTRIES),
	    .max_depth = arg_limit(c, "max_depth", ZIP_MAX_DEPTH),
	};
	struct proto_zip_ok ok;
	struct sbxc_lane *lane;
	int fd;

	if (!req.max_entries || !req.max_depth)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "max_entries must be 1..%u and max_depth 1..%u",
				      ZIP_MAX_ENTRIES, ZIP_MAX_DEPTH);
	int err =
	    sbxc_zip_begin(gw_fs_client(session), share, folder, names, &req, &ok, &fd, &lane);
	if (err == PROTO_E_TOO_BIG)
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_many_entries",
				      "the archive would hold more than %u files and folders",
				      req.max_entries);
	if (err == PROTO_E_TOO_DEEP)
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_deep",
				      "the folders go more than %u levels down", req.max_depth);
	if (err == PROTO_E_INVALID)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "a path is given twice");
	if (err)
		return gw_fs_failed(r, c, session, err);
	struct zip_stream *z = calloc(1, sizeof(*z));
	if (!z) {
		close(fd);
		sbxc_zip_end(lane, NULL, NULL);
		return MHD_NO;
	}
	*z =
	    (struct zip_stream){.gw = r->gw, .s = gw_session_hold(session), .lane = lane, .fd = fd};
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, ZIP_BLOCK, zip_read, z, zip_free);
	if (!resp) {
		zip_free(z);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zip");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
	char *cd = gw_content_disposition(filename);
	if (cd) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
		free(cd);
	}
	char n[32];
	snprintf(n, sizeof(n), "%u", ok.entries);
	MHD_add_response_header(resp, "X-Archive-Entries", n);
	return gw_queue(r, c, MHD_HTTP_OK, resp);
}

/* "name.zip" in @buf. */
static const char *zip_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s.zip", name);
	return buf;
}

enum MHD_Result gw_zip_folder(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			      const struct gw_path *p)
{
	char fname[PROTO_MAX_NAME + 8];

	if (strcmp(r->method, "GET") != 0)
		return gw_reply_not_allowed(r, c, "GET");
	if (!*p->path) /* the share's root: its content, named after the share */
		return zip_reply(r, c, s, p->share, "", "",
				 zip_name(fname, sizeof(fname), p->share));
	const char *slash = strrchr(p->path, '/');
	const char *name = slash ? slash + 1 : p->path;
	char folder[PROTO_MAX_PATH + 1];
	snprintf(folder, sizeof(folder), "%.*s", slash ? (int)(slash - p->path) : 0, p->path);
	/* A file is not a folder: the walk would archive it alone; say so instead. */
	struct proto_stat st;
	int err = sbxc_stat(gw_fs_client(s), p->share, p->path, &st);
	if (err)
		return gw_fs_failed(r, c, s, err);
	if (st.ftype != PROTO_FT_DIR)
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "not_a_directory",
				      "?download=zip takes a folder; download a file as it is");
	return zip_reply(r, c, s, p->share, folder, name, zip_name(fname, sizeof(fname), name));
}

/* POST /api/v1/zip/{server}/{share} {"paths": [...]}: one folder's entries. */
enum MHD_Result gw_api_zip(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size)
{
	struct gw_path p = {0};
	struct body_zip z = {0};
	enum MHD_Result ret;
	(void)upload_data;
	(void)upload_data_size;

	int perr = gw_path_parse(*rest ? rest : "/", &p);
	if (perr < 0 || !p.share || *p.path) {
		ret = gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				     "use POST /api/v1/zip/{server}/{share}");
		goto out;
	}
	struct gw_session *s = gw_fs_authenticate_named(r, c, p.server, NULL);
	if (!s) {
		ret = r->responded ? MHD_YES : MHD_NO;
		goto out;
	}
	switch (body_zip_decode(r->body, r->body ? r->body_len : 0, PROTO_ZIP_MAX_NAMES, &z)) {
	case 0:
		break;
	case -ENOMEM:
		ret = MHD_NO;
		goto out;
	case -EILSEQ:
		ret = gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_path",
				     "each path must be a file or folder in the share, "
				     "like \"/folder/name\"");
		goto out;
	case -EXDEV:
		ret = gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "every path of a selection must be in the same folder");
		goto out;
	case -E2BIG:
		ret = gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				     "the selection's names are too long");
		goto out;
	default:
		ret = gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "expected {\"paths\": [\"/folder/name\", ...]} (1..%d paths "
				     "of one folder)",
				     BODY_ZIP_MAX_PATHS);
		goto out;
	}
	const char *folder = z.folder;
	char fname[PROTO_MAX_NAME + 8];
	const char *fslash = strrchr(folder, '/');
	ret = zip_reply(
	    r, c, s, p.share, folder, z.names,
	    zip_name(fname, sizeof(fname), *folder ? (fslash ? fslash + 1 : folder) : p.share));
out:
	body_zip_clear(&z);
	gw_path_clear(&p);
	return ret;
}
