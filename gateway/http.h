/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http.h - the libmicrohttpd daemon: limits, TLS, routing of
 * (method, path) to the handlers, one log line per request.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include "gateway.h"

struct gw_http;

/*
 * Starts listening on the configured address with its threads. @gw must
 * outlive the daemon. Returns 0 and *@ret (caller stops it with
 * gw_http_stop()), or a negative errno (-EADDRINUSE..., -EINVAL for a TLS
 * certificate or key that cannot be read), after logging why.
 */
int gw_http_start(struct gw *gw, struct gw_http **ret);

/* The port actually bound (when the configuration says port 0). */
unsigned gw_http_port(const struct gw_http *h);

/* Stops accepting, waits for the request threads, frees @h. NULL allowed. */
void gw_http_stop(struct gw_http *h);
