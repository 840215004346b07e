/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ops/control.h - the control socket: smbgatectl's way into the running
 * gateway (protocol: ctlproto.h). One thread polls the listener and at most
 * CTL_MAX_CONNS connections, and answers each request itself: list the
 * sessions, end sessions (as logout does, the sandbox killed at once).
 *
 * Runs in: the gateway process (its own control thread).
 */
#pragma once

#include "http/request.h"

struct gw_control;

/*
 * Creates the socket at @gw->cfg->control_socket: its folder when missing
 * (mode 0700, the parent must exist), a stale socket removed, the new one
 * mode 0600, then starts the control thread. @gw must outlive the returned
 * handle. Returns 0 and *@ret (stop with gw_control_stop()), or a negative
 * errno with a one-line reason in @err (@errlen bytes); -EADDRINUSE when
 * another process answers on that path (it is left alone).
 */
int gw_control_start(struct gw *gw, struct gw_control **ret, char *err, size_t errlen);

/* Stops the thread, closes every connection and removes the socket file
 * (if it is still this gateway's). NULL is allowed. */
void gw_control_stop(struct gw_control *ctl);
