/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/mhderr.c - one answer for the requests libmicrohttpd refuses
 * itself; see mhderr.h.
 *
 * Runs in: the gateway process (libmicrohttpd's connection threads).
 */
#include <stdio.h>
#include <string.h>

#include "http/mhderr.h"
#include "http/reply.h"

/* The connection this thread serves and its socket, or -1 (not yet, TLS). */
static __thread struct MHD_Connection *conn;
static __thread int conn_fd = -1;

void gw_mhderr_conn(struct MHD_Connection *c, bool tls)
{
	const union MHD_ConnectionInfo *ci =
	    tls ? NULL : MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	conn = c;
	conn_fd = ci ? ci->connect_fd : -1;
}

static const char *code_of(unsigned status)
{
	switch (status) {
	case 413:
		return "too_large";
	case 414:
		return "uri_too_long";
	case 431:
		return "headers_too_large";
	case 505:
		return "http_version";
	case 500:
		return "internal";
	default:
		return "bad_request";
	}
}

void gw_mhderr_log(void *cls, const char *fmt, va_list ap)
{
	/* libmicrohttpd 0.9.75's line (connection.c, transmit_error_response) */
	static const char error_line[] = "Error processing request (HTTP response code is %u";
	(void)cls;

	/* Not when an answer of the gateway is queued already: libmicrohttpd
	 * then closes the connection, or sends its error in that one's place. */
	if (conn_fd >= 0 && strncmp(fmt, error_line, sizeof(error_line) - 1) == 0 &&
	    !MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS)) {
		va_list cp;
		char json[256];

		va_copy(cp, ap);
		unsigned status = va_arg(cp, unsigned);
		va_end(cp);
		if (status < 400 || status > 599)
			status = MHD_HTTP_BAD_REQUEST;
		int n = snprintf(json, sizeof(json),
				 "{\"error\":{\"code\":\"%s\",\"message\":\"libmicrohttpd "
				 "refused the request: %s\"}}",
				 code_of(status), MHD_get_reason_phrase_for(status));
		if (n > 0 && (size_t)n < sizeof(json))
			gw_reply_raw(conn_fd, status, json, (size_t)n);
		conn_fd = -1; /* one answer per connection */
	}
	vfprintf(stderr, fmt, ap);
}
