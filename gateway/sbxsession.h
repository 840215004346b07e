/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/sbxsession.h - what a session holds: the sandbox client and its
 * pinhole (the opaque "sbx" of session.h).
 *
 * Runs in: the gateway process.
 */
#pragma once

#include "gateway.h"

struct gw_sbx {
	struct gw *gw;	/* not owned */
	struct sbxc *c; /* owned */
	long pin;	/* pinhole listener id */
};

/* The session table's destructor: frees the client (killing the sandbox)
 * and removes the pinhole. */
void gw_sbx_free(void *p);
