/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-orphans.c - unit tests of gateway/files/orphans.c: the upload
 * temporaries waiting for their user. A fake clock drives expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files/orphans.h"
#include "auth/session.h"
#include "tmpname.h"

static int64_t fake_ms;

static int64_t fake_now(void)
{
	return fake_ms;
}

static struct gw_orphans *new_table(unsigned total, unsigned per_user, unsigned ttl_s)
{
	struct gw_orphans *o = NULL;

	assert_int_equal(gw_orphans_new(total, per_user, ttl_s, &o), 0);
	assert_non_null(o);
	fake_ms = 1000000;
	gw_orphans_set_clock(o, fake_now);
	return o;
}

static void add(struct gw_orphans *o, const char *user, size_t server, unsigned i,
		struct gw_orphan **dropped)
{
	char path[64];

	snprintf(path, sizeof(path), "dir/file %u.bin", i);
	assert_int_equal(gw_orphans_add(o, user, server, "public", path, tmp_name(i), 0, dropped),
			 0);
}

static unsigned list_len(const struct gw_orphan *l)
{
	unsigned n = 0;

	for (; l; l = l->next)
		n++;
	return n;
}

static void free_list(struct gw_orphan *l)
{
	while (l) {
		struct gw_orphan *next = l->next;
		gw_orphan_free(l);
		l = next;
	}
}

static void test_new_args(void **state)
{
	struct gw_orphans *o = (struct gw_orphans *)0x1;

	(void)state;
	assert_int_equal(gw_orphans_new(0, 1, 1, &o), -EINVAL);
	assert_int_equal(gw_orphans_new(1, 0, 1, &o), -EINVAL);
	assert_int_equal(gw_orphans_new(1, 1, 0, &o), -EINVAL);
	assert_int_equal(gw_orphans_new(1, 1, 1, NULL), -EINVAL);
	assert_ptr_equal(o, (struct gw_orphans *)0x1); /* untouched */
	gw_orphans_free(NULL);
	gw_orphan_free(NULL);
	assert_null(gw_orphans_take(NULL, "alice", 0));
	assert_null(gw_orphans_expire(NULL));
}

/* Entries come back to their own (user, server) only, oldest first, once. */
static void test_add_take(void **state)
{
	struct gw_orphans *o = new_table(16, 4, 60);
	struct gw_orphan *d = (struct gw_orphan *)0x1, *l;

	(void)state;
	assert_null(gw_orphans_take(o, "alice", 0));
	add(o, "alice", 0, 1, &d);
	assert_null(d);
	fake_ms += 10;
	add(o, "bob", 0, 2, &d);
	fake_ms += 10;
	add(o, "alice", 1, 3, &d); /* another server */
	fake_ms += 10;
	add(o, "alice", 0, 4, &d);
	add(o, "ALICE", 0, 5, &d); /* byte for byte: another user */
	assert_int_equal(gw_orphans_count(o), 5);

	l = gw_orphans_take(o, "alice", 0);
	assert_int_equal(list_len(l), 2);
	assert_string_equal(l->user, "alice");
	assert_int_equal(l->server, 0);
	assert_string_equal(l->share, "public");
	assert_string_equal(l->path, "dir/file 1.bin");
	assert_string_equal(l->tmp, tmp_name(1));
	assert_int_equal(l->tries, 0);
	assert_string_equal(l->next->path, "dir/file 4.bin");
	assert_int_equal(gw_orphans_count(o), 3);
	assert_null(gw_orphans_take(o, "alice", 0));
	free_list(l);

	l = gw_orphans_take(o, "alice", 1);
	assert_int_equal(list_len(l), 1);
	assert_string_equal(l->tmp, tmp_name(3));
	free_list(l);
	assert_null(gw_orphans_take(o, "bob", 1));
	assert_int_equal(gw_orphans_count(o), 2);
	gw_orphans_free(o); /* frees what is left */
}

static void test_add_invalid(void **state)
{
	struct gw_orphans *o = new_table(4, 4, 60);
	struct gw_orphan *d = (struct gw_orphan *)0x1;
	static char long_user[GW_SESSION_MAX_USER + 2], long_path[PROTO_MAX_PATH + 2];
	static char long_share[PROTO_MAX_NAME + 2];
	const char *t = tmp_name(1);

	(void)state;
	memset(long_user, 'u', GW_SESSION_MAX_USER + 1);
	memset(long_share, 's', PROTO_MAX_NAME + 1);
	memset(long_path, 'p', PROTO_MAX_PATH + 1);
	assert_int_equal(gw_orphans_add(NULL, "a", 0, "s", "p", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, NULL, 0, "s", "p", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "", 0, "s", "p", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, long_user, 0, "s", "p", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "", "p", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, long_share, "p", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "s", "", t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "s", long_path, t, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "s", "p", "p.tmp", 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "s", "p",
					".~smbgate-old-0123456789abcdef0123456789abcdef.tmp", 0,
					&d),
			 -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "s", "p", NULL, 0, &d), -EINVAL);
	assert_int_equal(gw_orphans_add(o, "a", 0, "s", "p", t, 0, NULL), -EINVAL);
	assert_ptr_equal(d, (struct gw_orphan *)0x1); /* untouched */
	assert_int_equal(gw_orphans_count(o), 0);
	/* at the caps exactly: fine */
	long_user[GW_SESSION_MAX_USER] = '\0';
	long_share[PROTO_MAX_NAME] = '\0';
	long_path[PROTO_MAX_PATH] = '\0';
	assert_int_equal(gw_orphans_add(o, long_user, 0, long_share, long_path, t, 0, &d), 0);
	assert_null(d);
	struct gw_orphan *l = gw_orphans_take(o, long_user, 0);
	assert_non_null(l);
	assert_string_equal(l->path, long_path);
	assert_string_equal(l->share, long_share);
	free_list(l);
	gw_orphans_free(o);
}

/* Past max_per_user the user's oldest goes; past max_total the oldest of all. */
static void test_limits(void **state)
{
	struct gw_orphans *o = new_table(5, 3, 60);
	struct gw_orphan *d = NULL, *l;

	(void)state;
	for (unsigned i = 1; i <= 3; i++, fake_ms++) {
		add(o, "alice", 0, i, &d);
		assert_null(d);
	}
	add(o, "alice", 0, 4, &d);
	assert_non_null(d);
	assert_string_equal(d->tmp, tmp_name(1));
	assert_null(d->next);
	gw_orphan_free(d);
	assert_int_equal(gw_orphans_count(o), 3);
	fake_ms++;
	add(o, "bob", 0, 5, &d);
	assert_null(d);
	fake_ms++;
	add(o, "carol", 0, 6, &d);
	assert_null(d);
	assert_int_equal(gw_orphans_count(o), 5);
	/* full: the oldest of all (alice's 2) makes room */
	fake_ms++;
	add(o, "dave", 0, 7, &d);
	assert_non_null(d);
	assert_string_equal(d->user, "alice");
	assert_string_equal(d->tmp, tmp_name(2));
	gw_orphan_free(d);
	assert_int_equal(gw_orphans_count(o), 5);
	l = gw_orphans_take(o, "alice", 0);
	assert_int_equal(list_len(l), 2);
	assert_string_equal(l->tmp, tmp_name(3));
	assert_string_equal(l->next->tmp, tmp_name(4));
	free_list(l);
	gw_orphans_free(o);
}

/* A taken entry handed back keeps its place in age order, and its tries. */
static void test_put_back(void **state)
{
	struct gw_orphans *o = new_table(8, 2, 60);
	struct gw_orphan *d = NULL, *l, *second;

	(void)state;
	add(o, "alice", 0, 1, &d);
	fake_ms += 5;
	add(o, "alice", 0, 2, &d);
	l = gw_orphans_take(o, "alice", 0);
	assert_int_equal(list_len(l), 2);
	second = l->next;
	l->next = NULL;
	second->tries = 2;
	gw_orphans_put_back(o, second, &d);
	assert_null(d);
	l->tries = 1;
	gw_orphans_put_back(o, l, &d);
	assert_null(d);
	l = gw_orphans_take(o, "alice", 0);
	assert_int_equal(list_len(l), 2);
	assert_string_equal(l->tmp, tmp_name(1));
	assert_int_equal(l->tries, 1);
	assert_string_equal(l->next->tmp, tmp_name(2));
	assert_int_equal(l->next->tries, 2);
	/* meanwhile alice got two new ones: handing back an older one drops it */
	second = l->next;
	l->next = NULL;
	fake_ms += 5;
	add(o, "alice", 0, 3, &d);
	add(o, "alice", 0, 4, &d);
	assert_null(d);
	gw_orphans_put_back(o, l, &d);
	assert_ptr_equal(d, l);
	gw_orphan_free(d);
	gw_orphan_free(second);
	assert_int_equal(gw_orphans_count(o), 2);
	gw_orphans_free(o);
}

/* Entries older than ttl are not handed out; expire() returns them. */
static void test_expiry(void **state)
{
	struct gw_orphans *o = new_table(8, 8, 10);
	struct gw_orphan *d = NULL, *l;

	(void)state;
	add(o, "alice", 0, 1, &d);
	fake_ms += 6000;
	add(o, "alice", 0, 2, &d);
	add(o, "bob", 0, 3, &d);
	assert_null(gw_orphans_expire(o));
	fake_ms += 4000; /* the first is 10 s old */
	l = gw_orphans_take(o, "alice", 0);
	assert_int_equal(list_len(l), 1);
	assert_string_equal(l->tmp, tmp_name(2));
	free_list(l);
	assert_int_equal(gw_orphans_count(o), 2);
	l = gw_orphans_expire(o);
	assert_int_equal(list_len(l), 1);
	assert_string_equal(l->tmp, tmp_name(1));
	free_list(l);
	assert_int_equal(gw_orphans_count(o), 1);
	fake_ms += 6000;
	l = gw_orphans_expire(o);
	assert_int_equal(list_len(l), 1);
	assert_string_equal(l->user, "bob");
	free_list(l);
	assert_int_equal(gw_orphans_count(o), 0);
	gw_orphans_free(o);
}

static void test_take_all(void **state)
{
	struct gw_orphans *o = new_table(8, 8, 10);
	struct gw_orphan *d = NULL, *l;

	(void)state;
	assert_null(gw_orphans_take_all(o));
	add(o, "alice", 0, 1, &d);
	add(o, "bob", 2, 2, &d);
	l = gw_orphans_take_all(o);
	assert_int_equal(list_len(l), 2);
	assert_int_equal(gw_orphans_count(o), 0);
	free_list(l);
	gw_orphans_free(o);
}

/* Many threads adding and taking: the count stays within the limits and
 * every entry is either taken or still there. */
struct worker_arg {
	struct gw_orphans *o;
	unsigned id, added, dropped, taken;
};

static void *hammer(void *p)
{
	struct worker_arg *a = p;
	char user[16];

	snprintf(user, sizeof(user), "user%u", a->id % 3);
	for (unsigned i = 0; i < 2000; i++) {
		struct gw_orphan *d = NULL;
		char path[32], tmp[PROTO_TMP_NAME_LEN + 1];
		snprintf(path, sizeof(path), "f%u", i);
		snprintf(tmp, sizeof(tmp), PROTO_TMP_PREFIX "%032x.tmp", a->id * 100000 + i);
		if (gw_orphans_add(a->o, user, 0, "s", path, tmp, 0, &d) == 0)
			a->added++;
		a->dropped += list_len(d);
		free_list(d);
		if (i % 7 == 0) {
			struct gw_orphan *l = gw_orphans_take(a->o, user, 0);
			a->taken += list_len(l);
			free_list(l);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct gw_orphans *o;
	struct worker_arg args[6];
	pthread_t t[6];
	unsigned added = 0, gone = 0;

	(void)state;
	assert_int_equal(gw_orphans_new(20, 8, 3600, &o), 0);
	for (unsigned i = 0; i < 6; i++) {
		args[i] = (struct worker_arg){.o = o, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
	}
	for (unsigned i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		added += args[i].added;
		gone += args[i].dropped + args[i].taken;
	}
	assert_true(gw_orphans_count(o) <= 20);
	assert_int_equal(added, gone + gw_orphans_count(o));
	gw_orphans_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_args),	cmocka_unit_test(test_add_take),
	    cmocka_unit_test(test_add_invalid), cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_put_back),	cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_take_all),	cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("orphans", tests, NULL, NULL);
}
