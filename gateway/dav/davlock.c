/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/davlock.c - the WebDAV lock table. See davlock.h.
 *
 * A plain list under one mutex: the table holds at most DAVLOCK_MAX locks and
 * a request looks at it once or twice; expired locks are removed as they are
 * met.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dav/davlock.h"
#include "store/linefile.h"

/* Rewrite the file once this many bytes of dead lines are in it (and they
 * outweigh the live ones). */
#define FILE_COMPACT_BYTES (64 * 1024)
/* A file bigger than this at start-up is not read (the table never needs
 * one that big: DAVLOCK_MAX locks of at most ~40 KiB each as JSON). */
#define FILE_MAX_READ (256 * 1024 * 1024)

struct lock {
	struct lock *next;
	char token[DAVLOCK_TOKEN_LEN + 1];
	char *key, *user, *owner;
	bool exclusive, infinite;
	unsigned timeout;
	int64_t expires;
	size_t line_len; /* its "lock" line in the file */
};

struct davlock_table {
	pthread_mutex_t mu;
	struct lock *head;
	size_t n;
	/* the file (davlock_open()); fd -1: none */
	int fd;
	char *path;
	int64_t wall_offset; /* wall-clock seconds minus the caller's clock */
	size_t live_bytes, dead_bytes;
	bool failing; /* the last write failed (said once on stderr) */
};

static struct davlock_table *table_new(void)
{
	struct davlock_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	t->fd = -1;
	return t;
}

int davlock_new(struct davlock_table **ret)
{
	struct davlock_table *t = table_new();

	if (!t)
		return -ENOMEM;
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
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* ---- the file ---- */

static char *lock_line(const struct davlock_table *t, const struct lock *l, size_t *ret_len)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:I}", "op", "lock", "token",
			      l->token, "key", l->key, "user", l->user, "exclusive", l->exclusive,
			      "infinite", l->infinite, "timeout", (json_int_t)l->timeout, "expires",
			      (json_int_t)(l->expires + t->wall_offset));
	if (o && l->owner && json_object_set_new(o, "owner", json_string(l->owner)) < 0) {
		json_decref(o);
		o = NULL;
	}
	return gw_linefile_json(o, ret_len);
}

static void write_failed(struct davlock_table *t, int err)
{
	if (!t->failing)
		fprintf(stderr,
			"smbgate: %s: %s: locks taken or changed now may not survive a restart\n",
			t->path, strerror(-err));
	t->failing = true;
}

struct rewrite {
	struct davlock_table *t;
	size_t live; /* the bytes written */
};

/* Writes the live locks (@arg, a struct rewrite) to @fd. */
static int write_locks(void *arg, int fd)
{
	struct rewrite *w = arg;
	int err = 0;

	for (struct lock *l = w->t->head; !err && l; l = l->next) {
		char *line = lock_line(w->t, l, &l->line_len);
		err = line ? gw_linefile_write(fd, line, l->line_len) : -ENOMEM;
		w->live += l->line_len;
		free(line);
	}
	return err;
}

/* Writes the live locks to a new file and renames it over the old one; the
 * new file's fd (locked) replaces the old one. Mutex held. */
static int compact(struct davlock_table *t)
{
	struct rewrite w = {t, 0};
	int err = gw_linefile_rewrite(t->path, write_locks, &w, &t->fd);

	if (err)
		return err;
	t->live_bytes = w.live;
	t->dead_bytes = 0;
	t->failing = false;
	return 0;
}

/* Appends @line (consumed) to the file; its bytes count as live for a
 * lock's line (@l), else as dead. Mutex held. */
static void append(struct davlock_table *t, char *line, size_t len, struct lock *l)
{
	if (t->fd < 0) {
		free(line);
		return;
	}
	int err = line ? gw_linefile_write(t->fd, line, len) : -ENOMEM;
	free(line);
	if (err) {
		write_failed(t, err);
		t->dead_bytes += FILE_COMPACT_BYTES; /* a rewrite repairs it */
	} else if (l) {
		l->line_len = len;
		t->live_bytes += len;
	} else {
		t->dead_bytes += len;
	}
	if (t->dead_bytes >= FILE_COMPACT_BYTES && t->dead_bytes > t->live_bytes) {
		err = compact(t);
		if (err)
			write_failed(t, err);
	}
}

/* Records that @l is gone (unlocked, expired, dropped). Mutex held. */
static void append_gone(struct davlock_table *t, struct lock *l)
{
	size_t len = 0;

	if (t->fd < 0)
		return;
	t->live_bytes -= l->line_len < t->live_bytes ? l->line_len : t->live_bytes;
	t->dead_bytes += l->line_len;
	char *line =
	    gw_linefile_json(json_pack("{s:s, s:s}", "op", "unlock", "token", l->token), &len);
	append(t, line, len, NULL);
}

static void append_refresh(struct davlock_table *t, struct lock *l)
{
	size_t len = 0;

	if (t->fd < 0)
		return;
	char *line = gw_linefile_json(
	    json_pack("{s:s, s:s, s:I, s:I}", "op", "refresh", "token", l->token, "timeout",
		      (json_int_t)l->timeout, "expires", (json_int_t)(l->expires + t->wall_offset)),
	    &len);
	append(t, line, len, NULL);
}

/* ---- the table ---- */

/* Unlinks *@pp from the list and frees it, recording it in the file. */
static void remove_at(struct davlock_table *t, struct lock **pp)
{
	struct lock *l = *pp;

	*pp = l->next;
	t->n--;
	append_gone(t, l);
	lock_free(l);
}

/* Drops expired locks (mutex held). */
static void expire(struct davlock_table *t, int64_t now)
{
	for (struct lock **pp = &t->head; *pp;) {
		if ((*pp)->expires <= now)
			remove_at(t, pp);
		else
			pp = &(*pp)->next;
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

/*
 * Whether a lock on @key may join the table (mutex held, expired ones gone):
 * 0, or why not (davlock_lock()'s errors). The locks over any key stay at
 * most DAVLOCK_MAX_COVER: every lock already over a key that the new one
 * will cover is over @key or (@infinite) below it, and they are counted.
 */
static int admit(const struct davlock_table *t, const char *key, bool exclusive, bool infinite,
		 const char *user, const char *owner, unsigned max_per_user)
{
	size_t related = 0, mine = 0;

	if (owner && strlen(owner) > DAVLOCK_MAX_OWNER)
		return -E2BIG;
	for (const struct lock *l = t->head; l; l = l->next) {
		bool rel = covers(l, key) || (infinite && at_or_below(l->key, key));
		if (rel && (exclusive || l->exclusive))
			return -EBUSY;
		related += rel;
		mine += strcmp(l->user, user) == 0;
	}
	if (related >= DAVLOCK_MAX_COVER)
		return -EMLINK;
	if (mine >= max_per_user)
		return -EDQUOT;
	if (t->n >= DAVLOCK_MAX)
		return -ENOSPC;
	return 0;
}

static struct lock *lock_make(const char *key, const char *user, const char *owner)
{
	struct lock *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->key = strdup(key);
	l->user = strdup(user);
	l->owner = owner ? strdup(owner) : NULL;
	if (!l->key || !l->user || (owner && !l->owner)) {
		lock_free(l);
		return NULL;
	}
	return l;
}

int davlock_lock(struct davlock_table *t, const char *key, bool exclusive, bool infinite,
		 unsigned timeout, const char *user, const char *owner, unsigned max_per_user,
		 int64_t now, char token[DAVLOCK_TOKEN_LEN + 1])
{
	struct lock *l;
	size_t len = 0;
	int err;

	if (!t || !key || !*key || !user || !*user || !token)
		return -EINVAL;
	pthread_mutex_lock(&t->mu);
	expire(t, now);
	err = admit(t, key, exclusive, infinite, user, owner, max_per_user);
	if (err)
		goto out;
	l = lock_make(key, user, owner);
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	err = make_token(l->token);
	if (err) {
		lock_free(l);
		goto out;
	}
	l->exclusive = exclusive;
	l->infinite = infinite;
	l->timeout = clamp(timeout);
	l->expires = now + l->timeout;
	l->next = t->head;
	t->head = l;
	t->n++;
	if (t->fd >= 0) {
		char *line = lock_line(t, l, &len);
		append(t, line, len, l);
	}
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

/* The lock @token on @key, once the expired ones are gone (mutex held):
 * 0 and *@ret when it is @user's, else -ENOENT (none) or -EPERM. */
static int find_own(struct davlock_table *t, const char *key, const char *token, const char *user,
		    int64_t now, struct lock ***ret)
{
	expire(t, now);
	*ret = find(t, key, token);
	if (!*ret)
		return -ENOENT;
	return strcmp((**ret)->user, user) != 0 ? -EPERM : 0;
}

int davlock_refresh(struct davlock_table *t, const char *key, const char *token, const char *user,
		    unsigned timeout, int64_t now)
{
	struct lock **pp;

	pthread_mutex_lock(&t->mu);
	int err = find_own(t, key, token, user, now, &pp);
	if (!err) {
		(*pp)->timeout = clamp(timeout);
		(*pp)->expires = now + (*pp)->timeout;
		append_refresh(t, *pp);
	}
	pthread_mutex_unlock(&t->mu);
	return err;
}

int davlock_unlock(struct davlock_table *t, const char *key, const char *token, const char *user,
		   int64_t now)
{
	struct lock **pp;

	pthread_mutex_lock(&t->mu);
	int err = find_own(t, key, token, user, now, &pp);
	if (!err)
		remove_at(t, pp);
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
		if (at_or_below((*pp)->key, key))
			remove_at(t, pp);
		else
			pp = &(*pp)->next;
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

/* ---- start-up: the file of an earlier run ---- */

static const char *str_field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

/* Whether @s is a token make_token() could have made. */
static bool token_valid(const char *s)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (!s || strlen(s) != DAVLOCK_TOKEN_LEN || strncmp(s, "opaquelocktoken:", 16) != 0)
		return false;
	for (size_t i = 0; i < sizeof(form) - 1; i++) {
		char c = s[16 + i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		if (form[i] == '-' ? c != '-' : !hex)
			return false;
	}
	return true;
}

/* A line's timeout and end, as the caller's clock: false when they are not
 * numbers in range. The time left is at most the timeout (a clock set back). */
static bool times_of(json_t *o, int64_t now, int64_t wall, unsigned *timeout, int64_t *expires)
{
	json_t *to = json_object_get(o, "timeout"), *ex = json_object_get(o, "expires");

	if (!json_is_integer(to) || !json_is_integer(ex))
		return false;
	json_int_t t = json_integer_value(to), e = json_integer_value(ex);
	if (t < 1 || t > DAVLOCK_MAX_TIMEOUT || e < wall - (json_int_t)DAVLOCK_MAX_TIMEOUT * 1000 ||
	    e > wall + (json_int_t)DAVLOCK_MAX_TIMEOUT * 1000)
		return false;
	*timeout = (unsigned)t;
	*expires = now + (e - wall > t ? t : e - wall);
	return true;
}

/* The lock of a "lock" line, or NULL (a bad line, or ENOMEM: *@oom). */
static struct lock *parse_lock(json_t *o, int64_t now, int64_t wall, bool *oom)
{
	const char *token = str_field(o, "token"), *key = str_field(o, "key"),
		   *user = str_field(o, "user");
	json_t *owner = json_object_get(o, "owner"), *ex = json_object_get(o, "exclusive"),
	       *inf = json_object_get(o, "infinite");
	unsigned timeout;
	int64_t expires;

	if (!token_valid(token) || !key || !user || !json_is_boolean(ex) || !json_is_boolean(inf) ||
	    (owner && (!json_is_string(owner) || json_string_length(owner) > DAVLOCK_MAX_OWNER)) ||
	    !times_of(o, now, wall, &timeout, &expires))
		return NULL;
	struct lock *l = lock_make(key, user, owner ? json_string_value(owner) : NULL);
	if (!l) {
		*oom = true;
		return NULL;
	}
	memcpy(l->token, token, sizeof(l->token));
	l->exclusive = json_is_true(ex);
	l->infinite = json_is_true(inf);
	l->timeout = timeout;
	l->expires = expires;
	return l;
}

static struct lock **pending_find(struct lock **head, const char *token)
{
	for (struct lock **pp = head; token && *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->token, token) == 0)
			return pp;
	return NULL;
}

/* Applies one line to the pending list (file order); false for a bad line. */
static bool replay_line(json_t *o, struct lock **pend, int64_t now, int64_t wall, bool *oom)
{
	const char *op = str_field(o, "op");
	struct lock **pp = pending_find(pend, str_field(o, "token"));

	if (!op)
		return false;
	if (strcmp(op, "unlock") == 0) {
		if (pp) {
			struct lock *l = *pp;
			*pp = l->next;
			lock_free(l);
		}
		return true; /* an unknown token: a lock left out already */
	}
	if (strcmp(op, "refresh") == 0)
		return pp && times_of(o, now, wall, &(*pp)->timeout, &(*pp)->expires);
	if (strcmp(op, "lock") != 0 || pp)
		return false;
	struct lock *l = parse_lock(o, now, wall, oom);
	if (!l)
		return false;
	while (*pend)
		pend = &(*pend)->next;
	*pend = l;
	return true;
}

struct replay {
	struct lock *pend; /* the locks so far, in file order */
	int64_t now, wall;
	unsigned *dropped;
	bool oom;
};

/* gw_linefile_each()'s callback: one line (@o, NULL: not JSON) applied;
 * stops at ENOMEM. */
static int replay_one(void *arg, json_t *o)
{
	struct replay *rp = arg;

	if (!(o && replay_line(o, &rp->pend, rp->now, rp->wall, &rp->oom)))
		(*rp->dropped)++;
	return rp->oom ? -ENOMEM : 0;
}

/* Replays the file's lines, then admits the live locks in file order. */
static int replay(struct davlock_table *t, const char *buf, size_t len, int64_t now, int64_t wall,
		  unsigned *dropped)
{
	struct replay rp = {.now = now, .wall = wall, .dropped = dropped};

	gw_linefile_each(buf, len, replay_one, &rp);
	struct lock *pend = rp.pend;
	bool oom = rp.oom;
	while (pend) {
		struct lock *l = pend;
		pend = l->next;
		if (oom || l->expires <= now ||
		    admit(t, l->key, l->exclusive, l->infinite, l->user, l->owner, DAVLOCK_MAX) !=
			0) {
			(*dropped)++;
			lock_free(l);
			continue;
		}
		l->next = t->head;
		t->head = l;
		t->n++;
	}
	return oom ? -ENOMEM : 0;
}

int davlock_open(const char *path, int64_t now, int64_t wall, unsigned *ret_dropped,
		 struct davlock_table **ret)
{
	struct davlock_table *t = table_new();
	unsigned dropped = 0;
	char *buf = NULL;
	size_t len = 0;
	int err = t ? 0 : -ENOMEM;

	if (!err)
		err = (t->path = strdup(path)) ? 0 : -ENOMEM;
	if (!err) {
		t->wall_offset = wall - now;
		err = gw_linefile_open(path, FILE_MAX_READ, &t->fd, &buf, &len);
	}
	if (!err)
		err = replay(t, buf, len, now, wall, &dropped);
	free(buf);
	if (!err)
		err = compact(t);
	if (err) {
		davlock_free(t);
		return err;
	}
	if (ret_dropped)
		*ret_dropped = dropped;
	*ret = t;
	return 0;
}

size_t davlock_count(struct davlock_table *t, int64_t now)
{
	pthread_mutex_lock(&t->mu);
	expire(t, now);
	size_t n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
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
