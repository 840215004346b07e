/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/session.c - the session table (see session.h).
 *
 * Structures, all guarded by t->lock except the reference counts:
 *  - by_token: chained hash table of live sessions, keyed by SipHash of the
 *    token; chains are short because tokens are random and the key is secret.
 *  - by_user: chained hash table of (user, server) pairs that have live
 *    sessions or reservations; each pair counts both and lists its live
 *    sessions. A pair is freed as soon as both counts are zero, so there are
 *    never more pairs than max_sessions.
 *  - lru: every live session, most recently used first. Touching moves a
 *    session to the head, so the list is ordered by last use and expiry only
 *    looks at its tail.
 *
 * The table itself is reference-counted: one reference for its owner and one
 * per session not yet freed, so that gw_session_put() and the accessors of a
 * session that outlives gw_sessions_free() still find the lock, the clock and
 * the destructor.
 *
 * Runs in: the gateway process (HTTP threads and the main thread's timer).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "auth/session.h"

#define TOKEN_BYTES 32 /* 256 bits -> 43 base64url characters */
#define MIN_BUCKETS 16

struct gw_user {
	struct gw_user *next; /* by_user chain */
	struct gw_session *sessions;
	size_t server;
	unsigned n_live;
	unsigned n_reserved;
	size_t len;
	char name[];
};

struct gw_session {
	struct gw_sessions *t;
	unsigned long refs;			/* atomic */
	bool live;				/* in the table; guarded by t->lock */
	struct gw_session *tnext;		/* by_token chain, or the dead list */
	struct gw_session *lru_prev, *lru_next; /* t->lru_head is the most recent */
	struct gw_session *uprev, *unext;	/* u->sessions */
	struct gw_user *u;
	int64_t created_ms;
	int64_t last_used_ms;
	size_t server;
	void *sbx;
	const char *why;	    /* why it ended (static text), set when it leaves the table */
	uint64_t id;		    /* public, from t->next_id; never derived from the token */
	char addr[GW_SESSION_ADDR]; /* of its latest request; guarded by t->lock */
	uint64_t bytes_in;	    /* atomic */
	uint64_t bytes_out;	    /* atomic */
	unsigned in_flight;	    /* atomic */
	char token[GW_TOKEN_LEN + 1];
	char user[];
};

struct gw_sessions {
	pthread_mutex_t lock;
	unsigned long refs; /* atomic: owner + sessions not yet freed */
	void (*sbx_free)(void *sbx);
	void (*on_end)(const struct gw_session *s, const char *why);
	int64_t (*now)(void);
	unsigned max_sessions;
	unsigned max_per_user;
	int64_t idle_ms;
	unsigned n_live;
	unsigned n_reserved;
	uint64_t next_id; /* the next session's public id */
	size_t mask;	  /* buckets - 1, for both tables */
	struct gw_session **by_token;
	struct gw_user **by_user;
	struct gw_session *lru_head, *lru_tail;
	uint64_t key[2]; /* SipHash key */
};

/* ---- SipHash-2-4 (Aumasson, Bernstein) --------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t siphash24(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = (uint64_t)len << 56;
	size_t left = len & 7;
	const unsigned char *end = p + (len - left);

	for (; p != end; p += 8) {
		uint64_t m = load_le64(p);

		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- helpers ------------------------------------------------------------ */

static int fill_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Constant-time comparison of two GW_TOKEN_LEN-character tokens. */
static bool token_equal(const char *a, const char *b)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < GW_TOKEN_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static int make_token(char out[GW_TOKEN_LEN + 1])
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[TOKEN_BYTES];
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	int r = fill_random(raw, sizeof(raw));

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(&acc, sizeof(acc));
	return 0;
}

static bool valid_user(const char *user, size_t *len)
{
	if (!user)
		return false;
	*len = strnlen(user, GW_SESSION_MAX_USER + 1);
	return *len > 0 && *len <= GW_SESSION_MAX_USER;
}

static size_t token_bucket(const struct gw_sessions *t, const char *token)
{
	return (size_t)siphash24(t->key, token, GW_TOKEN_LEN) & t->mask;
}

static size_t user_bucket(const struct gw_sessions *t, const char *user, size_t len, size_t server)
{
	uint64_t h = siphash24(t->key, user, len);

	h ^= (uint64_t)server * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return (size_t)h & t->mask;
}

static struct gw_user *user_find(struct gw_sessions *t, const char *user, size_t len, size_t server)
{
	for (struct gw_user *u = t->by_user[user_bucket(t, user, len, server)]; u; u = u->next)
		if (u->server == server && u->len == len && memcmp(u->name, user, len) == 0)
			return u;
	return NULL;
}

/* Frees @u if it has neither sessions nor reservations. */
static void user_release_if_empty(struct gw_sessions *t, struct gw_user *u)
{
	struct gw_user **pp;

	if (u->n_live > 0 || u->n_reserved > 0)
		return;
	for (pp = &t->by_user[user_bucket(t, u->name, u->len, u->server)]; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	free(u);
}

static void table_unref(struct gw_sessions *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->by_token);
	free(t->by_user);
	explicit_bzero(t->key, sizeof(t->key));
	free(t);
}

static void lru_unlink(struct gw_sessions *t, struct gw_session *s)
{
	if (s->lru_prev)
		s->lru_prev->lru_next = s->lru_next;
	else
		t->lru_head = s->lru_next;
	if (s->lru_next)
		s->lru_next->lru_prev = s->lru_prev;
	else
		t->lru_tail = s->lru_prev;
	s->lru_prev = s->lru_next = NULL;
}

static void lru_push_head(struct gw_sessions *t, struct gw_session *s)
{
	s->lru_prev = NULL;
	s->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = s;
	else
		t->lru_tail = s;
	t->lru_head = s;
}

/*
 * Removes live @s from every structure (lock held) and pushes it on *@dead;
 * the caller drops the table's reference with put_dead() after unlocking.
 */
static void detach_locked(struct gw_sessions *t, struct gw_session *s, struct gw_session **dead)
{
	struct gw_session **pp;
	struct gw_user *u = s->u;

	for (pp = &t->by_token[token_bucket(t, s->token)]; *pp; pp = &(*pp)->tnext)
		if (*pp == s) {
			*pp = s->tnext;
			break;
		}
	lru_unlink(t, s);
	if (s->uprev)
		s->uprev->unext = s->unext;
	else
		u->sessions = s->unext;
	if (s->unext)
		s->unext->uprev = s->uprev;
	s->uprev = s->unext = NULL;
	s->u = NULL;
	u->n_live--;
	user_release_if_empty(t, u);
	t->n_live--;
	s->live = false;
	s->tnext = *dead;
	*dead = s;
}

static void put_dead(struct gw_session *dead)
{
	while (dead) {
		struct gw_session *next = dead->tnext;

		gw_session_put(dead);
		dead = next;
	}
}

static bool is_idle(const struct gw_sessions *t, const struct gw_session *s, int64_t now)
{
	return now - s->last_used_ms >= t->idle_ms;
}

/* Detaches every idle session (lock held); returns how many. */
static unsigned expire_locked(struct gw_sessions *t, int64_t now, struct gw_session **dead)
{
	unsigned n = 0;

	while (t->lru_tail && is_idle(t, t->lru_tail, now)) {
		t->lru_tail->why = "expired";
		detach_locked(t, t->lru_tail, dead);
		n++;
	}
	return n;
}

/* The session of @u to end for a new one: its least recently used one that
 * no request holds now and whose login answer has surely reached its client
 * (used since, or older than GW_SESSION_REPLACE_GRACE_MS); NULL when there is
 * none (lock held). */
static struct gw_session *oldest_idle_locked(struct gw_user *u, int64_t now)
{
	struct gw_session *best = NULL;

	for (struct gw_session *s = u->sessions; s; s = s->unext)
		if (__atomic_load_n(&s->in_flight, __ATOMIC_RELAXED) == 0 &&
		    (s->last_used_ms > s->created_ms ||
		     now - s->created_ms >= GW_SESSION_REPLACE_GRACE_MS) &&
		    (!best || s->last_used_ms < best->last_used_ms))
			best = s;
	return best;
}

static void session_ref(struct gw_session *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

/* ---- the interface ------------------------------------------------------ */

int gw_sessions_new(unsigned max_sessions, unsigned max_per_user, unsigned idle_timeout_s,
		    void (*sbx_free)(void *sbx), struct gw_sessions **ret)
{
	struct gw_sessions *t;
	size_t buckets = MIN_BUCKETS;
	int r;

	if (!ret || max_sessions == 0 || max_sessions > GW_SESSIONS_LIMIT || max_per_user == 0 ||
	    idle_timeout_s == 0)
		return -EINVAL;
	while (buckets < max_sessions)
		buckets <<= 1;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->by_token = calloc(buckets, sizeof(*t->by_token));
	t->by_user = calloc(buckets, sizeof(*t->by_user));
	if (!t->by_token || !t->by_user) {
		r = -ENOMEM;
		goto fail;
	}
	r = fill_random(t->key, sizeof(t->key));
	if (r < 0)
		goto fail;
	r = -pthread_mutex_init(&t->lock, NULL);
	if (r < 0)
		goto fail;
	t->refs = 1;
	t->sbx_free = sbx_free;
	t->now = monotonic_ms;
	t->max_sessions = max_sessions;
	t->max_per_user = max_per_user;
	t->idle_ms = (int64_t)idle_timeout_s * 1000;
	t->mask = buckets - 1;
	t->next_id = 1;
	*ret = t;
	return 0;
fail:
	free(t->by_token);
	free(t->by_user);
	free(t);
	return r;
}

void gw_sessions_free(struct gw_sessions *t)
{
	struct gw_session *dead = NULL;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	while (t->lru_head) {
		t->lru_head->why = "shutdown";
		detach_locked(t, t->lru_head, &dead);
	}
	/* Only reservations are left. */
	for (size_t b = 0; b <= t->mask; b++) {
		while (t->by_user[b]) {
			struct gw_user *u = t->by_user[b];

			t->by_user[b] = u->next;
			free(u);
		}
	}
	t->n_reserved = 0;
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	table_unref(t);
}

void gw_sessions_set_clock(struct gw_sessions *t, int64_t (*now)(void))
{
	pthread_mutex_lock(&t->lock);
	t->now = now ? now : monotonic_ms;
	pthread_mutex_unlock(&t->lock);
}

int gw_sessions_reserve(struct gw_sessions *t, const char *user, size_t server)
{
	struct gw_session *dead = NULL;
	struct gw_user *u;
	size_t len;
	int r = 0;

	if (!t || !valid_user(user, &len))
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	expire_locked(t, t->now(), &dead);
	if (t->n_live + t->n_reserved >= t->max_sessions) {
		r = -EBUSY;
		goto out;
	}
	u = user_find(t, user, len, server);
	/* Only sessions count here, not logins still being checked: a flood of
	 * wrong passwords must not lock the right one out. */
	if (u && u->n_live >= t->max_per_user && !oldest_idle_locked(u, t->now())) {
		r = -EUSERS;
		goto out;
	}
	if (!u) {
		size_t b = user_bucket(t, user, len, server);

		u = calloc(1, sizeof(*u) + len + 1);
		if (!u) {
			r = -ENOMEM;
			goto out;
		}
		u->server = server;
		u->len = len;
		memcpy(u->name, user, len);
		u->next = t->by_user[b];
		t->by_user[b] = u;
	}
	u->n_reserved++;
	t->n_reserved++;
out:
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	return r;
}

/* Releases one reservation of the pair (lock held); false if there is none. */
static bool unreserve_locked(struct gw_sessions *t, const char *user, size_t len, size_t server)
{
	struct gw_user *u = user_find(t, user, len, server);

	if (!u || u->n_reserved == 0)
		return false;
	u->n_reserved--;
	t->n_reserved--;
	user_release_if_empty(t, u);
	return true;
}

void gw_sessions_unreserve(struct gw_sessions *t, const char *user, size_t server)
{
	size_t len;

	if (!t || !valid_user(user, &len))
		return;
	pthread_mutex_lock(&t->lock);
	unreserve_locked(t, user, len, server);
	pthread_mutex_unlock(&t->lock);
}

/* Room for one more session of @u (lock held): when @u has its maximum, its
 * least recently used session that no request holds ends ("replaced", put
 * on *@dead); false when every one is busy. */
static bool make_room_locked(struct gw_sessions *t, struct gw_user *u, struct gw_session **dead)
{
	if (u->n_live < t->max_per_user)
		return true;
	struct gw_session *old = oldest_idle_locked(u, t->now());
	if (!old)
		return false;
	old->why = "replaced";
	detach_locked(t, old, dead);
	return true;
}

/* A new token for @s, unique in @t (lock held): 0 and its bucket in
 * *@bucket, or make_token()'s error. */
static int token_unique_locked(struct gw_sessions *t, struct gw_session *s, size_t *bucket)
{
	/* A collision of 256-bit random tokens will not happen; check anyway. */
	for (;;) {
		bool dup = false;
		int r = make_token(s->token);
		if (r < 0)
			return r;
		size_t b = token_bucket(t, s->token);
		for (struct gw_session *o = t->by_token[b]; o; o = o->tnext)
			dup |= token_equal(o->token, s->token);
		if (!dup) {
			*bucket = b;
			return 0;
		}
	}
}

/* Makes @s, whose token is in bucket @b, a live session of @u (lock held):
 * one reservation of @u becomes it. */
static void insert_locked(struct gw_sessions *t, struct gw_user *u, struct gw_session *s, size_t b)
{
	s->created_ms = s->last_used_ms = t->now();
	s->id = t->next_id++;
	s->live = true;
	s->u = u;
	s->tnext = t->by_token[b];
	t->by_token[b] = s;
	s->unext = u->sessions;
	if (u->sessions)
		u->sessions->uprev = s;
	u->sessions = s;
	lru_push_head(t, s);
	u->n_reserved--;
	u->n_live++;
	t->n_reserved--;
	t->n_live++;
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

int gw_sessions_add(struct gw_sessions *t, const char *user, size_t server, void *sbx,
		    char token_out[], struct gw_session **ret)
{
	struct gw_session *s = NULL, *dead = NULL;
	struct gw_user *u;
	size_t len = 0;
	size_t b = 0;
	bool valid;
	int r;

	if (!t)
		return -EINVAL;
	valid = valid_user(user, &len);
	if (!valid || !token_out || !ret) {
		r = -EINVAL;
		goto fail_unlocked;
	}
	s = calloc(1, sizeof(*s) + len + 1);
	if (!s) {
		r = -ENOMEM;
		goto fail_unlocked;
	}
	memcpy(s->user, user, len);
	s->server = server;
	s->sbx = sbx;
	s->t = t;
	s->refs = 2; /* the table's and the caller's */

	pthread_mutex_lock(&t->lock);
	u = user_find(t, user, len, server);
	if (!u || u->n_reserved == 0) {
		pthread_mutex_unlock(&t->lock);
		r = -ENOENT;
		valid = false; /* nothing to release */
		goto fail_unlocked;
	}
	/* The user's least recently used session that no request holds makes
	 * room; none when every one is busy. */
	if (!make_room_locked(t, u, &dead)) {
		pthread_mutex_unlock(&t->lock);
		r = -EUSERS;
		goto fail_unlocked;
	}
	r = token_unique_locked(t, s, &b);
	if (r < 0) {
		unreserve_locked(t, user, len, server);
		pthread_mutex_unlock(&t->lock);
		valid = false;
		goto fail_unlocked;
	}
	insert_locked(t, u, s, b);
	memcpy(token_out, s->token, GW_TOKEN_LEN + 1);
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	*ret = s;
	return 0;

fail_unlocked:
	if (valid) {
		pthread_mutex_lock(&t->lock);
		unreserve_locked(t, user, len, server);
		pthread_mutex_unlock(&t->lock);
	}
	if (s) {
		explicit_bzero(s->token, sizeof(s->token));
		free(s);
	}
	if (t->sbx_free && sbx)
		t->sbx_free(sbx);
	return r;
}

struct gw_session *gw_sessions_get(struct gw_sessions *t, const char *token)
{
	struct gw_session *dead = NULL;
	struct gw_session *found = NULL;
	int64_t now;

	if (!t || !token || strnlen(token, GW_TOKEN_LEN + 1) != GW_TOKEN_LEN)
		return NULL;
	pthread_mutex_lock(&t->lock);
	now = t->now();
	expire_locked(t, now, &dead);
	for (struct gw_session *s = t->by_token[token_bucket(t, token)]; s; s = s->tnext)
		if (token_equal(s->token, token))
			found = s;
	if (found && is_idle(t, found, now)) {
		/* Only when the clock went back: the LRU order is by last use. */
		found->why = "expired";
		detach_locked(t, found, &dead);
		found = NULL;
	}
	if (found) {
		found->last_used_ms = now;
		lru_unlink(t, found);
		lru_push_head(t, found);
		session_ref(found);
	}
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	return found;
}

struct gw_session *gw_sessions_find_user(struct gw_sessions *t, const char *user, size_t server)
{
	struct gw_session *dead = NULL;
	struct gw_session *best = NULL;
	struct gw_user *u;
	size_t len;
	int64_t now;

	if (!t || !valid_user(user, &len))
		return NULL;
	pthread_mutex_lock(&t->lock);
	now = t->now();
	expire_locked(t, now, &dead);
	u = user_find(t, user, len, server);
	/* New sessions are pushed at the head: on equal times the newest wins. */
	for (struct gw_session *s = u ? u->sessions : NULL; s; s = s->unext)
		if (!is_idle(t, s, now) && (!best || s->last_used_ms > best->last_used_ms))
			best = s;
	if (best)
		session_ref(best);
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	return best;
}

void gw_session_touch(struct gw_session *s)
{
	struct gw_sessions *t;

	if (!s)
		return;
	t = s->t;
	pthread_mutex_lock(&t->lock);
	if (s->live) {
		s->last_used_ms = t->now();
		lru_unlink(t, s);
		lru_push_head(t, s);
	}
	pthread_mutex_unlock(&t->lock);
}

bool gw_sessions_end(struct gw_sessions *t, struct gw_session *s)
{
	return gw_sessions_end_why(t, s, "ended");
}

bool gw_sessions_end_why(struct gw_sessions *t, struct gw_session *s, const char *why)
{
	struct gw_session *dead = NULL;
	bool ended = false;

	if (!t || !s || s->t != t)
		return false;
	pthread_mutex_lock(&t->lock);
	if (s->live) {
		s->why = why;
		detach_locked(t, s, &dead);
		ended = true;
	}
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	return ended;
}

unsigned gw_sessions_expire(struct gw_sessions *t)
{
	struct gw_session *dead = NULL;
	unsigned n;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	n = expire_locked(t, t->now(), &dead);
	pthread_mutex_unlock(&t->lock);
	put_dead(dead);
	return n;
}

void gw_sessions_set_limits(struct gw_sessions *t, unsigned max_sessions, unsigned idle_timeout_s)
{
	if (!t || max_sessions == 0 || max_sessions > GW_SESSIONS_LIMIT || idle_timeout_s == 0)
		return;
	pthread_mutex_lock(&t->lock);
	t->max_sessions = max_sessions;
	t->idle_ms = (int64_t)idle_timeout_s * 1000;
	pthread_mutex_unlock(&t->lock);
}

void gw_sessions_on_end(struct gw_sessions *t,
			void (*on_end)(const struct gw_session *s, const char *why))
{
	t->on_end = on_end;
}

/* The live sessions (with @live) plus the reservations (with @reserved). */
static unsigned sessions_sum(struct gw_sessions *t, bool live, bool reserved)
{
	pthread_mutex_lock(&t->lock);
	unsigned n = (live ? t->n_live : 0) + (reserved ? t->n_reserved : 0);
	pthread_mutex_unlock(&t->lock);
	return n;
}

unsigned gw_sessions_count(struct gw_sessions *t)
{
	return sessions_sum(t, true, false);
}

unsigned gw_sessions_reserved(struct gw_sessions *t)
{
	return sessions_sum(t, false, true);
}

unsigned gw_sessions_in_use(struct gw_sessions *t)
{
	return sessions_sum(t, true, true);
}

struct gw_session *gw_session_hold(struct gw_session *s)
{
	if (s)
		session_ref(s);
	return s;
}

void gw_session_put(struct gw_session *s)
{
	struct gw_sessions *t;

	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	t = s->t;
	if (t->on_end)
		t->on_end(s, s->why ? s->why : "ended");
	if (t->sbx_free && s->sbx)
		t->sbx_free(s->sbx);
	explicit_bzero(s->token, sizeof(s->token));
	free(s);
	table_unref(t);
}

const char *gw_session_user(const struct gw_session *s)
{
	return s->user;
}

size_t gw_session_server(const struct gw_session *s)
{
	return s->server;
}

void *gw_session_sbx(const struct gw_session *s)
{
	return s->sbx;
}

unsigned gw_session_expires_in(const struct gw_session *s)
{
	struct gw_sessions *t = s->t;
	int64_t left = 0;

	pthread_mutex_lock(&t->lock);
	if (s->live)
		left = s->last_used_ms + t->idle_ms - t->now();
	pthread_mutex_unlock(&t->lock);
	if (left <= 0)
		return 0;
	left = (left + 999) / 1000;
	return left > UINT_MAX ? UINT_MAX : (unsigned)left;
}

unsigned gw_session_age(const struct gw_session *s)
{
	struct gw_sessions *t = s->t;
	int64_t age;

	pthread_mutex_lock(&t->lock);
	age = (t->now() - s->created_ms) / 1000;
	pthread_mutex_unlock(&t->lock);
	if (age <= 0)
		return 0;
	return age > UINT_MAX ? UINT_MAX : (unsigned)age;
}

uint64_t gw_session_id(const struct gw_session *s)
{
	return s->id;
}

struct gw_session *gw_sessions_by_id(struct gw_sessions *t, uint64_t id)
{
	struct gw_session *found = NULL;

	if (!t)
		return NULL;
	pthread_mutex_lock(&t->lock);
	for (struct gw_session *s = t->lru_head; s && !found; s = s->lru_next)
		if (s->id == id && !is_idle(t, s, t->now()))
			found = s;
	if (found)
		session_ref(found);
	pthread_mutex_unlock(&t->lock);
	return found;
}

unsigned gw_sessions_list(struct gw_sessions *t, gw_session_list_cb cb, void *ud)
{
	unsigned n = 0;
	int64_t now;

	if (!t || !cb)
		return 0;
	pthread_mutex_lock(&t->lock);
	now = t->now();
	for (struct gw_session *s = t->lru_head; s; s = s->lru_next) {
		struct gw_session_info info = {
		    .id = s->id,
		    .user = s->user,
		    .server = s->server,
		    .age_ms = now - s->created_ms,
		    .idle_ms = now - s->last_used_ms,
		    .bytes_in = __atomic_load_n(&s->bytes_in, __ATOMIC_RELAXED),
		    .bytes_out = __atomic_load_n(&s->bytes_out, __ATOMIC_RELAXED),
		    .in_flight = __atomic_load_n(&s->in_flight, __ATOMIC_RELAXED),
		    .sbx = s->sbx,
		};

		if (is_idle(t, s, now))
			continue; /* expired, not yet collected */
		memcpy(info.addr, s->addr, sizeof(info.addr));
		cb(ud, &info);
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

void gw_session_request_begin(struct gw_session *s, const char *addr)
{
	if (!s)
		return;
	__atomic_add_fetch(&s->in_flight, 1, __ATOMIC_RELAXED);
	if (addr && *addr) {
		pthread_mutex_lock(&s->t->lock);
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		pthread_mutex_unlock(&s->t->lock);
	}
}

void gw_session_request_end(struct gw_session *s, uint64_t bytes_in, uint64_t bytes_out)
{
	if (!s)
		return;
	__atomic_add_fetch(&s->bytes_in, bytes_in, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes_out, bytes_out, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&s->in_flight, 1, __ATOMIC_RELAXED);
}
