/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-pinhole.c - the pinhole relay, over real loopback TCP.
 *
 * A plain listener on 127.0.0.1:0 stands in for the sandbox's listener, and
 * an echo server on 127.0.0.1:0 for the file server. The echo server sends
 * back every byte it reads and, at end of file, one trailer "EOF:<count>\n"
 * before closing: seeing the trailer proves that the client's half-close
 * reached the server and that the server could still answer after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fdpass.h"
#include "openfds.h"
#include "pinhole.h"
#include "smbsock.h"

#define MAX_SERVER_CONNS 64
#define TIMEOUT_MS	 10000

/* ---- helpers ---------------------------------------------------------- */

static int listen_local(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port on 127.0.0.1 where nothing listens: bound and kept bound, never
 * listening, until the process ends (a port released at once could be taken
 * by any connection made meanwhile). */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port); /* fd stays open */
}

static int connect_local(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons(port)};
	struct timeval tv = {.tv_sec = TIMEOUT_MS / 1000};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *b = buf;

	while (len > 0) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

/* Reads until end of file into @buf (at most @cap bytes); returns the count. */
static size_t recv_until_eof(int fd, void *buf, size_t cap)
{
	char *b = buf;
	size_t got = 0;

	for (;;) {
		ssize_t n = recv(fd, b + got, cap - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n >= 0); /* -1 with EAGAIN would be the receive timeout */
		if (n == 0)
			return got;
		got += (size_t)n;
		assert_true(got < cap || cap == 0);
	}
}

static void recv_exact(int fd, void *buf, size_t len)
{
	char *b = buf;

	while (len > 0) {
		ssize_t n = recv(fd, b, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

/* Asserts that the peer closed @fd (end of file or reset) within the timeout,
 * after at most @max_data bytes of data. */
static void assert_closed(int fd, size_t max_data)
{
	char buf[4096];
	size_t got = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			assert_true(errno == ECONNRESET || errno == EPIPE);
			return;
		}
		if (n == 0)
			return;
		got += (size_t)n;
		assert_true(got <= max_data);
	}
}

/* One request-answer exchange through the echo server. */
static void ping(int fd)
{
	char buf[4];

	send_all(fd, "ping", 4);
	recv_exact(fd, buf, 4);
	assert_memory_equal(buf, "ping", 4);
}

static void fill_random(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
}

/* The open fd count once it is @want: the pinhole closes what came from the
 * sandbox on its closer thread, a moment after the hand-over answered. Waits
 * up to TIMEOUT_MS; returns the last count. */
static unsigned settled_fds(unsigned want)
{
	unsigned n = open_fds();

	for (int i = 0; n != want && i < TIMEOUT_MS / 10; i++) {
		usleep(10 * 1000);
		n = open_fds();
	}
	return n;
}

static struct pinhole_stats stats(struct pinhole *p)
{
	struct pinhole_stats s;

	pinhole_get_stats(p, &s);
	return s;
}

/* Waits until the number of active relayed connections is @active. */
static void wait_active(struct pinhole *p, unsigned long long active)
{
	for (int i = 0; i < TIMEOUT_MS / 10; i++) {
		if (stats(p).active == active)
			return;
		usleep(10000);
	}
	assert_int_equal(stats(p).active, active);
}

/* ---- the echo server -------------------------------------------------- */

struct echo_server {
	int fd;
	uint16_t port;
	int stopfd; /* eventfd */
	pthread_t thread;
	pthread_mutex_t lock;
	int conns[MAX_SERVER_CONNS];
	pthread_t conn_threads[MAX_SERVER_CONNS];
	unsigned nconns;
	unsigned open; /* connections whose thread has not finished */
};

struct echo_conn {
	struct echo_server *s;
	int fd;
};

static void *echo_conn_main(void *arg)
{
	struct echo_conn *ec = arg;
	static __thread char buf[65536];
	unsigned long long total = 0;
	char trailer[32];
	int len;

	for (;;) {
		ssize_t n = recv(ec->fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		total += (unsigned long long)n;
		while (off < (size_t)n) {
			ssize_t w = send(ec->fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto out;
			off += (size_t)w;
		}
	}
	len = snprintf(trailer, sizeof(trailer), "EOF:%llu\n", total);
	(void)!send(ec->fd, trailer, (size_t)len, MSG_NOSIGNAL);
	shutdown(ec->fd, SHUT_WR);
out:
	pthread_mutex_lock(&ec->s->lock);
	ec->s->open--;
	pthread_mutex_unlock(&ec->s->lock);
	free(ec);
	return NULL;
}

static void *echo_accept_main(void *arg)
{
	struct echo_server *s = arg;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = s->fd, .events = POLLIN},
					{.fd = s->stopfd, .events = POLLIN}};
		struct echo_conn *ec;
		int fd;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ec = malloc(sizeof(*ec));
		assert_non_null(ec);
		ec->s = s;
		ec->fd = fd;
		pthread_mutex_lock(&s->lock);
		assert_true(s->nconns < MAX_SERVER_CONNS);
		s->conns[s->nconns] = fd;
		s->open++;
		assert_int_equal(
		    pthread_create(&s->conn_threads[s->nconns], NULL, echo_conn_main, ec), 0);
		s->nconns++;
		pthread_mutex_unlock(&s->lock);
	}
}

static void echo_start(struct echo_server *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = listen_local(&s->port);
	s->stopfd = eventfd(0, EFD_CLOEXEC);
	assert_true(s->stopfd >= 0);
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, echo_accept_main, s), 0);
}

/* One of @s's counters, @field, read under its lock. */
static unsigned echo_count(struct echo_server *s, const unsigned *field)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = *field;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static unsigned echo_open(struct echo_server *s)
{
	return echo_count(s, &s->open);
}

static unsigned echo_accepted(struct echo_server *s)
{
	return echo_count(s, &s->nconns);
}

/* Waits until every server-side connection has seen its end. */
static void echo_wait_idle(struct echo_server *s)
{
	for (int i = 0; i < TIMEOUT_MS / 10 && echo_open(s) > 0; i++)
		usleep(10000);
	assert_int_equal(echo_open(s), 0);
}

static void echo_stop(struct echo_server *s)
{
	uint64_t one = 1;

	assert_int_equal(write(s->stopfd, &one, sizeof(one)), sizeof(one));
	pthread_join(s->thread, NULL);
	for (unsigned i = 0; i < s->nconns; i++) {
		shutdown(s->conns[i], SHUT_RDWR);
		pthread_join(s->conn_threads[i], NULL);
		close(s->conns[i]);
	}
	close(s->fd);
	close(s->stopfd);
	pthread_mutex_destroy(&s->lock);
}

/* ---- fixture ---------------------------------------------------------- */

struct fixture {
	struct pinhole *p;
	struct echo_server srv;
	uint16_t port; /* the "sandbox" listener */
	long id;
};

/* Adds a listener relaying to @host:@port; returns its id, stores its port. */
static long add_listener(struct pinhole *p, const char *host, uint16_t port, uint16_t *lport)
{
	int fd = listen_local(lport);
	long id = pinhole_add(p, fd, -1, host, port);

	assert_true(id > 0);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	echo_start(&f->srv);
	assert_int_equal(pinhole_start(&f->p), 0);
	f->id = add_listener(f->p, "127.0.0.1", f->srv.port, &f->port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pinhole_stop(f->p);
	echo_stop(&f->srv);
	free(f);
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

struct writer {
	int fd;
	const unsigned char *buf;
	size_t len;
	bool forever; /* send until an error, ignore it */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	if (w->forever) {
		while (send(w->fd, w->buf, w->len, MSG_NOSIGNAL) > 0)
			;
		return NULL;
	}
	send_all(w->fd, w->buf, w->len);
	assert_int_equal(shutdown(w->fd, SHUT_WR), 0);
	return NULL;
}

/* Checks that the @got bytes read back, @in, are the @len bytes sent, @out,
 * then the echo's trailer "EOF:<len>\n"; closes @fd and frees both buffers.
 * Returns the trailer's length. */
static size_t expect_echoed(int fd, unsigned char *out, unsigned char *in, size_t len, size_t got)
{
	char trailer[64];
	int tlen = snprintf(trailer, sizeof(trailer), "EOF:%zu\n", len);

	assert_int_equal(got, len + (size_t)tlen);
	assert_memory_equal(in, out, len);
	assert_memory_equal(in + len, trailer, (size_t)tlen);
	close(fd);
	free(out);
	free(in);
	return (size_t)tlen;
}

/* Sends @len random bytes and half-closes while reading the echo back. */
static void roundtrip(uint16_t port, size_t len, uint64_t seed)
{
	unsigned char *out = malloc(len), *in = malloc(len + 64);
	struct writer w = {.buf = out, .len = len};
	pthread_t t;
	size_t got;

	assert_non_null(out);
	assert_non_null(in);
	fill_random(out, len, seed);
	w.fd = connect_local(port);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	got = recv_until_eof(w.fd, in, len + 64);
	pthread_join(t, NULL);
	expect_echoed(w.fd, out, in, len, got);
}

static void test_roundtrip_8mib(void **state)
{
	struct fixture *f = *state;
	const size_t len = 8 * 1024 * 1024;
	struct pinhole_stats s;

	roundtrip(f->port, len, 42);
	wait_active(f->p, 0);
	s = stats(f->p);
	assert_int_equal(s.connections_total, 1);
	assert_int_equal(s.bytes_up, len);
	assert_int_equal(s.bytes_down, len + strlen("EOF:8388608\n"));
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.connect_failed, 0);
	echo_wait_idle(&f->srv);
}

/* The echo's reader sleeps first, then reads in small pieces with pauses:
 * every buffer on the way fills, the relay's sends stop half-way through its
 * buffer and go on later. Every byte must still arrive, in order, once. */
static void test_slow_reader(void **state)
{
	struct fixture *f = *state;
	const size_t len = 12 * 1024 * 1024 + 12345;
	unsigned char *out = malloc(len), *in = malloc(len + 64);
	struct writer w = {.buf = out, .len = len};
	const struct timespec pause = {.tv_nsec = 2 * 1000 * 1000};
	struct pinhole_stats s;
	pthread_t t;
	size_t got = 0, tlen;

	assert_non_null(out);
	assert_non_null(in);
	fill_random(out, len, 7);
	w.fd = connect_local(f->port);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	usleep(300 * 1000);
	for (unsigned i = 0;; i++) {
		size_t want = 1000 + (i * 7919) % 60000;
		ssize_t n;

		if (want > len + 64 - got)
			want = len + 64 - got;
		n = recv(w.fd, in + got, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
		if (i % 16 == 0)
			nanosleep(&pause, NULL);
	}
	pthread_join(t, NULL);
	tlen = expect_echoed(w.fd, out, in, len, got);
	wait_active(f->p, 0);
	s = stats(f->p);
	assert_int_equal(s.bytes_up, len);
	assert_int_equal(s.bytes_down, len + tlen);
	echo_wait_idle(&f->srv);
}

static struct parallel_arg {
	uint16_t port;
	uint64_t seed;
} parallel_args[4];

static void *parallel_main(void *arg)
{
	struct parallel_arg *a = arg;

	roundtrip(a->port, 2 * 1024 * 1024 + (size_t)a->seed, a->seed);
	return NULL;
}

/* Several transfers at once share the one relay thread. */
static void test_parallel(void **state)
{
	struct fixture *f = *state;
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		parallel_args[i].port = f->port;
		parallel_args[i].seed = (uint64_t)i + 1;
		assert_int_equal(pthread_create(&t[i], NULL, parallel_main, &parallel_args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	wait_active(f->p, 0);
	assert_int_equal(stats(f->p).connections_total, 4);
	assert_int_equal(stats(f->p).bytes_up, 4 * 2 * 1024 * 1024 + 1 + 2 + 3 + 4);
}

/* The host is resolved for each connection; "localhost" may also give ::1,
 * where nothing listens: the next address is tried. */
static void test_hostname(void **state)
{
	struct fixture *f = *state;
	uint16_t port;
	long id = add_listener(f->p, "localhost", f->srv.port, &port);

	assert_true(id > 0 && id != f->id);
	roundtrip(port, 100000, 7);
	roundtrip(port, 1, 8);
	wait_active(f->p, 0);
	assert_int_equal(stats(f->p).connect_failed, 0);
}

/* Sends @msg on @fd and half-closes it; expects @want back (the echo and its
 * trailer), then the end. Closes @fd. */
static void half_close_expect(int fd, const char *msg, const char *want)
{
	char buf[64];
	size_t got;

	send_all(fd, msg, strlen(msg));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	got = recv_until_eof(fd, buf, sizeof(buf));
	assert_int_equal(got, strlen(want));
	assert_memory_equal(buf, want, got);
	close(fd);
}

static void test_half_close(void **state)
{
	struct fixture *f = *state;
	int fd = connect_local(f->port);

	ping(fd); /* the relay is up */
	/* The server saw EOF (it wrote the trailer) and its answer came back
	 * through the half-closed connection. */
	half_close_expect(fd, "hello", "helloEOF:9\n");
	wait_active(f->p, 0);
	echo_wait_idle(&f->srv);

	/* Half-close before the server is even connected. */
	half_close_expect(connect_local(f->port), "x", "xEOF:1\n");
	wait_active(f->p, 0);
}

static void test_unreachable(void **state)
{
	struct fixture *f = *state;
	uint16_t port;
	long id = add_listener(f->p, "127.0.0.1", closed_port(), &port);
	int fd;

	assert_true(id > 0);
	fd = connect_local(port);
	send_all(fd, "lost", 4);
	assert_closed(fd, 0);
	close(fd);
	wait_active(f->p, 0);
	assert_int_equal(stats(f->p).connect_failed, 1);
	assert_int_equal(stats(f->p).connections_total, 1);
	assert_int_equal(echo_accepted(&f->srv), 0);
}

static void test_limit(void **state)
{
	struct fixture *f = *state;
	int fds[PINHOLE_MAX_CONNECTIONS], extra;

	for (int i = 0; i < PINHOLE_MAX_CONNECTIONS; i++) {
		fds[i] = connect_local(f->port);
		ping(fds[i]);
	}
	assert_int_equal(stats(f->p).active, PINHOLE_MAX_CONNECTIONS);

	extra = connect_local(f->port);
	assert_closed(extra, 0);
	close(extra);
	assert_int_equal(stats(f->p).refused, 1);
	assert_int_equal(stats(f->p).active, PINHOLE_MAX_CONNECTIONS);
	assert_int_equal(echo_accepted(&f->srv), PINHOLE_MAX_CONNECTIONS);

	/* The others still work; a freed slot is taken again. */
	ping(fds[3]);
	close(fds[0]);
	wait_active(f->p, PINHOLE_MAX_CONNECTIONS - 1);
	fds[0] = connect_local(f->port);
	ping(fds[0]);
	assert_int_equal(stats(f->p).refused, 1);

	for (int i = 0; i < PINHOLE_MAX_CONNECTIONS; i++)
		close(fds[i]);
	wait_active(f->p, 0);
	echo_wait_idle(&f->srv);
}

static void test_remove_live(void **state)
{
	struct fixture *f = *state;
	static unsigned char chunk[65536];
	struct writer w = {.buf = chunk, .len = sizeof(chunk), .forever = true};
	int idle, fd;
	pthread_t t;
	char buf[65536];

	idle = connect_local(f->port);
	ping(idle);
	w.fd = connect_local(f->port);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	recv_exact(w.fd, buf, sizeof(buf)); /* data flows both ways */
	assert_int_equal(stats(f->p).active, 2);

	pinhole_remove(f->p, f->id); /* mid-transfer */
	assert_int_equal(stats(f->p).active, 0);
	assert_closed(idle, 0);
	for (;;) { /* drain what was relayed before the removal */
		ssize_t n = recv(w.fd, buf, sizeof(buf), 0);

		if (n <= 0) {
			assert_true(n == 0 || errno == ECONNRESET);
			break;
		}
	}
	shutdown(w.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(w.fd);
	close(idle);
	echo_wait_idle(&f->srv);

	/* The listener is closed. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					.sin_port = htons(f->port)};

		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), -1);
		assert_int_equal(errno, ECONNREFUSED);
	}
	close(fd);

	/* Idempotent; unknown ids are ignored. */
	pinhole_remove(f->p, f->id);
	pinhole_remove(f->p, 12345);
	pinhole_remove(f->p, -1);
}

static void test_stop_live(void **state)
{
	struct echo_server srv;
	struct pinhole *p;
	unsigned before;
	uint16_t port;
	int fds[3];

	(void)state;
	before = open_fds();
	echo_start(&srv);
	assert_int_equal(pinhole_start(&p), 0);
	add_listener(p, "127.0.0.1", srv.port, &port);
	add_listener(p, "127.0.0.1", srv.port, &port);
	for (int i = 0; i < 3; i++) {
		fds[i] = connect_local(port);
		ping(fds[i]);
	}
	send_all(fds[0], "unanswered", 10); /* some bytes possibly in flight */

	pinhole_stop(p);
	for (int i = 0; i < 3; i++) {
		assert_closed(fds[i], 10);
		close(fds[i]);
	}
	echo_wait_idle(&srv);
	echo_stop(&srv);
	assert_int_equal(settled_fds(before), before);
}

static void test_add_invalid(void **state)
{
	struct fixture *f = *state;
	uint16_t port;
	int fds[2], fd;
	char longhost[PINHOLE_MAX_HOST + 2];

	/* Not a socket: -ENOTSOCK, and the fd is consumed all the same. */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[1]);
	assert_int_equal(pinhole_add(f->p, fds[0], -1, "127.0.0.1", 445), -ENOTSOCK);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	/* A socket that does not listen. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(pinhole_add(f->p, fd, -1, "127.0.0.1", 445), -EINVAL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(pinhole_add(f->p, fd, -1, "127.0.0.1", 445), -EINVAL);

	/* Bad destinations. */
	assert_int_equal(pinhole_add(f->p, listen_local(&port), -1, NULL, 445), -EINVAL);
	assert_int_equal(pinhole_add(f->p, listen_local(&port), -1, "", 445), -EINVAL);
	assert_int_equal(pinhole_add(f->p, listen_local(&port), -1, "127.0.0.1", 0), -EINVAL);
	memset(longhost, 'a', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_equal(pinhole_add(f->p, listen_local(&port), -1, longhost, 445), -EINVAL);
	assert_int_equal(pinhole_add(f->p, -1, -1, "127.0.0.1", 445), -EINVAL);

	/* Nothing changed: the existing listener still relays. */
	fd = connect_local(f->port);
	ping(fd);
	close(fd);
	wait_active(f->p, 0);
	assert_int_equal(stats(f->p).connections_total, 1);
}

/* ---- the socket hand-off ---------------------------------------------- */

/* Adds a listener with a hand-off channel to @host:@port; returns the
 * sandbox's end of the channel. */
static int add_channel(struct pinhole *p, const char *host, uint16_t port, long *ret_id)
{
	uint16_t lport;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	*ret_id = pinhole_add(p, listen_local(&lport), sv[0], host, port);
	assert_true(*ret_id > 0);
	return sv[1];
}

/* A handed-over socket, made blocking for the helpers. */
static int take(int chan)
{
	int fd = -1;

	assert_int_equal(smbsock_request(chan, TIMEOUT_MS, &fd), 0);
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	return fd;
}

static void test_handoff(void **state)
{
	struct fixture *f = *state;
	long id;
	int chan = add_channel(f->p, "127.0.0.1", f->srv.port, &id);
	unsigned fds = open_fds();
	int a = take(chan), b = take(chan);
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);

	/* Two sockets to the configured server, nothing relayed, none kept. */
	ping(a);
	ping(b);
	assert_int_equal(getpeername(a, (struct sockaddr *)&peer, &len), 0);
	assert_int_equal(ntohs(peer.sin_port), f->srv.port);
	assert_int_equal(stats(f->p).handed_over, 2);
	assert_int_equal(stats(f->p).active, 0);
	assert_int_equal(stats(f->p).bytes_up, 0);
	assert_int_equal(echo_accepted(&f->srv), 2);
	assert_int_equal(settled_fds(fds + 2 + 2), fds + 2 + 2); /* ours and the echo server's */
	/* The server sees the end as soon as the sandbox closes its copy. */
	close(a);
	close(b);
	echo_wait_idle(&f->srv);
	assert_int_equal(settled_fds(fds + 2), fds + 2); /* the echo server keeps its fds */
	close(chan);
	pinhole_remove(f->p, id);
}

static void test_handoff_unreachable(void **state)
{
	struct fixture *f = *state;
	long id;
	int chan = add_channel(f->p, "127.0.0.1", closed_port(), &id), fd = -1;

	/* The answer socket is closed unanswered: connect() fails ECONNREFUSED. */
	assert_int_equal(smbsock_request(chan, TIMEOUT_MS, &fd), -ECONNREFUSED);
	assert_int_equal(fd, -1);
	assert_int_equal(stats(f->p).connect_failed, 1);
	assert_int_equal(stats(f->p).handed_over, 0);
	wait_active(f->p, 0);
	/* So does a request after the listener is gone. */
	pinhole_remove(f->p, id);
	assert_int_equal(smbsock_request(chan, TIMEOUT_MS, &fd), -ECONNREFUSED);
	close(chan);
}

/* Sends @len bytes and @n fds on @chan as one message. */
static void send_raw(int chan, const void *buf, size_t len, const int *fds, size_t n)
{
	assert_int_equal(fdpass_send(chan, buf, len, fds, n), (ssize_t)len);
}

static void test_handoff_hostile(void **state)
{
	struct fixture *f = *state;
	struct smbsock_req good = {.magic = SMBSOCK_MAGIC};
	struct smbsock_req bad_magic = {.magic = 1},
			   bad_flags = {.magic = SMBSOCK_MAGIC, .flags = 1};
	unsigned char big[4096] = {0};
	int pipefd[2], stream[2], seq[2], seq2[2], tcp, full[2];
	long id;
	int chan = add_channel(f->p, "127.0.0.1", f->srv.port, &id);
	unsigned fds;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, seq), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, seq2), 0);
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fds = open_fds();

	memcpy(big, &good, sizeof(good));
	send_raw(chan, "x", 1, NULL, 0);	      /* short */
	send_raw(chan, big, sizeof(big), &seq[1], 1); /* long */
	send_raw(chan, &good, sizeof(good), NULL, 0); /* no fd */
	int two[2] = {seq[1], seq2[1]};
	send_raw(chan, &good, sizeof(good), two, 2);		   /* two fds */
	send_raw(chan, &bad_magic, sizeof(bad_magic), &seq[1], 1); /* bad magic */
	send_raw(chan, &bad_flags, sizeof(bad_flags), &seq[1], 1); /* bad flags */
	send_raw(chan, &good, sizeof(good), &pipefd[1], 1);	   /* not a socket */
	send_raw(chan, &good, sizeof(good), &stream[1], 1);	   /* a stream socket */
	send_raw(chan, &good, sizeof(good), &tcp, 1);		   /* not AF_UNIX */
	send_raw(chan, &good, sizeof(good), &chan, 1);		   /* its own channel */
	for (int i = 0; i < 200; i++)				   /* a flood */
		send_raw(chan, "x", 1, NULL, 0);

	/* An answer socket filled up beforehand: the pinhole does not wait on it. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, full), 0);
	assert_int_equal(fcntl(full[1], F_SETFL, O_NONBLOCK), 0);
	while (send(full[1], big, sizeof(big), MSG_DONTWAIT) > 0)
		;
	send_raw(chan, &good, sizeof(good), &full[1], 1);

	/* A good request afterwards is served. */
	int fd = take(chan);
	ping(fd);
	close(fd);
	/* 209 malformed; the socket sent as an answer on the sandbox's own end of
	 * the channel came back to the pinhole as a 4-byte request: the 210th.
	 * The filled answer socket got nothing (its connection was closed). */
	for (int i = 0;
	     i < TIMEOUT_MS / 10 && (stats(f->p).refused < 210 || stats(f->p).handed_over < 2 ||
				     echo_accepted(&f->srv) < 3 || stats(f->p).active);
	     i++)
		usleep(10000);
	assert_int_equal(stats(f->p).refused, 210);
	assert_int_equal(stats(f->p).handed_over, 2);
	assert_int_equal(echo_accepted(&f->srv), 3);
	/* None of the answer sockets got an answer but the filled one's. */
	char c[16];
	assert_int_equal(recv(seq[0], c, sizeof(c), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(recv(stream[0], c, sizeof(c), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	/* The pinhole kept none of the fds it was sent. */
	close(full[0]);
	close(full[1]);
	wait_active(f->p, 0);
	echo_wait_idle(&f->srv);
	assert_int_equal(settled_fds(fds + 3), fds + 3); /* the echo server's */

	close(pipefd[0]);
	close(pipefd[1]);
	for (int i = 0; i < 2; i++) {
		close(stream[i]);
		close(seq[i]);
		close(seq2[i]);
	}
	close(tcp);
	close(chan);
	pinhole_remove(f->p, id);
}

/* What a hostile sandbox sends must never make the relay thread wait
 * (security review of the hand-off): an empty message carrying an fd, an
 * answer socket whose O_NONBLOCK the sandbox keeps clearing, and an fd
 * whose close() waits (a TCP socket lingering on unsent data; a file of the
 * sandbox's FUSE mount is the other such case). */
struct clearer {
	int fd;
	volatile bool stop;
};

static void *clear_nonblock(void *arg)
{
	struct clearer *c = arg;

	while (!c->stop) {
		fcntl(c->fd, F_SETFL, 0);
		usleep(50);
	}
	return NULL;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void test_handoff_never_waits(void **state)
{
	struct fixture *f = *state;
	struct smbsock_req good = {.magic = SMBSOCK_MAGIC};
	unsigned char big[4096] = {0};
	int seq[2], full[2], lst, tcp;
	uint16_t port;
	long id;
	int chan = add_channel(f->p, "127.0.0.1", f->srv.port, &id);

	/* An empty message with an fd: the fd is closed, the channel serves on. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, seq), 0);
	send_raw(chan, "", 0, &seq[1], 1);
	close(seq[1]);
	int fd = take(chan);
	ping(fd);
	close(fd);
	char c;
	for (int i = 0; i < TIMEOUT_MS / 10 && recv(seq[0], &c, 1, MSG_DONTWAIT) != 0; i++)
		usleep(10000);
	assert_int_equal(recv(seq[0], &c, 1, MSG_DONTWAIT), 0); /* the pinhole's copy closed */
	close(seq[0]);
	assert_int_equal(stats(f->p).refused, 1);

	/* A filled answer socket whose O_NONBLOCK is cleared again and again. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, full), 0);
	assert_int_equal(fcntl(full[1], F_SETFL, O_NONBLOCK), 0);
	while (send(full[1], big, sizeof(big), MSG_DONTWAIT) > 0)
		;
	struct clearer cl = {.fd = full[1]};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, clear_nonblock, &cl), 0);
	send_raw(chan, &good, sizeof(good), &full[1], 1);
	usleep(200000);

	/* A TCP socket that lingers 5 s on unsent data, queued in an answer
	 * socket of a bad request, all other copies closed: the pinhole's close
	 * of the answer socket releases the last reference, and waits. */
	int nest[2];
	lst = listen_local(&port);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(tcp, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(fcntl(tcp, F_SETFL, O_NONBLOCK), 0);
	while (send(tcp, big, sizeof(big), MSG_DONTWAIT) > 0) /* never read */
		;
	assert_int_equal(fcntl(tcp, F_SETFL, 0), 0);
	struct linger lg = {.l_onoff = 1, .l_linger = 5};
	assert_int_equal(setsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nest), 0);
	send_raw(nest[1], "t", 1, &tcp, 1); /* queued in nest[0] */
	close(tcp);
	close(nest[1]);
	struct smbsock_req bad = {.magic = 1};
	send_raw(chan, &bad, sizeof(bad), &nest[0], 1);
	close(nest[0]);
	usleep(200000);

	/* The relay thread still serves at once. */
	long long t0 = mono_ms();
	fd = take(chan);
	assert_true(mono_ms() - t0 < 1000);
	ping(fd);
	close(fd);
	cl.stop = true;
	pthread_join(th, NULL);
	close(full[0]);
	close(full[1]);
	close(chan);
	pinhole_remove(f->p, id);
	close(lst);
}

static void test_handoff_limit(void **state)
{
	struct fixture *f = *state;
	int conns[PINHOLE_MAX_CONNECTIONS], fd = -1, c;
	uint16_t lport;
	int sv[2];

	/* The relayed connections and the requests in progress share the limit. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	long id = pinhole_add(f->p, listen_local(&lport), sv[0], "127.0.0.1", f->srv.port);
	assert_true(id > 0);
	for (int i = 0; i < PINHOLE_MAX_CONNECTIONS; i++) {
		conns[i] = connect_local(lport);
		ping(conns[i]);
	}
	assert_int_equal(smbsock_request(sv[1], TIMEOUT_MS, &fd), -ECONNREFUSED);
	assert_int_equal(stats(f->p).refused, 1);
	close(conns[0]);
	wait_active(f->p, PINHOLE_MAX_CONNECTIONS - 1);
	fd = take(sv[1]);
	ping(fd);
	close(fd);
	for (int i = 1; i < PINHOLE_MAX_CONNECTIONS; i++)
		close(conns[i]);
	wait_active(f->p, 0);

	/* Sockets handed over count while the sandbox holds them, whatever it
	 * does with them: at most PINHOLE_MAX_CONNECTIONS open at once. */
	int held[PINHOLE_MAX_CONNECTIONS];
	for (int i = 0; i < PINHOLE_MAX_CONNECTIONS; i++)
		held[i] = take(sv[1]);
	int dup_of_held = dup(held[5]);
	assert_int_equal(smbsock_request(sv[1], TIMEOUT_MS, &fd), -ECONNREFUSED);
	assert_int_equal(stats(f->p).refused, 2);
	c = connect_local(lport); /* the relay shares the limit */
	assert_closed(c, 0);
	close(c);
	assert_int_equal(stats(f->p).refused, 3);
	close(held[5]); /* one copy of it is still open: still counted */
	assert_int_equal(smbsock_request(sv[1], TIMEOUT_MS, &fd), -ECONNREFUSED);
	close(dup_of_held); /* now it is gone */
	held[5] = take(sv[1]);
	ping(held[5]);
	for (int i = 0; i < PINHOLE_MAX_CONNECTIONS; i++)
		close(held[i]);
	fd = take(sv[1]);
	close(fd);
	assert_int_equal(stats(f->p).refused, 4);

	/* The sandbox closes its end: the listener goes on relaying. */
	close(sv[1]);
	c = connect_local(lport);
	ping(c);
	close(c);
	pinhole_remove(f->p, id);
	echo_wait_idle(&f->srv);
}

static void test_handoff_invalid(void **state)
{
	struct fixture *f = *state;
	uint16_t port;
	int sv[2];

	/* A channel that is not a seqpacket socket: both fds consumed. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pinhole_add(f->p, listen_local(&port), sv[0], "127.0.0.1", 445), -EINVAL);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pinhole_add(f->p, -1, sv[0], "127.0.0.1", 445), -EINVAL);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	assert_int_equal(pinhole_add(f->p, listen_local(&port), sv[1], "", 445), -EINVAL);
	assert_int_equal(fcntl(sv[1], F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip_8mib, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_live, setup, teardown),
	    cmocka_unit_test(test_stop_live),
	    cmocka_unit_test_setup_teardown(test_add_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handoff_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handoff_hostile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handoff_never_waits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handoff_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handoff_invalid, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
