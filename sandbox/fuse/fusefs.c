/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/fuse/fusefs.c - the file system of the sandbox's FUSE server
 * process: libfuse3's low-level API over one libsmbclient context. See
 * fusefs.h.
 *
 * Inode numbers stand for paths (nodes.h); every operation builds the URL of
 * its path with smb_url() and calls libsmbclient. Open files and directories
 * are slots of a bounded table; their data streams through one buffer of
 * FUSEFS_IO_MAX bytes (no file is ever held in memory).
 *
 * Caching. Attributes and names: fusefs_opts.timeout_ms (1 s by default),
 * negative lookups not at all: a change made through the REST API (or by
 * anyone on the server) shows here within a second, and a file created
 * there is found at once. File data: not cached (direct I/O on every open):
 * each read asks the server, as the REST API does; it also gives reads and
 * writes of up to 1 MiB per request, where the page cache would read ahead
 * by 128 KiB requests. Shared writable mmap() is refused by the kernel
 * (ENODEV); private mappings (programs, libraries) work.
 *
 * Errors. The server's errno, through smb_errno_to_proto()'s classes (see
 * fs_errno()): EACCES for writes on a read-only share (Samba and Windows
 * answer ACCESS_DENIED; nothing in libsmbclient's API tells a read-only
 * share from an ACL that refuses); EROFS where this file system knows (the
 * mount's root) or the server says so (a write-protected volume). Lost
 * connections (ECONNRESET, EPIPE...) and protocol errors are EIO; ETIMEDOUT
 * stays. Names: see name_check().
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <libsmbclient.h>

#include "fusefs.h"
#include "nodes.h"
#include "proto.h"
#include "smb.h"

#define MAX_SHARES  4096 /* entries of the root's listing */
#define NAME_MAX_FS 255	 /* statfs f_namemax */
/* Past this share of max_nodes, listings give names without attributes (the
 * kernel then looks them up one by one): lookups keep the rest. */
#define NODES_SOFT(max) ((max) / 4 * 3)
/* A path as locate() builds it: "share\0" "a/b" '/' "name" NUL. */
#define PATH_BUF (PROTO_MAX_NAME + 1 + PROTO_MAX_PATH + 1 + PROTO_MAX_NAME + 2)
/* Entries of one listing's reply at most: each takes more than 64 bytes. */
#define ADDED_MAX (FUSEFS_IO_MAX / 64)

enum hkind { H_FREE, H_FILE, H_DIR, H_ROOT };

/* A directory entry: from the server, or kept for the next readdir call
 * when it did not fit. */
struct dent {
	const char *name; /* owned (pending) or borrowed, see next_server_entry() */
	bool dir, readonly;
	uint64_t size;
	struct timespec atime, mtime, ctime;
};

struct handle {
	enum hkind kind;
	SMBCFILE *f; /* H_FILE, H_DIR */
	/* listings: offsets are 0 ".", 1 "..", then 2 + k for the k-th entry the
	 * server gives (or the k-th share); @next is the offset of the next entry */
	uint64_t next;
	bool has_pending; /* H_DIR: the entry at @next was read, not yet sent */
	struct dent pending;
	char **shares; /* H_ROOT */
	size_t n_shares;
};

struct fs {
	struct smb *smb;
	SMBCCTX *ctx;
	const char *server;
	struct fusefs_opts o;
	double timeout;		 /* seconds */
	struct timespec started; /* the times of the mount's root */
	struct nodes *nodes;
	struct handle *handles; /* o.max_handles slots; fh = index + 1 */
	unsigned hint;		/* where to look for a free slot first */
	char *buf;		/* FUSEFS_IO_MAX bytes: reads, listings */
	uint64_t *added;	/* ADDED_MAX: the inodes of one listing's reply */
	char path[2][PATH_BUF];
	char url[2][SMB_URL_MAX];
};

/* Where an inode (or a name in a directory) is. */
enum level { L_ROOT, L_SHARE, L_FILE };
struct loc {
	enum level level;
	const char *share; /* NULL at the root */
	const char *path;  /* inside the share, "" for its root */
	const char *url;   /* not for L_ROOT */
};

/* ---- errors and names ---- */

/* An errno from libsmbclient (or the C library) as this file system returns
 * it. Never ENOSYS: the kernel would take it for "operation not
 * implemented" and stop asking. */
static int fs_errno(int err)
{
	switch ((enum proto_err)smb_errno_to_proto(err)) {
	case PROTO_E_NOT_FOUND:
		return ENOENT;
	case PROTO_E_ACCESS:
		return err; /* EACCES, EPERM; EROFS: a write-protected volume */
	case PROTO_E_EXISTS:
		return EEXIST;
	case PROTO_E_NOT_EMPTY:
		return ENOTEMPTY;
	case PROTO_E_NOT_DIR:
		return ENOTDIR;
	case PROTO_E_IS_DIR:
		return EISDIR;
	case PROTO_E_NO_SPACE:
		return err == EDQUOT ? EDQUOT : ENOSPC;
	case PROTO_E_BAD_NAME:
		return err == ENAMETOOLONG ? ENAMETOOLONG : EINVAL;
	case PROTO_E_TIMEOUT:
		return ETIMEDOUT;
	case PROTO_E_UNREACHABLE:
	case PROTO_E_PROTOCOL:
		return EIO;
	case PROTO_E_AUTH:
	case PROTO_E_INVALID:
	case PROTO_E_TOO_BIG:
	case PROTO_E_IO:
	case PROTO_E_LINK:	/* the worker's recursive delete only */
	case PROTO_E_BAD_ENTRY: /* the worker's listings only */
	case PROTO_E_TOO_DEEP:	/* the worker's ZIP only */
	case PROTO_E_OFFSET:	/* the worker's TUS_APPEND only */
	case PROTO_E_OVERLAP:	/* smb_rename() and smb_copy() only */
	/* name_check() here */
	case PROTO_E_RESERVED_NAME:
		break;
	}
	switch (err) {
	case EBUSY: /* a sharing violation */
	case ENOMEM:
	case EFBIG:
	case EXDEV:
	case EAGAIN:
		return err;
	default:
		return EIO;
	}
}

static int last_errno(void)
{
	return -fs_errno(errno);
}

/* A proto_err of smb.c's functions as an errno (negative). */
static int proto_errno(int e)
{
	switch (e) {
	case 0:
		return 0;
	case PROTO_E_NOT_FOUND:
		return -ENOENT;
	case PROTO_E_ACCESS:
	case PROTO_E_AUTH:
		return -EACCES;
	case PROTO_E_TIMEOUT:
		return -ETIMEDOUT;
	case PROTO_E_BAD_NAME:
	case PROTO_E_RESERVED_NAME:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* N_CREATE: a name that is made (mkdir, mknod, create); N_TARGET: the target
 * of a rename, which may exist. */
enum name_use { N_LOOKUP, N_CREATE, N_TARGET };

/*
 * Whether @name may cross to the server, as the REST API decides: a valid
 * name (proto_name_valid(): UTF-8, no '/', '\\' or control characters, not
 * "." or ".."), no SMB wildcard ('*', '?', '<', '>', '"'), no '|' and no ':'
 * (alternate data streams). Refused: -EINVAL (-ENAMETOOLONG over
 * PROTO_MAX_NAME bytes). The temporaries of uploads (SMB_TMP_PREFIX) do not
 * exist here: -ENOENT to look one up, -EPERM to make one. A name the server
 * would mangle (proto_name_creatable(): a trailing dot or space, CON, NUL,
 * COM1...) is not made: -EINVAL, as for the other names the server cannot
 * take (and as ntfs-3g's windows_names answers); op_rename() checks its
 * target so when there is none. Existing such names stay usable.
 */
static int name_check(const char *name, enum name_use use)
{
	if (strnlen(name, PROTO_MAX_NAME + 1) > PROTO_MAX_NAME)
		return -ENAMETOOLONG;
	if (!proto_name_valid(name) || strpbrk(name, "*?<>\"|:"))
		return -EINVAL;
	if (smb_path_reserved(name))
		return use == N_LOOKUP ? -ENOENT : -EPERM;
	if (use == N_CREATE && !proto_name_creatable(name))
		return -EINVAL;
	return 0;
}

/* smb_tmp_alias() of what @l names, as name_check() answers for a
 * temporary's own name. */
static int alias_check(struct fs *fs, const struct loc *l, enum name_use use)
{
	int r = l->level == L_FILE ? smb_tmp_alias(fs->smb, l->share, l->path) : 0;

	if (r == PROTO_E_BAD_NAME)
		return use == N_LOOKUP ? -ENOENT : -EPERM;
	return r ? proto_errno(r) : 0;
}

/* A name of a listing, from the server: left out (0) when it could not be
 * shown or is a temporary; 1 when it can be looked up; 2 when it is shown
 * without attributes because every lookup of it fails with EINVAL. */
static int name_listed(const char *name)
{
	if (!proto_name_valid(name) || smb_path_reserved(name))
		return 0;
	return strpbrk(name, "*?<>\"|:") ? 2 : 1;
}

/* ---- paths ---- */

/*
 * Where inode @ino is, or its child @name (NULL: @ino itself), in buffers
 * @slot (0 or 1) of @fs. -ENOENT: the inode is gone (detached or unknown);
 * -ENAMETOOLONG; -EINVAL: smb_url() refused a segment.
 */
static int locate(struct fs *fs, unsigned slot, fuse_ino_t ino, const char *name, struct loc *l)
{
	char *buf = fs->path[slot];
	const char *share, *path;
	int r =
	    nodes_path(fs->nodes, ino, buf, PROTO_MAX_NAME + 1 + PROTO_MAX_PATH + 1, &share, &path);

	if (r)
		return r;
	if (name && !share) {
		share = name;
		path = "";
	} else if (name) {
		char *end = (char *)path + strlen(path);
		size_t nl = strlen(name);
		if ((size_t)(end - path) + 1 + nl > PROTO_MAX_PATH)
			return -ENAMETOOLONG;
		if (end != path)
			*end++ = '/';
		memcpy(end, name, nl + 1);
	}
	l->share = share;
	l->path = path;
	l->level = !share ? L_ROOT : *path ? L_FILE : L_SHARE;
	l->url = NULL;
	if (l->level == L_ROOT)
		return 0;
	if (l->level == L_SHARE && strcasecmp(share, "IPC$") == 0)
		return -ENOENT; /* not a share of files */
	if (smb_url(fs->smb, share, path, fs->url[slot], sizeof(fs->url[slot])))
		return -EINVAL;
	l->url = fs->url[slot];
	return 0;
}

/* ---- attributes ---- */

static void attr_base(struct fs *fs, struct stat *st, fuse_ino_t ino, bool dir, bool readonly)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	/* Fixed modes: the server's ACLs decide who may do what. A directory's
	 * DOS read-only bit means nothing on Windows; a file's forbids writes. */
	st->st_mode = dir ? S_IFDIR | 0755 : S_IFREG | (readonly ? 0444 : 0644);
	st->st_nlink = 1; /* directories too: "count unknown" for find(1) */
	st->st_uid = fs->o.uid;
	st->st_gid = fs->o.gid;
	st->st_blksize = FUSEFS_IO_MAX; /* cat, cp: 1 MiB per call */
}

static void attr_from_stat(struct fs *fs, struct stat *st, fuse_ino_t ino, const struct stat *sm)
{
	bool dir = S_ISDIR(sm->st_mode);

	attr_base(fs, st, ino, dir, !(sm->st_mode & S_IWUSR));
	if (!dir) {
		st->st_size = sm->st_size;
		st->st_blocks = (sm->st_size + 511) / 512;
	}
	st->st_atim = sm->st_atim;
	st->st_mtim = sm->st_mtim;
	st->st_ctim = sm->st_ctim;
}

static void attr_from_dent(struct fs *fs, struct stat *st, fuse_ino_t ino, const struct dent *d)
{
	attr_base(fs, st, ino, d->dir, d->readonly);
	if (!d->dir) {
		st->st_size = (off_t)d->size;
		st->st_blocks = (blkcnt_t)((d->size + 511) / 512);
	}
	st->st_atim = d->atime;
	st->st_mtim = d->mtime;
	st->st_ctim = d->ctime;
}

/* Attributes of what @l names (through @slot's buffers), into *@st with
 * st_ino = @ino. A share this user may not enter is still a directory. */
static int stat_loc(struct fs *fs, const struct loc *l, fuse_ino_t ino, struct stat *st)
{
	struct stat sm;

	if (l->level == L_ROOT) {
		attr_base(fs, st, ino, true, false);
		st->st_atim = st->st_mtim = st->st_ctim = fs->started;
		return 0;
	}
	memset(&sm, 0, sizeof(sm));
	if (smbc_getFunctionStat(fs->ctx)(fs->ctx, l->url, &sm) < 0) {
		int err = errno;
		if (l->level == L_SHARE && (err == EACCES || err == EPERM)) {
			attr_base(fs, st, ino, true, false);
			return 0;
		}
		return -fs_errno(err);
	}
	if (l->level == L_SHARE)
		sm.st_mode = S_IFDIR | 0755;
	attr_from_stat(fs, st, ino, &sm);
	return 0;
}

static void entry_init(struct fs *fs, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
}

/* Fills *@e for @name in @parent from *@st, counting one lookup. */
static int make_entry(struct fs *fs, fuse_ino_t parent, const char *name, const struct stat *st,
		      struct fuse_entry_param *e)
{
	uint64_t ino;
	int r = nodes_lookup(fs->nodes, parent, name, &ino);

	if (r)
		return r;
	entry_init(fs, e);
	e->ino = ino;
	e->attr = *st;
	e->attr.st_ino = ino;
	return 0;
}

/* ---- handles ---- */

static int handle_new(struct fs *fs, enum hkind kind)
{
	for (unsigned i = 0; i < fs->o.max_handles; i++) {
		unsigned k = (fs->hint + i) % fs->o.max_handles;
		if (fs->handles[k].kind == H_FREE) {
			memset(&fs->handles[k], 0, sizeof(fs->handles[k]));
			fs->handles[k].kind = kind;
			fs->hint = k + 1;
			return (int)k;
		}
	}
	return -ENFILE;
}

static struct handle *handle_get(struct fs *fs, uint64_t fh, enum hkind kind)
{
	if (fh == 0 || fh > fs->o.max_handles)
		return NULL;
	struct handle *h = &fs->handles[fh - 1];
	if (h->kind == kind || (kind == H_DIR && h->kind == H_ROOT))
		return h;
	return NULL;
}

static void dent_clear(struct dent *d)
{
	free((char *)d->name);
	memset(d, 0, sizeof(*d));
}

static void handle_free(struct fs *fs, struct handle *h)
{
	if (h->kind == H_FILE && h->f)
		smbc_getFunctionClose(fs->ctx)(fs->ctx, h->f);
	if (h->kind == H_DIR && h->f)
		smbc_getFunctionClosedir(fs->ctx)(fs->ctx, h->f);
	for (size_t i = 0; i < h->n_shares; i++)
		free(h->shares[i]);
	free(h->shares);
	dent_clear(&h->pending);
	memset(h, 0, sizeof(*h));
}

/* ---- operations ---- */

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void reply_status(fuse_req_t req, int r)
{
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = FUSEFS_IO_MAX;
	conn->max_readahead = FUSEFS_IO_MAX;
	/* Every listing with attributes: "ls -l" of 10 000 entries is one pass
	 * over the server's listing, not 10 000 lookups. */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->want |= conn->capable & (FUSE_CAP_READDIRPLUS | FUSE_CAP_ATOMIC_O_TRUNC);
	/* No page cache for data (direct I/O), no writeback cache. */
	conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
	conn->time_gran = 100; /* SMB times count 100 ns */
}

/* Replies with the entry of @name in @parent, found or just made at @l. */
static void reply_new_entry(fuse_req_t req, struct fs *fs, fuse_ino_t parent, const char *name,
			    const struct loc *l)
{
	struct fuse_entry_param e;
	struct stat st;
	int r = stat_loc(fs, l, 0, &st);

	if (r == 0)
		r = make_entry(fs, parent, name, &st, &e);
	if (r) {
		reply_status(req, r);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		nodes_forget(fs->nodes, e.ino, 1);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct loc l;
	int r = name_check(name, N_LOOKUP);

	if (r == 0)
		r = locate(fs, 0, parent, name, &l);
	if (r == 0)
		r = alias_check(fs, &l, N_LOOKUP);
	if (r)
		reply_status(req, r);
	else
		reply_new_entry(req, fs, parent, name, &l);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	nodes_forget(fs_of(req)->nodes, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);

	for (size_t i = 0; i < count; i++)
		nodes_forget(fs->nodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Replies with the attributes @st, or the error @r. */
static void reply_attr(fuse_req_t req, struct fs *fs, int r, const struct stat *st)
{
	if (r)
		reply_status(req, r);
	else
		fuse_reply_attr(req, st, fs->timeout);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h = fi ? handle_get(fs, fi->fh, H_FILE) : NULL;
	struct stat st, sm;
	struct loc l;
	int r;

	/* fstat(2) of an open file: its handle, whatever its path now. A handle
	 * opened for writing only cannot read attributes (libsmbclient: EINVAL):
	 * then the path. */
	memset(&sm, 0, sizeof(sm));
	if (h && smbc_getFunctionFstat(fs->ctx)(fs->ctx, h->f, &sm) == 0) {
		attr_from_stat(fs, &st, ino, &sm);
		r = 0;
	} else {
		r = locate(fs, 0, ino, NULL, &l);
		if (r == 0)
			r = stat_loc(fs, &l, ino, &st);
	}
	reply_attr(req, fs, r, &st);
}

/* Truncates (or extends) the file @l names to @size: through @h when open. */
static int do_truncate(struct fs *fs, const struct loc *l, struct handle *h, off_t size)
{
	SMBCFILE *f = h ? h->f : NULL;
	int r = 0;

	if (!f) {
		f = smbc_getFunctionOpen(fs->ctx)(fs->ctx, l->url, O_WRONLY, 0);
		if (!f)
			return last_errno();
	}
	if (smbc_getFunctionFtruncate(fs->ctx)(fs->ctx, f, size) < 0)
		r = last_errno();
	if (!h)
		smbc_getFunctionClose(fs->ctx)(fs->ctx, f);
	return r;
}

static struct timeval tv_of(const struct timespec *ts)
{
	return (struct timeval){.tv_sec = ts->tv_sec, .tv_usec = ts->tv_nsec / 1000};
}

static int do_utimes(struct fs *fs, const struct loc *l, const struct stat *attr, int to_set)
{
	struct timeval tv[2], now;
	struct stat cur;

	gettimeofday(&now, NULL);
	/* One of the two left as it is: read it first (libsmbclient sets both). */
	if (!(to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) ||
	    !(to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))) {
		memset(&cur, 0, sizeof(cur));
		if (smbc_getFunctionStat(fs->ctx)(fs->ctx, l->url, &cur) < 0)
			return last_errno();
		tv[0] = tv_of(&cur.st_atim);
		tv[1] = tv_of(&cur.st_mtim);
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0] = now;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = tv_of(&attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1] = now;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = tv_of(&attr->st_mtim);
	if (smbc_getFunctionUtimes(fs->ctx)(fs->ctx, l->url, tv) < 0)
		return last_errno();
	return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h = fi ? handle_get(fs, fi->fh, H_FILE) : NULL;
	struct stat st;
	struct loc l;
	int r = locate(fs, 0, ino, NULL, &l);

	if (r == 0 && l.level == L_ROOT)
		r = -EROFS;
	/* Owners cannot change (one user's view); "changing" to the same is fine. */
	if (r == 0 && (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != fs->o.uid) ||
		       ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != fs->o.gid)))
		r = -EPERM;
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		r = l.level == L_SHARE ? -EISDIR : do_truncate(fs, &l, h, attr->st_size);
	/* FUSE_SET_ATTR_MODE: accepted and left as it is. The modes shown are
	 * fixed (attr_base()); libsmbclient's chmod would turn execute bits
	 * into the ARCHIVE, SYSTEM and HIDDEN attributes. */
	if (r == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
				 FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)))
		r = do_utimes(fs, &l, attr, to_set);
	if (r == 0)
		r = stat_loc(fs, &l, ino, &st);
	reply_attr(req, fs, r, &st);
}

/* Name and place checks of the operations that make or remove a name. */
static int prepare_change(struct fs *fs, unsigned slot, fuse_ino_t parent, const char *name,
			  enum name_use use, struct loc *l)
{
	int r = name_check(name, use);

	if (r == 0 && parent == NODES_ROOT)
		return -EROFS; /* the list of shares is the server's */
	if (r == 0)
		r = locate(fs, slot, parent, name, l);
	if (r == 0)
		r = alias_check(fs, l, use);
	return r;
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fs_of(req);
	struct loc l;
	int r = prepare_change(fs, 0, parent, name, N_CREATE, &l);

	(void)mode;
	if (r == 0 && smbc_getFunctionMkdir(fs->ctx)(fs->ctx, l.url, 0755) < 0)
		r = last_errno();
	if (r)
		reply_status(req, r);
	else
		reply_new_entry(req, fs, parent, name, &l);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs *fs = fs_of(req);
	struct loc l;
	SMBCFILE *f;
	int r = prepare_change(fs, 0, parent, name, N_CREATE, &l);

	(void)rdev;
	if (r == 0 && !S_ISREG(mode))
		r = -EPERM; /* no devices, FIFOs or sockets on a share */
	if (r == 0) {
		f = smbc_getFunctionOpen(fs->ctx)(fs->ctx, l.url, O_WRONLY | O_CREAT | O_EXCL,
						  0644);
		if (!f)
			r = last_errno();
		else
			smbc_getFunctionClose(fs->ctx)(fs->ctx, f);
	}
	if (r)
		reply_status(req, r);
	else
		reply_new_entry(req, fs, parent, name, &l);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, parent == NODES_ROOT ? EROFS : EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newname;
	fuse_reply_err(req, newparent == NODES_ROOT ? EROFS : EPERM);
}

/* unlink(2) or, @dir, rmdir(2) of @name in @parent. */
static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct fs *fs = fs_of(req);
	struct loc l;
	int r = prepare_change(fs, 0, parent, name, N_LOOKUP, &l);

	if (r == 0 && (dir ? smbc_getFunctionRmdir(fs->ctx)(fs->ctx, l.url)
			   : smbc_getFunctionUnlink(fs->ctx)(fs->ctx, l.url)) < 0)
		r = last_errno();
	if (r == 0)
		nodes_detach(fs->nodes, parent, name);
	reply_status(req, r);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, false);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, true);
}

/* Whether the stats of two paths are one file (a rename that changes only
 * the case of a name, on a server that ignores case). */
static bool same_file(const struct stat *a, const struct stat *b, fuse_ino_t parent,
		      const char *name, fuse_ino_t newparent, const char *newname)
{
	if (a->st_ino != 0 && b->st_ino != 0)
		return a->st_ino == b->st_ino;
	return parent == newparent && strcasecmp(name, newname) == 0;
}

/* smb_list()'s callback: stops at the first entry. */
static int any_entry(void *ud, const struct proto_entry_rec *rec, const char *name,
		     const char *comment)
{
	(void)ud;
	(void)rec;
	(void)name;
	(void)comment;
	return 1;
}

/* 0 when the folder @l is empty (names it cannot show count too), else
 * -ENOTEMPTY or why it could not be told. */
static int dir_empty(struct fs *fs, const struct loc *l)
{
	unsigned skipped = 0;
	int r = smb_list(fs->smb, l->share, l->path, any_entry, NULL, &skipped);

	if (r == 1 || (r == 0 && skipped))
		return -ENOTEMPTY;
	return proto_errno(r);
}

/*
 * rename(2) over SMB, through the worker's smb_rename(), the rule every
 * interface shares: nothing is deleted before the source is in place (the
 * target goes aside first), a case-only rename works, a folder never goes
 * into itself nor over what holds it (EINVAL), in any spelling. POSIX on top:
 * a directory target must be empty (ENOTEMPTY), EISDIR/ENOTDIR when the kinds
 * differ. RENAME_NOREPLACE: the target is checked first (a window remains
 * between the check and the rename, as with every SMB client: SMB2's rename
 * has no "fail if it exists" that libsmbclient lets through). Across shares:
 * EXDEV (mv copies).
 */
static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	struct stat from, to;
	struct loc a, b;
	uint32_t created;
	int r;

	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL); /* RENAME_EXCHANGE, RENAME_WHITEOUT */
		return;
	}
	r = prepare_change(fs, 0, parent, name, N_LOOKUP, &a);
	if (r == 0)
		r = prepare_change(fs, 1, newparent, newname, N_TARGET, &b);
	if (r == 0 && strcmp(a.share, b.share) != 0)
		r = -EXDEV;
	memset(&from, 0, sizeof(from));
	memset(&to, 0, sizeof(to));
	if (r == 0 && smbc_getFunctionStat(fs->ctx)(fs->ctx, a.url, &from) < 0)
		r = last_errno();
	if (r == 0 && smbc_getFunctionStat(fs->ctx)(fs->ctx, b.url, &to) < 0) {
		r = errno != ENOENT ? last_errno() : proto_name_creatable(newname) ? 0 : -EINVAL;
		to.st_mode = 0; /* no target */
	} else if (r == 0 && !same_file(&from, &to, parent, name, newparent, newname)) {
		if (flags & RENAME_NOREPLACE)
			r = -EEXIST;
		else if (S_ISDIR(to.st_mode) && !S_ISDIR(from.st_mode))
			r = -EISDIR;
		else if (!S_ISDIR(to.st_mode) && S_ISDIR(from.st_mode))
			r = -ENOTDIR;
		else if (S_ISDIR(to.st_mode))
			r = dir_empty(fs, &b);
	}
	if (r == 0) {
		r = smb_rename(fs->smb, a.share, a.path, b.path,
			       flags & RENAME_NOREPLACE ? 0 : PROTO_F_OVERWRITE, &created);
		r = r == PROTO_E_OVERLAP ? -EINVAL : r == PROTO_E_EXISTS ? -EEXIST : proto_errno(r);
	}
	if (r == 0 && S_ISDIR(to.st_mode) &&
	    !same_file(&from, &to, parent, name, newparent, newname))
		nodes_detach(fs->nodes, newparent, newname);
	if (r == 0)
		(void)nodes_rename(fs->nodes, parent, name, newparent, newname);
	reply_status(req, r);
}

/* Flags of open(2) that go to the server: the access mode, O_TRUNC
 * (FUSE_CAP_ATOMIC_O_TRUNC) and, for create, O_EXCL. O_APPEND's offsets
 * come from the kernel. */
static int open_flags(int flags, bool create)
{
	int keep = O_ACCMODE | O_TRUNC | (create ? O_EXCL : 0);
	return (flags & keep) | (create ? O_CREAT : 0);
}

/*
 * The end of an open: replies with the error @r (negative), or gives handle
 * @k to the kernel in @fi (@direct: a file, read and written past the
 * kernel's cache) and returns true for the caller to reply with it.
 */
static bool open_result(fuse_req_t req, int r, int k, struct fuse_file_info *fi, bool direct)
{
	if (r < 0) {
		reply_status(req, r);
		return false;
	}
	fi->fh = (uint64_t)k + 1;
	if (direct) {
		fi->direct_io = 1;
		fi->keep_cache = 0;
	}
	return true;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct loc l;
	int k = -1, r = locate(fs, 0, ino, NULL, &l);

	if (r == 0 && l.level != L_FILE)
		r = -EISDIR;
	if (r == 0)
		r = k = handle_new(fs, H_FILE);
	if (r >= 0) {
		fs->handles[k].f =
		    smbc_getFunctionOpen(fs->ctx)(fs->ctx, l.url, open_flags(fi->flags, false), 0);
		r = fs->handles[k].f ? 0 : last_errno();
		if (r)
			handle_free(fs, &fs->handles[k]);
	}
	if (open_result(req, r, k, fi, true) && fuse_reply_open(req, fi) != 0)
		handle_free(fs, &fs->handles[k]);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct stat st;
	struct loc l;
	int k = -1, r = prepare_change(fs, 0, parent, name, N_CREATE, &l);

	(void)mode;
	if (r == 0)
		r = k = handle_new(fs, H_FILE);
	if (r >= 0) {
		struct handle *h = &fs->handles[k];
		h->f = smbc_getFunctionOpen(fs->ctx)(fs->ctx, l.url, open_flags(fi->flags, true),
						     0644);
		r = h->f ? 0 : last_errno();
		/* By path: a write-only handle cannot read its attributes. */
		if (r == 0)
			r = stat_loc(fs, &l, 0, &st);
		if (r == 0)
			r = make_entry(fs, parent, name, &st, &e);
		if (r)
			handle_free(fs, h);
	}
	if (open_result(req, r, k, fi, true) && fuse_reply_create(req, &e, fi) != 0) {
		handle_free(fs, &fs->handles[k]);
		nodes_forget(fs->nodes, e.ino, 1);
	}
}

/* The open file of handle @fh, positioned at @off; NULL once the error is
 * replied to @req. */
static struct handle *file_at(fuse_req_t req, struct fs *fs, uint64_t fh, off_t off)
{
	struct handle *h = handle_get(fs, fh, H_FILE);

	if (!h) {
		fuse_reply_err(req, EBADF);
		return NULL;
	}
	if (smbc_getFunctionLseek(fs->ctx)(fs->ctx, h->f, off, SEEK_SET) < 0) {
		reply_status(req, last_errno());
		return NULL;
	}
	return h;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h;
	size_t got = 0;

	(void)ino;
	if (size > FUSEFS_IO_MAX)
		size = FUSEFS_IO_MAX; /* the kernel asks for max_read at most */
	h = file_at(req, fs, fi->fh, off);
	if (!h)
		return;
	while (got < size) {
		ssize_t n = smbc_getFunctionRead(fs->ctx)(fs->ctx, h->f, fs->buf + got, size - got);
		if (n < 0) {
			reply_status(req, last_errno());
			return;
		}
		if (n == 0)
			break; /* end of file */
		got += (size_t)n;
	}
	fuse_reply_buf(req, fs->buf, got);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h = file_at(req, fs, fi->fh, off);
	size_t done = 0;

	(void)ino;
	if (!h)
		return;
	while (done < size) {
		ssize_t n = smbc_getFunctionWrite(fs->ctx)(fs->ctx, h->f, buf + done, size - done);
		if (n <= 0) {
			if (done > 0)
				break; /* a short write: the caller sees the count */
			reply_status(req, n < 0 ? last_errno() : -EIO);
			return;
		}
		done += (size_t)n;
	}
	fuse_reply_write(req, done);
}

/* Every write was answered by the server before write(2) returned: nothing
 * is buffered here. (libsmbclient has no SMB2 FLUSH to send.) */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* close(2) of a file or, @kind H_DIR, closedir(3): frees the handle. */
static void release(fuse_req_t req, struct fuse_file_info *fi, enum hkind kind)
{
	struct fs *fs = fs_of(req);
	struct handle *h = handle_get(fs, fi->fh, kind);

	if (h)
		handle_free(fs, h);
	fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	release(req, fi, H_FILE);
}

/* ---- listings ---- */

static int share_cb(void *ud, const struct proto_entry_rec *rec, const char *name,
		    const char *comment)
{
	struct handle *h = ud;

	(void)rec;
	(void)comment;
	if (h->n_shares >= MAX_SHARES || name_listed(name) != 1)
		return 0;
	char **n = realloc(h->shares, (h->n_shares + 1) * sizeof(*n));
	if (!n)
		return PROTO_E_IO;
	h->shares = n;
	h->shares[h->n_shares] = strdup(name);
	if (!h->shares[h->n_shares])
		return PROTO_E_IO;
	h->n_shares++;
	return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct loc l;
	int k = -1, r = locate(fs, 0, ino, NULL, &l);

	if (r == 0)
		r = k = handle_new(fs, l.level == L_ROOT ? H_ROOT : H_DIR);
	if (r >= 0) {
		struct handle *h = &fs->handles[k];
		if (h->kind == H_ROOT) {
			h->n_shares = 0;
			r = proto_errno(smb_shares(fs->smb, share_cb, h));
		} else if (smb_followed_link(fs->smb, l.share, l.path) == PROTO_E_LINK) {
			/* Never into a link the server followed: a walk (rm -r,
			 * find) would leave the folder through it. ELOOP, as the
			 * kernel says of a link it will not follow. */
			r = -ELOOP;
		} else {
			h->f = smbc_getFunctionOpendir(fs->ctx)(fs->ctx, l.url);
			r = h->f ? 0 : last_errno();
		}
		if (r)
			handle_free(fs, h);
	}
	if (open_result(req, r, k, fi, false) && fuse_reply_open(req, fi) != 0)
		handle_free(fs, &fs->handles[k]);
}

/* The server's next entry of @h into *@d (names owned by libsmbclient until
 * the next call: copied only when kept), 1; 0 at the end. */
static int next_server_entry(struct fs *fs, struct handle *h, struct dent *d)
{
	if (h->kind == H_ROOT) {
		size_t k = h->next - 2;
		if (k >= h->n_shares)
			return 0;
		*d = (struct dent){.name = h->shares[k], .dir = true};
		return 1;
	}
	if (h->has_pending) {
		*d = h->pending;
		return 1;
	}
	const struct libsmb_file_info *fi = smbc_getFunctionReaddirPlus(fs->ctx)(fs->ctx, h->f);
	if (!fi)
		return 0;
	*d = (struct dent){
	    .name = fi->name,
	    .dir = fi->attrs & SMBC_DOS_MODE_DIRECTORY,
	    .readonly = fi->attrs & SMBC_DOS_MODE_READONLY,
	    .size = fi->size,
	    .atime = fi->atime_ts,
	    .mtime = fi->mtime_ts,
	    .ctime = fi->ctime_ts,
	};
	return 1;
}

/* Moves @h to offset @off: from the start of the server's list, when it
 * is not where the last call left it (a seekdir, or a call repeated). */
static void seek_dir(struct fs *fs, struct handle *h, uint64_t off)
{
	struct dent d;

	if (off == h->next)
		return;
	dent_clear(&h->pending);
	h->has_pending = false;
	h->next = 0;
	if (h->kind == H_DIR)
		smbc_getFunctionLseekdir(fs->ctx)(fs->ctx, h->f, 0);
	while (h->next < off) {
		if (h->next >= 2 && h->kind == H_DIR && !next_server_entry(fs, h, &d))
			break;
		h->next++;
	}
}

/* A d_ino for a name listed without an inode: outside the range of the
 * table's numbers (which count up from 2). */
static fuse_ino_t name_ino(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (fuse_ino_t)(h | (1ULL << 63));
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = fs_of(req);
	struct handle *h = handle_get(fs, fi->fh, H_DIR);
	size_t used = 0, n_added = 0;

	if (!h || off < 0) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (size > FUSEFS_IO_MAX)
		size = FUSEFS_IO_MAX;
	seek_dir(fs, h, (uint64_t)off);
	for (;;) {
		struct dent d = {0};
		bool from_server = h->next >= 2;
		if (h->next == 0)
			d = (struct dent){.name = ".", .dir = true};
		else if (h->next == 1)
			d = (struct dent){.name = "..", .dir = true};
		else if (!next_server_entry(fs, h, &d))
			break;
		int how = from_server ? name_listed(d.name) : 2;
		if (how == 0) { /* left out */
			if (h->has_pending) {
				dent_clear(&h->pending);
				h->has_pending = false;
			}
			h->next++;
			continue;
		}
		size_t need = plus ? fuse_add_direntry_plus(req, NULL, 0, d.name, NULL, 0)
				   : fuse_add_direntry(req, NULL, 0, d.name, NULL, 0);
		if (need > size - used) {
			/* Full: keep the entry for the next call (it was read). */
			if (from_server && h->kind == H_DIR && !h->has_pending) {
				h->pending = d;
				h->pending.name = strdup(d.name);
				h->has_pending = h->pending.name != NULL;
				if (!h->has_pending)
					h->next = UINT64_MAX; /* the next call reads it again */
			}
			break;
		}
		struct fuse_entry_param e;
		entry_init(fs, &e);
		attr_from_dent(fs, &e.attr, 0, &d);
		/* A share's attributes take a tree connect each: the root's
		 * listing gives names only (ls -l asks for each). */
		if (plus && how == 1 && h->kind == H_DIR &&
		    nodes_count(fs->nodes) < NODES_SOFT(fs->o.max_nodes)) {
			uint64_t child;
			if (nodes_lookup(fs->nodes, ino, d.name, &child) == 0)
				e.ino = fs->added[n_added++] = child;
		}
		/* d_ino: the inode when there is one ("." and ".." have theirs but
		 * are never looked up from here: e.ino stays 0 for them). */
		if (h->next == 0)
			e.attr.st_ino = ino;
		else if (h->next == 1)
			e.attr.st_ino =
			    ino == NODES_ROOT ? NODES_ROOT : nodes_parent(fs->nodes, ino);
		else
			e.attr.st_ino = e.ino ? e.ino : name_ino(d.name);
		if (e.attr.st_ino == 0)
			e.attr.st_ino = NODES_ROOT; /* never 0: "deleted" to some readers */
		if (plus)
			used += fuse_add_direntry_plus(req, fs->buf + used, size - used, d.name, &e,
						       (off_t)h->next + 1);
		else
			used += fuse_add_direntry(req, fs->buf + used, size - used, d.name, &e.attr,
						  (off_t)h->next + 1);
		if (h->has_pending) {
			dent_clear(&h->pending);
			h->has_pending = false;
		}
		h->next++;
	}
	/* The kernel counts a lookup of every entry with an inode; when the
	 * reply does not reach it (an interrupted call), it never will. */
	if (fuse_reply_buf(req, fs->buf, used) != 0)
		for (size_t i = 0; i < n_added; i++)
			nodes_forget(fs->nodes, fs->added[i], 1);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	release(req, fi, H_DIR);
}

/*
 * The share's size (smbc_statvfs of its root): libsmbclient gives
 * allocation units in f_blocks/f_bfree/f_bavail, bytes per sector in
 * f_bsize and sectors per unit in f_frsize. The mount's root has none.
 */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct statvfs sv, out;
	struct loc l;
	int r = locate(fs, 0, ino, NULL, &l);

	memset(&out, 0, sizeof(out));
	out.f_bsize = out.f_frsize = 4096;
	out.f_namemax = NAME_MAX_FS;
	if (r == 0 && l.level != L_ROOT) {
		r = smb_url(fs->smb, l.share, "", fs->url[1], sizeof(fs->url[1])) ? -EINVAL : 0;
		memset(&sv, 0, sizeof(sv));
		if (r == 0 && smbc_getFunctionStatVFS(fs->ctx)(fs->ctx, fs->url[1], &sv) < 0)
			r = last_errno();
		if (r == 0) {
			unsigned long unit = sv.f_bsize * (sv.f_frsize ? sv.f_frsize : 1);
			if (unit == 0)
				unit = 4096;
			out.f_bsize = out.f_frsize = unit;
			out.f_blocks = sv.f_blocks;
			out.f_bfree = sv.f_bfree;
			out.f_bavail = sv.f_bavail;
			out.f_files = sv.f_files;
			out.f_ffree = sv.f_ffree;
			out.f_favail = sv.f_ffree;
		}
	}
	if (r)
		reply_status(req, r);
	else
		fuse_reply_statfs(req, &out);
}

static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .link = op_link,
    .rename = op_rename,
    .open = op_open,
    .create = op_create,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .fsync = op_fsync,
    .release = op_release,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsync, /* nothing buffered for a folder either */
    .statfs = op_statfs,
};

/* ---- the session ---- */

void fusefs_opts_init(struct fusefs_opts *o)
{
	*o = (struct fusefs_opts){
	    .uid = geteuid(),
	    .gid = getegid(),
	    .timeout_ms = FUSEFS_TIMEOUT_MS,
	    .max_handles = FUSEFS_MAX_HANDLES,
	    .max_nodes = FUSEFS_MAX_NODES,
	};
}

static void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	for (unsigned i = 0; fs->handles && i < fs->o.max_handles; i++)
		if (fs->handles[i].kind != H_FREE)
			handle_free(fs, &fs->handles[i]);
	free(fs->handles);
	nodes_free(fs->nodes);
	free(fs->buf);
	free(fs->added);
	free(fs);
}

int fusefs_serve(struct smb *smb, const char *server_name, int fuse_fd,
		 const struct fusefs_opts *opts)
{
	char arg0[] = "smbgate-fuse", arg1[] = "-d";
	char *argv[] = {arg0, arg1, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_session *se = NULL;
	char dev[32];
	struct fs *fs;
	int r;

	if (!smb || !server_name || fuse_fd < 0) {
		if (fuse_fd >= 0)
			close(fuse_fd);
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		close(fuse_fd);
		return -ENOMEM;
	}
	if (opts)
		fs->o = *opts;
	else
		fusefs_opts_init(&fs->o);
	if (fs->o.timeout_ms == 0 || fs->o.max_handles == 0 || fs->o.max_nodes == 0) {
		r = -EINVAL;
		goto out;
	}
	fs->smb = smb;
	fs->ctx = smb_ctx(smb);
	fs->server = server_name;
	fs->timeout = fs->o.timeout_ms / 1000.0;
	clock_gettime(CLOCK_REALTIME, &fs->started);
	fs->nodes = nodes_new(fs->o.max_nodes);
	fs->handles = calloc(fs->o.max_handles, sizeof(*fs->handles));
	fs->buf = malloc(FUSEFS_IO_MAX);
	fs->added = calloc(ADDED_MAX, sizeof(*fs->added));
	if (!fs->nodes || !fs->handles || !fs->buf || !fs->added) {
		r = -ENOMEM;
		goto out;
	}
	if (fs->o.debug)
		args.argc = 2;
	se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	if (!se) {
		r = -ENOMEM;
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		r = -EIO;
		goto out;
	}
	/* libfuse's convention for a mounted fd: "/dev/fd/N" (no mount here). */
	snprintf(dev, sizeof(dev), "/dev/fd/%d", fuse_fd);
	if (fuse_session_mount(se, dev) != 0) {
		fuse_remove_signal_handlers(se);
		r = -EBADF;
		goto out;
	}
	fuse_fd = -1; /* the session's now: fuse_session_destroy() closes it */
	r = fuse_session_loop(se);
	fuse_remove_signal_handlers(se);
	if (r > 0)
		r = 0; /* a signal ended it */
	if (r < 0)
		fprintf(stderr, "smbgate-fuse: %s: the session ended: %s\n", fs->server,
			strerror(-r));
out:
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args); /* fuse_session_new() made its own copy */
	if (fuse_fd >= 0)
		close(fuse_fd);
	fs_free(fs);
	return r;
}
