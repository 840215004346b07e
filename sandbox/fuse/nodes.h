/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/fuse/nodes.h - the inode table of the sandbox's FUSE server
 * process: which (parent, name) each inode number the kernel holds stands
 * for, and how many lookups of it the kernel counts.
 *
 * The kernel names files by inode number; SMB names them by path. A node is
 * one name in one directory: its path is found by walking up to the root
 * (inode 1, the mount's root, whose children are the shares). A node lives
 * while the kernel holds a lookup of it or it has children in the table;
 * inode numbers are never reused (generation 0 is always right). Renames
 * move a node (its children follow); unlinks detach it (its number stays
 * valid until the kernel forgets it, its path is gone).
 *
 * Pure memory, no I/O; single-threaded like the rest of the process.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define NODES_ROOT 1 /* FUSE_ROOT_ID */

struct nodes;

/* A table that holds at most @max nodes besides the root. Returns NULL when out
 * of memory; the caller frees it with nodes_free(). */
struct nodes *nodes_new(size_t max);
void nodes_free(struct nodes *t);

/* Nodes in the table, the root not counted. */
size_t nodes_count(const struct nodes *t);

/*
 * The child @name of directory @parent, added when missing; counts one lookup
 * of it. Returns 0 and *@ret_ino, or -ENOENT (@parent unknown or detached),
 * -ENOMEM (the table is full, or out of memory).
 */
int nodes_lookup(struct nodes *t, uint64_t parent, const char *name, uint64_t *ret_ino);

/* The kernel forgets @n lookups of @ino; the node goes when none is left and
 * it has no children. Unknown numbers are ignored. */
void nodes_forget(struct nodes *t, uint64_t ino, uint64_t n);

/* The child @name of @parent is gone (unlink, rmdir): no path leads to it any
 * more. Nothing happens when the table does not hold it. */
void nodes_detach(struct nodes *t, uint64_t parent, const char *name);

/*
 * @name in @parent is now @newname in @newparent (a rename that succeeded): a
 * node held at the target is detached first. Returns 0, or -ENOMEM (the name
 * could not be copied: the node is detached instead, its next lookup makes a
 * fresh one).
 */
int nodes_rename(struct nodes *t, uint64_t parent, const char *name, uint64_t newparent,
		 const char *newname);

/*
 * The path of @ino: into @buf (@size bytes) as "share\0rest" where rest is the
 * path inside the share ("" for the share's root). *@share and *@path point
 * into @buf. The root has no share: *@share is NULL and *@path "". Returns 0,
 * or -ENOENT (unknown or detached), -ENAMETOOLONG (does not fit @size).
 */
int nodes_path(const struct nodes *t, uint64_t ino, char *buf, size_t size, const char **share,
	       const char **path);

/* The parent of @ino (NODES_ROOT for a share), or 0 for the root, an unknown
 * or a detached node. */
uint64_t nodes_parent(const struct nodes *t, uint64_t ino);
