/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/listing.h - the REST API's JSON listings: a folder's entries and a
 * server's shares, from the worker's ENTRIES records (untrusted:
 * sandbox/gateway/client.h) to the answer's JSON.
 *
 * Names reach it as the protocol lets them through (proto_name_valid():
 * valid UTF-8, no control character, no '/' or '\\'); the worker leaves out
 * and counts the names it cannot pass on ("skipped"). Every name that comes
 * is put in the JSON exactly (jansson escapes it), so any listing gives valid
 * UTF-8 JSON that names each entry faithfully (tests/fuzz/fuzz-listing.c).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "proto.h"

/* What gw_listing_entry() fills; @entries owned by the caller. */
struct gw_listing {
	json_t *entries; /* a JSON array */
	bool shares;	 /* a server's shares (else a folder's files and folders) */
};

/* An sbxc_list()/sbxc_shares() callback (@ud: struct gw_listing): appends
 * {"name", "type": "file"|"dir", "size", "mtime"} or, for shares,
 * {"name", "type": "share", "comment"}; an entry of the other kind is
 * skipped. 0, or PROTO_E_IO when memory ran out. */
int gw_listing_entry(void *ud, const struct proto_entry_rec *rec, const char *name,
		     const char *comment);

/* The answer {"path", "entries", "skipped"? (when > 0)}: takes @entries
 * (even on failure); a new value, or NULL (ENOMEM). */
json_t *gw_listing_answer(const char *path, json_t *entries, unsigned skipped);
