/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/gateway/pinhole.c - relay of a sandbox's connections to its
 * configured server only (gateway process: one relay thread and one resolver
 * thread for all sandboxes). See pinhole.h.
 *
 * Threads. The relay thread owns every listener and connection: only it
 * touches them. Other threads talk to it through a command queue protected by
 * p->lock, and wake it with an eventfd; the caller of pinhole_add() or
 * pinhole_remove() waits on p->done_cond until its command has been handled.
 * The resolver thread runs getaddrinfo() (which may block) for requests the
 * relay thread queues, and queues the answers back the same way.
 *
 * Events. Listeners are level-triggered; connection sockets are registered
 * once, edge-triggered, for input, output and hang-up, and an event on either
 * socket of a connection pumps both directions until nothing moves (or the
 * per-turn budget is spent: the connection then goes on the ready list and is
 * pumped again after the next epoll_wait(), so one fast connection cannot
 * starve the others). Edge-triggering avoids spinning on EPOLLHUP, which is
 * reported whatever the interest mask.
 *
 * Lifetimes. Events of one epoll_wait() batch may point to a connection or
 * listener closed earlier in the same batch, so closing only marks the object
 * dead, unregisters and closes its fds, and puts it on a graveyard list freed
 * after the batch. Every fd is removed from the epoll set before close():
 * a copy of it held elsewhere (the sandbox's copy of the listener, or a child
 * between fork and exec) would otherwise keep it registered.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "pinhole.h"
#include "smbsock.h"

#define RELAY_BUF	 (256 * 1024)	   /* each direction's buffer, while it holds bytes */
#define TURN_BUDGET	 (2 * 1024 * 1024) /* bytes one direction moves per turn */
#define ACCEPTS_PER_TURN 32
#define MAX_EVENTS	 64
#define PAUSE_MS	 100 /* listener pause after EMFILE and the like */

enum ph_kind {
	PH_WAKE,
	PH_LISTENER,
	PH_CHANNEL,
	PH_CLIENT,
	PH_SERVER,
};

/* First member of everything registered in the epoll set. */
struct ph_tag {
	enum ph_kind kind;
};

/* One direction of a connection: source socket -> buffer -> destination
 * socket. The buffer (RELAY_BUF bytes) is allocated when a recv() needs it
 * and freed as soon as it is empty at the end of a turn, so an idle
 * connection holds none and, in a stream, the allocator hands the same warm
 * memory back at the next turn. */
struct ph_dir {
	char *buf;	/* NULL when empty */
	size_t off;	/* first byte not yet sent */
	size_t pending; /* bytes in buf from off */
	bool eof;	/* the source returned end of file */
	bool shut;	/* the destination was shut down for writing */
};

enum ph_state {
	PH_RESOLVING,
	PH_CONNECTING,
	PH_OPEN,
};

struct ph_resolve;

struct ph_conn {
	struct ph_tag client_tag; /* kind PH_CLIENT */
	struct ph_tag server_tag; /* kind PH_SERVER */
	struct ph_listener *l;
	struct ph_conn *prev, *next; /* in l->conns */
	int client;		     /* accepted from the sandbox; or, for a hand-off, the
					request's answer socket (never in the epoll set) */
	bool handoff;		     /* connect, then hand the socket over: no relay */
	int server;		     /* to the configured server, or -1 */
	enum ph_state state;
	struct ph_resolve *req;	  /* while PH_RESOLVING */
	struct addrinfo *ai_list; /* while PH_CONNECTING */
	struct addrinfo *ai_next; /* next address to try */
	struct ph_dir up;	  /* client -> server */
	struct ph_dir down;	  /* server -> client */
	bool dead;
	bool ready; /* on the ready list */
	struct ph_conn *ready_next;
	struct ph_conn *grave_next;
};

struct ph_listener {
	struct ph_tag tag;	/* kind PH_LISTENER */
	struct ph_tag chan_tag; /* kind PH_CHANNEL */
	long id;
	int fd;
	int chan;	 /* the hand-off channel (smbsock.h), or -1 */
	int alive;	 /* with a channel: an epoll set that weakly holds the sockets
			    handed over (see handed_alive()), else -1 */
	bool registered; /* in the epoll set */
	bool paused;	 /* out of the epoll set until the next pause tick */
	bool dead;
	char *host;
	char service[8];
	struct ph_conn *conns;
	unsigned nconns;
	struct ph_listener *prev, *next; /* in p->listeners */
	struct ph_listener *grave_next;
};

/* One name resolution; owned by whichever queue holds it. */
struct ph_resolve {
	struct ph_resolve *next;
	struct ph_conn *conn; /* relay thread only; NULL once the connection is gone */
	char *host;	      /* immutable while queued */
	char service[8];
	struct addrinfo *res;
	int err; /* getaddrinfo() result */
};

enum ph_cmd_type {
	CMD_ADD,
	CMD_REMOVE,
};

struct ph_cmd {
	enum ph_cmd_type type;
	struct ph_listener *l; /* CMD_ADD: owned by the relay thread once queued */
	long id;	       /* CMD_REMOVE */
	long result;
	bool done;
	struct ph_cmd *next;
};

struct pinhole {
	int epfd;
	int wakefd; /* eventfd */
	struct ph_tag wake_tag;
	pthread_t relay, resolver, closer;
	int closer_w; /* pipe to the closer thread: fds to close (dispose_fd()) */
	bool closer_started;

	pthread_mutex_t lock; /* protects everything down to the next comment */
	pthread_cond_t done_cond;
	pthread_cond_t res_cond;
	struct ph_cmd *cmds, **cmds_tail;
	struct ph_resolve *res_queue, **res_queue_tail; /* for the resolver */
	struct ph_resolve *res_done;			/* for the relay thread */
	long next_id;
	bool stopping;	   /* relay thread: leave */
	bool res_stopping; /* resolver thread: leave */

	/* Relay thread only. */
	struct ph_listener *listeners;
	struct ph_conn *ready;
	struct ph_conn *grave_conns;
	struct ph_listener *grave_listeners;
	unsigned paused;   /* listeners paused */
	long long unpause; /* when to take them back, CLOCK_MONOTONIC ms */

	/* Updated by the relay thread, read by anyone, with __atomic builtins. */
	struct pinhole_stats stats;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static void stat_add(unsigned long long *counter, unsigned long long n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void stat_sub(unsigned long long *counter, unsigned long long n)
{
	__atomic_fetch_sub(counter, n, __ATOMIC_RELAXED);
}

/*
 * Closes an fd that came from a sandbox on the closer thread, never on the
 * relay thread: close() of a file of the sandbox's FUSE mount waits for the
 * sandbox's FUSE server, and the last close of a TCP socket with SO_LINGER
 * for its peer (also when it is released from the queue of an AF_UNIX socket
 * being closed). Should the closer be stuck that long and its pipe full, the
 * fd is left open (counted).
 */
static void dispose_fd(void *ctx, int fd)
{
	struct pinhole *p = ctx;

	if (fd < 0)
		return;
	if (write(p->closer_w, &fd, sizeof(fd)) != (ssize_t)sizeof(fd))
		stat_add(&p->stats.unclosed, 1);
}

/* The closer thread: closes what dispose_fd() queues until the pipe's write
 * end is closed (pinhole_free() waits a second for it, then detaches it). */
static void *closer_main(void *arg)
{
	int rfd = (int)(intptr_t)arg, fd;

	while (read(rfd, &fd, sizeof(fd)) == (ssize_t)sizeof(fd))
		close(fd);
	close(rfd);
	return NULL;
}

static void wake(struct pinhole *p)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the thread will wake. */
	(void)!write(p->wakefd, &one, sizeof(one));
}

/* Unregisters and closes *@fd, sets it to -1. */
static void close_fd(struct pinhole *p, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

/* close_fd() for an fd the sandbox holds or held a copy of, or that may
 * carry its fds in its queue (an AF_UNIX socket: closing the last copy
 * releases what is queued, and a released TCP socket with SO_LINGER waits
 * there): on the closer thread (dispose_fd()). */
static void close_far(struct pinhole *p, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, *fd, NULL);
	dispose_fd(p, *fd);
	*fd = -1;
}

static void dir_release(struct ph_dir *d)
{
	free(d->buf);
	d->buf = NULL;
	d->off = d->pending = 0;
}

static int register_fd(struct pinhole *p, int fd, uint32_t events, struct ph_tag *tag)
{
	struct epoll_event ev = {.events = events, .data.ptr = tag};

	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void set_sockopt_int(int fd, int level, int name, int value)
{
	/* Best effort: the relay works without these. */
	(void)setsockopt(fd, level, name, &value, sizeof(value));
}

/* ---- connections ------------------------------------------------------ */

static void ready_push(struct pinhole *p, struct ph_conn *c)
{
	if (c->ready)
		return;
	c->ready = true;
	c->ready_next = p->ready;
	p->ready = c;
}

static void conn_close(struct pinhole *p, struct ph_conn *c)
{
	struct ph_listener *l = c->l;

	if (c->dead)
		return;
	c->dead = true;
	if (c->req)
		c->req->conn = NULL; /* the resolver's answer will be dropped */
	c->req = NULL;
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai_next = NULL;
	if (c->handoff) {
		/* The answer socket is the sandbox's; the server socket may
		 * already be (handed over: the sandbox could have set SO_LINGER
		 * on it and closed its copy, making ours the last). */
		close_far(p, &c->client);
		close_far(p, &c->server);
	} else {
		close_fd(p, &c->client);
		close_fd(p, &c->server);
	}
	dir_release(&c->up);
	dir_release(&c->down);

	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	stat_sub(&p->stats.active, 1);

	c->grave_next = p->grave_conns;
	p->grave_conns = c;
}

/*
 * Moves bytes of one direction until nothing moves or the budget is spent.
 * @dst is -1 while the server is not connected yet: the buffer then only fills.
 * Returns 0 or a negative errno (the connection must be closed).
 *
 * recv() and send() through a buffer, not splice() through a pipe: the
 * sockets' own copies cost less than what splice() hands on. Spliced
 * socket pages reach the worker as fragments of the server's buffers, and
 * its receive then costs about twice a plain one; relaying 1 GiB to a
 * libsmbclient reader, relay and reader took 1.1-1.5 CPU-s with splice()
 * and 0.7-0.9 with copies (docs/performance.md).
 */
static int pump_dir(struct ph_dir *d, int src, int dst, unsigned long long *bytes, long *budget)
{
	int r = 0;

	for (;;) {
		bool progress = false;
		ssize_t n;

		if (!d->eof && d->pending == 0 && *budget > 0) {
			if (!d->buf && !(d->buf = malloc(RELAY_BUF))) {
				r = -ENOMEM;
				break;
			}
			n = recv(src, d->buf, RELAY_BUF, MSG_DONTWAIT);
			if (n > 0) {
				d->off = 0;
				d->pending = (size_t)n;
				progress = true;
			} else if (n == 0) {
				d->eof = true;
				progress = true;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				r = -errno;
				break;
			}
		}
		if (dst >= 0 && d->pending > 0) {
			n = send(dst, d->buf + d->off, d->pending, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				d->off += (size_t)n;
				d->pending -= (size_t)n;
				stat_add(bytes, (unsigned long long)n);
				*budget -= (long)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
				   errno != EINTR) {
				r = -errno;
				break;
			}
		}
		if (dst >= 0 && d->eof && d->pending == 0 && !d->shut) {
			if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN) {
				r = -errno;
				break;
			}
			d->shut = true;
		}
		if (!progress || *budget <= 0)
			break;
	}
	if (d->pending == 0)
		dir_release(d);
	return r;
}

/* Moves what can be moved in both directions; closes @c when done or broken. */
static void conn_pump(struct pinhole *p, struct ph_conn *c)
{
	long budget_up = TURN_BUDGET, budget_down = TURN_BUDGET;
	int server = c->state == PH_OPEN ? c->server : -1;
	int r;

	r = pump_dir(&c->up, c->client, server, &p->stats.bytes_up, &budget_up);
	if (r == 0 && server >= 0)
		r = pump_dir(&c->down, server, c->client, &p->stats.bytes_down, &budget_down);
	if (r < 0 || (c->up.shut && c->down.shut)) {
		conn_close(p, c);
		return;
	}
	if (budget_up <= 0 || budget_down <= 0)
		ready_push(p, c);
}

/* Tries the next address of c->ai_next; closes @c when none is left. */
static void conn_connect_next(struct pinhole *p, struct ph_conn *c)
{
	while (c->ai_next) {
		struct addrinfo *ai = c->ai_next;
		int fd;

		c->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
		if (fd < 0)
			continue;
		set_sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
		set_sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		/* Even a connect() done at once is reported writable: one path. */
		if (register_fd(p, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->server_tag) <
		    0) {
			close(fd);
			continue;
		}
		c->server = fd;
		c->state = PH_CONNECTING;
		return;
	}
	stat_add(&p->stats.connect_failed, 1);
	conn_close(p, c);
}

/*
 * Sends the connected server socket of the hand-off @c to the sandbox, on the
 * request's own answer socket, then forgets both: from here the socket is the
 * sandbox's alone (the gateway holds no copy, so the server sees the
 * connection close when the worker closes it). The send is MSG_DONTWAIT: the
 * sandbox holds the answer socket too and could clear its O_NONBLOCK; a
 * sandbox that filled it first gets nothing, and the relay thread never
 * waits on it.
 */
static void conn_hand_over(struct pinhole *p, struct ph_conn *c)
{
	struct smbsock_rep rep = {.err = 0};
	struct epoll_event ev = {.events = 0};

	/* Counted as alive from now until the sandbox's last copy is closed. */
	if (epoll_ctl(c->l->alive, EPOLL_CTL_ADD, c->server, &ev) == 0) {
		if (fdpass_send_flags(c->client, &rep, sizeof(rep), &c->server, 1, MSG_DONTWAIT) ==
		    (ssize_t)sizeof(rep))
			stat_add(&p->stats.handed_over, 1);
		else
			epoll_ctl(c->l->alive, EPOLL_CTL_DEL, c->server, NULL);
	}
	conn_close(p, c);
}

/* Pumps, then gives up on a connection one of whose sockets has an error. */
static void conn_pump_check(struct pinhole *p, struct ph_conn *c, uint32_t events)
{
	conn_pump(p, c);
	if (!c->dead && (events & EPOLLERR))
		conn_close(p, c);
}

static void conn_server_event(struct pinhole *p, struct ph_conn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == PH_CONNECTING) {
		if (getsockopt(c->server, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			close_fd(p, &c->server);
			conn_connect_next(p, c);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		c->state = PH_OPEN;
		freeaddrinfo(c->ai_list);
		c->ai_list = c->ai_next = NULL;
		if (c->handoff) {
			conn_hand_over(p, c);
			return;
		}
	}
	conn_pump_check(p, c, events);
}

static void conn_resolved(struct pinhole *p, struct ph_conn *c, struct ph_resolve *req)
{
	c->req = NULL;
	if (req->err != 0 || !req->res) {
		stat_add(&p->stats.connect_failed, 1);
		conn_close(p, c);
		return;
	}
	c->ai_list = c->ai_next = req->res;
	req->res = NULL;
	conn_connect_next(p, c);
}

/* Queues the resolution of the listener's host for @c. */
static int conn_resolve(struct pinhole *p, struct ph_conn *c)
{
	struct ph_resolve *req = calloc(1, sizeof(*req));

	if (!req)
		return -ENOMEM;
	req->host = strdup(c->l->host);
	if (!req->host) {
		free(req);
		return -ENOMEM;
	}
	memcpy(req->service, c->l->service, sizeof(req->service));
	req->conn = c;
	c->req = req;

	pthread_mutex_lock(&p->lock);
	*p->res_queue_tail = req;
	p->res_queue_tail = &req->next;
	pthread_cond_signal(&p->res_cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Starts relaying the accepted @fd, or (@handoff) connecting for the
 * hand-off request answered on @fd (always consumed). */
static int conn_new(struct pinhole *p, struct ph_listener *l, int fd, bool handoff)
{
	struct ph_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->client_tag.kind = PH_CLIENT;
	c->server_tag.kind = PH_SERVER;
	c->l = l;
	c->client = fd;
	c->server = -1;
	c->state = PH_RESOLVING;
	c->handoff = handoff;

	if (handoff) {
		r = 0;
	} else {
		set_sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
		r = register_fd(p, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->client_tag);
	}
	if (r == 0)
		r = conn_resolve(p, c);
	if (r < 0) {
		close_fd(p, &c->client);
		free(c);
		return r;
	}

	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	stat_add(&p->stats.active, 1);
	stat_add(&p->stats.connections_total, 1);
	return 0;
}

/* ---- listeners -------------------------------------------------------- */

/*
 * How many sockets handed over by @l are still open in the sandbox, or
 * PINHOLE_MAX_CONNECTIONS when that cannot be known (fail closed).
 *
 * Each socket is added, with no events, to the epoll set l->alive before it
 * is sent, and the gateway then closes its own fd. An epoll registration
 * holds no reference to the socket, and the kernel removes it when the last
 * fd of the socket is closed, here or in the sandbox; so the registrations
 * left, one "tfd:" line each in the set's /proc fdinfo, are exactly the
 * sockets the sandbox still holds.
 */
static unsigned handed_alive(const struct ph_listener *l)
{
	/* At most PINHOLE_MAX_CONNECTIONS lines of about 100 bytes, and a few
	 * header lines: one buffer holds them all. */
	char path[64], buf[8192];
	size_t len = 0;
	unsigned n = 0;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", l->alive);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PINHOLE_MAX_CONNECTIONS;
	while (len < sizeof(buf) - 1 && (got = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	buf[len] = '\0';
	if (len == 0 || len == sizeof(buf) - 1)
		return PINHOLE_MAX_CONNECTIONS;
	for (const char *line = buf; line && *line;) {
		if (strncmp(line, "tfd:", 4) == 0)
			n++;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Out of fds or memory: stop accepting for a while instead of spinning. */
static void listener_pause(struct pinhole *p, struct ph_listener *l)
{
	if (!l->registered)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	l->registered = false;
	l->paused = true;
	if (p->paused++ == 0)
		p->unpause = now_ms() + PAUSE_MS;
}

static void listener_accept(struct pinhole *p, struct ph_listener *l, uint32_t events)
{
	for (int i = 0; i < ACCEPTS_PER_TURN && !l->dead; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
				if (events & (EPOLLERR | EPOLLHUP))
					goto broken;
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case ENETDOWN:
			case ENOPROTOOPT:
			case EHOSTDOWN:
			case ENONET:
			case EHOSTUNREACH:
			case ENETUNREACH:
			case EPERM:
				continue; /* that connection is gone; try the next one */
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				listener_pause(p, l);
				return;
			default:
				goto broken;
			}
		}
		if (l->nconns >= PINHOLE_MAX_CONNECTIONS ||
		    (l->alive >= 0 && l->nconns + handed_alive(l) >= PINHOLE_MAX_CONNECTIONS)) {
			stat_add(&p->stats.refused, 1); /* before the peer can see it */
			close(fd);
			continue;
		}
		if (conn_new(p, l, fd, false) < 0)
			stat_add(&p->stats.refused, 1);
	}
	return;

broken:
	/* The listener was shut down (its other holder can do that): it
	 * will never accept again. Keep it, out of the epoll set, until
	 * pinhole_remove(); its connections go on. */
	if (l->registered)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	l->registered = false;
}

/* Stops serving the hand-off channel of @l (closed, broken or hostile). */
static void channel_close(struct pinhole *p, struct ph_listener *l)
{
	close_far(p, &l->chan);
}

/*
 * Serves hand-off requests from the sandbox: every byte is hostile. A
 * request of any other size or shape than one struct smbsock_req with
 * exactly one fd, an AF_UNIX seqpacket socket, is dropped (its fds closed);
 * one beyond PINHOLE_MAX_CONNECTIONS (relayed connections, requests in
 * progress and handed-over sockets still open, together) is answered by
 * closing its socket. At most ACCEPTS_PER_TURN
 * requests per turn (level-triggered: the rest wait for the next one).
 */
static void channel_read(struct pinhole *p, struct ph_listener *l, uint32_t events)
{
	for (int i = 0; i < ACCEPTS_PER_TURN && !l->dead && l->chan >= 0; i++) {
		struct smbsock_req req;
		struct fdpass_info info = {0};
		int fd = -1, domain = 0, type = 0, flags;
		socklen_t len = sizeof(int);
		ssize_t n = fdpass_recv_dispose(l->chan, &req, sizeof(req), &fd, 1, MSG_DONTWAIT,
						&info, dispose_fd, p);

		if (n < 0 && (n == -EAGAIN || n == -EWOULDBLOCK)) {
			if (events & (EPOLLERR | EPOLLHUP))
				channel_close(p, l);
			return;
		}
		if (n < 0) {
			channel_close(p, l);
			return;
		}
		if (n == 0) {
			/* The end of the channel, or an empty message, which may
			 * carry fds all the same: those are closed like any. */
			struct pollfd pf = {.fd = l->chan, .events = POLLIN};
			if (info.kept == 1)
				dispose_fd(p, fd);
			if (info.received == 0 && poll(&pf, 1, 0) == 1 &&
			    (pf.revents & (POLLHUP | POLLERR))) {
				channel_close(p, l); /* the sandbox's end is gone */
				return;
			}
			stat_add(&p->stats.refused, 1);
			continue;
		}
		if (info.kept == 1 && (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
				       domain != AF_UNIX)) {
			dispose_fd(p, fd);
			stat_add(&p->stats.refused, 1);
			continue;
		}
		/* Every fd of the sandbox is closed on the closer thread: even an
		 * AF_UNIX socket's close may wait, for a lingering TCP socket
		 * queued in it. */
		if (n != (ssize_t)sizeof(req) || info.trunc || info.ctrunc || info.received != 1 ||
		    info.kept != 1 || req.magic != SMBSOCK_MAGIC || req.flags != 0 ||
		    (len = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) ||
		    type != SOCK_SEQPACKET || (flags = fcntl(fd, F_GETFL)) < 0 ||
		    fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
			if (info.kept == 1)
				dispose_fd(p, fd);
			stat_add(&p->stats.refused, 1);
			continue;
		}
		if (l->nconns >= PINHOLE_MAX_CONNECTIONS ||
		    l->nconns + handed_alive(l) >= PINHOLE_MAX_CONNECTIONS) {
			stat_add(&p->stats.refused, 1);
			dispose_fd(p, fd);
			continue;
		}
		if (conn_new(p, l, fd, true) < 0)
			stat_add(&p->stats.refused, 1);
	}
}

static void unpause_listeners(struct pinhole *p)
{
	for (struct ph_listener *l = p->listeners; l; l = l->next) {
		if (!l->paused)
			continue;
		l->paused = false;
		p->paused--;
		if (register_fd(p, l->fd, EPOLLIN, &l->tag) == 0)
			l->registered = true;
	}
}

static void listener_free(struct ph_listener *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->chan >= 0)
		close(l->chan);
	if (l->alive >= 0)
		close(l->alive);
	free(l->host);
	free(l);
}

static void listener_close(struct pinhole *p, struct ph_listener *l)
{
	if (l->dead)
		return;
	l->dead = true;
	while (l->conns)
		conn_close(p, l->conns);
	if (l->paused)
		p->paused--;
	l->paused = false;
	if (l->registered)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	l->registered = false;
	close(l->fd);
	l->fd = -1;
	close_far(p, &l->chan);

	if (l->prev)
		l->prev->next = l->next;
	else
		p->listeners = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->grave_next = p->grave_listeners;
	p->grave_listeners = l;
}

/* ---- the relay thread ------------------------------------------------- */

static long cmd_run(struct pinhole *p, struct ph_cmd *cmd)
{
	struct ph_listener *l;
	int r;

	switch (cmd->type) {
	case CMD_ADD:
		l = cmd->l;
		r = register_fd(p, l->fd, EPOLLIN, &l->tag);
		if (r == 0 && l->chan >= 0) {
			r = register_fd(p, l->chan, EPOLLIN, &l->chan_tag);
			if (r < 0)
				epoll_ctl(p->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		}
		if (r < 0) {
			listener_free(l);
			return r;
		}
		l->registered = true;
		l->next = p->listeners;
		if (p->listeners)
			p->listeners->prev = l;
		p->listeners = l;
		return l->id;
	case CMD_REMOVE:
		for (l = p->listeners; l; l = l->next) {
			if (l->id == cmd->id) {
				listener_close(p, l);
				break;
			}
		}
		return 0;
	}
	return -EINVAL;
}

/* Handles queued commands and resolver answers. Returns whether to stop. */
static bool handle_wake(struct pinhole *p)
{
	struct ph_cmd *cmds;
	struct ph_resolve *done;
	uint64_t v;
	bool stopping;

	(void)!read(p->wakefd, &v, sizeof(v));

	pthread_mutex_lock(&p->lock);
	cmds = p->cmds;
	p->cmds = NULL;
	p->cmds_tail = &p->cmds;
	done = p->res_done;
	p->res_done = NULL;
	stopping = p->stopping;
	pthread_mutex_unlock(&p->lock);

	while (cmds) {
		struct ph_cmd *next = cmds->next;
		long result = cmd_run(p, cmds);

		/* After done is set the caller may return: cmds is gone. */
		pthread_mutex_lock(&p->lock);
		cmds->result = result;
		cmds->done = true;
		pthread_cond_broadcast(&p->done_cond);
		pthread_mutex_unlock(&p->lock);
		cmds = next;
	}

	while (done) {
		struct ph_resolve *next = done->next;

		if (done->conn && !done->conn->dead)
			conn_resolved(p, done->conn, done);
		if (done->res)
			freeaddrinfo(done->res);
		free(done->host);
		free(done);
		done = next;
	}
	return stopping;
}

static void bury(struct pinhole *p)
{
	while (p->grave_conns) {
		struct ph_conn *c = p->grave_conns;

		p->grave_conns = c->grave_next;
		free(c);
	}
	while (p->grave_listeners) {
		struct ph_listener *l = p->grave_listeners;

		p->grave_listeners = l->grave_next;
		listener_free(l);
	}
}

static void *relay_main(void *arg)
{
	struct pinhole *p = arg;
	struct epoll_event evs[MAX_EVENTS];
	bool stopping = false;

	while (!stopping) {
		int timeout = -1;
		int n;

		if (p->ready) {
			timeout = 0;
		} else if (p->paused) {
			long long left = p->unpause - now_ms();

			timeout = left < 0 ? 0 : left > PAUSE_MS ? PAUSE_MS : (int)left;
		}
		n = epoll_wait(p->epfd, evs, MAX_EVENTS, timeout);

		if (n < 0 && errno != EINTR)
			break; /* cannot happen with a valid epfd */
		for (int i = 0; i < n; i++) {
			struct ph_tag *tag = evs[i].data.ptr;
			uint32_t events = evs[i].events;
			struct ph_conn *c;
			struct ph_listener *l;

			switch (tag->kind) {
			case PH_WAKE:
				if (handle_wake(p))
					stopping = true;
				break;
			case PH_LISTENER:
				l = container_of(tag, struct ph_listener, tag);
				if (!l->dead)
					listener_accept(p, l, events);
				break;
			case PH_CHANNEL:
				l = container_of(tag, struct ph_listener, chan_tag);
				if (!l->dead)
					channel_read(p, l, events);
				break;
			case PH_CLIENT:
				c = container_of(tag, struct ph_conn, client_tag);
				if (!c->dead)
					conn_pump_check(p, c, events);
				break;
			case PH_SERVER:
				c = container_of(tag, struct ph_conn, server_tag);
				if (!c->dead)
					conn_server_event(p, c, events);
				break;
			}
		}

		if (n == 0 || p->ready) {
			struct ph_conn *ready = p->ready;

			p->ready = NULL;
			while (ready) {
				struct ph_conn *c = ready;

				ready = c->ready_next;
				c->ready = false;
				if (!c->dead)
					conn_pump(p, c);
			}
		}
		if (p->paused && now_ms() >= p->unpause)
			unpause_listeners(p);
		bury(p);
	}

	while (p->listeners)
		listener_close(p, p->listeners);
	p->ready = NULL;
	bury(p);
	return NULL;
}

/* ---- the resolver thread ---------------------------------------------- */

static void *resolver_main(void *arg)
{
	struct pinhole *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct addrinfo hints = {
		    .ai_family = AF_UNSPEC,
		    .ai_socktype = SOCK_STREAM,
		    .ai_protocol = IPPROTO_TCP,
		    .ai_flags = AI_NUMERICSERV,
		};
		struct ph_resolve *req;

		while (!p->res_queue && !p->res_stopping)
			pthread_cond_wait(&p->res_cond, &p->lock);
		if (p->res_stopping)
			break;
		req = p->res_queue;
		p->res_queue = req->next;
		if (!p->res_queue)
			p->res_queue_tail = &p->res_queue;
		pthread_mutex_unlock(&p->lock);

		/* May block for the resolver's timeouts; only new connections wait. */
		req->err = getaddrinfo(req->host, req->service, &hints, &req->res);
		if (req->err != 0)
			req->res = NULL;

		pthread_mutex_lock(&p->lock); /* held again at the top of the loop */
		req->next = p->res_done;
		p->res_done = req;
		wake(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- interface -------------------------------------------------------- */

static void free_resolves(struct ph_resolve *r)
{
	while (r) {
		struct ph_resolve *next = r->next;

		if (r->res)
			freeaddrinfo(r->res);
		free(r->host);
		free(r);
		r = next;
	}
}

static void pinhole_free(struct pinhole *p)
{
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->wakefd >= 0)
		close(p->wakefd);
	if (p->closer_w >= 0)
		close(p->closer_w); /* the closer thread ends once the pipe is empty */
	if (p->closer_started) {
		/* A second for what it still has to close; a close that waits
		 * longer (a sandbox's FUSE server) must not hold up the stop. */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (pthread_timedjoin_np(p->closer, NULL, &until) != 0)
			pthread_detach(p->closer);
	}
	free_resolves(p->res_queue);
	free_resolves(p->res_done);
	pthread_cond_destroy(&p->res_cond);
	pthread_cond_destroy(&p->done_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int pinhole_start(struct pinhole **ret)
{
	struct pinhole *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	int r;

	if (!p)
		return -ENOMEM;
	p->epfd = p->wakefd = p->closer_w = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->done_cond, NULL);
	pthread_cond_init(&p->res_cond, NULL);
	p->cmds_tail = &p->cmds;
	p->res_queue_tail = &p->res_queue;
	p->wake_tag.kind = PH_WAKE;

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		r = -errno;
		goto fail;
	}
	p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->wakefd < 0) {
		r = -errno;
		goto fail;
	}
	r = register_fd(p, p->wakefd, EPOLLIN, &p->wake_tag);
	if (r < 0)
		goto fail;

	int closer[2];
	if (pipe2(closer, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	if (fcntl(closer[1], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		close(closer[0]);
		close(closer[1]);
		goto fail;
	}
	p->closer_w = closer[1];

	/* The threads are born with every signal blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&p->closer, NULL, closer_main, (void *)(intptr_t)closer[0]);
	if (r < 0) {
		close(closer[0]);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	p->closer_started = true;
	r = -pthread_create(&p->relay, NULL, relay_main, p);
	if (r == 0) {
		r = -pthread_create(&p->resolver, NULL, resolver_main, p);
		if (r < 0) {
			pthread_mutex_lock(&p->lock);
			p->stopping = true;
			pthread_mutex_unlock(&p->lock);
			wake(p);
			pthread_join(p->relay, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;

	*ret = p;
	return 0;

fail:
	pinhole_free(p);
	return r;
}

void pinhole_stop(struct pinhole *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_mutex_unlock(&p->lock);
	wake(p);
	pthread_join(p->relay, NULL);

	pthread_mutex_lock(&p->lock);
	p->res_stopping = true;
	pthread_cond_signal(&p->res_cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->resolver, NULL);

	pinhole_free(p);
}

/* Queues @cmd and waits until the relay thread has run it. */
static long cmd_call(struct pinhole *p, struct ph_cmd *cmd)
{
	pthread_mutex_lock(&p->lock);
	cmd->done = false;
	cmd->next = NULL;
	*p->cmds_tail = cmd;
	p->cmds_tail = &cmd->next;
	pthread_mutex_unlock(&p->lock);
	wake(p);

	pthread_mutex_lock(&p->lock);
	while (!cmd->done)
		pthread_cond_wait(&p->done_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return cmd->result;
}

/* Checks that @fd is a SOCK_SEQPACKET socket, makes it non-blocking and
 * close-on-exec. Returns 0 or a negative errno. */
static int channel_check(int fd)
{
	int type = 0, flags;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EINVAL;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

long pinhole_add(struct pinhole *p, int listen_fd, int chan_fd, const char *host, uint16_t port)
{
	struct ph_cmd cmd = {.type = CMD_ADD};
	struct ph_listener *l;
	int type = 0, listening = 0;
	socklen_t len;
	size_t hostlen = host ? strnlen(host, PINHOLE_MAX_HOST + 1) : 0;
	int flags, r;

	if (listen_fd < 0) {
		if (chan_fd >= 0)
			close(chan_fd);
		return -EINVAL;
	}
	if (chan_fd >= 0) {
		r = channel_check(chan_fd);
		if (r < 0)
			goto fail;
	}
	if (hostlen == 0 || hostlen > PINHOLE_MAX_HOST || port == 0) {
		r = -EINVAL;
		goto fail;
	}
	len = sizeof(type);
	if (getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
		r = -errno;
		goto fail;
	}
	len = sizeof(listening);
	if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
		r = -errno;
		goto fail;
	}
	if (type != SOCK_STREAM || !listening) {
		r = -EINVAL;
		goto fail;
	}
	flags = fcntl(listen_fd, F_GETFL);
	if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}

	l = calloc(1, sizeof(*l));
	if (!l) {
		r = -ENOMEM;
		goto fail;
	}
	l->host = strdup(host);
	if (!l->host) {
		free(l);
		r = -ENOMEM;
		goto fail;
	}
	l->tag.kind = PH_LISTENER;
	l->chan_tag.kind = PH_CHANNEL;
	l->fd = listen_fd;
	l->chan = chan_fd;
	l->alive = -1;
	if (chan_fd >= 0) {
		l->alive = epoll_create1(EPOLL_CLOEXEC);
		if (l->alive < 0) {
			r = -errno;
			free(l->host);
			free(l);
			goto fail;
		}
	}
	snprintf(l->service, sizeof(l->service), "%u", (unsigned)port);

	pthread_mutex_lock(&p->lock);
	l->id = ++p->next_id;
	pthread_mutex_unlock(&p->lock);
	cmd.l = l;
	/* From here the relay thread owns l, and closes the fd on failure. */
	return cmd_call(p, &cmd);

fail:
	close(listen_fd);
	if (chan_fd >= 0)
		close(chan_fd);
	return r;
}

void pinhole_remove(struct pinhole *p, long id)
{
	struct ph_cmd cmd = {.type = CMD_REMOVE, .id = id};

	if (id <= 0)
		return;
	cmd_call(p, &cmd);
}

void pinhole_get_stats(struct pinhole *p, struct pinhole_stats *out)
{
	out->connections_total = __atomic_load_n(&p->stats.connections_total, __ATOMIC_RELAXED);
	out->active = __atomic_load_n(&p->stats.active, __ATOMIC_RELAXED);
	out->bytes_up = __atomic_load_n(&p->stats.bytes_up, __ATOMIC_RELAXED);
	out->bytes_down = __atomic_load_n(&p->stats.bytes_down, __ATOMIC_RELAXED);
	out->refused = __atomic_load_n(&p->stats.refused, __ATOMIC_RELAXED);
	out->connect_failed = __atomic_load_n(&p->stats.connect_failed, __ATOMIC_RELAXED);
	out->handed_over = __atomic_load_n(&p->stats.handed_over, __ATOMIC_RELAXED);
	out->unclosed = __atomic_load_n(&p->stats.unclosed, __ATOMIC_RELAXED);
}
