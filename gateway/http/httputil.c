/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/httputil.c - small pure HTTP helpers; see httputil.h.
 *
 * Dates are converted with Howard Hinnant's days_from_civil/civil_from_days
 * algorithms rather than gmtime_r()/timegm(), so that they are exact over the
 * whole range, need no time zone and no locale.
 *
 * Runs in: the gateway process (HTTP threads); pure functions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/httputil.h"
#include "proto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define DATE_MIN (-62135596800LL)
#define DATE_MAX 253402300799LL

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1*DIGIT, saturating at UINT64_MAX. false when no digit. */
static bool parse_u64(const char **pp, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (!is_digit(*p))
		return false;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
	}
	*pp = p;
	*ret = v;
	return true;
}

int gw_range_parse(const char *header, uint64_t size, uint64_t *ret_start, uint64_t *ret_len)
{
	uint64_t first = 0, last = UINT64_MAX, suffix = 0, start, len;
	bool is_suffix = false;
	const char *p;

	if (!header || !ret_start || !ret_len)
		return -EINVAL;
	p = skip_ows(header);
	if (strncasecmp(p, "bytes=", 6) != 0)
		return -EINVAL;
	p += 6;
	if (*p == '-') {
		p++;
		if (!parse_u64(&p, &suffix))
			return -EINVAL;
		is_suffix = true;
	} else {
		if (!parse_u64(&p, &first) || *p != '-')
			return -EINVAL;
		p++;
		if (is_digit(*p) && !parse_u64(&p, &last))
			return -EINVAL;
		if (last < first)
			return -EINVAL;
	}
	p = skip_ows(p);
	if (*p != '\0')
		return -EINVAL; /* another range, or garbage */

	if (size == 0)
		return -ERANGE;
	if (is_suffix) {
		if (suffix == 0)
			return -ERANGE;
		len = suffix < size ? suffix : size;
		start = size - len;
	} else {
		if (first >= size)
			return -ERANGE;
		start = first;
		len = (last < size - 1 ? last : size - 1) - first + 1;
	}
	*ret_start = start;
	*ret_len = len;
	return 0;
}

const char *gw_mime_type(const char *name)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
	    {"txt", "text/plain; charset=utf-8"},
	    {"html", "text/html; charset=utf-8"},
	    {"htm", "text/html; charset=utf-8"},
	    {"css", "text/css; charset=utf-8"},
	    {"js", "text/javascript; charset=utf-8"},
	    {"mjs", "text/javascript; charset=utf-8"},
	    {"json", "application/json"},
	    {"xml", "application/xml"},
	    {"csv", "text/csv; charset=utf-8"},
	    {"md", "text/markdown; charset=utf-8"},
	    {"png", "image/png"},
	    {"jpg", "image/jpeg"},
	    {"jpeg", "image/jpeg"},
	    {"gif", "image/gif"},
	    {"webp", "image/webp"},
	    {"svg", "image/svg+xml"},
	    {"ico", "image/vnd.microsoft.icon"},
	    {"pdf", "application/pdf"},
	    {"zip", "application/zip"},
	    {"gz", "application/gzip"},
	    {"tar", "application/x-tar"},
	    {"mp3", "audio/mpeg"},
	    {"mp4", "video/mp4"},
	    {"webm", "video/webm"},
	    {"wav", "audio/wav"},
	    {"ogg", "audio/ogg"},
	    {"doc", "application/msword"},
	    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	    {"xls", "application/vnd.ms-excel"},
	    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	    {"ppt", "application/vnd.ms-powerpoint"},
	    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	    {"odt", "application/vnd.oasis.opendocument.text"},
	    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
	    {"rtf", "application/rtf"},
	};
	const char *dot;

	if (!name)
		return "application/octet-stream";
	dot = strrchr(name, '.');
	/* no extension, or a dot file like ".txt" */
	if (!dot || dot == name || dot[-1] == '/' || strlen(dot + 1) > 8)
		return "application/octet-stream";
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct civil {
	int64_t year;
	unsigned month, day, hour, min, sec, wday; /* month 1..12, wday 0 = Sunday */
};

static void civil_from_time(int64_t t, struct civil *c)
{
	int64_t z, era, doe, yoe, doy, mp, secs;

	if (t < DATE_MIN)
		t = DATE_MIN;
	if (t > DATE_MAX)
		t = DATE_MAX;
	z = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		z--;
	}
	c->hour = (unsigned)(secs / 3600);
	c->min = (unsigned)(secs / 60 % 60);
	c->sec = (unsigned)(secs % 60);
	c->wday = (unsigned)(((z + 4) % 7 + 7) % 7);
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->month <= 2);
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Writes @v (< 10^@width) as @width digits at @p; returns the end. */
static char *put_num(char *p, unsigned v, unsigned width)
{
	for (unsigned i = width; i > 0; i--) {
		p[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

static char *put_str(char *p, const char *s)
{
	size_t l = strlen(s);

	memcpy(p, s, l);
	return p + l;
}

void gw_http_date(int64_t t, char buf[static 32])
{
	struct civil c;
	char *p = buf;

	civil_from_time(t, &c);
	p = put_str(p, wdays[c.wday]);
	p = put_str(p, ", ");
	p = put_num(p, c.day, 2);
	*p++ = ' ';
	p = put_str(p, months[c.month - 1]);
	*p++ = ' ';
	p = put_num(p, (unsigned)c.year, 4);
	*p++ = ' ';
	p = put_num(p, c.hour, 2);
	*p++ = ':';
	p = put_num(p, c.min, 2);
	*p++ = ':';
	p = put_num(p, c.sec, 2);
	p = put_str(p, " GMT");
	*p = '\0';
}

void gw_rfc3339(int64_t t, char buf[static 32])
{
	struct civil c;
	char *p = buf;

	civil_from_time(t, &c);
	p = put_num(p, (unsigned)c.year, 4);
	*p++ = '-';
	p = put_num(p, c.month, 2);
	*p++ = '-';
	p = put_num(p, c.day, 2);
	*p++ = 'T';
	p = put_num(p, c.hour, 2);
	*p++ = ':';
	p = put_num(p, c.min, 2);
	*p++ = ':';
	p = put_num(p, c.sec, 2);
	*p++ = 'Z';
	*p = '\0';
}

/* Exactly @width digits at @p. */
static bool get_num(const char *p, unsigned width, unsigned *ret)
{
	unsigned v = 0;

	for (unsigned i = 0; i < width; i++) {
		if (!is_digit(p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*ret = v;
	return true;
}

static int find_name(const char (*names)[4], unsigned n, const char *p)
{
	for (unsigned i = 0; i < n; i++)
		if (strncmp(p, names[i], 3) == 0)
			return (int)i;
	return -1;
}

int gw_http_date_parse(const char *s, int64_t *ret)
{
	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned day, year, hour, min, sec;
	int month;
	bool leap;

	if (!s || !ret || strnlen(s, 30) != 29)
		return -EINVAL;
	if (find_name(wdays, 7, s) < 0 || strncmp(s + 3, ", ", 2) != 0 ||
	    !get_num(s + 5, 2, &day) || s[7] != ' ' || (month = find_name(months, 12, s + 8)) < 0 ||
	    s[11] != ' ' || !get_num(s + 12, 4, &year) || s[16] != ' ' ||
	    !get_num(s + 17, 2, &hour) || s[19] != ':' || !get_num(s + 20, 2, &min) ||
	    s[22] != ':' || !get_num(s + 23, 2, &sec) || strcmp(s + 25, " GMT") != 0)
		return -EINVAL;
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (year == 0 || day < 1 || day > mdays[month] || (month == 1 && day == 29 && !leap) ||
	    hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	*ret =
	    days_from_civil(year, (unsigned)month + 1, day) * 86400 + hour * 3600 + min * 60 + sec;
	return 0;
}

/* FNV-1a over the 8 bytes of @v, least significant first, into @h. */
static uint64_t fnv1a_u64(uint64_t h, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

void gw_etag(const struct proto_stat *st, char buf[static 48])
{
	const uint64_t vals[] = {(uint64_t)st->mtime, st->mtime_ns, (uint64_t)st->ctime,
				 st->ctime_ns, st->file_id};
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		h = fnv1a_u64(h, vals[i]);
	snprintf(buf, 48, "\"%llx-%016llx\"", (unsigned long long)st->size, (unsigned long long)h);
}

/* Whether the list @hdr (If-None-Match, If-Match) names @etag; @strong: a
 * weak tag ("W/...") in the list matches nothing (RFC 9110 8.8.3.2). */
static bool etag_list_match(const char *hdr, const char *etag, bool strong)
{
	const char *p, *tag;
	size_t tag_len;
	bool match = false;

	if (!hdr || !etag)
		return false;
	tag = etag;
	if (tag[0] == 'W' && tag[1] == '/')
		tag += 2;
	tag_len = strlen(tag);
	if (tag_len < 2 || tag[0] != '"' || tag[tag_len - 1] != '"')
		return false;

	p = skip_ows(hdr);
	if (*p == '*')
		return *skip_ows(p + 1) == '\0';
	for (;;) {
		const char *q;

		p = skip_ows(p);
		if (*p == ',') {
			p++; /* empty list elements are allowed (RFC 9110 5.6.1) */
			continue;
		}
		if (*p == '\0')
			break;
		bool weak = p[0] == 'W' && p[1] == '/';
		if (weak)
			p += 2;
		if (*p != '"')
			return false;
		for (q = p + 1; *q && *q != '"'; q++)
			if ((unsigned char)*q < 0x21 || *q == 0x7f)
				return false; /* not an etagc */
		if (*q != '"')
			return false;
		if (!(weak && strong) && (size_t)(q - p + 1) == tag_len &&
		    memcmp(p, tag, tag_len) == 0)
			match = true;
		p = skip_ows(q + 1);
		if (*p != ',' && *p != '\0')
			return false;
	}
	return match;
}

bool gw_etag_match(const char *if_none_match, const char *etag)
{
	return etag_list_match(if_none_match, etag, false);
}

bool gw_if_match(const char *if_match, const char *etag)
{
	return etag_list_match(if_match, etag, true);
}

char *gw_content_disposition(const char *filename)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char pre[] = "attachment; filename=\"";
	static const char mid[] = "\"; filename*=UTF-8''";
	size_t len;
	char *out, *o;

	if (!filename) {
		errno = EINVAL;
		return NULL;
	}
	len = strnlen(filename, GW_CD_MAX_NAME + 1);
	if (len > GW_CD_MAX_NAME) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	out = malloc(sizeof(pre) + sizeof(mid) + 4 * len);
	if (!out)
		return NULL;
	o = put_str(out, pre);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)filename[i];

		if ((c & 0xc0) == 0x80 && i > 0 && (unsigned char)filename[i - 1] >= 0x80)
			continue; /* a continuation byte: one '_' per UTF-8 sequence */
		if (c >= 0x80 || c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			*o++ = '_';
		else
			*o++ = (char)c;
	}
	o = put_str(o, mid);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)filename[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	*o = '\0';
	return out;
}
