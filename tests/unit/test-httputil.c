/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-httputil.c - unit tests of gateway/http/httputil.c.
 *
 * Table-driven with exact expected outputs. Failed calls must leave their
 * outputs untouched (sentinel values are set before and compared after).
 * String inputs are passed in heap buffers of exactly their size, so a read
 * past the end shows under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/httputil.h"
#include "proto.h"
#include "unit.h"

#define SENTINEL 0xa5a5a5a5a5a5a5a5ull

/* ---- Range ------------------------------------------------------------------------------ */

struct range_case {
	const char *header;
	uint64_t size;
	int ret;
	uint64_t start, len;
};

static const struct range_case range_cases[] = {
    {"bytes=0-499", 1000, 0, 0, 500},
    {"bytes=500-999", 1000, 0, 500, 500},
    {"bytes=500-", 1000, 0, 500, 500},
    {"bytes=-500", 1000, 0, 500, 500},
    {"bytes=-1", 1000, 0, 999, 1},
    {"bytes=-1000", 1000, 0, 0, 1000},
    {"bytes=-2000", 1000, 0, 0, 1000},
    {"bytes=0-0", 1000, 0, 0, 1},
    {"bytes=0-", 1000, 0, 0, 1000},
    {"bytes=999-999", 1000, 0, 999, 1},
    {"bytes=999-", 1000, 0, 999, 1},
    {"bytes=900-5000", 1000, 0, 900, 100},
    {"bytes=0-18446744073709551615", 1000, 0, 0, 1000},
    {"bytes=0-99999999999999999999999", 1000, 0, 0, 1000},
    {"bytes=-99999999999999999999999", 1000, 0, 0, 1000},
    {"bytes=00010-00019", 1000, 0, 10, 10},
    {"BYTES=0-1", 1000, 0, 0, 2},
    {"Bytes=0-1", 1000, 0, 0, 2},
    {" \tbytes=0-1 \t", 1000, 0, 0, 2},
    {"bytes=0-0", 1, 0, 0, 1},
    {"bytes=-1", UINT64_MAX, 0, UINT64_MAX - 1, 1},
    {"bytes=0-", UINT64_MAX, 0, 0, UINT64_MAX},
    {"bytes=18446744073709551614-", UINT64_MAX, 0, UINT64_MAX - 1, 1},
    {"bytes=0-18446744073709551615", UINT64_MAX, 0, 0, UINT64_MAX},
    /* unsatisfiable */
    {"bytes=1000-", 1000, -ERANGE, 0, 0},
    {"bytes=1000-2000", 1000, -ERANGE, 0, 0},
    {"bytes=18446744073709551615-", 1000, -ERANGE, 0, 0},
    {"bytes=99999999999999999999999-", 1000, -ERANGE, 0, 0},
    {"bytes=-0", 1000, -ERANGE, 0, 0},
    {"bytes=-000", 1000, -ERANGE, 0, 0},
    {"bytes=0-", 0, -ERANGE, 0, 0},
    {"bytes=0-0", 0, -ERANGE, 0, 0},
    {"bytes=-5", 0, -ERANGE, 0, 0},
    {"bytes=18446744073709551615-", UINT64_MAX, -ERANGE, 0, 0},
    /* not for us: ignore the header */
    {"", 1000, -EINVAL, 0, 0},
    {"bytes", 1000, -EINVAL, 0, 0},
    {"bytes=", 1000, -EINVAL, 0, 0},
    {"bytes=-", 1000, -EINVAL, 0, 0},
    {"bytes=--1", 1000, -EINVAL, 0, 0},
    {"bytes=1--2", 1000, -EINVAL, 0, 0},
    {"bytes=-1-2", 1000, -EINVAL, 0, 0},
    {"bytes=a-b", 1000, -EINVAL, 0, 0},
    {"bytes=1-b", 1000, -EINVAL, 0, 0},
    {"bytes=5-4", 1000, -EINVAL, 0, 0},
    {"bytes=5-4", 0, -EINVAL, 0, 0},
    {"bytes=2000-1000", 1000, -EINVAL, 0, 0},
    {"bytes=0-1,2-3", 1000, -EINVAL, 0, 0},
    {"bytes=0-1, 2-3", 1000, -EINVAL, 0, 0},
    {"bytes=0-1,", 1000, -EINVAL, 0, 0},
    {"bytes=,0-1", 1000, -EINVAL, 0, 0},
    {"bytes= 0-1", 1000, -EINVAL, 0, 0},
    {"bytes =0-1", 1000, -EINVAL, 0, 0},
    {"bytes=0 -1", 1000, -EINVAL, 0, 0},
    {"bytes=0- 1", 1000, -EINVAL, 0, 0},
    {"bytes=+1-2", 1000, -EINVAL, 0, 0},
    {"bytes=0x10-", 1000, -EINVAL, 0, 0},
    {"bytes=1-2-3", 1000, -EINVAL, 0, 0},
    {"bytes=0-1 x", 1000, -EINVAL, 0, 0},
    {"bytes=0-1\n", 1000, -EINVAL, 0, 0},
    {"bytes=1.5-2", 1000, -EINVAL, 0, 0},
    {"items=0-1", 1000, -EINVAL, 0, 0},
    {"bytesx=0-1", 1000, -EINVAL, 0, 0},
    {"0-1", 1000, -EINVAL, 0, 0},
};

static void test_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(range_cases); i++) {
		const struct range_case *c = &range_cases[i];
		char *h = exact_copy(c->header);
		uint64_t start = SENTINEL, len = SENTINEL;
		int r = gw_range_parse(h, c->size, &start, &len);

		free(h);
		if (r != c->ret)
			print_error("case %zu \"%s\" size %llu: %d, want %d\n", i, c->header,
				    (unsigned long long)c->size, r, c->ret);
		assert_int_equal(r, c->ret);
		if (r == 0) {
			assert_int_equal(start, c->start);
			assert_int_equal(len, c->len);
			assert_true(len >= 1 && start < c->size && len <= c->size - start);
		} else {
			assert_int_equal(start, SENTINEL);
			assert_int_equal(len, SENTINEL);
		}
	}
}

static void test_range_edges(void **state)
{
	uint64_t start = SENTINEL, len = SENTINEL;
	char *big;

	(void)state;
	assert_int_equal(gw_range_parse(NULL, 10, &start, &len), -EINVAL);
	assert_int_equal(gw_range_parse("bytes=0-1", 10, NULL, &len), -EINVAL);
	assert_int_equal(gw_range_parse("bytes=0-1", 10, &start, NULL), -EINVAL);
	assert_int_equal(start, SENTINEL);
	assert_int_equal(len, SENTINEL);

	/* a very long number saturates without trouble */
	big = malloc(100010);
	assert_non_null(big);
	memcpy(big, "bytes=5-", 8);
	memset(big + 8, '9', 100000);
	big[100008] = '\0';
	assert_int_equal(gw_range_parse(big, 10, &start, &len), 0);
	assert_int_equal(start, 5);
	assert_int_equal(len, 5);
	free(big);
}

/* ---- Content-Type ------------------------------------------------------------------------- */

static const struct {
	const char *name, *type;
} mime_cases[] = {
    {"a.txt", "text/plain; charset=utf-8"},
    {"A.TXT", "text/plain; charset=utf-8"},
    {"index.html", "text/html; charset=utf-8"},
    {"index.HTM", "text/html; charset=utf-8"},
    {"s.css", "text/css; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"d.json", "application/json"},
    {"d.xml", "application/xml"},
    {"d.csv", "text/csv; charset=utf-8"},
    {"README.md", "text/markdown; charset=utf-8"},
    {"p.png", "image/png"},
    {"p.jpg", "image/jpeg"},
    {"p.JPEG", "image/jpeg"},
    {"p.gif", "image/gif"},
    {"p.webp", "image/webp"},
    {"p.svg", "image/svg+xml"},
    {"favicon.ico", "image/vnd.microsoft.icon"},
    {"r.pdf", "application/pdf"},
    {"a.zip", "application/zip"},
    {"a.tar.gz", "application/gzip"},
    {"a.tar", "application/x-tar"},
    {"s.mp3", "audio/mpeg"},
    {"v.mp4", "video/mp4"},
    {"v.webm", "video/webm"},
    {"s.wav", "audio/wav"},
    {"s.ogg", "audio/ogg"},
    {"w.doc", "application/msword"},
    {"w.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"x.xls", "application/vnd.ms-excel"},
    {"x.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"p.ppt", "application/vnd.ms-powerpoint"},
    {"p.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"o.odt", "application/vnd.oasis.opendocument.text"},
    {"o.ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"r.rtf", "application/rtf"},
    {"dir/a b.Pdf", "application/pdf"},
    {"noext", "application/octet-stream"},
    {"a.", "application/octet-stream"},
    {".txt", "application/octet-stream"},
    {"dir/.txt", "application/octet-stream"},
    {"a.exe", "application/octet-stream"},
    {"a.txt.exe", "application/octet-stream"},
    {"a.exe.txt", "text/plain; charset=utf-8"},
    {"a.txtx", "application/octet-stream"},
    {"a.tx", "application/octet-stream"},
    {"a.verylongextension", "application/octet-stream"},
    {"", "application/octet-stream"},
    {"c\xc3\xa9.PNG", "image/png"},
};

static void test_mime(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(mime_cases); i++) {
		char *n = exact_copy(mime_cases[i].name);

		assert_string_equal(gw_mime_type(n), mime_cases[i].type);
		free(n);
	}
	assert_string_equal(gw_mime_type(NULL), "application/octet-stream");
}

/* ---- dates ---------------------------------------------------------------------------------- */

static const struct {
	int64_t t;
	const char *http, *rfc3339;
} date_cases[] = {
    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {0, "Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {-1, "Wed, 31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 GMT", "2000-02-29T00:00:00Z"},
    {1709208000, "Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z"},
    {1795914123, "Sun, 29 Nov 2026 01:02:03 GMT", "2026-11-29T01:02:03Z"},
    {1483228799, "Sat, 31 Dec 2016 23:59:59 GMT", "2016-12-31T23:59:59Z"},
    {-2203891200, "Thu, 01 Mar 1900 00:00:00 GMT", "1900-03-01T00:00:00Z"},
    {-11644473600, "Mon, 01 Jan 1601 00:00:00 GMT", "1601-01-01T00:00:00Z"},
    {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z"},
    {-62135596800, "Mon, 01 Jan 0001 00:00:00 GMT", "0001-01-01T00:00:00Z"},
};

static void test_dates(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(date_cases); i++) {
		char buf[32];
		int64_t t = (int64_t)SENTINEL;
		char *s;

		memset(buf, 'x', sizeof(buf));
		gw_http_date(date_cases[i].t, buf);
		assert_string_equal(buf, date_cases[i].http);
		memset(buf, 'x', sizeof(buf));
		gw_rfc3339(date_cases[i].t, buf);
		assert_string_equal(buf, date_cases[i].rfc3339);

		s = exact_copy(date_cases[i].http);
		assert_int_equal(gw_http_date_parse(s, &t), 0);
		assert_int_equal(t, date_cases[i].t);
		free(s);
	}
}

static void test_dates_clamped(void **state)
{
	char buf[32];

	(void)state;
	gw_http_date(INT64_MAX, buf);
	assert_string_equal(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
	gw_http_date(253402300800, buf);
	assert_string_equal(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
	gw_http_date(INT64_MIN, buf);
	assert_string_equal(buf, "Mon, 01 Jan 0001 00:00:00 GMT");
	gw_rfc3339(INT64_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	gw_rfc3339(INT64_MIN, buf);
	assert_string_equal(buf, "0001-01-01T00:00:00Z");
	gw_rfc3339(-62135596801, buf);
	assert_string_equal(buf, "0001-01-01T00:00:00Z");
}

static void test_date_parse(void **state)
{
	static const struct {
		const char *s;
		int64_t t;
	} ok[] = {
	    {"Sat, 31 Dec 2016 23:59:60 GMT", 1483228800}, /* leap second */
	    {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777},  /* day name not checked */
	    {"Wed, 29 Feb 2012 00:00:00 GMT", 1330473600},
	    {"Tue, 31 Dec 2019 23:59:59 GMT", 1577836799},
	};
	static const char *const bad[] = {
	    "",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 06 Nov 1994 08:49:37 gmt",
	    "Sun, 06 Nov 1994 08:49:37 GMT ",
	    " Sun, 06 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 08:49:37 GMTx",
	    "Sun, 06 Nov 1994 08:49:37",
	    "Sunday, 06-Nov-94 08:49:37 GMT", /* RFC 850 */
	    "Sun Nov  6 08:49:37 1994",	      /* asctime */
	    "sun, 06 Nov 1994 08:49:37 GMT",
	    "Xyz, 06 Nov 1994 08:49:37 GMT",
	    "Sun, 06 nov 1994 08:49:37 GMT",
	    "Sun, 06 Nox 1994 08:49:37 GMT",
	    "Sun,  6 Nov 1994 08:49:37 GMT",
	    "Sun, 6 Nov 1994 08:49:37 GMTT",
	    "Sun, 00 Nov 1994 08:49:37 GMT",
	    "Sun, 31 Nov 1994 08:49:37 GMT",
	    "Sun, 32 Jan 1994 08:49:37 GMT",
	    "Sun, 29 Feb 1900 08:49:37 GMT",
	    "Sun, 29 Feb 2023 08:49:37 GMT",
	    "Sun, 06 Nov 0000 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:00:00 GMT",
	    "Sun, 06 Nov 1994 08:60:00 GMT",
	    "Sun, 06 Nov 1994 08:49:61 GMT",
	    "Sun, 06 Nov 1994 08-49-37 GMT",
	    "Sun, 06 Nov 1994 8:49:37 GMT",
	    "Sun, 06 Nov 19a4 08:49:37 GMT",
	    "Sun, -6 Nov 1994 08:49:37 GMT",
	    "Sun; 06 Nov 1994 08:49:37 GMT",
	    "Sun,06 Nov 1994 08:49:37 GMT ",
	    "Sun, 06 Nov 1994 08:49:37 GMT\n",
	};
	int64_t t;

	(void)state;
	for (size_t i = 0; i < ARRAY(ok); i++) {
		char *s = exact_copy(ok[i].s);
		t = (int64_t)SENTINEL;
		assert_int_equal(gw_http_date_parse(s, &t), 0);
		assert_int_equal(t, ok[i].t);
		free(s);
	}
	for (size_t i = 0; i < ARRAY(bad); i++) {
		char *s = exact_copy(bad[i]);
		int r;

		t = (int64_t)SENTINEL;
		r = gw_http_date_parse(s, &t);
		if (r != -EINVAL)
			print_error("\"%s\" accepted\n", bad[i]);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(t, (int64_t)SENTINEL);
		free(s);
	}
	assert_int_equal(gw_http_date_parse(NULL, &t), -EINVAL);
	assert_int_equal(gw_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", NULL), -EINVAL);

	/* dates spread over years 53..3886 round-trip */
	for (int64_t d = -700000; d <= 700000; d += 997) {
		char buf[32];
		int64_t u = d * 86400 + (d % 86400 + 86400) % 86400;

		gw_http_date(u, buf);
		assert_int_equal(gw_http_date_parse(buf, &t), 0);
		assert_int_equal(t, u);
	}
}

/* ---- entity tags ---------------------------------------------------------------------------- */

static void test_etag(void **state)
{
	/* Fixed values: every gateway (and the next version) makes the same. */
	static const struct {
		struct proto_stat st;
		const char *tag;
	} cases[] = {
	    {{.ftype = PROTO_FT_FILE}, "\"0-40d69e0cf0f65c45\""},
	    {{.ftype = PROTO_FT_FILE, .size = 0x1a2b, .mtime = 0x5f5e1000},
	     "\"1a2b-f1b7c8fd2854a4f2\""},
	    {{.ftype = PROTO_FT_FILE,
	      .size = UINT64_MAX,
	      .mtime = INT64_MIN,
	      .mtime_ns = 999999999,
	      .ctime = -1,
	      .ctime_ns = 999999999,
	      .file_id = UINT64_MAX},
	     "\"ffffffffffffffff-06c0cc3e667dbcf1\""},
	};
	/* Each field the server reports changes the tag: a rewrite of the same
	 * size in the same second (mtime_ns, ctime_ns), one whose mtime was put
	 * back (ctime, file_id). */
	static const struct proto_stat base = {.ftype = PROTO_FT_FILE,
					       .size = 100,
					       .mtime = 1796000000,
					       .mtime_ns = 500,
					       .ctime = 1796000000,
					       .ctime_ns = 500,
					       .file_id = 4242};
	struct proto_stat v[6] = {base, base, base, base, base, base};
	char tags[6][48];

	(void)state;
	for (size_t i = 0; i < ARRAY(cases); i++) {
		char buf[48];

		memset(buf, 'x', sizeof(buf));
		gw_etag(&cases[i].st, buf);
		if (strcmp(buf, cases[i].tag) != 0)
			print_error("case %zu: %s\n", i, buf);
		assert_string_equal(buf, cases[i].tag);
		assert_true(gw_etag_match(buf, buf));
	}
	v[1].mtime_ns++;
	v[2].ctime_ns++;
	v[3].ctime++;
	v[4].file_id++;
	v[5].mtime++;
	for (size_t i = 0; i < ARRAY(v); i++) {
		gw_etag(&v[i], tags[i]);
		assert_int_equal(strncmp(tags[i], "\"64-", 4), 0);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(tags[i], tags[k]);
	}
	/* The file type is not part of it (a stat and a listing agree). */
	v[0].ftype = PROTO_FT_DIR;
	gw_etag(&v[0], tags[1]);
	assert_string_equal(tags[0], tags[1]);
}

/* If-Match: the strong comparison; "*" needs a file. */
static void test_if_match(void **state)
{
	static const char *const tag = "\"1a-0123456789abcdef\"";

	(void)state;
	assert_true(gw_if_match(tag, tag));
	assert_true(gw_if_match("\"x\", \"1a-0123456789abcdef\"", tag));
	assert_true(gw_if_match(" ,\"1a-0123456789abcdef\" , ", tag));
	assert_true(gw_if_match("*", tag));
	assert_false(gw_if_match("*", NULL));
	assert_false(gw_if_match(tag, NULL));
	assert_false(gw_if_match("W/\"1a-0123456789abcdef\"", tag)); /* weak: never */
	assert_false(gw_if_match("\"1a-0123456789abcdee\"", tag));
	assert_false(gw_if_match("\"1a-0123456789abcdef", tag)); /* malformed */
	assert_false(gw_if_match("1a-0123456789abcdef", tag));
	assert_false(gw_if_match("\"x\" \"1a-0123456789abcdef\"", tag));
	assert_false(gw_if_match("", tag));
	assert_false(gw_if_match(NULL, tag));
	/* If-None-Match keeps the weak comparison */
	assert_true(gw_etag_match("W/\"1a-0123456789abcdef\"", tag));
}

static void test_etag_match(void **state)
{
	static const struct {
		const char *inm, *etag;
		bool match;
	} cases[] = {
	    {"*", "\"abc-1\"", true},
	    {" * ", "\"abc-1\"", true},
	    {"\"abc-1\"", "\"abc-1\"", true},
	    {"W/\"abc-1\"", "\"abc-1\"", true},
	    {"\"abc-1\"", "W/\"abc-1\"", true},
	    {"W/\"abc-1\"", "W/\"abc-1\"", true},
	    {"\"x\", \"abc-1\"", "\"abc-1\"", true},
	    {"\"x\",W/\"abc-1\" ", "\"abc-1\"", true},
	    {" \"x\" ,\t\"abc-1\"\t", "\"abc-1\"", true},
	    {",,\"abc-1\",", "\"abc-1\"", true},
	    {"\"abc-1\", \"x\"", "\"abc-1\"", true},
	    {"\"\"", "\"\"", true},
	    {"\"\xc3\xa9\"", "\"\xc3\xa9\"", true}, /* obs-text */
	    {"\"abc-2\"", "\"abc-1\"", false},
	    {"\"abc-12\"", "\"abc-1\"", false},
	    {"\"abc-\"", "\"abc-1\"", false},
	    {"\"ABC-1\"", "\"abc-1\"", false},
	    {"abc-1", "\"abc-1\"", false},
	    {"\"abc-1", "\"abc-1\"", false},
	    {"abc-1\"", "\"abc-1\"", false},
	    {"\"abc-1\" x", "\"abc-1\"", false},
	    {"\"abc-1\"\"x\"", "\"abc-1\"", false},
	    {"\"abc-1\", garbage", "\"abc-1\"", false},
	    {"w/\"abc-1\"", "\"abc-1\"", false},
	    {"W\"abc-1\"", "\"abc-1\"", false},
	    {"W/ \"abc-1\"", "\"abc-1\"", false},
	    {"\"a b\"", "\"a b\"", false},
	    {"\"a\x7f\"", "\"a\x7f\"", false},
	    {"*, \"abc-1\"", "\"abc-1\"", false},
	    {"**", "\"abc-1\"", false},
	    {"", "\"abc-1\"", false},
	    {" ", "\"abc-1\"", false},
	    {",", "\"abc-1\"", false},
	    {"\"abc-1\"", "abc-1", false}, /* a malformed etag matches nothing */
	    {"\"abc-1\"", "\"", false},
	    {"\"abc-1\"", "", false},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY(cases); i++) {
		char *inm = exact_copy(cases[i].inm), *etag = exact_copy(cases[i].etag);
		bool m = gw_etag_match(inm, etag);

		if (m != cases[i].match)
			print_error("case %zu: '%s' vs '%s': %d\n", i, cases[i].inm, cases[i].etag,
				    m);
		assert_int_equal(m, cases[i].match);
		free(inm);
		free(etag);
	}
	assert_false(gw_etag_match(NULL, "\"a\""));
	assert_false(gw_etag_match("*", NULL));
}

/* ---- Content-Disposition -------------------------------------------------------------------- */

static void test_content_disposition(void **state)
{
	static const struct {
		const char *name, *value;
	} cases[] = {
	    {"report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"},
	    {"a b.txt", "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"},
	    {"caf\xc3\xa9.txt",
	     "attachment; filename=\"caf_.txt\"; filename*=UTF-8''caf%C3%A9.txt"},
	    {"\xf0\x9f\x98\x80.png",
	     "attachment; filename=\"_.png\"; filename*=UTF-8''%F0%9F%98%80.png"},
	    {"\xe3\x83\x95\xe3\x82\xa1",
	     "attachment; filename=\"__\"; filename*=UTF-8''%E3%83%95%E3%82%A1"},
	    {"\"q\"\\x\r\n.txt",
	     "attachment; filename=\"_q__x__.txt\"; filename*=UTF-8''%22q%22%5Cx%0D%0A.txt"},
	    {"a\tb\x7f", "attachment; filename=\"a_b_\"; filename*=UTF-8''a%09b%7F"},
	    {"100%;a=b", "attachment; filename=\"100%;a=b\"; filename*=UTF-8''100%25%3Ba%3Db"},
	    {"x'y", "attachment; filename=\"x'y\"; filename*=UTF-8''x%27y"},
	    {"\xff\xbf.bin", "attachment; filename=\"_.bin\"; filename*=UTF-8''%FF%BF.bin"},
	    {"a\xbf", "attachment; filename=\"a_\"; filename*=UTF-8''a%BF"},
	    {"", "attachment; filename=\"\"; filename*=UTF-8''"},
	};
	char *v, *name;

	(void)state;
	for (size_t i = 0; i < ARRAY(cases); i++) {
		name = exact_copy(cases[i].name);
		v = gw_content_disposition(name);
		assert_non_null(v);
		assert_string_equal(v, cases[i].value);
		free(v);
		free(name);
	}

	errno = 0;
	assert_null(gw_content_disposition(NULL));
	assert_int_equal(errno, EINVAL);

	name = malloc(GW_CD_MAX_NAME + 2);
	assert_non_null(name);
	memset(name, '\xe2', GW_CD_MAX_NAME + 1);
	name[GW_CD_MAX_NAME + 1] = '\0';
	errno = 0;
	assert_null(gw_content_disposition(name));
	assert_int_equal(errno, ENAMETOOLONG);
	name[GW_CD_MAX_NAME] = '\0';
	v = gw_content_disposition(name);
	assert_non_null(v);
	assert_int_equal(strlen(v), strlen("attachment; filename=\"\"; filename*=UTF-8''") +
					4 * GW_CD_MAX_NAME);
	free(v);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range),	  cmocka_unit_test(test_range_edges),
	    cmocka_unit_test(test_mime),	  cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_dates_clamped), cmocka_unit_test(test_date_parse),
	    cmocka_unit_test(test_etag),	  cmocka_unit_test(test_etag_match),
	    cmocka_unit_test(test_if_match),	  cmocka_unit_test(test_content_disposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
