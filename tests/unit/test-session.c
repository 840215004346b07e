/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-session.c - the session table of gateway/auth/session.c.
 *
 * Sandboxes are stood in for by small heap objects whose destructor counts
 * its calls per id, so the tests see exactly when (and how often) a sandbox
 * would be killed. Time comes from a fake clock (gw_sessions_set_clock()).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "auth/session.h"

/* ---- fake sandboxes and clock ------------------------------------------ */

#define MAX_IDS 20000

struct fake_sbx {
	int id;
};

static unsigned freed[MAX_IDS];
static unsigned long freed_total;
static int64_t fake_ms;

static void fake_free(void *p)
{
	struct fake_sbx *f = p;

	__atomic_add_fetch(&freed[f->id], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&freed_total, 1, __ATOMIC_RELAXED);
	free(f);
}

static void *fake_new(int id)
{
	struct fake_sbx *f = malloc(sizeof(*f));

	assert_non_null(f);
	f->id = id;
	return f;
}

static int64_t fake_now(void)
{
	return __atomic_load_n(&fake_ms, __ATOMIC_RELAXED);
}

static void advance(int64_t ms)
{
	__atomic_add_fetch(&fake_ms, ms, __ATOMIC_RELAXED);
}

static int setup(void **state)
{
	(void)state;
	memset(freed, 0, sizeof(freed));
	freed_total = 0;
	fake_ms = 1000000;
	return 0;
}

static struct gw_sessions *table(unsigned max, unsigned per_user, unsigned idle_s)
{
	struct gw_sessions *t = NULL;

	assert_int_equal(gw_sessions_new(max, per_user, idle_s, fake_free, &t), 0);
	assert_non_null(t);
	gw_sessions_set_clock(t, fake_now);
	return t;
}

/* Reserves and adds a session of (@user, @server) whose sandbox has @id. */
static struct gw_session *login(struct gw_sessions *t, const char *user, size_t server, int id,
				char token[GW_TOKEN_LEN + 1])
{
	struct gw_session *s = NULL;

	assert_int_equal(gw_sessions_reserve(t, user, server), 0);
	assert_int_equal(gw_sessions_add(t, user, server, fake_new(id), token, &s), 0);
	assert_non_null(s);
	return s;
}

static bool token_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* ---- tests -------------------------------------------------------------- */

static void test_new_invalid(void **state)
{
	struct gw_sessions *t = (struct gw_sessions *)0x1;

	(void)state;
	assert_int_equal(gw_sessions_new(0, 8, 60, fake_free, &t), -EINVAL);
	assert_int_equal(gw_sessions_new(GW_SESSIONS_LIMIT + 1, 8, 60, fake_free, &t), -EINVAL);
	assert_int_equal(gw_sessions_new(10, 0, 60, fake_free, &t), -EINVAL);
	assert_int_equal(gw_sessions_new(10, 8, 0, fake_free, &t), -EINVAL);
	assert_int_equal(gw_sessions_new(10, 8, 60, fake_free, NULL), -EINVAL);
	assert_ptr_equal(t, (struct gw_sessions *)0x1);
	gw_sessions_free(NULL);
}

static void test_create_get_put_end(void **state)
{
	struct gw_sessions *t = table(10, 8, 60);
	char token[GW_TOKEN_LEN + 1];
	struct gw_session *s, *g;
	struct fake_sbx *sbx;

	(void)state;
	s = login(t, "ACME\\alice", 1, 7, token);
	assert_int_equal(gw_sessions_count(t), 1);
	assert_int_equal(gw_sessions_reserved(t), 0);
	assert_string_equal(gw_session_user(s), "ACME\\alice");
	assert_int_equal(gw_session_server(s), 1);
	sbx = gw_session_sbx(s);
	assert_int_equal(sbx->id, 7);
	assert_int_equal(gw_session_expires_in(s), 60);
	assert_int_equal(gw_session_age(s), 0);

	g = gw_sessions_get(t, token);
	assert_ptr_equal(g, s);
	gw_session_put(g);
	gw_session_put(s);
	assert_int_equal(freed[7], 0); /* the table still holds it */

	g = gw_sessions_get(t, token);
	assert_ptr_equal(g, s);
	gw_sessions_end(t, g);
	assert_int_equal(gw_sessions_count(t), 0);
	assert_null(gw_sessions_get(t, token));
	assert_int_equal(freed[7], 0);
	gw_session_put(g);
	assert_int_equal(freed[7], 1);
	gw_sessions_free(t);
	assert_int_equal(freed_total, 1);
}

static int cmp_tokens(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_token_format_unique(void **state)
{
	enum { N = 10000 };
	struct gw_sessions *t = table(N, N, 60);
	char(*tokens)[GW_TOKEN_LEN + 1] = calloc(N, sizeof(*tokens));
	static const char tail[] = "AEIMQUYcgkosw048"; /* last char: 4 bits then 00 */

	(void)state;
	assert_non_null(tokens);
	for (int i = 0; i < N; i++) {
		char tok[GW_TOKEN_LEN + 1];

		memset(tok, 'x', sizeof(tok));
		gw_session_put(login(t, "bob", 0, i, tok));
		assert_int_equal(strlen(tok), GW_TOKEN_LEN);
		for (int k = 0; k < GW_TOKEN_LEN; k++)
			assert_true(token_char_ok(tok[k]));
		assert_non_null(strchr(tail, tok[GW_TOKEN_LEN - 1]));
		memcpy(tokens[i], tok, sizeof(tok));
	}
	assert_int_equal(gw_sessions_count(t), N);
	/* Every token finds its own session. */
	for (int i = 0; i < N; i += 97) {
		struct gw_session *s = gw_sessions_get(t, tokens[i]);

		assert_non_null(s);
		assert_int_equal(((struct fake_sbx *)gw_session_sbx(s))->id, i);
		gw_session_put(s);
	}
	qsort(tokens, N, sizeof(*tokens), cmp_tokens);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(tokens[i - 1], tokens[i]);
	free(tokens);
	gw_sessions_free(t);
	assert_int_equal(freed_total, N);
}

static void test_unknown_and_malformed(void **state)
{
	struct gw_sessions *t = table(10, 8, 60);
	char token[GW_TOKEN_LEN + 1];
	char other[GW_TOKEN_LEN + 2];
	struct gw_session *s;

	(void)state;
	assert_null(gw_sessions_get(t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	s = login(t, "alice", 0, 1, token);
	assert_null(gw_sessions_get(t, NULL));
	assert_null(gw_sessions_get(t, ""));
	/* One character changed. */
	memcpy(other, token, sizeof(token));
	other[GW_TOKEN_LEN / 2] = other[GW_TOKEN_LEN / 2] == 'A' ? 'B' : 'A';
	assert_null(gw_sessions_get(t, other));
	/* Truncated and extended. */
	memcpy(other, token, sizeof(token));
	other[GW_TOKEN_LEN - 1] = '\0';
	assert_null(gw_sessions_get(t, other));
	memcpy(other, token, GW_TOKEN_LEN);
	other[GW_TOKEN_LEN] = 'A';
	other[GW_TOKEN_LEN + 1] = '\0';
	assert_null(gw_sessions_get(t, other));
	gw_session_put(s);
	gw_sessions_free(t);
	assert_int_equal(freed[1], 1);
}

static void test_end_with_outstanding_reference(void **state)
{
	struct gw_sessions *t = table(10, 8, 60);
	char token[GW_TOKEN_LEN + 1];
	struct gw_session *s, *g;

	(void)state;
	s = login(t, "alice", 0, 3, token);
	g = gw_sessions_get(t, token);
	assert_non_null(g);
	gw_sessions_end(t, s);
	assert_null(gw_sessions_get(t, token));
	assert_null(gw_sessions_find_user(t, "alice", 0));
	assert_int_equal(gw_sessions_count(t), 0);
	assert_int_equal(gw_session_expires_in(s), 0);
	gw_sessions_end(t, s); /* idempotent */
	gw_session_touch(s);   /* no effect once ended */
	assert_null(gw_sessions_get(t, token));
	assert_int_equal(freed[3], 0);
	/* Still usable while referenced. */
	assert_string_equal(gw_session_user(g), "alice");
	assert_int_equal(((struct fake_sbx *)gw_session_sbx(g))->id, 3);
	gw_session_put(s);
	assert_int_equal(freed[3], 0);
	gw_session_put(g);
	assert_int_equal(freed[3], 1);
	/* The slot is free again. */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	gw_sessions_unreserve(t, "alice", 0);
	gw_sessions_free(t);
	assert_int_equal(freed_total, 1);
}

static void test_max_sessions(void **state)
{
	struct gw_sessions *t = table(3, 8, 60);
	char token[GW_TOKEN_LEN + 1];
	struct gw_session *s[2];

	(void)state;
	s[0] = login(t, "a", 0, 0, token);
	s[1] = login(t, "b", 0, 1, token);
	assert_int_equal(gw_sessions_reserve(t, "c", 0), 0);
	/* Two sessions and one reservation fill the table. */
	assert_int_equal(gw_sessions_reserve(t, "d", 0), -EBUSY);
	assert_int_equal(gw_sessions_reserve(t, "a", 0), -EBUSY);
	assert_int_equal(gw_sessions_count(t), 2);
	assert_int_equal(gw_sessions_reserved(t), 1);
	/* "d" got no reservation. */
	memset(token, 'x', sizeof(token));
	assert_int_equal(gw_sessions_add(t, "d", 0, fake_new(2), token, &s[1]), -ENOENT);
	assert_int_equal(freed[2], 1);
	assert_int_equal(token[0], 'x');
	assert_int_equal(gw_sessions_count(t), 2);
	assert_int_equal(gw_sessions_reserved(t), 1);
	/* Ending one frees a slot. */
	gw_sessions_end(t, s[0]);
	gw_session_put(s[0]);
	assert_int_equal(gw_sessions_reserve(t, "d", 0), 0);
	assert_int_equal(gw_sessions_reserve(t, "e", 0), -EBUSY);
	gw_sessions_unreserve(t, "d", 0);
	gw_sessions_unreserve(t, "c", 0);
	assert_int_equal(gw_sessions_reserved(t), 0);
	gw_session_put(s[1]);
	gw_sessions_free(t);
	assert_int_equal(freed[0], 1);
	assert_int_equal(freed[1], 1);
}

static void test_per_user_limit(void **state)
{
	struct gw_sessions *t = table(100, 2, 60);
	char token[GW_TOKEN_LEN + 1];

	(void)state;
	struct gw_session *a = login(t, "alice", 0, 0, token);
	gw_session_request_begin(a, NULL);
	/* Logins still being checked hold no slot of the user: many at once
	 * (wrong passwords, say) never refuse the right one. */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_count(t), 1);
	assert_int_equal(gw_sessions_reserved(t), 3);
	/* Another server, another user, another spelling: other pairs (the
	 * caller passes one canonical user: canonuser.h). */
	assert_int_equal(gw_sessions_reserve(t, "alice", 1), 0);
	assert_int_equal(gw_sessions_reserve(t, "bob", 0), 0);
	assert_int_equal(gw_sessions_reserve(t, "ACME\\alice", 0), 0);
	assert_int_equal(gw_sessions_reserved(t), 6);
	gw_sessions_unreserve(t, "alice", 0);
	gw_sessions_unreserve(t, "alice", 0);
	struct gw_session *b = login(t, "alice", 0, 1, token);
	gw_session_request_begin(b, NULL);
	/* The limit is on sessions: the pair has 2 now, both busy. */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), -EUSERS);
	assert_int_equal(gw_sessions_reserved(t), 4);
	/* One of them idle (no request holds it) but brand new: not yet. */
	gw_session_request_end(b, 0, 0);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), -EUSERS);
	/* Past the grace (or used since its login): a login may replace it. */
	advance(GW_SESSION_REPLACE_GRACE_MS);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	gw_sessions_unreserve(t, "alice", 0);
	gw_session_request_end(a, 0, 0);
	gw_session_put(a);
	gw_session_put(b);
	gw_sessions_free(t);
	assert_int_equal(freed_total, 2);
}

static void test_per_user_limit_on_add(void **state)
{
	struct gw_sessions *t = table(100, 2, 60);
	char token[GW_TOKEN_LEN + 1];
	struct gw_session *s = (struct gw_session *)0x1, *busy[2];

	(void)state;
	/* Three logins of one user checked at once, all right: the third to
	 * finish ends the user's least recently used session that no request
	 * holds (its token dies, its sandbox goes), and becomes a session; but
	 * not one just made, whose login answer may be on its way. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(0), token, &s), 0);
	char old_token[GW_TOKEN_LEN + 1];
	memcpy(old_token, token, sizeof(token));
	gw_session_put(s);
	advance(1000);
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(1), token, &busy[0]), 0);
	s = (struct gw_session *)0x1;
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(4), token, &s), -EUSERS);
	assert_ptr_equal(s, (struct gw_session *)0x1);
	assert_int_equal(freed[4], 1);
	assert_int_equal(freed[0], 0);
	advance(GW_SESSION_REPLACE_GRACE_MS);
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(2), token, &s), 0);
	assert_int_equal(freed[0], 1); /* the oldest idle one went */
	assert_null(gw_sessions_get(t, old_token));
	assert_int_equal(freed[1], 0);
	assert_int_equal(gw_sessions_count(t), 2);
	assert_int_equal(gw_sessions_reserved(t), 0);
	advance(GW_SESSION_REPLACE_GRACE_MS);
	/* Every session busy: the login is refused, and nothing of it stays. */
	busy[1] = s;
	gw_session_request_begin(busy[0], NULL);
	gw_session_request_begin(busy[1], NULL);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), -EUSERS);
	gw_session_request_end(busy[1], 0, 0);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	gw_session_request_begin(busy[1], NULL);
	s = (struct gw_session *)0x1;
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(3), token, &s), -EUSERS);
	assert_ptr_equal(s, (struct gw_session *)0x1);
	assert_int_equal(freed[3], 1); /* its sandbox went */
	assert_int_equal(gw_sessions_count(t), 2);
	assert_int_equal(gw_sessions_reserved(t), 0);
	for (int i = 0; i < 2; i++) {
		gw_session_request_end(busy[i], 0, 0);
		gw_session_put(busy[i]);
	}
	gw_sessions_free(t);
	assert_int_equal(freed_total, 5);
}

static void test_reserve_accounting(void **state)
{
	struct gw_sessions *t = table(4, 4, 60);
	char token[GW_TOKEN_LEN + 1];
	char longname[GW_SESSION_MAX_USER + 2];
	struct gw_session *s = NULL;

	(void)state;
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(gw_sessions_reserve(t, NULL, 0), -EINVAL);
	assert_int_equal(gw_sessions_reserve(t, "", 0), -EINVAL);
	assert_int_equal(gw_sessions_reserve(t, longname, 0), -EINVAL);
	longname[GW_SESSION_MAX_USER] = '\0';
	assert_int_equal(gw_sessions_reserve(t, longname, 0), 0);
	gw_sessions_unreserve(t, longname, 0);
	assert_int_equal(gw_sessions_reserved(t), 0);

	/* Unreserving what was never reserved changes nothing. */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	gw_sessions_unreserve(t, "bob", 0);
	gw_sessions_unreserve(t, "alice", 1);
	assert_int_equal(gw_sessions_reserved(t), 1);
	gw_sessions_unreserve(t, "alice", 0);
	gw_sessions_unreserve(t, "alice", 0);
	assert_int_equal(gw_sessions_reserved(t), 0);

	/* Failed add: the sandbox is freed and the reservation released. */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(5), token, NULL), -EINVAL);
	assert_int_equal(freed[5], 1);
	assert_int_equal(gw_sessions_reserved(t), 0);
	assert_int_equal(gw_sessions_count(t), 0);
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(6), token, &s), -ENOENT);
	assert_null(s);
	assert_int_equal(freed[6], 1);

	/* add consumes exactly one reservation. */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(gw_sessions_add(t, "alice", 0, fake_new(7), token, &s), 0);
	assert_int_equal(gw_sessions_reserved(t), 1);
	assert_int_equal(gw_sessions_count(t), 1);
	assert_int_equal(gw_sessions_in_use(t), 2);
	gw_session_put(s);
	gw_sessions_unreserve(t, "alice", 0);
	assert_int_equal(gw_sessions_reserved(t), 0);
	assert_int_equal(gw_sessions_count(t), 1);
	/* The table is full with 1 session + 3 reservations. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(gw_sessions_reserve(t, "carol", 0), 0);
	assert_int_equal(gw_sessions_reserve(t, "dave", 0), -EBUSY);
	assert_int_equal(gw_sessions_in_use(t), 4);
	/* gw_sessions_free() drops reservations too (ASan checks the leak). */
	gw_sessions_free(t);
	assert_int_equal(freed[7], 1);
}

static void test_idle_expiry(void **state)
{
	struct gw_sessions *t = table(10, 8, 60);
	char ta[GW_TOKEN_LEN + 1], tb[GW_TOKEN_LEN + 1];
	struct gw_session *a, *b, *g;

	(void)state;
	a = login(t, "alice", 0, 1, ta);
	b = login(t, "bob", 0, 2, tb);
	gw_session_put(b);
	assert_int_equal(gw_session_expires_in(a), 60);
	advance(500);
	assert_int_equal(gw_session_expires_in(a), 60); /* 59.5 s rounds up */
	advance(29500);
	assert_int_equal(gw_session_expires_in(a), 30);
	assert_int_equal(gw_session_age(a), 30);
	/* get touches a; b stays idle. */
	g = gw_sessions_get(t, ta);
	assert_ptr_equal(g, a);
	gw_session_put(g);
	assert_int_equal(gw_session_expires_in(a), 60);
	assert_int_equal(gw_sessions_expire(t), 0);
	advance(29999);
	assert_int_equal(gw_sessions_expire(t), 0);
	advance(1);
	/* b: idle for exactly 60 s. */
	assert_int_equal(gw_sessions_expire(t), 1);
	assert_int_equal(freed[2], 1);
	assert_null(gw_sessions_get(t, tb));
	assert_int_equal(gw_sessions_count(t), 1);
	assert_int_equal(gw_session_expires_in(a), 30);
	/* Lazy expiry in get(): a is held by the caller, so only its token dies. */
	advance(30000);
	assert_int_equal(gw_session_expires_in(a), 0);
	assert_null(gw_sessions_get(t, ta));
	assert_int_equal(gw_sessions_count(t), 0);
	assert_int_equal(freed[1], 0);
	gw_session_put(a);
	assert_int_equal(freed[1], 1);
	/* touch restarts the timeout. */
	a = login(t, "alice", 0, 3, ta);
	advance(59000);
	gw_session_touch(a);
	advance(59000);
	assert_int_equal(gw_sessions_expire(t), 0);
	assert_int_equal(gw_session_expires_in(a), 1);
	gw_session_put(a);
	/* Expired sessions never count against the limits. */
	advance(1000);
	gw_sessions_free(t);
	t = table(2, 1, 60);
	a = login(t, "alice", 0, 4, ta);
	gw_session_request_begin(a, NULL); /* busy: not to be replaced */
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), -EUSERS);
	gw_session_request_end(a, 0, 0);
	gw_session_put(a);
	advance(60000);
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0);
	assert_int_equal(freed[4], 1);
	assert_int_equal(gw_sessions_count(t), 0);
	gw_sessions_unreserve(t, "alice", 0);
	gw_sessions_free(t);
	assert_int_equal(freed_total, 4);
}

static void test_find_user(void **state)
{
	struct gw_sessions *t = table(20, 8, 60);
	char tok[GW_TOKEN_LEN + 1];
	struct gw_session *a1, *a2, *other_srv, *other_user, *f;

	(void)state;
	assert_null(gw_sessions_find_user(t, "alice", 0));
	assert_null(gw_sessions_find_user(t, NULL, 0));
	other_srv = login(t, "alice", 1, 10, tok);
	other_user = login(t, "Alice", 0, 11, tok);
	assert_null(gw_sessions_find_user(t, "alice", 0));
	assert_int_equal(gw_sessions_reserve(t, "alice", 0), 0); /* a reservation is no session */
	assert_null(gw_sessions_find_user(t, "alice", 0));
	gw_sessions_unreserve(t, "alice", 0);

	a1 = login(t, "alice", 0, 1, tok);
	advance(1000);
	a2 = login(t, "alice", 0, 2, tok);
	f = gw_sessions_find_user(t, "alice", 0);
	assert_ptr_equal(f, a2);
	assert_string_equal(gw_session_user(f), "alice");
	assert_int_equal(gw_session_server(f), 0);
	gw_session_put(f);
	/* find_user does not touch: a1 becomes the most recent only when used. */
	advance(1000);
	gw_session_touch(a1);
	f = gw_sessions_find_user(t, "alice", 0);
	assert_ptr_equal(f, a1);
	advance(1000);
	gw_session_put(f);
	assert_int_equal(gw_session_expires_in(a1), 59);
	f = gw_sessions_find_user(t, "alice", 1);
	assert_ptr_equal(f, other_srv);
	gw_session_put(f);
	f = gw_sessions_find_user(t, "Alice", 0);
	assert_ptr_equal(f, other_user);
	gw_session_put(f);
	/* Ended ones are never found. */
	gw_sessions_end(t, a1);
	f = gw_sessions_find_user(t, "alice", 0);
	assert_ptr_equal(f, a2);
	gw_session_put(f);
	gw_sessions_end(t, a2);
	assert_null(gw_sessions_find_user(t, "alice", 0));
	/* Nor idle ones. */
	advance(60000);
	assert_null(gw_sessions_find_user(t, "alice", 1));
	assert_null(gw_sessions_find_user(t, "Alice", 0));
	gw_session_put(a1);
	gw_session_put(a2);
	gw_session_put(other_srv);
	gw_session_put(other_user);
	assert_int_equal(freed_total, 4);
	gw_sessions_free(t);
}

/* gw_sessions_list(): one snapshot per live session, most recent first. */
struct listed {
	unsigned n;
	struct gw_session_info info[4];
	char user[4][16];
};

static void list_cb(void *ud, const struct gw_session_info *info)
{
	struct listed *l = ud;

	assert_true(l->n < 4);
	l->info[l->n] = *info;
	snprintf(l->user[l->n], sizeof(l->user[0]), "%s", info->user);
	l->n++;
}

/* Public ids count up and are never the token; listing, lookup by id,
 * request accounting; an ended session is neither listed nor found. */
static void test_ids_list_accounting(void **state)
{
	struct gw_sessions *t = table(8, 4, 60);
	char ta[GW_TOKEN_LEN + 1], tb[GW_TOKEN_LEN + 1];
	struct gw_session *a = login(t, "alice", 0, 1, ta);
	struct gw_session *b, *f;
	struct listed l = {0};

	(void)state;
	advance(2000);
	b = login(t, "bob", 1, 2, tb);
	assert_int_equal(gw_session_id(a), 1);
	assert_int_equal(gw_session_id(b), 2);

	gw_session_request_begin(a, "192.0.2.7");
	gw_session_request_begin(a, NULL);
	gw_session_request_end(a, 10, 300);
	advance(3000);
	assert_int_equal(gw_sessions_list(t, list_cb, &l), 2);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.info[0].id, 2); /* bob: used last */
	assert_string_equal(l.user[0], "bob");
	assert_int_equal(l.info[0].server, 1);
	assert_string_equal(l.info[0].addr, "");
	assert_int_equal(l.info[0].age_ms, 3000);
	assert_int_equal(((struct fake_sbx *)l.info[0].sbx)->id, 2);
	assert_int_equal(l.info[1].id, 1);
	assert_string_equal(l.user[1], "alice");
	assert_string_equal(l.info[1].addr, "192.0.2.7");
	assert_int_equal(l.info[1].age_ms, 5000);
	assert_int_equal(l.info[1].idle_ms, 5000);
	assert_int_equal(l.info[1].bytes_in, 10);
	assert_int_equal(l.info[1].bytes_out, 300);
	assert_int_equal(l.info[1].in_flight, 1);
	gw_session_request_end(a, 0, 0);

	f = gw_sessions_by_id(t, 1);
	assert_ptr_equal(f, a);
	gw_session_put(f);
	assert_null(gw_sessions_by_id(t, 3));
	assert_null(gw_sessions_by_id(t, 0));

	assert_true(gw_sessions_end(t, a));
	assert_false(gw_sessions_end(t, a));
	assert_null(gw_sessions_by_id(t, 1));
	l.n = 0;
	assert_int_equal(gw_sessions_list(t, list_cb, &l), 1);
	assert_int_equal(l.info[0].id, 2);
	gw_session_put(a);
	gw_session_put(b);

	/* ids are never reused */
	b = login(t, "carol", 0, 3, ta);
	assert_int_equal(gw_session_id(b), 3);
	gw_session_put(b);
	gw_sessions_free(t);
}

static void test_free_with_outstanding(void **state)
{
	struct gw_sessions *t = table(10, 8, 60);
	char tok[GW_TOKEN_LEN + 1];
	struct gw_session *held;

	(void)state;
	for (int i = 0; i < 5; i++)
		gw_session_put(login(t, "alice", (size_t)i % 2, i, tok));
	held = login(t, "bob", 0, 5, tok);
	assert_int_equal(gw_sessions_reserve(t, "carol", 0), 0);
	gw_sessions_free(t);
	for (int i = 0; i < 5; i++)
		assert_int_equal(freed[i], 1);
	/* A session still held by a caller outlives the table. */
	assert_int_equal(freed[5], 0);
	assert_string_equal(gw_session_user(held), "bob");
	assert_int_equal(gw_session_expires_in(held), 0);
	gw_session_put(held);
	assert_int_equal(freed[5], 1);
	assert_int_equal(freed_total, 6);
}

static void test_no_destructor(void **state)
{
	struct gw_sessions *t = NULL;
	char tok[GW_TOKEN_LEN + 1];
	int dummy;
	struct gw_session *s = NULL;

	(void)state;
	assert_int_equal(gw_sessions_new(1, 1, 1, NULL, &t), 0);
	assert_int_equal(gw_sessions_reserve(t, "x", 0), 0);
	assert_int_equal(gw_sessions_add(t, "x", 0, &dummy, tok, &s), 0);
	assert_ptr_equal(gw_session_sbx(s), &dummy);
	gw_session_put(s);
	gw_sessions_free(t);
}

/* ---- multithreaded stress ----------------------------------------------- */

#define THREADS	   8
#define OPS	   10000
#define POOL	   64
#define HELD	   16
#define STRESS_MAX 48

struct stress {
	struct gw_sessions *t;
	pthread_mutex_t pool_lock;
	char pool[POOL][GW_TOKEN_LEN + 1]; /* recently issued tokens, any thread */
	unsigned long created;
	int next_id;
};

struct worker {
	struct stress *st;
	unsigned seed;
	struct gw_session *held[HELD];
};

static unsigned rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xffffff;
}

static void hold(struct worker *w, struct gw_session *s)
{
	unsigned i = rnd(&w->seed) % HELD;

	gw_session_put(w->held[i]);
	w->held[i] = s;
}

static void *stress_thread(void *arg)
{
	struct worker *w = arg;
	struct stress *st = w->st;
	char user[16], tok[GW_TOKEN_LEN + 1];

	for (int op = 0; op < OPS; op++) {
		unsigned r = rnd(&w->seed);
		unsigned i = rnd(&w->seed) % HELD;
		size_t server = rnd(&w->seed) % 2;
		struct gw_session *s = NULL;

		snprintf(user, sizeof(user), "user%u", rnd(&w->seed) % 6);
		switch (r % 10) {
		case 0:
		case 1: { /* login */
			int id = __atomic_fetch_add(&st->next_id, 1, __ATOMIC_RELAXED);
			int e = gw_sessions_reserve(st->t, user, server);

			assert_true(e == 0 || e == -EBUSY || e == -EUSERS);
			if (e < 0 || r % 7 == 0) {
				if (e == 0)
					gw_sessions_unreserve(st->t, user, server);
				break;
			}
			/* Reservations do not count against the user's limit: the
			 * add itself may find it reached (and frees the sandbox). */
			e = gw_sessions_add(st->t, user, server, fake_new(id), tok, &s);
			assert_true(e == 0 || e == -EUSERS);
			__atomic_add_fetch(&st->created, 1, __ATOMIC_RELAXED);
			if (e < 0)
				break;
			pthread_mutex_lock(&st->pool_lock);
			memcpy(st->pool[rnd(&w->seed) % POOL], tok, sizeof(tok));
			pthread_mutex_unlock(&st->pool_lock);
			hold(w, s);
			break;
		}
		case 2:
		case 3:
		case 4: /* request with a token */
			pthread_mutex_lock(&st->pool_lock);
			memcpy(tok, st->pool[rnd(&w->seed) % POOL], sizeof(tok));
			pthread_mutex_unlock(&st->pool_lock);
			s = gw_sessions_get(st->t, tok);
			if (s) {
				assert_int_equal(strncmp(gw_session_user(s), "user", 4), 0);
				assert_true(gw_session_expires_in(s) <= 5);
				hold(w, s);
			}
			break;
		case 5: /* HTTP Basic */
			s = gw_sessions_find_user(st->t, user, server);
			if (s) {
				assert_string_equal(gw_session_user(s), user);
				assert_int_equal(gw_session_server(s), server);
				gw_session_touch(s);
				hold(w, s);
			}
			break;
		case 6: /* logout */
			if (w->held[i])
				gw_sessions_end(st->t, w->held[i]);
			break;
		case 7: /* request done */
			gw_session_put(w->held[i]);
			w->held[i] = NULL;
			break;
		case 8: /* time passes, the gateway's timer runs */
			advance(100);
			if (r % 3 == 0)
				gw_sessions_expire(st->t);
			break;
		default:
			assert_true(gw_sessions_in_use(st->t) <= STRESS_MAX);
			break;
		}
	}
	for (int i = 0; i < HELD; i++)
		gw_session_put(w->held[i]);
	return NULL;
}

static void test_stress(void **state)
{
	static struct stress st;
	struct worker w[THREADS];
	pthread_t th[THREADS];

	(void)state;
	memset(&st, 0, sizeof(st));
	st.t = table(STRESS_MAX, 4, 5);
	pthread_mutex_init(&st.pool_lock, NULL);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = &st;
		w[i].seed = 0x5eed + (unsigned)i * 7919;
		assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_true(st.next_id < MAX_IDS);
	assert_int_equal(gw_sessions_reserved(st.t), 0);
	gw_sessions_free(st.t);
	pthread_mutex_destroy(&st.pool_lock);
	/* Every sandbox freed exactly once. */
	assert_int_equal(freed_total, st.created);
	assert_true(st.created > 1000);
	for (int i = 0; i < MAX_IDS; i++)
		assert_true(freed[i] <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_new_invalid, setup),
	    cmocka_unit_test_setup(test_create_get_put_end, setup),
	    cmocka_unit_test_setup(test_token_format_unique, setup),
	    cmocka_unit_test_setup(test_unknown_and_malformed, setup),
	    cmocka_unit_test_setup(test_end_with_outstanding_reference, setup),
	    cmocka_unit_test_setup(test_max_sessions, setup),
	    cmocka_unit_test_setup(test_per_user_limit, setup),
	    cmocka_unit_test_setup(test_per_user_limit_on_add, setup),
	    cmocka_unit_test_setup(test_reserve_accounting, setup),
	    cmocka_unit_test_setup(test_idle_expiry, setup),
	    cmocka_unit_test_setup(test_find_user, setup),
	    cmocka_unit_test_setup(test_ids_list_accounting, setup),
	    cmocka_unit_test_setup(test_free_with_outstanding, setup),
	    cmocka_unit_test_setup(test_no_destructor, setup),
	    cmocka_unit_test_setup(test_stress, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
