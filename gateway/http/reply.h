/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/reply.h - every answer the gateway gives goes through here
 * (gateway process, HTTP threads).
 *
 * gw_queue() adds what every answer carries (X-Content-Type-Options; and
 * Connection: close when the request's framing is not trusted) and records
 * the status for the log line. JSON answers have one constructor,
 * gw_json_response(): compact, ASCII-only (every non-ASCII character
 * escaped), Content-Type: application/json, Cache-Control: no-store.
 */
#pragma once

#include <jansson.h>
#include <microhttpd.h>

struct gw_req;

/*
 * Extra headers for an answer: pairs of (name, value), ended by a NULL name.
 * A NULL pointer means none.
 */
typedef const char *const gw_headers[];

/*
 * Writes a whole answer, @status with the JSON @json (@len bytes) and
 * "Connection: close", straight to the socket @fd (plain HTTP only: past
 * libmicrohttpd), then shuts its sending side. For the answers
 * libmicrohttpd 0.9.75 cannot give right (reply.c's answer_now, mhderr.c).
 * Returns 0 or -EIO (nothing or a part written).
 */
int gw_reply_raw(int fd, unsigned status, const char *json, size_t len);

/*
 * Queues @resp with @status and records it for the log; destroys @resp. A
 * NULL @resp (an earlier allocation failed) gives MHD_NO, which closes the
 * connection.
 */
enum MHD_Result gw_queue(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			 struct MHD_Response *resp);

/*
 * The one JSON response constructor. Steals the reference to @body (NULL is
 * allowed and gives NULL). Adds @hdrs (may be NULL). Returns a response to
 * pass to gw_queue() and its body's length in *@len, or NULL.
 */
struct MHD_Response *gw_json_response(json_t *body, const gw_headers hdrs, size_t *len);

/* A JSON answer; steals the reference to @body. */
enum MHD_Result gw_reply_json(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			      json_t *body);
/* The same with extra headers (@hdrs may be NULL). */
enum MHD_Result gw_reply_json_with(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				   json_t *body, const gw_headers hdrs);

/*
 * {"error":{"code":@code,"message":...}} with @status. A 401 also carries the
 * Basic challenge, unless the request has X-Requested-With (the web UI, which
 * must not get the browser's own prompt).
 */
enum MHD_Result gw_reply_error(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			       const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same with extra headers (@hdrs may be NULL). */
enum MHD_Result gw_reply_error_with(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				    const gw_headers hdrs, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * An XML answer (WebDAV): takes ownership of @xml (@len bytes, malloc'd;
 * freed in every case), Content-Type: application/xml; charset=utf-8,
 * Cache-Control: no-store, and @hdrs (may be NULL).
 */
enum MHD_Result gw_reply_xml(struct gw_req *r, struct MHD_Connection *c, unsigned status, char *xml,
			     size_t len, const gw_headers hdrs);

/* 405 with the Allow header (@allow: "GET, HEAD"...). */
enum MHD_Result gw_reply_not_allowed(struct gw_req *r, struct MHD_Connection *c, const char *allow);
/* No body (204, 304...), with extra headers (@hdrs may be NULL). */
enum MHD_Result gw_reply_empty(struct gw_req *r, struct MHD_Connection *c, unsigned status);
enum MHD_Result gw_reply_empty_with(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				    const gw_headers hdrs);
/* An answer for a worker error code (enum proto_err) or a negative errno of the client. */
enum MHD_Result gw_reply_sbx_error(struct gw_req *r, struct MHD_Connection *c, int err);
