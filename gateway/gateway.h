/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/gateway.h - the state the HTTP handlers share, and the helpers
 * every handler uses to answer. One struct gw per process, built by main.c.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cfg.h"
#include "client.h"
#include "orphans.h"
#include "pinhole.h"
#include "session.h"
#include "spawn.h"
#include "reply.h"
#include "tus.h"

/* Limits on what an HTTP client controls. */
#define GW_MAX_JSON_BODY      (64 * 1024) /* login and file operation bodies */
#define GW_MAX_JSON_DEPTH     8
#define GW_MAX_CREDENTIAL     256 /* user name, password, workgroup: bytes */
#define GW_MAX_PER_USER	      8	  /* sessions of one user on one server */
#define GW_CONNECTION_LIMIT   512
#define GW_PER_IP_LIMIT	      128
#define GW_CONNECTION_RESERVE 64	  /* for addresses holding < GW_CONNS_LIGHT (conns.h) */
#define GW_CONNECTION_TIMEOUT 120	  /* seconds without progress on one connection */
#define GW_MEMORY_PER_CONN    (64 * 1024) /* request line + headers must fit */
/* Upload temporaries left by dead sandboxes, waiting for their user (orphans.h). */
#define GW_ORPHANS_MAX	    1024  /* in all */
#define GW_ORPHANS_PER_USER 16	  /* per user and server */
#define GW_ORPHANS_TTL	    86400 /* seconds an entry waits for its user */
#define GW_ORPHANS_TRIES    3	  /* failed attempts to remove one before giving up */
/* Resumable uploads (tus.h); their expiry is [gateway] upload_expiry. */
#define GW_TUS_MAX	1024 /* unfinished, in all */
#define GW_TUS_PER_USER 16   /* unfinished, per user and server */

struct gw_metrics;
struct gw_journal;
struct gw_conns;
struct gw_route;
struct gw_req;

/*
 * A request handler: @rest is the raw path after the route's own path;
 * @upload_data and *@upload_data_size as libmicrohttpd gives them (only
 * streaming routes see body bytes).
 */
typedef enum MHD_Result (*gw_handler)(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				      const char *upload_data, size_t *upload_data_size);

struct gw {
	/* The running configuration. A reload (SIGHUP, main.c) swaps it
	 * atomically for one with the same servers in the same order, and keeps
	 * every configuration it replaced until the gateway stops: a pointer read
	 * here stays valid for the life of the process, and a server's index
	 * means the same server in all of them. */
	const struct cfg *_Atomic cfg;
	struct sbx_spawner *spawner;
	struct pinhole *pinhole;
	struct gw_sessions *sessions;
	struct gw_orphans *orphans;
	struct gw_tus *tus;	    /* resumable uploads (tus.h) */
	struct gw_journal *journal; /* upload temporaries in flight (journal.h); NULL: none */
	struct gw_metrics *metrics;
	struct gw_conns *conns; /* set by gw_http_start() */
	bool tls;
};

/* What a request carries through its handler calls (con_cls). */
struct gw_req {
	struct gw *gw;
	char method[16];
	char *url;		      /* raw path, not unescaped (owned) */
	const char *raw_uri;	      /* libmicrohttpd's request target, as the URI log saw it */
	size_t raw_uri_len;	      /* its strlen() then: shorter than the target with a NUL */
	bool close;		      /* answer with Connection: close (framing not trusted) */
	const struct gw_route *route; /* http.c: the handler picked at the headers */
	struct gw_session *session;   /* gw_authenticate(): held until the request ends */
	int64_t start_us;
	unsigned status;
	uint64_t bytes_out;
	uint64_t bytes_in;
	char user[64]; /* for the log line */
	bool dav;      /* dav.c: a WebDAV request (RFC 4918's statuses where they differ) */
	bool tus;      /* api_tus.c: every answer carries Tus-Resumable (gw_queue()) */
	bool responded;
	/* api_fs.c: an upload whose sandbox failed mid-body: an error is
	 * written at once, straight to the socket, and the connection closed
	 * (reply.c; libmicrohttpd 0.9.75 cannot queue an answer before the
	 * whole body is read). Plain HTTP only. */
	bool answer_now;
	/* body: JSON bodies are collected here; uploads stream */
	char *body;
	size_t body_len;
	bool body_too_big;
	void *upload; /* api_fs.c: an upload in progress */
	/* [gateway] audit: the file operation this request is (api_fs.c sets
	 * it; http.c logs it when the request ends); owned, NULL when none. */
	struct gw_audit *audit;
	void (*upload_abort)(struct gw_req *r);
};

/* ---- answering: reply.h ---- */

/*
 * Collects a request body chunk into r->body (NUL-terminated, at most
 * GW_MAX_JSON_BODY bytes; past that r->body_too_big and nothing is kept),
 * consuming *@size. Returns true once the body is complete (*@size was 0).
 */
bool gw_collect_body(struct gw_req *r, const char *data, size_t *size);

/* The client's address as text (for rate limiting); buf of 64 bytes. */
void gw_client_addr(struct MHD_Connection *c, char buf[64]);

/* One file operation, for its audit line (event=audit, docs/operations.md). */
struct gw_audit {
	char op[16];  /* read, upload, mkdir, copy, move, delete, ... */
	char *server; /* the rest owned, decoded UTF-8 */
	char *share;
	char *path; /* inside the share, "/"-separated, "" for its root */
	char *to;   /* copy/move: the target inside the share, else NULL */
};

/* Records @op on (@server, @share, @path[, @to]) in r->audit when [gateway]
 * audit is on (http.c logs it when the request ends, with its status and
 * bytes). A failed allocation only loses the line. */
void gw_audit_set(struct gw_req *r, const char *op, const char *server, const char *share,
		  const char *path, const char *to);

/* ---- handlers ---- */

/* api_auth.c */
enum MHD_Result gw_api_login(struct gw_req *r, struct MHD_Connection *c);
enum MHD_Result gw_api_logout(struct gw_req *r, struct MHD_Connection *c);
/*
 * Authenticates an /api/v1 request by cookie, Bearer token or Basic
 * credentials, once per request: the session is held in r->session until the
 * request ends (http.c releases it), and handlers borrow it; something that
 * outlives the request takes its own reference (gw_session_hold()). Returns
 * the session, or NULL after queuing the error answer. @server: the server
 * the request is about (SIZE_MAX when none, e.g. GET /api/v1/fs/).
 */
struct gw_session *gw_authenticate(struct gw_req *r, struct MHD_Connection *c, size_t server);
/* Drops r->session (if any) when its request ends, counting the request's body
 * bytes for the session (gw_sessions_list()); r->session is NULL after. */
void gw_release_session(struct gw_req *r);
/* Whether a JSON string value holds no "\u0000". */
bool gw_json_text(json_t *v);
/* Ends a session whose sandbox died or broke the protocol. */
void gw_session_failed(struct gw *gw, struct gw_session *s);

/* api_fs.c: everything under /api/v1/fs; @rest is the raw path after "/api/v1/fs". */
enum MHD_Result gw_api_fs(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			  const char *upload_data, size_t *upload_data_size);
/* api_fs.c, for the other file handlers (the rest of their share is in
 * api_fs.h): a log line about the upload temporary @tmp beside @path. */
void gw_log_tmp(struct gw *gw, const char *user, size_t server, const char *share, const char *path,
		const char *tmp, const char *what, const char *after);

/* api_zip.c: GET a folder with ?download=zip (@p: a path in a share), and
 * POST /api/v1/zip/{server}/{share} {"paths": [...]}. */
struct gw_path;
enum MHD_Result gw_zip_folder(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			      const struct gw_path *p);
enum MHD_Result gw_api_zip(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size);

/* api_search.c: GET /api/v1/search/{server}/{share}/{folder}?q=TEXT */
enum MHD_Result gw_api_search(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			      const char *upload_data, size_t *upload_data_size);

/* api_tus.c: /api/v1/uploads/ (tus 1.0) */
enum MHD_Result gw_api_tus(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size);
/* api_tus.c: expired uploads' temporaries handed to the orphans (removed at
 * their user's next request); at stop, the unfinished ones logged. */
void gw_tus_expire_all(struct gw *gw);
void gw_tus_stop(struct gw *gw);

/* api_fs.c: logs and frees a list of upload temporaries (orphans.h) that will
 * not be removed, saying @why: they stay on the file server. NULL is allowed. */
void gw_orphans_log_dropped(struct gw *gw, struct gw_orphan *list, const char *why);
/* api_fs.c: records an upload temporary that may be left on the file server
 * as an orphan (orphans.h), with its journal entry @jid, and logs it after
 * @what. */
void gw_orphans_record(struct gw *gw, const char *user, size_t server, const char *share,
		       const char *path, const char *tmp, uint64_t jid, const char *what);

/* static.c: the web UI. Returns MHD_NO-equivalent handling: queues 404 when unknown. */
enum MHD_Result gw_static(struct gw_req *r, struct MHD_Connection *c, const char *path);

/* ---- metrics (metrics.c) ---- */
int gw_metrics_new(struct gw_metrics **ret);
void gw_metrics_free(struct gw_metrics *m);
void gw_metrics_request(struct gw_metrics *m, unsigned status, uint64_t in, uint64_t out);
void gw_metrics_spawn(struct gw_metrics *m, double seconds);
void gw_metrics_smb_error(struct gw_metrics *m, unsigned code);
void gw_metrics_sandbox(struct gw_metrics *m, int delta);
enum MHD_Result gw_api_metrics(struct gw_req *r, struct MHD_Connection *c);

/* Monotonic microseconds. */
int64_t gw_now_us(void);
