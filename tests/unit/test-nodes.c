/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests of sandbox/fuse/nodes.c, the FUSE server's inode table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "nodes.h"

#define BUF 256

/* "share|path" of @ino, or "-ERRNO". */
static const char *path_of(struct nodes *t, uint64_t ino)
{
	static char out[BUF + 8];
	char buf[BUF];
	const char *share, *path;
	int r = nodes_path(t, ino, buf, sizeof(buf), &share, &path);

	if (r)
		snprintf(out, sizeof(out), "%d", r);
	else
		snprintf(out, sizeof(out), "%s|%s", share ? share : "(root)", path);
	return out;
}

static uint64_t look(struct nodes *t, uint64_t parent, const char *name)
{
	uint64_t ino = 0;

	assert_int_equal(nodes_lookup(t, parent, name, &ino), 0);
	assert_true(ino > NODES_ROOT);
	return ino;
}

static void test_paths(void **state)
{
	struct nodes *t = nodes_new(100);
	(void)state;

	assert_string_equal(path_of(t, NODES_ROOT), "(root)|");
	uint64_t share = look(t, NODES_ROOT, "public");
	uint64_t dir = look(t, share, "Dossier été");
	uint64_t file = look(t, dir, "note.txt");
	assert_string_equal(path_of(t, share), "public|");
	assert_string_equal(path_of(t, dir), "public|Dossier été");
	assert_string_equal(path_of(t, file), "public|Dossier été/note.txt");
	assert_int_equal(nodes_parent(t, file), dir);
	assert_int_equal(nodes_parent(t, share), NODES_ROOT);
	assert_int_equal(nodes_parent(t, NODES_ROOT), 0);
	/* The same name again: the same inode, one more lookup. */
	assert_int_equal(look(t, dir, "note.txt"), file);
	assert_int_equal(nodes_count(t), 3);
	assert_string_equal(path_of(t, 999), "-2");
	/* Too small a buffer: -ENAMETOOLONG, nothing else. */
	char small[8];
	const char *s = "x", *p = "y";
	assert_int_equal(nodes_path(t, file, small, sizeof(small), &s, &p), -ENAMETOOLONG);
	assert_string_equal(s, "x");
	nodes_free(t);
}

static void test_forget_frees_up_the_chain(void **state)
{
	struct nodes *t = nodes_new(100);
	(void)state;

	uint64_t share = look(t, NODES_ROOT, "s");
	uint64_t a = look(t, share, "a");
	uint64_t b = look(t, a, "b");
	/* The kernel forgets the parents first: the child keeps them. */
	nodes_forget(t, share, 1);
	nodes_forget(t, a, 1);
	assert_int_equal(nodes_count(t), 3);
	assert_string_equal(path_of(t, b), "s|a/b");
	nodes_forget(t, b, 5); /* more than it had: none left */
	assert_int_equal(nodes_count(t), 0);
	assert_string_equal(path_of(t, a), "-2");
	/* Numbers are never reused. */
	assert_true(look(t, NODES_ROOT, "s") > b);
	nodes_forget(t, NODES_ROOT, 1); /* ignored */
	nodes_forget(t, 12345, 1);	/* ignored */
	nodes_free(t);
}

static void test_rename_moves_children(void **state)
{
	struct nodes *t = nodes_new(100);
	(void)state;

	uint64_t share = look(t, NODES_ROOT, "s");
	uint64_t d1 = look(t, share, "d1");
	uint64_t d2 = look(t, share, "d2");
	uint64_t f = look(t, d1, "f");
	uint64_t victim = look(t, d2, "g");
	assert_int_equal(nodes_rename(t, share, "d1", d2, "moved"), 0);
	assert_string_equal(path_of(t, d1), "s|d2/moved");
	assert_string_equal(path_of(t, f), "s|d2/moved/f");
	/* Over an existing name: that node is detached, still known, no path. */
	assert_int_equal(nodes_rename(t, d1, "f", d2, "g"), 0);
	assert_string_equal(path_of(t, f), "s|d2/g");
	assert_string_equal(path_of(t, victim), "-2");
	uint64_t again = look(t, d2, "g");
	assert_int_equal(again, f);
	/* Not held: nothing to move. */
	assert_int_equal(nodes_rename(t, share, "nothing", share, "else"), 0);
	nodes_forget(t, victim, 1);
	assert_int_equal(nodes_count(t), 4);
	nodes_free(t);
}

static void test_detach(void **state)
{
	struct nodes *t = nodes_new(100);
	(void)state;

	uint64_t share = look(t, NODES_ROOT, "s");
	uint64_t d = look(t, share, "d");
	uint64_t f = look(t, d, "f");
	nodes_detach(t, share, "d");
	assert_string_equal(path_of(t, d), "-2");
	assert_string_equal(path_of(t, f), "-2"); /* below a detached node */
	uint64_t x = 0;
	assert_int_equal(nodes_lookup(t, d, "new", &x), -ENOENT);
	assert_int_equal(x, 0);
	uint64_t d2 = look(t, share, "d"); /* a new directory of that name */
	assert_true(d2 != d);
	nodes_forget(t, f, 1);
	nodes_forget(t, d, 1);
	assert_int_equal(nodes_count(t), 2);
	nodes_detach(t, share, "absent"); /* nothing */
	nodes_free(t);
}

static void test_limit(void **state)
{
	struct nodes *t = nodes_new(3);
	uint64_t ino = 7;
	(void)state;

	uint64_t share = look(t, NODES_ROOT, "s");
	look(t, share, "a");
	look(t, share, "b");
	assert_int_equal(nodes_lookup(t, share, "c", &ino), -ENOMEM);
	assert_int_equal(ino, 7);
	/* A name it holds is still found. */
	look(t, share, "a");
	nodes_free(t);
}

static void test_many(void **state)
{
	struct nodes *t = nodes_new(100000);
	char name[32];
	(void)state;

	uint64_t share = look(t, NODES_ROOT, "s");
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		assert_int_equal(look(t, share, name), share + 1 + (uint64_t)i);
	}
	snprintf(name, sizeof(name), "f%05d", 12345);
	assert_int_equal(look(t, share, name), share + 1 + 12345);
	assert_string_equal(path_of(t, share + 1 + 19999), "s|f19999");
	for (int i = 0; i < 20000; i++)
		nodes_forget(t, share + 1 + (uint64_t)i, i == 12345 ? 2 : 1);
	assert_int_equal(nodes_count(t), 1);
	nodes_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_forget_frees_up_the_chain),
	    cmocka_unit_test(test_rename_moves_children),
	    cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
