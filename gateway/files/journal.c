/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/journal.c - the journal of upload temporaries (journal.h).
 *
 * Runs in: the gateway process.
 */
#include "files/journal.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "store/linefile.h"

/* Rewrite the file once this many bytes of crossed-out lines are in it (and
 * they outweigh the live ones). */
#define JOURNAL_COMPACT_BYTES (64 * 1024)
/* A journal bigger than this at start-up is not read (and a new one starts:
 * the gateway never writes one that big). */
#define JOURNAL_MAX_READ (64 * 1024 * 1024)

struct live {
	uint64_t id;
	char *line; /* the "begin" line, with its newline */
	size_t len;
};

struct gw_journal {
	pthread_mutex_t lock;
	int fd;
	char *path;
	uint64_t next_id;
	struct live *live;
	size_t nlive, cap;
	size_t live_bytes, dead_bytes;
};

/* A "begin" line for the given fields, newline included; NULL on ENOMEM. */
/* The line of a temporary; "aside" for gw_journal_begin_aside()'s, which an
 * earlier version of the gateway leaves out (it must not remove them). */
static char *begin_line(uint64_t id, const char *user, const char *server, const char *share,
			const char *path, const char *tmp, bool aside, size_t *ret_len)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "op",
			      aside ? "aside" : "begin", "id", (json_int_t)id, "user", user,
			      "server", server, "share", share, "path", path, "tmp", tmp);
	return gw_linefile_json(o, ret_len);
}

static int live_add(struct gw_journal *j, uint64_t id, char *line, size_t len)
{
	if (j->nlive == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 64;
		struct live *n = realloc(j->live, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		j->live = n;
		j->cap = cap;
	}
	j->live[j->nlive++] = (struct live){.id = id, .line = line, .len = len};
	j->live_bytes += len;
	return 0;
}

/* Removes entry @id from the live set; false when it is not there. */
static bool live_remove(struct gw_journal *j, uint64_t id)
{
	for (size_t i = 0; i < j->nlive; i++) {
		if (j->live[i].id != id)
			continue;
		j->live_bytes -= j->live[i].len;
		j->dead_bytes += j->live[i].len;
		free(j->live[i].line);
		j->live[i] = j->live[--j->nlive];
		return true;
	}
	return false;
}

/* Writes the live entries (@arg, a journal) to @fd. */
static int write_live(void *arg, int fd)
{
	struct gw_journal *j = arg;
	int err = 0;

	for (size_t i = 0; !err && i < j->nlive; i++)
		err = gw_linefile_write(fd, j->live[i].line, j->live[i].len);
	return err;
}

/* Writes the live entries to a new file and renames it over the journal;
 * the new file's fd (locked) replaces the old one. */
static int compact(struct gw_journal *j)
{
	int err = gw_linefile_rewrite(j->path, write_live, j, &j->fd);

	if (!err)
		j->dead_bytes = 0;
	return err;
}

static const char *field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

struct replay {
	struct gw_journal *j;
	unsigned *bad;
};

/* Replays one line (@o, NULL: not JSON) into the live set; counts a bad one.
 * Returns 0 or -ENOMEM. */
static int replay_line(void *arg, json_t *o)
{
	struct replay *rp = arg;
	struct gw_journal *j = rp->j;
	const char *op = field(o, "op");
	json_int_t id = json_integer_value(json_object_get(o, "id"));
	bool ok = op && id > 0;

	if (ok && strcmp(op, "end") == 0) {
		live_remove(j, (uint64_t)id);
	} else if (ok && (strcmp(op, "begin") == 0 || strcmp(op, "aside") == 0)) {
		const char *user = field(o, "user"), *server = field(o, "server"),
			   *share = field(o, "share"), *path = field(o, "path"),
			   *tmp = field(o, "tmp");
		size_t ll;
		char *line = NULL;
		ok = user && server && share && path && tmp && proto_tmp_name_valid(tmp);
		if (ok) {
			line = begin_line((uint64_t)id, user, server, share, path, tmp,
					  strcmp(op, "aside") == 0, &ll);
			if (!line || live_add(j, (uint64_t)id, line, ll) < 0) {
				free(line);
				return -ENOMEM;
			}
		}
	} else {
		ok = false;
	}
	if (ok && (uint64_t)id >= j->next_id)
		j->next_id = (uint64_t)id + 1;
	if (!ok)
		(*rp->bad)++;
	return 0;
}

/* Hands the live entries to @leftover, from a snapshot: the callback may
 * cross entries out. */
static int hand_back(struct gw_journal *j, gw_journal_leftover_fn leftover, void *arg)
{
	size_t n = j->nlive;
	json_t **snap = leftover && n ? calloc(n, sizeof(*snap)) : NULL;

	if (leftover && n && !snap)
		return -ENOMEM;
	for (size_t i = 0; snap && i < n; i++)
		snap[i] = json_loadb(j->live[i].line, j->live[i].len, 0, NULL);
	for (size_t i = 0; snap && i < n; i++) {
		json_t *o = snap[i];
		json_int_t id = json_integer_value(json_object_get(o, "id"));
		struct gw_journal_entry e = {
		    .id = (uint64_t)id,
		    .user = field(o, "user"),
		    .server = field(o, "server"),
		    .share = field(o, "share"),
		    .path = field(o, "path"),
		    .tmp = field(o, "tmp"),
		};
		const char *op = field(o, "op");
		e.aside = op && strcmp(op, "aside") == 0;
		if (id > 0 && e.user && e.server && e.share && e.path && e.tmp)
			leftover(arg, &e);
		json_decref(o);
	}
	free(snap);
	return 0;
}

static void journal_free(struct gw_journal *j)
{
	for (size_t i = 0; i < j->nlive; i++)
		free(j->live[i].line);
	free(j->live);
	free(j->path);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

int gw_journal_open(const char *path, gw_journal_leftover_fn leftover, void *arg, unsigned *ret_bad,
		    struct gw_journal **ret)
{
	unsigned bad = 0;
	char *buf = NULL;
	size_t len = 0;
	struct gw_journal *j = calloc(1, sizeof(*j));

	*ret = NULL;
	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->next_id = 1;
	j->fd = -1;
	int err = (j->path = strdup(path)) ? 0 : -ENOMEM;
	if (!err)
		err = gw_linefile_open(path, JOURNAL_MAX_READ, &j->fd, &buf, &len);
	if (!err)
		err = gw_linefile_each(buf, len, replay_line, &(struct replay){j, &bad});
	free(buf);
	if (!err)
		err = compact(j);
	if (err) {
		if (j->fd >= 0)
			close(j->fd);
		journal_free(j);
		return err;
	}
	if (ret_bad)
		*ret_bad = bad;
	*ret = j; /* before the callbacks, which may cross entries out */
	err = hand_back(j, leftover, arg);
	if (err) {
		*ret = NULL;
		close(j->fd);
		journal_free(j);
	}
	return err;
}

void gw_journal_close(struct gw_journal *j)
{
	if (!j)
		return;
	if (j->dead_bytes)
		compact(j); /* best effort: the file stays valid either way */
	close(j->fd);
	journal_free(j);
}

static uint64_t journal_begin(struct gw_journal *j, const char *user, const char *server,
			      const char *share, const char *path, const char *tmp, bool aside)
{
	size_t len;

	if (!j)
		return 0;
	pthread_mutex_lock(&j->lock);
	uint64_t id = j->next_id;
	char *line = begin_line(id, user, server, share, path, tmp, aside, &len);
	if (!line || gw_linefile_write(j->fd, line, len) < 0 || live_add(j, id, line, len) < 0) {
		free(line);
		pthread_mutex_unlock(&j->lock);
		return 0;
	}
	j->next_id++;
	pthread_mutex_unlock(&j->lock);
	return id;
}

uint64_t gw_journal_begin(struct gw_journal *j, const char *user, const char *server,
			  const char *share, const char *path, const char *tmp)
{
	return journal_begin(j, user, server, share, path, tmp, false);
}

uint64_t gw_journal_begin_aside(struct gw_journal *j, const char *user, const char *server,
				const char *share, const char *path, const char *tmp)
{
	return journal_begin(j, user, server, share, path, tmp, true);
}

void gw_journal_end(struct gw_journal *j, uint64_t id)
{
	char line[64];

	if (!j || !id)
		return;
	int n =
	    snprintf(line, sizeof(line), "{\"op\":\"end\",\"id\":%llu}\n", (unsigned long long)id);
	pthread_mutex_lock(&j->lock);
	if (live_remove(j, id)) {
		/* A failed write leaves a line that says "begin" only: the next
		 * compaction (which a failure makes likely) drops it. */
		if (gw_linefile_write(j->fd, line, (size_t)n) < 0)
			j->dead_bytes += JOURNAL_COMPACT_BYTES;
		else
			j->dead_bytes += (size_t)n;
		if (j->dead_bytes >= JOURNAL_COMPACT_BYTES && j->dead_bytes > j->live_bytes)
			compact(j);
	}
	pthread_mutex_unlock(&j->lock);
}

size_t gw_journal_live(struct gw_journal *j)
{
	pthread_mutex_lock(&j->lock);
	size_t n = j->nlive;
	pthread_mutex_unlock(&j->lock);
	return n;
}
