/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/search.h - SEARCH: names under a folder that contain a text
 * (case-insensitive, by Unicode simple case folding) or match a '*'/'?'
 * pattern, found by a walk with one listing per folder (smb_walk()).
 *
 * Runs in: the worker (and its lanes), inside the sandbox.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "smb.h"

struct search_matcher;

/* Compiles @pattern (valid UTF-8, 1..PROTO_SEARCH_MAX_PATTERN bytes): with a
 * '*' or '?' it is a pattern for the whole name, else a text to find in it.
 * Returns 0 and *@ret (free with search_matcher_free()), or a proto_err. */
int search_matcher_new(const char *pattern, struct search_matcher **ret);
void search_matcher_free(struct search_matcher *m);
/* Whether @name (valid UTF-8) matches. */
bool search_match(const struct search_matcher *m, const char *name);

struct search_result {
	uint64_t results;    /* entries found */
	uint32_t unreadable; /* folders that could not be listed or were links */
	bool stopped;	     /* at the limit or the deadline */
	bool too_deep;	     /* folders at max_depth were not looked into */
};

/*
 * Walks @folder of @share (at most @req->max_depth folders down) until
 * @req->max_results entries were found or @req->deadline_ms passed; @found
 * is called per match with its path relative to @folder (a non-zero return
 * stops: returned). Returns 0 and *@ret, or a proto_err (of @folder).
 */
int search_run(struct smb *s, const char *share, const char *folder, const char *pattern,
	       const struct proto_search *req,
	       int (*found)(void *ud, const struct smb_walk_entry *e), void *ud,
	       struct search_result *ret);
