/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ctl/ctlesc.c - escaping user-given strings for smbgatectl's table.
 *
 * Runs in: smbgatectl.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctlesc.h"

/* Length of the valid UTF-8 sequence at @s (2-4) and its code point, or 0. */
static size_t utf8_seq(const unsigned char *s, uint32_t *ret_cp)
{
	size_t n;
	uint32_t cp, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/* Characters that change how the text around them is shown. */
static bool is_format(uint32_t cp)
{
	return cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || cp == 0x0085;
}

/* The text for the character at @s into @piece; how many bytes of @s it takes. */
static size_t escape_one(const unsigned char *s, char piece[16])
{
	uint32_t cp;
	size_t n;

	switch (s[0]) {
	case '\\':
		strcpy(piece, "\\\\");
		return 1;
	case '\n':
		strcpy(piece, "\\n");
		return 1;
	case '\r':
		strcpy(piece, "\\r");
		return 1;
	case '\t':
		strcpy(piece, "\\t");
		return 1;
	}
	if (s[0] < 0x20 || s[0] == 0x7f) {
		snprintf(piece, 16, "\\x%02x", s[0]);
		return 1;
	}
	if (s[0] < 0x80) {
		piece[0] = (char)s[0];
		piece[1] = '\0';
		return 1;
	}
	n = utf8_seq(s, &cp);
	if (n == 0) {
		snprintf(piece, 16, "\\x%02x", s[0]);
		return 1;
	}
	if ((cp >= 0x80 && cp < 0xa0) || is_format(cp))
		snprintf(piece, 16, "\\u%04x", (unsigned)cp);
	else {
		memcpy(piece, s, n);
		piece[n] = '\0';
	}
	return n;
}

size_t ctl_escape(char *out, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, marks[4] = {0}; /* where the last pieces began */
	unsigned n_marks = 0;
	char piece[16];

	while (*p) {
		size_t used = escape_one(p, piece), pl = strlen(piece);

		if (o + pl + 1 > len) {
			/* Back to a piece's start with room for "..." (a piece is
			 * at least 1 byte, so 4 marks back is always enough). */
			for (unsigned k = 0; len >= 4 && k < n_marks && k < 4 && o + 4 > len; k++)
				o = marks[(n_marks - 1 - k) % 4];
			if (len >= 4) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		marks[n_marks++ % 4] = o;
		memcpy(out + o, piece, pl);
		o += pl;
		p += used;
	}
	out[o] = '\0';
	return o;
}
