/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/auth.h - login and logout, and the authentication of every
 * other request (cookie, Bearer token or Basic credentials): the one way a
 * handler reaches a session and its sandbox.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "http/request.h"

#define GW_MAX_PER_USER 8 /* sessions of one user on one server */

/* POST /api/v1/login and /api/v1/logout. */
enum MHD_Result gw_api_login(struct gw_req *r, struct MHD_Connection *c);
enum MHD_Result gw_api_logout(struct gw_req *r, struct MHD_Connection *c);

/*
 * Authenticates a request by cookie, Bearer token or Basic credentials, once
 * per request: the session is held in r->session until the request ends
 * (routes.c releases it with gw_release_session()), and handlers borrow it;
 * something that outlives the request takes its own reference
 * (gw_session_hold()). Returns the session, or NULL after queuing the error
 * answer. @server: the server the request is about (SIZE_MAX when none, e.g.
 * GET /api/v1/fs/).
 */
struct gw_session *gw_authenticate(struct gw_req *r, struct MHD_Connection *c, size_t server);

/* Drops r->session (if any) when its request ends, counting the request's body
 * bytes for the session (gw_sessions_list()); r->session is NULL after. */
void gw_release_session(struct gw_req *r);

/* Whether a JSON string value holds no "\u0000". */
bool gw_json_text(json_t *v);

/* Ends a session whose sandbox died or broke the protocol. */
void gw_session_failed(struct gw *gw, struct gw_session *s);
