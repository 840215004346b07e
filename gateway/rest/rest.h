/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/rest/rest.h - the /api/v1 handlers over files (fs.c, zip.c,
 * search.c, tus.c). @rest is the raw path after the route's own path;
 * @upload_data and *@upload_data_size as libmicrohttpd gives them (only
 * streaming routes see body bytes).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stddef.h>

#include <microhttpd.h>

#include "http/request.h"

/* fs.c: everything under /api/v1/fs; @rest is the raw path after "/api/v1/fs". */
enum MHD_Result gw_api_fs(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			  const char *upload_data, size_t *upload_data_size);

/* zip.c: GET a folder with ?download=zip (@p: a path in a share), and
 * POST /api/v1/zip/{server}/{share} {"paths": [...]}. */
struct gw_path;
enum MHD_Result gw_zip_folder(struct gw_req *r, struct MHD_Connection *c, struct gw_session *s,
			      const struct gw_path *p);
enum MHD_Result gw_api_zip(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size);

/* search.c: GET /api/v1/search/{server}/{share}/{folder}?q=TEXT */
enum MHD_Result gw_api_search(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			      const char *upload_data, size_t *upload_data_size);

/* tus.c: /api/v1/uploads/ (tus 1.0) */
enum MHD_Result gw_api_tus(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size);
/* tus.c: expired uploads' temporaries handed to the orphans (removed at
 * their user's next request); at stop, the unfinished ones logged. */
void gw_tus_expire_all(struct gw *gw);
void gw_tus_stop(struct gw *gw);
