/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/keyhash.h - a keyed 64-bit hash, for the gateway's tables that
 * must not keep what they are indexed by (client addresses, user names,
 * passwords of pending logins): FNV-1a over a random key drawn once per
 * process, so that nobody outside can aim entries at one slot.
 *
 * Thread-safe. Runs in: the gateway process.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The key of (@kind, @a, @b, @n): @kind tells the tables' uses apart, @a and
 * @b are NUL-terminated strings (borrowed), kept apart by a separator no
 * byte can fake. Never 0 (free slots use 0).
 */
uint64_t gw_keyhash(char kind, const char *a, const char *b, size_t n);
