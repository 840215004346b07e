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
#include <dirent.h>
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

#include "pinhole.h"

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

/* A port on 127.0.0.1 where nothing listens (bound, then released). */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
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

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
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

static unsigned echo_open(struct echo_server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->open;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static unsigned echo_accepted(struct echo_server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->nconns;
	pthread_mutex_unlock(&s->lock);
	return n;
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
	long id = pinhole_add(p, fd, host, port);

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

/* Sends @len random bytes and half-closes while reading the echo back. */
static void roundtrip(uint16_t port, size_t len, uint64_t seed)
{
	unsigned char *out = malloc(len), *in = malloc(len + 64);
	struct writer w = {.buf = out, .len = len};
	char trailer[64];
	pthread_t t;
	size_t got;
	int tlen;

	assert_non_null(out);
	assert_non_null(in);
	fill_random(out, len, seed);
	w.fd = connect_local(port);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	got = recv_until_eof(w.fd, in, len + 64);
	pthread_join(t, NULL);

	tlen = snprintf(trailer, sizeof(trailer), "EOF:%zu\n", len);
	assert_int_equal(got, len + (size_t)tlen);
	assert_memory_equal(in, out, len);
	assert_memory_equal(in + len, trailer, (size_t)tlen);
	close(w.fd);
	free(out);
	free(in);
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
	char trailer[64];
	struct pinhole_stats s;
	pthread_t t;
	size_t got = 0;
	int tlen;

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
	tlen = snprintf(trailer, sizeof(trailer), "EOF:%zu\n", len);
	assert_int_equal(got, len + (size_t)tlen);
	assert_memory_equal(in, out, len);
	assert_memory_equal(in + len, trailer, (size_t)tlen);
	close(w.fd);
	free(out);
	free(in);
	wait_active(f->p, 0);
	s = stats(f->p);
	assert_int_equal(s.bytes_up, len);
	assert_int_equal(s.bytes_down, len + (size_t)tlen);
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

static void test_half_close(void **state)
{
	struct fixture *f = *state;
	int fd = connect_local(f->port);
	char buf[64];
	size_t got;

	ping(fd); /* the relay is up */
	send_all(fd, "hello", 5);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	/* The server saw EOF (it wrote the trailer) and its answer came back
	 * through the half-closed connection. */
	got = recv_until_eof(fd, buf, sizeof(buf));
	assert_int_equal(got, strlen("helloEOF:9\n"));
	assert_memory_equal(buf, "helloEOF:9\n", got);
	close(fd);
	wait_active(f->p, 0);
	echo_wait_idle(&f->srv);

	/* Half-close before the server is even connected. */
	fd = connect_local(f->port);
	send_all(fd, "x", 1);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	got = recv_until_eof(fd, buf, sizeof(buf));
	assert_int_equal(got, strlen("xEOF:1\n"));
	assert_memory_equal(buf, "xEOF:1\n", got);
	close(fd);
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
	before = count_fds();
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
	assert_int_equal(count_fds(), before);
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
	assert_int_equal(pinhole_add(f->p, fds[0], "127.0.0.1", 445), -ENOTSOCK);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	/* A socket that does not listen. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(pinhole_add(f->p, fd, "127.0.0.1", 445), -EINVAL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(pinhole_add(f->p, fd, "127.0.0.1", 445), -EINVAL);

	/* Bad destinations. */
	assert_int_equal(pinhole_add(f->p, listen_local(&port), NULL, 445), -EINVAL);
	assert_int_equal(pinhole_add(f->p, listen_local(&port), "", 445), -EINVAL);
	assert_int_equal(pinhole_add(f->p, listen_local(&port), "127.0.0.1", 0), -EINVAL);
	memset(longhost, 'a', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_equal(pinhole_add(f->p, listen_local(&port), longhost, 445), -EINVAL);
	assert_int_equal(pinhole_add(f->p, -1, "127.0.0.1", 445), -EINVAL);

	/* Nothing changed: the existing listener still relays. */
	fd = connect_local(f->port);
	ping(fd);
	close(fd);
	wait_active(f->p, 0);
	assert_int_equal(stats(f->p).connections_total, 1);
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
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
