/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/worker.c - smbgate-worker: runs inside a sandbox, answers the
 * gateway's requests on fd 3 (proto.h) with one libsmbclient context (smb.h).
 * Single-threaded; one request at a time. The dispatch table says which
 * requests are allowed when (before AUTH only AUTH, AUTH only once).
 *
 * Runs in: the worker (and its lanes), inside the sandbox.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <seccomp.h>

#include "fdpass.h"
#include "fusefs.h"
#include "proto.h"
#include "search.h"
#include "smb.h"
#include "zip.h"

#define CTL_FD	3
#define FUSE_FD 4 /* JAIL_FUSE_FD (sandbox/init/jail.h): the mount's /dev/fuse, if any */

enum when { PRE_AUTH, AUTHED };

struct worker {
	struct smb *smb;
	char server[PROTO_MAX_NAME + 1]; /* AUTH's, for the FUSE server's messages */
	bool mount_on_demand;		 /* the FUSE server waits for MOUNT */
	bool fuse_started;
	uint8_t out[PROTO_MAX_MSG];
};

static void die(const char *what)
{
	fprintf(stderr, "smbgate-worker: %s\n", what);
	exit(2);
}

static void send_msg(const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(CTL_FD, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		exit(0); /* the gateway is gone */
}

static void reply(struct worker *w, uint16_t type, uint32_t seq, const void *body, size_t len,
		  const char *const *strs, unsigned n_str)
{
	int n = proto_encode(w->out, sizeof(w->out), type, seq, body, len, strs, n_str);

	if (n < 0)
		die("cannot encode an answer");
	send_msg(w->out, (size_t)n);
}

static void reply_error(struct worker *w, uint32_t seq, uint32_t code)
{
	struct proto_error e = {.code = code};
	const char *msg = proto_err_name(code);

	reply(w, PROTO_ERROR, seq, &e, sizeof(e), &msg, 1);
}

static void reply_end(struct worker *w, uint32_t seq, uint32_t created, uint64_t bytes)
{
	struct proto_end e = {.created = created, .bytes = bytes};

	reply(w, PROTO_END, seq, &e, sizeof(e), NULL, 0);
}

/* ERROR with @r (a proto_err) when it is not 0, else END with @created and
 * @bytes. */
static void reply_result(struct worker *w, uint32_t seq, int r, uint32_t created, uint64_t bytes)
{
	if (r)
		reply_error(w, seq, (uint32_t)r);
	else
		reply_end(w, seq, created, bytes);
}

static void reply_status(struct worker *w, uint32_t seq, int r)
{
	reply_result(w, seq, r, 0, 0);
}

/* ---- listings: ENTRIES batches, then END ---- */

struct lister {
	struct worker *w;
	struct proto_entries_builder b;
	uint32_t seq;
	uint64_t total;
	unsigned skipped; /* names left out: they cannot be passed on */
};

static int list_cb(void *ud, const struct proto_entry_rec *rec, const char *name,
		   const char *comment)
{
	struct lister *l = ud;
	int r;

	if (++l->total > PROTO_MAX_LIST_ENTRIES)
		return PROTO_E_TOO_BIG;
	r = proto_entries_add_rec(&l->b, rec, name, comment);
	if (r == -EMSGSIZE) {
		send_msg(l->w->out, proto_entries_finish(&l->b));
		proto_entries_init(&l->b, l->w->out, sizeof(l->w->out), l->seq);
		r = proto_entries_add_rec(&l->b, rec, name, comment);
	}
	if (r == -EINVAL) {
		l->total--;
		l->skipped++;
		return 0; /* a name the protocol refuses: left out */
	}
	return r ? PROTO_E_IO : 0;
}

static void list_finish(struct lister *l, int r)
{
	if (r) {
		reply_error(l->w, l->seq, (uint32_t)r);
		return;
	}
	if (l->b.count > 0)
		send_msg(l->w->out, proto_entries_finish(&l->b));
	struct proto_end e = {
	    .skipped = l->skipped < PROTO_MAX_LIST_ENTRIES ? l->skipped : PROTO_MAX_LIST_ENTRIES,
	    .bytes = l->total};
	reply(l->w, PROTO_END, l->seq, &e, sizeof(e), NULL, 0);
}

/* ---- handlers ---- */

/*
 * The FUSE server's own filter, on top of the worker's (filters stack): it
 * never makes a process or a thread (libfuse's single-threaded loop), so it
 * may not; a call that tries fails with EPERM.
 */
static void fuse_server_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	static const int calls[] = {SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(clone),
				    SCMP_SYS(clone3)};

	for (size_t i = 0; ctx && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), calls[i], 0) < 0)
			die("cannot build the FUSE server's filter");
	if (!ctx || seccomp_load(ctx) < 0)
		die("cannot load the FUSE server's filter");
	seccomp_release(ctx);
}

/*
 * The FUSE server of the sandbox's /shares/SERVER, when its PID 1 mounted it
 * (fd FUSE_FD): a forked copy of this worker with its own SMB connection,
 * not dumpable either, serving until the sandbox ends. The fd is its alone:
 * this worker (and so every lane) closes its copy, so that a dead server
 * makes the mount fail with ENOTCONN instead of hanging.
 */
static void start_mounts(struct worker *w, const char *server)
{
	struct smb *copy = NULL;

	if (fcntl(FUSE_FD, F_GETFD) < 0)
		return; /* no mount in this sandbox */
	pid_t pid = fork();
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		(void)prctl(PR_SET_NAME, "smbgate-fuse", 0, 0, 0);
		close(CTL_FD);
		fuse_server_filter();
		/* The parent's context shares its connections with the parent. */
		if (smb_clone(w->smb, &copy) != 0)
			_exit(1);
		_exit(fusefs_serve(copy, server, FUSE_FD, NULL) < 0 ? 1 : 0);
	}
	if (pid < 0)
		fprintf(stderr, "smbgate: sandbox: cannot start the FUSE server: %s\n",
			strerror(errno));
	w->fuse_started = pid > 0;
	close(FUSE_FD);
}

/* MOUNT: the FUSE server now, when it is not running yet (on-demand mounts). */
static void h_mount(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	if (w->fuse_started) {
		reply_status(w, m->hdr.seq, 0);
		return;
	}
	if (fcntl(FUSE_FD, F_GETFD) < 0) {
		reply_error(w, m->hdr.seq, PROTO_E_NOT_FOUND); /* no mount here */
		return;
	}
	start_mounts(w, w->server);
	reply_status(w, m->hdr.seq, w->fuse_started ? 0 : PROTO_E_IO);
}

static void h_auth(struct worker *w, const struct proto_msg *m, int fd)
{
	const struct proto_auth *a = &m->u.auth;
	struct smb_params p = {
	    .server = m->str[0],
	    .min_protocol = a->min_protocol,
	    .max_protocol = a->max_protocol,
	    .encryption = a->encryption,
	    .timeout = a->timeout,
	    .show_hidden = !!(a->flags & PROTO_AUTH_SHOW_HIDDEN),
	};
	(void)fd;
	int r = smb_open(&p, m->str[1], m->str[2], m->str[3], m->str[4], &w->smb);
	reply_status(w, m->hdr.seq, r);
	if (r)
		exit(0); /* AUTH is allowed once: a failed login ends the sandbox */
	snprintf(w->server, sizeof(w->server), "%s", m->str[0]);
	if (!w->mount_on_demand)
		start_mounts(w, w->server);
}

static void h_shares(struct worker *w, const struct proto_msg *m, int fd)
{
	struct lister l = {.w = w, .seq = m->hdr.seq};
	(void)fd;
	proto_entries_init(&l.b, w->out, sizeof(w->out), l.seq);
	list_finish(&l, smb_shares(w->smb, list_cb, &l));
}

static void h_list(struct worker *w, const struct proto_msg *m, int fd)
{
	struct lister l = {.w = w, .seq = m->hdr.seq};
	(void)fd;
	proto_entries_init(&l.b, w->out, sizeof(w->out), l.seq);
	list_finish(&l, smb_list(w->smb, m->str[0], m->str[1], list_cb, &l, &l.skipped));
}

static void h_stat(struct worker *w, const struct proto_msg *m, int fd)
{
	struct proto_stat st;
	(void)fd;
	int r = smb_stat(w->smb, m->str[0], m->str[1], &st);
	if (r)
		reply_error(w, m->hdr.seq, (uint32_t)r);
	else
		reply(w, PROTO_STAT_OK, m->hdr.seq, &st, sizeof(st), NULL, 0);
}

struct read_ctx {
	struct worker *w;
	uint32_t seq;
};

static int read_started(void *ud, const struct proto_stat *st, uint64_t length)
{
	struct read_ctx *c = ud;
	struct proto_read_ok ok = {.st = *st, .length = length};

	reply(c->w, PROTO_READ_OK, c->seq, &ok, sizeof(ok), NULL, 0);
	return 0;
}

static void h_read(struct worker *w, const struct proto_msg *m, int fd)
{
	struct read_ctx c = {.w = w, .seq = m->hdr.seq};
	uint64_t written = 0;
	int r = smb_read(w->smb, m->str[0], m->str[1], m->u.range.offset, m->u.range.length, fd,
			 read_started, &c, &written);
	close(fd); /* EOF for the gateway before the END */
	reply_result(w, m->hdr.seq, r, 0, written);
}

static void h_write(struct worker *w, const struct proto_msg *m, int fd)
{
	uint32_t created = 0;
	uint64_t written = 0;
	int r = smb_write(w->smb, m->str[0], m->str[1], m->str[2], m->u.write.flags, fd,
			  m->u.write.size, &created, &written);
	close(fd);
	reply_result(w, m->hdr.seq, r, created, written);
}

static void h_mkdir(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_mkdir(w->smb, m->str[0], m->str[1]));
}

static void h_statvfs(struct worker *w, const struct proto_msg *m, int fd)
{
	struct proto_statvfs st = {0};
	(void)fd;
	int r = smb_statvfs(w->smb, m->str[0], &st.total, &st.avail);
	if (r)
		reply_error(w, m->hdr.seq, (uint32_t)r);
	else
		reply(w, PROTO_STATVFS_OK, m->hdr.seq, &st, sizeof(st), NULL, 0);
}

static void h_utimes(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq,
		     smb_utimes(w->smb, m->str[0], m->str[1], m->u.times.mtime, m->u.times.atime));
}

static void h_followed(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_followed_link(w->smb, m->str[0], m->str[1]));
}

static void h_writable(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_writable(w->smb, m->str[0], m->str[1]));
}

static void h_rename(struct worker *w, const struct proto_msg *m, int fd)
{
	uint32_t created = 0;
	(void)fd;
	int r = smb_rename(w->smb, m->str[0], m->str[1], m->str[2], m->u.flags.flags, &created);
	reply_result(w, m->hdr.seq, r, created, 0);
}

static void h_copy(struct worker *w, const struct proto_msg *m, int fd)
{
	uint32_t created = 0;
	uint64_t copied = 0;
	(void)fd;
	int r =
	    smb_copy(w->smb, m->str[0], m->str[1], m->str[2], m->u.flags.flags, &created, &copied);
	reply_result(w, m->hdr.seq, r, created, copied);
}

static void h_unlink(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_unlink(w->smb, m->str[0], m->str[1]));
}

static void h_rmdir(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_rmdir(w->smb, m->str[0], m->str[1], m->u.flags.flags));
}

/* The gateway removes what an upload of a dead worker left behind. */
static void h_drop(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_drop_tmp(w->smb, m->str[0], m->str[1], m->str[2]));
}

static void h_aside(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq,
		     smb_aside(w->smb, m->str[0], m->str[1], m->str[2], m->u.flags.flags));
}

static void h_check(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq, smb_check_password(w->smb, m->str[0]));
}

/* A new lane: a forked copy of this worker with its own SMB connections and
 * its own control socket, so that a long transfer does not hold up the rest. */
static void h_lane(struct worker *w, const struct proto_msg *m, int fd)
{
	struct smb *copy = NULL;
	int sv[2];
	(void)fd;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		reply_error(w, m->hdr.seq, PROTO_E_IO);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		reply_error(w, m->hdr.seq, PROTO_E_IO);
		return;
	}
	if (pid == 0) {
		close(FUSE_FD); /* the FUSE server alone may hold it (EBADF: none) */
		struct proto_hello hello = {.version = PROTO_VERSION};
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(sv[0]);
		if (dup3(sv[1], CTL_FD, O_CLOEXEC) < 0)
			_exit(1);
		close(sv[1]);
		/* The parent's context shares its connections with the parent:
		 * never touch it again here (no logoff, no close; and no
		 * smb_free(): its read buffers are MADV_DONTFORK, not mapped here). */
		if (smb_clone(w->smb, &copy) != 0)
			_exit(1);
		w->smb = copy;
		reply(w, PROTO_HELLO, 0, &hello, sizeof(hello), NULL, 0);
		return; /* back to the main loop, on the new socket */
	}
	close(sv[1]);
	struct proto_end e = {0};
	int n = proto_encode(w->out, sizeof(w->out), PROTO_END, m->hdr.seq, &e, sizeof(e), NULL, 0);
	if (n < 0 || fdpass_send(CTL_FD, w->out, (size_t)n, &sv[0], 1) != n)
		exit(0);
	close(sv[0]);
}

/* ZIP: ZIP_OK once the walk is done, then the archive into the pipe. */
struct zip_ctx {
	struct worker *w;
	uint32_t seq;
};

static int zip_walking(void *ud, const struct proto_walking *wk)
{
	struct zip_ctx *c = ud;

	reply(c->w, PROTO_WALKING, c->seq, wk, sizeof(*wk), NULL, 0);
	return 0;
}

static int zip_started(void *ud, const struct proto_zip_ok *z)
{
	struct zip_ctx *c = ud;

	reply(c->w, PROTO_ZIP_OK, c->seq, z, sizeof(*z), NULL, 0);
	return 0;
}

static void h_zip(struct worker *w, const struct proto_msg *m, int fd)
{
	struct zip_ctx c = {.w = w, .seq = m->hdr.seq};
	uint64_t bytes = 0;
	uint32_t errors = 0;
	int r = zip_write(w->smb, m->str[0], m->str[1], m->str[2], &m->u.zip, fd, zip_walking,
			  zip_started, &c, &bytes, &errors);
	close(fd); /* EOF for the gateway before the END */
	if (r) {
		reply_error(w, m->hdr.seq, (uint32_t)r);
		return;
	}
	struct proto_end e = {.skipped =
				  errors < PROTO_MAX_LIST_ENTRIES ? errors : PROTO_MAX_LIST_ENTRIES,
			      .bytes = bytes};
	reply(w, PROTO_END, m->hdr.seq, &e, sizeof(e), NULL, 0);
}

/* SEARCH: one FOUND per match, then END. */
static int search_found(void *ud, const struct smb_walk_entry *e)
{
	struct zip_ctx *c = ud;
	struct proto_entry_rec rec = {.ftype = e->ftype, .size = e->size, .mtime = e->mtime};
	const char *path = e->path;

	reply(c->w, PROTO_FOUND, c->seq, &rec, sizeof(rec), &path, 1);
	return 0;
}

static void h_search(struct worker *w, const struct proto_msg *m, int fd)
{
	struct zip_ctx c = {.w = w, .seq = m->hdr.seq};
	struct search_result res = {0};
	(void)fd;
	int r = search_run(w->smb, m->str[0], m->str[1], m->str[2], &m->u.search, search_found, &c,
			   &res);
	if (r) {
		reply_error(w, m->hdr.seq, (uint32_t)r);
		return;
	}
	struct proto_end e = {.created = (res.stopped ? PROTO_SEARCH_STOPPED : 0) |
					 (res.too_deep ? PROTO_SEARCH_TOO_DEEP : 0),
			      .skipped = res.unreadable < PROTO_MAX_LIST_ENTRIES
					     ? res.unreadable
					     : PROTO_MAX_LIST_ENTRIES,
			      .bytes = res.results};
	reply(w, PROTO_END, m->hdr.seq, &e, sizeof(e), NULL, 0);
}

/* Resumable uploads: the temporary stays between requests. */
static void h_tus_create(struct worker *w, const struct proto_msg *m, int fd)
{
	(void)fd;
	reply_status(w, m->hdr.seq,
		     smb_tus_create(w->smb, m->str[0], m->str[1], m->str[2], m->u.flags.flags));
}

static void h_tus_info(struct worker *w, const struct proto_msg *m, int fd)
{
	uint64_t size = 0;
	(void)fd;
	int r = smb_tus_info(w->smb, m->str[0], m->str[1], m->str[2], &size);
	if (r) {
		reply_error(w, m->hdr.seq, (uint32_t)r);
		return;
	}
	struct proto_stat st = {.ftype = PROTO_FT_FILE, .size = size};
	reply(w, PROTO_STAT_OK, m->hdr.seq, &st, sizeof(st), NULL, 0);
}

static void h_tus_append(struct worker *w, const struct proto_msg *m, int fd)
{
	uint64_t size = m->u.tus.offset;
	uint32_t created = 0;
	int r = smb_tus_append(w->smb, m->str[0], m->str[1], m->str[2], m->u.tus.offset,
			       m->u.tus.length, m->u.tus.flags, fd, &size, &created);
	close(fd);
	reply_result(w, m->hdr.seq, r, created, size);
}

/* Strings of a request that are paths in a share, chosen by the gateway's
 * clients: they must not name the temporaries of uploads (smb_path_reserved()).
 * Bit k: the string k. WRITE's, DROP's and ASIDE's third string is such a name, but
 * the gateway's own, checked by proto_decode() (proto_tmp_name_valid()). */
#define P1  (1u << 1)
#define P12 ((1u << 1) | (1u << 2))

static const struct {
	uint16_t type;
	enum when when;
	unsigned paths;
	void (*fn)(struct worker *w, const struct proto_msg *m, int fd);
} dispatch[] = {
    {PROTO_AUTH, PRE_AUTH, 0, h_auth},
    {PROTO_SHARES, AUTHED, 0, h_shares},
    {PROTO_STAT, AUTHED, P1, h_stat},
    {PROTO_LIST, AUTHED, P1, h_list},
    {PROTO_READ, AUTHED, P1, h_read},
    {PROTO_WRITE, AUTHED, P1, h_write},
    {PROTO_MKDIR, AUTHED, P1, h_mkdir},
    {PROTO_RENAME, AUTHED, P12, h_rename},
    {PROTO_COPY, AUTHED, P12, h_copy},
    {PROTO_UNLINK, AUTHED, P1, h_unlink},
    {PROTO_RMDIR, AUTHED, P1, h_rmdir},
    {PROTO_CHECK, AUTHED, 0, h_check},
    {PROTO_LANE, AUTHED, 0, h_lane},
    {PROTO_DROP, AUTHED, P1, h_drop},
    {PROTO_MOUNT, AUTHED, 0, h_mount},
    {PROTO_ZIP, AUTHED, P1, h_zip},
    {PROTO_SEARCH, AUTHED, P1, h_search},
    {PROTO_TUS_CREATE, AUTHED, P1, h_tus_create},
    {PROTO_TUS_APPEND, AUTHED, P1, h_tus_append},
    {PROTO_TUS_INFO, AUTHED, P1, h_tus_info},
    {PROTO_STATVFS, AUTHED, 0, h_statvfs},
    {PROTO_FOLLOWED, AUTHED, P1, h_followed},
    {PROTO_WRITABLE, AUTHED, P1, h_writable},
    {PROTO_ASIDE, AUTHED, P1, h_aside},
    {PROTO_UTIMES, AUTHED, P1, h_utimes},
};

/* After start-up the worker never executes anything again. */
static void forbid_exec(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(execve), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(execveat), 0) < 0 ||
	    seccomp_load(ctx) < 0)
		die("cannot forbid execve");
	seccomp_release(ctx);
}

/*
 * Receives one request, with exactly the fds proto_fds() says for it (*@fd:
 * the one of READ and WRITE, else -1). Returns 0, 1 when the gateway closed
 * the session; dies on anything malformed (the gateway sees EOF).
 */
static int receive(uint8_t *in, size_t size, ssize_t *len, struct proto_msg *m, int *fd)
{
	struct fdpass_info info;
	ssize_t n;

	*fd = -1;
	n = fdpass_recv(CTL_FD, in, size, fd, 1, 0, &info);
	if (n <= 0)
		return 1;
	if (info.trunc || info.ctrunc || proto_decode(in, (size_t)n, m) < 0 || (m->hdr.type & 1) ||
	    info.received != proto_fds(m->hdr.type, 0))
		die("malformed request");
	*len = n;
	return 0;
}

/* Runs @m's handler when the dispatch table allows it now; takes @fd. */
static void handle(struct worker *w, const struct proto_msg *m, int fd)
{
	size_t i;

	for (i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++)
		if (dispatch[i].type == m->hdr.type)
			break;
	if (i == sizeof(dispatch) / sizeof(dispatch[0]))
		die("unknown request");
	enum when now = w->smb ? AUTHED : PRE_AUTH;
	/* Paths in a share must not name the temporaries of uploads. */
	bool reserved = false;
	for (unsigned k = 1; k < m->n_str; k++)
		if (dispatch[i].paths & (1u << k))
			reserved |= smb_path_reserved(m->str[k]);
	if (dispatch[i].when != now || reserved) {
		if (fd >= 0)
			close(fd);
		reply_error(w, m->hdr.seq, reserved ? PROTO_E_BAD_NAME : PROTO_E_INVALID);
		return;
	}
	/* Nor by the short name the server made for one. */
	int r = 0;
	for (unsigned k = 1; r == 0 && k < m->n_str; k++)
		if (dispatch[i].paths & (1u << k))
			r = smb_tmp_alias(w->smb, m->str[0], m->str[k]);
	if (r) {
		if (fd >= 0)
			close(fd);
		reply_error(w, m->hdr.seq, (uint32_t)r);
		return;
	}
	dispatch[i].fn(w, m, fd);
}

int main(int argc, char **argv)
{
	static struct worker w;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--mount-on-demand") == 0)
			w.mount_on_demand = true;
	static uint8_t in[PROTO_MAX_MSG];
	struct proto_hello hello = {.version = PROTO_VERSION};

	/* Nothing else in the sandbox may read this process's memory (the
	 * credentials): not dumpable, so no ptrace and no /proc/PID/mem. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* lanes (and the FUSE server) reap themselves */
	forbid_exec();
	/* A spare sandbox waits for its login: libsmbclient's start-up is done
	 * now, not while the user waits (the credentials come only with AUTH). */
	smb_warm();
	reply(&w, PROTO_HELLO, 0, &hello, sizeof(hello), NULL, 0);

	for (;;) {
		struct proto_msg m;
		ssize_t n = 0;
		int fd;

		if (receive(in, sizeof(in), &n, &m, &fd) != 0)
			return 0; /* the gateway closed the session */
		handle(&w, &m, fd);
		/* Nothing of a request outlives it; AUTH and CHECK carry a password. */
		explicit_bzero(in, (size_t)n);
		explicit_bzero(&m, sizeof(m));
	}
}
