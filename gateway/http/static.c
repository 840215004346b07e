/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/static.c - the web UI's files, embedded in the binary at build
 * time (web/embed.py turns web/ into webassets.c).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <string.h>

#include "http/reply.h"
#include "http/request.h"
#include "http/static.h"
#include "webassets.h"

enum MHD_Result gw_static(struct gw_req *r, struct MHD_Connection *c, const char *path)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (size_t i = 0; i < gw_web_assets_count; i++) {
		const struct gw_web_asset *a = &gw_web_assets[i];
		if (strcmp(a->path, path) != 0)
			continue;
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
		MHD_add_response_header(
		    resp, "Content-Security-Policy",
		    "default-src 'self'; img-src 'self' blob: data:; "
		    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
		MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
		r->bytes_out += a->size;
		return gw_queue(r, c, MHD_HTTP_OK, resp);
	}
	return gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such page");
}
