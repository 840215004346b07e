/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ops/metrics_page.c - GET /metrics: the counters (log/metrics.h)
 * and the gauges of sessions, the pinhole and client connections, in
 * Prometheus' text format.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <stdio.h>
#include <stdlib.h>

#include "auth/session.h"
#include "http/conns.h"
#include "http/reply.h"
#include "http/request.h"
#include "log/metrics.h"
#include "ops/metrics_page.h"
#include "pinhole.h"

enum MHD_Result gw_metrics_page(struct gw_req *r, struct MHD_Connection *c)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return MHD_NO;
	gw_metrics_write(r->gw->metrics, f);
	fprintf(f,
		"# HELP smbgate_sessions_active Logged-in sessions.\n"
		"# TYPE smbgate_sessions_active gauge\n"
		"smbgate_sessions_active %u\n",
		gw_sessions_count(r->gw->sessions));
	if (r->gw->pinhole) {
		struct pinhole_stats ps;
		pinhole_get_stats(r->gw->pinhole, &ps);
		fprintf(f,
			"# HELP smbgate_smb_connections_total Connections to the file servers made "
			"for sandboxes (relayed or handed over).\n"
			"# TYPE smbgate_smb_connections_total counter\n"
			"smbgate_smb_connections_total %llu\n"
			"# HELP smbgate_smb_connections_failed_total Of them, the ones whose name "
			"resolution or connect failed.\n"
			"# TYPE smbgate_smb_connections_failed_total counter\n"
			"smbgate_smb_connections_failed_total %llu\n",
			ps.connections_total, ps.connect_failed);
	}
	if (r->gw->conns)
		fprintf(f,
			"# HELP smbgate_http_connections_open Client connections open.\n"
			"# TYPE smbgate_http_connections_open gauge\n"
			"smbgate_http_connections_open %u\n"
			"# HELP smbgate_http_connections_cut_total Connections closed for too slow "
			"headers or bodies.\n"
			"# TYPE smbgate_http_connections_cut_total counter\n"
			"smbgate_http_connections_cut_total %llu\n",
			gw_conns_open(r->gw->conns),
			(unsigned long long)gw_conns_cut(r->gw->conns));
	fclose(f);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(size, buf, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	r->bytes_out += size;
	return gw_queue(r, c, MHD_HTTP_OK, resp);
}
