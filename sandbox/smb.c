/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/smb.c - the worker's file operations over libsmbclient (with the
 * FUSE server, the only includers of libsmbclient.h). See smb.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libsmbclient.h>

#include "cfg.h"
#include "smb.h"

#define IO_BUF (4 * 1024 * 1024) /* a round trip per call: large buffers */
/* Downloads go in chunks of this size, and their pipe is made to hold one.
 * Small enough that the gateway reads the bytes while they are still in the
 * CPU's cache: on loopback 1 GiB took 1.02 s in 512 KiB chunks, 1.08 s in
 * 1 MiB, 1.12 s in 2 MiB, 1.24 s in 4 MiB, 1.16 s in 256 KiB and 1.72 s in
 * 128 KiB (a round trip each; docs/performance.md). A power of two (the
 * kernel rounds a pipe's size up to one, and a bigger pipe than a chunk means
 * copying, see by_ref_ok()), at most IO_BUF. */
#define READ_CHUNK (512 * 1024)
/* readdirplus (not readdirplus2, which builds a path and a stat per entry:
 * 8 µs each, 80 ms for 10 000) gives the DOS attributes: */
#define FILE_ATTR_DIRECTORY	0x10
#define FILE_ATTR_REPARSE_POINT 0x400
/* From here on, two readers take turns (read_striped()). Below it the second
 * reader's own SMB session costs more than it brings: on loopback with
 * 512 KiB chunks, one reader / two took 20 / 35 ms for 16 MiB, 121 / 147 ms
 * for 128 MiB, 268 / 277 ms for 256 MiB, 593 / 504 ms for 512 MiB and
 * 1.16 / 1.00 s (medians) for 1 GiB. On a real network, where one reader
 * waits a round trip per chunk, two pay off sooner: hence 64 MiB. */
#define STRIPE_MIN    (64 * (uint64_t)1024 * 1024)
#define URL_MAX	      SMB_URL_MAX
#define RMDIR_DEPTH   64
#define RMDIR_ENTRIES 100000

struct smb {
	SMBCCTX *ctx;
	char server[PROTO_MAX_NAME + 1];
	int show_hidden;
	char *buf;     /* IO_BUF bytes */
	char *zbuf[2]; /* READ_CHUNK bytes each, page-aligned, made on first use */
	/* The credentials, for libsmbclient's auth callback (it asks again on
	 * every new connection). Wiped in smb_free(). */
	char domain[PROTO_MAX_CRED + 1];
	char user[PROTO_MAX_CRED + 1];
	char password[PROTO_MAX_CRED + 1];
	struct smb_params params; /* .server points at server[] */
};

static void auth_cb(SMBCCTX *ctx, const char *server, const char *share, char *wg, int wglen,
		    char *un, int unlen, char *pw, int pwlen)
{
	struct smb *s = smbc_getOptionUserData(ctx);

	(void)server;
	(void)share;
	snprintf(wg, (size_t)wglen, "%s", s->domain);
	snprintf(un, (size_t)unlen, "%s", s->user);
	snprintf(pw, (size_t)pwlen, "%s", s->password);
}

int smb_errno_to_proto(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return PROTO_E_NOT_FOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return PROTO_E_ACCESS;
	case EEXIST:
		return PROTO_E_EXISTS;
	case ENOTEMPTY:
		return PROTO_E_NOT_EMPTY;
	case ENOTDIR:
		return PROTO_E_NOT_DIR;
	case EISDIR:
		return PROTO_E_IS_DIR;
	case ENOSPC:
	case EDQUOT:
		return PROTO_E_NO_SPACE;
	case EINVAL:
	case ENAMETOOLONG:
	case EILSEQ:
		return PROTO_E_BAD_NAME;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
	case ENOTCONN:
		return PROTO_E_UNREACHABLE;
	case ETIMEDOUT:
		return PROTO_E_TIMEOUT;
	case EPROTO:
	case EBADMSG:
		return PROTO_E_PROTOCOL;
	default:
		return PROTO_E_IO;
	}
}

static int last_err(void)
{
	return smb_errno_to_proto(errno);
}

/* Appends @s percent-encoded (everything but unreserved characters). */
static int url_append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (*len + 4 > size)
			return PROTO_E_BAD_NAME;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf[(*len)++] = (char)c;
		} else {
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[c >> 4];
			buf[(*len)++] = hex[c & 15];
		}
	}
	buf[*len] = '\0';
	return 0;
}

/* Whether @name may travel to the server as a file or share name: what
 * proto_name_valid() allows, but no SMB wildcard ('*', '?': SMB1 unlink and
 * rename take patterns) and no ':' (alternate data streams). */
static bool smb_name_ok(const char *name)
{
	return proto_name_valid(name) && !strpbrk(name, "*?:");
}

bool smb_path_reserved(const char *path)
{
	for (const char *p = path; p && *p;) {
		if (strncmp(p, SMB_TMP_PREFIX, strlen(SMB_TMP_PREFIX)) == 0)
			return true;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return false;
}

/* smb://server/share/seg/seg with every segment checked and encoded. */
static int make_url(const struct smb *s, char *buf, size_t size, const char *share,
		    const char *path)
{
	size_t len;
	int n;

	if (!smb_name_ok(share) || strcasecmp(share, "IPC$") == 0)
		return PROTO_E_BAD_NAME;
	n = snprintf(buf, size, "smb://%s/", s->server);
	if (n < 0 || (size_t)n >= size)
		return PROTO_E_BAD_NAME;
	len = (size_t)n;
	if (url_append(buf, size, &len, share, strlen(share)))
		return PROTO_E_BAD_NAME;
	if (!path || !*path)
		return 0;
	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		size_t seg = slash ? (size_t)(slash - p) : strlen(p);
		char name[PROTO_MAX_NAME + 1];
		if (seg == 0 || seg > PROTO_MAX_NAME)
			return PROTO_E_BAD_NAME;
		memcpy(name, p, seg);
		name[seg] = '\0';
		if (!smb_name_ok(name))
			return PROTO_E_BAD_NAME;
		if (len + 2 > size)
			return PROTO_E_BAD_NAME;
		buf[len++] = '/';
		if (url_append(buf, size, &len, name, seg))
			return PROTO_E_BAD_NAME;
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

int smb_url(const struct smb *s, const char *share, const char *path, char *buf, size_t size)
{
	return make_url(s, buf, size, share, path);
}

struct _SMBCCTX *smb_ctx(struct smb *s)
{
	return s->ctx;
}

/* A temporary name beside @path ("dir/.~smbgate-<hex>.tmp"). */
static int make_tmp_path(char *buf, size_t size, const char *path, const char *tag)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return PROTO_E_IO;
	int n = snprintf(buf, size, "%.*s" SMB_TMP_PREFIX "%s-%016llx.tmp", (int)dirlen, path, tag,
			 (unsigned long long)rnd);
	return n < 0 || (size_t)n >= size ? PROTO_E_BAD_NAME : 0;
}

static int64_t ts_sec(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec;
}

static int smb_new(const struct smb_params *p, const char *domain, const char *user,
		   const char *password, bool verify, struct smb **ret)
{
	static const char *const protos[] = {
	    [CFG_PROTO_NT1] = "NT1",	     [CFG_PROTO_SMB2_02] = "SMB2_02",
	    [CFG_PROTO_SMB2_10] = "SMB2_10", [CFG_PROTO_SMB3_00] = "SMB3_00",
	    [CFG_PROTO_SMB3_02] = "SMB3_02", [CFG_PROTO_SMB3_11] = "SMB3_11",
	};
	struct smb *s;
	int r;

	if (p->min_protocol > CFG_PROTO_SMB3_11 || p->max_protocol > CFG_PROTO_SMB3_11 ||
	    strlen(p->server) > PROTO_MAX_NAME)
		return PROTO_E_INVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PROTO_E_IO;
	s->buf = malloc(IO_BUF);
	s->ctx = smbc_new_context();
	if (!s->buf || !s->ctx) {
		r = PROTO_E_IO;
		goto fail;
	}
	snprintf(s->server, sizeof(s->server), "%s", p->server);
	s->show_hidden = p->show_hidden;
	s->params = *p;
	s->params.server = s->server;

	smbc_setDebug(s->ctx, 0);
	smbc_setOptionDebugToStderr(s->ctx, 1);
	smbc_setOptionNoAutoAnonymousLogin(s->ctx, 1);
	smbc_setOptionUseKerberos(s->ctx, 0);
	smbc_setOptionFallbackAfterKerberos(s->ctx, 0);
	smbc_setOptionUseCCache(s->ctx, 0);
	smbc_setOptionUrlEncodeReaddirEntries(s->ctx, 0);
	smbc_setOptionOneSharePerServer(s->ctx, 0);
	smbc_setTimeout(s->ctx, (int)(p->timeout * 1000));
	smbc_setPort(s->ctx, 445);
	smbc_setOptionSmbEncryptionLevel(
	    s->ctx, p->encryption == CFG_ENCRYPTION_REQUIRED  ? SMBC_ENCRYPTLEVEL_REQUIRE
		    : p->encryption == CFG_ENCRYPTION_DESIRED ? SMBC_ENCRYPTLEVEL_REQUEST
							      : SMBC_ENCRYPTLEVEL_NONE);
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->password, sizeof(s->password), "%s", password);
	smbc_setOptionUserData(s->ctx, s);
	smbc_setFunctionAuthDataWithContext(s->ctx, auth_cb);
	if (!smbc_init_context(s->ctx)) {
		r = last_err();
		goto fail;
	}
	smbc_setOptionProtocols(s->ctx, protos[p->min_protocol], protos[p->max_protocol]);

	if (!verify) {
		*ret = s;
		return 0;
	}
	/* Check them with a session setup: a stat of smb://server/ authenticates,
	 * then asks for the share "", which no server has (BAD_NETWORK_NAME:
	 * ENOENT). Every refusal of the credentials maps to EACCES or EPERM
	 * before that. Listing the shares instead costs an IPC$ tree connect
	 * and an RPC bind: ~3 ms more per login (docs/performance.md). */
	char url[PROTO_MAX_NAME + 16];
	struct stat st;
	snprintf(url, sizeof(url), "smb://%s/", s->server);
	errno = 0;
	if (smbc_getFunctionStat(s->ctx)(s->ctx, url, &st) != 0 && errno != ENOENT) {
		/* Refused credentials, or no answer in time; anything else here
		 * means the server could not be talked to (through the pinhole,
		 * an unreachable server is a connection closed early: ECONNRESET,
		 * EIO or ENOTCONN depending on when libsmbclient notices). */
		r = errno == EACCES || errno == EPERM ? PROTO_E_AUTH
		    : errno == ETIMEDOUT	      ? PROTO_E_TIMEOUT
						      : PROTO_E_UNREACHABLE;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	smb_free(s);
	return r;
}

int smb_open(const struct smb_params *p, const char *domain, const char *user, const char *password,
	     struct smb **ret)
{
	return smb_new(p, domain, user, password, true, ret);
}

int smb_clone(const struct smb *s, struct smb **ret)
{
	return smb_new(&s->params, s->domain, s->user, s->password, false, ret);
}

void smb_free(struct smb *s)
{
	if (!s)
		return;
	if (s->ctx)
		smbc_free_context(s->ctx, 1);
	free(s->buf);
	for (int i = 0; i < 2; i++)
		if (s->zbuf[i])
			munmap(s->zbuf[i], READ_CHUNK);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

int smb_check_password(const struct smb *s, const char *password)
{
	size_t a = strlen(s->password), b = strnlen(password, PROTO_MAX_CRED + 1);
	unsigned char diff = (unsigned char)(a != b);

	for (size_t i = 0; i < sizeof(s->password); i++) {
		unsigned char x = i < b ? (unsigned char)password[i] : 0;
		diff |= (unsigned char)(s->password[i] ^ x);
	}
	return diff ? PROTO_E_AUTH : 0;
}

int smb_shares(struct smb *s, smb_entry_cb cb, void *ud)
{
	char url[PROTO_MAX_NAME + 16];
	struct smbc_dirent *e;
	SMBCFILE *d;
	int r = 0;

	snprintf(url, sizeof(url), "smb://%s/", s->server);
	d = smbc_getFunctionOpendir(s->ctx)(s->ctx, url);
	if (!d)
		return last_err();
	while ((e = smbc_getFunctionReaddir(s->ctx)(s->ctx, d)) != NULL) {
		size_t len = strlen(e->name);
		if (e->smbc_type != SMBC_FILE_SHARE || len == 0)
			continue;
		if (e->name[len - 1] == '$' && !s->show_hidden)
			continue;
		if (!proto_name_valid(e->name))
			continue;
		/* The comment is the server's free text: kept only when it is clean. */
		r = cb(ud, PROTO_FT_SHARE, 0, 0, e->name,
		       e->commentlen > 0 && proto_comment_valid(e->comment) ? e->comment : "");
		if (r)
			break;
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	return r;
}

static int stat_url(struct smb *s, const char *url, struct proto_stat *ret)
{
	struct stat st;

	if (smbc_getFunctionStat(s->ctx)(s->ctx, url, &st) < 0)
		return last_err();
	*ret = (struct proto_stat){
	    .ftype = S_ISDIR(st.st_mode) ? PROTO_FT_DIR : PROTO_FT_FILE,
	    .size = S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size,
	    .mtime = (int64_t)st.st_mtime,
	};
	return 0;
}

int smb_stat(struct smb *s, const char *share, const char *path, struct proto_stat *ret)
{
	char url[URL_MAX];
	int r = make_url(s, url, sizeof(url), share, path);

	return r ? r : stat_url(s, url, ret);
}

int smb_list(struct smb *s, const char *share, const char *path, smb_entry_cb cb, void *ud,
	     unsigned *skipped)
{
	char url[URL_MAX];
	const struct libsmb_file_info *fi;
	SMBCFILE *d;
	int r = make_url(s, url, sizeof(url), share, path);

	if (r)
		return r;
	d = smbc_getFunctionOpendir(s->ctx)(s->ctx, url);
	if (!d)
		return last_err();
	while ((fi = smbc_getFunctionReaddirPlus(s->ctx)(s->ctx, d)) != NULL) {
		if (!fi->name || strcmp(fi->name, ".") == 0 || strcmp(fi->name, "..") == 0)
			continue;
		if (!proto_name_valid(fi->name)) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		if (smb_path_reserved(fi->name))
			continue; /* an upload in progress, not a file yet */
		bool dir = fi->attrs & FILE_ATTR_DIRECTORY;
		r = cb(ud, dir ? PROTO_FT_DIR : PROTO_FT_FILE, dir ? 0 : fi->size,
		       ts_sec(&fi->mtime_ts), fi->name, NULL);
		if (r)
			break;
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	return r;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Hands @n bytes at @buf to the pipe @fd by reference (vmsplice): no copy
 * into pipe pages. The pages must not change until the reader has read them:
 * see read_striped(). 0, or -1 with errno. */
static int splice_all(int fd, const char *buf, size_t n)
{
	struct iovec v = {.iov_base = (void *)buf, .iov_len = n};

	while (v.iov_len > 0) {
		ssize_t w = vmsplice(fd, &v, 1, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		v.iov_base = (char *)v.iov_base + w;
		v.iov_len -= (size_t)w;
	}
	return 0;
}

/* A reader's buffer: s->buf when copying, else page-aligned buffer @which (0
 * or 1; made on first use). NULL when it cannot be made. */
static char *chunk_buf(struct smb *s, bool by_ref, unsigned which)
{
	if (!by_ref)
		return s->buf;
	char **b = &s->zbuf[which % 2];
	if (!*b) {
		void *m = mmap(NULL, READ_CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		/* The forked reader makes its own: no copy-on-write faults here. */
		(void)madvise(m, READ_CHUNK, MADV_DONTFORK);
		*b = m;
	}
	return *b;
}

static int put_chunk(int fd, bool by_ref, const char *buf, size_t n)
{
	return by_ref ? splice_all(fd, buf, n) : write_all(fd, buf, n);
}

/*
 * Whether chunks can go into @fd by reference (vmsplice). Each reader then
 * fills its two buffers in turn, and fills one again only after a whole
 * chunk (READ_CHUNK bytes) entered the pipe after it: a pipe is first in, first
 * out and here holds one chunk at most, so by then the gateway has read every
 * page of that buffer. (Only the last chunk is short.) Needs @fd to be such a
 * pipe and both buffers made.
 */
static bool by_ref_ok(struct smb *s, int fd)
{
	int cap = fcntl(fd, F_GETPIPE_SZ);
	return cap > 0 && cap <= READ_CHUNK && chunk_buf(s, true, 0) && chunk_buf(s, true, 1);
}

/* Reads up to @n bytes at @off of @f into @buf, as many calls as it takes:
 * the count (short at the end of the file), or -1 with errno. */
static ssize_t read_at(struct smb *s, SMBCFILE *f, char *buf, uint64_t off, size_t n)
{
	size_t got = 0;

	if (smbc_getFunctionLseek(s->ctx)(s->ctx, f, (off_t)off, SEEK_SET) < 0)
		return -1;
	while (got < n) {
		ssize_t r = smbc_getFunctionRead(s->ctx)(s->ctx, f, buf + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* One SMB read at a time, each written to @fd before the next; by reference
 * from two buffers in turn when there is more than one chunk (by_ref_ok()). */
static int read_chunks(struct smb *s, SMBCFILE *f, uint64_t offset, uint64_t left, int fd,
		       uint64_t *done)
{
	bool by_ref = left > READ_CHUNK && by_ref_ok(s, fd);

	for (unsigned k = 0; left > 0; k++) {
		size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
		char *buf = chunk_buf(s, by_ref, k % 2);
		ssize_t n = read_at(s, f, buf, offset, want);
		if (n < 0)
			return last_err();
		if (n == 0)
			return 0; /* the file shrank: the gateway sees a short body */
		if (put_chunk(fd, by_ref, buf, (size_t)n) < 0)
			return PROTO_E_IO; /* the reader went away */
		offset += (uint64_t)n;
		left -= (uint64_t)n;
		*done += (uint64_t)n;
		if ((size_t)n != want)
			return 0; /* the file shrank */
	}
	return 0;
}

/* The turn of a chunk: passed between the two readers of read_striped(). */
struct turn {
	char what; /* 'W': wrote a whole chunk, go on; 'S': stop (end of file); 'X': failed */
	uint64_t bytes;
};

static int turn_send(int fd, char what, uint64_t bytes)
{
	struct turn t = {.what = what, .bytes = bytes};
	return write(fd, &t, sizeof(t)) == sizeof(t) ? 0 : -1;
}

static struct turn turn_wait(int fd)
{
	struct turn t = {.what = 'X'};
	ssize_t n;
	do
		n = read(fd, &t, sizeof(t));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(t))
		t.what = 'X'; /* the other one died */
	return t;
}

/*
 * Large reads: libsmbclient keeps one read in flight, and a stop-and-wait
 * stream uses half of what the link gives. Two readers, this worker and a
 * forked copy with its own SMB connection, take the chunks in turns (even
 * ones here, odd ones there): one reads the next chunk while the other writes
 * its own into @fd, and a turn token keeps the bytes in order.
 *
 * By reference when by_ref_ok(): each reader uses its two buffers in turn
 * (chunk k in buffer k / 2 % 2). A reader refills a buffer (chunk k, before it
 * waits for its turn) only after its own chunk k - 2 entered the pipe in full
 * after that buffer's chunk k - 4: the rule of by_ref_ok() holds whatever the
 * other reader does.
 */
static int read_striped(struct smb *s, const char *url, SMBCFILE *f, uint64_t offset, uint64_t left,
			int fd, uint64_t *done)
{
	const uint64_t end = offset + left;
	int to_copy[2], to_me[2];
	int r = 0;
	bool by_ref = by_ref_ok(s, fd);

	if (pipe2(to_copy, O_CLOEXEC) < 0)
		return read_chunks(s, f, offset, left, fd, done);
	if (pipe2(to_me, O_CLOEXEC) < 0) {
		close(to_copy[0]);
		close(to_copy[1]);
		return read_chunks(s, f, offset, left, fd, done);
	}
	pid_t pid = fork();
	if (pid < 0) {
		for (int i = 0; i < 2; i++) {
			close(to_copy[i]);
			close(to_me[i]);
		}
		return read_chunks(s, f, offset, left, fd, done);
	}
	if (pid == 0) {
		/* The copy: odd chunks, its own context (the parent's shares its
		 * connection with the parent: never touch it). */
		struct smb *c = NULL;
		SMBCFILE *cf;
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(to_copy[1]);
		close(to_me[0]);
		if (smb_clone(s, &c) != 0 ||
		    !(cf = smbc_getFunctionOpen(c->ctx)(c->ctx, url, O_RDONLY, 0))) {
			turn_send(to_me[1], 'X', 0);
			_exit(1);
		}
		for (uint64_t k = 1;; k += 2) {
			uint64_t at = offset + k * READ_CHUNK;
			if (at >= end)
				_exit(0);
			size_t want = end - at < READ_CHUNK ? (size_t)(end - at) : READ_CHUNK;
			char *buf = chunk_buf(c, by_ref, (unsigned)(k / 2));
			ssize_t n = buf ? read_at(c, cf, buf, at, want) : -1;
			struct turn t = turn_wait(to_copy[0]);
			if (t.what != 'W')
				_exit(0);
			if (n < 0 || put_chunk(fd, by_ref, buf, (size_t)n) < 0) {
				turn_send(to_me[1], 'X', 0);
				_exit(1);
			}
			if ((size_t)n != want || at + want >= end)
				close(fd); /* the last chunk: EOF may come before END */
			turn_send(to_me[1], (size_t)n == want ? 'W' : 'S', (uint64_t)n);
			if ((size_t)n != want)
				_exit(0);
		}
	}
	close(to_copy[0]);
	close(to_me[1]);
	for (uint64_t k = 0;; k += 2) {
		uint64_t at = offset + k * READ_CHUNK;
		if (at >= end)
			break;
		size_t want = end - at < READ_CHUNK ? (size_t)(end - at) : READ_CHUNK;
		char *buf = chunk_buf(s, by_ref, (unsigned)(k / 2));
		ssize_t n = read_at(s, f, buf, at, want);
		if (k > 0) {
			struct turn t = turn_wait(to_me[0]);
			if (t.what == 'X') {
				r = PROTO_E_IO;
				break;
			}
			*done += t.bytes;
			if (t.what == 'S')
				break;
		}
		if (n < 0) {
			r = last_err();
			break;
		}
		if (put_chunk(fd, by_ref, buf, (size_t)n) < 0) {
			r = PROTO_E_IO; /* the reader went away */
			break;
		}
		*done += (uint64_t)n;
		if ((size_t)n != want)
			break; /* the file shrank */
		if (at + want >= end)
			break;
		/* The copy writes the next chunk, then hands the turn back. */
		if (turn_send(to_copy[1], 'W', 0) < 0) {
			r = PROTO_E_IO;
			break;
		}
		if (at + want + READ_CHUNK >= end) {
			/* That was the last chunk: wait for it. */
			struct turn t = turn_wait(to_me[0]);
			if (t.what == 'X')
				r = PROTO_E_IO;
			else
				*done += t.bytes;
			break;
		}
	}
	close(to_copy[1]); /* the copy stops at its next turn, if any */
	close(to_me[0]);
	return r;
}

int smb_read(struct smb *s, const char *share, const char *path, uint64_t offset, uint64_t length,
	     int fd, int (*started)(void *ud, const struct proto_stat *st, uint64_t length),
	     void *ud, uint64_t *written)
{
	char url[URL_MAX];
	struct proto_stat pst = {0};
	struct stat st;
	SMBCFILE *f;
	uint64_t left, done = 0;
	int r = make_url(s, url, sizeof(url), share, path);

	*written = 0;
	if (r)
		return r;
	/* The open handle says what it is: no stat of the path first (a round
	 * trip more per download). */
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, url, O_RDONLY, 0);
	if (!f)
		return last_err();
	if (smbc_getFunctionFstat(s->ctx)(s->ctx, f, &st) < 0) {
		r = last_err();
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = PROTO_E_IS_DIR;
		goto out;
	}
	pst = (struct proto_stat){
	    .ftype = PROTO_FT_FILE, .size = (uint64_t)st.st_size, .mtime = (int64_t)st.st_mtime};
	if (offset > pst.size) {
		r = PROTO_E_INVALID;
		goto out;
	}
	left = pst.size - offset;
	if (length < left)
		left = length;
	r = started(ud, &pst, left);
	if (r)
		goto out;
	/* The pipe holds one chunk (READ_CHUNK; by_ref_ok()). It is still empty,
	 * Should @fd not be a pipe, this fails, harmlessly. */
	(void)fcntl(fd, F_SETPIPE_SZ, READ_CHUNK);
	if (left >= STRIPE_MIN)
		r = read_striped(s, url, f, offset, left, fd, &done);
	else
		r = read_chunks(s, f, offset, left, fd, &done);
out:
	smbc_getFunctionClose(s->ctx)(s->ctx, f);
	*written = done;
	return r;
}

static int url_exists(struct smb *s, const char *url, struct proto_stat *st)
{
	int r = stat_url(s, url, st);
	if (r == 0)
		return 1;
	return r == PROTO_E_NOT_FOUND ? 0 : -r;
}

static void unlink_quiet(struct smb *s, const char *url)
{
	int saved = errno;
	(void)smbc_getFunctionUnlink(s->ctx)(s->ctx, url);
	errno = saved;
}

static int check_target(struct smb *s, const char *url, uint32_t flags, int *existed);

/* Moves the complete temporary @tmp over @target and removes @tmp when that
 * fails: the old target stays recoverable under a backup name until the new
 * one is in place, and is put back if the final rename fails. */
static int replace(struct smb *s, const char *share, const char *path, const char *tmp,
		   const char *target, uint32_t flags, uint32_t *created)
{
	char bak_path[PROTO_MAX_PATH + 64], bak[URL_MAX];
	int ex = 0, r = check_target(s, target, flags, &ex);

	if (r == 0)
		*created = !ex;
	if (r == 0 && !ex && smbc_getFunctionRename(s->ctx)(s->ctx, tmp, s->ctx, target) < 0)
		r = last_err();
	if (r || !ex)
		goto out;
	r = make_tmp_path(bak_path, sizeof(bak_path), path, "old");
	if (r == 0)
		r = make_url(s, bak, sizeof(bak), share, bak_path);
	if (r == 0 && smbc_getFunctionRename(s->ctx)(s->ctx, target, s->ctx, bak) < 0)
		r = last_err();
	if (r)
		goto out;
	if (smbc_getFunctionRename(s->ctx)(s->ctx, tmp, s->ctx, target) == 0) {
		unlink_quiet(s, bak);
		return 0;
	}
	r = last_err();
	if (smbc_getFunctionRename(s->ctx)(s->ctx, bak, s->ctx, target) < 0) {
		/* Neither in place: keep both rather than lose data; say where. */
		fprintf(stderr, "smbgate-worker: replacing %s failed; old file kept as %s\n", path,
			bak_path);
		return r;
	}
out:
	if (r)
		unlink_quiet(s, tmp);
	return r;
}

static int check_target(struct smb *s, const char *url, uint32_t flags, int *existed)
{
	struct proto_stat st = {0};
	int ex = url_exists(s, url, &st);

	if (ex < 0)
		return -ex;
	if (existed)
		*existed = ex;
	if (ex && st.ftype == PROTO_FT_DIR)
		return PROTO_E_IS_DIR;
	if (ex && !(flags & PROTO_F_OVERWRITE))
		return PROTO_E_EXISTS;
	return 0;
}

/* Writes all @n bytes of @buf to @f: 0 or a proto_err. */
static int smb_write_all(struct smb *s, SMBCFILE *f, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = smbc_getFunctionWrite(s->ctx)(s->ctx, f, buf, n);
		if (w <= 0)
			return w < 0 ? last_err() : PROTO_E_IO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Closes the complete temporary @f and moves it over the target. */
static int commit_tmp(struct smb *s, SMBCFILE *f, const char *share, const char *path,
		      const char *tmp, const char *target, uint32_t flags, uint32_t *created)
{
	int r;

	if (smbc_getFunctionClose(s->ctx)(s->ctx, f) < 0) {
		r = last_err();
		unlink_quiet(s, tmp);
		return r;
	}
	return replace(s, share, path, tmp, target, flags, created);
}

int smb_write(struct smb *s, const char *share, const char *path, uint32_t flags, int fd,
	      uint64_t size, uint32_t *created, uint64_t *written)
{
	char url[URL_MAX], tmp[URL_MAX], tmp_path[PROTO_MAX_PATH + 64];
	uint64_t done = 0;
	SMBCFILE *f;
	int r;

	*written = 0;
	*created = 0;
	if (!path || !*path)
		return PROTO_E_IS_DIR;
	r = make_url(s, url, sizeof(url), share, path);
	if (r == 0)
		r = make_tmp_path(tmp_path, sizeof(tmp_path), path, "new");
	if (r == 0)
		r = make_url(s, tmp, sizeof(tmp), share, tmp_path);
	if (r == 0)
		r = check_target(s, url, flags, NULL);
	if (r)
		return r;
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!f)
		return last_err();
	for (;;) {
		ssize_t n = read(fd, s->buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = PROTO_E_IO;
			goto abort;
		}
		if (n == 0)
			break;
		if (size != UINT64_MAX && done + (uint64_t)n > size) {
			r = PROTO_E_INVALID;
			goto abort;
		}
		r = smb_write_all(s, f, s->buf, (size_t)n);
		if (r)
			goto abort;
		done += (uint64_t)n;
	}
	if (size != UINT64_MAX && done != size) {
		r = PROTO_E_IO; /* the upload was cut short */
		goto abort;
	}
	r = commit_tmp(s, f, share, path, tmp, url, flags, created);
	if (r)
		return r;
	*written = done;
	return 0;
abort:
	smbc_getFunctionClose(s->ctx)(s->ctx, f);
	unlink_quiet(s, tmp);
	return r;
}

int smb_mkdir(struct smb *s, const char *share, const char *path)
{
	char url[URL_MAX];
	int r = make_url(s, url, sizeof(url), share, path);

	if (r)
		return r;
	if (!*path)
		return PROTO_E_EXISTS;
	if (smbc_getFunctionMkdir(s->ctx)(s->ctx, url, 0755) < 0)
		return last_err();
	return 0;
}

int smb_rename(struct smb *s, const char *share, const char *from, const char *to, uint32_t flags,
	       uint32_t *created)
{
	char ufrom[URL_MAX], uto[URL_MAX];
	struct proto_stat st = {0}, tst = {0};
	int r, ex;

	*created = 0;
	if (!*from || !*to)
		return PROTO_E_INVALID;
	r = make_url(s, ufrom, sizeof(ufrom), share, from);
	if (r == 0)
		r = make_url(s, uto, sizeof(uto), share, to);
	if (r)
		return r;
	r = stat_url(s, ufrom, &st);
	if (r)
		return r;
	if (strcmp(from, to) == 0)
		return 0;
	/* A directory cannot move into itself. */
	size_t fl = strlen(from);
	if (st.ftype == PROTO_FT_DIR && strncmp(to, from, fl) == 0 && to[fl] == '/')
		return PROTO_E_INVALID;
	ex = url_exists(s, uto, &tst);
	if (ex < 0)
		return -ex;
	if (ex && !(flags & PROTO_F_OVERWRITE))
		return PROTO_E_EXISTS;
	if (ex && tst.ftype == PROTO_FT_DIR)
		return PROTO_E_IS_DIR;
	*created = !ex;
	/* libsmbclient replaces an existing file target itself. */
	if (smbc_getFunctionRename(s->ctx)(s->ctx, ufrom, s->ctx, uto) < 0)
		return last_err();
	return 0;
}

static int splice_progress(off_t n, void *priv)
{
	(void)n;
	(void)priv;
	return 1;
}

int smb_copy(struct smb *s, const char *share, const char *from, const char *to, uint32_t flags,
	     uint32_t *created, uint64_t *copied)
{
	char ufrom[URL_MAX], uto[URL_MAX], tmp[URL_MAX], tmp_path[PROTO_MAX_PATH + 64];
	struct proto_stat st = {0};
	SMBCFILE *src, *dst;
	uint64_t done = 0;
	int r;

	*created = 0;
	*copied = 0;
	if (!*from || !*to)
		return PROTO_E_INVALID;
	r = make_url(s, ufrom, sizeof(ufrom), share, from);
	if (r == 0)
		r = make_url(s, uto, sizeof(uto), share, to);
	if (r == 0)
		r = make_tmp_path(tmp_path, sizeof(tmp_path), to, "new");
	if (r == 0)
		r = make_url(s, tmp, sizeof(tmp), share, tmp_path);
	if (r == 0)
		r = stat_url(s, ufrom, &st);
	if (r)
		return r;
	if (st.ftype == PROTO_FT_DIR)
		return PROTO_E_IS_DIR;
	if (strcmp(from, to) == 0)
		return PROTO_E_EXISTS;
	r = check_target(s, uto, flags, NULL);
	if (r)
		return r;
	src = smbc_getFunctionOpen(s->ctx)(s->ctx, ufrom, O_RDONLY, 0);
	if (!src)
		return last_err();
	dst = smbc_getFunctionOpen(s->ctx)(s->ctx, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!dst) {
		r = last_err();
		smbc_getFunctionClose(s->ctx)(s->ctx, src);
		return r;
	}
	/* Server-side copy (SMB2 copychunk) when the server has it. */
	off_t n =
	    smbc_getFunctionSplice(s->ctx)(s->ctx, src, dst, (off_t)st.size, splice_progress, NULL);
	if (n >= 0 && (uint64_t)n == st.size) {
		done = (uint64_t)n;
	} else {
		/* Streamed: start over from the beginning. */
		if (smbc_getFunctionLseek(s->ctx)(s->ctx, src, 0, SEEK_SET) < 0 ||
		    smbc_getFunctionFtruncate(s->ctx)(s->ctx, dst, 0) < 0 ||
		    smbc_getFunctionLseek(s->ctx)(s->ctx, dst, 0, SEEK_SET) < 0) {
			r = last_err();
			goto abort;
		}
		for (;;) {
			ssize_t rd = smbc_getFunctionRead(s->ctx)(s->ctx, src, s->buf, IO_BUF);
			if (rd < 0) {
				r = last_err();
				goto abort;
			}
			if (rd == 0)
				break;
			r = smb_write_all(s, dst, s->buf, (size_t)rd);
			if (r)
				goto abort;
			done += (uint64_t)rd;
		}
	}
	smbc_getFunctionClose(s->ctx)(s->ctx, src);
	r = commit_tmp(s, dst, share, to, tmp, uto, flags, created);
	if (r)
		return r;
	*copied = done;
	return 0;
abort:
	smbc_getFunctionClose(s->ctx)(s->ctx, src);
	smbc_getFunctionClose(s->ctx)(s->ctx, dst);
	unlink_quiet(s, tmp);
	return r;
}

int smb_unlink(struct smb *s, const char *share, const char *path)
{
	char url[URL_MAX];
	struct proto_stat st = {0};
	int r = make_url(s, url, sizeof(url), share, path);

	if (r)
		return r;
	if (!*path)
		return PROTO_E_IS_DIR;
	r = stat_url(s, url, &st);
	if (r)
		return r;
	if (st.ftype == PROTO_FT_DIR)
		return PROTO_E_IS_DIR;
	if (smbc_getFunctionUnlink(s->ctx)(s->ctx, url) < 0)
		return last_err();
	return 0;
}

struct name_list {
	char **names;
	bool *dirs, *links;
	size_t n, cap;
};

static void name_list_free(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->dirs);
	free(l->links);
}

static int rmdir_url(struct smb *s, const char *url, int depth, size_t *budget)
{
	const struct libsmb_file_info *fi;
	struct name_list l = {0};
	SMBCFILE *d;
	int r = 0;

	if (depth > RMDIR_DEPTH)
		return PROTO_E_TOO_BIG;
	d = smbc_getFunctionOpendir(s->ctx)(s->ctx, url);
	if (!d)
		return last_err();
	while ((fi = smbc_getFunctionReaddirPlus(s->ctx)(s->ctx, d)) != NULL) {
		if (!fi->name || strcmp(fi->name, ".") == 0 || strcmp(fi->name, "..") == 0)
			continue;
		if (*budget == 0) {
			r = PROTO_E_TOO_BIG;
			break;
		}
		(*budget)--;
		if (l.n == l.cap) {
			size_t cap = l.cap ? l.cap * 2 : 16;
			char **nn = realloc(l.names, cap * sizeof(*nn));
			if (nn)
				l.names = nn;
			bool *nd = nn ? realloc(l.dirs, cap * sizeof(*nd)) : NULL;
			if (nd)
				l.dirs = nd;
			bool *nl = nd ? realloc(l.links, cap * sizeof(*nl)) : NULL;
			if (!nn || !nd || !nl) {
				r = PROTO_E_IO;
				break;
			}
			l.links = nl;
			l.cap = cap;
		}
		if (!smb_name_ok(fi->name))
			continue; /* left there: the final rmdir says "not empty" */
		l.names[l.n] = strdup(fi->name);
		if (!l.names[l.n]) {
			r = PROTO_E_IO;
			break;
		}
		/* A junction or symbolic link to a folder is removed itself, never
		 * entered: what it points to is not part of this tree. */
		l.dirs[l.n] = fi->attrs & FILE_ATTR_DIRECTORY;
		l.links[l.n++] = fi->attrs & FILE_ATTR_REPARSE_POINT;
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		char child[URL_MAX];
		size_t len = strlen(url);
		if (len + 2 > sizeof(child)) {
			r = PROTO_E_BAD_NAME;
			break;
		}
		memcpy(child, url, len);
		child[len++] = '/';
		child[len] = '\0';
		if (url_append(child, sizeof(child), &len, l.names[i], strlen(l.names[i]))) {
			r = PROTO_E_BAD_NAME;
			break;
		}
		if (l.dirs[i] && l.links[i])
			r = smbc_getFunctionRmdir(s->ctx)(s->ctx, child) < 0 ? last_err() : 0;
		else if (l.dirs[i])
			r = rmdir_url(s, child, depth + 1, budget);
		else if (smbc_getFunctionUnlink(s->ctx)(s->ctx, child) < 0)
			r = last_err();
	}
	name_list_free(&l);
	if (r == 0 && smbc_getFunctionRmdir(s->ctx)(s->ctx, url) < 0)
		r = last_err();
	return r;
}

int smb_rmdir(struct smb *s, const char *share, const char *path, uint32_t flags)
{
	char url[URL_MAX];
	struct proto_stat st = {0};
	size_t budget = RMDIR_ENTRIES;
	int r = make_url(s, url, sizeof(url), share, path);

	if (r)
		return r;
	if (!*path)
		return PROTO_E_ACCESS; /* never the share itself */
	r = stat_url(s, url, &st);
	if (r)
		return r;
	if (st.ftype != PROTO_FT_DIR)
		return PROTO_E_NOT_DIR;
	if (flags & PROTO_F_RECURSIVE)
		return rmdir_url(s, url, 0, &budget);
	if (smbc_getFunctionRmdir(s->ctx)(s->ctx, url) < 0)
		return last_err();
	return 0;
}
