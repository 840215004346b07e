/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/log/audit.h - one file operation, for its audit line
 * (event=audit, docs/operations.md): what a request did to which path.
 * http/request.h's gw_audit_set() records one on a request; the daemon logs
 * it when the request ends, with its status and bytes.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct gw_audit {
	char op[16];  /* read, upload, mkdir, copy, move, delete, ... */
	char *server; /* the rest owned, decoded UTF-8 */
	char *share;
	char *path; /* inside the share, from its root ("/" first) */
	char *to;   /* copy/move: the target inside the share, else NULL */
};

/* A new record of @op on (@server, @share, "/"@path[, @to]); the caller frees
 * it with gw_audit_free(). NULL when memory is short (the line is lost). */
struct gw_audit *gw_audit_new(const char *op, const char *server, const char *share,
			      const char *path, const char *to);

/* Logs @a's line: done by @user, moving @bytes, answered @status (@ok: a
 * success that the client received whole), from the address @addr. */
void gw_audit_log(const struct gw_audit *a, const char *user, uint64_t bytes, bool ok,
		  unsigned status, const char *addr);

/* NULL allowed. */
void gw_audit_free(struct gw_audit *a);
