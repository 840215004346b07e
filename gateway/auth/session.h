/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/session.h - the session table: token -> (user, server, sandbox).
 *
 * A session is one logged-in user on one configured server. It holds the
 * user name it is given, compared byte for byte (the gateway gives the
 * canonical user of canonuser.h, so "ALICE" and "ACME\alice" are one), the index of
 * the server in the configuration, and an opaque sandbox handle with the
 * destructor given to gw_sessions_new(). This module knows neither HTTP nor
 * sandboxes, and it never prints or logs anything (tokens least of all).
 *
 * Tokens are 256 bits from getrandom(), written as GW_TOKEN_LEN characters
 * of base64url without padding. They are looked up in a chained hash table
 * keyed with SipHash-2-4 under a random key, and compared in constant time.
 * (user, server) pairs are counted in a second table keyed the same way, so
 * that made-up user names cannot flood it.
 *
 * Limits: at most max_sessions sessions and reservations in all (-EBUSY), at
 * most max_per_user sessions for one (user, server) pair. A login of a pair
 * at its limit ends the pair's least recently used session that no request
 * holds (why: "replaced") and that is not brand new (used since its login, or
 * older than GW_SESSION_REPLACE_GRACE_MS, so that its login answer has
 * reached its client); -EUSERS only when there is none. Reservations (logins
 * still being checked) do not count against the pair's limit, so that a flood
 * of wrong passwords never refuses the right one; the pair's limit is checked
 * again when a reservation becomes a session. A session
 * that has not been used for idle_timeout_s seconds expires: its token dies
 * and the table drops its reference. Expiry runs in gw_sessions_expire() and
 * lazily in gw_sessions_reserve(), _get() and _find_user(), so an expired
 * session never counts against a limit.
 *
 * Lifetime: sessions are reference-counted. The table holds one reference
 * while the session is live; each gw_sessions_get(), _find_user() and _add()
 * returns one more, which the caller drops with gw_session_put(). Ending a
 * session (logout, expiry, gw_sessions_free()) kills its token at once; the
 * sandbox destructor runs when the last reference goes, exactly once, in the
 * thread that drops it, and never with the table's lock held.
 *
 * Every function is thread-safe (one mutex per table; the reference counts
 * are atomic), except gw_sessions_new(), gw_sessions_free() and
 * gw_sessions_set_clock(), which must not race with other calls on the same
 * table.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters of a token, without the terminating NUL: 256 bits in base64url. */
#define GW_TOKEN_LEN 43

/* Longest user name accepted, in bytes (without the NUL). */
#define GW_SESSION_MAX_USER 512

/* Bytes of a client address as text, NUL included (an IPv6 literal fits). */
#define GW_SESSION_ADDR 64

/* How long a new session, not used yet, cannot be ended for another login
 * of its user (its login answer may still be on its way). */
#define GW_SESSION_REPLACE_GRACE_MS 10000

/* Largest max_sessions accepted by gw_sessions_new(). */
#define GW_SESSIONS_LIMIT (1u << 20)

/* The table. */
struct gw_sessions;

/* One session; opaque, read through the gw_session_*() accessors. */
struct gw_session;

/*
 * Creates an empty table. @max_sessions (1..GW_SESSIONS_LIMIT) bounds
 * sessions plus reservations; @max_per_user (>= 1) bounds them for one
 * (user, server) pair; @idle_timeout_s (>= 1) is the idle expiry. @sbx_free
 * (may be NULL) is called on the sandbox handle of each session when its last
 * reference goes.
 * Returns 0 and *@ret (caller frees with gw_sessions_free()), or -EINVAL,
 * -ENOMEM, or an errno of getrandom() as a negative value; *@ret is untouched
 * on failure.
 */
int gw_sessions_new(unsigned max_sessions, unsigned max_per_user, unsigned idle_timeout_s,
		    void (*sbx_free)(void *sbx), struct gw_sessions **ret);

/*
 * Ends every session and drops every reservation, then frees the table. The
 * sandbox destructor runs here for each session that nobody else holds; a
 * session still referenced by a caller stays valid (its token is dead) and is
 * freed, with its sandbox, by the last gw_session_put(). Call it when no
 * other thread uses the table any more (gateway shutdown). NULL is allowed.
 */
void gw_sessions_free(struct gw_sessions *t);

/*
 * Reserves a slot for (@user, @server) before the slow login happens, so that
 * the limits hold when many logins run at once. Expires idle sessions first.
 * Returns 0 (release with gw_sessions_unreserve(), or turn into a session with
 * gw_sessions_add()), -EBUSY when max_sessions are in use (HTTP 503), -EUSERS
 * when that pair already has max_per_user live sessions and none of them can
 * be replaced (see Limits above; HTTP 503), -EINVAL for a
 * NULL, empty or too long @user, or -ENOMEM. Nothing changes on failure.
 */
int gw_sessions_reserve(struct gw_sessions *t, const char *user, size_t server);

/*
 * Releases one reservation of (@user, @server) made by gw_sessions_reserve()
 * (the login failed). Releasing a reservation that does not exist is ignored.
 */
void gw_sessions_unreserve(struct gw_sessions *t, const char *user, size_t server);

/*
 * Turns one reservation of (@user, @server) into a live session holding @sbx.
 *
 * Takes ownership of @sbx and consumes the reservation in every case (but a
 * NULL @t): on failure sbx_free(@sbx) has already been called and the
 * reservation is released, so the caller only reports the error.
 *
 * On success writes the token, NUL-terminated, to @token_out (at least
 * GW_TOKEN_LEN + 1 bytes) and returns 0 and a new reference in *@ret (release
 * with gw_session_put()), having ended the pair's least recently used
 * replaceable session when the pair was at max_per_user (see Limits above).
 * Errors: -EINVAL (NULL argument, bad @user), -ENOENT (no reservation for
 * that pair), -EUSERS (the pair is at max_per_user sessions and none can be
 * replaced), -ENOMEM, or an errno
 * of getrandom();
 * @token_out and *@ret are untouched on failure.
 */
int gw_sessions_add(struct gw_sessions *t, const char *user, size_t server, void *sbx,
		    char token_out[], struct gw_session **ret);

/*
 * Looks up a live session by @token and marks it used now. Returns a new
 * reference (release with gw_session_put()), or NULL for NULL, malformed,
 * unknown, ended or expired tokens.
 */
struct gw_session *gw_sessions_get(struct gw_sessions *t, const char *token);

/*
 * Finds a live session of (@user, @server), the most recently used if there
 * are several, for HTTP Basic requests that reuse a user's sandbox. Does NOT
 * mark it used: the caller checks the password with the sandbox first, then
 * calls gw_session_touch(), so that wrong passwords cannot keep a session
 * alive. Returns a new reference (release with gw_session_put()) or NULL.
 */
struct gw_session *gw_sessions_find_user(struct gw_sessions *t, const char *user, size_t server);

/* Marks @s used now (restarts its idle timeout); no effect once it has ended. */
void gw_session_touch(struct gw_session *s);

/*
 * Ends @s now (logout, admin kill, sandbox died): its token is dead when this
 * returns and the table drops its reference; the sandbox is freed when the
 * last reference goes. Idempotent: returns whether this call ended it. The
 * caller's own reference stays valid.
 */
bool gw_sessions_end(struct gw_sessions *t, struct gw_session *s);
/* The same, saying why (static text, e.g. "logout", "killed"): the end
 * callback (gw_sessions_on_end()) gets it; gw_sessions_end() says "ended". */
bool gw_sessions_end_why(struct gw_sessions *t, struct gw_session *s, const char *why);

/*
 * Calls @on_end(s, why) for each session that ended, when its last reference
 * goes, just before the sandbox destructor; @why is the reason given to
 * gw_sessions_end_why(), or "expired" (idle), or "shutdown"
 * (gw_sessions_free()). @s is still readable then. Set it before the table
 * is used by other threads.
 */
void gw_sessions_on_end(struct gw_sessions *t,
			void (*on_end)(const struct gw_session *s, const char *why));

/*
 * Changes the session limit and the idle expiry (configuration reload): new
 * logins count against @max_sessions (live sessions over it stay), and
 * @idle_timeout_s applies to every session from now on. Invalid values
 * (as gw_sessions_new() checks them) change nothing.
 */
void gw_sessions_set_limits(struct gw_sessions *t, unsigned max_sessions, unsigned idle_timeout_s);

/* Ends the sessions idle for idle_timeout_s or more; returns how many. */
unsigned gw_sessions_expire(struct gw_sessions *t);

/* Live sessions (reservations not included). */
unsigned gw_sessions_count(struct gw_sessions *t);

/* Reservations not yet added nor released. */
unsigned gw_sessions_reserved(struct gw_sessions *t);

/* Live sessions plus reservations, read together under the table's lock:
 * what max_sessions bounds (the sum of the two calls above can be torn). */
unsigned gw_sessions_in_use(struct gw_sessions *t);

/*
 * Takes one more reference on @s (which the caller holds already), for
 * something that outlives the caller's own (a download streaming after its
 * request handler returned). Returns @s; NULL gives NULL.
 */
struct gw_session *gw_session_hold(struct gw_session *s);

/* Drops a reference; the last one frees @s and calls sbx_free. NULL is allowed. */
void gw_session_put(struct gw_session *s);

/* The user name as given to gw_sessions_add(); valid while the caller holds @s. */
const char *gw_session_user(const struct gw_session *s);

/* The server index given to gw_sessions_add(). */
size_t gw_session_server(const struct gw_session *s);

/* The sandbox handle; owned by the session, valid while the caller holds @s. */
void *gw_session_sbx(const struct gw_session *s);

/* Seconds until @s expires if left idle, rounded up; 0 once expired or ended. */
unsigned gw_session_expires_in(const struct gw_session *s);

/* Seconds since @s was created. */
unsigned gw_session_age(const struct gw_session *s);

/*
 * The session's public id: 1 for the table's first session, then counting up;
 * never reused while the table lives, never derived from the token, so it can
 * be shown to an administrator (smbgatectl) and typed back.
 */
uint64_t gw_session_id(const struct gw_session *s);

/*
 * Looks up a live session by its public @id. Does NOT mark it used. Returns a
 * new reference (release with gw_session_put()) or NULL.
 */
struct gw_session *gw_sessions_by_id(struct gw_sessions *t, uint64_t id);

/* What gw_sessions_list() shows of one live session: never its token. */
struct gw_session_info {
	uint64_t id;
	const char *user; /* valid during the callback only */
	size_t server;
	char addr[GW_SESSION_ADDR]; /* client address of the latest request; "" if none */
	int64_t age_ms;		    /* since the login */
	int64_t idle_ms;	    /* since the last use */
	uint64_t bytes_in;	    /* request and response body bytes of its ended requests */
	uint64_t bytes_out;
	unsigned in_flight; /* requests holding it now */
	void *sbx;	    /* the sandbox handle; valid during the callback only */
};

/*
 * Called once per live session with the table's lock held: it copies what it
 * needs and must not call any gw_session*() function nor block.
 */
typedef void (*gw_session_list_cb)(void *ud, const struct gw_session_info *info);

/* Calls @cb for each live session, most recently used first; returns how many. */
unsigned gw_sessions_list(struct gw_sessions *t, gw_session_list_cb cb, void *ud);

/*
 * Request accounting, for gw_sessions_list(): a request that holds @s calls
 * _begin() once (@addr: the client's address as text, may be NULL) and
 * _end() once when it ends, with its body bytes in and out. NULL @s is
 * ignored.
 */
void gw_session_request_begin(struct gw_session *s, const char *addr);
void gw_session_request_end(struct gw_session *s, uint64_t bytes_in, uint64_t bytes_out);

/*
 * TEST HOOK: replaces the clock, a function returning monotonic time in
 * milliseconds (default: CLOCK_MONOTONIC), so expiry tests need not sleep.
 * @now is called with the table's lock held, from any thread. Call it before
 * the first session is added; NULL restores the default.
 */
void gw_sessions_set_clock(struct gw_sessions *t, int64_t (*now)(void));
