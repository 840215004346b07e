/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/log/audit.c - the audit line of one file operation.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/audit.h"
#include "log/log.h"

struct gw_audit *gw_audit_new(const char *op, const char *server, const char *share,
			      const char *path, const char *to)
{
	struct gw_audit *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	snprintf(a->op, sizeof(a->op), "%s", op);
	a->server = strdup(server);
	a->share = strdup(share);
	/* From the share's root, as the file API's "to" is written. */
	if (asprintf(&a->path, "/%s", path) < 0)
		a->path = NULL;
	a->to = to ? strdup(to) : NULL;
	if (!a->server || !a->share || !a->path || (to && !a->to)) {
		gw_audit_free(a);
		return NULL;
	}
	return a;
}

void gw_audit_log(const struct gw_audit *a, const char *user, uint64_t bytes, bool ok,
		  unsigned status, const char *addr)
{
	struct gw_log l;

	gw_log_begin(&l, "audit");
	gw_log_str(&l, "user", user);
	gw_log_str(&l, "server", a->server);
	gw_log_str(&l, "share", a->share);
	gw_log_str(&l, "op", a->op);
	gw_log_str(&l, "path", a->path);
	if (a->to)
		gw_log_str(&l, "to", a->to);
	gw_log_u64(&l, "bytes", bytes);
	gw_log_str(&l, "result", ok ? "ok" : "failed");
	gw_log_u64(&l, "status", status);
	gw_log_str(&l, "addr", addr);
	gw_log_end(&l);
}

void gw_audit_free(struct gw_audit *a)
{
	if (!a)
		return;
	free(a->server);
	free(a->share);
	free(a->path);
	free(a->to);
	free(a);
}
