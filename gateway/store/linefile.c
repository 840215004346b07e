/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/store/linefile.c - the small state files of JSON lines (linefile.h).
 *
 * Runs in: the gateway process (the callers' locks serialize the calls).
 */
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

#include "store/linefile.h"

int gw_linefile_write(int fd, const char *buf, size_t len)
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

char *gw_linefile_json(json_t *o, size_t *ret_len)
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
static int read_all(int fd, size_t max_read, char **ret, size_t *ret_len)
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

int gw_linefile_open(const char *path, size_t max_read, int *ret_fd, char **ret_buf,
		     size_t *ret_len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	int err = fd < 0 ? -errno : 0;

	if (!err && flock(fd, LOCK_EX | LOCK_NB) < 0)
		err = -errno;
	if (!err && fchmod(fd, 0600) < 0)
		err = -errno;
	if (!err)
		err = read_all(fd, max_read, ret_buf, ret_len);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

int gw_linefile_each(const char *buf, size_t len, gw_linefile_line_fn fn, void *arg)
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

int gw_linefile_rewrite(const char *path, gw_linefile_fill_fn fill, void *arg, int *fd)
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
