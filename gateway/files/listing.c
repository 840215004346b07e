/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/files/listing.c - the REST API's JSON listings (listing.h).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include "files/listing.h"
#include "http/httputil.h"

int gw_listing_entry(void *ud, const struct proto_entry_rec *rec, const char *name,
		     const char *comment)
{
	struct gw_listing *k = ud;
	json_t *e;

	if (k->shares) {
		if (rec->ftype != PROTO_FT_SHARE)
			return 0;
		e = json_pack("{s:s,s:s,s:s}", "name", name, "type", "share", "comment",
			      comment ? comment : "");
	} else {
		char mt[32];
		if (rec->ftype == PROTO_FT_SHARE)
			return 0;
		gw_rfc3339(rec->mtime, mt);
		e = json_pack("{s:s,s:s,s:I,s:s}", "name", name, "type",
			      rec->ftype == PROTO_FT_DIR ? "dir" : "file", "size",
			      (json_int_t)rec->size, "mtime", mt);
	}
	if (!e || json_array_append_new(k->entries, e) < 0)
		return PROTO_E_IO;
	return 0;
}

json_t *gw_listing_answer(const char *path, json_t *entries, unsigned skipped)
{
	json_t *body = json_pack("{s:s,s:o}", "path", path, "entries", entries);

	/* Names the worker cannot pass on (control characters...): counted. */
	if (body && skipped > 0 &&
	    json_object_set_new(body, "skipped", json_integer(skipped)) < 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}
