/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/journal.h - the journal of upload temporaries: which temporaries
 * on the file servers the gateway may still have to remove, kept in a file so
 * that a gateway killed (or stopped) with uploads in flight removes them after
 * its restart.
 *
 * The orphans table (orphans.h) and the resumable uploads (uploads.h) live in the
 * gateway's memory; a SIGKILL loses them, and the temporaries of the uploads
 * in flight would stay on the shares. So every temporary the gateway names is
 * written here when its upload starts ("begin": user, server, share, target
 * path, temporary; never a password) and crossed out when it is known to be
 * gone ("end"): renamed over its target, removed by its worker or by a later
 * sandbox, or given up (then logged for an administrator). At start-up the
 * entries that were never crossed out are handed back to the caller, who makes
 * them orphans again: the user's next request removes them.
 *
 * The file: one JSON object per line, appended with one write() each; it is
 * rewritten with the live entries only at start-up and when the crossed-out
 * lines outweigh the live ones (store/linefile.h). Mode 0600 (an existing
 * file is made so), a regular file only; an exclusive flock() keeps a
 * second gateway from sharing it. Nothing is fsync()ed: the journal is for a
 * gateway that dies, not for a machine that loses power.
 *
 * Thread-safe (one mutex), except gw_journal_open() and gw_journal_close().
 * This module knows neither HTTP nor sandboxes and prints nothing.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_journal;

/* An entry handed back by gw_journal_open(); the strings belong to the
 * journal and last only for the callback. */
struct gw_journal_entry {
	uint64_t id;
	const char *user, *server, *share, *path, *tmp;
	bool aside; /* gw_journal_begin_aside()'s: never to be removed */
};

/* Called by gw_journal_open() for each entry left from a previous run; the
 * entry stays live (cross it out with gw_journal_end() once handled). */
typedef void (*gw_journal_leftover_fn)(void *arg, const struct gw_journal_entry *e);

/*
 * Opens (or creates, mode 0600) the journal at @path, hands each live entry
 * of an earlier run to @leftover (may be NULL), and rewrites the file with
 * the live entries only. Lines that do not parse, or whose temporary name is
 * not one the gateway makes (proto_tmp_name_valid()), are left out and
 * counted in *@ret_bad (may be NULL).
 * Returns 0 and *@ret (caller closes with gw_journal_close()), -EWOULDBLOCK
 * when another process holds the journal, -EINVAL when @path is not a
 * regular file, -ENOMEM, or the negative errno of
 * open/fchmod/read/write/rename. *@ret is set before the first call of @leftover
 * (which may call gw_journal_end() on it), and set to NULL on failure.
 */
int gw_journal_open(const char *path, gw_journal_leftover_fn leftover, void *arg, unsigned *ret_bad,
		    struct gw_journal **ret);

/* Closes the journal, leaving the live entries in the file for the next
 * start. NULL is allowed. */
void gw_journal_close(struct gw_journal *j);

/*
 * Records that the temporary @tmp beside @path in @share of @server (its name
 * in the configuration) exists, or may, for @user. Returns its id (> 0) for
 * gw_journal_end(), or 0 when @j is NULL or the record could not be written
 * (the upload goes on; its temporary is then only as safe as before).
 */
uint64_t gw_journal_begin(struct gw_journal *j, const char *user, const char *server,
			  const char *share, const char *path, const char *tmp);

/*
 * gw_journal_begin() for @path itself put aside as @tmp while what replaces
 * it is made (the WebDAV COPY of a folder over another, the worker's ASIDE):
 * handed back with .aside set, so that the next start says where the old
 * content is rather than removing it.
 */
uint64_t gw_journal_begin_aside(struct gw_journal *j, const char *user, const char *server,
				const char *share, const char *path, const char *tmp);

/* Crosses out entry @id (0 and NULL @j are allowed: nothing happens). */
void gw_journal_end(struct gw_journal *j, uint64_t id);

/* The live entries now (for tests and metrics). */
size_t gw_journal_live(struct gw_journal *j);
