/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-path.c - unit tests of gateway/http/path.c.
 *
 * Table-driven: accepted raw paths with their exact split, rejected ones with
 * their exact error (every traversal trick we know of among them), the length
 * caps at their edges, the plain (JSON) form and the encoder. Every input is
 * passed in a heap buffer of exactly its size, so a read past its end shows
 * under ASan; every failed call must leave the output as it was (a sentinel
 * pattern is written before and compared after).
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

#include "http/path.h"
#include "unit.h"

/* A string of @n copies of @unit (@unit_len bytes) between @pre and @post. Caller frees. */
static char *repeat(const char *pre, const char *unit, size_t n, const char *post)
{
	size_t ul = strlen(unit), pl = strlen(pre), ql = strlen(post);
	char *s = malloc(pl + ul * n + ql + 1), *p = s;

	assert_non_null(s);
	memcpy(p, pre, pl);
	p += pl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, post, ql + 1);
	return s;
}

/* ---- gw_path_parse: accepted ------------------------------------------------------------ */

struct ok_case {
	const char *raw;
	const char *server, *share, *path;
	bool trailing;
};

static const struct ok_case ok_cases[] = {
    {"/", NULL, NULL, NULL, true},
    {"/fileserver", "fileserver", NULL, NULL, false},
    {"/fileserver/", "fileserver", NULL, NULL, true},
    {"/fileserver/public", "fileserver", "public", "", false},
    {"/fileserver/public/", "fileserver", "public", "", true},
    {"/fileserver/public/dir/", "fileserver", "public", "dir", true},
    {"/fileserver/public/a%20b/c%C3%A9.txt", "fileserver", "public", "a b/c\xc3\xa9.txt", false},
    {"/fileserver/public/a%20b/c%c3%a9.txt", "fileserver", "public", "a b/c\xc3\xa9.txt", false},
    {"/s/sh/a+b", "s", "sh", "a+b", false}, /* '+' is not a space in a path */
    {"/s/sh/a%2Bb", "s", "sh", "a+b", false},
    {"/s/sh/100%25", "s", "sh", "100%", false}, /* a literal '%' */
    {"/s/sh/%3F%23", "s", "sh", "?#", false},	/* encoded '?' and '#' are names */
    {"/s/data$/x", "s", "data$", "x", false},
    {"/s/sh/...", "s", "sh", "...", false},
    {"/s/sh/.hidden", "s", "sh", ".hidden", false},
    {"/s/sh/..a/a..", "s", "sh", "..a/a..", false},
    {"/s/sh/%2e%2e%2e", "s", "sh", "...", false},
    {"/s/sh/a/b/c/d/e", "s", "sh", "a/b/c/d/e", false},
    {"/s/sh/%F0%9F%98%80", "s", "sh", "\xf0\x9f\x98\x80", false},
    {"/s/sh/\xe3\x83\x95\xe3\x82\xa1", "s", "sh", "\xe3\x83\x95\xe3\x82\xa1",
     false}, /* raw UTF-8 */
    {"/s/sh/a b", "s", "sh", "a b", false},
    {"/s/sh/~-._", "s", "sh", "~-._", false},
    {"/%73rv/%73h", "srv", "sh", "", false},
    {"/s%20x/", "s x", NULL, NULL, true},
};

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		char *raw = exact_copy(c->raw);
		struct gw_path p;
		int r;

		memset(&p, 0xa5, sizeof(p));
		r = gw_path_parse(raw, &p);
		free(raw);
		if (r != 0)
			print_error("case %zu \"%s\": %d\n", i, c->raw, r);
		assert_int_equal(r, 0);
		if (c->server)
			assert_string_equal(p.server, c->server);
		else
			assert_null(p.server);
		if (c->share)
			assert_string_equal(p.share, c->share);
		else
			assert_null(p.share);
		if (c->path)
			assert_string_equal(p.path, c->path);
		else
			assert_null(p.path);
		assert_int_equal(p.trailing_slash, c->trailing);
		gw_path_clear(&p);
		assert_null(p.server);
		assert_null(p.share);
		assert_null(p.path);
		assert_false(p.trailing_slash);
	}
}

/* ---- gw_path_parse: rejected ------------------------------------------------------------ */

struct bad_case {
	const char *raw;
	int err;
};

static const struct bad_case bad_cases[] = {
    /* not a path */
    {"", -EINVAL},
    {"s/sh", -EINVAL},
    {"%2Fs/sh", -EINVAL},
    {"\\s\\sh", -EINVAL},
    /* traversal */
    {"/s/sh/..", -EINVAL},
    {"/s/sh/../", -EINVAL},
    {"/s/sh/../x", -EINVAL},
    {"/s/sh/a/../../x", -EINVAL},
    {"/s/sh/.", -EINVAL},
    {"/s/sh/./x", -EINVAL},
    {"/s/..", -EINVAL},
    {"/s/../x", -EINVAL},
    {"/..", -EINVAL},
    {"/../", -EINVAL},
    {"/.", -EINVAL},
    {"/s/./sh", -EINVAL},
    {"/s/sh/%2e%2e", -EINVAL},
    {"/s/sh/%2E%2e/x", -EINVAL},
    {"/s/sh/%2e", -EINVAL},
    {"/s/sh/.%2e", -EINVAL},
    {"/s/sh/%2e.", -EINVAL},
    {"/s/%2E%2E/x", -EINVAL},
    {"/s/sh/..%2fetc", -EINVAL},
    {"/s/sh/..%2Fetc", -EINVAL},
    {"/s/sh/a%2Fb", -EINVAL},
    {"/s%2Fsh/x", -EINVAL},
    {"/s/sh/%2F", -EINVAL},
    {"/s/sh/a%00b", -EINVAL},
    {"/s/sh/%00", -EINVAL},
    {"/s/sh/a\\b", -EINVAL},
    {"/s/sh/..\\..\\x", -EINVAL},
    {"/s/sh/a%5cb", -EINVAL},
    {"/s/sh/a%5Cb", -EINVAL},
    {"/s/sh/..%5c..%5cx", -EINVAL},
    {"/s/sh/%c0%ae%c0%ae", -EINVAL}, /* overlong "." */
    {"/s/sh/%c0%ae%c0%ae/x", -EINVAL},
    {"/s/sh/%e0%80%ae%e0%80%ae", -EINVAL}, /* 3-byte overlong "." */
    {"/s/sh/a%c0%afb", -EINVAL},	   /* overlong "/" */
    {"/s/sh/a%c1%9cb", -EINVAL},	   /* overlong "\\" */
    {"/s/sh/%c0%80", -EINVAL},		   /* overlong NUL */
    {"/s/sh/\xc0\xae\xc0\xae", -EINVAL},   /* raw overlong dots */
    /* empty segments */
    {"//", -EINVAL},
    {"//s", -EINVAL},
    {"/s//", -EINVAL},
    {"/s//sh", -EINVAL},
    {"/s/sh//", -EINVAL},
    {"/s/sh//x", -EINVAL},
    {"/s/sh/x//", -EINVAL},
    {"/s/sh/x///", -EINVAL},
    /* bad escapes */
    {"/s/sh/%", -EINVAL},
    {"/s/sh/%4", -EINVAL},
    {"/s/sh/%4/x", -EINVAL},
    {"/s/sh/%zz", -EINVAL},
    {"/s/sh/%g0", -EINVAL},
    {"/s/sh/%0g", -EINVAL},
    {"/s/sh/%%41", -EINVAL},
    {"/s/sh/% 41", -EINVAL},
    {"/s/sh/%+41", -EINVAL},
    {"/s/sh/%-1", -EINVAL},
    {"/%/sh", -EINVAL},
    /* query and fragment */
    {"/s/sh/a?b", -EINVAL},
    {"/s/sh/a#b", -EINVAL},
    {"/s/sh/?", -EINVAL},
    {"/?x=1", -EINVAL},
    /* control characters */
    {"/s/sh/a%0Ab", -EINVAL},
    {"/s/sh/a%0db", -EINVAL},
    {"/s/sh/a%09b", -EINVAL},
    {"/s/sh/a%1Fb", -EINVAL},
    {"/s/sh/a%7Fb", -EINVAL},
    {"/s/sh/a\tb", -EINVAL},
    {"/s/sh/a\x01"
     "b",
     -EINVAL},
    {"/s\x7f/sh", -EINVAL},
    /* invalid UTF-8 */
    {"/s/sh/%C3", -EINVAL},		/* truncated */
    {"/s/sh/%C3x", -EINVAL},		/* bad continuation */
    {"/s/sh/%E3%83", -EINVAL},		/* truncated 3-byte */
    {"/s/sh/%F0%9F%98", -EINVAL},	/* truncated 4-byte */
    {"/s/sh/%A9", -EINVAL},		/* lone continuation */
    {"/s/sh/%ED%A0%80", -EINVAL},	/* surrogate U+D800 */
    {"/s/sh/%ED%BF%BF", -EINVAL},	/* surrogate U+DFFF */
    {"/s/sh/%F4%90%80%80", -EINVAL},	/* over U+10FFFF */
    {"/s/sh/%F8%88%80%80%80", -EINVAL}, /* 5-byte form */
    {"/s/sh/%FF", -EINVAL},
    {"/s/sh/%FE", -EINVAL},
    {"/s/\xff/x", -EINVAL}, /* raw invalid byte */
};

static void expect_bad_at(const char *s, int err, int line)
{
	char *raw = exact_copy(s);
	struct gw_path p, saved;
	int r;

	memset(&p, 0xa5, sizeof(p));
	memcpy(&saved, &p, sizeof(p));
	r = gw_path_parse(raw, &p);
	free(raw);
	if (r != err || memcmp(&p, &saved, sizeof(p)) != 0)
		print_error("line %d: \"%.80s\": returned %d (want %d), output %s\n", line, s, r,
			    err, memcmp(&p, &saved, sizeof(p)) ? "CHANGED" : "untouched");
	assert_int_equal(r, err);
	assert_memory_equal(&p, &saved, sizeof(p));
}
#define expect_bad(s, err) expect_bad_at(s, err, __LINE__)

static void test_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(bad_cases); i++)
		expect_bad_at(bad_cases[i].raw, bad_cases[i].err, (int)i);
}

static void test_parse_null(void **state)
{
	struct gw_path p;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(gw_path_parse(NULL, &p), -EINVAL);
	assert_int_equal(gw_path_parse("/", NULL), -EINVAL);
}

/* ---- gw_path_parse: lengths --------------------------------------------------------------- */

static void expect_ok_path(const char *raw, size_t want_path_len)
{
	char *copy = exact_copy(raw);
	struct gw_path p;
	int r = gw_path_parse(copy, &p);

	free(copy);
	assert_int_equal(r, 0);
	assert_non_null(p.path);
	assert_int_equal(strlen(p.path), want_path_len);
	gw_path_clear(&p);
}

/* A raw path made of @n copies of @unit between @pre and @post: parsed to a
 * path inside the share of @path_len bytes (@err 0), or refused with @err. */
struct len_case {
	const char *pre, *unit;
	size_t n;
	const char *post;
	int err;
	size_t path_len;
};

static const struct len_case len_cases[] = {
    /* a segment of PROTO_MAX_NAME bytes, raw or encoded; one more is too long */
    {"/s/sh/", "a", PROTO_MAX_NAME, "", 0, PROTO_MAX_NAME},
    {"/s/sh/", "%41", PROTO_MAX_NAME, "/", 0, PROTO_MAX_NAME},
    {"/s/sh/", "a", PROTO_MAX_NAME + 1, "", -ENAMETOOLONG, 0},
    {"/s/sh/", "%41", PROTO_MAX_NAME + 1, "", -ENAMETOOLONG, 0},
    {"/", "a", PROTO_MAX_NAME + 1, "/sh", -ENAMETOOLONG, 0},
    {"/s/", "a", PROTO_MAX_NAME + 1, "/x", -ENAMETOOLONG, 0},
    /* 3-byte characters: 341 of them (1023 bytes) fit, 342 (1026) do not */
    {"/s/sh/", "%E2%82%AC", 341, "", 0, 1023},
    {"/s/sh/", "%E2%82%AC", 342, "", -ENAMETOOLONG, 0},
    /* the path inside the share: 2048 segments "a" joined by '/' is 4095 bytes,
     * then "/b" gives 4097, "/" + "" nothing more */
    {"/s/sh/a", "/a", 2047, "/", 0, 4095},
    {"/s/sh/a", "/a", 2047, "/b", -ENAMETOOLONG, 0},
    {"/s/sh/ab", "/a", 2047, "", 0, PROTO_MAX_PATH},
    {"/s/sh/ab", "/a", 2047, "/", 0, PROTO_MAX_PATH},
    {"/s/sh/abc", "/a", 2047, "", -ENAMETOOLONG, 0},
    /* the same, encoded */
    {"/s/sh/%41%42", "/%41", 2047, "", 0, PROTO_MAX_PATH},
    {"/s/sh/%41%42%43", "/%41", 2047, "", -ENAMETOOLONG, 0},
    /* the raw cap, before anything else (even a bad escape) */
    {"/", "%", GW_PATH_MAX_RAW, "", -ENAMETOOLONG, 0},
    {"", "a", GW_PATH_MAX_RAW + 1, "", -ENAMETOOLONG, 0},
    {"/", "%", GW_PATH_MAX_RAW - 2, "", -EINVAL, 0},
};

static void test_parse_lengths(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(len_cases); i++) {
		const struct len_case *k = &len_cases[i];
		char *s = repeat(k->pre, k->unit, k->n, k->post);
		if (k->err)
			expect_bad_at(s, k->err, (int)i);
		else
			expect_ok_path(s, k->path_len);
		free(s);
	}
	/* the longest valid path is within the raw cap: all three parts full, encoded */
	{
		char *server = repeat("", "%41", PROTO_MAX_NAME, "");
		char *share = repeat("", "%42", PROTO_MAX_NAME, "");
		/* 1024 + 3 * (1 + 1023) = 4096 bytes in four segments */
		char *seg = repeat("/", "%43", PROTO_MAX_NAME - 1, "");
		char *first = repeat("", "%43", PROTO_MAX_NAME, "");
		char *path = repeat(first, seg, 3, "");
		size_t n = 3 + strlen(server) + strlen(share) + strlen(path) + 2;
		char *raw = malloc(n);
		struct gw_path p;

		assert_non_null(raw);
		snprintf(raw, n, "/%s/%s/%s/", server, share, path);
		assert_true(strlen(raw) <= GW_PATH_MAX_RAW);
		assert_int_equal(gw_path_parse(raw, &p), 0);
		assert_int_equal(strlen(p.server), PROTO_MAX_NAME);
		assert_int_equal(strlen(p.share), PROTO_MAX_NAME);
		assert_int_equal(strlen(p.path), PROTO_MAX_PATH);
		assert_true(p.trailing_slash);
		gw_path_clear(&p);
		free(server);
		free(share);
		free(seg);
		free(first);
		free(path);
		free(raw);
	}
}

/* ---- gw_path_parse_plain ----------------------------------------------------------------------
 */

struct plain_case {
	const char *in;
	const char *out; /* NULL: rejected with err */
	int err;
};

static const struct plain_case plain_cases[] = {
    {"/", "", 0},
    {"/a", "a", 0},
    {"/a/b", "a/b", 0},
    {"/a b/c\xc3\xa9.txt", "a b/c\xc3\xa9.txt", 0},
    {"/100%/a%2Fb", "100%/a%2Fb", 0}, /* no percent-decoding */
    {"/%2e%2e", "%2e%2e", 0},
    {"/a?b#c", "a?b#c", 0},
    {"/...", "...", 0},
    {"", NULL, -EINVAL},
    {"a/b", NULL, -EINVAL},
    {"//", NULL, -EINVAL},
    {"//a", NULL, -EINVAL},
    {"/a//b", NULL, -EINVAL},
    {"/a/", NULL, -EINVAL},
    {"/..", NULL, -EINVAL},
    {"/.", NULL, -EINVAL},
    {"/a/../../b", NULL, -EINVAL},
    {"/a/./b", NULL, -EINVAL},
    {"/a\\b", NULL, -EINVAL},
    {"/..\\x", NULL, -EINVAL},
    {"/a\nb", NULL, -EINVAL},
    {"/a\x7f", NULL, -EINVAL},
    {"/\xc0\xae\xc0\xae", NULL, -EINVAL},
    {"/\xed\xa0\x80", NULL, -EINVAL},
    {"/\xc3", NULL, -EINVAL},
    {"/a/\xff", NULL, -EINVAL},
};

static void expect_plain(const char *in, const char *out, int err, int line)
{
	char *copy = exact_copy(in);
	char sentinel, *ret = &sentinel;
	int r = gw_path_parse_plain(copy, &ret);

	free(copy);
	if (r != err)
		print_error("line %d: \"%.80s\": returned %d (want %d)\n", line, in, r, err);
	assert_int_equal(r, err);
	if (err == 0) {
		assert_string_equal(ret, out);
		free(ret);
	} else {
		assert_ptr_equal(ret, &sentinel);
	}
}

static void test_parse_plain(void **state)
{
	char *s;

	(void)state;
	for (size_t i = 0; i < ARRAY(plain_cases); i++)
		expect_plain(plain_cases[i].in, plain_cases[i].out, plain_cases[i].err, (int)i);

	s = repeat("/", "a", PROTO_MAX_NAME, "");
	expect_plain(s, s + 1, 0, __LINE__);
	free(s);
	s = repeat("/", "a", PROTO_MAX_NAME + 1, "");
	expect_plain(s, NULL, -ENAMETOOLONG, __LINE__);
	free(s);
	s = repeat("/ab", "/a", 2047, "");
	expect_plain(s, s + 1, 0, __LINE__);
	free(s);
	s = repeat("/abc", "/a", 2047, "");
	expect_plain(s, NULL, -ENAMETOOLONG, __LINE__);
	free(s);
	s = repeat("", "a", 100000, "");
	expect_plain(s, NULL, -EINVAL, __LINE__);
	free(s);

	{
		char sentinel, *ret = &sentinel;
		assert_int_equal(gw_path_parse_plain(NULL, &ret), -EINVAL);
		assert_ptr_equal(ret, &sentinel);
		assert_int_equal(gw_path_parse_plain("/a", NULL), -EINVAL);
	}
}

/* ---- encoding ------------------------------------------------------------------------------- */

static const struct {
	const char *in, *out;
} enc_cases[] = {
    {"", ""},
    {"abcXYZ019-._~", "abcXYZ019-._~"},
    {"a b", "a%20b"},
    {"a/b", "a%2Fb"},
    {"100%", "100%25"},
    {"a+b", "a%2Bb"},
    {"?#&=;:@!$'()*,[]", "%3F%23%26%3D%3B%3A%40%21%24%27%28%29%2A%2C%5B%5D"},
    {"\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D"},
    {"c\xc3\xa9", "c%C3%A9"},
    {"\xf0\x9f\x98\x80", "%F0%9F%98%80"},
    {"\x01\x7f\xff", "%01%7F%FF"},
};

static void test_parse_destination(void **state)
{
	static const struct {
		const char *host, *dest;
		int err;
		const char *server, *share, *path;
	} cases[] = {
	    {"gw:8443", "https://gw:8443/dav/srv/sh/a%20b", 0, "srv", "sh", "a b"},
	    {"GW.example", "http://gw.EXAMPLE/dav/srv/sh/d/", 0, "srv", "sh", "d"},
	    {NULL, "/dav/srv/sh/x", 0, "srv", "sh", "x"},
	    {"gw", "/dav/srv/sh/x", 0, "srv", "sh", "x"},
	    {"gw", "/dav/", 0, NULL, NULL, NULL},
	    {"gw", "http://other/dav/srv/sh/x", -EXDEV, NULL, NULL, NULL},
	    {"gw:8443", "http://gw/dav/srv/sh/x", -EXDEV, NULL, NULL, NULL},
	    {"gw", "http://gw:80/dav/srv/sh/x", -EXDEV, NULL, NULL, NULL},
	    {NULL, "http://gw/dav/srv/sh/x", -EXDEV, NULL, NULL, NULL},
	    {"gw", "http://gw", -EINVAL, NULL, NULL, NULL},
	    {"gw", "http://gw/api/v1/fs/srv/sh/x", -EINVAL, NULL, NULL, NULL},
	    {"gw", "/api/v1/fs/srv/sh/x", -EINVAL, NULL, NULL, NULL},
	    {"gw", "/dav", -EINVAL, NULL, NULL, NULL},
	    {"gw", "dav/srv/sh/x", -EINVAL, NULL, NULL, NULL},
	    {"gw", "", -EINVAL, NULL, NULL, NULL},
	    {"gw", "/dav/srv/sh/%2e%2e/x", -EINVAL, NULL, NULL, NULL},
	    {"gw", "http://gw/dav/srv/sh/a%2Fb", -EINVAL, NULL, NULL, NULL},
	    /* "://" after the first '/' is part of a path, not a scheme. */
	    {"gw", "/dav/srv/sh/x://y", -EINVAL, NULL, NULL, NULL},
	};
	struct gw_path p;

	(void)state;
	for (size_t i = 0; i < ARRAY(cases); i++) {
		memset(&p, 0x5a, sizeof(p));
		int err = gw_path_parse_destination(cases[i].dest, cases[i].host, &p);
		if (err != cases[i].err)
			fail_msg("case %zu (%s): %d, expected %d", i, cases[i].dest, err,
				 cases[i].err);
		if (err < 0) {
			for (size_t b = 0; b < sizeof(p); b++)
				assert_int_equal(((unsigned char *)&p)[b], 0x5a);
			continue;
		}
		if (cases[i].server)
			assert_string_equal(p.server, cases[i].server);
		else
			assert_null(p.server);
		if (cases[i].share) {
			assert_string_equal(p.share, cases[i].share);
			assert_string_equal(p.path, cases[i].path);
		}
		gw_path_clear(&p);
	}
	assert_int_equal(gw_path_parse_destination(NULL, "gw", &p), -EINVAL);
}

static void test_encode_segment(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(enc_cases); i++) {
		char *in = exact_copy(enc_cases[i].in);
		char *out = gw_path_encode_segment(in);

		assert_non_null(out);
		assert_string_equal(out, enc_cases[i].out);
		free(out);
		free(in);
	}
	errno = 0;
	assert_null(gw_path_encode_segment(NULL));
	assert_int_equal(errno, EINVAL);
}

static void test_encode_path(void **state)
{
	char *s;

	(void)state;
	s = gw_path_encode("a b/c\xc3\xa9.txt/100%");
	assert_non_null(s);
	assert_string_equal(s, "a%20b/c%C3%A9.txt/100%25");
	free(s);
	s = gw_path_encode("");
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	errno = 0;
	assert_null(gw_path_encode(NULL));
	assert_int_equal(errno, EINVAL);
}

/* Every accepted case re-encodes to a raw path that parses to the same thing. */
static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY(ok_cases); i++) {
		struct gw_path p, q;
		char *server, *share, *path, raw[512];

		assert_int_equal(gw_path_parse(ok_cases[i].raw, &p), 0);
		if (!p.server) {
			gw_path_clear(&p);
			continue;
		}
		server = gw_path_encode_segment(p.server);
		share = p.share ? gw_path_encode_segment(p.share) : NULL;
		path = p.path ? gw_path_encode(p.path) : NULL;
		snprintf(raw, sizeof(raw), "/%s%s%s%s%s%s", server, share ? "/" : "",
			 share ? share : "", path && *path ? "/" : "", path ? path : "",
			 p.trailing_slash ? "/" : "");
		assert_int_equal(gw_path_parse(raw, &q), 0);
		assert_string_equal(q.server, p.server);
		if (p.share) {
			assert_string_equal(q.share, p.share);
			assert_string_equal(q.path, p.path);
		} else {
			assert_null(q.share);
			assert_null(q.path);
		}
		assert_int_equal(q.trailing_slash, p.trailing_slash);
		free(server);
		free(share);
		free(path);
		gw_path_clear(&p);
		gw_path_clear(&q);
	}
}

static void test_clear(void **state)
{
	struct gw_path p = {0};

	(void)state;
	gw_path_clear(NULL);
	gw_path_clear(&p);
	assert_int_equal(gw_path_parse("/s/sh/x/", &p), 0);
	gw_path_clear(&p);
	gw_path_clear(&p);
	assert_null(p.server);
	assert_false(p.trailing_slash);
}

/* ---- gw_query_arg_decode ----------------------------------------------------------------- */

static void test_query_arg(void **state)
{
	static const char *const ok[][2] = {
	    {"", ""},
	    {"a+b", "a b"},
	    {"%41%62", "Ab"},
	    {"%c3%A9t%C3%A9", "\xc3\xa9t\xc3\xa9"},
	    {"%2B+%25", "+ %"},
	    {"*.txt", "*.txt"},
	    {"%2e%2e%2F", "../"},
	};
	static const char *const bad[] = {"%", "%4", "a%", "%zz", "%4g", "%g4", "%00", "x%00y"};

	(void)state;
	for (size_t i = 0; i < ARRAY(ok); i++) {
		char *in = exact_copy(ok[i][0]);
		char *out = gw_query_arg_decode(in);
		assert_non_null(out);
		assert_string_equal(out, ok[i][1]);
		free(out);
		free(in);
	}
	for (size_t i = 0; i < ARRAY(bad); i++) {
		char *in = exact_copy(bad[i]);
		assert_null(gw_query_arg_decode(in));
		free(in);
	}
}

static void test_query_num(void **state)
{
	(void)state;
	assert_int_equal(gw_query_num(NULL, 20, 60), 20);
	assert_int_equal(gw_query_num("1", 20, 60), 1);
	assert_int_equal(gw_query_num("60", 20, 60), 60);
	assert_int_equal(gw_query_num("007", 20, 60), 7);
	static const char *const bad[] = {
	    "", "0", "61", "-1", "5 ", "5x", "0x10", "1.5", "99999999999999999999999"};
	for (size_t i = 0; i < ARRAY(bad); i++)
		assert_int_equal(gw_query_num(bad[i], 20, 60), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),	cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_parse_null),	cmocka_unit_test(test_parse_lengths),
	    cmocka_unit_test(test_parse_plain), cmocka_unit_test(test_encode_segment),
	    cmocka_unit_test(test_encode_path), cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_clear),	cmocka_unit_test(test_parse_destination),
	    cmocka_unit_test(test_query_arg),	cmocka_unit_test(test_query_num),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
