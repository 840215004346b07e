/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/sbxsession.h - what a session holds: the sandbox client and its
 * pinhole (the opaque "sbx" of session.h).
 *
 * Runs in: the gateway process.
 */
#pragma once

#include "http/request.h"

struct gw_sbx {
	struct gw *gw;	 /* not owned */
	struct sbxc *c;	 /* owned */
	long pin;	 /* pinhole listener id */
	size_t server;	 /* index in the configuration's servers */
	const char *why; /* why it ends (static text), for its exit's log line */
};

/* The session table's destructor: frees the client (killing the sandbox)
 * and removes the pinhole, logging the sandbox's end (event=sandbox_exit). */
void gw_sbx_free(void *p);

/* The session table's end callback (gw_sessions_on_end()): logs
 * event=session_end and hands the reason to the sandbox's exit line. */
void gw_session_ended(const struct gw_session *s, const char *why);
