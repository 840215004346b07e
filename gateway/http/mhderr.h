/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/mhderr.h - the answers libmicrohttpd gives by itself (a request it
 * refuses before the gateway sees it: HTTP/1.1 without Host, a bad
 * Content-Length, headers too large, an unknown HTTP version...). Its
 * version 0.9.75 (Debian 12) writes their header block twice. Its log line
 * for such an answer comes first, in the connection's own thread: there the
 * gateway writes one JSON answer of the same status itself and shuts the
 * socket's sending side, so that libmicrohttpd's copy never leaves.
 *
 * Runs in: the gateway process (libmicrohttpd's connection threads).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include <microhttpd.h>

/* A request line of @c was read (libmicrohttpd's URI log callback): its
 * socket is this thread's until the next one; @tls: nothing is written raw. */
void gw_mhderr_conn(struct MHD_Connection *c, bool tls);

/* MHD_OPTION_EXTERNAL_LOGGER: prints libmicrohttpd's messages to stderr as
 * before, and answers the errors it is about to answer (see above). */
void gw_mhderr_log(void *cls, const char *fmt, va_list ap);
