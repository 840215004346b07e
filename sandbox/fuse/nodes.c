/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/fuse/nodes.c - the inode table of the sandbox's FUSE server
 * process. See nodes.h.
 *
 * Two chained hash tables over the same nodes: by inode number, and by
 * (parent, name). Both grow by doubling; the table never holds more than
 * max nodes, so neither does memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nodes.h"

struct node {
	uint64_t ino;
	uint64_t nlookup;
	struct node *parent; /* NULL: the root, or detached */
	char *name;	     /* NULL: the root, or detached */
	size_t children;     /* attached children: they keep this node alive */
	struct node *next_ino, *next_name;
};

struct nodes {
	struct node root;
	struct node **by_ino, **by_name;
	size_t nbuckets; /* a power of two, both tables */
	size_t count, max;
	uint64_t next_ino;
};

static size_t hash_ino(uint64_t ino)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdULL;
	ino ^= ino >> 33;
	return (size_t)ino;
}

static size_t hash_name(uint64_t parent, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ hash_ino(parent); /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return (size_t)h;
}

static struct node *find_ino(const struct nodes *t, uint64_t ino)
{
	if (ino == NODES_ROOT)
		return (struct node *)&t->root;
	for (struct node *n = t->by_ino[hash_ino(ino) & (t->nbuckets - 1)]; n; n = n->next_ino)
		if (n->ino == ino)
			return n;
	return NULL;
}

static struct node *find_name(const struct nodes *t, const struct node *parent, const char *name)
{
	size_t b = hash_name(parent->ino, name) & (t->nbuckets - 1);

	for (struct node *n = t->by_name[b]; n; n = n->next_name)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void link_name(struct nodes *t, struct node *n)
{
	size_t b = hash_name(n->parent->ino, n->name) & (t->nbuckets - 1);

	n->next_name = t->by_name[b];
	t->by_name[b] = n;
}

static void unlink_name(struct nodes *t, struct node *n)
{
	size_t b = hash_name(n->parent->ino, n->name) & (t->nbuckets - 1);

	for (struct node **p = &t->by_name[b]; *p; p = &(*p)->next_name)
		if (*p == n) {
			*p = n->next_name;
			return;
		}
}

static void link_ino(struct nodes *t, struct node *n)
{
	size_t b = hash_ino(n->ino) & (t->nbuckets - 1);

	n->next_ino = t->by_ino[b];
	t->by_ino[b] = n;
}

static void unlink_ino(struct nodes *t, struct node *n)
{
	size_t b = hash_ino(n->ino) & (t->nbuckets - 1);

	for (struct node **p = &t->by_ino[b]; *p; p = &(*p)->next_ino)
		if (*p == n) {
			*p = n->next_ino;
			return;
		}
}

/* Doubles both tables; on failure they stay as they are (longer chains). */
static void grow(struct nodes *t)
{
	size_t nb = t->nbuckets * 2;
	struct node **bi = calloc(nb, sizeof(*bi)), **bn = calloc(nb, sizeof(*bn));

	if (!bi || !bn) {
		free(bi);
		free(bn);
		return;
	}
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (struct node *n = t->by_ino[i], *next; n; n = next) {
			next = n->next_ino;
			size_t b = hash_ino(n->ino) & (nb - 1);
			n->next_ino = bi[b];
			bi[b] = n;
		}
		for (struct node *n = t->by_name[i], *next; n; n = next) {
			next = n->next_name;
			size_t b = hash_name(n->parent->ino, n->name) & (nb - 1);
			n->next_name = bn[b];
			bn[b] = n;
		}
	}
	free(t->by_ino);
	free(t->by_name);
	t->by_ino = bi;
	t->by_name = bn;
	t->nbuckets = nb;
}

struct nodes *nodes_new(size_t max)
{
	struct nodes *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 256;
	t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
	t->by_name = calloc(t->nbuckets, sizeof(*t->by_name));
	if (!t->by_ino || !t->by_name) {
		nodes_free(t);
		return NULL;
	}
	t->root.ino = NODES_ROOT;
	t->max = max;
	t->next_ino = NODES_ROOT + 1;
	return t;
}

void nodes_free(struct nodes *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->by_ino && i < t->nbuckets; i++)
		for (struct node *n = t->by_ino[i], *next; n; n = next) {
			next = n->next_ino;
			free(n->name);
			free(n);
		}
	free(t->by_ino);
	free(t->by_name);
	free(t);
}

size_t nodes_count(const struct nodes *t)
{
	return t->count;
}

/* Frees @n and then each ancestor that nothing keeps any more. */
static void release(struct nodes *t, struct node *n)
{
	while (n && n != &t->root && n->nlookup == 0 && n->children == 0) {
		struct node *parent = n->parent;
		if (parent) {
			unlink_name(t, n);
			parent->children--;
		}
		unlink_ino(t, n);
		free(n->name);
		free(n);
		t->count--;
		n = parent;
	}
}

/* Takes @n out of its directory: no name, no parent, kept by its lookups and
 * children alone. */
static void detach(struct nodes *t, struct node *n)
{
	struct node *parent = n->parent;

	if (!parent)
		return;
	unlink_name(t, n);
	parent->children--;
	n->parent = NULL;
	free(n->name);
	n->name = NULL;
	release(t, n);
	release(t, parent);
}

static bool attached(const struct nodes *t, const struct node *n)
{
	for (; n != &t->root; n = n->parent)
		if (!n->parent)
			return false;
	return true;
}

int nodes_lookup(struct nodes *t, uint64_t parent, const char *name, uint64_t *ret_ino)
{
	struct node *p = find_ino(t, parent), *n;

	if (!p || !attached(t, p))
		return -ENOENT;
	n = find_name(t, p, name);
	if (!n) {
		if (t->count >= t->max)
			return -ENOMEM;
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->name = strdup(name);
		if (!n->name) {
			free(n);
			return -ENOMEM;
		}
		n->ino = t->next_ino++;
		n->parent = p;
		p->children++;
		if (t->count >= t->nbuckets)
			grow(t);
		link_ino(t, n);
		link_name(t, n);
		t->count++;
	}
	n->nlookup++;
	*ret_ino = n->ino;
	return 0;
}

void nodes_forget(struct nodes *t, uint64_t ino, uint64_t n)
{
	struct node *x = find_ino(t, ino);

	if (!x || x == &t->root)
		return;
	x->nlookup = n < x->nlookup ? x->nlookup - n : 0;
	release(t, x);
}

void nodes_detach(struct nodes *t, uint64_t parent, const char *name)
{
	struct node *p = find_ino(t, parent), *n = p ? find_name(t, p, name) : NULL;

	if (n)
		detach(t, n);
}

int nodes_rename(struct nodes *t, uint64_t parent, const char *name, uint64_t newparent,
		 const char *newname)
{
	struct node *p = find_ino(t, parent), *q = find_ino(t, newparent);
	struct node *n = p ? find_name(t, p, name) : NULL, *old;
	char *copy;

	if (!n)
		return 0; /* not held: nothing to move */
	if (p == q && strcmp(name, newname) == 0)
		return 0;
	if (!q || !attached(t, q)) {
		detach(t, n);
		return 0;
	}
	old = find_name(t, q, newname);
	if (old)
		detach(t, old);
	copy = strdup(newname);
	if (!copy) {
		detach(t, n);
		return -ENOMEM;
	}
	/* Keep @p alive until @n has moved: @n is what keeps it. */
	unlink_name(t, n);
	free(n->name);
	n->name = copy;
	n->parent = q;
	q->children++;
	link_name(t, n);
	p->children--;
	release(t, p);
	return 0;
}

int nodes_path(const struct nodes *t, uint64_t ino, char *buf, size_t size, const char **share,
	       const char **path)
{
	const struct node *n = find_ino(t, ino), *x;
	size_t len = 0;

	if (!n)
		return -ENOENT;
	if (n == &t->root) {
		if (size < 1)
			return -ENAMETOOLONG;
		buf[0] = '\0';
		*share = NULL;
		*path = buf;
		return 0;
	}
	/* The length first ("share\0a/b/c\0"), then the names from the end. */
	for (x = n; x != &t->root; x = x->parent) {
		if (!x->parent)
			return -ENOENT;
		len += strlen(x->name) + 1;
	}
	if (n->parent == &t->root)
		len++; /* the share's root: "share\0\0" */
	if (len > size)
		return -ENAMETOOLONG;
	size_t end = len;
	buf[--end] = '\0';
	for (x = n; x != &t->root; x = x->parent) {
		size_t l = strlen(x->name);
		end -= l;
		memcpy(buf + end, x->name, l);
		if (x->parent == &t->root)
			break;
		buf[--end] = '/';
	}
	/* A share's root: written as "?share\0" (one byte to spare at the
	 * front), made "share\0\0". Deeper: "share/a/b\0" from byte 0, whose
	 * first '/' ends the share's segment. */
	if (n->parent == &t->root) {
		size_t l = strlen(n->name);
		memmove(buf, buf + end, l);
		buf[l] = '\0';
		buf[l + 1] = '\0';
		*share = buf;
		*path = buf + l + 1;
		return 0;
	}
	char *slash = strchr(buf, '/');
	*slash = '\0';
	*share = buf;
	*path = slash + 1;
	return 0;
}

uint64_t nodes_parent(const struct nodes *t, uint64_t ino)
{
	const struct node *n = find_ino(t, ino);

	if (!n || n == &t->root || !n->parent)
		return 0;
	return n->parent->ino;
}
