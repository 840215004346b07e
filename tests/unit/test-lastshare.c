/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-lastshare.c - gateway/auth/lastshare.c (and keyhash.c): the
 * share each login name last worked in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/keyhash.h"
#include "auth/lastshare.h"

static char out[PROTO_MAX_NAME + 1];

static const char *get(size_t server, const char *login)
{
	memset(out, 'x', sizeof(out));
	gw_lastshare_get(server, login, out);
	return out;
}

static void test_set_get(void **state)
{
	(void)state;
	assert_string_equal(get(0, "alice"), "");
	gw_lastshare_set(0, "alice", "public");
	assert_string_equal(get(0, "alice"), "public");
	/* per server and per login name, byte for byte */
	assert_string_equal(get(1, "alice"), "");
	assert_string_equal(get(0, "Alice"), "");
	assert_string_equal(get(0, "bob"), "");
	gw_lastshare_set(0, "bob", "Données");
	assert_string_equal(get(0, "bob"), "Données");
	assert_string_equal(get(0, "alice"), "public");
	/* the last one counts */
	gw_lastshare_set(0, "alice", "readonly");
	assert_string_equal(get(0, "alice"), "readonly");
	/* "" forgets; another name's entry is not touched by it */
	gw_lastshare_set(0, "alice", "");
	assert_string_equal(get(0, "alice"), "");
	assert_string_equal(get(0, "bob"), "Données");
	gw_lastshare_set(0, "carol", "");
	assert_string_equal(get(0, "bob"), "Données");
}

static void test_limits(void **state)
{
	char longest[PROTO_MAX_NAME + 1], over[PROTO_MAX_NAME + 2];
	(void)state;
	memset(longest, 's', PROTO_MAX_NAME);
	longest[PROTO_MAX_NAME] = '\0';
	memset(over, 's', PROTO_MAX_NAME + 1);
	over[PROTO_MAX_NAME + 1] = '\0';
	gw_lastshare_set(2, "dave", longest);
	assert_string_equal(get(2, "dave"), longest);
	gw_lastshare_set(2, "dave", over); /* too long: forgotten, never cut */
	assert_string_equal(get(2, "dave"), "");
}

/* A home share, named as the user part of the login name: kept as a mark,
 * given back as that user part. */
static void test_home_share(void **state)
{
	(void)state;
	gw_lastshare_set(3, "erin", "Erin");
	assert_string_equal(get(3, "erin"), "erin");
	gw_lastshare_set(3, "CORP\\frank", "frank");
	assert_string_equal(get(3, "CORP\\frank"), "frank");
	assert_string_equal(get(3, "frank"), ""); /* another login name */
	gw_lastshare_set(3, "CORP\\frank", "CORP");
	assert_string_equal(get(3, "CORP\\frank"), "CORP");
}

/* The table holds no login name: what the table's memory can show. */
static void test_keys(void **state)
{
	(void)state;
	uint64_t a = gw_keyhash('h', "alice", "", 0);
	assert_true(a != 0);
	assert_true(a == gw_keyhash('h', "alice", "", 0));
	assert_true(a != gw_keyhash('h', "alice", "", 1));
	assert_true(a != gw_keyhash('u', "alice", "", 0));
	/* the separator: ("ab", "c") and ("a", "bc") differ */
	assert_true(gw_keyhash('k', "ab", "c", 0) != gw_keyhash('k', "a", "bc", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_get),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_home_share),
	    cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
