/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/fuse/fusefs.h - the file system of the sandbox's FUSE server
 * process: /shares/{server}/{share}/... served over one libsmbclient context.
 *
 * The mount's root lists the server's disk shares (smb_shares()); it is
 * read-only (EROFS). Below each share is the share's content: files and
 * directories, nothing else. Every name that crosses is checked as the REST
 * API checks it; the kernel caches attributes and names for a short time
 * (fusefs_opts.timeout_ms), file contents not at all (direct I/O), so the
 * REST API and the mount show the same data.
 *
 * Single-threaded (libsmbclient is not thread-safe): fusefs_serve() runs
 * libfuse's single-threaded loop on the caller's thread, with one SMB
 * context, until the file system is unmounted or a signal ends it.
 *
 * What the caller provides:
 *  - @fuse_fd, an open /dev/fuse already mounted: mount(2) with
 *    "fd=N,rootmode=40000,user_id=U,group_id=G" (type "fuse.smbgate",
 *    MS_NOSUID|MS_NODEV), by a process of the same user namespace as the one
 *    that opened /dev/fuse: the kernel refuses (EINVAL) a mount from another
 *    user namespace than the opener's. Every other copy of the fd must be
 *    closed, else a dead server leaves the mount's callers waiting instead
 *    of failing with ENOTCONN.
 *  - an authenticated context this process alone uses (smb_clone() in a
 *    forked copy of the worker; never a context whose connections another
 *    process shares).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct smb;

#define FUSEFS_TIMEOUT_MS  1000		 /* attributes and names, see fusefs.c */
#define FUSEFS_MAX_HANDLES 1024		 /* open files and directories */
#define FUSEFS_MAX_NODES   (128 * 1024)	 /* inodes the kernel may hold */
#define FUSEFS_IO_MAX	   (1024 * 1024) /* max_read and max_write */

struct fusefs_opts {
	uid_t uid; /* owner of every file, as the server process sees it (its user namespace) */
	gid_t gid;
	unsigned timeout_ms;  /* the kernel's attribute and name cache */
	unsigned max_handles; /* over it, open and opendir fail with ENFILE */
	unsigned max_nodes;   /* over it, lookups fail with ENOMEM (listings still work) */
	bool debug;	      /* libfuse's log of every request on stderr */
};

/* The defaults: the calling process's effective uid and gid, the limits above. */
void fusefs_opts_init(struct fusefs_opts *o);

/*
 * Serves the mounted @fuse_fd until the file system is unmounted or its
 * connection aborted (0), or SIGTERM, SIGINT or SIGHUP arrive (0). libfuse
 * catches those three, and makes SIGPIPE harmless, for the duration of the
 * call, but only where their disposition is the default (SIG_DFL) when it
 * starts, and sets them back to SIG_DFL on return; they must not be blocked.
 * A mount's callers wait for the first answer (INIT): a stat() of the mount
 * point that returns means the loop runs and the signals are caught.
 * Returns a negative errno when it cannot start (-EINVAL: bad arguments;
 * -ENOMEM; -EBADF: @fuse_fd is not open) or libfuse reports an error.
 * @smb stays the caller's (borrowed, not freed); @server_name names the server
 * in messages; @opts NULL: fusefs_opts_init()'s. Takes ownership of @fuse_fd:
 * it is closed before the call returns, whatever the outcome.
 */
int fusefs_serve(struct smb *smb, const char *server_name, int fuse_fd,
		 const struct fusefs_opts *opts);
