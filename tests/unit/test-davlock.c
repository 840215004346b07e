/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-davlock.c - unit tests of gateway/davlock.c: the WebDAV
 * lock table (conflicts, depth, owners, tokens, timeouts, refresh, unlock,
 * removal of a tree) and the If header's parser. The clock is the test's.
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

#include "davlock.h"

static int setup(void **state)
{
	struct davlock_table *t;
	assert_int_equal(davlock_new(&t), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	davlock_free(*state);
	return 0;
}

static void test_token_format(void **state)
{
	char a[DAVLOCK_TOKEN_LEN + 1], b[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(*state, "s/sh/a", true, false, 60, "alice", NULL, 100, a), 0);
	assert_int_equal(davlock_lock(*state, "s/sh/b", true, false, 60, "alice", NULL, 100, b), 0);
	assert_int_equal(strlen(a), DAVLOCK_TOKEN_LEN);
	assert_memory_equal(a, "opaquelocktoken:", 16);
	assert_int_equal(a[16 + 8], '-');
	assert_int_equal(a[16 + 14], '4'); /* UUID version 4 */
	assert_string_not_equal(a, b);
}

static void test_exclusive_conflicts(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1], other[DAVLOCK_TOKEN_LEN + 1] = "unchanged";

	assert_int_equal(
	    davlock_lock(t, "s/sh/f", true, false, 60, "alice", "<D:href>a</D:href>", 0, tok), 0);
	/* Any other lock on it, exclusive or shared, by anybody: refused. */
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "bob", NULL, 1, other), -EBUSY);
	assert_int_equal(davlock_lock(t, "s/sh/f", false, false, 60, "alice", NULL, 1, other),
			 -EBUSY);
	assert_string_equal(other, "unchanged");
	/* A sibling and a depth-0 lock's children are free. */
	assert_int_equal(davlock_lock(t, "s/sh/f2", true, false, 60, "bob", NULL, 1, other), 0);
	/* A depth-infinity lock on the parent would cover f: refused. */
	assert_int_equal(davlock_lock(t, "s/sh", true, true, 60, "bob", NULL, 1, other), -EBUSY);
	/* A depth-0 lock on the parent does not cover f. */
	assert_int_equal(davlock_lock(t, "s/sh", true, false, 60, "bob", NULL, 1, other), 0);
}

static void test_shared(void **state)
{
	struct davlock_table *t = *state;
	char a[DAVLOCK_TOKEN_LEN + 1], b[DAVLOCK_TOKEN_LEN + 1], x[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(t, "s/sh/f", false, false, 60, "alice", NULL, 0, a), 0);
	assert_int_equal(davlock_lock(t, "s/sh/f", false, false, 60, "bob", NULL, 0, b), 0);
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "carol", NULL, 0, x), -EBUSY);
	/* Each holder writes with its own token; nobody without one, nobody
	 * with another user's. */
	const char *ta[] = {a}, *tb[] = {b};
	assert_int_equal(davlock_check(t, "s/sh/f", false, ta, 1, "alice", 1, NULL), 0);
	assert_int_equal(davlock_check(t, "s/sh/f", false, tb, 1, "bob", 1, NULL), 0);
	assert_int_equal(davlock_check(t, "s/sh/f", false, tb, 1, "alice", 1, NULL), -EBUSY);
	assert_int_equal(davlock_check(t, "s/sh/f", false, NULL, 0, "alice", 1, NULL), -EBUSY);
	assert_int_equal(davlock_check(t, "s/sh/f", false, ta, 1, "carol", 1, NULL), -EBUSY);
	assert_int_equal(davlock_unlock(t, "s/sh/f", b, "bob", 2), 0);
	assert_int_equal(davlock_check(t, "s/sh/f", false, tb, 1, "bob", 2, NULL), -EBUSY);
}

static void test_depth_infinity_covers(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1], x[DAVLOCK_TOKEN_LEN + 1];
	char *key = NULL;

	assert_int_equal(davlock_lock(t, "s/sh/dir", true, true, 60, "alice", NULL, 0, tok), 0);
	assert_true(davlock_covers(t, "s/sh/dir/a/b", tok, 1));
	assert_false(davlock_covers(t, "s/sh/dirx", tok, 1));
	assert_false(davlock_covers(t, "s/sh", tok, 1));
	/* A new lock below is refused; one on the parent with depth infinity too. */
	assert_int_equal(davlock_lock(t, "s/sh/dir/a", false, false, 60, "alice", NULL, 1, x),
			 -EBUSY);
	assert_int_equal(davlock_lock(t, "s/sh", true, true, 60, "bob", NULL, 1, x), -EBUSY);
	/* Writes below need the token, from its owner. */
	const char *toks[] = {tok};
	assert_int_equal(davlock_check(t, "s/sh/dir/new.txt", false, NULL, 0, "alice", 1, &key),
			 -EBUSY);
	assert_string_equal(key, "s/sh/dir");
	free(key);
	assert_int_equal(davlock_check(t, "s/sh/dir/new.txt", false, toks, 1, "alice", 1, NULL), 0);
	assert_int_equal(davlock_check(t, "s/sh/dir/new.txt", false, toks, 1, "bob", 1, NULL),
			 -EBUSY);
	/* Deleting the parent (a tree) meets the lock below it. */
	assert_int_equal(davlock_check(t, "s/sh", false, NULL, 0, "bob", 1, NULL), 0);
	assert_int_equal(davlock_check(t, "s/sh", true, NULL, 0, "bob", 1, NULL), -EBUSY);
}

static void test_timeout_refresh(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1], x[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 10, "alice", NULL, 1000, tok), 0);
	assert_true(davlock_covers(t, "s/sh/f", tok, 1009));
	/* Refresh: another user may not; the owner gets a new timeout. */
	assert_int_equal(davlock_refresh(t, "s/sh/f", tok, "bob", 10, 1009), -EPERM);
	assert_int_equal(davlock_refresh(t, "s/sh/f", "opaquelocktoken:x", "alice", 10, 1009),
			 -ENOENT);
	assert_int_equal(davlock_refresh(t, "s/sh/f", tok, "alice", 10, 1009), 0);
	assert_true(davlock_covers(t, "s/sh/f", tok, 1018));
	assert_false(davlock_covers(t, "s/sh/f", tok, 1019));
	/* Expired: free for anybody, the old token is dead. */
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 10, "bob", NULL, 1019, x), 0);
	assert_int_equal(davlock_unlock(t, "s/sh/f", tok, "alice", 1019), -ENOENT);
}

static void timeout_of(void *ud, const struct davlock_info *i)
{
	*(unsigned *)ud = i->timeout;
}

static void test_timeout_clamped(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1];
	unsigned seen = 0;

	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 0, "alice", NULL, 0, tok), 0);
	assert_int_equal(davlock_each(t, "s/sh/f", 0, timeout_of, &seen), 1);
	assert_int_equal(seen, DAVLOCK_MAX_TIMEOUT);
	assert_true(davlock_covers(t, "s/sh/f", tok, DAVLOCK_MAX_TIMEOUT - 1));
	assert_false(davlock_covers(t, "s/sh/f", tok, DAVLOCK_MAX_TIMEOUT));
}

static void test_unlock_owner(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(t, "s/sh/d", true, true, 60, "alice", NULL, 0, tok), 0);
	assert_int_equal(davlock_unlock(t, "s/sh/d", tok, "bob", 1), -EPERM);
	assert_int_equal(davlock_unlock(t, "s/sh/other", tok, "alice", 1), -ENOENT);
	/* Unlocking through a resource the lock covers is allowed (RFC 4918 9.11). */
	assert_int_equal(davlock_unlock(t, "s/sh/d/x", tok, "alice", 1), 0);
	assert_int_equal(davlock_unlock(t, "s/sh/d", tok, "alice", 1), -ENOENT);
}

static void test_drop_tree(void **state)
{
	struct davlock_table *t = *state;
	char a[DAVLOCK_TOKEN_LEN + 1], b[DAVLOCK_TOKEN_LEN + 1], c[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(t, "s/sh/d/a", true, false, 60, "alice", NULL, 0, a), 0);
	assert_int_equal(davlock_lock(t, "s/sh/d", false, false, 60, "alice", NULL, 0, b), 0);
	assert_int_equal(davlock_lock(t, "s/sh/dd", true, false, 60, "alice", NULL, 0, c), 0);
	davlock_drop_tree(t, "s/sh/d", 1);
	assert_false(davlock_covers(t, "s/sh/d/a", a, 1));
	assert_false(davlock_covers(t, "s/sh/d", b, 1));
	assert_true(davlock_covers(t, "s/sh/dd", c, 1));
}

static void test_limit(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1], key[32];

	for (int i = 0; i < DAVLOCK_MAX; i++) {
		snprintf(key, sizeof(key), "s/sh/%d", i);
		assert_int_equal(davlock_lock(t, key, true, false, 10, "u", NULL, 0, tok), 0);
	}
	assert_int_equal(davlock_lock(t, "s/sh/x", true, false, 10, "u", NULL, 0, tok), -ENOSPC);
	/* Expired locks make room. */
	assert_int_equal(davlock_lock(t, "s/sh/x", true, false, 10, "u", NULL, 10, tok), 0);
}

/* ---- the If header ---- */

static void test_if_parse(void **state)
{
	struct davlock_if h;
	(void)state;

	assert_int_equal(davlock_if_parse("(<opaquelocktoken:a> [\"e1\"]) (Not <DAV:no-lock>)", &h),
			 0);
	assert_int_equal(h.n, 2);
	assert_null(h.lists[0].resource);
	assert_int_equal(h.lists[0].n, 2);
	assert_false(h.lists[0].c[0].etag);
	assert_string_equal(h.lists[0].c[0].value, "opaquelocktoken:a");
	assert_true(h.lists[0].c[1].etag);
	assert_string_equal(h.lists[0].c[1].value, "\"e1\"");
	assert_true(h.lists[1].c[0].not );
	assert_string_equal(h.lists[1].c[0].value, "DAV:no-lock");
	davlock_if_clear(&h);

	assert_int_equal(davlock_if_parse("<http://h/dav/s/sh/a> (<t1>)  <http://h/dav/s/sh/b> "
					  "(Not [W/\"x\"]) (<t2>)",
					  &h),
			 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.lists[0].resource, "http://h/dav/s/sh/a");
	assert_string_equal(h.lists[1].resource, "http://h/dav/s/sh/b");
	assert_string_equal(h.lists[2].resource, "http://h/dav/s/sh/b");
	assert_string_equal(h.lists[1].c[0].value, "W/\"x\"");
	davlock_if_clear(&h);

	static const char *const bad[] = {
	    "",	    "   ",  "()",  "(",	      "(<a>",  "<http://x>", "<http://x> <y> (<a>)",
	    "(<>)", "([])", "(a)", "(<a b>)", "(Not)", "x (<a>)",    "(<a>) junk",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct davlock_if u = {.n = 77};
		assert_int_equal(davlock_if_parse(bad[i], &u), -EINVAL);
		assert_int_equal(u.n, 77); /* untouched */
	}
	/* Too many conditions. */
	char big[DAVLOCK_IF_MAX * 8 + 16] = "(";
	for (int i = 0; i <= DAVLOCK_IF_MAX; i++)
		strcat(big, "<t> ");
	strcat(big, ")");
	assert_int_equal(davlock_if_parse(big, &h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_token_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exclusive_conflicts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_depth_infinity_covers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_clamped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unlock_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
	    cmocka_unit_test(test_if_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
