/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-tus.c - unit tests of gateway/files/uploads.c: who may take a busy
 * resumable upload over, and what the others are told. A fake clock drives
 * the writer's stall; a socketpair stands for the writer's connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "files/uploads.h"

static int64_t fake_ms;

static int64_t fake_now(void)
{
	return fake_ms;
}

static const char TMP[] = PROTO_TMP_PREFIX "0123456789abcdef0123456789abcdef.tmp";

/* Each test's state: a table with one upload of alice on server 0 (@id),
 * taken by a writer of session 7 waiting for its client on sv[0] since
 * fake_ms 1000; @u and @retry for the test's gw_tus_acquire_as() calls. */
struct fixture {
	char id[GW_TUS_ID_LEN + 1];
	int sv[2];
	struct gw_tus *t;
	struct gw_tus_upload *u;
	unsigned retry;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gw_tus_upload *u = NULL;

	assert_non_null(f);
	assert_true(proto_tmp_name_valid(TMP));
	assert_int_equal(gw_tus_new(8, 4, 3600, &f->t), 0);
	gw_tus_set_clock(f->t, fake_now);
	fake_ms = 1000;
	assert_int_equal(
	    gw_tus_add(f->t, "alice", 0, "public", "big.bin", TMP, 0, 100, 0, "", f->id), 0);
	assert_int_equal(gw_tus_acquire(f->t, f->id, "alice", 0, &u), 0);
	free(u);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv), 0);
	gw_tus_writer(f->t, f->id, 7, f->sv[0]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->sv[0]);
	close(f->sv[1]);
	gw_tus_free(f->t);
	free(f);
	return 0;
}

/* Whether the writer's connection was shut down (its peer reads EOF). */
static bool shut(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	return poll(&p, 1, 0) == 1 && read(fd, &c, 1) == 0;
}

static void test_not_stalled_waits(void **state)
{
	struct fixture *f = *state;

	fake_ms = 1000 + GW_TUS_STALL_MS - 1001; /* 1.999 s idle: 2 s to go, rounded up */
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 0, 7, &f->u, &f->retry), -EBUSY);
	assert_int_equal(f->retry, 2);
	assert_null(f->u);
	assert_false(shut(f->sv[1]));
}

static void test_others_never_take_over(void **state)
{
	struct fixture *f = *state;

	fake_ms = 1000 + 10 * GW_TUS_STALL_MS; /* long stalled */
	/* another session of the same user */
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 0, 8, &f->u, &f->retry), -EBUSY);
	assert_int_equal(f->retry, GW_TUS_RETRY_AFTER);
	/* no session (creation's own acquire) */
	f->retry = 0;
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 0, 0, &f->u, &f->retry), -EBUSY);
	assert_int_equal(f->retry, GW_TUS_RETRY_AFTER);
	/* another user, even with the writer's session number: no such upload */
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "bob", 0, 7, &f->u, &f->retry), -ENOENT);
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 1, 7, &f->u, &f->retry), -ENOENT);
	assert_null(f->u);
	assert_false(shut(f->sv[1]));
}

static void test_busy_in_gateway_waits(void **state)
{
	struct fixture *f = *state;

	gw_tus_writer(f->t, f->id, 7, -1); /* writing to the worker, not waiting for its client */
	fake_ms += 10 * GW_TUS_STALL_MS;
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 0, 7, &f->u, &f->retry), -EBUSY);
	assert_int_equal(f->retry, GW_TUS_RETRY_AFTER);
	assert_false(shut(f->sv[1]));
}

struct writer {
	struct gw_tus *t;
	const char *id;
	int peer;
	bool saw_shutdown;
};

/* The stalled writer's thread: sees its connection shut down, then gives
 * the upload back with what came (offset 42). */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char c;

	w->saw_shutdown = read(w->peer, &c, 1) == 0;
	gw_tus_release(w->t, w->id, 42, true, false);
	return NULL;
}

static void test_owner_takes_over_stalled(void **state)
{
	struct fixture *f = *state;
	pthread_t th;
	struct writer w = {.t = f->t, .id = f->id, .peer = f->sv[1]};

	f->retry = 99;
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	fake_ms = 1000 + GW_TUS_STALL_MS;
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 0, 7, &f->u, &f->retry), 0);
	pthread_join(th, NULL);
	assert_true(w.saw_shutdown);
	assert_non_null(f->u);
	assert_int_equal(f->u->offset, 42);
	assert_int_equal(f->retry, 99); /* untouched on success */
	free(f->u);
	/* Now taken by the new request: busy for anyone else. */
	assert_int_equal(gw_tus_acquire_as(f->t, f->id, "alice", 0, 8, &f->u, &f->retry), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_not_stalled_waits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_others_never_take_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_in_gateway_waits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_takes_over_stalled, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
