/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/client.c - request/answer with one sandboxed worker; see client.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"

#define PIPE_SIZE (1024 * 1024)

struct sbxc {
	struct sbx *sbx;
	pthread_mutex_t lock;
	uint32_t seq;
	int dead;
	int timeout_ms;
	uint8_t out[PROTO_MAX_MSG];
	uint8_t in[PROTO_MAX_MSG];
};

#define ANS(t) (1u << ((t) >> 1)) /* answer types are odd and small */

static int violation(struct sbxc *c, const char *why)
{
	fprintf(stderr, "smbgate: sandbox %d: protocol violation (%s): killed\n", (int)c->sbx->pid,
		why);
	sbx_kill(c->sbx);
	c->dead = 1;
	return -EPROTO;
}

static int send_req(struct sbxc *c, uint16_t type, const void *body, size_t len,
		    const char *const *strs, unsigned n_str, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = c->out};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int n;
	ssize_t w;

	if (c->dead)
		return -EPIPE;
	c->seq++;
	n = proto_encode(c->out, sizeof(c->out), type, c->seq, body, len, strs, n_str);
	if (n < 0)
		return n;
	iov.iov_len = (size_t)n;
	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		w = sendmsg(c->sbx->ctl, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (type == PROTO_AUTH || type == PROTO_CHECK)
		explicit_bzero(c->out, (size_t)n);
	if (w != n) {
		sbx_kill(c->sbx);
		c->dead = 1;
		return -ECONNRESET;
	}
	return 0;
}

/* Receives one answer to the current request, of a type in @allowed. */
static int recv_ans(struct sbxc *c, uint32_t allowed, struct proto_msg *m)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {.iov_base = c->in, .iov_len = sizeof(c->in)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct pollfd p = {.fd = c->sbx->ctl, .events = POLLIN};
	bool fds = false;
	ssize_t n;
	int r;

	if (c->dead)
		return -EPIPE;
	do
		r = poll(&p, 1, c->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "smbgate: sandbox %d: no answer in time: killed\n",
			(int)c->sbx->pid);
		sbx_kill(c->sbx);
		c->dead = 1;
		return -ETIMEDOUT;
	}
	do
		n = recvmsg(c->sbx->ctl, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			close(fd);
			fds = true;
		}
	}
	if (n <= 0) {
		/* The worker exited or the sandbox was killed. */
		sbx_kill(c->sbx);
		c->dead = 1;
		return -ECONNRESET;
	}
	if (fds)
		return violation(c, "unexpected fd");
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return violation(c, "oversized message");
	if (proto_decode(c->in, (size_t)n, m) < 0)
		return violation(c, "malformed message");
	if (!(m->hdr.type & 1) || m->hdr.type > 31 || !(allowed & ANS(m->hdr.type)))
		return violation(c, "unexpected message type");
	if (m->hdr.seq != c->seq)
		return violation(c, "out of sequence");
	return 0;
}

/* Waits for END (0, fills *@end) or ERROR (its code). */
static int wait_end(struct sbxc *c, struct proto_end *end)
{
	struct proto_msg m;
	int r = recv_ans(c, ANS(PROTO_END) | ANS(PROTO_ERROR), &m);

	if (r < 0)
		return r;
	if (m.hdr.type == PROTO_ERROR)
		return (int)m.u.error.code;
	if (end)
		*end = m.u.end;
	return 0;
}

int sbxc_new(struct sbx *b, unsigned timeout_s, struct sbxc **ret)
{
	struct sbxc *c = calloc(1, sizeof(*c));
	struct proto_msg m;
	int r;

	if (!c) {
		sbx_free(b);
		return -ENOMEM;
	}
	c->sbx = b;
	c->timeout_ms = (int)(timeout_s ? timeout_s : 30) * 1000 + 5000;
	pthread_mutex_init(&c->lock, NULL);
	r = recv_ans(c, ANS(PROTO_HELLO), &m);
	if (r == 0 && (m.u.hello.version != PROTO_VERSION || m.hdr.seq != 0))
		r = violation(c, "bad HELLO");
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
	sbx_free(c->sbx);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct sbx *sbxc_sbx(struct sbxc *c)
{
	return c->sbx;
}

int sbxc_dead(struct sbxc *c)
{
	return c->dead || !sbx_alive(c->sbx);
}

int sbxc_auth(struct sbxc *c, const struct cfg_server *srv, const char *domain, const char *user,
	      const char *password)
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
	bool literal =
	    strspn(srv->host, "0123456789.") == strlen(srv->host) || strchr(srv->host, ':');
	const char *strs[4] = {literal ? "127.0.0.1" : srv->host, domain, user, password};
	int r;

	pthread_mutex_lock(&c->lock);
	r = send_req(c, PROTO_AUTH, &a, sizeof(a), strs, 4, -1);
	if (r == 0)
		r = wait_end(c, NULL);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int listing(struct sbxc *c, uint16_t type, const char *const *strs, unsigned n_str,
		   sbxc_entry_cb cb, void *ud)
{
	struct proto_msg m;
	uint64_t total = 0;
	int stop = 0, r;

	r = send_req(c, type, NULL, 0, strs, n_str, -1);
	while (r == 0) {
		r = recv_ans(c, ANS(PROTO_ENTRIES) | ANS(PROTO_END) | ANS(PROTO_ERROR), &m);
		if (r < 0)
			break;
		if (m.hdr.type == PROTO_ERROR)
			return (int)m.u.error.code;
		if (m.hdr.type == PROTO_END)
			return stop;
		total += m.u.entries.count;
		if (total > PROTO_MAX_LIST_ENTRIES)
			return violation(c, "listing too long");
		struct proto_entry_rec rec;
		const char *name;
		size_t pos = 0;
		while (!stop && proto_entries_next(&m, &pos, &rec, &name))
			stop = cb(ud, &rec, name);
	}
	return r;
}

int sbxc_shares(struct sbxc *c, sbxc_entry_cb cb, void *ud)
{
	pthread_mutex_lock(&c->lock);
	int r = listing(c, PROTO_SHARES, NULL, 0, cb, ud);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int sbxc_list(struct sbxc *c, const char *share, const char *path, sbxc_entry_cb cb, void *ud)
{
	const char *strs[2] = {share, path};

	pthread_mutex_lock(&c->lock);
	int r = listing(c, PROTO_LIST, strs, 2, cb, ud);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int sbxc_stat(struct sbxc *c, const char *share, const char *path, struct proto_stat *ret)
{
	const char *strs[2] = {share, path};
	struct proto_msg m;
	int r;

	pthread_mutex_lock(&c->lock);
	r = send_req(c, PROTO_STAT, NULL, 0, strs, 2, -1);
	if (r == 0)
		r = recv_ans(c, ANS(PROTO_STAT_OK) | ANS(PROTO_ERROR), &m);
	if (r == 0 && m.hdr.type == PROTO_ERROR)
		r = (int)m.u.error.code;
	else if (r == 0)
		*ret = m.u.stat;
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
	return 0;
}

int sbxc_read_begin(struct sbxc *c, const char *share, const char *path, uint64_t offset,
		    uint64_t length, struct proto_read_ok *ret_ok, int *ret_fd)
{
	struct proto_range range = {.offset = offset, .length = length};
	const char *strs[2] = {share, path};
	struct proto_msg m;
	int p[2], r;

	pthread_mutex_lock(&c->lock);
	r = make_pipe(p);
	if (r < 0)
		goto unlock;
	r = send_req(c, PROTO_READ, &range, sizeof(range), strs, 2, p[1]);
	close(p[1]);
	if (r == 0)
		r = recv_ans(c, ANS(PROTO_READ_OK) | ANS(PROTO_ERROR), &m);
	if (r == 0 && m.hdr.type == PROTO_ERROR)
		r = (int)m.u.error.code;
	if (r == 0 && (offset > m.u.read_ok.st.size || m.u.read_ok.length > length ||
		       m.u.read_ok.length > m.u.read_ok.st.size - offset))
		r = violation(c, "READ_OK does not match the request");
	if (r != 0) {
		close(p[0]);
		goto unlock;
	}
	*ret_ok = m.u.read_ok;
	*ret_fd = p[0];
	return 0; /* still locked: sbxc_read_end() unlocks */
unlock:
	pthread_mutex_unlock(&c->lock);
	return r;
}

int sbxc_read_end(struct sbxc *c, uint64_t *ret_bytes)
{
	struct proto_end end = {0};
	int r = wait_end(c, &end);

	if (r == 0 && ret_bytes)
		*ret_bytes = end.bytes;
	pthread_mutex_unlock(&c->lock);
	return r;
}

int sbxc_write_begin(struct sbxc *c, const char *share, const char *path, uint32_t flags,
		     uint64_t size, int *ret_fd)
{
	struct proto_write_req wr = {.flags = flags, .size = size};
	const char *strs[2] = {share, path};
	int p[2], r;

	pthread_mutex_lock(&c->lock);
	r = make_pipe(p);
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	r = send_req(c, PROTO_WRITE, &wr, sizeof(wr), strs, 2, p[0]);
	close(p[0]);
	if (r != 0) {
		close(p[1]);
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	*ret_fd = p[1];
	return 0; /* still locked: sbxc_write_end() unlocks */
}

int sbxc_write_end(struct sbxc *c, uint32_t *ret_created, uint64_t *ret_bytes)
{
	struct proto_end end = {0};
	int r = wait_end(c, &end);

	if (r == 0) {
		if (ret_created)
			*ret_created = end.created;
		if (ret_bytes)
			*ret_bytes = end.bytes;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int simple(struct sbxc *c, uint16_t type, const void *body, size_t len,
		  const char *const *strs, unsigned n_str, uint32_t *ret_created)
{
	struct proto_end end = {0};
	int r;

	pthread_mutex_lock(&c->lock);
	r = send_req(c, type, body, len, strs, n_str, -1);
	if (r == 0)
		r = wait_end(c, &end);
	if (r == 0 && ret_created)
		*ret_created = end.created;
	pthread_mutex_unlock(&c->lock);
	return r;
}

int sbxc_check(struct sbxc *c, const char *password)
{
	const char *strs[1] = {password};
	return simple(c, PROTO_CHECK, NULL, 0, strs, 1, NULL);
}

int sbxc_mkdir(struct sbxc *c, const char *share, const char *path)
{
	const char *strs[2] = {share, path};
	return simple(c, PROTO_MKDIR, NULL, 0, strs, 2, NULL);
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
