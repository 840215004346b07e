/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/davlock.h - WebDAV's write locks (RFC 4918 class 2): one table in
 * the gateway's memory, shared by every user and session, keyed by a
 * resource's key "SERVER/SHARE" or "SERVER/SHARE/path/inside" (the caller
 * builds it from a parsed path; compared byte for byte).
 *
 * A lock is exclusive or shared, of depth 0 or infinity (it then covers every
 * key below its own), belongs to the user name that took it, and ends at its
 * timeout unless refreshed. Its token is "opaquelocktoken:" and a random
 * UUID (122 bits from getrandom()).
 *
 * Limits, whatever is sent: DAVLOCK_MAX locks in all, a caller-given number
 * per user, DAVLOCK_MAX_COVER locks over any one key (so that a lockdiscovery
 * stays small), owners of at most DAVLOCK_MAX_OWNER bytes.
 *
 * A table made by davlock_open() is kept in a file as well, so that locks
 * survive a restart of the gateway: one JSON object per line, appended with
 * one write() for each lock taken, refreshed, removed or expired, rewritten
 * with the live locks only at start-up and when the dead lines outweigh the
 * live ones. Mode 0600 (the tokens are in it), never followed through a
 * link, held with an exclusive flock() so that a second gateway cannot share
 * it. The ends of locks are kept as wall-clock time; at start-up expired
 * locks, lines that do not parse and locks that break a limit are left out.
 * Nothing is fsync()ed: it is for a gateway that restarts or dies, not for a
 * machine that loses power.
 *
 * Times are seconds of a monotonic clock given by the caller (@now), so that
 * tests need not sleep. Thread-safe (one mutex).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAVLOCK_TOKEN_LEN   (16 + 36) /* "opaquelocktoken:" + UUID */
#define DAVLOCK_MAX	    4096      /* locks in the table */
#define DAVLOCK_MAX_TIMEOUT 3600      /* seconds: longer requests (Infinite) get this */
#define DAVLOCK_MAX_COVER   32	      /* locks over one key (shared ones), its own and inherited */
#define DAVLOCK_MAX_OWNER   4096      /* bytes of a lock's owner (DAV:owner as XML) */

struct davlock_table;

/* What davlock_each() shows of one lock; pointers valid during the callback. */
struct davlock_info {
	const char *token;
	const char *key;   /* the lock's root */
	const char *user;  /* who took it */
	const char *owner; /* the client's DAV:owner as XML, or NULL */
	bool exclusive;
	bool infinite;
	unsigned timeout;  /* seconds it was given */
	int64_t remaining; /* seconds left */
};

/* A table in memory only. Returns 0 and *@ret (free with davlock_free()), or -ENOMEM. */
int davlock_new(struct davlock_table **ret);

/*
 * A table kept in the file @path (see above): opens or creates it, loads the
 * locks an earlier run left (*@ret_dropped, may be NULL: lines left out:
 * unreadable, expired, or past a limit) and rewrites it with them. @now: the
 * caller's monotonic clock, @wall: seconds since the epoch, both now.
 * Returns 0 and *@ret (free with davlock_free(): the file stays for the next
 * start), -EWOULDBLOCK when another process holds the file, -ENOMEM, or the
 * negative errno of open/read/write/rename; *@ret untouched on failure.
 */
int davlock_open(const char *path, int64_t now, int64_t wall, unsigned *ret_dropped,
		 struct davlock_table **ret);
void davlock_free(struct davlock_table *t);

/* How many live locks the table holds (for tests). */
size_t davlock_count(struct davlock_table *t, int64_t now);

/*
 * Locks @key for @user. Conflicts: an exclusive lock conflicts with every
 * other lock, a shared one with exclusive ones; a lock on @key or on an
 * ancestor with depth infinity, or (when @infinite) on a key below @key,
 * conflicts. @timeout is clamped to 1..DAVLOCK_MAX_TIMEOUT (0: the maximum).
 * @owner (may be NULL) is copied. Returns 0 and the token in @token
 * (DAVLOCK_TOKEN_LEN + 1 bytes), -EBUSY (a conflicting lock: 423), -EMLINK
 * (DAVLOCK_MAX_COVER locks would be over a key), -EDQUOT (@user holds
 * @max_per_user locks), -ENOSPC (DAVLOCK_MAX locks), -E2BIG (@owner longer
 * than DAVLOCK_MAX_OWNER), -EINVAL, -ENOMEM; nothing changes on failure.
 */
int davlock_lock(struct davlock_table *t, const char *key, bool exclusive, bool infinite,
		 unsigned timeout, const char *user, const char *owner, unsigned max_per_user,
		 int64_t now, char token[DAVLOCK_TOKEN_LEN + 1]);

/*
 * Refreshes the lock @token, which must cover @key and belong to @user:
 * gives it @timeout (clamped as above) from @now. Returns 0, -ENOENT (no
 * such live lock covering @key), -EPERM (another user's).
 */
int davlock_refresh(struct davlock_table *t, const char *key, const char *token, const char *user,
		    unsigned timeout, int64_t now);

/*
 * Removes the lock @token, which must cover @key and belong to @user.
 * Returns 0, -ENOENT, -EPERM.
 */
int davlock_unlock(struct davlock_table *t, const char *key, const char *token, const char *user,
		   int64_t now);

/* Whether @token is a live lock that covers @key (for the If header). */
bool davlock_covers(struct davlock_table *t, const char *key, const char *token, int64_t now);

/*
 * May @user change @key (and, when @tree, everything below it: DELETE, MOVE)
 * presenting the @n tokens @tokens? Of the live locks that cover @key (one
 * exclusive, or shared ones) one must be presented by the user who holds it;
 * with @tree, each lock below @key too. Returns 0, or -EBUSY (423) and the
 * root of a lock in the way in @ret_key when not NULL (a copy, caller frees).
 */
int davlock_check(struct davlock_table *t, const char *key, bool tree, const char *const *tokens,
		  size_t n, const char *user, int64_t now, char **ret_key);

/* Removes every lock on @key and below it (the resource was deleted or moved
 * away; RFC 4918 7.7: locks do not move with their resource). */
void davlock_drop_tree(struct davlock_table *t, const char *key, int64_t now);

/* Calls @cb for each live lock that covers @key (lockdiscovery); returns how many. */
size_t davlock_each(struct davlock_table *t, const char *key, int64_t now,
		    void (*cb)(void *ud, const struct davlock_info *info), void *ud);

/* ---- the If header (RFC 4918 10.4) ---- */

#define DAVLOCK_IF_MAX 64 /* conditions in one If header */

struct davlock_cond {
	bool not ;   /* "Not" before it */
	bool etag;   /* an entity tag ("[...]"), else a state token ("<...>") */
	char *value; /* the token without its <>, or the tag with its quotes (and W/) */
};

struct davlock_iflist {
	char *resource; /* the tagged resource (a URL without its <>), or NULL */
	size_t n;
	struct davlock_cond *c;
};

struct davlock_if {
	size_t n;
	struct davlock_iflist *lists;
};

/*
 * Parses the value of an If header into *@ret (free with davlock_if_clear()):
 * no-tag lists "(...)" or tagged lists "<url> (...)", each condition
 * ["Not"] <state-token> or ["Not"] [entity-tag]. Returns 0, -EINVAL (bad
 * syntax, an empty list, more than DAVLOCK_IF_MAX conditions), -ENOMEM;
 * *@ret untouched on failure.
 */
int davlock_if_parse(const char *value, struct davlock_if *ret);
void davlock_if_clear(struct davlock_if *h);
