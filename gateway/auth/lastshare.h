/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/lastshare.h - the share each login name last worked in, per
 * server, as its last session there ended. A login checks the password with
 * a tree connect to that share and keeps the connection for its first
 * requests (sbxc_auth()): one new connection to the server instead of two.
 *
 * In memory only, in one direct-mapped table of GW_LASTSHARE_SLOTS entries
 * under the keyed hash of (server, login name) (keyhash.h): no login name is
 * kept, and a share named as the user part of its login name (a home share,
 * Samba's [homes]) is kept as a mark, not as the name. A key that collides
 * gives a login another name's share to check on. The login name is
 * compared byte for byte, as in session.h; its user part is what follows
 * "DOMAIN\", as the login splits it.
 *
 * Thread-safe (one mutex). Runs in: the gateway process.
 */
#pragma once

#include <stddef.h>

#include "proto.h"

#define GW_LASTSHARE_SLOTS 1024

/* The share of (@server, @login) into @out ("" when none is known). */
void gw_lastshare_get(size_t server, const char *login, char out[PROTO_MAX_NAME + 1]);

/* Remembers @share (borrowed; "" forgets, and so does a share over
 * PROTO_MAX_NAME bytes) for (@server, @login). */
void gw_lastshare_set(size_t server, const char *login, const char *share);
