/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/routes.c - the routing table: the one place that names the
 * handlers of every room (rest/, dav/, auth/, ops/, http/'s static files)
 * and hands them to the daemon (http/daemon.h says how a row matches).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"
#include "auth/session.h"
#include "cfg.h"
#include "dav/dav.h"
#include "http/daemon.h"
#include "http/reply.h"
#include "http/static.h"
#include "ops/metrics_page.h"
#include "rest/rest.h"
#include "routes.h"

static enum MHD_Result h_fs(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			    const char *upload_data, size_t *upload_data_size)
{
	return gw_api_fs(r, c, *rest ? rest : "/", upload_data, upload_data_size);
}

static enum MHD_Result h_dav(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			     const char *upload_data, size_t *upload_data_size)
{
	return gw_api_dav(r, c, rest, upload_data, upload_data_size);
}

/* GET and HEAD under /dav are the file API's, with WebDAV's statuses. */
static enum MHD_Result h_dav_get(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				 const char *upload_data, size_t *upload_data_size)
{
	r->dav = true;
	return gw_api_fs(r, c, *rest ? rest : "/", upload_data, upload_data_size);
}

static enum MHD_Result h_healthz(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				 const char *upload_data, size_t *upload_data_size)
{
	(void)rest, (void)upload_data, (void)upload_data_size;
	return gw_reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result h_metrics(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				 const char *upload_data, size_t *upload_data_size)
{
	(void)rest, (void)upload_data, (void)upload_data_size;
	return gw_metrics_page(r, c);
}

/* The servers' names only (no hosts): what the login form offers. */
static enum MHD_Result h_servers(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				 const char *upload_data, size_t *upload_data_size)
{
	const struct cfg *cfg = r->gw->cfg;
	json_t *list = json_array();

	(void)rest, (void)upload_data, (void)upload_data_size;
	for (size_t i = 0; list && i < cfg->n_servers; i++)
		json_array_append_new(list, json_pack("{s:s}", "name", cfg->servers[i].name));
	return gw_reply_json(r, c, MHD_HTTP_OK, json_pack("{s:o}", "servers", list));
}

static enum MHD_Result h_login(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			       const char *upload_data, size_t *upload_data_size)
{
	(void)rest, (void)upload_data, (void)upload_data_size;
	return gw_api_login(r, c);
}

static enum MHD_Result h_logout(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				const char *upload_data, size_t *upload_data_size)
{
	(void)rest, (void)upload_data, (void)upload_data_size;
	return gw_api_logout(r, c);
}

static enum MHD_Result h_no_api(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				const char *upload_data, size_t *upload_data_size)
{
	(void)rest, (void)upload_data, (void)upload_data_size;
	return gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such API endpoint");
}

static enum MHD_Result h_static(struct gw_req *r, struct MHD_Connection *c, const char *rest,
				const char *upload_data, size_t *upload_data_size)
{
	(void)upload_data, (void)upload_data_size;
	return gw_static(r, c, *rest ? rest : "/");
}

/* Static: the table never changes. */
static const struct gw_route routes[] = {
    {"PUT", "/api/v1/fs", true, true, h_fs},
    {NULL, "/api/v1/fs", true, false, h_fs},
    /* WebDAV (dav.c): PUT streams; the others' XML bodies are collected (413 past
     * GW_MAX_JSON_BODY) */
    {"PUT", "/dav", true, true, h_dav},
    {"OPTIONS", "/dav", true, false, h_dav},
    {"GET HEAD", "/dav", true, false, h_dav_get},
    {"DELETE PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK", "/dav", true, false, h_dav},
    {"POST", "/api/v1/zip", true, false, gw_api_zip},
    {"GET", "/api/v1/search", true, false, gw_api_search},
    {"POST PATCH", "/api/v1/uploads", true, true, gw_api_tus},
    {"OPTIONS HEAD DELETE", "/api/v1/uploads", true, false, gw_api_tus},
    {"GET HEAD", "/healthz", false, false, h_healthz},
    {"GET HEAD", "/metrics", false, false, h_metrics},
    {"GET HEAD", "/api/v1/servers", false, false, h_servers},
    {"POST", "/api/v1/login", false, false, h_login},
    {"POST", "/api/v1/logout", false, false, h_logout},
    {NULL, "/api", true, false, h_no_api},
    /* the site's root: the web UI's page, and WebDAV clients' probes */
    {"GET HEAD", "/", false, false, h_static},
    {"OPTIONS PROPFIND", "/", false, false, gw_dav_root},
    {"GET HEAD", "", true, false, h_static},
};

/* The session a request held, released as it ends; its id for the log line. */
static uint64_t request_done(struct gw_req *r)
{
	uint64_t sid = r->session ? gw_session_id(r->session) : 0;

	gw_release_session(r);
	return sid;
}

const struct gw_http_app gw_routes = {
    .routes = routes,
    .n_routes = sizeof(routes) / sizeof(routes[0]),
    .request_done = request_done,
};
