/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ctl/ctlesc.h - the text smbgatectl prints for a string that came from
 * a user (a user name, a server name): C-style escapes for every byte or
 * character that could move, hide or reorder what the terminal shows, so
 * that a name cannot spoof the table's columns or lines.
 *
 * Pure (libc only). Runs in: smbgatectl.
 */
#pragma once

#include <stddef.h>

/*
 * Writes @s (NUL-terminated, borrowed) escaped into @out (@len bytes, at
 * least 1), always NUL-terminated; never cuts an escape or a UTF-8 character
 * in two (the text ends before it, with "..." when @len allows). Escaped:
 * backslash as "\\", \n \r \t, other C0 controls, DEL and C1 controls as
 * "\xNN", bytes that are not valid UTF-8 as "\xNN", and Unicode format
 * characters (bidi controls U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
 * U+061C; zero-width U+200B-U+200D, U+2060, U+FEFF; line and paragraph
 * separators U+2028, U+2029) as "\uXXXX". Returns the length written.
 */
size_t ctl_escape(char *out, size_t len, const char *s);
