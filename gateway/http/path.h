/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/path.h - the paths of the file API, treated as hostile input.
 *
 * The HTTP layer hands over the raw (still percent-encoded) request path after
 * the "/api/v1/fs" prefix: "/", "/server", "/server/share/dir/file%20name".
 * gw_path_parse() splits it into server, share and a path inside the share,
 * percent-decodes every segment and checks it with proto_name_valid(), so
 * nothing that could walk out of a share ("..", "%2e%2e", "%2F", "\\", NUL,
 * overlong UTF-8, ...) ever reaches the worker. The path inside the share is
 * returned as "seg/seg" (no leading slash), the form sandbox/gateway/client.h wants.
 *
 * Every rejection is -EINVAL; lengths over the protocol caps (sandbox/shared/proto.h)
 * are -ENAMETOOLONG. Outputs are untouched on failure.
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>

#include "proto.h"

/* Longest raw path gw_path_parse() looks at: every byte of the longest valid
 * path (server, share, path inside the share) percent-encoded, plus slashes. */
#define GW_PATH_MAX_RAW (3 * (2 * PROTO_MAX_NAME + PROTO_MAX_PATH) + 8)

struct gw_path {
	char *server;	     /* NULL for the root "/" */
	char *share;	     /* NULL when only a server (or nothing) is named */
	char *path;	     /* inside the share: "" for the share root, else "seg/seg" (decoded
				UTF-8, no leading or trailing slash); NULL when share is NULL */
	bool trailing_slash; /* the raw path ended with '/' (always true for the root "/") */
};

/*
 * Parses @raw, a percent-encoded path that must start with '/':
 *   "/"                  -> all NULL (the list of servers)
 *   "/srv" or "/srv/"    -> server "srv"
 *   "/srv/sh" "/srv/sh/" -> server, share, path ""
 *   "/srv/sh/a%20b/c"    -> server, share, path "a b/c"
 * Rules: "%XX" escapes only (any case; '+' is a plain '+'); no raw '?' or '#';
 * every decoded segment non-empty (one trailing '/' is allowed at the very
 * end), no NUL, and passing proto_name_valid() (not "." or "..", no '/', no
 * '\\', no control characters, valid UTF-8 without overlongs or surrogates).
 * Returns 0 and fills *@ret (the caller frees it with gw_path_clear()), or
 * -EINVAL (bad input), -ENAMETOOLONG (@raw longer than GW_PATH_MAX_RAW, a
 * segment over PROTO_MAX_NAME bytes, the path inside the share over
 * PROTO_MAX_PATH bytes), -ENOMEM; *@ret is untouched on failure.
 */
int gw_path_parse(const char *raw, struct gw_path *ret);

/*
 * Parses a WebDAV Destination header (RFC 4918 10.3) @dest, sent with the Host
 * header @host (NULL when absent): an absolute URI "scheme://authority/path"
 * whose authority equals @host (ASCII case aside, byte for byte otherwise:
 * "host:80" and "host" differ), or an absolute path. The path must start with
 * "/dav/"; what follows "/dav" is parsed by gw_path_parse(). Returns 0 and
 * fills *@ret (the caller frees it with gw_path_clear()), or -EXDEV (an
 * absolute URI naming another authority, or one given without @host),
 * -EINVAL (no path, a path outside /dav/, or gw_path_parse()'s -EINVAL),
 * -ENAMETOOLONG, -ENOMEM; *@ret is untouched on failure.
 */
int gw_path_parse_destination(const char *dest, const char *host, struct gw_path *ret);

/*
 * Parses a path inside a share given in a JSON body (already decoded, e.g. the
 * "to" of move/copy): must start with '/', same segment rules as above, no
 * percent-decoding ('%' is a plain character, and so are '?' and '#'), no
 * trailing slash except for "/" itself. "/" gives "" (the share root),
 * "/a/b" gives "a/b". Returns 0 and sets *@ret to a new string the caller
 * frees with free(), or -EINVAL, -ENAMETOOLONG (a segment over PROTO_MAX_NAME
 * bytes, the result over PROTO_MAX_PATH bytes), -ENOMEM; *@ret is untouched on
 * failure.
 */
int gw_path_parse_plain(const char *s, char **ret);

/*
 * A query argument's value as the client meant it: "%XX" decoded, '+' a
 * space (the HTTP layer leaves arguments raw). Returns a new string the
 * caller frees with free(), or NULL: a bad or cut escape, "%00", ENOMEM.
 */
char *gw_query_arg_decode(const char *v);

/* A query argument's number: @def when @v is NULL (absent), @v's value when
 * it is a decimal number in 1..@max, else 0. */
unsigned gw_query_num(const char *v, unsigned def, unsigned max);

/* Frees what *@p owns and resets it (all NULL, false). @p itself is not freed;
 * fine on a zeroed or already cleared struct, and on NULL. */
void gw_path_clear(struct gw_path *p);

/*
 * Percent-encodes one segment for a URL: every byte except the unreserved
 * A-Za-z0-9 "-._~" becomes "%XX" (upper-case hex), '/' included. Returns a new
 * string the caller frees with free(), or NULL with errno set (EINVAL for a
 * NULL @seg, ENOMEM).
 */
char *gw_path_encode_segment(const char *seg);

/*
 * Percent-encodes a path of segments separated by '/' (e.g. "a b/c" ->
 * "a%20b/c"): each segment as gw_path_encode_segment(), the slashes kept.
 * Returns a new string the caller frees with free(), or NULL with errno set
 * (EINVAL for a NULL @path, ENOMEM).
 */
char *gw_path_encode(const char *path);
