/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/httputil.h - small pure HTTP helpers: Range, Content-Type,
 * dates, entity tags, Content-Disposition. No I/O, no global state; every
 * input is treated as hostile (bounded, overflow-safe).
 *
 * Runs in: the gateway process.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct proto_stat; /* sandbox/shared/proto.h */

/*
 * Parses the value of a Range header holding a single byte range (RFC 9110
 * 14.1.2) against a representation of @size bytes: "bytes=a-b", "bytes=a-",
 * "bytes=-n" (the unit is case-insensitive; optional whitespace around the
 * whole value only). Numbers too big for 64 bits saturate (so "bytes=0-<huge>"
 * is the whole file and "bytes=<huge>-" is unsatisfiable).
 * Returns 0 and sets *@ret_start, *@ret_len (len >= 1, clamped to @size), or
 *   -ERANGE  syntactically fine but unsatisfiable (first byte >= @size, a
 *            suffix of 0, @size 0): answer 416 with "Content-Range: bytes * /size";
 *   -EINVAL  anything else (bad syntax, last < first, several ranges, another
 *            unit): ignore the header and answer 200 with the whole file.
 * The outputs are untouched on failure.
 */
int gw_range_parse(const char *header, uint64_t size, uint64_t *ret_start, uint64_t *ret_len);

/*
 * The Content-Type for a file name, from its extension (case-insensitive), or
 * "application/octet-stream". Text types carry "; charset=utf-8". A static
 * string; never NULL (also for a NULL @name).
 */
const char *gw_mime_type(const char *name);

/*
 * Writes @t (seconds since the epoch, UTC) to @buf as an IMF-fixdate,
 * "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes + NUL). @t is clamped to
 * years 0001..9999.
 */
void gw_http_date(int64_t t, char buf[static 32]);

/*
 * Parses an IMF-fixdate (exactly "Sun, 06 Nov 1994 08:49:37 GMT"; day and
 * month names case-sensitive, the day name not checked against the date;
 * second 60 allowed). The obsolete RFC 850 and asctime forms are refused.
 * Returns 0 and sets *@ret, or -EINVAL leaving *@ret untouched.
 */
int gw_http_date_parse(const char *s, int64_t *ret);

/* Writes @t to @buf as RFC 3339 UTC, "2026-11-29T01:02:03Z"; clamped like gw_http_date(). */
void gw_rfc3339(int64_t t, char buf[static 32]);

/*
 * Writes a strong entity tag for the file of @st to @buf, quotes included:
 * "\"<hex size>-<16 hex digits>\"", the digits a hash (FNV-1a, 64 bits, no
 * key: every gateway makes the same) of the modification and change times
 * to the nanosecond and the file id, e.g. "\"1a2b-0123456789abcdef\"". Any
 * write the server reports changes it: one of the same size within the same
 * second, one whose modification time is put back (an upload through the
 * gateway is a new file: a new file id).
 */
void gw_etag(const struct proto_stat *st, char buf[static 48]);

/*
 * Whether the value of an If-None-Match header matches @etag (a tag as made
 * by gw_etag(), possibly "W/"-prefixed), using the weak comparison of RFC
 * 9110 8.8.3.2: "*" matches anything, else a comma-separated list of
 * (W/)"opaque" tags. A malformed header (or NULL argument) matches nothing.
 */
bool gw_etag_match(const char *if_none_match, const char *etag);

/*
 * Whether the value of an If-Match header holds for a file whose tag is
 * @etag (NULL: there is no file): "*" when there is one, else a list of tags
 * of which one equals @etag by the strong comparison (a "W/" tag never
 * matches). A malformed header holds for nothing.
 */
bool gw_if_match(const char *if_match, const char *etag);

/* Longest file name gw_content_disposition() accepts, bytes. */
#define GW_CD_MAX_NAME 4096

/*
 * The value of a Content-Disposition header for downloading @filename:
 *   attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>
 * where <ascii> is @filename with every non-ASCII character (one per UTF-8
 * sequence), '"', '\\' and control character replaced by '_', and the
 * percent-encoding keeps only A-Za-z0-9 "-._~" (RFC 8187). Returns a new
 * string the caller frees with free(), or NULL with errno set (EINVAL for a
 * NULL @filename, ENAMETOOLONG over GW_CD_MAX_NAME bytes, ENOMEM).
 */
char *gw_content_disposition(const char *filename);
