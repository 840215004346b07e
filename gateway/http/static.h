/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/static.h - the web UI's files, built into the program.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <microhttpd.h>

struct gw_req;

/* GET/HEAD of @path: the file, or 404 when there is none. */
enum MHD_Result gw_static(struct gw_req *r, struct MHD_Connection *c, const char *path);
