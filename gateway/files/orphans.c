/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/orphans.c - upload temporaries waiting to be removed (see orphans.h).
 *
 * One list, oldest first, under one mutex. It is short (max_total entries),
 * so every operation simply walks it.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "files/orphans.h"
#include "auth/session.h"

struct gw_orphans {
	pthread_mutex_t lock;
	struct gw_orphan *head; /* oldest first */
	unsigned n;
	unsigned max_total, max_per_user;
	int64_t ttl_ms;
	int64_t (*now)(void);
};

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool same_user(const struct gw_orphan *e, const char *user, size_t server)
{
	return e->server == server && strcmp(e->user, user) == 0;
}

int gw_orphans_new(unsigned max_total, unsigned max_per_user, unsigned ttl_s,
		   struct gw_orphans **ret)
{
	struct gw_orphans *o;

	if (!ret || max_total == 0 || max_per_user == 0 || ttl_s == 0)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	if (pthread_mutex_init(&o->lock, NULL) != 0) {
		free(o);
		return -ENOMEM;
	}
	o->max_total = max_total;
	o->max_per_user = max_per_user;
	o->ttl_ms = (int64_t)ttl_s * 1000;
	o->now = monotonic_ms;
	*ret = o;
	return 0;
}

void gw_orphan_free(struct gw_orphan *e)
{
	free(e);
}

void gw_orphans_free(struct gw_orphans *o)
{
	if (!o)
		return;
	while (o->head) {
		struct gw_orphan *next = o->head->next;
		gw_orphan_free(o->head);
		o->head = next;
	}
	pthread_mutex_destroy(&o->lock);
	free(o);
}

void gw_orphans_set_clock(struct gw_orphans *o, int64_t (*now)(void))
{
	o->now = now ? now : monotonic_ms;
}

/* Unlinks and returns the oldest entry of (@user, @server), or of all when
 * @user is NULL (lock held). */
static struct gw_orphan *remove_oldest_locked(struct gw_orphans *o, const char *user, size_t server)
{
	for (struct gw_orphan **pp = &o->head; *pp; pp = &(*pp)->next) {
		struct gw_orphan *e = *pp;
		if (user && !same_user(e, user, server))
			continue;
		*pp = e->next;
		e->next = NULL;
		o->n--;
		return e;
	}
	return NULL;
}

/* Inserts @e in age order, then makes the limits hold again; returns the
 * entry that had to go (maybe @e), or NULL (lock held). */
static struct gw_orphan *insert_locked(struct gw_orphans *o, struct gw_orphan *e)
{
	struct gw_orphan **pp = &o->head;
	unsigned mine = 0;

	for (struct gw_orphan *x = o->head; x; x = x->next)
		mine += same_user(x, e->user, e->server);
	while (*pp && (*pp)->added_ms <= e->added_ms)
		pp = &(*pp)->next;
	e->next = *pp;
	*pp = e;
	o->n++;
	if (mine + 1 > o->max_per_user)
		return remove_oldest_locked(o, e->user, e->server);
	if (o->n > o->max_total)
		return remove_oldest_locked(o, NULL, 0);
	return NULL;
}

int gw_orphans_add(struct gw_orphans *o, const char *user, size_t server, const char *share,
		   const char *path, const char *tmp, uint64_t jid, struct gw_orphan **ret_dropped)
{
	size_t ul, sl, pl;
	struct gw_orphan *e, *dropped;

	if (!o || !user || !share || !path || !tmp || !ret_dropped || !proto_tmp_name_valid(tmp))
		return -EINVAL;
	ul = strnlen(user, GW_SESSION_MAX_USER + 1);
	sl = strnlen(share, PROTO_MAX_NAME + 1);
	pl = strnlen(path, PROTO_MAX_PATH + 1);
	if (ul == 0 || ul > GW_SESSION_MAX_USER || sl == 0 || sl > PROTO_MAX_NAME || pl == 0 ||
	    pl > PROTO_MAX_PATH)
		return -EINVAL;
	e = calloc(1, sizeof(*e) + ul + sl + pl + 3);
	if (!e)
		return -ENOMEM;
	e->server = server;
	e->jid = jid;
	memcpy(e->tmp, tmp, PROTO_TMP_NAME_LEN + 1);
	memcpy(e->data, user, ul + 1);
	memcpy(e->data + ul + 1, share, sl + 1);
	memcpy(e->data + ul + sl + 2, path, pl + 1);
	e->user = e->data;
	e->share = e->data + ul + 1;
	e->path = e->data + ul + sl + 2;

	pthread_mutex_lock(&o->lock);
	e->added_ms = o->now();
	dropped = insert_locked(o, e);
	pthread_mutex_unlock(&o->lock);
	*ret_dropped = dropped;
	return 0;
}

struct gw_orphan *gw_orphans_take(struct gw_orphans *o, const char *user, size_t server)
{
	struct gw_orphan *list = NULL, **tail = &list;

	if (!o || !user)
		return NULL;
	pthread_mutex_lock(&o->lock);
	if (o->n > 0) {
		int64_t now = o->now();
		for (struct gw_orphan **pp = &o->head; *pp;) {
			struct gw_orphan *e = *pp;
			if (!same_user(e, user, server) || now - e->added_ms >= o->ttl_ms) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			o->n--;
			e->next = NULL;
			*tail = e;
			tail = &e->next;
		}
	}
	pthread_mutex_unlock(&o->lock);
	return list;
}

void gw_orphans_put_back(struct gw_orphans *o, struct gw_orphan *e, struct gw_orphan **ret_dropped)
{
	struct gw_orphan *dropped;

	e->next = NULL;
	pthread_mutex_lock(&o->lock);
	dropped = insert_locked(o, e);
	pthread_mutex_unlock(&o->lock);
	*ret_dropped = dropped;
}

struct gw_orphan *gw_orphans_expire(struct gw_orphans *o)
{
	struct gw_orphan *list = NULL, **tail = &list;

	if (!o)
		return NULL;
	pthread_mutex_lock(&o->lock);
	int64_t now = o->now();
	/* Oldest first: the expired ones are at the head. */
	while (o->head && now - o->head->added_ms >= o->ttl_ms) {
		struct gw_orphan *e = o->head;
		o->head = e->next;
		o->n--;
		e->next = NULL;
		*tail = e;
		tail = &e->next;
	}
	pthread_mutex_unlock(&o->lock);
	return list;
}

struct gw_orphan *gw_orphans_take_all(struct gw_orphans *o)
{
	struct gw_orphan *list;

	if (!o)
		return NULL;
	pthread_mutex_lock(&o->lock);
	list = o->head;
	o->head = NULL;
	o->n = 0;
	pthread_mutex_unlock(&o->lock);
	return list;
}

unsigned gw_orphans_count(struct gw_orphans *o)
{
	unsigned n;

	pthread_mutex_lock(&o->lock);
	n = o->n;
	pthread_mutex_unlock(&o->lock);
	return n;
}
