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
 * Header only, its functions static inline: the code it serves is compiled
 * straight into unit tests and fuzz targets, which need nothing more then.
 *
 * Runs in: the gateway process (the callers' locks serialize the calls).
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/*
 * Opens (or creates) the file at @path for appending, locks it and reads it
 * whole: *@ret_buf, NUL-terminated, @ret_len bytes (caller frees; NULL and 0
 * when the file is over @max_read bytes: it is then started anew). Returns 0
 * and the fd in *@ret_fd, -EWOULDBLOCK when another process holds it,
 * -EINVAL when it is not a regular file, -ENOMEM, or the negative errno of
 * open/fchmod/read; nothing is left open on failure.
 */
static inline int gw_linefile_open(const char *path, size_t max_read, int *ret_fd, char **ret_buf,
				   size_t *ret_len);

/* Writes all of @buf to @fd (EINTR retried). Returns 0 or a negative errno. */
static inline int gw_linefile_write(int fd, const char *buf, size_t len);

/* @o as one line, newline included; consumes @o (NULL allowed). Returns a new
 * string (caller frees) and its length in *@ret_len, or NULL (ENOMEM). */
static inline char *gw_linefile_json(json_t *o, size_t *ret_len);

/* Called by gw_linefile_each() with each non-empty line's object, NULL for a
 * line that is not JSON (the object is borrowed); a negative return stops. */
typedef int (*gw_linefile_line_fn)(void *arg, json_t *o);

/* Parses the @len bytes of @buf line by line (duplicate keys refused) and
 * calls @fn with each. Returns 0, or the first negative return of @fn. */
static inline int gw_linefile_each(const char *buf, size_t len, gw_linefile_line_fn fn, void *arg);

/* Writes the file's new content to @fd (all of it, with gw_linefile_write()).
 * Returns 0 or a negative errno. */
typedef int (*gw_linefile_fill_fn)(void *arg, int fd);

/*
 * Rewrites the file at @path: @fill writes "@path.new" (created 0600 and
 * locked), which is renamed over @path; then the fd in *@fd (if >= 0) is
 * closed and replaced by the new file's. Returns 0, or a negative errno with
 * *@fd and the file at @path untouched (the new file removed).
 */
static inline int gw_linefile_rewrite(const char *path, gw_linefile_fill_fn fill, void *arg,
				      int *fd);

/* ---- the definitions ---- */

static inline int gw_linefile_write(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static inline char *gw_linefile_json(json_t *o, size_t *ret_len)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(o);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*ret_len = n + 1;
	return line;
}

/* Reads the file at @fd (at most @max_read bytes, else nothing). */
static inline int gw_linefile_read_all_(int fd, size_t max_read, char **ret, size_t *ret_len)
{
	struct stat st;

	*ret = NULL;
	*ret_len = 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max_read)
		return 0;
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static inline int gw_linefile_open(const char *path, size_t max_read, int *ret_fd, char **ret_buf,
				   size_t *ret_len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	int err = fd < 0 ? -errno : 0;

	if (!err && flock(fd, LOCK_EX | LOCK_NB) < 0)
		err = -errno;
	if (!err && fchmod(fd, 0600) < 0)
		err = -errno;
	if (!err)
		err = gw_linefile_read_all_(fd, max_read, ret_buf, ret_len);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

static inline int gw_linefile_each(const char *buf, size_t len, gw_linefile_line_fn fn, void *arg)
{
	const char *p = buf, *end = buf ? buf + len : buf;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int err = 0;
		if (n) {
			json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL);
			err = fn(arg, o);
			json_decref(o);
		}
		if (err < 0)
			return err;
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

static inline int gw_linefile_rewrite(const char *path, gw_linefile_fill_fn fill, void *arg,
				      int *fd)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 5);

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".new", 5);
	int nfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	int err = nfd < 0 ? -errno : 0;
	if (!err && flock(nfd, LOCK_EX | LOCK_NB) < 0)
		err = -errno;
	if (!err)
		err = fill(arg, nfd);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err && nfd >= 0) {
		unlink(tmp);
		close(nfd);
	}
	free(tmp);
	if (err)
		return err;
	if (*fd >= 0)
		close(*fd);
	*fd = nfd;
	return 0;
}
