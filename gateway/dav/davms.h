/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/davms.h - WebDAV's multistatus encoder: one resource's
 * <D:response> with the properties a PROPFIND asks for, the hrefs and lock
 * keys of resources, and the callback that turns a listing's entries (from
 * the worker, untrusted: sandbox/gateway/client.h) into responses.
 *
 * Names reach it as the protocol lets them through (proto_name_valid():
 * valid UTF-8, no control character, no '/' or '\\'); hrefs are
 * percent-encoded segment by segment (gw_path_encode()), text is XML-escaped
 * (davxml_put_text()), so any such name gives well-formed XML that names it
 * exactly (tests/fuzz/fuzz-listing.c).
 *
 * Pure but for the lock table it reads. Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dav/davlock.h"
#include "dav/davxml.h"
#include "proto.h"

/* The share's size and free space (RFC 4331), when asked for and known. */
struct davms_quota {
	uint64_t total, avail;
};

/* One resource of a multistatus; every pointer borrowed. */
struct davms_res {
	const struct davms_quota *quota;
	const char *href;
	const char *name;	     /* displayname */
	const char *key;	     /* lock key, NULL above shares */
	struct davlock_table *locks; /* for lockdiscovery when @key is set; may be NULL */
	int64_t now;		     /* seconds, for the locks' timeouts */
	/* A listing's entry: the bytes of inherited locks (rooted above @key)
	 * its multistatus already shows, counted against DAVMS_INHERITED_MAX;
	 * NULL: every lock is shown. */
	size_t *inherited;
	bool collection;
	bool stat;	      /* @st known */
	struct proto_stat st; /* size, times (getetag: gw_etag()) */
};

/* Appends @x's <D:response> for @pf to @b (b->oom set when memory ran out). */
void davms_response(struct davxml_buf *b, const struct davxml_propfind *pf,
		    const struct davms_res *x);

/* Appends one lock's <D:activelock> (its owner XML as the client gave it,
 * checked well-formed by davxml_parse_lockinfo()). */
void davms_activelock(struct davxml_buf *b, const struct davlock_info *l);

/* "/dav/server/share/path" percent-encoded, '/' at the end for @collection;
 * @share and @path may be NULL or "". A new string the caller frees with
 * free(), or NULL (ENOMEM). */
char *davms_href(const char *server, const char *share, const char *path, bool collection);

/* The lock table's key of a resource: "server/share[/path]" (decoded). A new
 * string the caller frees with free(), or NULL (ENOMEM). */
char *davms_key(const char *server, const char *share, const char *path);

/*
 * A Depth 1 listing shows, in its entries' lockdiscovery, the locks they
 * inherit from a folder above (depth infinity) for its first
 * DAVMS_INHERITED_MAX bytes of them only: each entry would repeat them (32
 * locks of 4 KiB owners under 100 000 entries: 13 GB). The folder's own
 * response, a Depth 0 PROPFIND of an entry, and the entries' own locks show
 * every lock.
 */
#define DAVMS_INHERITED_MAX (4u << 20)

/* What davms_list_entry() needs; every pointer borrowed. */
struct davms_listing {
	const struct davms_quota *quota;
	struct davxml_buf *b;
	const struct davxml_propfind *pf;
	struct davlock_table *locks; /* may be NULL */
	int64_t now;
	const char *server, *share, *dir; /* dir: the folder's path in the share */
	bool shares;			  /* a server's shares (else a folder's entries) */
	size_t inherited;		  /* see DAVMS_INHERITED_MAX; start at 0 */
};

/* An sbxc_list()/sbxc_shares() callback (@ud: struct davms_listing): appends
 * the entry's response, or skips an entry of the other kind (shares/files).
 * 0, or PROTO_E_IO when memory ran out. */
int davms_list_entry(void *ud, const struct proto_entry_rec *rec, const char *name,
		     const char *comment);
