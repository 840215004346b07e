/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/uploads.c - the table of resumable uploads; see uploads.h.
 *
 * Runs in: the gateway process.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "files/uploads.h"

struct gw_tus {
	pthread_mutex_t lock;
	pthread_cond_t released;    /* an upload went back (or away) */
	struct gw_tus_upload *list; /* newest first */
	unsigned n, max_total, max_per_user;
	int64_t ttl_ms;
	int64_t (*now)(void);
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gw_tus_new(unsigned max_total, unsigned max_per_user, unsigned ttl_s, struct gw_tus **ret)
{
	struct gw_tus *t;

	if (!max_total || !max_per_user || !ttl_s)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->released, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->lock, NULL);
	t->max_total = max_total;
	t->max_per_user = max_per_user;
	t->ttl_ms = (int64_t)ttl_s * 1000;
	t->now = mono_ms;
	*ret = t;
	return 0;
}

void gw_tus_free(struct gw_tus *t)
{
	if (!t)
		return;
	while (t->list) {
		struct gw_tus_upload *u = t->list;
		t->list = u->next;
		free(u);
	}
	pthread_cond_destroy(&t->released);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void gw_tus_set_clock(struct gw_tus *t, int64_t (*now)(void))
{
	t->now = now ? now : mono_ms;
}

static struct gw_tus_upload **find(struct gw_tus *t, const char *id)
{
	for (struct gw_tus_upload **p = &t->list; *p; p = &(*p)->next)
		if (strcmp((*p)->id, id) == 0)
			return p;
	return NULL;
}

int gw_tus_add(struct gw_tus *t, const char *user, size_t server, const char *share,
	       const char *path, const char *tmp, uint64_t jid, uint64_t length, uint32_t flags,
	       const char *metadata, char ret_id[GW_TUS_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[GW_TUS_ID_LEN / 2];
	size_t ul, sl, pl, ml;
	struct gw_tus_upload *u;
	unsigned mine = 0;
	int r = 0;

	if (!user || !share || !path || !tmp || !*user || !*share || !*path ||
	    !proto_tmp_name_valid(tmp))
		return -EINVAL;
	if (!metadata)
		metadata = "";
	ul = strlen(user) + 1;
	sl = strlen(share) + 1;
	pl = strlen(path) + 1;
	ml = strlen(metadata) + 1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	u = calloc(1, sizeof(*u) + ul + sl + pl + ml);
	if (!u)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		u->id[2 * i] = hex[rnd[i] >> 4];
		u->id[2 * i + 1] = hex[rnd[i] & 15];
	}
	char *d = u->data;
	u->user = memcpy(d, user, ul);
	u->share = memcpy(d + ul, share, sl);
	u->path = memcpy(d + ul + sl, path, pl);
	u->metadata = memcpy(d + ul + sl + pl, metadata, ml);
	u->server = server;
	u->jid = jid;
	memcpy(u->tmp, tmp, sizeof(u->tmp));
	u->length = length;
	u->offset_known = true;
	u->flags = flags;
	u->writer_fd = -1;

	pthread_mutex_lock(&t->lock);
	struct gw_tus_upload **old_done = NULL; /* the oldest complete one, to make room */
	for (struct gw_tus_upload **p = &t->list; *p; p = &(*p)->next) {
		struct gw_tus_upload *e = *p;
		if (!e->done && e->server == server && strcmp(e->user, user) == 0)
			mine++;
		if (e->done && !e->busy)
			old_done = p;
	}
	if (mine >= t->max_per_user) {
		r = -EUSERS;
	} else if (t->n >= t->max_total && old_done) {
		struct gw_tus_upload *e = *old_done; /* complete: nothing on the server */
		*old_done = e->next;
		t->n--;
		free(e);
	} else if (t->n >= t->max_total) {
		r = -ENOSPC;
	}
	if (r == 0) {
		u->expires_ms = t->now() + t->ttl_ms;
		u->next = t->list;
		t->list = u;
		t->n++;
		memcpy(ret_id, u->id, sizeof(u->id));
	}
	pthread_mutex_unlock(&t->lock);
	if (r)
		free(u);
	return r;
}

int gw_tus_server(struct gw_tus *t, const char *id, size_t *ret_server)
{
	int r = -ENOENT;

	pthread_mutex_lock(&t->lock);
	struct gw_tus_upload **p = find(t, id);
	if (p && (*p)->expires_ms > t->now()) {
		*ret_server = (*p)->server;
		r = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

static struct gw_tus_upload *copy_of(const struct gw_tus_upload *u)
{
	size_t ul = strlen(u->user) + 1, sl = strlen(u->share) + 1, pl = strlen(u->path) + 1,
	       ml = strlen(u->metadata) + 1;
	struct gw_tus_upload *c = malloc(sizeof(*c) + ul + sl + pl + ml);

	if (!c)
		return NULL;
	*c = *u;
	c->next = NULL;
	c->user = memcpy(c->data, u->user, ul);
	c->share = memcpy(c->data + ul, u->share, sl);
	c->path = memcpy(c->data + ul + sl, u->path, pl);
	c->metadata = memcpy(c->data + ul + sl + pl, u->metadata, ml);
	return c;
}

/* gw_tus_acquire() with the lock held. */
static int take_locked(struct gw_tus *t, const char *id, const char *user, size_t server,
		       struct gw_tus_upload **ret)
{
	struct gw_tus_upload **p = find(t, id);
	struct gw_tus_upload *u = p ? *p : NULL;

	if (!u || u->server != server || strcmp(u->user, user) != 0 ||
	    (!u->busy && u->expires_ms <= t->now()))
		return -ENOENT;
	if (u->busy)
		return -EBUSY;
	if (!(*ret = copy_of(u)))
		return -ENOMEM;
	u->busy = true;
	u->writer_session = 0;
	u->writer_fd = -1;
	return 0;
}

/* Waits (lock held) until upload @id is no longer busy, or @deadline
 * (CLOCK_MONOTONIC ms). */
static void wait_released(struct gw_tus *t, const char *id, int64_t deadline)
{
	struct gw_tus_upload **p;
	struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = deadline % 1000 * 1000000};

	while ((p = find(t, id)) && (*p)->busy)
		if (pthread_cond_timedwait(&t->released, &t->lock, &ts) == ETIMEDOUT)
			break;
}

int gw_tus_acquire_as(struct gw_tus *t, const char *id, const char *user, size_t server,
		      uint64_t session, struct gw_tus_upload **ret, unsigned *ret_retry_s)
{
	pthread_mutex_lock(&t->lock);
	int r = take_locked(t, id, user, server, ret);
	struct gw_tus_upload **p = r == -EBUSY ? find(t, id) : NULL;
	unsigned retry = GW_TUS_RETRY_AFTER;
	if (p && session && (*p)->writer_session == session && (*p)->writer_fd >= 0) {
		int64_t idle = t->now() - (*p)->writer_since_ms;
		if (idle >= GW_TUS_STALL_MS) {
			/* Stalled: its thread sees the shutdown, ends the request
			 * (which keeps what came) and gives the upload back. */
			shutdown((*p)->writer_fd, SHUT_RDWR);
			(*p)->writer_fd = -1;
			wait_released(t, id, mono_ms() + GW_TUS_TAKEOVER_WAIT_MS);
			r = take_locked(t, id, user, server, ret);
			retry = 1;
		} else {
			retry = (unsigned)((GW_TUS_STALL_MS - idle + 999) / 1000);
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (r == -EBUSY && ret_retry_s)
		*ret_retry_s = retry;
	return r;
}

int gw_tus_acquire(struct gw_tus *t, const char *id, const char *user, size_t server,
		   struct gw_tus_upload **ret)
{
	return gw_tus_acquire_as(t, id, user, server, 0, ret, NULL);
}

void gw_tus_writer(struct gw_tus *t, const char *id, uint64_t session, int fd)
{
	pthread_mutex_lock(&t->lock);
	struct gw_tus_upload **p = find(t, id);
	if (p && (*p)->busy) {
		(*p)->writer_session = session;
		(*p)->writer_fd = fd;
		(*p)->writer_since_ms = t->now();
	}
	pthread_mutex_unlock(&t->lock);
}

void gw_tus_release(struct gw_tus *t, const char *id, uint64_t offset, bool offset_known, bool done)
{
	pthread_mutex_lock(&t->lock);
	struct gw_tus_upload **p = find(t, id);
	if (p) {
		(*p)->offset = offset;
		(*p)->offset_known = offset_known;
		(*p)->done = done;
		(*p)->busy = false;
		(*p)->writer_session = 0;
		(*p)->writer_fd = -1;
		(*p)->expires_ms = t->now() + t->ttl_ms;
	}
	pthread_cond_broadcast(&t->released);
	pthread_mutex_unlock(&t->lock);
}

void gw_tus_remove(struct gw_tus *t, const char *id)
{
	pthread_mutex_lock(&t->lock);
	struct gw_tus_upload **p = find(t, id);
	if (p) {
		struct gw_tus_upload *u = *p;
		*p = u->next;
		t->n--;
		free(u);
	}
	pthread_cond_broadcast(&t->released);
	pthread_mutex_unlock(&t->lock);
}

int64_t gw_tus_expires_epoch(struct gw_tus *t, const struct gw_tus_upload *u)
{
	int64_t left = u->expires_ms - t->now();
	return (int64_t)time(NULL) + (left > 0 ? (left + 999) / 1000 : 0);
}

static struct gw_tus_upload *take(struct gw_tus *t, bool all)
{
	struct gw_tus_upload *out = NULL;

	pthread_mutex_lock(&t->lock);
	int64_t now = t->now();
	for (struct gw_tus_upload **p = &t->list; *p;) {
		struct gw_tus_upload *u = *p;
		if (all || (!u->busy && u->expires_ms <= now)) {
			*p = u->next;
			t->n--;
			u->next = out;
			out = u;
		} else {
			p = &u->next;
		}
	}
	pthread_cond_broadcast(&t->released);
	pthread_mutex_unlock(&t->lock);
	return out;
}

struct gw_tus_upload *gw_tus_expire(struct gw_tus *t)
{
	return take(t, false);
}

struct gw_tus_upload *gw_tus_take_all(struct gw_tus *t)
{
	return take(t, true);
}

unsigned gw_tus_count(struct gw_tus *t)
{
	pthread_mutex_lock(&t->lock);
	unsigned n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
