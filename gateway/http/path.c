/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/path.c - percent-decoding and validation of the file API's paths.
 * See path.h. Everything here is pure: no I/O, no global state.
 *
 * Runs in: the gateway process (HTTP threads); pure functions.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/path.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *gw_query_arg_decode(const char *v)
{
	size_t n = strlen(v), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '%') {
			int hi = i + 2 < n ? hexval((unsigned char)v[i + 1]) : -1;
			int lo = hi >= 0 ? hexval((unsigned char)v[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = v[i] == '+' ? ' ' : v[i];
		}
	}
	out[o] = '\0';
	return out;
}

unsigned gw_query_num(const char *v, unsigned def, unsigned max)
{
	char *end;

	if (!v)
		return def;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || *end || end == v || *v == '-' || n < 1 || n > max)
		return 0;
	return (unsigned)n;
}

/*
 * Checks one decoded segment of @len bytes at @seg (NUL-terminated by the
 * caller): the length cap first, then proto_name_valid(). A NUL inside the
 * segment was already refused by the caller.
 */
static int check_segment(const char *seg, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > PROTO_MAX_NAME)
		return -ENAMETOOLONG;
	return proto_name_valid(seg) ? 0 : -EINVAL;
}

/*
 * Decodes the raw segment starting at *@pp (up to the next raw '/' or the end)
 * into @out, NUL-terminates it, checks it and advances *@pp to the '/' or the
 * terminating NUL. Returns the decoded length, or a negative errno.
 */
static long decode_segment(const char **pp, char *out)
{
	const unsigned char *p = (const unsigned char *)*pp;
	size_t n = 0;
	int r;

	while (*p && *p != '/') {
		unsigned char c = *p;

		if (c == '?' || c == '#')
			return -EINVAL;
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0)
				return -EINVAL; /* "%", "%4", "%zz" (never reads past a NUL) */
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0')
				return -EINVAL; /* %00 would cut the string short */
			p += 3;
		} else {
			p++;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	r = check_segment(out, n);
	if (r < 0)
		return r;
	*pp = (const char *)p;
	return (long)n;
}

int gw_path_parse(const char *raw, struct gw_path *ret)
{
	struct gw_path res = {0};
	char *buf = NULL;
	const char *p;
	size_t rawlen, len = 0, share_off = 0, path_off = 0, server_len = 0, share_len = 0;
	unsigned n_seg = 0;
	bool trailing = false;
	int r;

	if (!raw || !ret)
		return -EINVAL;
	rawlen = strnlen(raw, GW_PATH_MAX_RAW + 1);
	if (rawlen > GW_PATH_MAX_RAW)
		return -ENAMETOOLONG;
	if (raw[0] != '/')
		return -EINVAL;
	/* decoding never grows: the decoded segments joined by '/' fit in rawlen + 1 */
	buf = malloc(rawlen + 1);
	if (!buf)
		return -ENOMEM;

	p = raw + 1;
	if (*p == '\0') {
		trailing = true; /* the root "/" */
	} else {
		for (;;) {
			long l = decode_segment(&p, buf + len);
			if (l < 0) {
				r = (int)l;
				goto fail;
			}
			if (n_seg == 0) {
				server_len = (size_t)l;
			} else if (n_seg == 1) {
				share_off = len;
				share_len = (size_t)l;
			} else if (n_seg == 2) {
				path_off = len;
			}
			len += (size_t)l;
			n_seg++;
			if (*p == '\0')
				break;
			/* *p == '/' */
			p++;
			if (*p == '\0') {
				trailing = true;
				break;
			}
			buf[len++] = '/'; /* the next segment follows (an empty one fails) */
		}
	}
	if (n_seg > 2 && len - path_off > PROTO_MAX_PATH) {
		r = -ENAMETOOLONG;
		goto fail;
	}

	if (n_seg >= 1) {
		res.server = strndup(buf, server_len);
		if (!res.server)
			goto nomem;
	}
	if (n_seg >= 2) {
		res.share = strndup(buf + share_off, share_len);
		res.path = n_seg > 2 ? strndup(buf + path_off, len - path_off) : strdup("");
		if (!res.share || !res.path)
			goto nomem;
	}
	res.trailing_slash = trailing;
	free(buf);
	*ret = res;
	return 0;

nomem:
	r = -ENOMEM;
fail:
	gw_path_clear(&res);
	free(buf);
	return r;
}

int gw_path_parse_plain(const char *s, char **ret)
{
	size_t len;
	char *copy;
	int r;

	if (!s || !ret)
		return -EINVAL;
	/* "/" + PROTO_MAX_PATH bytes is the longest acceptable input */
	len = strnlen(s, PROTO_MAX_PATH + 2);
	if (s[0] != '/')
		return -EINVAL;
	if (len > PROTO_MAX_PATH + 1)
		return -ENAMETOOLONG;
	if (len == 1) {
		copy = strdup("");
		if (!copy)
			return -ENOMEM;
		*ret = copy;
		return 0;
	}
	copy = strdup(s + 1);
	if (!copy)
		return -ENOMEM;
	/* check every segment in place, cutting the string at each '/' for a moment */
	for (char *seg = copy;;) {
		char *slash = strchr(seg, '/');

		if (slash)
			*slash = '\0';
		r = check_segment(seg, strlen(seg)); /* "" at the end: a trailing slash */
		if (slash)
			*slash = '/';
		if (r < 0) {
			free(copy);
			return r;
		}
		if (!slash)
			break;
		seg = slash + 1;
	}
	*ret = copy;
	return 0;
}

void gw_path_clear(struct gw_path *p)
{
	if (!p)
		return;
	free(p->server);
	free(p->share);
	free(p->path);
	*p = (struct gw_path){0};
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Encodes @s; with @keep_slash, '/' stays as it is. */
static char *encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len;
	char *out, *o;

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	len = strlen(s);
	if (len > (SIZE_MAX - 1) / 3) {
		errno = ENOMEM;
		return NULL;
	}
	out = malloc(3 * len + 1);
	if (!out)
		return NULL;
	o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		}
	}
	*o = '\0';
	return out;
}

char *gw_path_encode_segment(const char *seg)
{
	return encode(seg, false);
}

char *gw_path_encode(const char *path)
{
	return encode(path, true);
}

int gw_path_parse_destination(const char *dest, const char *host, struct gw_path *ret)
{
	const char *path = dest;

	if (!dest)
		return -EINVAL;
	const char *scheme = strstr(dest, "://");
	const char *slash = strchr(dest, '/');
	if (scheme && scheme < slash) {
		/* An absolute URI: its authority runs to the next '/'. */
		const char *authority = scheme + 3;
		path = strchr(authority, '/');
		size_t n = path ? (size_t)(path - authority) : strlen(authority);
		if (!host || strlen(host) != n || strncasecmp(host, authority, n) != 0)
			return -EXDEV;
	}
	if (!path || strncmp(path, "/dav/", 5) != 0)
		return -EINVAL;
	return gw_path_parse(path + 4, ret);
}
