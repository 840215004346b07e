/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/gateway/client.c - request/answer with one sandboxed worker (gateway
 * process, HTTP threads); see client.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "fdpass.h"

/* Upload pipes between the gateway and a worker: large, so that the gateway
 * can take the next bytes while the worker still writes the last ones. The
 * worker sizes download pipes itself (READ_CHUNK in smb.c). */
#define PIPE_SIZE     (4 * 1024 * 1024)
#define PIPE_SIZE_MIN (1024 * 1024)

/* The most fds of a sandbox kept for closing after its end: every lane may
 * receive a message with the most fds a message can carry before the first
 * violation marks the sandbox dead. */
#define GRAVE_MAX (SBXC_MAX_LANES * FDPASS_MAX * 4 + 8)

/* One request/answer channel to a worker process of the sandbox. */
struct sbxc_lane {
	struct sbxc *c;
	int fd;	   /* lane 0: the sandbox's control socket (owned by the sbx) */
	bool busy; /* under c->lock */
	uint32_t seq;
	uint16_t req;			   /* the type of the request under way */
	uint32_t search_max, search_found; /* SEARCH under way */
	uint64_t tus_offset, tus_length;   /* TUS_APPEND under way */
	uint8_t out[PROTO_MAX_MSG];
	uint8_t in[PROTO_MAX_MSG];
};

struct sbxc {
	struct sbx *sbx;
	pthread_mutex_t lock; /* the lanes table */
	pthread_cond_t idle;
	struct sbxc_lane *lanes[SBXC_MAX_LANES];
	unsigned n_lanes;
	bool growing;			     /* a LANE request is under way */
	char last_share[PROTO_MAX_NAME + 1]; /* under lock: sbxc_last_share() */
	atomic_int dead;
	int timeout_ms;
	/* fds of the sandbox to close once it is gone (bury()) */
	pthread_mutex_t grave_lock;
	int grave[GRAVE_MAX];
	unsigned n_grave;
};

#define ANS(t) (1u << ((t) >> 1)) /* answer types are odd and below 64 */

static void kill_all(struct sbxc *c)
{
	sbx_kill(c->sbx);
	atomic_store(&c->dead, 1);
}

/*
 * Keeps @fd, which came from the sandbox, to close in sbxc_free() once the
 * sandbox is gone: closing a file of its FUSE mount waits for the mount's
 * server (the sandbox's own process, which may never answer), and closing a
 * socket closes what the sandbox queued in it. Only for a sandbox already
 * killed (every fd from it that is not kept comes with a violation).
 */
static void bury(struct sbxc *c, int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&c->grave_lock);
	if (c->n_grave < GRAVE_MAX) {
		c->grave[c->n_grave++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&c->grave_lock);
	if (fd >= 0) { /* never: more than any sandbox can send before it is killed */
		(void)sbx_wait_gone(c->sbx, SBX_GONE_MS);
		close(fd);
	}
}

static void bury_cb(void *ctx, int fd)
{
	bury(ctx, fd);
}

/*
 * Waits until @fd (a lane's socket, or the gateway's end of a pipe to a
 * worker) is ready for @events, at most the session's timeout (the server's
 * timeout + 5 s: a worker's own SMB calls give up sooner). A worker that
 * makes no progress that long is hung: the sandbox is killed (-ETIMEDOUT).
 */
static int wait_ready(struct sbxc *c, int fd, short events, const char *what)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	if (atomic_load(&c->dead))
		return -EPIPE;
	do
		r = poll(&p, 1, c->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0) {
		fprintf(stderr, "smbgate: sandbox %d: %s: killed\n", (int)c->sbx->pid, what);
		kill_all(c);
		return -ETIMEDOUT;
	}
	return 0;
}

static int violation(struct sbxc *c, const char *why)
{
	fprintf(stderr, "smbgate: sandbox %d: protocol violation (%s): killed\n", (int)c->sbx->pid,
		why);
	kill_all(c);
	return -EPROTO;
}

static int send_req(struct sbxc_lane *l, uint16_t type, const void *body, size_t len,
		    const char *const *strs, unsigned n_str, int fd)
{
	struct sbxc *c = l->c;
	ssize_t w;
	int n;

	if (atomic_load(&c->dead))
		return -EPIPE;
	l->seq++;
	l->req = type;
	n = proto_encode(l->out, sizeof(l->out), type, l->seq, body, len, strs, n_str);
	if (n < 0)
		return n;
	/* Never blocking: the worker holds the other end and may stop reading
	 * (or set O_NONBLOCK on a lane's socket, which it made). */
	for (;;) {
		w = fdpass_send_flags(l->fd, l->out, (size_t)n, &fd, fd >= 0 ? 1 : 0, MSG_DONTWAIT);
		if (w != -EAGAIN)
			break;
		int r = wait_ready(c, l->fd, POLLOUT, "takes no request in time");
		if (r < 0) {
			w = r;
			break;
		}
	}
	if (type == PROTO_AUTH || type == PROTO_CHECK)
		explicit_bzero(l->out, (size_t)n);
	if (w == -ETIMEDOUT || (w == -EPIPE && atomic_load(&c->dead)))
		return (int)w; /* wait_ready(): killed, or dead already */
	if (w != n) {
		kill_all(c);
		return -ECONNRESET;
	}
	return 0;
}

/*
 * Receives one answer to the current request of @l, of a type in @allowed,
 * with exactly the fds proto_fds() says for it (*@ret_fd gets the one fd of
 * a LANE's END; -1 otherwise). Anything else kills the sandbox.
 */
static int recv_ans_fd(struct sbxc_lane *l, uint32_t allowed, struct proto_msg *m, int *ret_fd)
{
	struct sbxc *c = l->c;
	struct fdpass_info info;
	int got_fd = -1;
	ssize_t n;
	int r;

	if (ret_fd)
		*ret_fd = -1;
	for (;;) {
		r = wait_ready(c, l->fd, POLLIN, "no answer in time");
		if (r < 0)
			return r;
		/* The fds it would close are the sandbox's: buried, never closed
		 * here (a violation follows: a wrong number of fds). */
		n = fdpass_recv_dispose(l->fd, l->in, sizeof(l->in), &got_fd, 1, MSG_DONTWAIT,
					&info, bury_cb, c);
		if (n != -EAGAIN)
			break;
	}
	if (n <= 0) {
		/* The worker exited or the sandbox was killed. */
		kill_all(c);
		if (info.kept)
			bury(c, got_fd);
		return -ECONNRESET;
	}
	const char *bad = NULL;
	if (info.trunc || info.ctrunc)
		bad = "oversized message";
	else if (proto_decode(l->in, (size_t)n, m) < 0)
		bad = "malformed message";
	else if (!(m->hdr.type & 1) || m->hdr.type > 63 || !(allowed & ANS(m->hdr.type)))
		bad = "unexpected message type";
	else if (m->hdr.seq != l->seq)
		bad = "out of sequence";
	else if (info.received != proto_fds(m->hdr.type, l->req))
		bad = "wrong number of fds";
	if (bad) {
		r = violation(c, bad);
		if (info.kept)
			bury(c, got_fd);
		return r;
	}
	if (info.kept && ret_fd) {
		*ret_fd = got_fd;
	} else if (info.kept) { /* never: only a LANE's END carries one */
		r = violation(c, "an fd where none belongs");
		bury(c, got_fd);
		return r;
	}
	return 0;
}

static int recv_ans(struct sbxc_lane *l, uint32_t allowed, struct proto_msg *m)
{
	return recv_ans_fd(l, allowed, m, NULL);
}

/* As recv_ans(), an ERROR allowed too, which returns its code. */
static int recv_reply(struct sbxc_lane *l, uint32_t allowed, struct proto_msg *m)
{
	int r = recv_ans(l, allowed | ANS(PROTO_ERROR), m);

	if (r == 0 && m->hdr.type == PROTO_ERROR)
		r = (int)m->u.error.code;
	return r;
}

/* Waits for END (0, fills *@end) or ERROR (its code). */
static int wait_end(struct sbxc_lane *l, struct proto_end *end)
{
	struct proto_msg m;
	int r = recv_reply(l, ANS(PROTO_END), &m);

	if (r == 0 && end)
		*end = m.u.end;
	return r;
}

/* ---- lanes ---- */

static struct sbxc_lane *lane_new(struct sbxc *c, int fd)
{
	struct sbxc_lane *l = calloc(1, sizeof(*l));
	if (l) {
		l->c = c;
		l->fd = fd;
	}
	return l;
}

/* Waits for the HELLO a worker (or a lane's copy) sends first. */
static int expect_hello(struct sbxc_lane *l)
{
	struct proto_msg m;
	int r = recv_ans(l, ANS(PROTO_HELLO), &m);

	if (r == 0 && (m.u.hello.version != PROTO_VERSION || m.hdr.seq != 0))
		r = violation(l->c, "bad HELLO");
	return r;
}

/* Takes an idle lane, waiting for one when all are busy. Never fails. */
static struct sbxc_lane *lane_get(struct sbxc *c)
{
	struct sbxc_lane *l = NULL;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		for (unsigned i = 0; i < c->n_lanes && !l; i++)
			if (!c->lanes[i]->busy)
				l = c->lanes[i];
		if (l)
			break;
		pthread_cond_wait(&c->idle, &c->lock);
	}
	l->busy = true;
	pthread_mutex_unlock(&c->lock);
	return l;
}

/* Lane 0, the sandbox's first worker (the one that holds what its copies do
 * not, such as the mount's fd), when it is idle. */
static struct sbxc_lane *lane_get_first(struct sbxc *c)
{
	struct sbxc_lane *l;

	pthread_mutex_lock(&c->lock);
	l = c->lanes[0];
	while (l->busy)
		pthread_cond_wait(&c->idle, &c->lock);
	l->busy = true;
	pthread_mutex_unlock(&c->lock);
	return l;
}

static void lane_put(struct sbxc_lane *l)
{
	struct sbxc *c = l->c;

	pthread_mutex_lock(&c->lock);
	l->busy = false;
	pthread_cond_broadcast(&c->idle); /* lane_get_first() waits for one lane */
	pthread_mutex_unlock(&c->lock);
}

/*
 * Before a long transfer on @l: when no other lane would be left idle, asks
 * @l's worker for one more (up to SBXC_MAX_LANES), so that listings and
 * other requests of the session go on during the transfer. Best effort.
 */
static void lane_spare(struct sbxc_lane *l)
{
	struct sbxc *c = l->c;
	struct proto_msg m;
	bool need = false;
	int fd = -1, r;

	pthread_mutex_lock(&c->lock);
	if (c->n_lanes < SBXC_MAX_LANES && !c->growing) {
		need = true;
		for (unsigned i = 0; i < c->n_lanes; i++)
			if (!c->lanes[i]->busy)
				need = false;
		c->growing = need;
	}
	pthread_mutex_unlock(&c->lock);
	if (!need)
		return;
	r = send_req(l, PROTO_LANE, NULL, 0, NULL, 0, -1);
	if (r == 0)
		r = recv_ans_fd(l, ANS(PROTO_END) | ANS(PROTO_ERROR), &m, &fd);
	if (r == 0 && m.hdr.type == PROTO_END) {
		int type = 0, domain = 0;
		socklen_t tl = sizeof(type), dl = sizeof(domain);
		/* The fd comes from the untrusted side: it must be what we asked for. */
		if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0 ||
		    type != SOCK_SEQPACKET || domain != AF_UNIX) {
			violation(c, "LANE without a SOCK_SEQPACKET socket");
			bury(c, fd);
			fd = -1;
		}
	}
	struct sbxc_lane *nl = fd >= 0 ? lane_new(c, fd) : NULL;
	if (fd >= 0 && !nl) {
		kill_all(c); /* out of memory: the fd cannot be closed here */
		bury(c, fd);
	}
	if (nl && expect_hello(nl) != 0) {
		kill_all(c);
		bury(c, nl->fd);
		free(nl);
		nl = NULL;
	}
	pthread_mutex_lock(&c->lock);
	if (nl)
		c->lanes[c->n_lanes++] = nl;
	c->growing = false;
	pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
}

int sbxc_new(struct sbx *b, unsigned timeout_s, struct sbxc **ret)
{
	struct sbxc *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		sbx_free(b);
		return -ENOMEM;
	}
	c->sbx = b;
	c->timeout_ms = (int)(timeout_s ? timeout_s : 30) * 1000 + 5000;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->grave_lock, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->lanes[0] = lane_new(c, b->ctl);
	if (!c->lanes[0]) {
		sbxc_free(c);
		return -ENOMEM;
	}
	c->n_lanes = 1;
	r = expect_hello(c->lanes[0]);
	if (r < 0) {
		sbxc_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void sbxc_free(struct sbxc *c)
{
	if (!c)
		return;
	/* Every fd below is the sandbox's, or a socket it can queue fds in:
	 * closed once it is gone (bury()). Lane 0's socket belongs to the sbx
	 * (sbx_free() waits the same way); the others are ours. */
	sbx_kill(c->sbx);
	(void)sbx_wait_gone(c->sbx, SBX_GONE_MS);
	for (unsigned i = 0; i < c->n_lanes; i++) {
		if (i > 0)
			close(c->lanes[i]->fd);
		free(c->lanes[i]);
	}
	for (unsigned i = 0; i < c->n_grave; i++)
		close(c->grave[i]);
	sbx_free(c->sbx);
	pthread_mutex_destroy(&c->grave_lock);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct sbx *sbxc_sbx(struct sbxc *c)
{
	return c->sbx;
}

int sbxc_dead(struct sbxc *c)
{
	return atomic_load(&c->dead) || !sbx_alive(c->sbx);
}

unsigned sbxc_lanes(struct sbxc *c)
{
	pthread_mutex_lock(&c->lock);
	unsigned n = c->n_lanes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

int sbxc_auth(struct sbxc *c, const struct cfg_server *srv, const char *domain, const char *user,
	      const char *password, const char *share)
{
	struct proto_auth a = {
	    .min_protocol = srv->min_protocol,
	    .max_protocol = srv->max_protocol,
	    .encryption = srv->encryption,
	    .timeout = srv->timeout,
	    .flags = srv->show_hidden_shares ? PROTO_AUTH_SHOW_HIDDEN : 0,
	};
	/* The worker connects to the pinhole under the server's own name; an
	 * IP literal becomes the pinhole's address. */
	const char *strs[5] = {sbx_host_is_ip_literal(srv->host) ? "127.0.0.1" : srv->host, domain,
			       user, password, share ? share : ""};
	struct sbxc_lane *l = lane_get(c);
	int r;

	if (l != c->lanes[0] || c->n_lanes != 1) {
		lane_put(l);
		return -EINVAL; /* AUTH comes first, on the only lane */
	}
	r = send_req(l, PROTO_AUTH, &a, sizeof(a), strs, 5, -1);
	if (r == 0)
		r = wait_end(l, NULL);
	lane_put(l);
	return r;
}

static int listing(struct sbxc_lane *l, uint16_t type, const char *const *strs, unsigned n_str,
		   sbxc_entry_cb cb, void *ud, unsigned *ret_skipped)
{
	struct proto_msg m;
	uint64_t total = 0;
	int stop = 0, r;

	r = send_req(l, type, NULL, 0, strs, n_str, -1);
	while (r == 0) {
		r = recv_ans(l, ANS(PROTO_ENTRIES) | ANS(PROTO_END) | ANS(PROTO_ERROR), &m);
		if (r < 0)
			break;
		if (m.hdr.type == PROTO_ERROR)
			return (int)m.u.error.code;
		if (m.hdr.type == PROTO_END) {
			if (ret_skipped)
				*ret_skipped = m.u.end.skipped;
			return stop;
		}
		total += m.u.entries.count;
		if (total > PROTO_MAX_LIST_ENTRIES)
			return violation(l->c, "listing too long");
		struct proto_entry_rec rec;
		const char *name, *comment;
		size_t pos = 0;
		while (!stop && proto_entries_next_comment(&m, &pos, &rec, &name, &comment))
			stop = cb(ud, &rec, name, comment);
	}
	return r;
}

int sbxc_shares(struct sbxc *c, sbxc_entry_cb cb, void *ud)
{
	struct sbxc_lane *l = lane_get(c);
	int r = listing(l, PROTO_SHARES, NULL, 0, cb, ud, NULL);
	lane_put(l);
	return r;
}

/* Remembers @share as the last one a request used (sbxc_last_share()). */
static void note_share(struct sbxc *c, const char *share)
{
	pthread_mutex_lock(&c->lock);
	snprintf(c->last_share, sizeof(c->last_share), "%s", share);
	pthread_mutex_unlock(&c->lock);
}

void sbxc_last_share(struct sbxc *c, char out[PROTO_MAX_NAME + 1])
{
	pthread_mutex_lock(&c->lock);
	memcpy(out, c->last_share, PROTO_MAX_NAME + 1);
	pthread_mutex_unlock(&c->lock);
}

int sbxc_list(struct sbxc *c, const char *share, const char *path, sbxc_entry_cb cb, void *ud)
{
	return sbxc_list_skipped(c, share, path, cb, ud, NULL);
}

int sbxc_list_skipped(struct sbxc *c, const char *share, const char *path, sbxc_entry_cb cb,
		      void *ud, unsigned *ret_skipped)
{
	const char *strs[2] = {share, path};
	struct sbxc_lane *l = lane_get(c);
	int r = listing(l, PROTO_LIST, strs, 2, cb, ud, ret_skipped);
	lane_put(l);
	if (r == 0)
		note_share(c, share);
	return r;
}

/* Sends @type (no body, no fd) on an idle lane and waits for its one
 * answer: @answer (into *@m: only its body m->u stays valid, the lane is
 * given back) or ERROR (its code). */
static int ask(struct sbxc *c, uint16_t type, const char *const *strs, unsigned n_str,
	       uint16_t answer, struct proto_msg *m)
{
	struct sbxc_lane *l = lane_get(c);
	int r = send_req(l, type, NULL, 0, strs, n_str, -1);

	if (r == 0)
		r = recv_reply(l, ANS(answer), m);
	lane_put(l);
	return r;
}

int sbxc_stat(struct sbxc *c, const char *share, const char *path, struct proto_stat *ret)
{
	const char *strs[2] = {share, path};
	struct proto_msg m;
	int r = ask(c, PROTO_STAT, strs, 2, PROTO_STAT_OK, &m);

	if (r == 0) {
		*ret = m.u.stat;
		note_share(c, share);
	}
	return r;
}

/*
 * A pipe to or from a worker; p[@ours] stays here, non-blocking, so that a
 * worker that stops reading or writing never holds an HTTP thread past the
 * session's timeout (sbxc_stream_read(), sbxc_stream_write()). @big: an
 * upload pipe (the worker sizes the pipes it writes).
 */
static int make_pipe(int p[2], int ours, bool big)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(p[ours], F_SETFL, O_NONBLOCK) < 0) {
		int r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	/* Unprivileged, /proc/sys/fs/pipe-max-size (1 MiB by default) caps it. */
	if (big && fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE) < 0)
		(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE_MIN);
	return 0;
}

ssize_t sbxc_stream_read(struct sbxc_lane *l, int fd, void *buf, size_t max)
{
	for (;;) {
		ssize_t n = read(fd, buf, max);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int r = wait_ready(l->c, fd, POLLIN, "sends no data in time");
		if (r < 0)
			return r;
	}
}

int sbxc_stream_write(struct sbxc_lane *l, int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		int r = wait_ready(l->c, fd, POLLOUT, "takes no data in time");
		if (r < 0)
			return r;
	}
	return 0;
}

int sbxc_stream_write_frame(struct sbxc_lane *l, int fd, const void *buf, size_t len)
{
	const char *p = buf;

	do {
		uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
		int r = sbxc_stream_write(l, fd, &n, sizeof(n));
		if (r == 0)
			r = sbxc_stream_write(l, fd, p, n);
		if (r < 0)
			return r;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/* ---- transfers: READ, WRITE, ZIP, SEARCH, TUS_APPEND ---- */

/* A transfer's request, and the pipe it carries: @ours is the end kept here
 * (0: the worker writes, 1: it reads; -1: no pipe), @big as make_pipe(). */
struct transfer {
	uint16_t type;
	const void *body;
	size_t len;
	const char *const *strs;
	unsigned n_str;
	int ours;
	bool big;
};

/*
 * Starts transfer @t on a lane of its own: takes an idle lane, asks for a
 * spare one (lane_spare()), makes the pipe and sends the request with the
 * worker's end of it, which is closed here. On 0 the lane stays busy
 * (*@ret_lane) and *@ret_fd is our end of the pipe (-1 without one): give
 * both back with transfer_fail() or transfer_end(). Otherwise the lane is
 * given back and no fd stays open.
 */
static int transfer_begin(struct sbxc *c, const struct transfer *t, int *ret_fd,
			  struct sbxc_lane **ret_lane)
{
	struct sbxc_lane *l = lane_get(c);
	int p[2] = {-1, -1}, r;

	lane_spare(l);
	if (t->ours >= 0) {
		r = make_pipe(p, t->ours, t->big);
		if (r < 0) {
			lane_put(l);
			return r;
		}
	}
	r = send_req(l, t->type, t->body, t->len, t->strs, t->n_str,
		     t->ours >= 0 ? p[!t->ours] : -1);
	if (t->ours >= 0)
		close(p[!t->ours]);
	if (r != 0) {
		if (t->ours >= 0)
			close(p[t->ours]);
		lane_put(l);
		return r;
	}
	*ret_fd = t->ours >= 0 ? p[t->ours] : -1;
	*ret_lane = l;
	return 0;
}

/* After transfer_begin(): closes @fd (our end of the pipe, or -1), gives
 * the lane back, returns @r. */
static int transfer_fail(struct sbxc_lane *l, int fd, int r)
{
	if (fd >= 0)
		close(fd);
	lane_put(l);
	return r;
}

/*
 * Waits for the END or the ERROR of @l's transfer and gives the lane back.
 * On 0, the END's counts go to those of *@ret_bytes, *@ret_created and
 * *@ret_skipped that are not NULL; on failure they are untouched. A
 * TUS_APPEND's END must say a size between the append's offset and the
 * upload's length.
 */
static int transfer_end(struct sbxc_lane *l, uint64_t *ret_bytes, uint32_t *ret_created,
			uint32_t *ret_skipped)
{
	struct proto_end end = {0};
	int r = wait_end(l, &end);

	if (r == 0 && l->req == PROTO_TUS_APPEND &&
	    (end.bytes < l->tus_offset || end.bytes > l->tus_length))
		r = violation(l->c, "TUS_APPEND's size out of range");
	if (r == 0 && ret_bytes)
		*ret_bytes = end.bytes;
	if (r == 0 && ret_created)
		*ret_created = end.created;
	if (r == 0 && ret_skipped)
		*ret_skipped = end.skipped;
	lane_put(l);
	return r;
}

int sbxc_read_begin(struct sbxc *c, const char *share, const char *path, uint64_t offset,
		    uint64_t length, struct proto_read_ok *ret_ok, int *ret_fd,
		    struct sbxc_lane **ret_lane)
{
	struct proto_range range = {.offset = offset, .length = length};
	const char *strs[2] = {share, path};
	const struct transfer t = {PROTO_READ, &range, sizeof(range), strs, 2, 0, false};
	struct sbxc_lane *l;
	struct proto_msg m;
	int fd, r = transfer_begin(c, &t, &fd, &l);

	if (r != 0)
		return r;
	r = recv_reply(l, ANS(PROTO_READ_OK), &m);
	if (r == 0 && (offset > m.u.read_ok.st.size || m.u.read_ok.length > length ||
		       m.u.read_ok.length > m.u.read_ok.st.size - offset))
		r = violation(c, "READ_OK does not match the request");
	if (r != 0)
		return transfer_fail(l, fd, r);
	*ret_ok = m.u.read_ok;
	*ret_fd = fd;
	*ret_lane = l; /* still busy: sbxc_read_end() gives it back */
	return 0;
}

int sbxc_read_end(struct sbxc_lane *l, uint64_t *ret_bytes)
{
	return transfer_end(l, ret_bytes, NULL, NULL);
}

/* A fresh name for an upload's temporary (proto_tmp_name_valid()). */
static int make_tmp_name(char out[PROTO_TMP_NAME_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[PROTO_TMP_HEX / 2];
	size_t o = sizeof(PROTO_TMP_PREFIX) - 1;

	for (size_t got = 0; got < sizeof(rnd);) {
		ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	memcpy(out, PROTO_TMP_PREFIX, o);
	for (size_t i = 0; i < sizeof(rnd); i++) {
		out[o++] = hex[rnd[i] >> 4];
		out[o++] = hex[rnd[i] & 15];
	}
	memcpy(out + o, ".tmp", 5);
	return 0;
}

int sbxc_write_begin(struct sbxc *c, const char *share, const char *path, uint32_t flags,
		     uint64_t size, char ret_tmp[PROTO_TMP_NAME_LEN + 1], int *ret_fd,
		     struct sbxc_lane **ret_lane)
{
	struct proto_write_req wr = {.flags = flags, .size = size};
	char tmp[PROTO_TMP_NAME_LEN + 1];
	const char *strs[3] = {share, path, tmp};
	const struct transfer t = {PROTO_WRITE, &wr, sizeof(wr), strs, 3, 1, true};
	int r = make_tmp_name(tmp);

	if (r == 0)
		r = transfer_begin(c, &t, ret_fd, ret_lane);
	if (r == 0) /* the lane still busy: sbxc_write_end() gives it back */
		memcpy(ret_tmp, tmp, sizeof(tmp));
	return r;
}

int sbxc_write_end(struct sbxc_lane *l, uint32_t *ret_created, uint64_t *ret_bytes)
{
	return transfer_end(l, ret_bytes, ret_created, NULL);
}

static int simple(struct sbxc *c, uint16_t type, const void *body, size_t len,
		  const char *const *strs, unsigned n_str, uint32_t *ret_created)
{
	struct proto_end end = {0};
	struct sbxc_lane *l = lane_get(c);
	int r;

	r = send_req(l, type, body, len, strs, n_str, -1);
	if (r == 0)
		r = wait_end(l, &end);
	if (r == 0 && ret_created)
		*ret_created = end.created;
	lane_put(l);
	return r;
}

int sbxc_check(struct sbxc *c, const char *password)
{
	const char *strs[1] = {password};
	return simple(c, PROTO_CHECK, NULL, 0, strs, 1, NULL);
}

int sbxc_mount(struct sbxc *c)
{
	struct sbxc_lane *l = lane_get_first(c);
	int r = send_req(l, PROTO_MOUNT, NULL, 0, NULL, 0, -1);

	if (r == 0)
		r = wait_end(l, NULL);
	lane_put(l);
	return r;
}

int sbxc_drop_tmp(struct sbxc *c, const char *share, const char *path, const char *tmp)
{
	const char *strs[3] = {share, path, tmp};
	return simple(c, PROTO_DROP, NULL, 0, strs, 3, NULL);
}

int sbxc_mkdir(struct sbxc *c, const char *share, const char *path)
{
	const char *strs[2] = {share, path};
	return simple(c, PROTO_MKDIR, NULL, 0, strs, 2, NULL);
}

int sbxc_statvfs(struct sbxc *c, const char *share, uint64_t *ret_total, uint64_t *ret_avail)
{
	const char *strs[1] = {share};
	struct proto_msg m;
	int r = ask(c, PROTO_STATVFS, strs, 1, PROTO_STATVFS_OK, &m);

	if (r == 0) {
		*ret_total = m.u.statvfs.total;
		*ret_avail = m.u.statvfs.avail;
	}
	return r;
}

int sbxc_utimes(struct sbxc *c, const char *share, const char *path, int64_t mtime, int64_t atime)
{
	struct proto_times t = {.mtime = mtime, .atime = atime};
	const char *strs[2] = {share, path};
	return simple(c, PROTO_UTIMES, &t, sizeof(t), strs, 2, NULL);
}

int sbxc_followed(struct sbxc *c, const char *share, const char *path)
{
	const char *strs[2] = {share, path};
	return simple(c, PROTO_FOLLOWED, NULL, 0, strs, 2, NULL);
}

int sbxc_writable(struct sbxc *c, const char *share, const char *path)
{
	const char *strs[2] = {share, path};
	return simple(c, PROTO_WRITABLE, NULL, 0, strs, 2, NULL);
}

int sbxc_aside(struct sbxc *c, const char *share, const char *path, const char *tmp, uint32_t op)
{
	struct proto_flags f = {.flags = op};
	const char *strs[3] = {share, path, tmp};
	return simple(c, PROTO_ASIDE, &f, sizeof(f), strs, 3, NULL);
}

int sbxc_rename(struct sbxc *c, const char *share, const char *from, const char *to, uint32_t flags,
		uint32_t *ret_created)
{
	struct proto_flags f = {.flags = flags};
	const char *strs[3] = {share, from, to};
	return simple(c, PROTO_RENAME, &f, sizeof(f), strs, 3, ret_created);
}

int sbxc_copy(struct sbxc *c, const char *share, const char *from, const char *to, uint32_t flags,
	      uint32_t *ret_created)
{
	struct proto_flags f = {.flags = flags};
	const char *strs[3] = {share, from, to};
	return simple(c, PROTO_COPY, &f, sizeof(f), strs, 3, ret_created);
}

int sbxc_unlink(struct sbxc *c, const char *share, const char *path)
{
	const char *strs[2] = {share, path};
	return simple(c, PROTO_UNLINK, NULL, 0, strs, 2, NULL);
}

int sbxc_rmdir(struct sbxc *c, const char *share, const char *path, uint32_t flags)
{
	struct proto_flags f = {.flags = flags};
	const char *strs[2] = {share, path};
	return simple(c, PROTO_RMDIR, &f, sizeof(f), strs, 2, NULL);
}

/* ---- ZIP, SEARCH, TUS_* ---- */

int sbxc_tmp_name(char out[PROTO_TMP_NAME_LEN + 1])
{
	return make_tmp_name(out);
}

int sbxc_zip_begin(struct sbxc *c, const char *share, const char *folder, const char *names,
		   const struct proto_zip *req, struct proto_zip_ok *ret_ok, int *ret_fd,
		   struct sbxc_lane **ret_lane)
{
	const char *strs[3] = {share, folder, names};
	const struct transfer t = {PROTO_ZIP, req, sizeof(*req), strs, 3, 0, true};
	struct sbxc_lane *l;
	struct proto_msg m;
	int fd, r = transfer_begin(c, &t, &fd, &l);

	if (r != 0)
		return r;
	/* WALKING while the walk goes on: each one restarts the timeout; each
	 * says more entries than the last, so there are at most max_entries. */
	uint32_t walked = 0;
	while (r == 0) {
		r = recv_ans(l, ANS(PROTO_ZIP_OK) | ANS(PROTO_WALKING) | ANS(PROTO_ERROR), &m);
		if (r || m.hdr.type != PROTO_WALKING)
			break;
		if (m.u.walking.entries <= walked || m.u.walking.entries > req->max_entries)
			r = violation(c, "WALKING does not go forward");
		walked = m.u.walking.entries;
	}
	if (r == 0 && m.hdr.type == PROTO_ERROR)
		r = (int)m.u.error.code;
	if (r == 0 && m.u.zip_ok.entries > req->max_entries)
		r = violation(c, "ZIP_OK over the limit");
	if (r != 0)
		return transfer_fail(l, fd, r);
	*ret_ok = m.u.zip_ok;
	*ret_fd = fd;
	*ret_lane = l; /* still busy: sbxc_zip_end() gives it back */
	return 0;
}

int sbxc_zip_end(struct sbxc_lane *l, uint64_t *ret_bytes, uint32_t *ret_errors)
{
	return transfer_end(l, ret_bytes, NULL, ret_errors);
}

int sbxc_search_begin(struct sbxc *c, const char *share, const char *folder, const char *pattern,
		      const struct proto_search *req, struct sbxc_lane **ret_lane)
{
	const char *strs[3] = {share, folder, pattern};
	const struct transfer t = {PROTO_SEARCH, req, sizeof(*req), strs, 3, -1, false};
	struct sbxc_lane *l;
	int fd, r = transfer_begin(c, &t, &fd, &l);

	if (r != 0)
		return r;
	l->search_max = req->max_results;
	l->search_found = 0;
	*ret_lane = l;
	return 0;
}

int sbxc_search_next(struct sbxc_lane *l, bool *ret_found, struct proto_entry_rec *ret_rec,
		     char ret_path[PROTO_MAX_PATH + 1], struct proto_end *ret_end)
{
	struct proto_msg m;
	int r = recv_ans(l, ANS(PROTO_FOUND) | ANS(PROTO_END) | ANS(PROTO_ERROR), &m);

	*ret_found = false;
	if (r == 0 && m.hdr.type == PROTO_FOUND) {
		if (++l->search_found > l->search_max) {
			r = violation(l->c, "more results than asked for");
		} else {
			*ret_rec = m.u.found;
			snprintf(ret_path, PROTO_MAX_PATH + 1, "%s", m.str[0]);
			*ret_found = true;
			return 0; /* the lane stays busy */
		}
	} else if (r == 0 && m.hdr.type == PROTO_ERROR) {
		r = (int)m.u.error.code;
	} else if (r == 0) {
		if (m.u.end.bytes != l->search_found)
			r = violation(l->c, "END does not count the results");
		else
			*ret_end = m.u.end;
	}
	lane_put(l);
	return r;
}

int sbxc_tus_create(struct sbxc *c, const char *share, const char *path, const char *tmp,
		    uint32_t flags)
{
	struct proto_flags f = {.flags = flags};
	const char *strs[3] = {share, path, tmp};
	return simple(c, PROTO_TUS_CREATE, &f, sizeof(f), strs, 3, NULL);
}

int sbxc_tus_info(struct sbxc *c, const char *share, const char *path, const char *tmp,
		  uint64_t *ret_size)
{
	const char *strs[3] = {share, path, tmp};
	struct proto_msg m;
	int r = ask(c, PROTO_TUS_INFO, strs, 3, PROTO_STAT_OK, &m);

	if (r == 0)
		*ret_size = m.u.stat.size;
	return r;
}

int sbxc_tus_append_begin(struct sbxc *c, const char *share, const char *path, const char *tmp,
			  uint64_t offset, uint64_t length, uint32_t flags, int *ret_fd,
			  struct sbxc_lane **ret_lane)
{
	struct proto_tus tus = {.offset = offset, .length = length, .flags = flags};
	const char *strs[3] = {share, path, tmp};
	const struct transfer t = {PROTO_TUS_APPEND, &tus, sizeof(tus), strs, 3, 1, true};
	struct sbxc_lane *l;
	int fd, r = transfer_begin(c, &t, &fd, &l);

	if (r != 0)
		return r;
	l->tus_offset = offset; /* transfer_end() checks the END's size */
	l->tus_length = length;
	*ret_fd = fd;
	*ret_lane = l;
	return 0;
}

int sbxc_tus_append_end(struct sbxc_lane *l, uint64_t *ret_size, uint32_t *ret_created)
{
	return transfer_end(l, ret_size, ret_created, NULL);
}
