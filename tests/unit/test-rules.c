/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests of sandbox/worker/rules.c: when a folder is a link the server
 * followed, and which names may be a server's short (8.3) names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

/* The twins of @n ids given inline. */
static struct twins twins_of(size_t n, const ino_t *given)
{
	ino_t *ids = NULL;
	size_t k = 0, cap = 0;
	struct twins t;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(rules_ids_push(&ids, &k, &cap, given[i]), 0);
	assert_int_equal(k, n);
	rules_twins_make(ids, k, &t);
	return t;
}

static void test_twins(void **state)
{
	(void)state;
	/* none, one, all distinct: no twins */
	struct twins t = twins_of(0, NULL);
	assert_int_equal(t.n, 0);
	assert_false(rules_twins_has(&t, 0));
	rules_twins_clear(&t);
	t = twins_of(1, (ino_t[]){7});
	assert_int_equal(t.n, 0);
	assert_false(rules_twins_has(&t, 7));
	rules_twins_clear(&t);
	t = twins_of(4, (ino_t[]){4, 3, 2, 1});
	assert_int_equal(t.n, 0);
	rules_twins_clear(&t);
	/* a link beside its target; "." (the folder listed) and ".." with them */
	t = twins_of(5, (ino_t[]){10, 20, 30, 20, 11});
	assert_int_equal(t.n, 1);
	assert_true(rules_twins_has(&t, 20));
	assert_false(rules_twins_has(&t, 10));
	assert_false(rules_twins_has(&t, 30));
	rules_twins_clear(&t);
	/* three names for one folder, two pairs, a link to the folder itself (".") */
	t = twins_of(9, (ino_t[]){5, 9, 5, 1, 9, 5, 2, 1, 8});
	assert_int_equal(t.n, 3);
	assert_true(t.ids[0] == 1 && t.ids[1] == 5 && t.ids[2] == 9);
	for (ino_t i = 0; i < 12; i++)
		assert_int_equal(rules_twins_has(&t, i), i == 1 || i == 5 || i == 9);
	rules_twins_clear(&t);
	assert_null(t.ids);
	assert_int_equal(t.n, 0);
	/* many: every id twice but one */
	ino_t many[2001];
	for (size_t i = 0; i < 2000; i++)
		many[i] = (ino_t)(i / 2 * 7919 % 100003);
	many[2000] = 100004;
	t = twins_of(2001, many);
	assert_int_equal(t.n, 1000);
	for (size_t i = 0; i < 2000; i++)
		assert_true(rules_twins_has(&t, many[i]));
	assert_false(rules_twins_has(&t, 100004));
	rules_twins_clear(&t);
}

static struct dir_id id(ino_t ino, time_t m, long mn, time_t c, long cn)
{
	return (struct dir_id){.have = true,
			       .ino = ino,
			       .mtime = {.tv_sec = m, .tv_nsec = mn},
			       .ctime = {.tv_sec = c, .tv_nsec = cn}};
}

static void test_inside(void **state)
{
	struct dir_id parent = id(100, 5, 100, 6, 200), none = {0};
	(void)state;

	/* a real folder: "." is its entry's id, ".." its parent's */
	struct dir_id self = id(200, 1, 0, 1, 0), up = id(100, 5, 100, 6, 200);
	assert_true(rules_inside(&parent, 200, false, &self, &up));
	/* a link to a folder elsewhere: ".." is that folder's parent */
	struct dir_id elsewhere = id(999, 5, 100, 6, 200);
	assert_false(rules_inside(&parent, 200, false, &self, &elsewhere));
	/* a link beside its target: ".." is right, the id is another entry's too */
	assert_false(rules_inside(&parent, 200, true, &self, &up));
	/* nothing known of the parent, or no ".." in the listing */
	assert_false(rules_inside(&none, 200, false, &self, &up));
	assert_false(rules_inside(&parent, 200, false, &self, &none));
	/* no file ids from the server ("." differs from the entry's made-up id):
	 * ".." must have the parent's times, to the 100 ns; twins say nothing */
	assert_true(rules_inside(&parent, 201, false, &self, &up));
	assert_true(rules_inside(&parent, 201, true, &self, &up));
	struct dir_id late = id(100, 5, 200, 6, 200);
	assert_false(rules_inside(&parent, 201, false, &self, &late));
	struct dir_id changed = id(100, 5, 100, 7, 200);
	assert_false(rules_inside(&parent, 201, false, &self, &changed));
	/* no "." either: times */
	assert_true(rules_inside(&parent, 200, false, &none, &up));
	assert_false(rules_inside(&parent, 200, false, &none, &late));
}

static void test_short_name_like(void **state)
{
	static const char *const yes[] = {
	    "_8X08E~E.TMP", "_iuugf~5.tmp", "PROGRA~1",	    "PROGRA~1.", "A~B.C", "~",
	    "~1.TXT",	    "ABCDEF~1.TX",  "QYKMQW~R.TXT",
	};
	static const char *const no[] = {
	    "hello.txt",	   /* no '~' */
	    "~$report.docx",	   /* a 4-byte extension */
	    "ABCDEFGH~.TXT",	   /* 9 bytes before the dot */
	    "A~B.C.D",		   /* two dots */
	    "A.~B",		   /* the '~' after the dot */
	    ".~smbgate-new-0.tmp", /* nothing before the dot */
	    "",
	    "verylong~name",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!rules_short_name_like(yes[i]))
			fail_msg("%s: not taken for a short name", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (rules_short_name_like(no[i]))
			fail_msg("%s: taken for a short name", no[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_twins),
	    cmocka_unit_test(test_inside),
	    cmocka_unit_test(test_short_name_like),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
