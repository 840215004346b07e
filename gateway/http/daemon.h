/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/daemon.h - the libmicrohttpd daemon: limits, TLS, routing of
 * (method, path) by a table it is given (routes.c names the handlers), one
 * log line per request.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

/*
 * One row of a routing table. The first row whose path matches picks the
 * group of rows with that same path; within it, the row whose methods name
 * the request's method answers, else 405 with the group's methods in Allow
 * (404 when no row matches). A prefix row matches its path and everything
 * below it; the handler gets the rest of the raw path (from the '/' on; the
 * whole path for ""). Handlers of rows with .streams are called from the
 * headers on and consume the body themselves; the others get it collected in
 * r->body (at most GW_MAX_JSON_BODY).
 */
struct gw_route {
	const char *methods; /* "GET HEAD"; NULL: any (the handler answers 405) */
	const char *path;
	bool prefix;
	bool streams;
	gw_handler fn;
};

/* What the daemon serves (borrowed for the daemon's life). */
struct gw_http_app {
	const struct gw_route *routes;
	size_t n_routes;
	/* Called once as each routed request ends, before its log line: drops
	 * what its handlers held (the session). Returns the session's id for the
	 * log line (0: none). NULL: nothing to drop. */
	uint64_t (*request_done)(struct gw_req *r);
};

struct gw_http;

/*
 * Starts listening on the configured address with its threads. @gw and @app
 * must outlive the daemon. Returns 0 and *@ret (caller stops it with
 * gw_http_stop()), or a negative errno (-EADDRINUSE..., -EINVAL for a TLS
 * certificate or key that cannot be read), after logging why.
 */
int gw_http_start(struct gw *gw, const struct gw_http_app *app, struct gw_http **ret);

/* The port actually bound (when the configuration says port 0). */
unsigned gw_http_port(const struct gw_http *h);

/* Stops accepting, waits for the request threads, frees @h. NULL allowed. */
void gw_http_stop(struct gw_http *h);
