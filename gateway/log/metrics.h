/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/log/metrics.h - the gateway's counters: requests by status, bytes,
 * live sandboxes, spawn times, file server errors. Lock-free (atomics);
 * ops/metrics_page.c shows them as GET /metrics.
 *
 * Runs in: the gateway process (any thread).
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

struct gw_metrics;

/* Returns 0 and *@ret (the caller frees it with gw_metrics_free()), or -ENOMEM. */
int gw_metrics_new(struct gw_metrics **ret);
/* NULL allowed. */
void gw_metrics_free(struct gw_metrics *m);
/* One request ended with @status (0: none sent), @in and @out body bytes. */
void gw_metrics_request(struct gw_metrics *m, unsigned status, uint64_t in, uint64_t out);
/* A sandbox took @seconds to start. */
void gw_metrics_spawn(struct gw_metrics *m, double seconds);
/* The worker answered the proto_err @code. */
void gw_metrics_smb_error(struct gw_metrics *m, unsigned code);
/* @delta sandboxes more (+1) or fewer (-1). */
void gw_metrics_sandbox(struct gw_metrics *m, int delta);
/* Writes the counters in Prometheus' text format to @f. */
void gw_metrics_write(const struct gw_metrics *m, FILE *f);
