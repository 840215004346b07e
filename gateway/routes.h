/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/routes.h - what the gateway serves: its routing table and the
 * end-of-request hook, for gw_http_start() (main.c).
 *
 * Runs in: the gateway process.
 */
#pragma once

#include "http/daemon.h"

extern const struct gw_http_app gw_routes;
