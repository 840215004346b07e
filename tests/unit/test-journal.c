/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-journal.c - the journal of upload temporaries
 * (gateway/files/journal.c): what a run leaves is handed back at the next start,
 * crossed-out entries are not, bad lines are left out and counted, a second
 * gateway cannot share the file, and the file stays small.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "files/journal.h"
#include "proto.h"
#include "tmpname.h"

static char dir[] = "/tmp/test-journal-XXXXXX";
static char path[sizeof(dir) + 32];

struct seen {
	unsigned n;
	uint64_t ids[16];
	char paths[16][64];
	char users[16][64];
	bool aside[16];
	struct gw_journal **j; /* when set, each entry is crossed out */
};

static void collect(void *arg, const struct gw_journal_entry *e)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	assert_string_equal(e->server, "demo");
	assert_string_equal(e->share, "public");
	assert_true(proto_tmp_name_valid(e->tmp));
	s->ids[s->n] = e->id;
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", e->path);
	snprintf(s->users[s->n], sizeof(s->users[0]), "%s", e->user);
	s->aside[s->n] = e->aside;
	s->n++;
	if (s->j)
		gw_journal_end(*s->j, e->id);
}

static struct gw_journal *open_ok(struct seen *s, unsigned *bad)
{
	struct gw_journal *j = NULL;

	if (s)
		s->j = s->j ? &j : NULL;
	assert_int_equal(gw_journal_open(path, s ? collect : NULL, s, bad, &j), 0);
	assert_non_null(j);
	return j;
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/uploads.journal", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_leftovers_come_back(void **state)
{
	(void)state;
	unlink(path);
	struct gw_journal *j = open_ok(NULL, NULL);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	uint64_t a = gw_journal_begin(j, "alice", "demo", "public", "a.bin", tmp_name(1));
	uint64_t b =
	    gw_journal_begin(j, "ACME\\bob", "demo", "public", "dir/\n\"b\".bin", tmp_name(2));
	uint64_t c = gw_journal_begin(j, "alice", "demo", "public", "c.bin", tmp_name(3));
	assert_true(a > 0 && b > a && c > b);
	gw_journal_end(j, b);
	gw_journal_end(j, b); /* twice: nothing more */
	gw_journal_end(j, 0);
	assert_int_equal(gw_journal_live(j), 2);
	gw_journal_close(j); /* as a gateway that stops; a SIGKILL leaves the same file */

	struct seen s = {0};
	unsigned bad = 99;
	j = open_ok(&s, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(s.n, 2);
	assert_true((s.ids[0] == a && s.ids[1] == c) || (s.ids[0] == c && s.ids[1] == a));
	assert_string_equal(s.paths[s.ids[0] == a ? 0 : 1], "a.bin");
	assert_string_equal(s.users[0], "alice");
	assert_int_equal(gw_journal_live(j), 2);
	/* new ids never reuse an old one */
	uint64_t d = gw_journal_begin(j, "alice", "demo", "public", "d.bin", tmp_name(4));
	assert_true(d > c);
	gw_journal_end(j, a);
	gw_journal_end(j, c);
	gw_journal_end(j, d);
	gw_journal_close(j);

	memset(&s, 0, sizeof(s));
	j = open_ok(&s, NULL);
	assert_int_equal(s.n, 0);
	gw_journal_close(j);
}

/* An aside (gw_journal_begin_aside()) comes back as one, and stays one
 * through the rewrite of the file; its line is not an upload's, which an
 * earlier version would take for a temporary to remove. */
static void test_aside_comes_back(void **state)
{
	(void)state;
	unlink(path);
	struct gw_journal *j = open_ok(NULL, NULL);
	uint64_t a = gw_journal_begin_aside(j, "alice", "demo", "public", "dir/old", tmp_name(7));
	uint64_t u = gw_journal_begin(j, "alice", "demo", "public", "up.bin", tmp_name(8));
	assert_true(a > 0 && u > a);
	gw_journal_close(j);
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "{\"op\":\"aside\""));
	assert_non_null(strstr(buf, "{\"op\":\"begin\""));

	for (int round = 0; round < 2; round++) { /* the second after the rewrite */
		struct seen s = {0};
		unsigned bad = 99;
		j = open_ok(&s, &bad);
		assert_int_equal(bad, 0);
		assert_int_equal(s.n, 2);
		for (unsigned i = 0; i < 2; i++) {
			assert_int_equal(s.aside[i], s.ids[i] == a);
			assert_string_equal(s.paths[i], s.ids[i] == a ? "dir/old" : "up.bin");
		}
		gw_journal_close(j);
	}
	struct seen s = {.j = (struct gw_journal **)1}; /* cross each out */
	j = open_ok(&s, NULL);
	gw_journal_close(j);
	memset(&s, 0, sizeof(s));
	j = open_ok(&s, NULL);
	assert_int_equal(s.n, 0);
	gw_journal_close(j);
}

static void test_names_survive_the_file(void **state)
{
	(void)state;
	unlink(path);
	struct gw_journal *j = open_ok(NULL, NULL);
	const char *odd = "dir/\xc3\xa9t\xc3\xa9 \\ \"q\" \t\r\n}{";
	assert_true(gw_journal_begin(j, "alice", "demo", "public", odd, tmp_name(5)) > 0);
	close(open(path, O_RDONLY)); /* nothing else reads it meanwhile */
	gw_journal_close(j);
	struct seen s = {0};
	j = open_ok(&s, NULL);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.paths[0], odd);
	gw_journal_close(j);
}

static void test_callback_may_cross_out(void **state)
{
	(void)state;
	unlink(path);
	struct gw_journal *j = open_ok(NULL, NULL);
	for (unsigned i = 0; i < 5; i++)
		assert_true(gw_journal_begin(j, "alice", "demo", "public", "x", tmp_name(i)) > 0);
	gw_journal_close(j);
	struct seen s = {.j = (struct gw_journal **)1};
	j = open_ok(&s, NULL);
	assert_int_equal(s.n, 5);
	assert_int_equal(gw_journal_live(j), 0);
	gw_journal_close(j);
	memset(&s, 0, sizeof(s));
	j = open_ok(&s, NULL);
	assert_int_equal(s.n, 0);
	gw_journal_close(j);
}

static void test_bad_lines_left_out(void **state)
{
	(void)state;
	char good[512];
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not json\n{\"op\":\"begin\",\"id\":1}\n", f);
	fprintf(f, "{\"op\":\"begin\",\"id\":2,\"user\":\"a\",\"server\":\"demo\","
		   "\"share\":\"public\",\"path\":\"p\",\"tmp\":\"../../etc/passwd\"}\n");
	fprintf(f,
		"{\"op\":\"begin\",\"id\":-3,\"user\":\"a\",\"server\":\"demo\","
		"\"share\":\"public\",\"path\":\"p\",\"tmp\":\"%s\"}\n",
		tmp_name(9));
	snprintf(good, sizeof(good),
		 "{\"op\":\"begin\",\"id\":40,\"user\":\"a\",\"server\":\"demo\","
		 "\"share\":\"public\",\"path\":\"p\",\"tmp\":\"%s\"}\n",
		 tmp_name(10));
	fputs(good, f);
	fputs("{\"op\":\"end\",\"id\":40,\"x\":", f); /* cut mid-line */
	fclose(f);
	struct seen s = {0};
	unsigned bad = 0;
	struct gw_journal *j = open_ok(&s, &bad);
	assert_int_equal(bad, 5);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], 40);
	assert_true(gw_journal_begin(j, "a", "demo", "public", "q", tmp_name(11)) > 40);
	gw_journal_close(j);
}

static void test_one_gateway_at_a_time(void **state)
{
	(void)state;
	unlink(path);
	struct gw_journal *j = open_ok(NULL, NULL), *k = (struct gw_journal *)1;
	assert_int_equal(gw_journal_open(path, NULL, NULL, NULL, &k), -EWOULDBLOCK);
	assert_null(k);
	gw_journal_close(j);
	k = open_ok(NULL, NULL);
	gw_journal_close(k);
	/* a symlink in its place is not followed */
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(gw_journal_open(path, NULL, NULL, NULL, &k), -ELOOP);
	unlink(path);
}

/* The file is the gateway's alone: one of another mode is made 0600, and
 * anything else than a regular file in its place is refused. */
static void test_file_mode_and_kind(void **state)
{
	struct gw_journal *j, *k = (struct gw_journal *)1;
	struct stat st;

	(void)state;
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	j = open_ok(NULL, NULL);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	gw_journal_close(j);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(gw_journal_open(path, NULL, NULL, NULL, &k), -EINVAL);
	assert_null(k);
	unlink(path);
}

static void test_stays_small(void **state)
{
	(void)state;
	unlink(path);
	struct gw_journal *j = open_ok(NULL, NULL);
	uint64_t keep = gw_journal_begin(j, "alice", "demo", "public", "keep", tmp_name(7));
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t id = gw_journal_begin(j, "alice", "demo", "public", "some/path/file.bin",
					       tmp_name(i));
		assert_true(id > 0);
		gw_journal_end(j, id);
	}
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 3 * 64 * 1024);
	gw_journal_close(j);
	struct seen s = {0};
	j = open_ok(&s, NULL);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], keep);
	gw_journal_end(j, keep);
	gw_journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leftovers_come_back),
	    cmocka_unit_test(test_aside_comes_back),
	    cmocka_unit_test(test_names_survive_the_file),
	    cmocka_unit_test(test_callback_may_cross_out),
	    cmocka_unit_test(test_bad_lines_left_out),
	    cmocka_unit_test(test_one_gateway_at_a_time),
	    cmocka_unit_test(test_file_mode_and_kind),
	    cmocka_unit_test(test_stays_small),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
