/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/uploads.h - the table of resumable uploads (tus 1.0, rest/tus.c): what
 * the gateway must remember of each between requests. The bytes live in the
 * upload's temporary on the file server, beside its target; the gateway
 * keeps its name, the target, the length and the offset last seen.
 *
 * An upload belongs to (user, server), not to a session: it can be resumed
 * from any session of that user, a new sandbox included, until it has not
 * been touched for ttl_s seconds (gw_tus_expire() then hands it back, and the
 * caller has its temporary removed as orphans.h does). One request at a time
 * works on an upload (gw_tus_acquire()/gw_tus_release()).
 *
 * A writer (a PATCH, or a POST with its first bytes) that has waited
 * GW_TUS_STALL_MS for its client is stalled: a request of the writer's own
 * session takes the upload over (gw_tus_acquire_as()): the writer's
 * connection is shut down (shutdown(2)), its request ends and keeps what
 * came, and the new request gets the upload. Anyone else waits (-EBUSY with
 * the seconds to wait): a cut connection the gateway cannot see (the
 * client's side only: a Wi-Fi switch, a NAT) ends when its body stops
 * arriving (conns.h).
 *
 * Bounded: at most max_total uploads (a complete one makes room for a new
 * one), max_per_user unfinished ones per (user, server).
 * Knows neither HTTP nor sandboxes. Thread-safe (one mutex), except
 * gw_tus_new(), gw_tus_free() and gw_tus_set_clock().
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define GW_TUS_ID_LEN 32 /* lowercase hex digits */

/* A writer this long without a byte from its client is stalled (ms). */
#define GW_TUS_STALL_MS 3000
/* How long a take-over waits for the stalled writer to end (ms). */
#define GW_TUS_TAKEOVER_WAIT_MS 10000
/* Retry-After (s) for a request that cannot take over a busy upload. */
#define GW_TUS_RETRY_AFTER 5

/* The protocol's version, in every answer's Tus-Resumable. */
#define GW_TUS_VERSION "1.0.0"

struct gw_tus;

/* One upload; strings point into the upload itself. */
struct gw_tus_upload {
	struct gw_tus_upload *next; /* lists handed to the caller */
	char id[GW_TUS_ID_LEN + 1];
	const char *user, *share, *path, *metadata; /* metadata: Upload-Metadata as sent */
	size_t server;
	char tmp[PROTO_TMP_NAME_LEN + 1];
	uint64_t jid; /* the temporary's journal entry (journal.h); 0: none */
	uint64_t length;
	uint64_t offset;    /* as last seen */
	bool offset_known;  /* false after a worker died mid-append: ask the file server */
	bool done;	    /* complete: renamed over the target, no temporary left */
	uint32_t flags;	    /* PROTO_F_OVERWRITE */
	int64_t expires_ms; /* the table's clock */
	bool busy;
	/* While busy with a writer (gw_tus_writer()): its session, its
	 * connection's socket (-1: not waiting for its client), since when it
	 * waits (the table's clock). */
	uint64_t writer_session;
	int writer_fd;
	int64_t writer_since_ms;
	char data[];
};

/* A new empty table (@max_total, @max_per_user >= 1; @ttl_s >= 1). 0 and
 * *@ret (caller frees with gw_tus_free()), -EINVAL or -ENOMEM. */
int gw_tus_new(unsigned max_total, unsigned max_per_user, unsigned ttl_s, struct gw_tus **ret);
void gw_tus_free(struct gw_tus *t);

/*
 * Adds an upload of @length bytes to @path in @share for (@user, @server),
 * written to the temporary @tmp (journal entry @jid, kept for the caller); a
 * fresh random id goes into @ret_id.
 * Returns 0, -EUSERS (max_per_user reached for that user), -ENOSPC (the
 * table is full), -EINVAL, -ENOMEM; nothing changes on failure.
 */
int gw_tus_add(struct gw_tus *t, const char *user, size_t server, const char *share,
	       const char *path, const char *tmp, uint64_t jid, uint64_t length, uint32_t flags,
	       const char *metadata, char ret_id[GW_TUS_ID_LEN + 1]);

/* The server of upload @id (for authentication), or -ENOENT. */
int gw_tus_server(struct gw_tus *t, const char *id, size_t *ret_server);

/*
 * Takes upload @id of (@user, @server) for one request: *@ret is a copy
 * (caller frees with free()). -ENOENT: no such upload for them (or expired);
 * -EBUSY: another request has it. gw_tus_release() gives it back.
 */
int gw_tus_acquire(struct gw_tus *t, const char *id, const char *user, size_t server,
		   struct gw_tus_upload **ret);

/*
 * gw_tus_acquire() for a request of session @session (0: none, never takes
 * over). On -EBUSY *@ret_retry_s (if not NULL) is the seconds to wait before
 * asking again. A stalled writer of @session (see above) is shut down and
 * waited for, at most GW_TUS_TAKEOVER_WAIT_MS; then the upload is taken.
 */
int gw_tus_acquire_as(struct gw_tus *t, const char *id, const char *user, size_t server,
		      uint64_t session, struct gw_tus_upload **ret, unsigned *ret_retry_s);

/*
 * The request that holds upload @id writes to it for @session: @fd >= 0, it
 * waits for its client's bytes on the connection socket @fd from now on
 * (not owned: the caller calls this with -1 before the socket may close);
 * @fd -1, it is busy in the gateway (cannot be taken over).
 */
void gw_tus_writer(struct gw_tus *t, const char *id, uint64_t session, int fd);

/* Gives back an upload taken with gw_tus_acquire() with what the request
 * learnt (@offset, @offset_known, @done) and a fresh expiry. */
void gw_tus_release(struct gw_tus *t, const char *id, uint64_t offset, bool offset_known,
		    bool done);

/* Removes an upload taken with gw_tus_acquire() (terminated, or gone); a
 * request waiting to take it over then gets -ENOENT. */
void gw_tus_remove(struct gw_tus *t, const char *id);

/* The expiry of an upload, as the table's clock says, in seconds since the
 * epoch (for Upload-Expires). */
int64_t gw_tus_expires_epoch(struct gw_tus *t, const struct gw_tus_upload *u);

/* Removes the idle uploads past their expiry; returns them as a list (caller
 * frees each with free()), or NULL. */
struct gw_tus_upload *gw_tus_expire(struct gw_tus *t);

/* Removes every upload (not busy or busy); returns them as gw_tus_expire(). */
struct gw_tus_upload *gw_tus_take_all(struct gw_tus *t);

unsigned gw_tus_count(struct gw_tus *t);

/* TEST HOOK: the clock, monotonic milliseconds; NULL restores the default. */
void gw_tus_set_clock(struct gw_tus *t, int64_t (*now)(void));

/* The gateway's bounds on the table (main.c); the expiry is [gateway] upload_expiry. */
#define GW_TUS_MAX	1024 /* unfinished, in all */
#define GW_TUS_PER_USER 16   /* unfinished, per user and server */
