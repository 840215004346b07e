/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ops/metrics_page.h - GET /metrics, for Prometheus.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <microhttpd.h>

struct gw_req;

/* Answers with the counters and gauges (text/plain; version=0.0.4). */
enum MHD_Result gw_metrics_page(struct gw_req *r, struct MHD_Connection *c);
