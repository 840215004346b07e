/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/zip.c - zip archives of folders, streamed; see zip.h.
 *
 * Why libarchive in the worker: the archive is made where the files are
 * read, so the gateway only relays bytes from a pipe (exactly as a
 * download) and holds nothing of the archive; libarchive's zip writer
 * streams (sizes and CRC in data descriptors, zip64 where needed, UTF-8
 * flag), needs no seek and no system call that the worker's seccomp filter
 * does not already allow (write, fstat on the pipe).
 *
 * Runs in: the worker (and its lanes), inside the sandbox.
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "zip.h"

struct zent {
	char *path;
	uint32_t ftype;
	uint64_t size;
	int64_t mtime;
};

struct zip_walk {
	struct zent *v;
	size_t n, cap;
	size_t path_bytes;
	uint64_t bytes;
	uint32_t max_entries, max_depth;
	char *errors; /* open_memstream() */
	size_t errors_len;
	FILE *err;
	uint32_t n_errors;
	/* WALKING: when it was last said, and with how many entries */
	int (*walking)(void *ud, const struct proto_walking *w);
	void *ud;
	struct timespec said;
	size_t said_n;
};

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Tells the gateway that the walk goes on, once a while, when it went further. */
static int walking(struct zip_walk *z)
{
	if (!z->walking || z->n == z->said_n || ms_since(&z->said) < ZIP_WALKING_MS)
		return 0;
	struct proto_walking w = {.entries = (uint32_t)z->n, .bytes = z->bytes};
	clock_gettime(CLOCK_MONOTONIC, &z->said);
	z->said_n = z->n;
	return z->walking(z->ud, &w);
}

static void note(struct zip_walk *z, const char *path, const char *what, int err)
{
	z->n_errors++;
	if (z->err)
		fprintf(z->err, "%s: %s%s%s\r\n", *path ? path : ".", what, err ? ": " : "",
			err ? proto_err_name((uint32_t)err) : "");
}

static int zip_walk_cb(void *ud, enum smb_walk_event ev, const struct smb_walk_entry *e, int err)
{
	struct zip_walk *z = ud;
	int r = walking(z);

	if (r)
		return r;

	switch (ev) {
	case SMB_WALK_LINK:
		note(z, e->path, "a link to a folder, not followed", 0);
		return 0;
	case SMB_WALK_UNREADABLE:
		note(z, e->path, "the folder cannot be listed", err);
		return 0;
	case SMB_WALK_BAD_NAME:
		note(z, e->path, "holds a name that cannot be used (left out)", 0);
		return 0;
	case SMB_WALK_ENTRY:
		break;
	}
	if (e->depth > z->max_depth)
		return PROTO_E_TOO_DEEP;
	if (z->n >= z->max_entries)
		return PROTO_E_TOO_BIG;
	size_t l = strlen(e->path) + 1;
	if (z->path_bytes + l > ZIP_MAX_PATH_BYTES)
		return PROTO_E_TOO_BIG;
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 256;
		struct zent *v = realloc(z->v, cap * sizeof(*v));
		if (!v)
			return PROTO_E_IO;
		z->v = v;
		z->cap = cap;
	}
	char *p = strdup(e->path);
	if (!p)
		return PROTO_E_IO;
	z->v[z->n++] =
	    (struct zent){.path = p, .ftype = e->ftype, .size = e->size, .mtime = e->mtime};
	z->path_bytes += l;
	z->bytes += e->size;
	return 0;
}

/* Splits @names ('\n'-separated) in place into *@ret (caller frees the array). */
static int split_names(char *names, const char ***ret, size_t *ret_n)
{
	size_t n = 0;
	const char **v;

	*ret = NULL;
	*ret_n = 0;
	if (!*names)
		return 0;
	n = 1;
	for (const char *p = names; (p = strchr(p, '\n')); p++)
		n++;
	v = calloc(n, sizeof(*v));
	if (!v)
		return PROTO_E_IO;
	size_t i = 0;
	for (char *p = names;;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (!proto_name_valid(p)) {
			free(v);
			return PROTO_E_BAD_NAME;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(v[k], p) == 0) {
				free(v);
				return PROTO_E_INVALID; /* twice the same */
			}
		v[i++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	*ret = v;
	*ret_n = i;
	return 0;
}

struct zfile {
	struct archive *a;
	struct archive_entry *e;
	const struct zent *z;
	uint64_t size, done;
	bool header; /* written */
	bool write_failed;
};

static int zfile_started(void *ud, const struct proto_stat *st)
{
	struct zfile *f = ud;

	f->size = st->size;
	archive_entry_set_size(f->e, (la_int64_t)st->size);
	archive_entry_set_mtime(f->e, (time_t)st->mtime, 0);
	if (archive_write_header(f->a, f->e) != ARCHIVE_OK) {
		f->write_failed = true;
		return PROTO_E_IO;
	}
	f->header = true;
	return 0;
}

static int zfile_data(void *ud, const char *buf, size_t n)
{
	struct zfile *f = ud;

	if (n > f->size - f->done)
		n = (size_t)(f->size - f->done); /* never more than the header said */
	if (n && archive_write_data(f->a, buf, n) != (la_ssize_t)n) {
		f->write_failed = true;
		return PROTO_E_IO;
	}
	f->done += n;
	return 0;
}

/* Zeros up to the size the header gave. */
static int zfile_pad(struct zfile *f)
{
	static const char zeros[64 * 1024];

	while (f->done < f->size) {
		size_t n =
		    f->size - f->done < sizeof(zeros) ? (size_t)(f->size - f->done) : sizeof(zeros);
		if (archive_write_data(f->a, zeros, n) != (la_ssize_t)n)
			return PROTO_E_IO;
		f->done += n;
	}
	return 0;
}

static struct archive_entry *new_entry(const char *path, bool dir, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		return NULL;
	archive_entry_set_pathname(e, path); /* UTF-8: the locale is C.UTF-8 here */
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (dir)
		archive_entry_set_size(e, 0);
	return e;
}

/* Archives one file (@z): 0, or PROTO_E_IO when the archive cannot be written. */
static int add_file(struct smb *s, struct archive *a, const char *share, const char *folder,
		    const struct zent *z, struct zip_walk *w)
{
	char path[PROTO_MAX_PATH + 1];
	bool started = false;
	int n = snprintf(path, sizeof(path), "%s%s%s", folder, *folder ? "/" : "", z->path);
	struct zfile f = {.a = a, .z = z};

	if (n < 0 || (size_t)n >= sizeof(path)) {
		note(w, z->path, "the path is too long", 0);
		return 0;
	}
	f.e = new_entry(z->path, false, z->mtime);
	if (!f.e)
		return PROTO_E_IO;
	int r = smb_read_stream(s, share, path, zfile_started, zfile_data, &f, &started);
	if (f.write_failed) {
		archive_entry_free(f.e);
		return PROTO_E_IO;
	}
	if (!started || !f.header) {
		archive_entry_free(f.e);
		note(w, z->path, "cannot be read, left out", r);
		return 0;
	}
	if (r || f.done < f.size) {
		char what[160];
		snprintf(what, sizeof(what),
			 "%s after %llu of %llu bytes; the rest of its entry is zeros",
			 r ? "reading failed" : "the file shrank", (unsigned long long)f.done,
			 (unsigned long long)f.size);
		note(w, z->path, what, r);
		r = zfile_pad(&f);
	}
	archive_entry_free(f.e);
	return r ? PROTO_E_IO : 0;
}

static int add_errors(struct archive *a, struct zip_walk *w)
{
	struct archive_entry *e;
	int r = 0;

	fflush(w->err);
	e = new_entry(ZIP_ERRORS_NAME, false, (int64_t)time(NULL));
	if (!e)
		return PROTO_E_IO;
	archive_entry_set_size(e, (la_int64_t)w->errors_len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (w->errors_len &&
	     archive_write_data(a, w->errors, w->errors_len) != (la_ssize_t)w->errors_len))
		r = PROTO_E_IO;
	archive_entry_free(e);
	return r;
}

static int write_archive(struct smb *s, const char *share, const char *folder,
			 const struct proto_zip *req, int fd, struct zip_walk *w,
			 uint64_t *ret_bytes)
{
	struct archive *a = archive_write_new();
	int r = 0;

	if (!a)
		return PROTO_E_IO;
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, req->flags & PROTO_ZIP_DEFLATE
					     ? "zip:compression=deflate"
					     : "zip:compression=store") != ARCHIVE_OK ||
	    (req->flags & PROTO_ZIP_ZIP64 &&
	     archive_write_set_options(a, "zip:zip64") != ARCHIVE_OK) ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		r = PROTO_E_IO;
		goto out;
	}
	for (size_t i = 0; r == 0 && i < w->n; i++) {
		const struct zent *z = &w->v[i];
		if (z->ftype == PROTO_FT_DIR) {
			struct archive_entry *e = new_entry(z->path, true, z->mtime);
			if (!e || archive_write_header(a, e) != ARCHIVE_OK)
				r = PROTO_E_IO;
			archive_entry_free(e);
		} else {
			r = add_file(s, a, share, folder, z, w);
		}
	}
	if (r == 0 && w->n_errors)
		r = add_errors(a, w);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = PROTO_E_IO;
	if (r == 0)
		*ret_bytes = (uint64_t)archive_filter_bytes(a, -1);
out:
	archive_write_free(a);
	return r;
}

int zip_write(struct smb *s, const char *share, const char *folder, const char *names,
	      const struct proto_zip *req, int fd,
	      int (*walking_cb)(void *ud, const struct proto_walking *w),
	      int (*ok)(void *ud, const struct proto_zip_ok *z), void *ud, uint64_t *ret_bytes,
	      uint32_t *ret_errors)
{
	struct zip_walk w = {.max_entries = req->max_entries,
			     .max_depth = req->max_depth,
			     .walking = walking_cb,
			     .ud = ud};
	char *copy = strdup(names);
	const char **v = NULL;
	size_t n = 0;
	int r;

	*ret_bytes = 0;
	*ret_errors = 0;
	if (!copy)
		return PROTO_E_IO;
	w.err = open_memstream(&w.errors, &w.errors_len);
	r = w.err ? split_names(copy, &v, &n) : PROTO_E_IO;
	clock_gettime(CLOCK_MONOTONIC, &w.said);
	if (r == 0)
		r = smb_walk(s, share, folder, v, n, zip_walk_cb, &w);
	if (r == 0) {
		struct proto_zip_ok z = {.entries = (uint32_t)w.n, .bytes = w.bytes};
		r = ok(ud, &z);
	}
	if (r == 0) {
		/* Names are UTF-8: libarchive then flags them so (and converts nothing). */
		locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
		r = write_archive(s, share, folder, req, fd, &w, ret_bytes);
		if (utf8) {
			uselocale(old);
			freelocale(utf8);
		}
		*ret_errors = w.n_errors;
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	if (w.err)
		fclose(w.err);
	free(w.errors);
	free(v);
	free(copy);
	return r;
}
