/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/canonuser.h - the one canonical user of a login name, and the
 * (domain, account) pair a login name sends to the server.
 *
 * A server takes an account under many spellings: "alice", "ALICE",
 * "ACME\alice", "X\Y\alice", "alice@ACME", "alice@acme.example". The gateway
 * counts and stores everything of a user (sessions per user, resumable
 * uploads and their journal, orphaned temporaries, lock owners, login
 * throttling, smbgatectl kill/sessions, the audit log) under one name: the
 * account part (after the last '\', before the first '@'), lower-cased
 * (Unicode simple lower case, as Samba compares account names). The domain
 * is dropped: a [server] section is one server with one workgroup, and a
 * server that takes a name with any domain prefix takes it as its own
 * account. (On a domain member with trusted domains, OTHER\alice and
 * ACME\alice are one user for the gateway's limits; each still logs in to
 * the server with her own credentials.)
 *
 * Pure functions: thread-safe, no allocation, no logging.
 * Runs in: the gateway process.
 */
#pragma once

#include <stddef.h>

/* Longest canonical name, in bytes without the NUL (lower case can make a
 * UTF-8 name up to half again as long: 256-byte login names fit). */
#define GW_CANON_USER_MAX 511

/*
 * The canonical user of @login_name (valid UTF-8, as the login checked it)
 * into @out. Returns 0, or -EINVAL when the account part is empty or too
 * long, or @login_name is not valid UTF-8 (@out is then "").
 */
int gw_canon_user(const char *login_name, char out[GW_CANON_USER_MAX + 1]);

/*
 * What a login sends to the server: "DOMAIN\user" gives (DOMAIN, user),
 * "user@realm" (the UPN form) gives (realm, user), "user" gives
 * (@default_domain, user). Each output holds @size bytes. Returns 0, or
 * -EINVAL when the user part is empty or a part does not fit (outputs "").
 */
int gw_login_split(const char *login_name, const char *default_domain, char *ret_domain,
		   char *ret_account, size_t size);
