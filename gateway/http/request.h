/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/request.h - what one HTTP request carries through its handler
 * calls, the limits on what a client controls, and the handler's type.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "gateway.h"

/* Limits on what an HTTP client controls. */
#define GW_MAX_JSON_BODY      (64 * 1024) /* login and file operation bodies */
#define GW_MAX_JSON_DEPTH     8
#define GW_MAX_CREDENTIAL     256 /* user name, password, workgroup: bytes */
#define GW_CONNECTION_LIMIT   512
#define GW_PER_IP_LIMIT	      128
#define GW_CONNECTION_RESERVE 64	  /* for addresses holding < GW_CONNS_LIGHT (conns.h) */
#define GW_CONNECTION_TIMEOUT 120	  /* seconds without progress on one connection */
#define GW_MEMORY_PER_CONN    (64 * 1024) /* request line + headers must fit */
struct gw_route;
struct gw_req;
struct gw_session;
struct gw_audit;

/*
 * A request handler: @rest is the raw path after the route's own path;
 * @upload_data and *@upload_data_size as libmicrohttpd gives them (only
 * streaming routes see body bytes).
 */
typedef enum MHD_Result (*gw_handler)(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				      const char *upload_data, size_t *upload_data_size);

/* What a request carries through its handler calls (con_cls). */
struct gw_req {
	struct gw *gw;
	char method[16];
	char *url;		      /* raw path, not unescaped (owned) */
	const char *raw_uri;	      /* libmicrohttpd's request target, as the URI log saw it */
	size_t raw_uri_len;	      /* its strlen() then: shorter than the target with a NUL */
	bool close;		      /* answer with Connection: close (framing not trusted) */
	const struct gw_route *route; /* http/daemon.c: the handler picked at the headers */
	struct gw_session *session;   /* gw_authenticate(): held until the request ends */
	int64_t start_us;
	unsigned status;
	uint64_t bytes_out;
	uint64_t bytes_in;
	char user[64]; /* for the log line */
	bool dav;      /* dav.c: a WebDAV request (RFC 4918's statuses where they differ) */
	/* a header on every answer of this request, the common code's too
	 * (rest/tus.c: tus 1.0's Tus-Resumable); {NULL, NULL}: none */
	const char *every_answer[2];
	bool responded;
	/* files/fileops.c: an upload whose sandbox failed mid-body: an error is
	 * written at once, straight to the socket, and the connection closed
	 * (reply.c; libmicrohttpd 0.9.75 cannot queue an answer before the
	 * whole body is read). Plain HTTP only. */
	bool answer_now;
	/* body: JSON bodies are collected here; uploads stream */
	char *body;
	size_t body_len;
	bool body_too_big;
	void *upload; /* files/fileops.c: an upload in progress */
	/* [gateway] audit: the file operation this request is (rest/ and dav/ set
	 * it; http/daemon.c logs it when the request ends); owned, NULL when none. */
	struct gw_audit *audit;
	void (*upload_abort)(struct gw_req *r);
};

/*
 * Collects a request body chunk into r->body (NUL-terminated, at most
 * GW_MAX_JSON_BODY bytes; past that r->body_too_big and nothing is kept),
 * consuming *@size. Returns true once the body is complete (*@size was 0).
 */
bool gw_collect_body(struct gw_req *r, const char *data, size_t *size);

/* The client's address as text (for rate limiting); buf of 64 bytes. */
void gw_client_addr(struct MHD_Connection *c, char buf[64]);

/* Records @op on (@server, @share, @path[, @to]) in r->audit when [gateway]
 * audit is on (http/daemon.c logs it when the request ends, with its status and
 * bytes). A failed allocation only loses the line. */
void gw_audit_set(struct gw_req *r, const char *op, const char *server, const char *share,
		  const char *path, const char *to);

/* Monotonic microseconds. */
int64_t gw_now_us(void);
