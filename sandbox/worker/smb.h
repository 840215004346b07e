/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/smb.h - the file operations of the worker, on one libsmbclient
 * context. Only worker/smb.c and the FUSE server (fuse/fusefs.c, which works
 * on the context of smb_ctx()) include libsmbclient.h.
 *
 * Paths are relative to a share: segments separated by '/', no leading or
 * trailing slash, "" for the share's root; every segment must pass
 * proto_name_valid(). Every function returns 0 or a positive enum proto_err.
 * Single-threaded, like libsmbclient.
 *
 * Runs in: the worker (and its lanes), inside the sandbox.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct smb;

struct smb_params {
	const char *server;		     /* the name (or address) to connect to */
	uint32_t min_protocol, max_protocol; /* enum cfg_protocol */
	uint32_t encryption;		     /* enum cfg_encryption */
	uint32_t timeout;		     /* seconds */
	int show_hidden;		     /* list "name$" shares */
};

/*
 * Readies a libsmbclient context ahead of smb_open() (the library's own
 * start-up: its configuration, modules, interfaces: a few ms), before any
 * credentials exist. Optional; on failure smb_open() makes its own.
 */
void smb_warm(void);

/*
 * Creates the context (or takes smb_warm()'s) and checks the credentials with a session setup
 * (see smb_new() in smb.c): on the share @share when one is given (NULL or "": none), whose
 * connection then stays for the first requests there. A share the server does not have does not
 * fail the login; one refused to the user gives PROTO_E_AUTH (libsmbclient reports it as it
 * reports a wrong password). The context keeps one copy of the credentials for libsmbclient's
 * auth callback (wiped by smb_free()); the caller wipes its own. Returns 0 and *@ret (caller
 * frees with smb_free()), or PROTO_E_AUTH, PROTO_E_UNREACHABLE, PROTO_E_TIMEOUT...
 */
int smb_open(const struct smb_params *p, const char *domain, const char *user, const char *password,
	     const char *share, struct smb **ret);
void smb_free(struct smb *s);

/* A new context with the same server and credentials (its own connections),
 * not checked again. Returns 0 and *@ret (free with smb_free()), or a proto_err. */
int smb_clone(const struct smb *s, struct smb **ret);

/* Whether @password is the one smb_open() was given (constant time): 0 or PROTO_E_AUTH. */
int smb_check_password(const struct smb *s, const char *password);

/* Called once per entry (@comment: a share's, else NULL); a non-zero return
 * stops the listing and is returned. */
typedef int (*smb_entry_cb)(void *ud, const struct proto_entry_rec *rec, const char *name,
			    const char *comment);

/* The server's disk shares (no IPC$, printers; "name$" only with show_hidden). */
int smb_shares(struct smb *s, smb_entry_cb cb, void *ud);

int smb_stat(struct smb *s, const char *share, const char *path, struct proto_stat *ret);

/* One pass (readdirplus); skips "." and "..", and names that are not valid
 * UTF-8 or hold '/', '\\' or control characters (counted in *@skipped).
 * PROTO_E_BAD_ENTRY when libsmbclient cannot read a name of the folder: it
 * then lists nothing at all (see opendir_err() in smb.c). */
int smb_list(struct smb *s, const char *share, const char *path, smb_entry_cb cb, void *ud,
	     unsigned *skipped);

/*
 * Streams @length bytes (UINT64_MAX: to the end) from @offset of a file into
 * @fd (blocking writes). @started is called once, after the file is opened and
 * before any byte is written, with its stat and the byte count that follows;
 * when it returns non-zero, nothing is written and that is returned.
 * *@written gets the bytes written.
 */
int smb_read(struct smb *s, const char *share, const char *path, uint64_t offset, uint64_t length,
	     int fd, int (*started)(void *ud, const struct proto_stat *st, uint64_t length),
	     void *ud, uint64_t *written);

/*
 * Writes the bytes read from @fd until EOF into the temporary file @tmp (a
 * name proto_tmp_name_valid() accepts, chosen by the gateway) beside @path,
 * then renames it over @path. @size: the bytes expected (PROTO_WRITE_UNKNOWN:
 * unknown, the pipe then carries frames, proto.h); EOF before that (or before
 * the end frame), a read error, or a server error removes the
 * temporary and leaves @path as it was. Without PROTO_F_OVERWRITE an existing
 * @path gives PROTO_E_EXISTS. *@created: 1 when @path did not exist.
 *
 * Names: every function here that makes a new name (smb_write(), smb_mkdir(),
 * the target of smb_rename() and smb_copy(), smb_tus_create() and the rename
 * of smb_tus_append()) refuses one that proto_name_creatable() refuses with
 * PROTO_E_RESERVED_NAME, checked after the target is found not to exist: an
 * existing such file is still replaced, read, renamed and deleted.
 */
int smb_write(struct smb *s, const char *share, const char *path, const char *tmp, uint32_t flags,
	      int fd, uint64_t size, uint32_t *created, uint64_t *written);

/* Removes the temporary @tmp that smb_write() of @path left when its worker
 * died. 0, PROTO_E_NOT_FOUND when there is none, PROTO_E_BAD_NAME for a @tmp
 * proto_tmp_name_valid() refuses, or another proto_err. */
int smb_drop_tmp(struct smb *s, const char *share, const char *path, const char *tmp);

int smb_mkdir(struct smb *s, const char *share, const char *path);

/*
 * ASIDE (proto.h): @op PROTO_ASIDE_PUT renames @path (a file or a folder, not
 * the share's root) to the temporary @tmp (proto_tmp_name_valid(), chosen by
 * the gateway) beside it; PROTO_ASIDE_DROP removes that temporary (a folder
 * with its content, never through a link: PROTO_E_LINK, nothing removed);
 * PROTO_ASIDE_BACK removes what is at @path now, likewise, and renames the
 * temporary back to @path. So what replaces @path one request at a time
 * deletes nothing before it is in place. 0 or a proto_err (PROTO_E_NOT_FOUND:
 * no @path to put aside, or no temporary; PROTO_E_EXISTS: the temporary
 * exists already).
 */
int smb_aside(struct smb *s, const char *share, const char *path, const char *tmp, uint32_t op);

/* The size and free space of @share in bytes, as the server reports them
 * (WebDAV's quota properties). */
int smb_statvfs(struct smb *s, const char *share, uint64_t *ret_total, uint64_t *ret_avail);

/* Sets the modification and access times of @path (seconds, UTC). */
int smb_utimes(struct smb *s, const char *share, const char *path, int64_t mtime, int64_t atime);

/*
 * Whether the user may write @path, as the server tells it (a WebDAV LOCK
 * needs that): a file is opened for writing (not truncated, not created) and
 * closed; a folder (the share's root too) gets an empty temporary created in
 * it (SMB_TMP_PREFIX "probe-", never listed nor reachable) and removed.
 * 0, PROTO_E_ACCESS (a read-only share, a file or folder the user may not
 * write), PROTO_E_NOT_FOUND (no such file, folder or share)...
 */
int smb_writable(struct smb *s, const char *share, const char *path);

/*
 * Rename/move within the share: the one place where a move replaces what is
 * there (REST, WebDAV and the FUSE mount call it). Nothing is deleted before
 * @from is in place: an existing @to (file or folder, with PROTO_F_OVERWRITE;
 * else PROTO_E_EXISTS) goes aside under a temporary name, @from takes its
 * place, then the aside is removed; a failed step puts everything back. The
 * same file in another spelling (a case-only rename): renamed, *@created 1.
 * A @to that is inside the folder @from or holds @from, in any spelling:
 * PROTO_E_OVERLAP, nothing changed. @from == @to: 0, nothing done.
 */
int smb_rename(struct smb *s, const char *share, const char *from, const char *to, uint32_t flags,
	       uint32_t *created);

/* Copy a file within the share: server-side when the server supports it,
 * else streamed; through a temporary like smb_write(), which then replaces an
 * existing @to (a folder too, as smb_rename() does) with PROTO_F_OVERWRITE.
 * @to that is @from in another spelling or a folder that holds it:
 * PROTO_E_OVERLAP. */
int smb_copy(struct smb *s, const char *share, const char *from, const char *to, uint32_t flags,
	     uint32_t *created, uint64_t *copied);

int smb_unlink(struct smb *s, const char *share, const char *path);

/*
 * Whether the folder @path of @share is a link to a folder that the server
 * followed (Samba's "follow symlinks = yes" shows such a link as a folder):
 * PROTO_E_LINK, told as smb_rmdir()'s walk tells it (the ".." of its own
 * listing is not the folder it is in, or another entry of that folder has
 * its file id: a link beside its target, and the target too, as nothing
 * tells which of the two is the link); 0 for a real folder (a share's root
 * too); another proto_err when it cannot be told. Two stats, the first
 * entries of a listing, and a listing of the folder it is in (remembered a
 * few seconds while that folder's times stay the same: a walk asks about
 * every folder of a folder in turn).
 */
int smb_followed_link(struct smb *s, const char *share, const char *path);

/* Removes a directory; with PROTO_F_RECURSIVE its content first, never
 * through a link to a folder (PROTO_E_LINK when one cannot be removed;
 * nothing is deleted then; likewise PROTO_E_TOO_DEEP past 64 levels and
 * PROTO_E_TOO_BIG past 100000 entries). */
int smb_rmdir(struct smb *s, const char *share, const char *path, uint32_t flags);

/* Temporary files of uploads and copies start with this; user paths that
 * name one are refused (smb_path_reserved()) and listings leave them out. */
/* The SMB timeout of the last context opened in this process, in ms (0
 * before any): how long the worker's connect() waits for a socket handed
 * over by the gateway (sandbox/worker/handoff.c). */
extern unsigned smb_connect_timeout_ms;

#define SMB_TMP_PREFIX ".~smbgate-"

/* Whether a segment of @path starts with SMB_TMP_PREFIX (in any case). */
bool smb_path_reserved(const char *path);

/*
 * Whether @path of @share names an upload's temporary by the short (8.3)
 * name the server made for it (Samba answers to "_IUUGF~5.TMP" for
 * ".~smbgate-new-….tmp" where "mangled names" is on, its default): then
 * PROTO_E_BAD_NAME, as for the temporary's own name (smb_path_reserved());
 * else 0, or the proto_err of listing a folder of @path. Every segment is
 * looked at (a folder put aside by a MOVE or COPY over a folder is a
 * temporary too, and a path may lead through it). Costs nothing unless a
 * segment could be a short name (a '~', 8.3); then a listing of its folder,
 * and a stat when that folder holds a temporary and the name is no entry's
 * own. Every request of the worker
 * (worker.c's handle()) and every name of the FUSE server passes here.
 */
int smb_tmp_alias(struct smb *s, const char *share, const char *path);

/* Maps an errno from libsmbclient to the stable set. */
int smb_errno_to_proto(int err);

/* The longest URL smb_url() makes, with its NUL. */
#define SMB_URL_MAX (PROTO_MAX_PATH * 3 + PROTO_MAX_NAME * 3 + 300)

/*
 * The smb:// URL of @path in @share, as every function here builds it: each
 * segment checked (proto_name_valid(), no SMB wildcard '*' '?' nor ':', no
 * IPC$) and percent-encoded. Into @buf (@size bytes, SMB_URL_MAX is enough).
 * Returns 0, or PROTO_E_BAD_NAME (a refused name, or too long).
 */
int smb_url(const struct smb *s, const char *share, const char *path, char *buf, size_t size);

/* The libsmbclient context (an SMBCCTX *), owned by @s: for the FUSE server,
 * which calls libsmbclient itself. Valid until smb_free(@s). */
struct _SMBCCTX *smb_ctx(struct smb *s);

/* ---- tree walks (ZIP, SEARCH) ---- */

struct smb_walk_entry {
	const char *path; /* relative to the folder walked, '/'-separated (valid until the
			     callback returns); SMB_WALK_BAD_NAME: the folder holding it */
	uint32_t ftype;	  /* PROTO_FT_FILE or PROTO_FT_DIR */
	uint64_t size;
	int64_t mtime;
	unsigned depth; /* 0: an entry of the folder walked */
};

enum smb_walk_event {
	SMB_WALK_ENTRY,	     /* a file, or a folder (before its content) */
	SMB_WALK_LINK,	     /* a link to a folder: not entered, not reported as an entry */
	SMB_WALK_UNREADABLE, /* a folder that cannot be listed (err says why): not entered */
	SMB_WALK_BAD_NAME,   /* a folder holds a name that cannot be passed on: left out */
};

/* Returned by a callback for a folder's SMB_WALK_ENTRY: do not enter it. */
#define SMB_WALK_PRUNE (-1)

/* Called for each event; returns 0 to go on, SMB_WALK_PRUNE (see above) or a
 * positive proto_err to stop the walk (smb_walk() returns it). @err: the
 * proto_err of LINK, UNREADABLE and BAD_NAME, else 0. */
typedef int (*smb_walk_cb)(void *ud, enum smb_walk_event ev, const struct smb_walk_entry *e,
			   int err);

/*
 * Walks the folder @top of @share depth first, one listing (readdirplus) per
 * folder: its entries (@n_names == 0), or only its entries @names (a
 * selection: each must exist, else its error is returned). Never enters a
 * folder that is a link the server followed (told as smb_rmdir() tells it,
 * see smb_followed_link()) nor one seen before: SMB_WALK_LINK. Temporaries
 * of uploads are left out. Returns 0, a callback's stop value, or the
 * proto_err of @top (or of a selected name).
 */
int smb_walk(struct smb *s, const char *share, const char *top, const char *const *names,
	     size_t n_names, smb_walk_cb cb, void *ud);

/*
 * Reads a whole file: @started once it is open (its stat; *@ret_started then
 * true), then @data per chunk. A non-zero return of either stops and is
 * returned. Returns 0 or a proto_err; when *@ret_started, the error came
 * midway (or from a callback) and fewer than st->size bytes may have gone to
 * @data (also when the file shrank: 0 then).
 */
int smb_read_stream(struct smb *s, const char *share, const char *path,
		    int (*started)(void *ud, const struct proto_stat *st),
		    int (*data)(void *ud, const char *buf, size_t n), void *ud, bool *ret_started);

/* ---- resumable uploads (tus): the temporary @tmp beside @path, kept between requests ---- */

/* Checks @path as smb_write() does (PROTO_E_EXISTS without PROTO_F_OVERWRITE,
 * PROTO_E_IS_DIR) and creates the empty temporary (PROTO_E_EXISTS if it is there). */
int smb_tus_create(struct smb *s, const char *share, const char *path, const char *tmp,
		   uint32_t flags);
/* The temporary's size, or PROTO_E_NOT_FOUND. */
int smb_tus_info(struct smb *s, const char *share, const char *path, const char *tmp,
		 uint64_t *ret_size);
/*
 * Appends the bytes read from @fd until EOF to the temporary, whose size must
 * be @offset (else PROTO_E_OFFSET, and *@ret_size its size); more than
 * @length - @offset bytes: PROTO_E_INVALID. Bytes written stay written
 * whatever happens next (*@ret_size: the temporary's size after). When it
 * holds @length bytes, renames it over @path as smb_write() does (@flags:
 * PROTO_F_OVERWRITE; *@ret_created); a failed rename removes the temporary.
 */
int smb_tus_append(struct smb *s, const char *share, const char *path, const char *tmp,
		   uint64_t offset, uint64_t length, uint32_t flags, int fd, uint64_t *ret_size,
		   uint32_t *ret_created);
