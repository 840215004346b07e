/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/gateway.h - the process's shared state: one struct gw per process,
 * built by main.c and reached by every request (r->gw). Pointers only: each
 * room's header says what lies behind its own.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>

struct cfg;
struct sbx_spawner;
struct pinhole;
struct gw_sessions;
struct gw_orphans;
struct gw_tus;
struct gw_journal;
struct gw_metrics;
struct gw_conns;

struct gw {
	/* The running configuration. A reload (SIGHUP, main.c) swaps it
	 * atomically for one with the same servers in the same order, and keeps
	 * every configuration it replaced until the gateway stops: a pointer read
	 * here stays valid for the life of the process, and a server's index
	 * means the same server in all of them. */
	const struct cfg *_Atomic cfg;
	struct sbx_spawner *spawner;
	struct pinhole *pinhole;
	struct gw_sessions *sessions;
	struct gw_orphans *orphans;
	struct gw_tus *tus;	    /* resumable uploads (files/uploads.h) */
	struct gw_journal *journal; /* upload temporaries in flight (files/journal.h); NULL: none */
	struct gw_metrics *metrics;
	struct gw_conns *conns; /* set by gw_http_start() */
	bool tls;
};
