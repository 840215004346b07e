/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/log/metrics.c - the gateway's counters, written in Prometheus'
 * text format (shown by ops/metrics_page.c).
 *
 * Runs in: the gateway process (any thread).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/metrics.h"
#include "proto.h"

static const double spawn_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define N_BUCKETS (sizeof(spawn_buckets) / sizeof(spawn_buckets[0]))

struct gw_metrics {
	atomic_ullong requests[600];
	atomic_ullong bytes_in, bytes_out;
	atomic_llong sandboxes;
	atomic_ullong spawn_count, spawn_bucket[N_BUCKETS];
	atomic_ullong spawn_sum_us;
	atomic_ullong smb_errors[PROTO_E_MAX + 1];
};

int gw_metrics_new(struct gw_metrics **ret)
{
	struct gw_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

void gw_metrics_free(struct gw_metrics *m)
{
	free(m);
}

void gw_metrics_request(struct gw_metrics *m, unsigned status, uint64_t in, uint64_t out)
{
	if (status < 600)
		atomic_fetch_add(&m->requests[status], 1);
	atomic_fetch_add(&m->bytes_in, in);
	atomic_fetch_add(&m->bytes_out, out);
}

void gw_metrics_spawn(struct gw_metrics *m, double seconds)
{
	atomic_fetch_add(&m->spawn_count, 1);
	atomic_fetch_add(&m->spawn_sum_us, (unsigned long long)(seconds * 1e6));
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (seconds <= spawn_buckets[i])
			atomic_fetch_add(&m->spawn_bucket[i], 1);
}

void gw_metrics_smb_error(struct gw_metrics *m, unsigned code)
{
	if (code <= PROTO_E_MAX)
		atomic_fetch_add(&m->smb_errors[code], 1);
}

void gw_metrics_sandbox(struct gw_metrics *m, int delta)
{
	atomic_fetch_add(&m->sandboxes, delta);
}

void gw_metrics_write(const struct gw_metrics *cm, FILE *f)
{
	struct gw_metrics *m = (struct gw_metrics *)cm; /* atomic_load() wants it */

	fprintf(f, "# HELP smbgate_http_requests_total HTTP requests by status code.\n"
		   "# TYPE smbgate_http_requests_total counter\n");
	for (unsigned s = 100; s < 600; s++) {
		unsigned long long n = atomic_load(&m->requests[s]);
		if (n)
			fprintf(f, "smbgate_http_requests_total{code=\"%u\"} %llu\n", s, n);
	}
	fprintf(
	    f,
	    "# HELP smbgate_http_bytes_in_total Request body bytes received.\n"
	    "# TYPE smbgate_http_bytes_in_total counter\n"
	    "smbgate_http_bytes_in_total %llu\n"
	    "# HELP smbgate_http_bytes_out_total Response body bytes sent.\n"
	    "# TYPE smbgate_http_bytes_out_total counter\n"
	    "smbgate_http_bytes_out_total %llu\n"
	    "# HELP smbgate_sandboxes_active Running sandboxes.\n"
	    "# TYPE smbgate_sandboxes_active gauge\n"
	    "smbgate_sandboxes_active %lld\n"
	    "# HELP smbgate_sandbox_spawn_seconds Time to create a sandbox and reach its worker.\n"
	    "# TYPE smbgate_sandbox_spawn_seconds histogram\n",
	    atomic_load(&m->bytes_in), atomic_load(&m->bytes_out), atomic_load(&m->sandboxes));
	for (size_t i = 0; i < N_BUCKETS; i++)
		fprintf(f, "smbgate_sandbox_spawn_seconds_bucket{le=\"%g\"} %llu\n",
			spawn_buckets[i], atomic_load(&m->spawn_bucket[i]));
	fprintf(f,
		"smbgate_sandbox_spawn_seconds_bucket{le=\"+Inf\"} %llu\n"
		"smbgate_sandbox_spawn_seconds_sum %.6f\n"
		"smbgate_sandbox_spawn_seconds_count %llu\n"
		"# HELP smbgate_smb_errors_total Errors reported by the file servers, by code.\n"
		"# TYPE smbgate_smb_errors_total counter\n",
		atomic_load(&m->spawn_count), (double)atomic_load(&m->spawn_sum_us) / 1e6,
		atomic_load(&m->spawn_count));
	for (unsigned e = 1; e <= PROTO_E_MAX; e++)
		if (proto_err_known(e))
			fprintf(f, "smbgate_smb_errors_total{code=\"%s\"} %llu\n",
				proto_err_name(e), atomic_load(&m->smb_errors[e]));
}
