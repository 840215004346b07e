/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/rules.c - see rules.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static int cmp_ino(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;
	return x < y ? -1 : x > y;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int rules_ids_push(ino_t **ids, size_t *n, size_t *cap, ino_t id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		ino_t *m = realloc(*ids, c * sizeof(*m));
		if (!m)
			return -ENOMEM;
		*ids = m;
		*cap = c;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

void rules_twins_make(ino_t *ids, size_t n, struct twins *ret)
{
	size_t k = 0;

	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_ino);
	/* ids[k] is written only below i - 1, which is read before it. */
	for (size_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1] && (k == 0 || ids[k - 1] != ids[i]))
			ids[k++] = ids[i];
	*ret = (struct twins){.ids = ids, .n = k};
}

bool rules_twins_has(const struct twins *t, ino_t id)
{
	return t->n && bsearch(&id, t->ids, t->n, sizeof(id), cmp_ino);
}

void rules_twins_clear(struct twins *t)
{
	free(t->ids);
	*t = (struct twins){0};
}

bool rules_inside(const struct dir_id *parent, ino_t entry_ino, bool twin,
		  const struct dir_id *self, const struct dir_id *up)
{
	if (!parent->have || !up->have)
		return false;
	if (self->have && self->ino == entry_ino)
		return !twin && up->ino == parent->ino;
	return ts_equal(&up->mtime, &parent->mtime) && ts_equal(&up->ctime, &parent->ctime);
}

bool rules_short_name_like(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t base = dot ? (size_t)(dot - name) : strlen(name);

	if (base == 0 || base > 8 || !memchr(name, '~', base))
		return false;
	return !dot || (!strchr(dot + 1, '.') && strlen(dot + 1) <= 3);
}
