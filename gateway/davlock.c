/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/davlock.c - the WebDAV lock table. See davlock.h.
 *
 * A plain list under one mutex: the table holds at most DAVLOCK_MAX locks and
 * a request looks at it once or twice; expired locks are removed as they are
 * met.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "davlock.h"

struct lock {
	struct lock *next;
	char token[DAVLOCK_TOKEN_LEN + 1];
	char *key, *user, *owner;
	bool exclusive, infinite;
	unsigned timeout;
	int64_t expires;
};

struct davlock_table {
	pthread_mutex_t mu;
	struct lock *head;
	size_t n;
};

int davlock_new(struct davlock_table **ret)
{
	struct davlock_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	*ret = t;
	return 0;
}

static void lock_free(struct lock *l)
{
	free(l->key);
	free(l->user);
	free(l->owner);
	free(l);
}

void davlock_free(struct davlock_table *t)
{
	if (!t)
		return;
	while (t->head) {
		struct lock *l = t->head;
		t->head = l->next;
		lock_free(l);
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Drops expired locks (mutex held). */
static void expire(struct davlock_table *t, int64_t now)
{
	for (struct lock **pp = &t->head; *pp;) {
		struct lock *l = *pp;
		if (l->expires <= now) {
			*pp = l->next;
			lock_free(l);
			t->n--;
		} else {
			pp = &l->next;
		}
	}
}

/* Whether @key is @root or below it. */
static bool at_or_below(const char *key, const char *root)
{
	size_t n = strlen(root);
	return strncmp(key, root, n) == 0 && (key[n] == '\0' || key[n] == '/');
}

/* Whether lock @l covers @key. */
static bool covers(const struct lock *l, const char *key)
{
	return strcmp(l->key, key) == 0 || (l->infinite && at_or_below(key, l->key));
}

static unsigned clamp(unsigned timeout)
{
	return timeout == 0 || timeout > DAVLOCK_MAX_TIMEOUT ? DAVLOCK_MAX_TIMEOUT : timeout;
}

static int make_token(char token[DAVLOCK_TOKEN_LEN + 1])
{
	uint8_t u[16];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return -EIO;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* variant */
	snprintf(token, DAVLOCK_TOKEN_LEN + 1,
		 "opaquelocktoken:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%"
		 "02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	return 0;
}

int davlock_lock(struct davlock_table *t, const char *key, bool exclusive, bool infinite,
		 unsigned timeout, const char *user, const char *owner, int64_t now,
		 char token[DAVLOCK_TOKEN_LEN + 1])
{
	struct lock *l;
	int err = 0;

	if (!t || !key || !user || !token)
		return -EINVAL;
	pthread_mutex_lock(&t->mu);
	expire(t, now);
	for (l = t->head; l; l = l->next) {
		bool related = covers(l, key) || (infinite && at_or_below(l->key, key));
		if (related && (exclusive || l->exclusive)) {
			err = -EBUSY;
			goto out;
		}
	}
	if (t->n >= DAVLOCK_MAX) {
		err = -ENOSPC;
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	l->key = strdup(key);
	l->user = strdup(user);
	l->owner = owner ? strdup(owner) : NULL;
	err = make_token(l->token);
	if (!l->key || !l->user || (owner && !l->owner) || err) {
		lock_free(l);
		err = err ? err : -ENOMEM;
		goto out;
	}
	l->exclusive = exclusive;
	l->infinite = infinite;
	l->timeout = clamp(timeout);
	l->expires = now + l->timeout;
	l->next = t->head;
	t->head = l;
	t->n++;
	memcpy(token, l->token, sizeof(l->token));
out:
	pthread_mutex_unlock(&t->mu);
	return err;
}

/* The live lock @token covering @key (mutex held, expired ones gone). */
static struct lock **find(struct davlock_table *t, const char *key, const char *token)
{
	for (struct lock **pp = &t->head; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->token, token) == 0 && covers(*pp, key))
			return pp;
	return NULL;
}

int davlock_refresh(struct davlock_table *t, const char *key, const char *token, const char *user,
		    unsigned timeout, int64_t now)
{
	int err = 0;

	pthread_mutex_lock(&t->mu);
	expire(t, now);
	struct lock **pp = find(t, key, token);
	if (!pp)
		err = -ENOENT;
	else if (strcmp((*pp)->user, user) != 0)
		err = -EPERM;
	else {
		(*pp)->timeout = clamp(timeout);
		(*pp)->expires = now + (*pp)->timeout;
	}
	pthread_mutex_unlock(&t->mu);
	return err;
}

int davlock_unlock(struct davlock_table *t, const char *key, const char *token, const char *user,
		   int64_t now)
{
	int err = 0;

	pthread_mutex_lock(&t->mu);
	expire(t, now);
	struct lock **pp = find(t, key, token);
	if (!pp)
		err = -ENOENT;
	else if (strcmp((*pp)->user, user) != 0)
		err = -EPERM;
	else {
		struct lock *l = *pp;
		*pp = l->next;
		lock_free(l);
		t->n--;
	}
	pthread_mutex_unlock(&t->mu);
	return err;
}

bool davlock_covers(struct davlock_table *t, const char *key, const char *token, int64_t now)
{
	pthread_mutex_lock(&t->mu);
	expire(t, now);
	bool yes = find(t, key, token) != NULL;
	pthread_mutex_unlock(&t->mu);
	return yes;
}

/* Whether @l's token is among @tokens and @user holds it. */
static bool presented(const struct lock *l, const char *const *tokens, size_t n, const char *user)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tokens[i], l->token) == 0)
			return strcmp(l->user, user) == 0;
	return false;
}

int davlock_check(struct davlock_table *t, const char *key, bool tree, const char *const *tokens,
		  size_t n, const char *user, int64_t now, char **ret_key)
{
	const struct lock *blocking = NULL;
	bool covered = false, holder = false;

	pthread_mutex_lock(&t->mu);
	expire(t, now);
	for (struct lock *l = t->head; l && !blocking; l = l->next) {
		if (covers(l, key)) {
			/* The locks on @key itself: all shared, or one exclusive; one
			 * presented by its holder is enough. */
			covered = true;
			holder = holder || presented(l, tokens, n, user);
			continue;
		}
		/* Below @key (a tree operation): each lock must be presented. */
		if (tree && at_or_below(l->key, key) && !presented(l, tokens, n, user))
			blocking = l;
	}
	if (!blocking && covered && !holder) {
		for (struct lock *l = t->head; l && !blocking; l = l->next)
			if (covers(l, key))
				blocking = l;
	}
	if (blocking && ret_key)
		*ret_key = strdup(blocking->key);
	pthread_mutex_unlock(&t->mu);
	return blocking ? -EBUSY : 0;
}

void davlock_drop_tree(struct davlock_table *t, const char *key, int64_t now)
{
	pthread_mutex_lock(&t->mu);
	expire(t, now);
	for (struct lock **pp = &t->head; *pp;) {
		struct lock *l = *pp;
		if (at_or_below(l->key, key)) {
			*pp = l->next;
			lock_free(l);
			t->n--;
		} else {
			pp = &l->next;
		}
	}
	pthread_mutex_unlock(&t->mu);
}

size_t davlock_each(struct davlock_table *t, const char *key, int64_t now,
		    void (*cb)(void *ud, const struct davlock_info *info), void *ud)
{
	size_t count = 0;

	pthread_mutex_lock(&t->mu);
	expire(t, now);
	for (struct lock *l = t->head; l; l = l->next) {
		if (!covers(l, key))
			continue;
		struct davlock_info info = {l->token,	l->key,		 l->user,
					    l->owner,	l->exclusive,	 l->infinite,
					    l->timeout, l->expires - now};
		cb(ud, &info);
		count++;
	}
	pthread_mutex_unlock(&t->mu);
	return count;
}

/* ---- the If header ---- */

void davlock_if_clear(struct davlock_if *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		for (size_t j = 0; j < h->lists[i].n; j++)
			free(h->lists[i].c[j].value);
		free(h->lists[i].c);
		free(h->lists[i].resource);
	}
	free(h->lists);
	*h = (struct davlock_if){0};
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The text between @s[0] and the first @close after it (no nesting); NULL
 * on a missing @close or an empty value. *@end: past the @close. */
static char *enclosed(const char *s, char close, const char **end)
{
	const char *e = strchr(s + 1, close);

	if (!e || e == s + 1)
		return NULL;
	for (const char *p = s + 1; p < e; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return NULL;
	*end = e + 1;
	return strndup(s + 1, (size_t)(e - s - 1));
}

int davlock_if_parse(const char *value, struct davlock_if *ret)
{
	struct davlock_if h = {0};
	char *resource = NULL;
	size_t total = 0;
	int err = -EINVAL;
	const char *s = value;

	if (!value)
		return -EINVAL;
	for (;;) {
		s = skip_ws(s);
		if (!*s)
			break;
		if (*s == '<') {
			free(resource);
			resource = enclosed(s, '>', &s);
			if (!resource)
				goto fail;
			s = skip_ws(s);
			if (*s != '(')
				goto fail;
			continue;
		}
		if (*s != '(')
			goto fail;
		s++;
		struct davlock_iflist *nl = realloc(h.lists, (h.n + 1) * sizeof(*nl));
		if (!nl) {
			err = -ENOMEM;
			goto fail;
		}
		h.lists = nl;
		struct davlock_iflist *l = &h.lists[h.n++];
		*l = (struct davlock_iflist){0};
		if (resource) {
			l->resource = strdup(resource);
			if (!l->resource) {
				err = -ENOMEM;
				goto fail;
			}
		}
		for (;;) {
			bool not = false;
			s = skip_ws(s);
			if (*s == ')') {
				s++;
				break;
			}
			if (strncasecmp(s, "Not", 3) == 0) {
				not = true;
				s = skip_ws(s + 3);
			}
			if (*s != '<' && *s != '[')
				goto fail;
			if (++total > DAVLOCK_IF_MAX)
				goto fail;
			bool etag = *s == '[';
			char *v = enclosed(s, etag ? ']' : '>', &s);
			if (!v)
				goto fail;
			struct davlock_cond *nc = realloc(l->c, (l->n + 1) * sizeof(*nc));
			if (!nc) {
				free(v);
				err = -ENOMEM;
				goto fail;
			}
			l->c = nc;
			l->c[l->n++] = (struct davlock_cond){not, etag, v};
		}
		if (l->n == 0)
			goto fail;
	}
	if (h.n == 0)
		goto fail;
	free(resource);
	*ret = h;
	return 0;
fail:
	free(resource);
	davlock_if_clear(&h);
	return err;
}
