/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/store/linefile.h - a small state file of JSON lines that must
 * survive the gateway's restart: the journal of upload temporaries
 * (files/journal.c) and the WebDAV locks (dav/davlock.c).
 *
 * The file is opened once (created mode 0600, never through a link, a
 * regular file only) and held with an exclusive flock(), so that a second
 * gateway cannot share it; each change is one line appended with one
 * write(); the owner rewrites it whole (gw_linefile_rewrite(): a new file
 * renamed over it) when the lines it no longer needs outweigh the others.
 * Nothing is fsync()ed: the file is for a gateway that dies, not for a
 * machine that loses power. What the lines mean, and when to rewrite, is the
 * caller's; this module keeps no state and prints nothing.
 *
 * Runs in: the gateway process (the callers' locks serialize the calls).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Opens (or creates) the file at @path for appending, locks it and reads it
 * whole: *@ret_buf, NUL-terminated, @ret_len bytes (caller frees; NULL and 0
 * when the file is over @max_read bytes: it is then started anew). Returns 0
 * and the fd in *@ret_fd, -EWOULDBLOCK when another process holds it,
 * -EINVAL when it is not a regular file, -ENOMEM, or the negative errno of
 * open/fchmod/read; nothing is left open on failure.
 */
int gw_linefile_open(const char *path, size_t max_read, int *ret_fd, char **ret_buf,
		     size_t *ret_len);

/* Writes all of @buf to @fd (EINTR retried). Returns 0 or a negative errno. */
int gw_linefile_write(int fd, const char *buf, size_t len);

/* @o as one line, newline included; consumes @o (NULL allowed). Returns a new
 * string (caller frees) and its length in *@ret_len, or NULL (ENOMEM). */
char *gw_linefile_json(json_t *o, size_t *ret_len);

/* Called by gw_linefile_each() with each non-empty line's object, NULL for a
 * line that is not JSON (the object is borrowed); a negative return stops. */
typedef int (*gw_linefile_line_fn)(void *arg, json_t *o);

/* Parses the @len bytes of @buf line by line (duplicate keys refused) and
 * calls @fn with each. Returns 0, or the first negative return of @fn. */
int gw_linefile_each(const char *buf, size_t len, gw_linefile_line_fn fn, void *arg);

/* Writes the file's new content to @fd (all of it, with gw_linefile_write()).
 * Returns 0 or a negative errno. */
typedef int (*gw_linefile_fill_fn)(void *arg, int fd);

/*
 * Rewrites the file at @path: @fill writes "@path.new" (created 0600 and
 * locked), which is renamed over @path; then the fd in *@fd (if >= 0) is
 * closed and replaced by the new file's. Returns 0, or a negative errno with
 * *@fd and the file at @path untouched (the new file removed).
 */
int gw_linefile_rewrite(const char *path, gw_linefile_fill_fn fill, void *arg, int *fd);

/* ---- the definitions ---- */
