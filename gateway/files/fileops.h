/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/fileops.h - the file operations every protocol shares (the
 * REST handlers in rest/, WebDAV in dav/): one implementation of
 * authentication plus upload-temporary cleanup, errors, downloads, uploads
 * and deletes. The rules that protect data (nothing deleted before the new
 * content is in place, links never followed, reserved names, temporaries
 * never reachable) are enforced below, by the sandbox's worker
 * (sandbox/worker/smb.c, rules.c), which every interface reaches: these
 * calls and the FUSE mount alike.
 *
 * Every handler here answers the request (or returns MHD_NO); the session
 * arguments are borrowed from r->session (gw_fs_authenticate()).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "http/path.h"

/* The worker client of a session (borrowed). */
struct sbxc *gw_fs_client(struct gw_session *s);

/* gw_authenticate(), then the removal of what that user's dead sandboxes left
 * (upload temporaries). NULL after queuing the error answer. */
struct gw_session *gw_fs_authenticate(struct gw_req *r, struct MHD_Connection *c, size_t server);

/* The index in the configuration of the server named @name, or SIZE_MAX
 * after queuing a 404 (not_found, "no such server"). */
size_t gw_fs_server(struct gw_req *r, struct MHD_Connection *c, const char *name);

/* gw_fs_server(), then gw_fs_authenticate() for that server. NULL after
 * queuing the error answer; else *@srv (when @srv is not NULL) is the
 * server's configuration (borrowed from r->gw->cfg). */
struct cfg_server;
struct gw_session *gw_fs_authenticate_named(struct gw_req *r, struct MHD_Connection *c,
					    const char *name, const struct cfg_server **srv);

/* Answers a failed worker call (a proto_err, or < 0: the sandbox is gone and
 * its session ends). */
enum MHD_Result gw_fs_failed(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			     int err);

/* 400 bad_path, or 414 for -ENAMETOOLONG, for a gw_path_parse() failure. */
enum MHD_Result gw_fs_bad_path(struct gw_req *r, struct MHD_Connection *c, int err);

/* GET/HEAD of a file whose stat is @st: Range, conditionals, ETag, streaming. */
enum MHD_Result gw_fs_get_file(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			       const struct gw_path *p, const struct proto_stat *st);

/*
 * PUT, streamed and atomic: gw_fs_put_start() at the headers (authenticates
 * for @server, checks Content-Length, max_upload_size and If-None-Match: *,
 * starts the worker's WRITE into r->upload); then gw_fs_put_data() for each
 * body chunk and once more at the end (*@size 0), which answers 201/204.
 * With r->dav, a missing folder of the target answers 409.
 */
enum MHD_Result gw_fs_put_start(struct gw_req *r, struct MHD_Connection *c, size_t server,
				const struct gw_path *p);
enum MHD_Result gw_fs_put_data(struct gw_req *r, struct MHD_Connection *c, const char *data,
			       size_t *size);

/* DELETE of a file, or of a folder (with its content when @recursive): 204. */
enum MHD_Result gw_fs_delete(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			     const struct gw_path *p, bool recursive);

/* A log line about the upload temporary @tmp beside @path. */
void gw_log_tmp(struct gw *gw, const char *user, size_t server, const char *share, const char *path,
		const char *tmp, const char *what, const char *after);

/* Logs and frees a list of upload temporaries (orphans.h) that will not be
 * removed, saying @why: they stay on the file server. NULL is allowed. */
struct gw_orphan;
void gw_orphans_log_dropped(struct gw *gw, struct gw_orphan *list, const char *why);
/* Records an upload temporary that may be left on the file server as an
 * orphan (orphans.h), with its journal entry @jid, and logs it after @what. */
void gw_orphans_record(struct gw *gw, const char *user, size_t server, const char *share,
		       const char *path, const char *tmp, uint64_t jid, const char *what);
