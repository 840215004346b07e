/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/dav.h - WebDAV at /dav/ (dav.c), and the probes of the site's root.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include "http/request.h"

/*
 * Everything under /dav; @rest is the raw path after "/dav". Called at the
 * headers for PUT (streamed: then again for each body chunk), with the body
 * collected (at most GW_MAX_JSON_BODY, else 413) for the other methods.
 */
enum MHD_Result gw_api_dav(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			   const char *upload_data, size_t *upload_data_size);

/*
 * OPTIONS and PROPFIND (Depth 0 or 1) of the site's root "/", for the
 * clients that probe it (Windows' WebClient, Office): the DAV headers, and a
 * collection whose one member is /dav/. Unauthenticated.
 */
enum MHD_Result gw_dav_root(struct gw_req *r, struct MHD_Connection *c, const char *rest,
			    const char *upload_data, size_t *upload_data_size);

/*
 * Makes the lock table one kept in the file @path (davlock_open()), so that
 * locks survive a restart; call before the HTTP threads start. Without it
 * (or when it fails: a negative errno) the table lives in memory only.
 * gw_dav_locks_close() frees it after the HTTP threads stopped (the file
 * stays for the next start).
 */
int gw_dav_locks_open(const char *path);
void gw_dav_locks_close(void);
