/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-fdpass.c - sandbox/shared/fdpass.c: fds arrive, surplus
 * and cut-short fds are closed and counted, nothing leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdpass.h"
#include "openfds.h"

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* Whether @a and @b are the same open file (same inode). */
static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

/* The fds of a test that passes a pipe's two ends over a socket pair. */
struct pass {
	int sv[2], p[2];
};

static int pass_setup(void **state)
{
	struct pass *t = malloc(sizeof(*t));

	assert_non_null(t);
	pair(t->sv);
	assert_int_equal(pipe2(t->p, O_CLOEXEC), 0);
	*state = t;
	return 0;
}

static int pass_teardown(void **state)
{
	struct pass *t = *state;

	close(t->p[0]);
	close(t->p[1]);
	close(t->sv[0]);
	close(t->sv[1]);
	free(t);
	return 0;
}

static void test_fds_arrive(void **state)
{
	struct pass *t = *state;
	const int *sv = t->sv, *p = t->p;
	int got[FDPASS_MAX] = {-1, -1, -1, -1};
	struct fdpass_info info;
	char buf[16];
	unsigned before = open_fds();

	assert_int_equal(fdpass_send(sv[0], "hello", 5, p, 2), 5);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 2, 0, &info), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(info.received, 2);
	assert_int_equal(info.kept, 2);
	assert_false(info.ctrunc);
	assert_false(info.trunc);
	assert_true(same_file(got[0], p[0]));
	assert_true(same_file(got[1], p[1]));
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(got[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(open_fds(), before + 2);
	close(got[0]);
	close(got[1]);
}

static void test_surplus_closed_and_counted(void **state)
{
	struct pass *t = *state;
	const int *sv = t->sv, *p = t->p;
	int three[3] = {p[0], p[1], p[0]}, got[FDPASS_MAX] = {-1, -1, -1, -1};
	struct fdpass_info info;
	char buf[16];
	unsigned before = open_fds();

	assert_int_equal(fdpass_send(sv[0], "x", 1, three, 3), 1);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 1, 0, &info), 1);
	assert_int_equal(info.received, 3);
	assert_int_equal(info.kept, 1);
	assert_true(same_file(got[0], p[0]));
	assert_int_equal(got[1], -1); /* nothing written past max_fds */
	assert_int_equal(open_fds(), before + 1);
	close(got[0]);

	/* No fd expected (no info): whatever comes is closed. */
	before = open_fds();
	assert_int_equal(fdpass_send(sv[0], "y", 1, p, 2), 1);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), NULL, 0, 0, NULL), 1);
	assert_int_equal(open_fds(), before);
}

/* More fds than the receiver's control buffer: the kernel cuts it short,
 * and fdpass_recv() keeps none of what came. */
static void test_ctrunc_closes_everything(void **state)
{
	enum { MANY = 64 };
	int sv[2], fds[MANY], got[FDPASS_MAX] = {-1, -1, -1, -1};
	char cbuf[CMSG_SPACE(sizeof(int) * MANY)] = {0};
	struct iovec iov = {.iov_base = (void *)"z", .iov_len = 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct fdpass_info info;
	char buf[4];

	(void)state;
	pair(sv);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(null >= 0);
	for (int i = 0; i < MANY; i++)
		fds[i] = null;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	assert_non_null(c);
	if (!c)
		return;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * MANY);
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &mh, 0), 1);
	unsigned before = open_fds();
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 2, 0, &info), 1);
	assert_true(info.ctrunc);
	assert_int_equal(info.kept, 0);
	assert_true(info.received > 0 && info.received < MANY);
	assert_int_equal(got[0], -1);
	assert_int_equal(open_fds(), before);
	close(null);
	close(sv[0]);
	close(sv[1]);
}

static void test_truncated_and_eof(void **state)
{
	int sv[2];
	struct fdpass_info info;
	char buf[4];

	(void)state;
	pair(sv);
	assert_int_equal(fdpass_send(sv[0], "0123456789", 10, NULL, 0), 10);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), NULL, 0, 0, &info), 4);
	assert_true(info.trunc);
	assert_memory_equal(buf, "0123", 4);
	/* Nothing waiting: MSG_DONTWAIT says so. */
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), NULL, 0, MSG_DONTWAIT, &info),
			 -EAGAIN);
	close(sv[0]);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), NULL, 0, 0, &info), 0);
	close(sv[1]);
}

static void test_bad_arguments(void **state)
{
	int sv[2], fds[FDPASS_MAX + 1] = {0}, got[1];
	struct fdpass_info info = {.received = 9};
	char buf[1];

	(void)state;
	pair(sv);
	assert_int_equal(fdpass_send(sv[0], "a", 1, fds, FDPASS_MAX + 1), -EINVAL);
	assert_int_equal(fdpass_send(sv[0], "a", 1, NULL, 1), -EINVAL);
	assert_int_equal(fdpass_recv(sv[1], buf, 1, got, FDPASS_MAX + 1, 0, &info), -EINVAL);
	assert_int_equal(info.received, 0);
	assert_int_equal(fdpass_recv(sv[1], buf, 1, got, 1, 0, NULL), -EINVAL);
	assert_int_equal(fdpass_send(-1, "a", 1, NULL, 0), -EBADF);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fds_arrive, pass_setup, pass_teardown),
	    cmocka_unit_test_setup_teardown(test_surplus_closed_and_counted, pass_setup,
					    pass_teardown),
	    cmocka_unit_test(test_ctrunc_closes_everything),
	    cmocka_unit_test(test_truncated_and_eof),
	    cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
