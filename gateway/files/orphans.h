/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/orphans.h - upload temporaries left on a file server by a sandbox
 * that died mid-upload, waiting to be removed.
 *
 * A worker removes the temporary of an upload that fails (proto.h, WRITE).
 * When the worker itself dies (killed, crashed, timed out) it cannot; the
 * gateway, which chose the temporary's name, records it here: (user, server,
 * share, target path, temporary). The gateway never keeps passwords, so only
 * a sandbox of that same user can remove it: the next request of any session
 * of (user, server) takes that user's entries (gw_orphans_take()) and asks its
 * sandbox to drop them (PROTO_DROP_TMP).
 *
 * Bounded: at most max_total entries in all and max_per_user per (user,
 * server); adding past either limit drops the oldest entry concerned. An entry
 * not taken within ttl_s seconds is dropped by gw_orphans_expire(). A dropped
 * entry is handed back to the caller, who logs it (the file stays on the
 * server, under the reserved prefix, for an administrator to remove).
 *
 * The user name is compared byte for byte, as in session.h. This module knows
 * neither HTTP nor sandboxes and prints nothing. Thread-safe (one mutex),
 * except gw_orphans_new(), gw_orphans_free() and gw_orphans_set_clock().
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct gw_orphans;

/* One temporary. The strings point into the entry itself. */
struct gw_orphan {
	struct gw_orphan *next; /* lists handed to the caller */
	int64_t added_ms;	/* the table's clock */
	size_t server;
	unsigned tries; /* failed attempts to drop it so far */
	uint64_t jid;	/* its entry in the journal (journal.h); 0: none */
	const char *user, *share, *path;
	char tmp[PROTO_TMP_NAME_LEN + 1];
	char data[]; /* user, share and path, NUL-terminated */
};

/*
 * Creates an empty table: @max_total >= 1 entries in all, @max_per_user >= 1
 * per (user, server), each kept @ttl_s >= 1 seconds at most. Returns 0 and
 * *@ret (caller frees with gw_orphans_free()), -EINVAL or -ENOMEM; *@ret is
 * untouched on failure.
 */
int gw_orphans_new(unsigned max_total, unsigned max_per_user, unsigned ttl_s,
		   struct gw_orphans **ret);
/* Frees the table and its entries. NULL is allowed. */
void gw_orphans_free(struct gw_orphans *o);

/*
 * Records a temporary @tmp (proto_tmp_name_valid()) left beside @path in
 * @share by an upload of (@user, @server), whose journal entry is @jid (0:
 * none; the entry keeps it for the caller). When a limit is reached the oldest
 * entry of that user (or of all, when the table is full) makes room: it is
 * returned in *@ret_dropped (caller frees with gw_orphan_free(); NULL when
 * none). Returns 0, -EINVAL (NULL, empty or too long strings, a bad @tmp) or
 * -ENOMEM; nothing changes on failure.
 */
int gw_orphans_add(struct gw_orphans *o, const char *user, size_t server, const char *share,
		   const char *path, const char *tmp, uint64_t jid, struct gw_orphan **ret_dropped);

/*
 * Takes every unexpired entry of (@user, @server) out of the table, oldest
 * first, as a list linked by ->next (NULL when none: cheap, for every request).
 * The caller owns them: it frees each with gw_orphan_free(), or hands it back
 * with gw_orphans_put_back() to try again later.
 */
struct gw_orphan *gw_orphans_take(struct gw_orphans *o, const char *user, size_t server);

/*
 * Hands back an entry from gw_orphans_take(), keeping its age and tries
 * (the caller counts them). Takes ownership of @e. When a limit is reached
 * meanwhile, the oldest entry concerned (maybe @e) is returned in
 * *@ret_dropped as in gw_orphans_add().
 */
void gw_orphans_put_back(struct gw_orphans *o, struct gw_orphan *e, struct gw_orphan **ret_dropped);

/* Removes the entries older than ttl_s; returns them as a list (caller frees
 * each with gw_orphan_free()), or NULL. */
struct gw_orphan *gw_orphans_expire(struct gw_orphans *o);

/* Removes every entry; returns them as a list, as gw_orphans_expire(). */
struct gw_orphan *gw_orphans_take_all(struct gw_orphans *o);

/* Entries in the table. */
unsigned gw_orphans_count(struct gw_orphans *o);

/* Frees one entry. NULL is allowed. */
void gw_orphan_free(struct gw_orphan *e);

/* TEST HOOK: the clock, monotonic milliseconds (default CLOCK_MONOTONIC);
 * NULL restores the default. */
void gw_orphans_set_clock(struct gw_orphans *o, int64_t (*now)(void));

/* The gateway's bounds on the table (main.c). */
#define GW_ORPHANS_MAX	    1024  /* in all */
#define GW_ORPHANS_PER_USER 16	  /* per user and server */
#define GW_ORPHANS_TTL	    86400 /* seconds an entry waits for its user */
#define GW_ORPHANS_TRIES    3	  /* failed attempts to remove one before giving up */
