/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/rules.h - the pure parts of two safety rules of the worker,
 * each one function with its unit test (tests/unit/test-rules.c); smb.c feeds
 * them what the server's listings and stats give, for every interface (REST,
 * WebDAV, uploads, zip and search through the worker, the FUSE mount through
 * the same smb.c).
 *
 *  - A folder that may be a link the server followed is never entered
 *    (rules_inside()): Samba's default "follow symlinks = yes" shows a link
 *    to a folder as an ordinary folder, with its target's file id and
 *    content. The ".." of its own listing, or the listing of the folder it
 *    is in (rules_twins_*()), gives it away.
 *  - A name that may be a short (8.3) name the server made for a longer one
 *    (rules_short_name_like()) is looked up in its folder's listing before it
 *    is used (smb_tmp_alias()): it may name an upload's temporary.
 *
 * Pure memory, no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* A folder as a listing shows it in "." or "..", or as a stat does. */
struct dir_id {
	bool have;
	ino_t ino;
	struct timespec mtime, ctime;
};

/* File ids that occur more than once among the folders of one listing (its
 * "." and ".." included). */
struct twins {
	ino_t *ids; /* sorted, each once */
	size_t n;
};

/* Appends @id to the array *@ids (*@n used, *@cap allocated; the caller
 * frees *@ids). 0, or -ENOMEM (the array as it was). */
int rules_ids_push(ino_t **ids, size_t *n, size_t *cap, ino_t id);

/* Keeps of @ids[0..@n) (malloc'd or NULL; taken) the ids that occur more
 * than once, sorted, each once: *@ret (caller frees with
 * rules_twins_clear()). */
void rules_twins_make(ino_t *ids, size_t n, struct twins *ret);

bool rules_twins_has(const struct twins *t, ino_t id);

void rules_twins_clear(struct twins *t);

/*
 * Whether a folder whose own listing gave @self (".") and @up (".."), found
 * as an entry with file id @entry_ino in the folder @parent, really is inside
 * @parent, and not a link that the server followed.
 *
 * The server has file ids when @entry_ino is the id of "." in the folder's
 * own listing (libsmbclient makes up ids from the path when the server sends
 * none, and "a" and "a/." then differ); then ".." must have @parent's id
 * (Samba, like the kernel, reports there the target's real parent), and no
 * other entry of @parent may have the folder's id (@twin: rules_twins_has()
 * of @parent's listing). That last test is the one a link beside its target
 * fails, whose ".." is @parent too: the link and its target have one id
 * there ("." has it for a link to @parent itself). Nothing over SMB tells
 * which of the two names is the link: neither is entered.
 *
 * Without ids (SMB1, FAT), ".." must have @parent's times, to the 100 ns.
 * Without ".." nothing says where the folder is: false.
 */
bool rules_inside(const struct dir_id *parent, ino_t entry_ino, bool twin,
		  const struct dir_id *self, const struct dir_id *up);

/* Whether @name could be a short (8.3) name that a server made for a longer
 * one: a '~' in a base of 1 to 8 bytes, then at most a dot and 3 more bytes
 * (Windows' "PROGRA~1", Samba's hashed "_8X08E~E.TMP"). */
bool rules_short_name_like(const char *name);
