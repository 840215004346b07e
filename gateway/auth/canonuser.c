/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/canonuser.c - the canonical user of a login name (canonuser.h).
 *
 * Runs in: the gateway process.
 */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

#include "auth/canonuser.h"

static locale_t utf8;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The code point at @s (at most @n bytes) and its length in *@len, or
 * UINT32_MAX for bytes that are not UTF-8. */
static uint32_t utf8_get(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t k = c < 0x80		? 1
		   : (c & 0xe0) == 0xc0 ? 2
		   : (c & 0xf0) == 0xe0 ? 3
		   : (c & 0xf8) == 0xf0 ? 4
					: 0;

	if (k == 0 || k > n)
		return UINT32_MAX;
	if (k > 1)
		c &= 0x3fu >> (k - 1);
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return UINT32_MAX;
		c = (c << 6) | (s[i] & 0x3f);
	}
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < least[k] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return UINT32_MAX;
	*len = k;
	return c;
}

static size_t utf8_put(uint32_t c, unsigned char *o)
{
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xc0 | (c >> 6));
		o[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (c >> 12));
		o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (c >> 18));
	o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

static uint32_t lower(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
	pthread_once(&utf8_once, utf8_init);
	if (utf8 == (locale_t)0)
		return c; /* no C.UTF-8: ASCII only */
	wint_t l = towlower_l((wint_t)c, utf8);
	return l > 0 && l <= 0x10ffff && !(l >= 0xd800 && l <= 0xdfff) ? (uint32_t)l : c;
}

int gw_canon_user(const char *login_name, char out[GW_CANON_USER_MAX + 1])
{
	const char *bs = strrchr(login_name, '\\');
	const unsigned char *p = (const unsigned char *)(bs ? bs + 1 : login_name);
	const char *at = strchr((const char *)p, '@');
	size_t n = at ? (size_t)(at - (const char *)p) : strlen((const char *)p), o = 0;

	out[0] = '\0';
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		uint32_t c = utf8_get(p + i, n - i, &k);
		unsigned char b[4];
		if (c == UINT32_MAX) {
			out[0] = '\0';
			return -EINVAL;
		}
		size_t m = utf8_put(lower(c), b);
		if (o + m > GW_CANON_USER_MAX) {
			out[0] = '\0';
			return -EINVAL;
		}
		memcpy(out + o, b, m);
		o += m;
		i += k;
	}
	out[o] = '\0';
	return 0;
}

int gw_login_split(const char *login_name, const char *default_domain, char *ret_domain,
		   char *ret_account, size_t size)
{
	const char *bs = strchr(login_name, '\\'), *at = strrchr(login_name, '@');
	int dn, an;

	if (bs) /* DOMAIN\user: the rest as typed */
		dn = snprintf(ret_domain, size, "%.*s", (int)(bs - login_name), login_name),
		an = snprintf(ret_account, size, "%s", bs + 1);
	else if (at) /* user@realm */
		dn = snprintf(ret_domain, size, "%s", at + 1),
		an = snprintf(ret_account, size, "%.*s", (int)(at - login_name), login_name);
	else
		dn = snprintf(ret_domain, size, "%s", default_domain ? default_domain : ""),
		an = snprintf(ret_account, size, "%s", login_name);
	if (dn < 0 || an <= 0 || (size_t)dn >= size || (size_t)an >= size) {
		ret_domain[0] = ret_account[0] = '\0';
		return -EINVAL;
	}
	return 0;
}
