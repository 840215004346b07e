/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/smb.c - the worker's file operations over libsmbclient (with
 * the FUSE server, the only includers of libsmbclient.h). See smb.h.
 *
 * Runs in: the worker (and its lanes), and the FUSE server, inside the sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <search.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libsmbclient.h>

#include "cfg.h"
#include "rules.h"
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
/* smb_followed_link() remembers the twins of the last folders it listed:
 * a walk (find, ls -R through the mount, a COPY's plan) asks about every
 * folder of a folder in turn, depth first. */
#define TWINS_MEMO    8
#define TWINS_MEMO_NS (5 * 1000000000LL)
/* smb_drop_tmp() on a temporary still open on the server: 2 s at most. */
#define DROP_BUSY_TRIES	  20
#define DROP_BUSY_WAIT_MS 100

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
	struct twins_memo *memo;  /* TWINS_MEMO of them, made on first use */
};

unsigned smb_connect_timeout_ms;

static void memo_free(struct twins_memo *m);

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

/*
 * Whether @err, an errno from libsmbclient, says that a connection it kept
 * broke under the request: the server restarted (ECONNABORTED, from
 * NT_STATUS_CONNECTION_DISCONNECTED), or something on the way forgot the
 * connection (ECONNRESET, EPIPE, ENOTCONN). libsmbclient notices a dead
 * connection before it uses it only when it sends an echo first, which it
 * does at most once per timeout; otherwise the request fails, and the next
 * one makes a new connection (a new one through the pinhole too).
 */
static bool conn_broke(int err)
{
	return err == ECONNABORTED || err == ECONNRESET || err == EPIPE || err == ENOTCONN;
}

/*
 * After a request that changes nothing (stat, opendir, open for reading)
 * failed with @err: whether to send it once more, on new connections (every
 * cached one is forgotten first), so that the client never sees a server
 * restart. *@tries counts the tries. errno is @err again on return. Requests
 * that may have changed something are never sent twice.
 */
static bool again(struct smb *s, int err, int *tries)
{
	if ((*tries)++ > 0 || !conn_broke(err))
		return false;
	smbc_getFunctionPurgeCachedServers(s->ctx)(s->ctx);
	errno = err;
	return true;
}

/* A stat, once more on new connections when the old ones broke (again()). */
static int stat_again(struct smb *s, const char *url, struct stat *st)
{
	int tries = 0;

	while (smbc_getFunctionStat(s->ctx)(s->ctx, url, st) < 0)
		if (!again(s, errno, &tries))
			return last_err();
	return 0;
}

/*
 * An opendir, the same way; and once more too after EINVAL: a reply that
 * came corrupted or cut (NT_STATUS_INVALID_NETWORK_RESPONSE) says the same as
 * a name libsmbclient cannot take (opendir_err()), and only the first goes
 * away on a new connection.
 */
static SMBCFILE *opendir_again(struct smb *s, const char *url)
{
	SMBCFILE *d;
	int tries = 0;

	while (!(d = smbc_getFunctionOpendir(s->ctx)(s->ctx, url))) {
		int err = errno;
		if (err == EINVAL && tries++ == 0) {
			smbc_getFunctionPurgeCachedServers(s->ctx)(s->ctx);
			continue;
		}
		errno = err;
		if (!again(s, err, &tries))
			break;
	}
	return d;
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
	/* In any case: the server's names ignore it. */
	for (const char *p = path; p && *p;) {
		if (strncasecmp(p, SMB_TMP_PREFIX, strlen(SMB_TMP_PREFIX)) == 0)
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

/* The gateway's temporary @tmp beside @path ("dir/<tmp>"). */
static int tmp_beside(char *buf, size_t size, const char *path, const char *tmp)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;

	if (!proto_tmp_name_valid(tmp))
		return PROTO_E_BAD_NAME;
	int n = snprintf(buf, size, "%.*s%s", (int)dirlen, path, tmp);
	return n < 0 || (size_t)n >= size ? PROTO_E_BAD_NAME : 0;
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

static uint32_t ts_nsec(const struct timespec *ts)
{
	return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000 ? (uint32_t)ts->tv_nsec : 0;
}

/* A file's stat as the protocol carries it, at the server's resolution. */
static struct proto_stat stat_of(const struct stat *st)
{
	bool dir = S_ISDIR(st->st_mode);

	return (struct proto_stat){
	    .ftype = dir ? PROTO_FT_DIR : PROTO_FT_FILE,
	    .size = dir ? 0 : (uint64_t)st->st_size,
	    .mtime = ts_sec(&st->st_mtim),
	    .mtime_ns = ts_nsec(&st->st_mtim),
	    .ctime = ts_sec(&st->st_ctim),
	    .ctime_ns = ts_nsec(&st->st_ctim),
	    .file_id = (uint64_t)st->st_ino,
	};
}

/* A context made by smb_warm(), for the next smb_new(). */
static SMBCCTX *warm_ctx;

/* A new context with the options that do not depend on the server or the
 * user, initialised: NULL on failure (errno). */
static SMBCCTX *ctx_new(void)
{
	SMBCCTX *ctx = smbc_new_context();

	if (!ctx)
		return NULL;
	smbc_setDebug(ctx, 0);
	smbc_setOptionDebugToStderr(ctx, 1);
	smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
	smbc_setOptionUseKerberos(ctx, 0);
	smbc_setOptionFallbackAfterKerberos(ctx, 0);
	smbc_setOptionUseCCache(ctx, 0);
	smbc_setOptionUrlEncodeReaddirEntries(ctx, 0);
	smbc_setOptionOneSharePerServer(ctx, 0);
	smbc_setPort(ctx, 445);
	if (!smbc_init_context(ctx)) {
		int err = errno;
		smbc_free_context(ctx, 1);
		errno = err;
		return NULL;
	}
	return ctx;
}

void smb_warm(void)
{
	if (!warm_ctx)
		warm_ctx = ctx_new();
}

/*
 * Checks the credentials by connecting to the share @share, which stays
 * connected for the session's first requests (libsmbclient keeps a
 * connection per share): 0 when they are good, PROTO_E_AUTH,
 * PROTO_E_TIMEOUT, PROTO_E_UNREACHABLE; -1 when @share cannot be named
 * (check without it).
 *
 * Good: the share's root could be read; or the server has no such share
 * (BAD_NETWORK_NAME, ENOENT, comes after the session setup); or the stat
 * failed but libsmbclient kept the connection (session and tree connect
 * done: a root the user may not read). libsmbclient 4.17 fails a refused
 * session setup and a refused tree connect alike (EACCES), so a share
 * refused to the user counts as refused credentials: checking again without
 * the share would cost a wrong password a second try at the server's
 * lock-out counter. The gateway forgets the share after such a failure, so
 * that the next login checks without it.
 */
static int check_on_share(struct smb *smb, const char *share)
{
	char url[PROTO_MAX_NAME * 4 + 16];
	struct stat st;

	if (make_url(smb, url, sizeof(url), share, NULL) != 0)
		return -1;
	errno = 0;
	if (smbc_getFunctionStat(smb->ctx)(smb->ctx, url, &st) == 0 || errno == ENOENT)
		return 0;
	int err = errno;
	if (smbc_getFunctionGetCachedServer(smb->ctx)(smb->ctx, smb->server, share, smb->domain,
						      smb->user))
		return 0;
	return err == EACCES || err == EPERM ? PROTO_E_AUTH
	       : err == ETIMEDOUT	     ? PROTO_E_TIMEOUT
					     : PROTO_E_UNREACHABLE;
}

static int smb_new(const struct smb_params *p, const char *domain, const char *user,
		   const char *password, const char *share, bool verify, struct smb **ret)
{
	static const char *const protos[] = {
	    [CFG_PROTO_NT1] = "NT1",	     [CFG_PROTO_SMB2_02] = "SMB2_02",
	    [CFG_PROTO_SMB2_10] = "SMB2_10", [CFG_PROTO_SMB3_00] = "SMB3_00",
	    [CFG_PROTO_SMB3_02] = "SMB3_02", [CFG_PROTO_SMB3_11] = "SMB3_11",
	};
	struct smb *smb;
	int r;

	if (p->min_protocol > CFG_PROTO_SMB3_11 || p->max_protocol > CFG_PROTO_SMB3_11 ||
	    strlen(p->server) > PROTO_MAX_NAME)
		return PROTO_E_INVALID;
	smb = calloc(1, sizeof(*smb));
	if (!smb)
		return PROTO_E_IO;
	smb->buf = malloc(IO_BUF);
	smb->ctx = warm_ctx ? warm_ctx : ctx_new();
	warm_ctx = NULL;
	if (!smb->buf || !smb->ctx) {
		r = smb->buf ? last_err() : PROTO_E_IO;
		goto fail;
	}
	snprintf(smb->server, sizeof(smb->server), "%s", p->server);
	smb->show_hidden = p->show_hidden;
	smb->params = *p;
	smb->params.server = smb->server;

	/* What follows is read at each new connection, not by smbc_init_context(). */
	smbc_setTimeout(smb->ctx, (int)(p->timeout * 1000));
	smb_connect_timeout_ms = p->timeout * 1000;
	smbc_setOptionSmbEncryptionLevel(
	    smb->ctx, p->encryption == CFG_ENCRYPTION_REQUIRED	? SMBC_ENCRYPTLEVEL_REQUIRE
		      : p->encryption == CFG_ENCRYPTION_DESIRED ? SMBC_ENCRYPTLEVEL_REQUEST
								: SMBC_ENCRYPTLEVEL_NONE);
	snprintf(smb->domain, sizeof(smb->domain), "%s", domain);
	snprintf(smb->user, sizeof(smb->user), "%s", user);
	snprintf(smb->password, sizeof(smb->password), "%s", password);
	smbc_setOptionUserData(smb->ctx, smb);
	smbc_setFunctionAuthDataWithContext(smb->ctx, auth_cb);
	smbc_setOptionProtocols(smb->ctx, protos[p->min_protocol], protos[p->max_protocol]);

	if (!verify) {
		*ret = smb;
		return 0;
	}
	if (share && *share) {
		r = check_on_share(smb, share);
		if (r == 0) {
			*ret = smb;
			return 0;
		}
		if (r > 0)
			goto fail; /* else: a share name that cannot travel: check without */
	}
	/* Check them with a session setup: a stat of smb://server/ authenticates,
	 * then asks for the share "", which no server has (BAD_NETWORK_NAME:
	 * ENOENT). Every refusal of the credentials maps to EACCES or EPERM
	 * before that. Listing the shares instead costs an IPC$ tree connect
	 * and an RPC bind: ~3 ms more per login (docs/performance.md). */
	char url[PROTO_MAX_NAME + 16];
	struct stat st;
	snprintf(url, sizeof(url), "smb://%s/", smb->server);
	errno = 0;
	if (smbc_getFunctionStat(smb->ctx)(smb->ctx, url, &st) != 0 && errno != ENOENT) {
		/* Refused credentials, or no answer in time; anything else here
		 * means the server could not be talked to (through the pinhole,
		 * an unreachable server is a connection closed early: ECONNRESET,
		 * EIO or ENOTCONN depending on when libsmbclient notices). */
		r = errno == EACCES || errno == EPERM ? PROTO_E_AUTH
		    : errno == ETIMEDOUT	      ? PROTO_E_TIMEOUT
						      : PROTO_E_UNREACHABLE;
		goto fail;
	}
	*ret = smb;
	return 0;
fail:
	smb_free(smb);
	return r;
}

int smb_open(const struct smb_params *p, const char *domain, const char *user, const char *password,
	     const char *share, struct smb **ret)
{
	return smb_new(p, domain, user, password, share, true, ret);
}

int smb_clone(const struct smb *s, struct smb **ret)
{
	return smb_new(&s->params, s->domain, s->user, s->password, NULL, false, ret);
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
	memo_free(s->memo);
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
	d = opendir_again(s, url);
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
		r = cb(ud, &(struct proto_entry_rec){.ftype = PROTO_FT_SHARE}, e->name,
		       e->commentlen > 0 && proto_comment_valid(e->comment) ? e->comment : "");
		if (r)
			break;
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	return r;
}

/*
 * Why an opendir of @url failed. libsmbclient lists a whole folder in
 * smbc_opendir(), and gives up on the first name it cannot take: one with a
 * '\\' or '/' in it (Samba sends them as they are with "mangled names = no"),
 * or UTF-16 it cannot convert (an unpaired surrogate, e.g. from a name made of
 * CESU-8 bytes on the server's disk). No entry is kept, no error says which;
 * the errno is EINVAL (NT_STATUS_INVALID_NETWORK_RESPONSE), as for a file
 * named as a folder, which libsmbclient itself turns into ENOTDIR. So EINVAL
 * on a folder that exists: PROTO_E_BAD_ENTRY.
 */
static int opendir_err(struct smb *s, const char *url)
{
	struct stat st;
	int err = errno;

	if (err == EINVAL && smbc_getFunctionStat(s->ctx)(s->ctx, url, &st) == 0)
		return S_ISDIR(st.st_mode) ? PROTO_E_BAD_ENTRY : PROTO_E_NOT_DIR;
	return smb_errno_to_proto(err);
}

/* Every request on a path starts with this one (or an opendir or an open for
 * reading): a broken connection is replaced before anything changes. */
static bool ts_equal(const struct timespec *a, const struct timespec *b);

/* An upload's temporary, as its folder's listing gave it. */
struct tmp_seen {
	ino_t ino;
	uint64_t size;
	struct timespec mtime, ctime;
};

/* Whether @st is the file that @t is: the same file id, or (a server
 * without ids) the same size and times, to the 100 ns. */
static bool tmp_is(const struct tmp_seen *t, const struct stat *st)
{
	return t->ino == st->st_ino ||
	       (t->size == (uint64_t)st->st_size && ts_equal(&t->mtime, &st->st_mtim) &&
		ts_equal(&t->ctime, &st->st_ctim));
}

/*
 * smb_tmp_alias() for the entry @name (at @url) of the folder at @dir_url.
 * The folder's listing says whether @name is an entry's own name (in any
 * case: then it names that entry), a temporary's short name (when the server
 * lists short names, as Windows does), or neither: then the server may still
 * answer to it (Samba makes short names from a hash of the long name and
 * does not list them), and a stat of it says which file it is.
 */
static int tmp_alias(struct smb *s, const char *dir_url, const char *name, const char *url)
{
	const struct libsmb_file_info *fi;
	struct tmp_seen *tmps = NULL;
	size_t n = 0, cap = 0;
	bool own = false, hit = false;
	struct stat st;
	SMBCFILE *d;
	int r = 0;

	if (!rules_short_name_like(name))
		return 0;
	d = opendir_again(s, dir_url);
	if (!d)
		return opendir_err(s, dir_url);
	while (!own && r == 0 && (fi = smbc_getFunctionReaddirPlus2(s->ctx)(s->ctx, d, &st))) {
		if (!fi->name)
			continue;
		own = strcasecmp(fi->name, name) == 0;
		if (own || !smb_path_reserved(fi->name))
			continue;
		hit |= fi->short_name && strcasecmp(fi->short_name, name) == 0;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct tmp_seen *m = realloc(tmps, c * sizeof(*m));
			if (!m) {
				r = PROTO_E_IO;
				break;
			}
			tmps = m;
			cap = c;
		}
		tmps[n++] = (struct tmp_seen){.ino = st.st_ino,
					      .size = fi->size,
					      .mtime = fi->mtime_ts,
					      .ctime = fi->ctime_ts};
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	if (r == 0 && !own && !hit && n > 0 && stat_again(s, url, &st) == 0)
		for (size_t i = 0; !hit && i < n; i++)
			hit = tmp_is(&tmps[i], &st);
	free(tmps);
	if (r)
		return r;
	return hit && !own ? PROTO_E_BAD_NAME : 0;
}

int smb_tmp_alias(struct smb *s, const char *share, const char *path)
{
	char head[PROTO_MAX_PATH + 1], name[PROTO_MAX_NAME + 1], url[URL_MAX], dir_url[URL_MAX];
	const char *seg = path;

	/* Every segment: a folder put aside (a MOVE or COPY over a folder) is a
	 * temporary too, and a path may go through its short name. */
	while (*seg) {
		const char *end = strchrnul(seg, '/');
		size_t dl = seg > path ? (size_t)(seg - 1 - path) : 0, hl = (size_t)(end - path);

		if ((size_t)(end - seg) > PROTO_MAX_NAME || hl > PROTO_MAX_PATH)
			return PROTO_E_BAD_NAME;
		memcpy(name, seg, (size_t)(end - seg));
		name[end - seg] = '\0';
		if (rules_short_name_like(name)) { /* the cost of every other name: this */
			memcpy(head, path, dl);
			head[dl] = '\0';
			int r = make_url(s, dir_url, sizeof(dir_url), share, head);
			memcpy(head, path, hl);
			head[hl] = '\0';
			if (r == 0)
				r = make_url(s, url, sizeof(url), share, head);
			if (r == 0)
				r = tmp_alias(s, dir_url, name, url);
			if (r)
				return r;
		}
		seg = *end ? end + 1 : end;
	}
	return 0;
}

static int stat_url(struct smb *s, const char *url, struct proto_stat *ret)
{
	struct stat st;
	int r = stat_again(s, url, &st);

	if (r)
		return r;
	*ret = stat_of(&st);
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
	d = opendir_again(s, url);
	if (!d)
		return opendir_err(s, url);
	struct stat st;
	while ((fi = smbc_getFunctionReaddirPlus2(s->ctx)(s->ctx, d, &st)) != NULL) {
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
		/* The fields a stat of the entry gives too: same ETag both ways. */
		struct proto_entry_rec rec = {.ftype = dir ? PROTO_FT_DIR : PROTO_FT_FILE,
					      .size = dir ? 0 : fi->size,
					      .mtime = ts_sec(&fi->mtime_ts),
					      .mtime_ns = ts_nsec(&fi->mtime_ts),
					      .ctime = ts_sec(&fi->ctime_ts),
					      .ctime_ns = ts_nsec(&fi->ctime_ts),
					      .file_id = (uint64_t)st.st_ino};
		r = cb(ud, &rec, fi->name, NULL);
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
/* What the two readers of read_striped() share. */
struct stripe {
	uint64_t offset, end; /* the byte range */
	int fd;		      /* the gateway's pipe */
	bool by_ref;
	int to_copy[2], to_me[2]; /* the turn tokens, each way */
};

/* The size of the chunk at @at. */
static size_t stripe_want(const struct stripe *st, uint64_t at)
{
	return st->end - at < READ_CHUNK ? (size_t)(st->end - at) : READ_CHUNK;
}

/* The forked copy: the odd chunks, through its own context (the parent's
 * shares its connection with the parent: never touch it). */
_Noreturn static void stripe_copy(struct smb *s, const char *url, const struct stripe *st)
{
	struct smb *c = NULL;
	SMBCFILE *cf;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(st->to_copy[1]);
	close(st->to_me[0]);
	if (smb_clone(s, &c) != 0 ||
	    !(cf = smbc_getFunctionOpen(c->ctx)(c->ctx, url, O_RDONLY, 0))) {
		turn_send(st->to_me[1], 'X', 0);
		_exit(1);
	}
	for (uint64_t k = 1;; k += 2) {
		uint64_t at = st->offset + k * READ_CHUNK;
		if (at >= st->end)
			_exit(0);
		size_t want = stripe_want(st, at);
		char *buf = chunk_buf(c, st->by_ref, (unsigned)(k / 2));
		ssize_t n = buf ? read_at(c, cf, buf, at, want) : -1;
		struct turn t = turn_wait(st->to_copy[0]);
		if (t.what != 'W')
			_exit(0);
		if (n < 0 || put_chunk(st->fd, st->by_ref, buf, (size_t)n) < 0) {
			turn_send(st->to_me[1], 'X', 0);
			_exit(1);
		}
		if ((size_t)n != want || at + want >= st->end)
			close(st->fd); /* the last chunk: EOF may come before END */
		turn_send(st->to_me[1], (size_t)n == want ? 'W' : 'S', (uint64_t)n);
		if ((size_t)n != want)
			_exit(0);
	}
}

/* This worker: the even chunks, each after the copy's turn before it. */
static int stripe_parent(struct smb *s, SMBCFILE *f, const struct stripe *st, uint64_t *done)
{
	for (uint64_t k = 0;; k += 2) {
		uint64_t at = st->offset + k * READ_CHUNK;
		if (at >= st->end)
			return 0;
		size_t want = stripe_want(st, at);
		char *buf = chunk_buf(s, st->by_ref, (unsigned)(k / 2));
		ssize_t n = read_at(s, f, buf, at, want);
		if (k > 0) {
			struct turn t = turn_wait(st->to_me[0]);
			if (t.what == 'X')
				return PROTO_E_IO;
			*done += t.bytes;
			if (t.what == 'S')
				return 0;
		}
		if (n < 0)
			return last_err();
		if (put_chunk(st->fd, st->by_ref, buf, (size_t)n) < 0)
			return PROTO_E_IO; /* the reader went away */
		*done += (uint64_t)n;
		if ((size_t)n != want || at + want >= st->end)
			return 0; /* the file shrank, or that was all */
		/* The copy writes the next chunk, then hands the turn back. */
		if (turn_send(st->to_copy[1], 'W', 0) < 0)
			return PROTO_E_IO;
		if (at + want + READ_CHUNK >= st->end) {
			/* That was the last chunk: wait for it. */
			struct turn t = turn_wait(st->to_me[0]);
			if (t.what == 'X')
				return PROTO_E_IO;
			*done += t.bytes;
			return 0;
		}
	}
}

static int read_striped(struct smb *s, const char *url, SMBCFILE *f, uint64_t offset, uint64_t left,
			int fd, uint64_t *done)
{
	struct stripe st = {.offset = offset,
			    .end = offset + left,
			    .fd = fd,
			    .by_ref = by_ref_ok(s, fd),
			    .to_copy = {-1, -1},
			    .to_me = {-1, -1}};
	pid_t pid = -1;

	if (pipe2(st.to_copy, O_CLOEXEC) == 0 && pipe2(st.to_me, O_CLOEXEC) == 0)
		pid = fork();
	if (pid < 0) {
		for (int i = 0; i < 2; i++) {
			if (st.to_copy[i] >= 0)
				close(st.to_copy[i]);
			if (st.to_me[i] >= 0)
				close(st.to_me[i]);
		}
		return read_chunks(s, f, offset, left, fd, done);
	}
	if (pid == 0)
		stripe_copy(s, url, &st);
	close(st.to_copy[0]);
	close(st.to_me[1]);
	int r = stripe_parent(s, f, &st, done);
	close(st.to_copy[1]); /* the copy stops at its next turn, if any */
	close(st.to_me[0]);
	return r;
}

/*
 * Opens the file at @url for reading (retried on new connections when the
 * old ones broke), its stat in *@st: the open handle says what it is, no
 * stat of the path first (a round trip more per download). Returns 0 and
 * *@ret (the caller closes it), PROTO_E_IS_DIR for a folder, or the error.
 */
static int open_for_read(struct smb *s, const char *url, SMBCFILE **ret, struct stat *st)
{
	SMBCFILE *f;
	int tries = 0, r = 0;

	while (!(f = smbc_getFunctionOpen(s->ctx)(s->ctx, url, O_RDONLY, 0)) &&
	       again(s, errno, &tries))
		;
	if (!f)
		return last_err();
	if (smbc_getFunctionFstat(s->ctx)(s->ctx, f, st) < 0)
		r = last_err();
	else if (S_ISDIR(st->st_mode))
		r = PROTO_E_IS_DIR;
	if (r) {
		smbc_getFunctionClose(s->ctx)(s->ctx, f);
		return r;
	}
	*ret = f;
	return 0;
}

int smb_read(struct smb *smb, const char *share, const char *path, uint64_t offset, uint64_t length,
	     int fd, int (*started)(void *ud, const struct proto_stat *st, uint64_t length),
	     void *ud, uint64_t *written)
{
	char url[URL_MAX];
	struct proto_stat pst = {0};
	struct stat st;
	SMBCFILE *f;
	uint64_t left, done = 0;
	int r = make_url(smb, url, sizeof(url), share, path);

	*written = 0;
	if (r || (r = open_for_read(smb, url, &f, &st)))
		return r;
	pst = stat_of(&st);
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
		r = read_striped(smb, url, f, offset, left, fd, &done);
	else
		r = read_chunks(smb, f, offset, left, fd, &done);
out:
	smbc_getFunctionClose(smb->ctx)(smb->ctx, f);
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

/*
 * Removes our own temporary @url (a name only this gateway makes, so trying
 * twice is safe): on new connections when the old ones broke (the upload
 * failed because of that, most of the time), and waiting a little while the
 * server still holds a dead connection's handle of it (EBUSY). Keeps errno.
 */
static int unlink_tmp(struct smb *s, const char *url)
{
	int saved = errno, r = 0, tries = 0;

	for (int i = 0;; i++) {
		if (smbc_getFunctionUnlink(s->ctx)(s->ctx, url) == 0)
			break;
		int err = errno;
		if (again(s, err, &tries))
			continue;
		if (err != EBUSY || i >= DROP_BUSY_TRIES) {
			r = last_err();
			break;
		}
		usleep(DROP_BUSY_WAIT_MS * 1000);
	}
	errno = saved;
	return r;
}

static int check_target(struct smb *s, const char *url, uint32_t flags, int *existed);

/* Whether the last segment of @path may be created (proto_name_creatable()):
 * 0 or PROTO_E_RESERVED_NAME. */
static int name_creatable(const char *path)
{
	const char *base = strrchr(path, '/');

	return proto_name_creatable(base ? base + 1 : path) ? 0 : PROTO_E_RESERVED_NAME;
}

/* check_target(), and a target that does not exist yet must have a name the
 * server stores as it is (name_creatable()): an existing one is replaced. */
static int check_new_target(struct smb *s, const char *url, const char *path, uint32_t flags)
{
	int ex = 0, r = check_target(s, url, flags, &ex);

	return r ? r : ex ? 0 : name_creatable(path);
}

/* Moves the complete temporary @tmp over @target and removes @tmp when that
 * fails: the old target stays recoverable under a backup name until the new
 * one is in place, and is put back if the final rename fails. */
static int replace(struct smb *s, const char *share, const char *path, const char *tmp,
		   const char *target, uint32_t flags, uint32_t *created)
{
	char bak_path[PROTO_MAX_PATH + 64], bak[URL_MAX];
	int ex = 0, r = check_target(s, target, flags, &ex);

	if (r == 0 && !ex)
		r = name_creatable(path);
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

/* Reads exactly @n bytes of @fd into @buf: 0, or PROTO_E_IO (EOF or an error). */
static int read_exact(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PROTO_E_IO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Copies an upload of unknown size, in frames (PROTO_WRITE_UNKNOWN), from @fd
 * into @f, adding its bytes to *@done: 0 only once the end frame came and
 * then EOF; PROTO_E_IO when the body was cut short (EOF before the end frame:
 * the client went away, or the gateway refused the rest).
 */
static int copy_frames(struct smb *smb, SMBCFILE *f, int fd, uint64_t *done)
{
	size_t fill = 0; /* bytes in smb->buf: written a large buffer at a time */
	int r;

	for (;;) {
		uint32_t len;
		r = read_exact(fd, &len, sizeof(len));
		if (r)
			return r;
		if (len == 0)
			break;
		while (len > 0) {
			if (fill == IO_BUF) {
				r = smb_write_all(smb, f, smb->buf, fill);
				if (r)
					return r;
				fill = 0;
			}
			size_t n = len < IO_BUF - fill ? len : IO_BUF - fill;
			r = read_exact(fd, smb->buf + fill, n);
			if (r)
				return r;
			fill += n;
			*done += n;
			len -= (uint32_t)n;
		}
	}
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 0)
		return n < 0 ? PROTO_E_IO : PROTO_E_INVALID; /* nothing after the end */
	return fill ? smb_write_all(smb, f, smb->buf, fill) : 0;
}

int smb_write(struct smb *smb, const char *share, const char *path, const char *tmp_name,
	      uint32_t flags, int fd, uint64_t size, uint32_t *created, uint64_t *written)
{
	char url[URL_MAX], tmp[URL_MAX], tmp_path[PROTO_MAX_PATH + 64];
	uint64_t done = 0;
	SMBCFILE *f;
	int r;

	*written = 0;
	*created = 0;
	if (!path || !*path)
		return PROTO_E_IS_DIR;
	r = make_url(smb, url, sizeof(url), share, path);
	if (r == 0)
		r = tmp_beside(tmp_path, sizeof(tmp_path), path, tmp_name);
	if (r == 0)
		r = make_url(smb, tmp, sizeof(tmp), share, tmp_path);
	if (r == 0)
		r = check_new_target(smb, url, path, flags);
	if (r)
		return r;
	f = smbc_getFunctionOpen(smb->ctx)(smb->ctx, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!f)
		return last_err();
	if (size == PROTO_WRITE_UNKNOWN) {
		r = copy_frames(smb, f, fd, &done);
		if (r)
			goto abort;
	}
	while (size != PROTO_WRITE_UNKNOWN) {
		ssize_t n = read(fd, smb->buf, IO_BUF);
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
		r = smb_write_all(smb, f, smb->buf, (size_t)n);
		if (r)
			goto abort;
		done += (uint64_t)n;
	}
	if (size != UINT64_MAX && done != size) {
		r = PROTO_E_IO; /* the upload was cut short */
		goto abort;
	}
	r = commit_tmp(smb, f, share, path, tmp, url, flags, created);
	if (r)
		return r;
	*written = done;
	return 0;
abort:
	smbc_getFunctionClose(smb->ctx)(smb->ctx, f);
	(void)unlink_tmp(smb, tmp);
	return r;
}

int smb_drop_tmp(struct smb *s, const char *share, const char *path, const char *tmp_name)
{
	char tmp[URL_MAX], tmp_path[PROTO_MAX_PATH + 64];
	int r;

	if (!path || !*path)
		return PROTO_E_INVALID;
	r = tmp_beside(tmp_path, sizeof(tmp_path), path, tmp_name);
	if (r == 0)
		r = make_url(s, tmp, sizeof(tmp), share, tmp_path);
	if (r)
		return r;
	/* The dead worker's handle may stay open on the server for a moment
	 * (until it notices the connection is gone): unlink_tmp() waits. */
	return unlink_tmp(s, tmp);
}

int smb_mkdir(struct smb *s, const char *share, const char *path)
{
	char url[URL_MAX];
	int r = make_url(s, url, sizeof(url), share, path);

	if (r)
		return r;
	if (!*path)
		return PROTO_E_EXISTS;
	/* A stat first, like every other request that changes something: a
	 * broken connection is replaced before the mkdir (see stat_url()). */
	struct proto_stat st;
	int ex = url_exists(s, url, &st);
	if (ex != 0)
		return ex > 0 ? PROTO_E_EXISTS : -ex;
	r = name_creatable(path);
	if (r)
		return r;
	if (smbc_getFunctionMkdir(s->ctx)(s->ctx, url, 0755) < 0)
		return last_err();
	return 0;
}

int smb_statvfs(struct smb *s, const char *share, uint64_t *ret_total, uint64_t *ret_avail)
{
	char url[URL_MAX];
	struct statvfs st = {0};
	int r = make_url(s, url, sizeof(url), share, "");

	if (r)
		return r;
	if (smbc_getFunctionStatVFS(s->ctx)(s->ctx, url, &st) < 0)
		return last_err();
	/* libsmbclient gives counts of allocation units, with the bytes per sector
	 * in f_bsize and the sectors per unit in f_frsize. */
	uint64_t unit = (uint64_t)st.f_bsize * (st.f_frsize ? st.f_frsize : 1);
	uint64_t total = (uint64_t)st.f_blocks * unit, avail = (uint64_t)st.f_bavail * unit;
	if (unit && (total / unit != st.f_blocks || avail / unit != st.f_bavail))
		return PROTO_E_PROTOCOL; /* does not fit 64 bits: not a real answer */
	*ret_total = total;
	*ret_avail = avail > total ? total : avail;
	return 0;
}

int smb_utimes(struct smb *s, const char *share, const char *path, int64_t mtime, int64_t atime)
{
	char url[URL_MAX];
	struct proto_stat st;
	struct timeval tv[2] = {{.tv_sec = (time_t)atime}, {.tv_sec = (time_t)mtime}};
	int r = make_url(s, url, sizeof(url), share, path);

	if (r)
		return r;
	if (!*path)
		return PROTO_E_INVALID;
	r = stat_url(s, url, &st); /* reconnects a broken connection first */
	if (r)
		return r;
	if (smbc_getFunctionUtimes(s->ctx)(s->ctx, url, tv) < 0)
		return last_err();
	return 0;
}

int smb_writable(struct smb *s, const char *share, const char *path)
{
	char url[URL_MAX], inside[PROTO_MAX_PATH + 3], probe_path[PROTO_MAX_PATH + 64];
	struct proto_stat st;
	SMBCFILE *f;
	int r = make_url(s, url, sizeof(url), share, path);

	if (r == 0)
		r = stat_url(s, url, &st); /* reconnects a broken connection first */
	if (r)
		return r;
	if (st.ftype == PROTO_FT_FILE) {
		f = smbc_getFunctionOpen(s->ctx)(s->ctx, url, O_WRONLY, 0);
		/* A sharing violation (EBUSY: another client holds it open and
		 * denies writers) comes after the server granted the access. */
		if (!f)
			return errno == EBUSY ? 0 : last_err();
		return smbc_getFunctionClose(s->ctx)(s->ctx, f) < 0 ? last_err() : 0;
	}
	/* A folder: what a new name in it needs. make_tmp_path() names a
	 * temporary beside its argument: beside "FOLDER/x" is inside FOLDER. */
	int n = snprintf(inside, sizeof(inside), "%s%sx", path, *path ? "/" : "");
	if (n < 0 || (size_t)n >= sizeof(inside))
		return PROTO_E_BAD_NAME;
	r = make_tmp_path(probe_path, sizeof(probe_path), inside, "probe");
	if (r == 0)
		r = make_url(s, url, sizeof(url), share, probe_path);
	if (r)
		return r;
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, url, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!f)
		return last_err();
	smbc_getFunctionClose(s->ctx)(s->ctx, f);
	if (unlink_tmp(s, url) != 0)
		fprintf(stderr, "smbgate-worker: cannot remove the empty probe %s of share %s\n",
			probe_path, share);
	return 0;
}

static int rmdir_tree(struct smb *s, const char *share, const char *path, const char *url);
static bool ts_equal(const struct timespec *a, const struct timespec *b);

/* Whether the stats @a of @pa and @b of @pb are of one file: the same file id.
 * Without ids from the server (libsmbclient then makes them up from the path,
 * and two spellings differ), the same path but for ASCII case, the same kind
 * and the same times to the 100 ns. */
static bool same_file(const struct stat *a, const char *pa, const struct stat *b, const char *pb)
{
	if (a->st_ino != 0 && a->st_ino == b->st_ino)
		return true;
	return strcasecmp(pa, pb) == 0 && (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT) &&
	       ts_equal(&a->st_mtim, &b->st_mtim) && ts_equal(&a->st_ctim, &b->st_ctim);
}

static unsigned segments(const char *path)
{
	unsigned n = 1;
	for (; *path; path++)
		n += *path == '/';
	return n;
}

enum relation { REL_APART, REL_SAME, REL_INSIDE, REL_ABOVE };

/*
 * Where @to (its stat @tst; NULL when it does not exist) is from @from (its
 * stat @fst), whatever the spelling: the same file (REL_SAME), inside the
 * folder @from (REL_INSIDE), a folder that holds @from (REL_ABOVE), or apart.
 * A path inside a folder has that folder's path as its head: the head of the
 * longer path as long as the shorter one is stat'ed and compared with it.
 */
static int relation(struct smb *s, const char *share, const char *from, const struct stat *fst,
		    const char *to, const struct stat *tst, enum relation *ret)
{
	unsigned nf = segments(from), nt = segments(to);
	const char *deep = nt > nf ? to : from, *shallow = nt > nf ? from : to;
	const struct stat *top = nt > nf ? fst : tst;
	char head[PROTO_MAX_PATH + 1], url[URL_MAX];
	struct stat hst;
	unsigned n = nt > nf ? nf : nt;

	*ret = REL_APART;
	if (nt == nf) {
		if (tst && same_file(fst, from, tst, to))
			*ret = REL_SAME;
		return 0;
	}
	if (!top || !S_ISDIR(top->st_mode))
		return 0;
	const char *end = deep; /* after the n-th '/' (the deeper path has more) */
	for (unsigned i = 0; i < n; i++)
		end = strchr(end, '/') + 1;
	snprintf(head, sizeof(head), "%.*s", (int)(end - 1 - deep), deep);
	int r = make_url(s, url, sizeof(url), share, head);
	if (r == 0)
		r = stat_again(s, url, &hst);
	if (r == PROTO_E_NOT_FOUND || r == PROTO_E_NOT_DIR)
		return 0;
	if (r == 0 && same_file(top, shallow, &hst, head))
		*ret = nt > nf ? REL_INSIDE : REL_ABOVE;
	return r;
}

static int rename_url(struct smb *s, const char *from, const char *to)
{
	return smbc_getFunctionRename(s->ctx)(s->ctx, from, s->ctx, to) < 0 ? last_err() : 0;
}

/*
 * Puts @ufrom in the place of the existing @to (@uto; a folder when @to_dir),
 * deleting nothing before it is there: @to goes aside under a temporary name
 * beside it, @ufrom is renamed into its place, then the aside is removed (a
 * folder with its content, never through a link). A failed step puts back
 * what moved (when that fails too, both are kept and the log says where).
 */
static int swap_in(struct smb *s, const char *share, const char *ufrom, const char *to,
		   const char *uto, bool to_dir)
{
	char aside_path[PROTO_MAX_PATH + 64], aside[URL_MAX];
	int r = make_tmp_path(aside_path, sizeof(aside_path), to, "old");

	if (r == 0)
		r = make_url(s, aside, sizeof(aside), share, aside_path);
	if (r == 0)
		r = rename_url(s, uto, aside);
	if (r)
		return r;
	r = rename_url(s, ufrom, uto);
	if (r == 0) {
		if (to_dir)
			r = rmdir_tree(s, share, aside_path, aside);
		else if (smbc_getFunctionUnlink(s->ctx)(s->ctx, aside) < 0)
			r = last_err();
		if (r == 0)
			return 0;
		if (rename_url(s, uto, ufrom) != 0)
			goto lost;
	}
	if (rename_url(s, aside, uto) == 0)
		return r;
lost:
	fprintf(stderr, "smbgate-worker: replacing %s failed; the old one is kept as %s\n", to,
		aside_path);
	return r;
}

int smb_rename(struct smb *s, const char *share, const char *from, const char *to, uint32_t flags,
	       uint32_t *created)
{
	char ufrom[URL_MAX], uto[URL_MAX];
	struct stat fst, tst;
	enum relation rel;
	int r;

	*created = 0;
	if (!*from || !*to)
		return PROTO_E_INVALID;
	r = make_url(s, ufrom, sizeof(ufrom), share, from);
	if (r == 0)
		r = make_url(s, uto, sizeof(uto), share, to);
	if (r == 0)
		r = stat_again(s, ufrom, &fst);
	if (r)
		return r;
	if (strcmp(from, to) == 0)
		return 0;
	r = stat_again(s, uto, &tst);
	bool ex = r == 0;
	if (r && r != PROTO_E_NOT_FOUND)
		return r;
	r = relation(s, share, from, &fst, to, ex ? &tst : NULL, &rel);
	if (r)
		return r;
	if (rel == REL_INSIDE || rel == REL_ABOVE)
		return PROTO_E_OVERLAP; /* a folder into itself, or over what holds it */
	if (ex && rel != REL_SAME && !(flags & PROTO_F_OVERWRITE))
		return PROTO_E_EXISTS;
	if (!ex && (r = name_creatable(to)) != 0)
		return r;
	/* A new name, or the same file in another spelling (the server changes
	 * the case of the name): a plain rename. */
	*created = !ex || rel == REL_SAME;
	if (*created)
		return rename_url(s, ufrom, uto);
	return swap_in(s, share, ufrom, to, uto, S_ISDIR(tst.st_mode));
}

/* Removes what is at @url (@share/@path): a folder with its content (never
 * through a link), or a file. */
static int remove_at(struct smb *s, const char *share, const char *path, const char *url)
{
	struct proto_stat st;
	int r = stat_url(s, url, &st);

	if (r)
		return r;
	if (st.ftype == PROTO_FT_DIR)
		return rmdir_tree(s, share, path, url);
	return smbc_getFunctionUnlink(s->ctx)(s->ctx, url) < 0 ? last_err() : 0;
}

int smb_aside(struct smb *s, const char *share, const char *path, const char *tmp, uint32_t op)
{
	char url[URL_MAX], aside[URL_MAX], aside_path[PROTO_MAX_PATH + 64];
	struct proto_stat st;
	int r;

	if (!*path)
		return PROTO_E_INVALID; /* never the share's root */
	r = tmp_beside(aside_path, sizeof(aside_path), path, tmp);
	if (r == 0)
		r = make_url(s, url, sizeof(url), share, path);
	if (r == 0)
		r = make_url(s, aside, sizeof(aside), share, aside_path);
	if (r)
		return r;
	switch (op) {
	case PROTO_ASIDE_PUT:
		r = url_exists(s, aside, &st);
		if (r != 0)
			return r > 0 ? PROTO_E_EXISTS : -r;
		r = stat_url(s, url, &st);
		return r ? r : rename_url(s, url, aside);
	case PROTO_ASIDE_DROP:
		return remove_at(s, share, aside_path, aside);
	case PROTO_ASIDE_BACK:
		r = stat_url(s, aside, &st);
		if (r)
			return r;
		r = url_exists(s, url, &st);
		if (r < 0)
			return -r;
		if (r > 0 && (r = remove_at(s, share, path, url)) != 0)
			return r;
		return rename_url(s, aside, url);
	default:
		return PROTO_E_INVALID;
	}
}

static int splice_progress(off_t n, void *priv)
{
	(void)n;
	(void)priv;
	return 1;
}

/* Whether the file @from may be copied to @to: never onto itself in another
 * spelling nor over a folder that holds it (PROTO_E_OVERLAP); an existing @to
 * only with PROTO_F_OVERWRITE (*@ret_dir: it is a folder). */
static int copy_target(struct smb *s, const char *share, const char *from, const char *ufrom,
		       const char *to, const char *uto, uint32_t flags, bool *ret_dir)
{
	struct stat fst, tst;
	enum relation rel;
	int r = stat_again(s, ufrom, &fst), ex;

	if (r)
		return r;
	r = stat_again(s, uto, &tst);
	ex = r == 0;
	if (r && r != PROTO_E_NOT_FOUND)
		return r;
	r = relation(s, share, from, &fst, to, ex ? &tst : NULL, &rel);
	if (r)
		return r;
	if (rel != REL_APART)
		return PROTO_E_OVERLAP;
	if (ex && !(flags & PROTO_F_OVERWRITE))
		return PROTO_E_EXISTS;
	if (!ex && (r = name_creatable(to)) != 0)
		return r;
	*ret_dir = ex && S_ISDIR(tst.st_mode);
	return 0;
}

int smb_copy(struct smb *smb, const char *share, const char *from, const char *to, uint32_t flags,
	     uint32_t *created, uint64_t *copied)
{
	char ufrom[URL_MAX], uto[URL_MAX], tmp[URL_MAX], tmp_path[PROTO_MAX_PATH + 64];
	struct proto_stat st = {0};
	SMBCFILE *src, *dst;
	uint64_t done = 0;
	bool to_dir = false;
	int r;

	*created = 0;
	*copied = 0;
	if (!*from || !*to)
		return PROTO_E_INVALID;
	r = make_url(smb, ufrom, sizeof(ufrom), share, from);
	if (r == 0)
		r = make_url(smb, uto, sizeof(uto), share, to);
	if (r == 0)
		r = make_tmp_path(tmp_path, sizeof(tmp_path), to, "new");
	if (r == 0)
		r = make_url(smb, tmp, sizeof(tmp), share, tmp_path);
	if (r == 0)
		r = stat_url(smb, ufrom, &st);
	if (r)
		return r;
	if (st.ftype == PROTO_FT_DIR)
		return PROTO_E_IS_DIR;
	if (strcmp(from, to) == 0)
		return PROTO_E_EXISTS;
	r = copy_target(smb, share, from, ufrom, to, uto, flags, &to_dir);
	if (r)
		return r;
	src = smbc_getFunctionOpen(smb->ctx)(smb->ctx, ufrom, O_RDONLY, 0);
	if (!src)
		return last_err();
	dst = smbc_getFunctionOpen(smb->ctx)(smb->ctx, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!dst) {
		r = last_err();
		smbc_getFunctionClose(smb->ctx)(smb->ctx, src);
		return r;
	}
	/* Server-side copy (SMB2 copychunk) when the server has it. */
	off_t n = smbc_getFunctionSplice(smb->ctx)(smb->ctx, src, dst, (off_t)st.size,
						   splice_progress, NULL);
	if (n >= 0 && (uint64_t)n == st.size) {
		done = (uint64_t)n;
	} else {
		/* Streamed: start over from the beginning. */
		if (smbc_getFunctionLseek(smb->ctx)(smb->ctx, src, 0, SEEK_SET) < 0 ||
		    smbc_getFunctionFtruncate(smb->ctx)(smb->ctx, dst, 0) < 0 ||
		    smbc_getFunctionLseek(smb->ctx)(smb->ctx, dst, 0, SEEK_SET) < 0) {
			r = last_err();
			goto abort;
		}
		for (;;) {
			ssize_t rd =
			    smbc_getFunctionRead(smb->ctx)(smb->ctx, src, smb->buf, IO_BUF);
			if (rd < 0) {
				r = last_err();
				goto abort;
			}
			if (rd == 0)
				break;
			r = smb_write_all(smb, dst, smb->buf, (size_t)rd);
			if (r)
				goto abort;
			done += (uint64_t)rd;
		}
	}
	smbc_getFunctionClose(smb->ctx)(smb->ctx, src);
	if (to_dir) { /* Overwrite: a folder gives way to the copy */
		r = smbc_getFunctionClose(smb->ctx)(smb->ctx, dst) < 0 ? last_err() : 0;
		if (r == 0)
			r = swap_in(smb, share, tmp, to, uto, true);
		if (r)
			unlink_quiet(smb, tmp);
	} else {
		r = commit_tmp(smb, dst, share, to, tmp, uto, flags, created);
	}
	if (r)
		return r;
	*copied = done;
	return 0;
abort:
	smbc_getFunctionClose(smb->ctx)(smb->ctx, src);
	smbc_getFunctionClose(smb->ctx)(smb->ctx, dst);
	(void)unlink_tmp(smb, tmp);
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

/*
 * Recursive delete, in two passes: the first only lists (the whole tree) and
 * refuses, before anything is deleted, what the second must not touch or
 * could not finish; the second deletes what the first saw, depth first.
 *
 * Never through a link: a junction or symbolic link to a folder is removed
 * itself, never entered. Windows marks those as reparse points. Samba, with
 * its default "follow symlinks = yes", does not: a link inside the share looks
 * like an ordinary folder, with the attributes, file id and content of its
 * target (only "follow symlinks = no" hides links, and then refuses to remove
 * the folder that holds them: PROTO_E_NOT_EMPTY). What gives such a link away
 * is the ".." of its listing: Samba, like the kernel, reports there the
 * target's real parent. So a folder is entered only when the ".." of its own
 * listing is the folder it was found in, and (a link beside its target, whose
 * ".." is that folder too) when no other entry of that folder has its file
 * id (rules_inside()). A link found this way is removed with an rmdir, which
 * Samba applies to the link itself (lstat, then unlink) once what it points
 * to is empty, and refuses otherwise: a link
 * to a folder that is not empty cannot be removed over SMB without emptying
 * its target, so the delete stops with PROTO_E_LINK before the second pass.
 * So does a name that cannot be read or sent back (PROTO_E_BAD_ENTRY): what
 * holds it could not be removed.
 */
enum rm_kind { RM_FILE, RM_DIR, RM_LINK };

struct rm_node {
	char *name;   /* one segment (the top's: NULL) */
	ino_t ino;    /* the file id its parent's listing gave */
	size_t first; /* RM_DIR: its entries are nodes[first .. first + n) */
	uint32_t n;
	uint8_t kind;
	bool twin; /* its id is another entry's too (rules_inside()) */
};

struct rm_walk {
	struct smb *s;
	struct rm_node *nodes; /* nodes[0]: the folder to delete */
	size_t n, cap;
	size_t budget; /* entries left to list */
	void *seen;    /* tsearch() set of the file ids of the folders entered */
	char url[URL_MAX];
	size_t len; /* of url */
};

static int cmp_ino(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;
	return x < y ? -1 : x > y;
}

/* Adds @ino to the tsearch() set *@seen of the folders entered (a walk's):
 * false when it was there already, or (*@ok false) when out of memory. */
static bool seen_add(void **seen, ino_t ino, bool *ok)
{
	ino_t *k = malloc(sizeof(*k));
	void *at;

	*ok = k != NULL;
	if (!k)
		return false;
	*k = ino;
	at = tsearch(k, seen, cmp_ino);
	if (!at) {
		free(k);
		*ok = false;
		return false;
	}
	if (*(ino_t **)at != k) {
		free(k);
		return false;
	}
	return true;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Lists the folder at @url: the file ids its folders share, into *@ret
 * (caller frees with rules_twins_clear()). */
static int twins_list(struct smb *s, const char *url, struct twins *ret)
{
	const struct libsmb_file_info *fi;
	ino_t *ids = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	SMBCFILE *d = opendir_again(s, url);
	int r = 0;

	if (!d)
		return opendir_err(s, url);
	while (r == 0 && (fi = smbc_getFunctionReaddirPlus2(s->ctx)(s->ctx, d, &st)) != NULL)
		if (fi->name && (fi->attrs & FILE_ATTR_DIRECTORY))
			r = rules_ids_push(&ids, &n, &cap, st.st_ino) ? PROTO_E_IO
								      : 0; /* "." and ".." too */
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	if (r) {
		free(ids);
		return r;
	}
	rules_twins_make(ids, n, ret);
	return 0;
}

/* What twins_list() gave for the folder @url, whose stat gave @dir, @at
 * (CLOCK_MONOTONIC, ns). A folder's times change when a name in it does. */
struct twins_memo {
	char *url; /* NULL: unused */
	struct dir_id dir;
	int64_t at;
	struct twins t;
};

static void memo_free(struct twins_memo *m)
{
	for (size_t i = 0; m && i < TWINS_MEMO; i++) {
		free(m[i].url);
		rules_twins_clear(&m[i].t);
	}
	free(m);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The twins of the folder at @url, whose stat gave @dir: remembered for
 * TWINS_MEMO_NS while @dir stays the same (*@ret: owned by @s). */
static int memo_twins(struct smb *s, const char *url, const struct dir_id *dir,
		      const struct twins **ret)
{
	int64_t now = mono_ns();
	struct twins_memo *m, *old;

	if (!s->memo && !(s->memo = calloc(TWINS_MEMO, sizeof(*s->memo))))
		return PROTO_E_IO;
	old = &s->memo[0];
	for (m = s->memo; m < s->memo + TWINS_MEMO; m++) {
		if (m->url && strcmp(m->url, url) == 0 && now - m->at < TWINS_MEMO_NS &&
		    m->dir.ino == dir->ino && ts_equal(&m->dir.mtime, &dir->mtime) &&
		    ts_equal(&m->dir.ctime, &dir->ctime)) {
			*ret = &m->t;
			return 0;
		}
		if (!m->url || (old->url && m->at < old->at))
			old = m;
	}
	free(old->url);
	rules_twins_clear(&old->t);
	old->url = NULL;
	int r = twins_list(s, url, &old->t);
	if (r)
		return r;
	old->url = strdup(url);
	if (!old->url) {
		rules_twins_clear(&old->t);
		return PROTO_E_IO;
	}
	old->dir = *dir;
	old->at = now;
	*ret = &old->t;
	return 0;
}

int smb_followed_link(struct smb *s, const char *share, const char *path)
{
	char url[URL_MAX], up_url[URL_MAX];
	const char *slash = strrchr(path, '/');
	struct dir_id parent = {0}, self = {0}, up = {0};
	const struct libsmb_file_info *fi;
	const struct twins *twins;
	struct stat st, pst;
	SMBCFILE *d;
	int r;

	if (!*path)
		return 0; /* a share's root is where it is */
	r = make_url(s, url, sizeof(url), share, path);
	if (r == 0) {
		char parent_path[PROTO_MAX_PATH + 1];
		snprintf(parent_path, sizeof(parent_path), "%.*s", slash ? (int)(slash - path) : 0,
			 path);
		r = make_url(s, up_url, sizeof(up_url), share, parent_path);
	}
	if (r)
		return r;
	if (smbc_getFunctionStat(s->ctx)(s->ctx, url, &st) < 0 ||
	    smbc_getFunctionStat(s->ctx)(s->ctx, up_url, &pst) < 0)
		return last_err();
	parent = (struct dir_id){
	    .have = true, .ino = pst.st_ino, .mtime = pst.st_mtim, .ctime = pst.st_ctim};
	r = memo_twins(s, up_url, &parent, &twins);
	if (r)
		return r;
	d = opendir_again(s, url);
	if (!d)
		return opendir_err(s, url);
	/* "." and ".." come first from Samba and Windows: stop once both are in. */
	for (int n = 0; (!self.have || !up.have) && n < 64; n++) {
		struct stat est;
		fi = smbc_getFunctionReaddirPlus2(s->ctx)(s->ctx, d, &est);
		if (!fi)
			break;
		if (fi->name && (strcmp(fi->name, ".") == 0 || strcmp(fi->name, "..") == 0))
			*(fi->name[1] ? &up : &self) = (struct dir_id){.have = true,
								       .ino = est.st_ino,
								       .mtime = fi->mtime_ts,
								       .ctime = fi->ctime_ts};
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	return rules_inside(&parent, st.st_ino, rules_twins_has(twins, st.st_ino), &self, &up)
		   ? 0
		   : PROTO_E_LINK;
}

/* Appends "/" and @name to w->url; the caller puts w->len back. */
static int rm_push(struct rm_walk *w, const char *name)
{
	if (w->len + 2 > sizeof(w->url))
		return PROTO_E_BAD_NAME;
	w->url[w->len++] = '/';
	w->url[w->len] = '\0';
	return url_append(w->url, sizeof(w->url), &w->len, name, strlen(name));
}

static void rm_pop(struct rm_walk *w, size_t len)
{
	w->len = len;
	w->url[len] = '\0';
}

static int rm_add(struct rm_walk *w, const char *name, ino_t ino, uint8_t kind)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct rm_node *nn = realloc(w->nodes, cap * sizeof(*nn));
		if (!nn)
			return PROTO_E_IO;
		w->nodes = nn;
		w->cap = cap;
	}
	char *copy = name ? strdup(name) : NULL;
	if (name && !copy)
		return PROTO_E_IO;
	w->nodes[w->n++] = (struct rm_node){.name = copy, .ino = ino, .kind = kind};
	return 0;
}

/* Drops the nodes from @n on. */
static void rm_cut(struct rm_walk *w, size_t n)
{
	while (w->n > n)
		free(w->nodes[--w->n].name);
}

/* The next entry of the folder @d other than "." and "..", which go to
 * @self and @up (the tell of a link the server followed: rules.h); NULL at
 * the end. */
static const struct libsmb_file_info *walk_next(SMBCCTX *ctx, SMBCFILE *d, struct stat *st,
						struct dir_id *self, struct dir_id *up)
{
	const struct libsmb_file_info *fi;

	while ((fi = smbc_getFunctionReaddirPlus2(ctx)(ctx, d, st)) != NULL) {
		if (!fi->name)
			continue;
		if (strcmp(fi->name, ".") == 0 || strcmp(fi->name, "..") == 0) {
			*(fi->name[1] ? up : self) = (struct dir_id){.have = true,
								     .ino = st->st_ino,
								     .mtime = fi->mtime_ts,
								     .ctime = fi->ctime_ts};
			continue;
		}
		return fi;
	}
	return NULL;
}

/* Lists the folder at w->url into new nodes (*@first, *@count); "." and ".."
 * into @self and @up. */
static int rm_list(struct rm_walk *w, size_t *first, uint32_t *count, struct dir_id *self,
		   struct dir_id *up)
{
	SMBCCTX *ctx = w->s->ctx;
	const struct libsmb_file_info *fi;
	struct stat st;
	SMBCFILE *d;
	int r = 0;

	*first = w->n;
	*count = 0;
	d = opendir_again(w->s, w->url);
	if (!d)
		return opendir_err(w->s, w->url);
	while ((fi = walk_next(ctx, d, &st, self, up)) != NULL) {
		if (w->budget == 0) {
			r = PROTO_E_TOO_BIG;
			break;
		}
		w->budget--;
		if (!smb_name_ok(fi->name)) {
			r = PROTO_E_BAD_ENTRY; /* it could not be deleted: delete nothing */
			break;
		}
		/* A junction or symbolic link that the server marks as one. */
		uint8_t kind = !(fi->attrs & FILE_ATTR_DIRECTORY)      ? RM_FILE
			       : (fi->attrs & FILE_ATTR_REPARSE_POINT) ? RM_LINK
								       : RM_DIR;
		r = rm_add(w, fi->name, st.st_ino, kind);
		if (r)
			break;
		(*count)++;
	}
	smbc_getFunctionClosedir(ctx)(ctx, d);
	return r;
}

/* The twins of a listing whose folders have the ids @ids[0..@n) (malloc'd
 * or NULL, @cap allocated; taken) and whose "." and ".." gave @self and @up:
 * *@ret (caller frees with rules_twins_clear()). */
static int listing_twins(ino_t *ids, size_t n, size_t cap, const struct dir_id *self,
			 const struct dir_id *up, struct twins *ret)
{
	int r = 0;

	if (self->have)
		r = rules_ids_push(&ids, &n, &cap, self->ino);
	if (r == 0 && up->have)
		r = rules_ids_push(&ids, &n, &cap, up->ino);
	if (r) {
		free(ids);
		return PROTO_E_IO;
	}
	rules_twins_make(ids, n, ret);
	return 0;
}

/* Marks the folders of nodes[first .. first + count) whose file id another
 * of them, @self or @up has too (rules_inside()). */
static int rm_twins(struct rm_walk *w, size_t first, uint32_t count, const struct dir_id *self,
		    const struct dir_id *up)
{
	ino_t *ids = NULL;
	size_t n = 0, cap = 0;
	struct twins t;

	for (size_t i = first; i < first + count; i++)
		if (w->nodes[i].kind == RM_DIR && rules_ids_push(&ids, &n, &cap, w->nodes[i].ino)) {
			free(ids);
			return PROTO_E_IO;
		}
	int r = listing_twins(ids, n, cap, self, up, &t);
	if (r)
		return r;
	for (size_t i = first; i < first + count; i++)
		w->nodes[i].twin =
		    w->nodes[i].kind == RM_DIR && rules_twins_has(&t, w->nodes[i].ino);
	rules_twins_clear(&t);
	return 0;
}

/* The first pass, for node @at (at w->url), found in the folder @parent. */
static int rm_scan(struct rm_walk *w, size_t at, const struct dir_id *parent, int depth)
{
	struct dir_id self = {0}, up = {0};
	size_t first;
	uint32_t count;
	bool ok = true;
	int r;

	if (depth > RMDIR_DEPTH)
		return PROTO_E_TOO_DEEP;
	r = rm_list(w, &first, &count, &self, &up);
	if (r == 0)
		r = rm_twins(w, first, count, &self, &up);
	if (r)
		return r;
	bool inside = rules_inside(parent, w->nodes[at].ino, w->nodes[at].twin, &self, &up);
	/* A folder seen twice (a link to a folder of the tree): the second one
	 * is the link, as far as this walk knows. */
	if (inside && self.have && self.ino == w->nodes[at].ino)
		inside = seen_add(&w->seen, self.ino, &ok);
	if (!ok)
		return PROTO_E_IO;
	if (!inside) {
		rm_cut(w, first); /* what the link points to: not ours */
		w->nodes[at].kind = RM_LINK;
		return count > 0 ? PROTO_E_LINK : 0;
	}
	w->nodes[at].first = first;
	w->nodes[at].n = count;
	for (size_t i = first; i < first + count; i++) {
		if (w->nodes[i].kind != RM_DIR)
			continue;
		size_t len = w->len;
		r = rm_push(w, w->nodes[i].name);
		if (r == 0)
			r = rm_scan(w, i, &self, depth + 1);
		rm_pop(w, len);
		if (r)
			return r;
	}
	return 0;
}

/* The second pass: deletes node @at (at w->url). */
static int rm_delete(struct rm_walk *w, size_t at)
{
	SMBCCTX *ctx = w->s->ctx;
	const struct rm_node *node = &w->nodes[at];
	int r = 0;

	if (node->kind == RM_FILE)
		return smbc_getFunctionUnlink(ctx)(ctx, w->url) < 0 ? last_err() : 0;
	for (size_t i = node->first; node->kind == RM_DIR && r == 0 && i < node->first + node->n;
	     i++) {
		size_t len = w->len;
		r = rm_push(w, w->nodes[i].name);
		if (r == 0)
			r = rm_delete(w, i);
		rm_pop(w, len);
		if (r == PROTO_E_NOT_FOUND)
			r = 0; /* gone already */
	}
	/* A folder, now empty; or a link, which Samba removes itself (lstat,
	 * then unlink), and only while its target is empty. */
	if (r == 0 && smbc_getFunctionRmdir(ctx)(ctx, w->url) < 0)
		r = last_err();
	return r;
}

/* The identity of the folder at @url, from a stat. */
static int stat_id(struct smb *s, const char *url, struct dir_id *ret)
{
	struct stat st;
	int r = stat_again(s, url, &st);

	if (r)
		return r;
	*ret = (struct dir_id){
	    .have = true, .ino = st.st_ino, .mtime = st.st_mtim, .ctime = st.st_ctim};
	return S_ISDIR(st.st_mode) ? 0 : PROTO_E_NOT_DIR;
}

/* Deletes the folder at @url (@share/@path, not the share) and its content. */
static int rmdir_tree(struct smb *s, const char *share, const char *path, const char *url)
{
	struct rm_walk *w = calloc(1, sizeof(*w));
	struct dir_id top, parent;
	const struct twins *twins;
	char purl[URL_MAX];
	const char *slash = strrchr(path, '/');
	char ppath[PROTO_MAX_PATH + 1];
	int r;

	if (!w)
		return PROTO_E_IO;
	w->s = s;
	w->budget = RMDIR_ENTRIES;
	w->len = strlen(url);
	memcpy(w->url, url, w->len + 1);
	/* Where the folder was asked for: its parent (the share's root at the top). */
	snprintf(ppath, sizeof(ppath), "%.*s", slash ? (int)(slash - path) : 0, path);
	r = make_url(s, purl, sizeof(purl), share, ppath);
	if (r == 0)
		r = stat_id(s, url, &top);
	if (r == 0)
		r = stat_id(s, purl, &parent);
	if (r == 0)
		r = memo_twins(s, purl, &parent, &twins); /* beside its target? */
	if (r == 0)
		r = rm_add(w, NULL, top.ino, RM_DIR);
	if (r == 0) {
		w->nodes[0].twin = rules_twins_has(twins, top.ino);
		r = rm_scan(w, 0, &parent, 0);
	}
	if (r == 0)
		r = rm_delete(w, 0);
	rm_cut(w, 0);
	free(w->nodes);
	tdestroy(w->seen, free);
	free(w);
	return r;
}

int smb_rmdir(struct smb *s, const char *share, const char *path, uint32_t flags)
{
	char url[URL_MAX];
	struct proto_stat st = {0};
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
		return rmdir_tree(s, share, path, url);
	if (smbc_getFunctionRmdir(s->ctx)(s->ctx, url) < 0)
		return last_err();
	return 0;
}

/* ---- tree walks (ZIP, SEARCH) ---- */

/* One entry of a folder, kept while its siblings are walked. */
struct walk_kid {
	char *name;
	ino_t ino;
	uint64_t size;
	int64_t mtime;
	uint8_t kind; /* enum rm_kind */
	bool twin;    /* its id is another entry's too (rules_inside()) */
};

struct walk {
	struct smb *s;
	smb_walk_cb cb;
	void *ud;
	void *seen; /* tsearch() set of the file ids of the folders entered */
	char url[URL_MAX];
	size_t ulen;
	char path[PROTO_MAX_PATH + 1]; /* relative to the top */
	size_t plen;
};

static void kids_free(struct walk_kid *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].name);
	free(k);
}

/* Appends "/" (unless at the start) and @name to w->path and w->url; the
 * caller puts both lengths back with walk_pop(). */
static int walk_push(struct walk *w, const char *name)
{
	size_t l = strlen(name);

	if (w->plen + l + 2 > sizeof(w->path) || w->ulen + 2 > sizeof(w->url))
		return PROTO_E_BAD_NAME;
	if (w->plen)
		w->path[w->plen++] = '/';
	memcpy(w->path + w->plen, name, l + 1);
	w->plen += l;
	w->url[w->ulen++] = '/';
	w->url[w->ulen] = '\0';
	return url_append(w->url, sizeof(w->url), &w->ulen, name, l);
}

static void walk_pop(struct walk *w, size_t plen, size_t ulen)
{
	w->plen = plen;
	w->path[plen] = '\0';
	w->ulen = ulen;
	w->url[ulen] = '\0';
}

/* Lists the folder at w->url into *@ret_kids (caller frees with kids_free());
 * names that cannot be passed on are reported (SMB_WALK_BAD_NAME). */
static int walk_list(struct walk *w, unsigned depth, struct walk_kid **ret_kids, size_t *ret_n,
		     struct dir_id *self, struct dir_id *up)
{
	SMBCCTX *ctx = w->s->ctx;
	const struct libsmb_file_info *fi;
	struct walk_kid *kids = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	SMBCFILE *d;
	int r = 0;

	d = opendir_again(w->s, w->url);
	if (!d)
		return opendir_err(w->s, w->url);
	while ((fi = walk_next(ctx, d, &st, self, up)) != NULL) {
		if (smb_path_reserved(fi->name))
			continue; /* an upload in progress, not a file yet */
		if (!smb_name_ok(fi->name)) {
			struct smb_walk_entry e = {.path = w->path, .depth = depth};
			r = w->cb(w->ud, SMB_WALK_BAD_NAME, &e, PROTO_E_BAD_ENTRY);
			if (r > 0)
				break;
			r = 0;
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct walk_kid *nk = realloc(kids, nc * sizeof(*nk));
			if (!nk) {
				r = PROTO_E_IO;
				break;
			}
			kids = nk;
			cap = nc;
		}
		bool dir = fi->attrs & FILE_ATTR_DIRECTORY;
		kids[n] =
		    (struct walk_kid){.name = strdup(fi->name),
				      .ino = st.st_ino,
				      .size = dir ? 0 : fi->size,
				      .mtime = ts_sec(&fi->mtime_ts),
				      .kind = !dir				      ? RM_FILE
					      : (fi->attrs & FILE_ATTR_REPARSE_POINT) ? RM_LINK
										      : RM_DIR};
		if (!kids[n].name) {
			r = PROTO_E_IO;
			break;
		}
		n++;
	}
	smbc_getFunctionClosedir(ctx)(ctx, d);
	if (r) {
		kids_free(kids, n);
		return r;
	}
	*ret_kids = kids;
	*ret_n = n;
	return 0;
}

static int walk_dir(struct walk *w, const struct smb_walk_entry *self_e,
		    const struct dir_id *parent, ino_t ino, bool twin, bool check);

/* Marks the folders of @kids[0..@n) whose file id another of them, @self
 * or @up has too (rules_inside()). */
static int walk_twins(struct walk_kid *kids, size_t n, const struct dir_id *self,
		      const struct dir_id *up)
{
	ino_t *ids = NULL;
	size_t k = 0, cap = 0;
	struct twins t;

	for (size_t i = 0; i < n; i++)
		if (kids[i].kind == RM_DIR && rules_ids_push(&ids, &k, &cap, kids[i].ino)) {
			free(ids);
			return PROTO_E_IO;
		}
	int r = listing_twins(ids, k, cap, self, up, &t);
	if (r)
		return r;
	for (size_t i = 0; i < n; i++)
		kids[i].twin = kids[i].kind == RM_DIR && rules_twins_has(&t, kids[i].ino);
	rules_twins_clear(&t);
	return 0;
}

/* Reports @k (an entry of the folder at w->path, of depth @depth) and walks
 * it when it is a folder; w->path and w->url name the folder it is in. */
static int walk_kid(struct walk *w, const struct walk_kid *k, unsigned depth,
		    const struct dir_id *here)
{
	size_t plen = w->plen, ulen = w->ulen;
	int r = walk_push(w, k->name);
	struct smb_walk_entry e = {.path = w->path,
				   .ftype = k->kind == RM_FILE ? PROTO_FT_FILE : PROTO_FT_DIR,
				   .size = k->size,
				   .mtime = k->mtime,
				   .depth = depth};

	if (r == 0) {
		if (k->kind == RM_FILE)
			r = w->cb(w->ud, SMB_WALK_ENTRY, &e, 0);
		else if (k->kind == RM_LINK)
			r = w->cb(w->ud, SMB_WALK_LINK, &e, PROTO_E_LINK);
		else
			r = walk_dir(w, &e, here, k->ino, k->twin, true);
	} else {
		struct smb_walk_entry bad = {.path = w->path, .depth = depth};
		walk_pop(w, plen, ulen);
		r = w->cb(w->ud, SMB_WALK_BAD_NAME, &bad, r);
	}
	walk_pop(w, plen, ulen);
	return r > 0 ? r : 0;
}

/*
 * The folder at w->url (w->path): listed first, then, when it is really
 * inside @parent (@check; see rules_inside()), reported with @self_e (NULL: the
 * top, not reported) and its entries walked, depth first.
 */
static int walk_dir(struct walk *w, const struct smb_walk_entry *self_e,
		    const struct dir_id *parent, ino_t ino, bool twin, bool check)
{
	struct dir_id self = {0}, up = {0};
	struct walk_kid *kids = NULL;
	size_t n = 0;
	unsigned depth = self_e ? self_e->depth + 1 : 0;
	bool ok = true;
	int r = walk_list(w, depth, &kids, &n, &self, &up);

	if (r == 0 && (r = walk_twins(kids, n, &self, &up)) != 0) {
		kids_free(kids, n);
		return r;
	}
	if (r) {
		if (!self_e)
			return r; /* the top itself: the request fails */
		r = w->cb(w->ud, SMB_WALK_UNREADABLE, self_e, r);
		return r > 0 ? r : 0;
	}
	bool inside = !check || rules_inside(parent, ino, twin, &self, &up);
	if (inside && check && self.have && self.ino == ino)
		inside = seen_add(&w->seen, self.ino, &ok);
	if (!ok) {
		kids_free(kids, n);
		return PROTO_E_IO;
	}
	if (!inside) {
		kids_free(kids, n);
		r = w->cb(w->ud, SMB_WALK_LINK, self_e, PROTO_E_LINK);
		return r > 0 ? r : 0;
	}
	if (self_e) {
		r = w->cb(w->ud, SMB_WALK_ENTRY, self_e, 0);
		if (r == SMB_WALK_PRUNE) {
			kids_free(kids, n);
			return 0;
		}
	}
	for (size_t i = 0; r <= 0 && i < n; i++)
		r = walk_kid(w, &kids[i], depth, &self);
	kids_free(kids, n);
	return r > 0 ? r : 0;
}

int smb_walk(struct smb *s, const char *share, const char *top, const char *const *names,
	     size_t n_names, smb_walk_cb cb, void *ud)
{
	struct walk *w = calloc(1, sizeof(*w));
	const struct twins *twins = NULL;
	struct dir_id top_id;
	char top_url[URL_MAX];
	int r;

	if (!w)
		return PROTO_E_IO;
	w->s = s;
	w->cb = cb;
	w->ud = ud;
	r = make_url(s, w->url, sizeof(w->url), share, top);
	if (r == 0)
		r = stat_id(s, w->url, &top_id);
	if (r)
		goto out;
	w->ulen = strlen(w->url);
	if (n_names == 0) {
		r = walk_dir(w, NULL, NULL, 0, false, false);
		goto out;
	}
	/* A selection: each name is an entry of @top. */
	memcpy(top_url, w->url, w->ulen + 1);
	r = memo_twins(s, top_url, &top_id, &twins);
	for (size_t i = 0; r == 0 && i < n_names; i++) {
		size_t ulen = w->ulen;
		struct stat st;
		if (smb_path_reserved(names[i]) || !smb_name_ok(names[i])) {
			r = PROTO_E_BAD_NAME;
			break;
		}
		r = walk_push(w, names[i]);
		if (r == 0)
			r = tmp_alias(s, top_url, names[i], w->url);
		if (r == 0)
			r = stat_again(s, w->url, &st);
		walk_pop(w, 0, ulen);
		if (r)
			break;
		struct walk_kid k = {.name = (char *)names[i],
				     .ino = st.st_ino,
				     .size = S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size,
				     .mtime = (int64_t)st.st_mtime,
				     .kind = S_ISDIR(st.st_mode) ? RM_DIR : RM_FILE,
				     .twin =
					 S_ISDIR(st.st_mode) && rules_twins_has(twins, st.st_ino)};
		r = walk_kid(w, &k, 0, &top_id);
	}
out:
	tdestroy(w->seen, free);
	free(w);
	return r;
}

int smb_read_stream(struct smb *s, const char *share, const char *path,
		    int (*started)(void *ud, const struct proto_stat *st),
		    int (*data)(void *ud, const char *buf, size_t n), void *ud, bool *ret_started)
{
	char url[URL_MAX];
	struct stat st;
	SMBCFILE *f;
	int r = make_url(s, url, sizeof(url), share, path);

	*ret_started = false;
	if (r || (r = open_for_read(s, url, &f, &st)))
		return r;
	struct proto_stat pst = stat_of(&st);
	*ret_started = true;
	r = started(ud, &pst);
	for (uint64_t left = pst.size; r == 0 && left > 0;) {
		size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
		ssize_t n = smbc_getFunctionRead(s->ctx)(s->ctx, f, s->buf, want);
		if (n < 0) {
			r = last_err();
			break;
		}
		if (n == 0)
			break; /* the file shrank: the caller pads */
		r = data(ud, s->buf, (size_t)n);
		left -= (uint64_t)n;
	}
	smbc_getFunctionClose(s->ctx)(s->ctx, f);
	return r;
}

/* ---- resumable uploads (tus) ---- */

/* The URLs of @path and of its temporary @tmp_name. */
static int tus_urls(struct smb *s, const char *share, const char *path, const char *tmp_name,
		    char *url, char *tmp)
{
	char tmp_path[PROTO_MAX_PATH + 64];
	int r;

	if (!path || !*path)
		return PROTO_E_IS_DIR;
	r = make_url(s, url, URL_MAX, share, path);
	if (r == 0)
		r = tmp_beside(tmp_path, sizeof(tmp_path), path, tmp_name);
	if (r == 0)
		r = make_url(s, tmp, URL_MAX, share, tmp_path);
	return r;
}

int smb_tus_create(struct smb *s, const char *share, const char *path, const char *tmp_name,
		   uint32_t flags)
{
	char url[URL_MAX], tmp[URL_MAX];
	SMBCFILE *f;
	int r = tus_urls(s, share, path, tmp_name, url, tmp);

	if (r == 0)
		r = check_new_target(s, url, path, flags);
	if (r)
		return r;
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!f)
		return last_err();
	if (smbc_getFunctionClose(s->ctx)(s->ctx, f) < 0) {
		r = last_err();
		unlink_quiet(s, tmp);
	}
	return r;
}

int smb_tus_info(struct smb *s, const char *share, const char *path, const char *tmp_name,
		 uint64_t *ret_size)
{
	char url[URL_MAX], tmp[URL_MAX];
	struct proto_stat st;
	int r = tus_urls(s, share, path, tmp_name, url, tmp);

	if (r == 0)
		r = stat_url(s, tmp, &st);
	if (r == 0 && st.ftype != PROTO_FT_FILE)
		r = PROTO_E_IS_DIR;
	if (r == 0)
		*ret_size = st.size;
	return r;
}

int smb_tus_append(struct smb *s, const char *share, const char *path, const char *tmp_name,
		   uint64_t offset, uint64_t length, uint32_t flags, int fd, uint64_t *ret_size,
		   uint32_t *ret_created)
{
	char url[URL_MAX], tmp[URL_MAX];
	uint64_t done = 0;
	struct proto_stat pst;
	SMBCFILE *f;
	int r = tus_urls(s, share, path, tmp_name, url, tmp);

	*ret_created = 0;
	if (r)
		return r;
	/* A handle open for writing only cannot be stat'ed: the path first
	 * (one request at a time works on an upload: the gateway sees to it). */
	r = stat_url(s, tmp, &pst);
	if (r)
		return r;
	*ret_size = pst.size;
	if (pst.ftype != PROTO_FT_FILE)
		return PROTO_E_IS_DIR;
	if (pst.size != offset)
		return PROTO_E_OFFSET;
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, tmp, O_WRONLY, 0);
	if (!f)
		return last_err();
	if (smbc_getFunctionLseek(s->ctx)(s->ctx, f, (off_t)offset, SEEK_SET) < 0) {
		r = last_err();
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, s->buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF, or the gateway gave up: what came is kept */
		if ((uint64_t)n > length - offset - done) {
			r = PROTO_E_INVALID; /* more than the upload's length */
			break;
		}
		r = smb_write_all(s, f, s->buf, (size_t)n);
		if (r)
			break;
		done += (uint64_t)n;
		*ret_size = offset + done;
	}
	if (r == 0 && offset + done == length) {
		r = commit_tmp(s, f, share, path, tmp, url, flags, ret_created);
		return r;
	}
out:
	smbc_getFunctionClose(s->ctx)(s->ctx, f);
	return r;
}
