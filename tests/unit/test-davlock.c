/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-davlock.c - unit tests of gateway/dav/davlock.c: the WebDAV
 * lock table (conflicts, depth, owners, tokens, timeouts, refresh, unlock,
 * removal of a tree), its limits (per user, owners, locks over one key),
 * the file that keeps it across a restart (round trip, expiry, corrupt and
 * cut files, mode, links, a second holder) and the If header's parser. The
 * clock is the test's.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dav/davlock.h"

#define MAXU (2 * DAVLOCK_MAX) /* no per-user limit */

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

	assert_int_equal(
	    davlock_lock(*state, "s/sh/a", true, false, 60, "alice", NULL, MAXU, 100, a), 0);
	assert_int_equal(
	    davlock_lock(*state, "s/sh/b", true, false, 60, "alice", NULL, MAXU, 100, b), 0);
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
	    davlock_lock(t, "s/sh/f", true, false, 60, "alice", "<D:href>a</D:href>", MAXU, 0, tok),
	    0);
	/* Any other lock on it, exclusive or shared, by anybody: refused. */
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "bob", NULL, MAXU, 1, other),
			 -EBUSY);
	assert_int_equal(davlock_lock(t, "s/sh/f", false, false, 60, "alice", NULL, MAXU, 1, other),
			 -EBUSY);
	assert_string_equal(other, "unchanged");
	/* A sibling and a depth-0 lock's children are free. */
	assert_int_equal(davlock_lock(t, "s/sh/f2", true, false, 60, "bob", NULL, MAXU, 1, other),
			 0);
	/* A depth-infinity lock on the parent would cover f: refused. */
	assert_int_equal(davlock_lock(t, "s/sh", true, true, 60, "bob", NULL, MAXU, 1, other),
			 -EBUSY);
	/* A depth-0 lock on the parent does not cover f. */
	assert_int_equal(davlock_lock(t, "s/sh", true, false, 60, "bob", NULL, MAXU, 1, other), 0);
}

static void test_shared(void **state)
{
	struct davlock_table *t = *state;
	char a[DAVLOCK_TOKEN_LEN + 1], b[DAVLOCK_TOKEN_LEN + 1], x[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(t, "s/sh/f", false, false, 60, "alice", NULL, MAXU, 0, a), 0);
	assert_int_equal(davlock_lock(t, "s/sh/f", false, false, 60, "bob", NULL, MAXU, 0, b), 0);
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "carol", NULL, MAXU, 0, x),
			 -EBUSY);
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

	assert_int_equal(davlock_lock(t, "s/sh/dir", true, true, 60, "alice", NULL, MAXU, 0, tok),
			 0);
	assert_true(davlock_covers(t, "s/sh/dir/a/b", tok, 1));
	assert_false(davlock_covers(t, "s/sh/dirx", tok, 1));
	assert_false(davlock_covers(t, "s/sh", tok, 1));
	/* A new lock below is refused; one on the parent with depth infinity too. */
	assert_int_equal(davlock_lock(t, "s/sh/dir/a", false, false, 60, "alice", NULL, MAXU, 1, x),
			 -EBUSY);
	assert_int_equal(davlock_lock(t, "s/sh", true, true, 60, "bob", NULL, MAXU, 1, x), -EBUSY);
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

	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 10, "alice", NULL, MAXU, 1000, tok),
			 0);
	assert_true(davlock_covers(t, "s/sh/f", tok, 1009));
	/* Refresh: another user may not; the owner gets a new timeout. */
	assert_int_equal(davlock_refresh(t, "s/sh/f", tok, "bob", 10, 1009), -EPERM);
	assert_int_equal(davlock_refresh(t, "s/sh/f", "opaquelocktoken:x", "alice", 10, 1009),
			 -ENOENT);
	assert_int_equal(davlock_refresh(t, "s/sh/f", tok, "alice", 10, 1009), 0);
	assert_true(davlock_covers(t, "s/sh/f", tok, 1018));
	assert_false(davlock_covers(t, "s/sh/f", tok, 1019));
	/* Expired: free for anybody, the old token is dead. */
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 10, "bob", NULL, MAXU, 1019, x), 0);
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

	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 0, "alice", NULL, MAXU, 0, tok), 0);
	assert_int_equal(davlock_each(t, "s/sh/f", 0, timeout_of, &seen), 1);
	assert_int_equal(seen, DAVLOCK_MAX_TIMEOUT);
	assert_true(davlock_covers(t, "s/sh/f", tok, DAVLOCK_MAX_TIMEOUT - 1));
	assert_false(davlock_covers(t, "s/sh/f", tok, DAVLOCK_MAX_TIMEOUT));
}

static void test_unlock_owner(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1];

	assert_int_equal(davlock_lock(t, "s/sh/d", true, true, 60, "alice", NULL, MAXU, 0, tok), 0);
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

	assert_int_equal(davlock_lock(t, "s/sh/d/a", true, false, 60, "alice", NULL, MAXU, 0, a),
			 0);
	assert_int_equal(davlock_lock(t, "s/sh/d", false, false, 60, "alice", NULL, MAXU, 0, b), 0);
	assert_int_equal(davlock_lock(t, "s/sh/dd", true, false, 60, "alice", NULL, MAXU, 0, c), 0);
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
		assert_int_equal(davlock_lock(t, key, true, false, 10, "u", NULL, MAXU, 0, tok), 0);
	}
	assert_int_equal(davlock_lock(t, "s/sh/x", true, false, 10, "u", NULL, MAXU, 0, tok),
			 -ENOSPC);
	/* Expired locks make room. */
	assert_int_equal(davlock_lock(t, "s/sh/x", true, false, 10, "u", NULL, MAXU, 10, tok), 0);
}

static void test_per_user_limit(void **state)
{
	struct davlock_table *t = *state;
	char a[3][DAVLOCK_TOKEN_LEN + 1], tok[DAVLOCK_TOKEN_LEN + 1] = "unchanged", key[32];

	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "s/sh/a%d", i);
		assert_int_equal(davlock_lock(t, key, true, false, 60, "alice", NULL, 3, 0, a[i]),
				 0);
	}
	assert_int_equal(davlock_lock(t, "s/sh/a3", true, false, 60, "alice", NULL, 3, 0, tok),
			 -EDQUOT);
	assert_string_equal(tok, "unchanged");
	assert_int_equal(davlock_count(t, 0), 3);
	/* Another user is not counted with her. */
	assert_int_equal(davlock_lock(t, "s/sh/b", true, false, 60, "bob", NULL, 3, 0, tok), 0);
	/* An unlock, or a timeout, gives her room again. */
	assert_int_equal(davlock_unlock(t, "s/sh/a0", a[0], "alice", 1), 0);
	assert_int_equal(davlock_lock(t, "s/sh/a3", true, false, 60, "alice", NULL, 3, 1, tok), 0);
	assert_int_equal(davlock_lock(t, "s/sh/a4", true, false, 60, "alice", NULL, 3, 61, tok), 0);
}

static void test_owner_cap(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1], *owner = malloc(DAVLOCK_MAX_OWNER + 2);

	assert_non_null(owner);
	memset(owner, 'o', DAVLOCK_MAX_OWNER + 1);
	owner[DAVLOCK_MAX_OWNER + 1] = '\0';
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "alice", owner, MAXU, 0, tok),
			 -E2BIG);
	assert_int_equal(davlock_count(t, 0), 0);
	owner[DAVLOCK_MAX_OWNER] = '\0';
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "alice", owner, MAXU, 0, tok),
			 0);
	free(owner);
}

/* Counts the locks over @key (its lockdiscovery). */
static void count_cb(void *ud, const struct davlock_info *info)
{
	(void)info;
	(*(size_t *)ud)++;
}

static void test_cover_limit(void **state)
{
	struct davlock_table *t = *state;
	char tok[DAVLOCK_TOKEN_LEN + 1], user[16];
	size_t n = 0;

	/* Shared locks pile up on a folder (depth infinity) and on a file in it:
	 * never more than DAVLOCK_MAX_COVER over the file. */
	for (int i = 0; i < DAVLOCK_MAX_COVER / 2; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		assert_int_equal(
		    davlock_lock(t, "s/sh/d", false, true, 60, user, NULL, MAXU, 0, tok), 0);
	}
	for (int i = DAVLOCK_MAX_COVER / 2; i < DAVLOCK_MAX_COVER; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		assert_int_equal(
		    davlock_lock(t, "s/sh/d/f", false, false, 60, user, NULL, MAXU, 0, tok), 0);
	}
	assert_int_equal(davlock_lock(t, "s/sh/d/f", false, false, 60, "x", NULL, MAXU, 0, tok),
			 -EMLINK);
	/* A lock on the folder would be over the file too. */
	assert_int_equal(davlock_lock(t, "s/sh/d", false, true, 60, "x", NULL, MAXU, 0, tok),
			 -EMLINK);
	assert_int_equal(davlock_each(t, "s/sh/d/f", 0, count_cb, &n), DAVLOCK_MAX_COVER);
	/* A sibling is under the folder's locks only. */
	assert_int_equal(davlock_lock(t, "s/sh/d/g", false, false, 60, "x", NULL, MAXU, 0, tok), 0);
}

/* ---- the file ---- */

struct tmp {
	char dir[64];
	char path[96];
};

static void tmp_make(struct tmp *x)
{
	snprintf(x->dir, sizeof(x->dir), "/tmp/test-davlock.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/dav.locks", x->dir);
}

static void tmp_remove(struct tmp *x)
{
	char p[128];
	snprintf(p, sizeof(p), "%s.new", x->path);
	unlink(p);
	unlink(x->path);
	assert_int_equal(rmdir(x->dir), 0);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

#define WALL 1800000000 /* the wall clock at the first start */

static void test_file_round_trip(void **state)
{
	struct davlock_table *t;
	struct tmp x;
	char a[DAVLOCK_TOKEN_LEN + 1], b[DAVLOCK_TOKEN_LEN + 1], c[DAVLOCK_TOKEN_LEN + 1];
	unsigned dropped = 99;
	struct stat st;
	(void)state;

	tmp_make(&x);
	assert_int_equal(davlock_open(x.path, 100, WALL, &dropped, &t), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(stat(x.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	const char *owner = "<D:href>mailto:\"Ünï\" &amp; \\ &lt;x&gt;</D:href>";
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 600, "alice", owner, MAXU, 100, a),
			 0);
	assert_int_equal(davlock_lock(t, "s/sh/d", false, true, 600, "bob", NULL, MAXU, 100, b), 0);
	assert_int_equal(davlock_lock(t, "s/sh/g", true, false, 600, "bob", NULL, MAXU, 100, c), 0);
	assert_int_equal(davlock_refresh(t, "s/sh/d/x", b, "bob", 3600, 200), 0);
	assert_int_equal(davlock_unlock(t, "s/sh/g", c, "bob", 200), 0);
	davlock_free(t);

	/* The restart: another monotonic clock (a new boot, say), 300 s later. */
	assert_int_equal(davlock_open(x.path, 5, WALL + 300, &dropped, &t), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(davlock_count(t, 5), 2);
	assert_true(davlock_covers(t, "s/sh/f", a, 5));
	assert_true(davlock_covers(t, "s/sh/d/deep/er", b, 5));
	assert_false(davlock_covers(t, "s/sh/g", c, 5));
	const char *mine[] = {a};
	assert_int_equal(davlock_check(t, "s/sh/f", false, mine, 1, "alice", 5, NULL), 0);
	assert_int_equal(davlock_check(t, "s/sh/f", false, mine, 1, "bob", 5, NULL), -EBUSY);
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "bob", NULL, MAXU, 5, c),
			 -EBUSY);
	/* Time left: alice's 600 - 300; bob's refresh (3600 at WALL + 100) 3400. */
	struct seen {
		int64_t remaining;
		char owner[128];
		bool exclusive, infinite;
		unsigned timeout;
	} seen = {0};
	void cb(void *ud, const struct davlock_info *info)
	{
		struct seen *s = ud;
		s->remaining = info->remaining;
		snprintf(s->owner, sizeof(s->owner), "%s", info->owner ? info->owner : "");
		s->exclusive = info->exclusive;
		s->infinite = info->infinite;
		s->timeout = info->timeout;
	}
	assert_int_equal(davlock_each(t, "s/sh/f", 5, cb, &seen), 1);
	assert_int_equal(seen.remaining, 300);
	assert_string_equal(seen.owner, owner);
	assert_true(seen.exclusive);
	assert_false(seen.infinite);
	assert_int_equal(davlock_each(t, "s/sh/d", 5, cb, &seen), 1);
	assert_int_equal(seen.remaining, 3400);
	assert_int_equal(seen.timeout, 3600);
	assert_true(seen.infinite);
	assert_false(seen.exclusive);
	/* Expiry is written too: 301 s later alice's lock is gone, after a
	 * restart as well. */
	assert_int_equal(davlock_count(t, 306), 1);
	davlock_free(t);
	assert_int_equal(davlock_open(x.path, 0, WALL + 301, &dropped, &t), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(davlock_count(t, 0), 1);
	assert_true(davlock_covers(t, "s/sh/d", b, 0));
	davlock_free(t);
	/* A lock that expires while the gateway is down is left out. */
	assert_int_equal(davlock_open(x.path, 0, WALL + 3700, &dropped, &t), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(davlock_count(t, 0), 0);
	davlock_free(t);
	size_t len;
	free(read_file(x.path, &len));
	assert_int_equal(len, 0);
	tmp_remove(&x);
}

/* A file that holds one live lock of alice's on s/sh/f (returns its size). */
static size_t good_file(const struct tmp *x, char tok[DAVLOCK_TOKEN_LEN + 1])
{
	struct davlock_table *t;
	char other[DAVLOCK_TOKEN_LEN + 1];
	size_t len;

	assert_int_equal(davlock_open(x->path, 0, WALL, NULL, &t), 0);
	assert_int_equal(davlock_lock(t, "s/sh/e", true, false, 60, "bob", NULL, MAXU, 0, other),
			 0);
	assert_int_equal(davlock_lock(t, "s/sh/f", true, false, 60, "alice", "<o/>", MAXU, 0, tok),
			 0);
	davlock_free(t);
	free(read_file(x->path, &len));
	return len;
}

static void test_file_corrupt(void **state)
{
	struct davlock_table *t;
	struct tmp x;
	char tok[DAVLOCK_TOKEN_LEN + 1];
	unsigned dropped;
	(void)state;

	tmp_make(&x);
	/* Garbage: an empty table, nothing crashes. */
	static const char *const garbage[] = {
	    "{\"op\":\"lock\"}\n[1,2]\nnull\n\"x\"\n{}\n{\"op\":\"refresh\",\"token\":1}\n",
	    "{\"op\":\"lock\",\"token\":\"opaquelocktoken:zz\",\"key\":\"k\",\"user\":\"u\","
	    "\"exclusive\":true,\"infinite\":false,\"timeout\":60,\"expires\":1800000060}\n",
	    "{\"op\":\"lock\",\"token\":\"opaquelocktoken:01234567-89ab-4def-8123-456789abcdef\","
	    "\"key\":\"k\",\"user\":\"u\",\"exclusive\":1,\"infinite\":false,\"timeout\":60,"
	    "\"expires\":1800000060}\n",
	    "{\"op\":\"lock\",\"token\":\"opaquelocktoken:01234567-89ab-4def-8123-456789abcdef\","
	    "\"key\":\"k\",\"user\":\"u\",\"exclusive\":true,\"infinite\":false,\"timeout\":99999,"
	    "\"expires\":1800000060}\n",
	};
	static const char binary[] = "\x00\x01\x02\xff\xfe binary\n\x00";
	write_file(x.path, binary, sizeof(binary));
	dropped = 0;
	assert_int_equal(davlock_open(x.path, 0, WALL, &dropped, &t), 0);
	assert_int_equal(davlock_count(t, 0), 0);
	assert_true(dropped > 0);
	davlock_free(t);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		write_file(x.path, garbage[i], strlen(garbage[i]));
		dropped = 0;
		assert_int_equal(davlock_open(x.path, 0, WALL, &dropped, &t), 0);
		assert_int_equal(davlock_count(t, 0), 0);
		assert_true(dropped > 0);
		davlock_free(t);
	}
	/* Every cut of a good file: no crash; the lines before the cut stay. */
	size_t full = good_file(&x, tok), len;
	char *data = read_file(x.path, &len);
	size_t first_nl = (size_t)(strchr(data, '\n') - data);
	for (size_t cut = 0; cut <= full; cut++) {
		write_file(x.path, data, cut);
		assert_int_equal(davlock_open(x.path, 0, WALL, &dropped, &t), 0);
		size_t n = davlock_count(t, 0);
		/* A line without its newline is whole; one cut shorter is not. */
		bool whole1 = cut >= first_nl, whole2 = cut >= full - 1;
		bool partial = cut > 0 && !whole2 && (!whole1 || cut > first_nl + 1);
		assert_int_equal(n, (size_t)whole1 + whole2);
		assert_int_equal(dropped, partial);
		assert_int_equal(davlock_covers(t, "s/sh/f", tok, 0), n == 2);
		davlock_free(t);
	}
	/* Two lines with one token, and two exclusive locks on one key: the
	 * second of each is left out. */
	write_file(x.path, data, full);
	FILE *f = fopen(x.path, "ab");
	assert_non_null(f);
	fwrite(data, 1, full, f);
	fclose(f);
	assert_int_equal(davlock_open(x.path, 0, WALL, &dropped, &t), 0);
	assert_int_equal(davlock_count(t, 0), 2);
	assert_int_equal(dropped, 2);
	davlock_free(t);
	free(data);
	tmp_remove(&x);
}

static void test_file_safety(void **state)
{
	struct davlock_table *t, *t2 = (struct davlock_table *)1;
	struct tmp x;
	char tok[DAVLOCK_TOKEN_LEN + 1];
	struct stat st;
	(void)state;

	tmp_make(&x);
	/* An existing file of the wrong mode is made 0600. */
	write_file(x.path, "", 0);
	assert_int_equal(chmod(x.path, 0644), 0);
	assert_int_equal(davlock_open(x.path, 0, WALL, NULL, &t), 0);
	assert_int_equal(stat(x.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second gateway cannot share it; the first is unchanged. */
	assert_int_equal(davlock_open(x.path, 0, WALL, NULL, &t2), -EWOULDBLOCK);
	assert_ptr_equal(t2, (struct davlock_table *)1);
	/* Many locks taken and removed: the file is rewritten, it stays small. */
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(
		    davlock_lock(t, "s/sh/f", true, false, 60, "u", NULL, MAXU, 0, tok), 0);
		assert_int_equal(davlock_unlock(t, "s/sh/f", tok, "u", 0), 0);
	}
	assert_int_equal(stat(x.path, &st), 0);
	assert_true(st.st_size < 200 * 1024);
	davlock_free(t);
	/* A link in its place is never followed. */
	assert_int_equal(unlink(x.path), 0);
	assert_int_equal(symlink("/dev/null", x.path), 0);
	assert_int_equal(davlock_open(x.path, 0, WALL, NULL, &t2), -ELOOP);
	tmp_remove(&x);
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
	    cmocka_unit_test_setup_teardown(test_per_user_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cover_limit, setup, teardown),
	    cmocka_unit_test(test_file_round_trip),
	    cmocka_unit_test(test_file_corrupt),
	    cmocka_unit_test(test_file_safety),
	    cmocka_unit_test(test_if_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
