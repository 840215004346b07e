/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/conns.h - the gateway's watch over client connections (gateway
 * process, libmicrohttpd's threads plus one watchdog thread).
 *
 * libmicrohttpd counts any byte as progress, so a client that sends one byte
 * a second holds a connection (and, in thread-per-connection mode, a thread)
 * for as long as it likes. This module gives each request two deadlines that
 * progress does not reset, and shares the connection slots fairly:
 *
 *  - the request line and the headers must be complete within
 *    header_timeout seconds of the connection's start, or of the end of the
 *    previous request on a kept-alive connection;
 *  - a request body must arrive at GW_CONNS_RATE_WINDOW-second windows of at
 *    least min_body_rate * GW_CONNS_RATE_WINDOW bytes each; time the gateway
 *    itself spends in the handler (an upload waiting for the file server) is
 *    not counted against the client;
 *  - when the gateway holds limit - reserve connections or more, an address
 *    that already holds GW_CONNS_LIGHT connections or more is refused a new
 *    one, so that new addresses (and /healthz) still get in while a few
 *    addresses hoard connections;
 *  - when it holds limit connections (many addresses, each holding a few),
 *    a new one is let in by closing the connection that has waited longest
 *    for its request line: idle connections cannot lock newcomers out. A
 *    connection whose request is under way is never closed for room.
 *
 * A connection past a deadline is shut down (shutdown(2) on its socket) by
 * the watchdog, which makes libmicrohttpd close it; a line goes to stderr.
 * Nothing here reads or logs request content.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* Seconds over which a body's rate is measured. */
#define GW_CONNS_RATE_WINDOW 10
/* Connections an address may still open once only the reserve is left. */
#define GW_CONNS_LIGHT 8
/* Connections accepted beyond the limit while the ones cut to make room for
 * them close (libmicrohttpd's own limit must be limit + GW_CONNS_SPARE). */
#define GW_CONNS_SPARE 16

struct gw_conns;

struct gw_conns_limits {
	unsigned limit;		 /* connections in all (libmicrohttpd's CONNECTION_LIMIT) */
	unsigned per_address;	 /* connections of one address */
	unsigned reserve;	 /* slots kept for addresses with < GW_CONNS_LIGHT */
	unsigned header_timeout; /* seconds; >= 1 */
	uint64_t min_body_rate;	 /* bytes per second; 0 = no minimum */
};

/*
 * Creates the table and starts its watchdog thread. Returns 0 and *@ret
 * (caller frees with gw_conns_free() after the HTTP daemon stopped), or a
 * negative errno; *@ret is untouched on failure.
 */
int gw_conns_new(const struct gw_conns_limits *lim, struct gw_conns **ret);
/* Stops the watchdog and frees the table. NULL is allowed. */
void gw_conns_free(struct gw_conns *t);

/* libmicrohttpd's accept policy callback; @cls is the table. */
enum MHD_Result gw_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; @cls is the table. */
void gw_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode code);

/*
 * Request phases, called from the connection's own thread. Connections this
 * table does not know are ignored.
 *  - _headers_done(): the first handler call of a request; @body says
 *    whether a body follows (Content-Length > 0 or chunked).
 *  - _handler_enter(), _handler_leave(): around every handler call;
 *    @body_bytes is what the call consumed of the body, @body_done whether
 *    the body is complete.
 *  - _request_done(): the request completed (answer sent or aborted); a
 *    kept-alive connection waits for its next request line from now on.
 */
void gw_conns_headers_done(struct MHD_Connection *c, bool body);
void gw_conns_handler_enter(struct MHD_Connection *c);
void gw_conns_handler_leave(struct MHD_Connection *c, size_t body_bytes, bool body_done);
void gw_conns_request_done(struct MHD_Connection *c);

/* Connections now open, and those the watchdog has cut since the start. */
unsigned gw_conns_open(struct gw_conns *t);
uint64_t gw_conns_cut(struct gw_conns *t);
