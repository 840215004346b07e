/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/gateway/client.h - the gateway's side of the conversation with one
 * sandboxed worker: requests out, answers in, every answer validated.
 *
 * The worker is untrusted. A short, oversized, unknown, out-of-sequence or
 * unexpected answer, an fd where none belongs, or no answer in time: the
 * sandbox is killed and this and every later call fail (-EPROTO, -ETIMEDOUT,
 * then -EPIPE). A sandbox that died on its own gives -ECONNRESET.
 *
 * Return values of every call: 0 success; > 0 an enum proto_err the worker
 * answered (the sandbox is fine); < 0 a negative errno (the sandbox is gone).
 *
 * Thread-safe. A worker answers one request at a time, so the client keeps
 * "lanes": the first is the worker the sandbox started; before a download or
 * upload takes the last idle lane, the worker is asked to fork a copy with
 * its own SMB connections (PROTO_LANE), up to SBXC_MAX_LANES, so that
 * listings go on while files move. A call takes an idle lane, or waits for
 * one; a READ or WRITE keeps its lane from _begin() to _end().
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "proto.h"
#include "spawn.h"

struct sbxc;
struct sbxc_lane;

#define SBXC_MAX_LANES 4

/*
 * Takes ownership of @b, waits for the worker's HELLO. @timeout_s bounds
 * every wait for an answer. Returns 0 and *@ret (caller frees with
 * sbxc_free(), which kills the sandbox), or a negative errno (and @b is freed).
 */
int sbxc_new(struct sbx *b, unsigned timeout_s, struct sbxc **ret);
void sbxc_free(struct sbxc *c);

/* The sandbox (not owned by the caller). */
struct sbx *sbxc_sbx(struct sbxc *c);

/* Whether the sandbox was killed or died: every call would fail. */
int sbxc_dead(struct sbxc *c);

/* How many lanes (worker processes) the session has. */
unsigned sbxc_lanes(struct sbxc *c);

/* Logs in: the worker connects to @srv through the pinhole. @password is
 * only read (the caller wipes it); the message that carried it is wiped.
 * @share (NULL or "": none): the share to check the credentials on, whose
 * connection then serves the first requests there (one connection to the
 * server instead of two); a share the server does not have does not fail
 * the login, one refused to the user gives PROTO_E_AUTH (libsmbclient
 * cannot tell it from a wrong password). */
int sbxc_auth(struct sbxc *c, const struct cfg_server *srv, const char *domain, const char *user,
	      const char *password, const char *share);

/* The share of the session's last successful listing or stat ("": none yet),
 * into @out. */
void sbxc_last_share(struct sbxc *c, char out[PROTO_MAX_NAME + 1]);

/* Whether @password is the one this sandbox logged in with (HTTP Basic
 * requests reuse a sandbox): 0, or PROTO_E_AUTH. */
int sbxc_check(struct sbxc *c, const char *password);

/* Called per entry; a non-zero return stops reading the answer (the rest is
 * still drained and validated) and is what the listing call returns. */
typedef int (*sbxc_entry_cb)(void *ud, const struct proto_entry_rec *rec, const char *name,
			     const char *comment);

int sbxc_shares(struct sbxc *c, sbxc_entry_cb cb, void *ud);
int sbxc_list(struct sbxc *c, const char *share, const char *path, sbxc_entry_cb cb, void *ud);
/* The same; on 0, *@ret_skipped (when not NULL) gets how many entries the
 * worker left out (names it cannot pass on; at most PROTO_MAX_LIST_ENTRIES). */
int sbxc_list_skipped(struct sbxc *c, const char *share, const char *path, sbxc_entry_cb cb,
		      void *ud, unsigned *ret_skipped);
int sbxc_stat(struct sbxc *c, const char *share, const char *path, struct proto_stat *ret);

/*
 * The bytes of a download, zip or upload go through a pipe whose end here is
 * non-blocking: read and write it with these, never with read()/write(). A
 * worker that sends or takes nothing for the session's timeout (the server's
 * + 5 s) is hung: the sandbox is killed and they return -ETIMEDOUT.
 * sbxc_stream_read(): bytes read (0 at the end), or a negative errno.
 * sbxc_stream_write(): 0 once all @len bytes are written, or a negative errno
 * (-EPIPE: the worker closed its end; it says why in the lane's END).
 */
ssize_t sbxc_stream_read(struct sbxc_lane *l, int fd, void *buf, size_t max);
int sbxc_stream_write(struct sbxc_lane *l, int fd, const void *buf, size_t len);
/* As sbxc_stream_write(), for an upload of unknown size (PROTO_WRITE_UNKNOWN):
 * @len bytes as frames; @len 0 writes the end frame, after which only closing
 * @fd is left. Closing @fd without it aborts the upload. */
int sbxc_stream_write_frame(struct sbxc_lane *l, int fd, const void *buf, size_t len);

/*
 * Download: on 0, *@ret_fd is the read end of a pipe (caller closes it) that
 * carries *@ret_ok .length bytes then EOF, and *@ret_lane the lane it holds;
 * read the pipe to the end (or close it early to abort), then call
 * sbxc_read_end() with that lane, exactly once. On any other return nothing
 * is left to do.
 */
int sbxc_read_begin(struct sbxc *c, const char *share, const char *path, uint64_t offset,
		    uint64_t length, struct proto_read_ok *ret_ok, int *ret_fd,
		    struct sbxc_lane **ret_lane);
int sbxc_read_end(struct sbxc_lane *l, uint64_t *ret_bytes);

/*
 * Upload: on 0, *@ret_fd is the write end of a pipe (caller closes it) and
 * *@ret_lane the lane it holds: write @size bytes (PROTO_WRITE_UNKNOWN:
 * unknown, then with sbxc_stream_write_frame(), the end frame last) and
 * close it, then call sbxc_write_end() with that lane, exactly once. Closing
 * early aborts the upload (the worker removes its temporary file).
 *
 * @ret_tmp gets the name of the temporary file the worker writes beside
 * @path (random, chosen here; NUL-terminated). Should sbxc_write_end() return
 * a negative errno (the sandbox died or was killed), that file may be left on
 * the server: sbxc_drop_tmp() in another sandbox of the same user removes it.
 */
int sbxc_write_begin(struct sbxc *c, const char *share, const char *path, uint32_t flags,
		     uint64_t size, char ret_tmp[PROTO_TMP_NAME_LEN + 1], int *ret_fd,
		     struct sbxc_lane **ret_lane);
int sbxc_write_end(struct sbxc_lane *l, uint32_t *ret_created, uint64_t *ret_bytes);

/*
 * Starts the FUSE server of the sandbox's /shares/SERVER when it does not run
 * yet ([sandbox] mounts = on-demand), through the first worker. Returns 0
 * (also when it runs already), PROTO_E_NOT_FOUND (the sandbox has no mount),
 * another proto_err, or a negative errno (the sandbox is gone).
 */
int sbxc_mount(struct sbxc *c);

/* Removes the temporary @tmp (from sbxc_write_begin()) of an upload to @path
 * whose sandbox died: 0, PROTO_E_NOT_FOUND when it is not there, another
 * proto_err, or a negative errno (-EINVAL: @tmp is not such a name). */
int sbxc_drop_tmp(struct sbxc *c, const char *share, const char *path, const char *tmp);

int sbxc_mkdir(struct sbxc *c, const char *share, const char *path);
/* The share's size and free space in bytes (WebDAV quota); *@ret_avail <= *@ret_total. */
int sbxc_statvfs(struct sbxc *c, const char *share, uint64_t *ret_total, uint64_t *ret_avail);
/* Sets @path's modification and access times (seconds, UTC). */
int sbxc_utimes(struct sbxc *c, const char *share, const char *path, int64_t mtime, int64_t atime);
/* 0 when the folder @path is where it seems, PROTO_E_LINK when it is a link
 * that the server followed (the worker's rule, smb_followed_link()), or why
 * it could not be told. */
int sbxc_followed(struct sbxc *c, const char *share, const char *path);
/* 0 when the user may write @path (a file) or create in it (a folder, "" for
 * the share's root), as the file server tells it (smb_writable()); else
 * PROTO_E_ACCESS, PROTO_E_NOT_FOUND..., or a negative errno. */
int sbxc_writable(struct sbxc *c, const char *share, const char *path);
/* ASIDE: @op (PROTO_ASIDE_PUT, _DROP, _BACK) on @path and its temporary
 * @tmp (sbxc_tmp_name()) beside it (smb_aside()): 0, a proto_err, or a
 * negative errno (-EINVAL: @tmp is not such a name, or a bad @op). */
int sbxc_aside(struct sbxc *c, const char *share, const char *path, const char *tmp, uint32_t op);
int sbxc_rename(struct sbxc *c, const char *share, const char *from, const char *to, uint32_t flags,
		uint32_t *ret_created);
int sbxc_copy(struct sbxc *c, const char *share, const char *from, const char *to, uint32_t flags,
	      uint32_t *ret_created);
int sbxc_unlink(struct sbxc *c, const char *share, const char *path);
int sbxc_rmdir(struct sbxc *c, const char *share, const char *path, uint32_t flags);

/* A fresh random name for an upload's temporary (proto_tmp_name_valid()):
 * 0 or a negative errno. */
int sbxc_tmp_name(char out[PROTO_TMP_NAME_LEN + 1]);

/*
 * Zip archive of @folder's entries @names ('\n'-separated; "" for all): on 0,
 * the walk is done (*@ret_ok: its totals, within @req's limits), *@ret_fd is
 * the read end of the pipe that carries the archive then EOF (caller closes
 * it), and *@ret_lane the lane; then sbxc_zip_end() exactly once (*@ret_bytes:
 * archive bytes, *@ret_errors: entries of smbgate-errors.txt). Errors of the
 * walk (limits: PROTO_E_TOO_BIG, PROTO_E_TOO_DEEP) come from _begin().
 */
int sbxc_zip_begin(struct sbxc *c, const char *share, const char *folder, const char *names,
		   const struct proto_zip *req, struct proto_zip_ok *ret_ok, int *ret_fd,
		   struct sbxc_lane **ret_lane);
int sbxc_zip_end(struct sbxc_lane *l, uint64_t *ret_bytes, uint32_t *ret_errors);

/*
 * Search: on 0, *@ret_lane is busy with it; call sbxc_search_next() until it
 * gives something else than a result: 0 with *@ret_found for one result
 * (*@ret_rec, @ret_path relative to @folder); 0 without it for the end
 * (*@ret_end: bytes = results, skipped = folders not searched, created =
 * PROTO_SEARCH_STOPPED and PROTO_SEARCH_TOO_DEEP); a proto_err or a negative errno. The lane is
 * given back then. Results must all be read (drained) to the end.
 */
int sbxc_search_begin(struct sbxc *c, const char *share, const char *folder, const char *pattern,
		      const struct proto_search *req, struct sbxc_lane **ret_lane);
int sbxc_search_next(struct sbxc_lane *l, bool *ret_found, struct proto_entry_rec *ret_rec,
		     char ret_path[PROTO_MAX_PATH + 1], struct proto_end *ret_end);

/* Resumable uploads: the temporary @tmp beside @path (see proto.h, TUS_*). */
int sbxc_tus_create(struct sbxc *c, const char *share, const char *path, const char *tmp,
		    uint32_t flags);
int sbxc_tus_info(struct sbxc *c, const char *share, const char *path, const char *tmp,
		  uint64_t *ret_size);
/* As sbxc_write_begin(): write the bytes into *@ret_fd, close it, then
 * sbxc_tus_append_end() once: *@ret_size the temporary's size after (also
 * after a short body), *@ret_created when the target was created; the
 * upload is complete when *@ret_size == @length. */
int sbxc_tus_append_begin(struct sbxc *c, const char *share, const char *path, const char *tmp,
			  uint64_t offset, uint64_t length, uint32_t flags, int *ret_fd,
			  struct sbxc_lane **ret_lane);
int sbxc_tus_append_end(struct sbxc_lane *l, uint64_t *ret_size, uint32_t *ret_created);
