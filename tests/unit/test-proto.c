/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-proto.c - unit tests of sandbox/shared/proto.c.
 *
 * Every message type goes through proto_encode() -> proto_decode(); every
 * rejection path of proto_decode() must answer -EBADMSG and leave the output
 * untouched (it is filled with a sentinel pattern before the call and
 * compared after). Bad datagrams are built by hand with raw_msg(), which
 * writes a header whose len matches unless told otherwise.
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

#include "proto.h"

#define HDR	 sizeof(struct proto_hdr)
#define ARRAY(a) (sizeof(a) / sizeof((a)[0]))

/* Big enough for anything, including a datagram over PROTO_MAX_MSG. */
static uint8_t buf[PROTO_MAX_MSG + 64];
static uint8_t buf2[PROTO_MAX_MSG + 64];

/*
 * The datagram in a heap buffer of exactly its size, so that a read past its
 * end shows under ASan or valgrind. Caller frees.
 */
static void *exact_copy(const void *data, size_t len)
{
	void *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, data, len);
	return p;
}

/* Decodes and asserts -EBADMSG with *ret untouched. */
static void expect_bad_at(const void *data, size_t len, const char *what, int line)
{
	struct proto_msg m, saved;
	void *copy = len <= PROTO_MAX_MSG + 64 ? exact_copy(data, len) : NULL;
	int r;

	memset(&m, 0xa5, sizeof(m));
	memcpy(&saved, &m, sizeof(m));
	r = proto_decode(copy ? copy : data, len, &m);
	free(copy);
	if (r != -EBADMSG || memcmp(&m, &saved, sizeof(m)) != 0)
		print_error("line %d: %s: decode returned %d, output %s\n", line, what, r,
			    memcmp(&m, &saved, sizeof(m)) ? "CHANGED" : "untouched");
	assert_int_equal(r, -EBADMSG);
	assert_memory_equal(&m, &saved, sizeof(m));
}
#define expect_bad(data, len, what) expect_bad_at(data, len, what, __LINE__)

static void decode_ok_at(const void *data, size_t len, struct proto_msg *m, int line)
{
	void *copy = exact_copy(data, len);
	int r = proto_decode(copy, len, m);

	free(copy);
	if (r != 0)
		print_error("line %d: decode returned %d\n", line, r);
	assert_int_equal(r, 0);
	/* again in place: the caller looks at the pointers into @data */
	assert_int_equal(proto_decode(data, len, m), 0);
}
#define decode_ok(data, len, m) decode_ok_at(data, len, m, __LINE__)

/*
 * Writes a datagram into @out: a header (type, @reserved, seq 7, len = the
 * payload size + @len_delta), @body, then @tail (@tail_len bytes, NULs included
 * as the caller wrote them). Returns the datagram size.
 */
static size_t raw_msg_full(uint8_t *out, uint16_t type, uint16_t reserved, int64_t len_delta,
			   const void *body, size_t body_len, const void *tail, size_t tail_len)
{
	struct proto_hdr h = {.type = type, .reserved = reserved, .seq = 7};

	h.len = (uint32_t)((int64_t)(body_len + tail_len) + len_delta);
	memcpy(out, &h, HDR);
	if (body_len)
		memcpy(out + HDR, body, body_len);
	if (tail_len)
		memcpy(out + HDR + body_len, tail, tail_len);
	return HDR + body_len + tail_len;
}

static size_t raw_msg(uint8_t *out, uint16_t type, const void *body, size_t body_len,
		      const void *tail, size_t tail_len)
{
	return raw_msg_full(out, type, 0, 0, body, body_len, tail, tail_len);
}

/* A string literal with its terminating NUL(s) as a tail. */
#define TAIL(s) (s), sizeof(s)

/* ---- round trips ---------------------------------------------------------------------- */

struct sample {
	uint16_t type;
	const void *body;
	size_t body_len;
	const char *str[PROTO_MAX_STRINGS];
	unsigned n_str;
};

static const struct proto_auth s_auth = {
    .min_protocol = 1, .max_protocol = 5, .encryption = 2, .timeout = 30, .flags = 1};
static const struct proto_range s_range = {.offset = 10, .length = UINT64_MAX};
static const struct proto_write_req s_write = {.flags = PROTO_F_OVERWRITE, .size = 1234};
static const struct proto_write_req s_write_unknown = {.flags = 0, .size = UINT64_MAX};
static const struct proto_flags s_over = {.flags = PROTO_F_OVERWRITE};
static const struct proto_flags s_none = {.flags = 0};
static const struct proto_flags s_recursive = {.flags = PROTO_F_RECURSIVE};
static const struct proto_hello s_hello = {.version = PROTO_VERSION};
static const struct proto_statvfs s_statvfs = {.total = 1000000, .avail = 1000000};
static const struct proto_times s_times = {.mtime = 1796086800, .atime = -1};
static const struct proto_error s_error = {.code = PROTO_E_NOT_FOUND};
static const struct proto_error s_error_max = {.code = PROTO_E_MAX};
static const struct proto_stat s_stat = {.ftype = PROTO_FT_DIR,
					 .size = 4096,
					 .mtime = -5,
					 .mtime_ns = 999999999,
					 .ctime = 1796000000,
					 .ctime_ns = 1,
					 .file_id = UINT64_MAX};
static const struct proto_read_ok s_read_ok = {
    .st = {.ftype = PROTO_FT_FILE, .size = 10, .mtime = 1700000000, .mtime_ns = 100, .file_id = 7},
    .length = 10};
static const struct proto_end s_end = {.created = 1, .bytes = 99};
static const struct proto_end s_end0 = {.created = 0, .bytes = 0};
static const struct proto_end s_end_skipped = {.skipped = PROTO_MAX_LIST_ENTRIES, .bytes = 3};
static const struct proto_zip s_zip = {
    .flags = PROTO_ZIP_DEFLATE | PROTO_ZIP_ZIP64, .max_entries = 100, .max_depth = 64};
static const struct proto_zip_ok s_zip_ok = {.entries = 3, .bytes = 1ull << 33};
static const struct proto_walking s_walking = {.entries = 1000, .bytes = 1ull << 40};
static const struct proto_search s_search = {
    .max_results = 1000, .max_depth = 64, .deadline_ms = 20000};
static const struct proto_entry_rec s_found = {
    .ftype = PROTO_FT_FILE, .size = 5, .mtime = 7, .ctime_ns = 5, .file_id = 9};
static const struct proto_flags s_aside_put = {.flags = PROTO_ASIDE_PUT};
static const struct proto_flags s_aside_back = {.flags = PROTO_ASIDE_BACK};
static const struct proto_tus s_tus = {.offset = 5, .length = 10, .flags = PROTO_F_OVERWRITE};

/* Names of upload temporaries (proto_tmp_name_valid()). */
#define TMP  ".~smbgate-new-0123456789abcdef0123456789abcdef.tmp"
#define TMP2 ".~smbgate-new-ffffffffffffffffffffffffffffffff.tmp"

#define B(x) &(x), sizeof(x)
#define NB   NULL, 0

static const struct sample samples[] = {
    {PROTO_AUTH,
     B(s_auth),
     {"files.example.com", "WORKGROUP", "alice", "s3cret pässwörd €", "Données"},
     5},
    {PROTO_AUTH, B(s_auth), {"", "", "", "", ""}, 5},
    {PROTO_SHARES, NB, {NULL}, 0},
    {PROTO_STAT, NB, {"data", "/dir/Ünïcødé ファイル.txt"}, 2},
    {PROTO_STAT, NB, {"", ""}, 2},
    {PROTO_LIST, NB, {"data$", "/a b/100% #1 + 2 & \"q\" 'x'/😀"}, 2},
    {PROTO_READ, B(s_range), {"data", "/f.bin"}, 2},
    {PROTO_WRITE, B(s_write), {"data", "/up.bin", TMP}, 3},
    {PROTO_WRITE, B(s_write_unknown), {"data", "/up.bin", TMP}, 3},
    {PROTO_MKDIR, NB, {"data", "/new dir"}, 2},
    {PROTO_RENAME, B(s_over), {"data", "/a", "/b"}, 3},
    {PROTO_RENAME, B(s_none), {"data", "/a", "/b"}, 3},
    {PROTO_COPY, B(s_over), {"data", "/a", "/ファイル"}, 3},
    {PROTO_UNLINK, NB, {"data", "/a"}, 2},
    {PROTO_RMDIR, B(s_recursive), {"data", "/d"}, 2},
    {PROTO_RMDIR, B(s_none), {"data", "/d"}, 2},
    {PROTO_CHECK, NB, {"Alice-pass-1"}, 1},
    {PROTO_LANE, NB, {NULL}, 0},
    {PROTO_DROP, NB, {"data", "/dir/up.bin", TMP}, 3},
    {PROTO_DROP, NB, {"data", "up.bin", TMP2}, 3},
    {PROTO_MOUNT, NB, {NULL}, 0},
    {PROTO_STATVFS, NB, {"data"}, 1},
    {PROTO_UTIMES, B(s_times), {"data", "/a b.txt"}, 2},
    {PROTO_FOLLOWED, NB, {"data", "/dir/link"}, 2},
    {PROTO_WRITABLE, NB, {"data", "dir/a b.txt"}, 2},
    {PROTO_WRITABLE, NB, {"data", ""}, 2},
    {PROTO_ASIDE, B(s_aside_put), {"data", "dir/old folder", TMP}, 3},
    {PROTO_ASIDE, B(s_aside_back), {"data", "old", TMP2}, 3},
    {PROTO_STATVFS_OK, B(s_statvfs), {NULL}, 0},
    {PROTO_ZIP, B(s_zip), {"data", "dir", "a\nb c\nÜ"}, 3},
    {PROTO_ZIP, B(s_zip), {"data", "", ""}, 3},
    {PROTO_SEARCH, B(s_search), {"data", "dir", "*.TXT"}, 3},
    {PROTO_TUS_CREATE, B(s_over), {"data", "dir/up.bin", TMP}, 3},
    {PROTO_TUS_APPEND, B(s_tus), {"data", "dir/up.bin", TMP}, 3},
    {PROTO_TUS_INFO, NB, {"data", "up.bin", TMP2}, 3},
    {PROTO_ZIP_OK, B(s_zip_ok), {NULL}, 0},
    {PROTO_WALKING, B(s_walking), {NULL}, 0},
    {PROTO_FOUND, B(s_found), {"a/b/Ünï.txt"}, 1},
    {PROTO_HELLO, B(s_hello), {NULL}, 0},
    {PROTO_ERROR, B(s_error), {"no such file"}, 1},
    {PROTO_ERROR, B(s_error_max), {""}, 1},
    {PROTO_STAT_OK, B(s_stat), {NULL}, 0},
    {PROTO_READ_OK, B(s_read_ok), {NULL}, 0},
    {PROTO_END, B(s_end), {NULL}, 0},
    {PROTO_END, B(s_end0), {NULL}, 0},
    {PROTO_END, B(s_end_skipped), {NULL}, 0},
};

static size_t encode_sample(uint8_t *out, const struct sample *s, uint32_t seq)
{
	int r =
	    proto_encode(out, PROTO_MAX_MSG, s->type, seq, s->body, s->body_len, s->str, s->n_str);

	if (r < 0)
		print_error("encode %s: %d\n", proto_type_name(s->type), r);
	assert_true(r >= (int)HDR);
	return (size_t)r;
}

static void test_round_trip(void **state)
{
	bool seen[64] = {false};

	(void)state;
	for (size_t i = 0; i < ARRAY(samples); i++) {
		const struct sample *s = &samples[i];
		uint32_t seq = 0x01020304u * (uint32_t)(i + 1);
		size_t n = encode_sample(buf, s, seq), want = HDR + s->body_len;
		struct proto_msg m;

		for (unsigned k = 0; k < s->n_str; k++)
			want += strlen(s->str[k]) + 1;
		assert_int_equal(n, want);

		memset(&m, 0xa5, sizeof(m));
		decode_ok(buf, n, &m);
		assert_int_equal(m.hdr.type, s->type);
		assert_int_equal(m.hdr.reserved, 0);
		assert_int_equal(m.hdr.seq, seq);
		assert_int_equal(m.hdr.len, n - HDR);
		assert_int_equal(m.body_len, s->body_len);
		if (s->body_len) {
			assert_ptr_equal(m.body, buf + HDR);
			assert_memory_equal(m.body, s->body, s->body_len);
			assert_memory_equal(&m.u, s->body, s->body_len);
		}
		assert_int_equal(m.n_str, s->n_str);
		for (unsigned k = 0; k < s->n_str; k++) {
			assert_string_equal(m.str[k], s->str[k]);
			/* pointers into the caller's buffer */
			assert_true((const uint8_t *)m.str[k] >= buf + HDR &&
				    (const uint8_t *)m.str[k] < buf + n);
		}
		seen[s->type] = true;

		/* decoding the datagram again from another (unaligned) place */
		memcpy(buf2 + 1, buf, n);
		decode_ok(buf2 + 1, n, &m);
		assert_int_equal(m.hdr.seq, seq);

		/* every prefix and every one-byte extension is refused */
		for (size_t l = 0; l < n; l++) {
			memcpy(buf2, buf, n);
			if (l >= HDR) {
				uint32_t hl = (uint32_t)(l - HDR);
				memcpy(buf2 + offsetof(struct proto_hdr, len), &hl, sizeof(hl));
			}
			expect_bad(buf2, l, "prefix");
		}
		for (unsigned v = 0; v < 256; v += 51) {
			uint32_t hl = (uint32_t)(n + 1 - HDR);
			memcpy(buf2, buf, n);
			buf2[n] = (uint8_t)v;
			memcpy(buf2 + offsetof(struct proto_hdr, len), &hl, sizeof(hl));
			expect_bad(buf2, n + 1, "one byte more");
		}
	}
	/* every type but ENTRIES (see test_entries_builder) */
	for (unsigned t = 1; t <= PROTO_FOUND; t++)
		if (t != PROTO_ENTRIES && strcmp(proto_type_name((uint16_t)t), "?") != 0)
			assert_true(seen[t]);
}

/* Strings exactly at their cap pass both ways; one byte more is refused both ways. */
/* Copies @n bytes of @s to buf2 at @l; returns the offset after them. */
static size_t put2(size_t l, const void *s, size_t n)
{
	memcpy(buf2 + l, s, n);
	return l + n;
}

static void test_string_caps(void **state)
{
	static char path[PROTO_MAX_PATH + 2], name[PROTO_MAX_NAME + 2], cred[PROTO_MAX_CRED + 2];
	struct proto_msg m;
	int n;

	(void)state;
	memset(path, 'p', PROTO_MAX_PATH);
	memset(name, 'n', PROTO_MAX_NAME);
	memset(cred, 'c', PROTO_MAX_CRED);

	{
		const char *strs[] = {name, path, path};
		n = proto_encode(buf, sizeof(buf), PROTO_RENAME, 1, &s_over, sizeof(s_over), strs,
				 3);
		assert_int_equal(n, HDR + 4 + PROTO_MAX_NAME + 1 + 2 * (PROTO_MAX_PATH + 1));
		decode_ok(buf, (size_t)n, &m);
		assert_int_equal(strlen(m.str[0]), PROTO_MAX_NAME);
		assert_int_equal(strlen(m.str[1]), PROTO_MAX_PATH);
		assert_int_equal(strlen(m.str[2]), PROTO_MAX_PATH);
	}
	{
		const char *strs[] = {name, cred, cred, cred, name};
		n = proto_encode(buf, sizeof(buf), PROTO_AUTH, 1, &s_auth, sizeof(s_auth), strs, 5);
		assert_true(n > 0);
		decode_ok(buf, (size_t)n, &m);
		assert_int_equal(strlen(m.str[3]), PROTO_MAX_CRED);
		assert_int_equal(strlen(m.str[4]), PROTO_MAX_NAME);
	}
	{
		/* ERROR messages: up to 1024 bytes */
		const char *strs[] = {name};
		n = proto_encode(buf, sizeof(buf), PROTO_ERROR, 1, &s_error, sizeof(s_error), strs,
				 1);
		assert_true(n > 0);
		decode_ok(buf, (size_t)n, &m);
	}

	/* one byte over: encode -EINVAL, and the hand-built datagram -EBADMSG */
	path[PROTO_MAX_PATH] = 'p';
	name[PROTO_MAX_NAME] = 'n';
	cred[PROTO_MAX_CRED] = 'c';
	{
		const char *strs[] = {"s", path};
		assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_STAT, 1, NULL, 0, strs, 2),
				 -EINVAL);
	}
	{
		const char *strs[] = {name, "/"};
		assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_LIST, 1, NULL, 0, strs, 2),
				 -EINVAL);
	}
	{
		const char *strs[] = {"srv", "dom", "user", cred, "share"};
		assert_int_equal(
		    proto_encode(buf, sizeof(buf), PROTO_AUTH, 1, &s_auth, sizeof(s_auth), strs, 5),
		    -EINVAL);
	}
	{
		const char *strs[] = {"srv", "dom", "user", "pw", name};
		assert_int_equal(
		    proto_encode(buf, sizeof(buf), PROTO_AUTH, 1, &s_auth, sizeof(s_auth), strs, 5),
		    -EINVAL);
	}
	{
		const char *strs[] = {name};
		assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_ERROR, 1, &s_error,
					      sizeof(s_error), strs, 1),
				 -EINVAL);
	}

	/* STAT: share 1025 bytes; path 4097 bytes */
	{
		size_t l = put2(0, name, PROTO_MAX_NAME + 2); /* name + NUL */
		l = put2(l, "/", 2);
		n = (int)raw_msg(buf, PROTO_STAT, NULL, 0, buf2, l);
		expect_bad(buf, (size_t)n, "share over cap");

		l = put2(put2(0, "s", 2), path, PROTO_MAX_PATH + 2);
		n = (int)raw_msg(buf, PROTO_STAT, NULL, 0, buf2, l);
		expect_bad(buf, (size_t)n, "path over cap");

		/* AUTH: password 513 bytes */
		l = put2(put2(0, "srv\0dom\0usr", 12), cred, PROTO_MAX_CRED + 2);
		l = put2(l, "s", 2);
		n = (int)raw_msg(buf, PROTO_AUTH, &s_auth, sizeof(s_auth), buf2, l);
		expect_bad(buf, (size_t)n, "password over cap");

		/* AUTH: share 257 bytes */
		l = put2(put2(0, "srv\0dom\0usr\0pw", 15), name, PROTO_MAX_NAME + 2);
		n = (int)raw_msg(buf, PROTO_AUTH, &s_auth, sizeof(s_auth), buf2, l);
		expect_bad(buf, (size_t)n, "share over cap");

		/* ERROR: message 1025 bytes */
		n = (int)raw_msg(buf, PROTO_ERROR, &s_error, sizeof(s_error), name,
				 PROTO_MAX_NAME + 2);
		expect_bad(buf, (size_t)n, "error message over cap");
	}
}

/* The byte layout, pinned: host order on one machine, checked on little-endian hosts. */
static void test_wire_layout(void **state)
{
	static const uint8_t want[] = {
	    0x06, 0x00,		    /* type STAT */
	    0x00, 0x00,		    /* reserved */
	    0x04, 0x03, 0x02, 0x01, /* seq */
	    0x05, 0x00, 0x00, 0x00, /* len */
	    's',  0,	'/',  'x',  0,
	};
	const char *strs[] = {"s", "/x"};
	int n;

	(void)state;
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		skip();
	n = proto_encode(buf, sizeof(buf), PROTO_STAT, 0x01020304, NULL, 0, strs, 2);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(HDR, 12);
	assert_int_equal(sizeof(struct proto_entry_rec), 48);
	assert_int_equal(sizeof(struct proto_stat), 48);
	assert_int_equal(sizeof(struct proto_auth), 24);
	assert_int_equal(sizeof(struct proto_read_ok), 56);
}

/* ---- decode: rejections --------------------------------------------------------------- */

static void test_bad_size(void **state)
{
	size_t n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	expect_bad(buf, 0, "empty");
	n = raw_msg(buf, PROTO_SHARES, NULL, 0, NULL, 0);
	assert_int_equal(n, HDR);
	for (size_t l = 0; l < HDR; l++)
		expect_bad(buf, l, "shorter than the header");
	/* a header alone is fine for SHARES */
	{
		struct proto_msg m;
		decode_ok(buf, HDR, &m);
		assert_int_equal(m.n_str, 0);
	}

	/* over PROTO_MAX_MSG, with a consistent header */
	memset(buf2, 'a', sizeof(buf2));
	n = raw_msg(buf, PROTO_ERROR, &s_error, sizeof(s_error), buf2,
		    PROTO_MAX_MSG + 1 - HDR - sizeof(s_error));
	buf[n - 1] = 0;
	assert_int_equal(n, PROTO_MAX_MSG + 1);
	expect_bad(buf, n, "PROTO_MAX_MSG + 1");
	expect_bad(buf, SIZE_MAX, "SIZE_MAX");

	/*
	 * ENTRIES is the one type that can grow that large: records valid in
	 * every other respect, PROTO_MAX_MSG bytes accepted, one more refused.
	 */
	for (size_t total = PROTO_MAX_MSG; total <= PROTO_MAX_MSG + 1; total++) {
		struct proto_entry_rec rec = {.ftype = PROTO_FT_FILE};
		struct proto_entries e = {.count = 0};
		size_t off = HDR + sizeof(e), l;
		struct proto_hdr h = {.type = PROTO_ENTRIES};
		struct proto_msg m;

		while (off < total) {
			l = total - off - sizeof(rec); /* name + NUL to fill it all */
			if (l > PROTO_MAX_NAME + 1)
				l = total - off - sizeof(rec) > 2 * (PROTO_MAX_NAME + 1)
					? PROTO_MAX_NAME + 1
					: (total - off - sizeof(rec)) / 2;
			memcpy(buf + off, &rec, sizeof(rec));
			off += sizeof(rec);
			memset(buf + off, 'a' + (char)(e.count % 26), l - 1);
			buf[off + l - 1] = 0;
			off += l;
			e.count++;
		}
		assert_int_equal(off, total);
		h.len = (uint32_t)(total - HDR);
		memcpy(buf, &h, HDR);
		memcpy(buf + HDR, &e, sizeof(e));
		if (total == PROTO_MAX_MSG) {
			decode_ok(buf, total, &m);
			assert_int_equal(m.u.entries.count, e.count);
		} else {
			expect_bad(buf, total, "ENTRIES of PROTO_MAX_MSG + 1");
		}
	}
}

static void test_bad_type(void **state)
{
	static const uint16_t bad[] = {0, 13, 15, 21, 23, 32, 0x100, 0x8002, 0xffff};

	(void)state;
	for (size_t i = 0; i < ARRAY(bad); i++) {
		size_t n = raw_msg(buf, bad[i], NULL, 0, NULL, 0);
		expect_bad(buf, n, "unknown type");
		/* a body that would fit some type does not help */
		n = raw_msg(buf, bad[i], &s_hello, sizeof(s_hello), NULL, 0);
		expect_bad(buf, n, "unknown type with body");
		assert_string_equal(proto_type_name(bad[i]), "?");
		assert_false(proto_type_has_fd(bad[i]));
	}
}

static void test_bad_header(void **state)
{
	static const uint16_t reserved[] = {1, 0x100, 0xffff};
	static const int64_t delta[] = {-100, -2, -1, 1, 2, 0x10000, 0xffffffffll};
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY(reserved); i++) {
		n = raw_msg_full(buf, PROTO_STAT, reserved[i], 0, NULL, 0, TAIL("s\0/"));
		expect_bad(buf, n, "reserved header field");
		n = raw_msg_full(buf, PROTO_SHARES, reserved[i], 0, NULL, 0, NULL, 0);
		expect_bad(buf, n, "reserved header field, SHARES");
	}
	for (size_t i = 0; i < ARRAY(delta); i++) {
		n = raw_msg_full(buf, PROTO_STAT, 0, delta[i], NULL, 0, TAIL("s\0/"));
		expect_bad(buf, n, "header len mismatch");
		n = raw_msg_full(buf, PROTO_SHARES, 0, delta[i], NULL, 0, NULL, 0);
		expect_bad(buf, n, "header len mismatch, SHARES");
	}
	/* the same datagrams with a right header are fine */
	{
		struct proto_msg m;
		n = raw_msg(buf, PROTO_STAT, NULL, 0, TAIL("s\0/"));
		decode_ok(buf, n, &m);
		assert_string_equal(m.str[0], "s");
		assert_string_equal(m.str[1], "/");
	}
}

static void test_bad_body(void **state)
{
	static const struct {
		uint16_t type;
		size_t body;
	} types[] = {
	    {PROTO_AUTH, sizeof(struct proto_auth)},
	    {PROTO_READ, sizeof(struct proto_range)},
	    {PROTO_WRITE, sizeof(struct proto_write_req)},
	    {PROTO_RENAME, sizeof(struct proto_flags)},
	    {PROTO_COPY, sizeof(struct proto_flags)},
	    {PROTO_RMDIR, sizeof(struct proto_flags)},
	    {PROTO_HELLO, sizeof(struct proto_hello)},
	    {PROTO_ERROR, sizeof(struct proto_error)},
	    {PROTO_STAT_OK, sizeof(struct proto_stat)},
	    {PROTO_ENTRIES, sizeof(struct proto_entries)},
	    {PROTO_READ_OK, sizeof(struct proto_read_ok)},
	    {PROTO_END, sizeof(struct proto_end)},
	    {PROTO_UTIMES, sizeof(struct proto_times)},
	    {PROTO_STATVFS_OK, sizeof(struct proto_statvfs)},
	};
	uint8_t zeros[64] = {0};

	(void)state;
	for (size_t i = 0; i < ARRAY(types); i++)
		for (size_t l = 0; l < types[i].body; l++) {
			size_t n = raw_msg(buf, types[i].type, zeros, l, NULL, 0);
			expect_bad(buf, n, "body too short");
		}
	/* bodiless types with a stray body: the bytes are taken as strings and fail */
	{
		size_t n = raw_msg(buf, PROTO_SHARES, zeros, 4, NULL, 0);
		expect_bad(buf, n, "SHARES with a body");
	}
}

static void test_bad_strings(void **state)
{
	size_t n;

	(void)state;
	/* not NUL-terminated */
	n = raw_msg(buf, PROTO_STAT, NULL, 0, "share\0path", 10);
	expect_bad(buf, n, "last string not terminated");
	n = raw_msg(buf, PROTO_STAT, NULL, 0, "share", 5);
	expect_bad(buf, n, "first string not terminated");
	n = raw_msg(buf, PROTO_ERROR, &s_error, sizeof(s_error), "oops", 4);
	expect_bad(buf, n, "error message not terminated");

	/* too few strings */
	n = raw_msg(buf, PROTO_STAT, NULL, 0, NULL, 0);
	expect_bad(buf, n, "no strings");
	n = raw_msg(buf, PROTO_STAT, NULL, 0, TAIL("share"));
	expect_bad(buf, n, "one string of two");
	n = raw_msg(buf, PROTO_RENAME, &s_over, sizeof(s_over), TAIL("s\0/a"));
	expect_bad(buf, n, "two strings of three");
	n = raw_msg(buf, PROTO_AUTH, &s_auth, sizeof(s_auth), TAIL("srv\0dom\0user"));
	expect_bad(buf, n, "three strings of five");
	n = raw_msg(buf, PROTO_AUTH, &s_auth, sizeof(s_auth), TAIL("srv\0dom\0user\0pw"));
	expect_bad(buf, n, "four strings of five");
	n = raw_msg(buf, PROTO_ERROR, &s_error, sizeof(s_error), NULL, 0);
	expect_bad(buf, n, "error without message");

	/* extra trailing bytes */
	n = raw_msg(buf, PROTO_STAT, NULL, 0, TAIL("s\0/\0x"));
	expect_bad(buf, n, "trailing string");
	n = raw_msg(buf, PROTO_STAT, NULL, 0, "s\0/\0", 5);
	expect_bad(buf, n, "trailing NUL");
	n = raw_msg(buf, PROTO_STAT, NULL, 0, "s\0/\0x", 5);
	expect_bad(buf, n, "trailing byte");
	n = raw_msg(buf, PROTO_SHARES, NULL, 0, TAIL(""));
	expect_bad(buf, n, "SHARES with a string");
	n = raw_msg(buf, PROTO_HELLO, &s_hello, sizeof(s_hello), "\0", 1);
	expect_bad(buf, n, "HELLO with a string");
	n = raw_msg(buf, PROTO_END, &s_end, sizeof(s_end), "x", 1);
	expect_bad(buf, n, "END with a byte more");
	n = raw_msg(buf, PROTO_ERROR, &s_error, sizeof(s_error), TAIL("a\0b"));
	expect_bad(buf, n, "two error messages");
}

/* Invalid UTF-8 in each string position. */
static void test_bad_utf8_strings(void **state)
{
	static const char *const bad[] = {
	    "\xc0\xaf",		/* overlong '/' */
	    "\xe0\x80\xaf",	/* overlong '/', 3 bytes */
	    "\xf0\x80\x80\xaf", /* overlong '/', 4 bytes */
	    "\xed\xa0\x80",	/* surrogate U+D800 */
	    "\xed\xbf\xbf",	/* surrogate U+DFFF */
	    "\xe3\x81",		/* truncated sequence */
	    "a\xe3\x81z",	/* truncated, then ASCII */
	    "\xff",
	    "\xfe",
	    "\x80",		/* lone continuation byte */
	    "\xf4\x90\x80\x80", /* over U+10FFFF */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY(bad); i++) {
		size_t l = strlen(bad[i]) + 1, n;
		char tail[64];

		/* as the share */
		memcpy(tail, bad[i], l);
		memcpy(tail + l, "/", 2);
		n = raw_msg(buf, PROTO_STAT, NULL, 0, tail, l + 2);
		expect_bad(buf, n, "bad UTF-8 share");
		/* as the path */
		memcpy(tail, "s", 2);
		memcpy(tail + 2, bad[i], l);
		n = raw_msg(buf, PROTO_STAT, NULL, 0, tail, l + 2);
		expect_bad(buf, n, "bad UTF-8 path");
		/* as RENAME's target */
		memcpy(tail, "s\0/a", 5);
		memcpy(tail + 5, bad[i], l);
		n = raw_msg(buf, PROTO_RENAME, &s_over, sizeof(s_over), tail, l + 5);
		expect_bad(buf, n, "bad UTF-8 target");
		/* as a password */
		memcpy(tail, "srv\0dom\0usr", 12);
		memcpy(tail + 12, bad[i], l);
		memcpy(tail + 12 + l, "s", 2);
		n = raw_msg(buf, PROTO_AUTH, &s_auth, sizeof(s_auth), tail, l + 14);
		expect_bad(buf, n, "bad UTF-8 password");
		/* as the share to log in on */
		memcpy(tail, "srv\0dom\0usr\0pw", 15);
		memcpy(tail + 15, bad[i], l);
		n = raw_msg(buf, PROTO_AUTH, &s_auth, sizeof(s_auth), tail, l + 15);
		expect_bad(buf, n, "bad UTF-8 share");
		/* as an error message */
		n = raw_msg(buf, PROTO_ERROR, &s_error, sizeof(s_error), bad[i], l);
		expect_bad(buf, n, "bad UTF-8 error message");

		/* and encode refuses them */
		{
			const char *strs[] = {"s", bad[i]};
			assert_int_equal(
			    proto_encode(buf, sizeof(buf), PROTO_STAT, 1, NULL, 0, strs, 2),
			    -EINVAL);
		}
	}
}

static void test_bad_auth(void **state)
{
	static const struct proto_auth bad[] = {
	    {.min_protocol = 3, .max_protocol = 2, .encryption = 1, .timeout = 30},
	    {.min_protocol = 1, .max_protocol = 6, .encryption = 1, .timeout = 30},
	    {.min_protocol = 6, .max_protocol = 6, .encryption = 1, .timeout = 30},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = 3, .timeout = 30},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = UINT32_MAX, .timeout = 30},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = 1, .timeout = 0},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = 1, .timeout = 3601},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = 1, .timeout = UINT32_MAX},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = 1, .timeout = 30, .flags = 2},
	    {.min_protocol = 1,
	     .max_protocol = 5,
	     .encryption = 1,
	     .timeout = 30,
	     .flags = 0x80000001u},
	    {.min_protocol = 1, .max_protocol = 5, .encryption = 1, .timeout = 30, .reserved = 1},
	};
	static const struct proto_auth good[] = {
	    {.min_protocol = 0, .max_protocol = 0, .encryption = 0, .timeout = 1},
	    {.min_protocol = 5, .max_protocol = 5, .encryption = 2, .timeout = 3600, .flags = 1},
	};
	struct proto_msg m;

	(void)state;
	for (size_t i = 0; i < ARRAY(bad); i++) {
		size_t n = raw_msg(buf, PROTO_AUTH, &bad[i], sizeof(bad[i]), TAIL("s\0d\0u\0p\0h"));
		expect_bad(buf, n, "bad AUTH body");
	}
	for (size_t i = 0; i < ARRAY(good); i++) {
		size_t n =
		    raw_msg(buf, PROTO_AUTH, &good[i], sizeof(good[i]), TAIL("s\0d\0u\0p\0h"));
		decode_ok(buf, n, &m);
		assert_memory_equal(&m.u.auth, &good[i], sizeof(good[i]));
		assert_string_equal(m.str[3], "p");
		assert_string_equal(m.str[4], "h");
	}
}

static void test_bad_error(void **state)
{
	static const uint32_t bad[] = {0, PROTO_E_MAX + 1, 100, UINT32_MAX};
	struct proto_msg m;

	(void)state;
	for (size_t i = 0; i < ARRAY(bad); i++) {
		struct proto_error e = {.code = bad[i]};
		size_t n = raw_msg(buf, PROTO_ERROR, &e, sizeof(e), TAIL("msg"));
		expect_bad(buf, n, "bad error code");
	}
	for (uint32_t c = 1; c <= PROTO_E_MAX; c++) {
		struct proto_error e = {.code = c};
		size_t n = raw_msg(buf, PROTO_ERROR, &e, sizeof(e), TAIL("msg"));
		if (!proto_err_known(c)) {
			expect_bad(buf, n, "an error code of the gap");
			continue;
		}
		decode_ok(buf, n, &m);
		assert_int_equal(m.u.error.code, c);
	}
}

/* WRITE with @write's flags, RENAME and COPY with @move's, RMDIR with
 * @rmdir's: each must be refused (@what says why). */
static void expect_flags_bad(uint32_t write, uint32_t move, uint32_t rmdir, const char *what)
{
	static const struct {
		uint16_t type;
		const char *tail;
		size_t tail_len;
	} moves[] = {
	    {PROTO_RENAME, TAIL("s\0/a\0/b")},
	    {PROTO_COPY, TAIL("s\0/a\0/b")},
	    {PROTO_RMDIR, TAIL("s\0/d")},
	};
	struct proto_write_req w = {.flags = write, .size = 1};
	char label[64];
	size_t n;

	n = raw_msg(buf, PROTO_WRITE, &w, sizeof(w), TAIL("s\0/f\0" TMP));
	snprintf(label, sizeof(label), "WRITE: %s", what);
	expect_bad(buf, n, label);
	for (size_t i = 0; i < ARRAY(moves); i++) {
		struct proto_flags f = {.flags = moves[i].type == PROTO_RMDIR ? rmdir : move};

		n = raw_msg(buf, moves[i].type, &f, sizeof(f), moves[i].tail, moves[i].tail_len);
		snprintf(label, sizeof(label), "%s: %s", proto_type_name(moves[i].type), what);
		expect_bad(buf, n, label);
	}
}

static void test_bad_flags(void **state)
{
	static const uint32_t unknown[] = {0x4, 0x8, 0x100, 0x80000000u, 0xffffffffu};
	struct proto_msg m;
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY(unknown); i++)
		expect_flags_bad(unknown[i], unknown[i], unknown[i], "unknown flags");
	/* flags that exist, on a type they do not belong to */
	expect_flags_bad(PROTO_F_RECURSIVE, PROTO_F_RECURSIVE, PROTO_F_OVERWRITE,
			 "a flag of another type");

	/* WRITE's reserved field */
	{
		struct proto_write_req w = {.flags = 0, .reserved = 1, .size = 1};
		n = raw_msg(buf, PROTO_WRITE, &w, sizeof(w), TAIL("s\0/f\0" TMP));
		expect_bad(buf, n, "WRITE reserved");
	}

	/* the good ones */
	{
		struct proto_flags f = {.flags = PROTO_F_RECURSIVE};
		n = raw_msg(buf, PROTO_RMDIR, &f, sizeof(f), TAIL("s\0/d"));
		decode_ok(buf, n, &m);
		assert_int_equal(m.u.flags.flags, PROTO_F_RECURSIVE);
		struct proto_write_req w = {.flags = PROTO_F_OVERWRITE, .size = 1};
		n = raw_msg(buf, PROTO_WRITE, &w, sizeof(w), TAIL("s\0/f\0" TMP));
		decode_ok(buf, n, &m);
		assert_int_equal(m.u.write.flags, PROTO_F_OVERWRITE);
		assert_string_equal(m.str[2], TMP);
	}
}

/* ASIDE: each op, the path and a temporary the gateway names. */
static void test_aside_ops(void **state)
{
	struct proto_msg m;

	(void)state;
	for (uint32_t op = PROTO_ASIDE_PUT; op <= PROTO_ASIDE_BACK; op++) {
		struct proto_flags f = {.flags = op};
		const char *strs[] = {"s", "d/old", TMP};
		int r = proto_encode(buf, sizeof(buf), PROTO_ASIDE, 7, &f, sizeof(f), strs, 3);
		assert_true(r > 0);
		decode_ok(buf, (size_t)r, &m);
		assert_int_equal(m.hdr.type, PROTO_ASIDE);
		assert_int_equal(m.u.flags.flags, op);
		assert_string_equal(m.str[1], "d/old");
		assert_string_equal(m.str[2], TMP);
	}
}

/* ASIDE: exactly one op, a temporary the gateway names, three strings. */
static void test_aside_bad(void **state)
{
	static const uint32_t bad_ops[] = {0, 4, 0x11, 0x80000000u, 0xffffffffu};
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY(bad_ops); i++) {
		struct proto_flags f = {.flags = bad_ops[i]};
		n = raw_msg(buf, PROTO_ASIDE, &f, sizeof(f), TAIL("s\0d/old\0" TMP));
		expect_bad(buf, n, "ASIDE with a bad op");
	}
	struct proto_flags put = {.flags = PROTO_ASIDE_PUT};
	const char *not_tmp[] = {"s", "d/old", "old.tmp"};
	assert_int_equal(
	    proto_encode(buf, sizeof(buf), PROTO_ASIDE, 1, &put, sizeof(put), not_tmp, 3), -EINVAL);
	n = raw_msg(buf, PROTO_ASIDE, &put, sizeof(put), TAIL("s\0d/old\0.~smbgate-old.tmp"));
	expect_bad(buf, n, "ASIDE with a temporary the gateway does not make");
	n = raw_msg(buf, PROTO_ASIDE, &put, sizeof(put), TAIL("s\0d/old"));
	expect_bad(buf, n, "ASIDE without a temporary");
	n = raw_msg(buf, PROTO_ASIDE, NULL, 0, TAIL("s\0d/old\0" TMP));
	expect_bad(buf, n, "ASIDE without its op");
}

static void test_bad_answers(void **state)
{
	size_t n;

	(void)state;
	/* STATVFS_OK: never more free than in all */
	{
		static const struct proto_statvfs bad = {.total = 10, .avail = 11};
		n = raw_msg(buf, PROTO_STATVFS_OK, &bad, sizeof(bad), NULL, 0);
		expect_bad(buf, n, "statvfs avail > total");
	}
	/* END: created is 0 or 1 (SEARCH: its flags, 0..3), skipped at most
	 * PROTO_MAX_LIST_ENTRIES */
	{
		static const struct proto_end bad[] = {
		    {.created = 4},
		    {.created = UINT32_MAX},
		    {.created = 1, .skipped = PROTO_MAX_LIST_ENTRIES + 1},
		    {.skipped = UINT32_MAX}};
		for (size_t i = 0; i < ARRAY(bad); i++) {
			n = raw_msg(buf, PROTO_END, &bad[i], sizeof(bad[i]), NULL, 0);
			expect_bad(buf, n, "bad END");
		}
	}
	/* WALKING: reserved 0, entries at most PROTO_MAX_LIST_ENTRIES */
	{
		static const struct proto_walking bad[] = {{.entries = 1, .reserved = 1},
							   {.entries = PROTO_MAX_LIST_ENTRIES + 1}};
		for (size_t i = 0; i < ARRAY(bad); i++) {
			n = raw_msg(buf, PROTO_WALKING, &bad[i], sizeof(bad[i]), NULL, 0);
			expect_bad(buf, n, "bad WALKING");
		}
	}
	/* STAT_OK: a known ftype, reserved 0, nanoseconds under a second */
	{
		static const struct proto_stat bad[] = {
		    {.ftype = 0},
		    {.ftype = 4},
		    {.ftype = UINT32_MAX},
		    {.ftype = 1, .reserved = 1},
		    {.ftype = 1, .mtime_ns = 1000000000},
		    {.ftype = 1, .ctime_ns = 1000000000},
		    {.ftype = 1, .ctime_ns = UINT32_MAX},
		};
		for (size_t i = 0; i < ARRAY(bad); i++) {
			n = raw_msg(buf, PROTO_STAT_OK, &bad[i], sizeof(bad[i]), NULL, 0);
			expect_bad(buf, n, "bad STAT_OK");
		}
	}
	/* READ_OK: a file */
	{
		static const struct proto_read_ok bad[] = {
		    {.st = {.ftype = PROTO_FT_DIR}},
		    {.st = {.ftype = PROTO_FT_SHARE}},
		    {.st = {.ftype = 0}},
		    {.st = {.ftype = PROTO_FT_FILE, .reserved = 1}},
		    {.st = {.ftype = PROTO_FT_FILE, .mtime_ns = 1000000000}},
		    {.st = {.ftype = PROTO_FT_FILE, .ctime_ns = 1000000000}},
		};
		for (size_t i = 0; i < ARRAY(bad); i++) {
			n = raw_msg(buf, PROTO_READ_OK, &bad[i], sizeof(bad[i]), NULL, 0);
			expect_bad(buf, n, "bad READ_OK");
		}
	}
}

/* ---- ENTRIES -------------------------------------------------------------------------- */

/* Appends a record to @out at *@off: @name is @name_len bytes written as given. */
static void put_rec(uint8_t *out, size_t *off, uint32_t ftype, uint32_t reserved, const char *name,
		    size_t name_len)
{
	struct proto_entry_rec r = {.ftype = ftype, .reserved = reserved, .size = 1, .mtime = 2};

	memcpy(out + *off, &r, sizeof(r));
	*off += sizeof(r);
	memcpy(out + *off, name, name_len);
	*off += name_len;
}

/* Names proto_name_valid() refuses, so that no request nor listing carries
 * them: test_name_valid() and test_bad_entries(). */
static const char *const bad_names[] = {
    "",
    ".",
    "..",
    "/",
    "a/b",
    "dir/",
    "/abs",
    "\\",
    "a\\b",
    "\xff",
    "\xc0\xae",	    /* overlong '.' */
    "\xc0\xaf",	    /* overlong '/' */
    "\xe0\x80\xaf", /* overlong '/' */
    "\xed\xa0\x80", /* surrogate */
    "abc\xe3\x81",  /* truncated */
    "\x80",
    "new\nline", /* control characters (proto.h) */
    "cr\r",
    "tab\t",
    "tab\tname",
    "\x01",
    "\x1f",
    "\x1b[31mred",
    "del\x7f",
};

/* An ENTRIES datagram with @count in the body and @recs_len bytes of records. */
static size_t entries_msg(uint8_t *out, uint32_t count, const uint8_t *recs, size_t recs_len)
{
	struct proto_entries e = {.count = count};
	return raw_msg(out, PROTO_ENTRIES, &e, sizeof(e), recs, recs_len);
}

static void test_bad_entries(void **state)
{
	static uint8_t recs[PROTO_MAX_MSG];
	struct proto_msg m;
	size_t off, n;

	(void)state;
	/* a valid reference: two records */
	off = 0;
	put_rec(recs, &off, PROTO_FT_FILE, 0, TAIL("a.txt"));
	put_rec(recs, &off, PROTO_FT_DIR, 0, TAIL("sub dir"));
	n = entries_msg(buf, 2, recs, off);
	decode_ok(buf, n, &m);
	assert_int_equal(m.u.entries.count, 2);
	assert_int_equal(m.rec_len, off);
	assert_int_equal(m.n_str, 0);

	/* count mismatch */
	static const uint32_t counts[] = {0, 1, 3, UINT32_MAX};
	for (size_t i = 0; i < ARRAY(counts); i++) {
		n = entries_msg(buf, counts[i], recs, off);
		expect_bad(buf, n, "ENTRIES count mismatch");
	}
	n = entries_msg(buf, 1, NULL, 0);
	expect_bad(buf, n, "ENTRIES count 1, no record");

	/* every truncation of the records */
	for (size_t l = 1; l < off; l++) {
		n = entries_msg(buf, 2, recs, l);
		expect_bad(buf, n, "ENTRIES truncated record");
		n = entries_msg(buf, 1, recs, l);
		if (l != sizeof(struct proto_entry_rec) + sizeof("a.txt"))
			expect_bad(buf, n, "ENTRIES truncated record, count 1");
	}

	/* bad names, first and second record */
	for (size_t i = 0; i < ARRAY(bad_names); i++) {
		size_t l = strlen(bad_names[i]) + 1;

		off = 0;
		put_rec(recs, &off, PROTO_FT_FILE, 0, bad_names[i], l);
		n = entries_msg(buf, 1, recs, off);
		expect_bad(buf, n, "ENTRIES bad name");

		off = 0;
		put_rec(recs, &off, PROTO_FT_FILE, 0, TAIL("ok"));
		put_rec(recs, &off, PROTO_FT_DIR, 0, bad_names[i], l);
		n = entries_msg(buf, 2, recs, off);
		expect_bad(buf, n, "ENTRIES bad second name");
	}

	/* name not terminated */
	off = 0;
	put_rec(recs, &off, PROTO_FT_FILE, 0, "abc", 3);
	n = entries_msg(buf, 1, recs, off);
	expect_bad(buf, n, "ENTRIES name not terminated");

	/* name over PROTO_MAX_NAME; exactly PROTO_MAX_NAME is fine */
	{
		static char longname[PROTO_MAX_NAME + 2];
		memset(longname, 'x', PROTO_MAX_NAME + 1);
		off = 0;
		put_rec(recs, &off, PROTO_FT_FILE, 0, longname, PROTO_MAX_NAME + 2);
		n = entries_msg(buf, 1, recs, off);
		expect_bad(buf, n, "ENTRIES name over cap");
		longname[PROTO_MAX_NAME] = 0;
		off = 0;
		put_rec(recs, &off, PROTO_FT_FILE, 0, longname, PROTO_MAX_NAME + 1);
		n = entries_msg(buf, 1, recs, off);
		decode_ok(buf, n, &m);
	}

	/* bad ftype, reserved field */
	static const uint32_t ftypes[] = {0, 4, 0x100, UINT32_MAX};
	for (size_t i = 0; i < ARRAY(ftypes); i++) {
		off = 0;
		put_rec(recs, &off, ftypes[i], 0, TAIL("f"));
		n = entries_msg(buf, 1, recs, off);
		expect_bad(buf, n, "ENTRIES bad ftype");
	}
	off = 0;
	put_rec(recs, &off, PROTO_FT_FILE, 1, TAIL("f"));
	n = entries_msg(buf, 1, recs, off);
	expect_bad(buf, n, "ENTRIES reserved");

	/* trailing bytes after the last record: an incomplete record */
	off = 0;
	put_rec(recs, &off, PROTO_FT_FILE, 0, TAIL("f"));
	recs[off++] = 0;
	n = entries_msg(buf, 1, recs, off);
	expect_bad(buf, n, "ENTRIES trailing byte");

	/* header reserved / len on ENTRIES */
	{
		struct proto_entries e = {.count = 0};
		n = raw_msg_full(buf, PROTO_ENTRIES, 1, 0, &e, sizeof(e), NULL, 0);
		expect_bad(buf, n, "ENTRIES header reserved");
		n = raw_msg_full(buf, PROTO_ENTRIES, 0, 1, &e, sizeof(e), NULL, 0);
		expect_bad(buf, n, "ENTRIES header len");
	}
}

static const char *const awkward[] = {
    "file.txt",
    "with space",
    " leading space",
    "trailing space ",
    "Ünïcødé ファイル.txt",
    "100% done",
    "#hash",
    "a+b=c",
    "Tom & Jerry",
    "it's",
    "\"quoted\"",
    "emoji 😀.png",
    "🎉",
    "...",
    ".hidden",
    "..x",
    "x..",
    "share$",
    "?*<>|:",
    "\xef\xbf\xbf",	/* U+FFFF */
    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
};

/* A share's record carries its comment (maybe empty); other records none. */
static void test_share_comments(void **state)
{
	static uint8_t msg[PROTO_MAX_MSG];
	struct proto_entries_builder b;
	struct proto_entry_rec rec;
	struct proto_msg m;
	const char *name, *comment;
	size_t n, pos = 0;
	char long_comment[PROTO_MAX_COMMENT + 2];

	(void)state;
	proto_entries_init(&b, msg, sizeof(msg), 9);
	assert_int_equal(proto_entries_add_comment(&b, PROTO_FT_SHARE, 0, 0, "public",
						   "Shared by alice & bob: caf\xc3\xa9"),
			 0);
	assert_int_equal(proto_entries_add_comment(&b, PROTO_FT_SHARE, 0, 0, "data", NULL), 0);
	assert_int_equal(proto_entries_add_comment(&b, PROTO_FT_FILE, 7, 1, "f.txt", "ignored"), 0);
	/* refused comments: control characters, invalid UTF-8, too long */
	assert_int_equal(proto_entries_add_comment(&b, PROTO_FT_SHARE, 0, 0, "x", "a\nb"), -EINVAL);
	assert_int_equal(proto_entries_add_comment(&b, PROTO_FT_SHARE, 0, 0, "x", "\xff"), -EINVAL);
	memset(long_comment, 'c', sizeof(long_comment) - 1);
	long_comment[sizeof(long_comment) - 1] = '\0';
	assert_int_equal(proto_entries_add_comment(&b, PROTO_FT_SHARE, 0, 0, "x", long_comment),
			 -EINVAL);
	long_comment[PROTO_MAX_COMMENT] = '\0';
	assert_true(proto_comment_valid(long_comment));
	n = proto_entries_finish(&b);
	assert_int_equal(proto_decode(msg, n, &m), 0);
	assert_int_equal(m.u.entries.count, 3);
	assert_int_equal(proto_entries_next_comment(&m, &pos, &rec, &name, &comment), 1);
	assert_string_equal(name, "public");
	assert_string_equal(comment, "Shared by alice & bob: caf\xc3\xa9");
	assert_int_equal(proto_entries_next_comment(&m, &pos, &rec, &name, &comment), 1);
	assert_string_equal(name, "data");
	assert_string_equal(comment, "");
	assert_int_equal(proto_entries_next_comment(&m, &pos, &rec, &name, &comment), 1);
	assert_string_equal(name, "f.txt");
	assert_string_equal(comment, "");
	assert_int_equal(proto_entries_next_comment(&m, &pos, &rec, &name, &comment), 0);
	/* a share's record whose comment is not terminated: refused */
	{
		static uint8_t one[256];
		struct proto_entries_builder b1;
		struct proto_hdr h;
		proto_entries_init(&b1, one, sizeof(one), 3);
		assert_int_equal(proto_entries_add_comment(&b1, PROTO_FT_SHARE, 0, 0, "s", "cc"),
				 0);
		size_t n1 = proto_entries_finish(&b1);
		assert_int_equal(proto_decode(one, n1, &m), 0);
		assert_int_equal(one[n1 - 1], 0);
		memcpy(&h, one, sizeof(h));
		h.len--; /* drop the comment's NUL, keep the header consistent */
		memcpy(one, &h, sizeof(h));
		assert_int_equal(proto_decode(one, n1 - 1, &m), -EBADMSG);
		/* and without any comment at all (as a file's record would be) */
		h.len -= 2;
		memcpy(one, &h, sizeof(h));
		assert_int_equal(proto_decode(one, n1 - 3, &m), -EBADMSG);
	}
	/* a share's comment with a control character: refused */
	uint8_t *c = memchr(msg + 16 + 24 + 7, 'S', n);
	assert_non_null(c);
	*c = '\t';
	assert_int_equal(proto_decode(msg, n, &m), -EBADMSG);
}

static void test_entries_builder(void **state)
{
	static uint8_t msg[PROTO_MAX_MSG];
	static char names[4000][32];
	struct proto_entries_builder b;
	struct proto_entry_rec rec;
	struct proto_msg m;
	const char *name;
	size_t n, pos, used;
	unsigned count = 0, k;
	int r;

	(void)state;
	proto_entries_init(&b, msg, sizeof(msg), 77);

	/* refused names and types change nothing */
	static const char *const refused[] = {
	    "",	    ".",	"..",		"a/b",	    "/",   "a\\b",
	    "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe3\x81", "x\ny"};
	for (size_t i = 0; i < ARRAY(refused); i++) {
		assert_int_equal(proto_entries_add(&b, PROTO_FT_FILE, 1, 2, refused[i]), -EINVAL);
		assert_int_equal(b.count, 0);
	}
	assert_int_equal(proto_entries_add(&b, 0, 1, 2, "ok"), -EINVAL);
	assert_int_equal(proto_entries_add(&b, 4, 1, 2, "ok"), -EINVAL);
	{
		static char longname[PROTO_MAX_NAME + 2];
		memset(longname, 'x', PROTO_MAX_NAME + 1);
		assert_int_equal(proto_entries_add(&b, PROTO_FT_FILE, 1, 2, longname), -EINVAL);
	}
	assert_int_equal(b.count, 0);

	/* the awkward names first, then numbered ones until full */
	for (k = 0; k < ARRAY(awkward); k++) {
		assert_int_equal(proto_entries_add(&b, PROTO_FT_FILE, k, -(int64_t)k, awkward[k]),
				 0);
		snprintf(names[count++], sizeof(names[0]), "%s", awkward[k]);
	}
	for (;; k++) {
		char nm[32];
		uint32_t ft = PROTO_FT_FILE + k % 3;

		assert_true(count < ARRAY(names));
		snprintf(nm, sizeof(nm), "file-%05u-%s.dat", k, k % 2 ? "ファ" : "x");
		used = b.used;
		r = proto_entries_add(&b, ft, (uint64_t)k * 1000003u, (int64_t)k - 1000, nm);
		if (r == -EMSGSIZE) {
			/* full: nothing written, the record would not have fit */
			assert_int_equal(b.used, used);
			assert_int_equal(b.count, count);
			assert_true(used + sizeof(rec) + strlen(nm) + 1 > PROTO_MAX_MSG);
			/* and a full builder still refuses a bad name with -EINVAL */
			assert_int_equal(proto_entries_add(&b, PROTO_FT_FILE, 0, 0, ".."), -EINVAL);
			break;
		}
		assert_int_equal(r, 0);
		snprintf(names[count++], sizeof(names[0]), "%s", nm);
	}
	assert_int_equal(b.count, count);
	n = proto_entries_finish(&b);
	assert_int_equal(n, b.used);
	assert_true(n <= PROTO_MAX_MSG);
	assert_true(count > 800);

	memset(&m, 0xa5, sizeof(m));
	decode_ok(msg, n, &m);
	assert_int_equal(m.hdr.type, PROTO_ENTRIES);
	assert_int_equal(m.hdr.seq, 77);
	assert_int_equal(m.hdr.len, n - HDR);
	assert_int_equal(m.u.entries.count, count);
	assert_int_equal(m.n_str, 0);
	pos = 0;
	for (k = 0; proto_entries_next(&m, &pos, &rec, &name); k++) {
		assert_true(k < count);
		assert_string_equal(name, names[k]);
		assert_int_equal(rec.reserved, 0);
		if (k < ARRAY(awkward)) {
			assert_int_equal(rec.ftype, PROTO_FT_FILE);
			assert_int_equal(rec.size, k);
			assert_int_equal(rec.mtime, -(int64_t)k);
		} else {
			assert_int_equal(rec.ftype, PROTO_FT_FILE + k % 3);
			assert_int_equal(rec.size, (uint64_t)k * 1000003u);
			assert_int_equal(rec.mtime, (int64_t)k - 1000);
		}
	}
	assert_int_equal(k, count);
	assert_int_equal(pos, m.rec_len);
	/* at the end it stays at the end */
	assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 0);

	/* the builder fills to exactly PROTO_MAX_MSG with a name of the right length */
	proto_entries_init(&b, msg, sizeof(msg), 1);
	{
		char nm[PROTO_MAX_NAME + 1];
		size_t room;

		while ((room = PROTO_MAX_MSG - b.used) > sizeof(rec) + 1 + PROTO_MAX_NAME) {
			memset(nm, 'a' + (char)(b.count % 26), PROTO_MAX_NAME);
			nm[PROTO_MAX_NAME] = 0;
			assert_int_equal(proto_entries_add(&b, PROTO_FT_DIR, 0, 0, nm), 0);
		}
		assert_true(room > sizeof(rec) + 1);
		memset(nm, 'z', room - sizeof(rec) - 1);
		nm[room - sizeof(rec) - 1] = 0;
		assert_int_equal(proto_entries_add(&b, PROTO_FT_FILE, 0, 0, nm), 0);
		assert_int_equal(b.used, PROTO_MAX_MSG);
		assert_int_equal(proto_entries_add(&b, PROTO_FT_FILE, 0, 0, "x"), -EMSGSIZE);
	}
	n = proto_entries_finish(&b);
	assert_int_equal(n, PROTO_MAX_MSG);
	decode_ok(msg, n, &m);
	assert_int_equal(m.u.entries.count, b.count);
}

/* Entries carry a stat's every field (the ETag of a listing is the one of a
 * stat); out-of-range nanoseconds are refused by the builder as by decode. */
static void test_entries_rec(void **state)
{
	static uint8_t msg[PROTO_MAX_MSG];
	const struct proto_entry_rec in = {.ftype = PROTO_FT_FILE,
					   .size = 3,
					   .mtime = 1796000000,
					   .mtime_ns = 123456789,
					   .ctime = 1796000001,
					   .ctime_ns = 999999999,
					   .reserved = 77, /* ignored */
					   .file_id = 0x0123456789abcdefull};
	struct proto_entry_rec bad = in, rec;
	struct proto_entries_builder b;
	struct proto_msg m;
	const char *name;
	size_t n, pos = 0;

	(void)state;
	proto_entries_init(&b, msg, sizeof(msg), 9);
	assert_int_equal(proto_entries_add_rec(&b, &in, "f.txt", NULL), 0);
	bad.mtime_ns = 1000000000;
	assert_int_equal(proto_entries_add_rec(&b, &bad, "g.txt", NULL), -EINVAL);
	bad = in;
	bad.ctime_ns = 1000000000;
	assert_int_equal(proto_entries_add_rec(&b, &bad, "g.txt", NULL), -EINVAL);
	n = proto_entries_finish(&b);
	decode_ok(msg, n, &m);
	assert_int_equal(m.u.entries.count, 1);
	assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 1);
	assert_string_equal(name, "f.txt");
	struct proto_stat st = proto_entry_stat(&rec);
	assert_int_equal(st.ftype, PROTO_FT_FILE);
	assert_int_equal(st.size, 3);
	assert_int_equal(st.mtime, 1796000000);
	assert_int_equal(st.mtime_ns, 123456789);
	assert_int_equal(st.ctime, 1796000001);
	assert_int_equal(st.ctime_ns, 999999999);
	assert_int_equal(st.reserved, 0);
	assert_true(st.file_id == 0x0123456789abcdefull);
	/* a record with nanoseconds out of range, written by hand: refused */
	memcpy(&bad, msg + HDR + sizeof(struct proto_entries), sizeof(bad));
	bad.mtime_ns = 1000000000;
	memcpy(msg + HDR + sizeof(struct proto_entries), &bad, sizeof(bad));
	expect_bad(msg, n, "ENTRIES with mtime_ns out of range");
}

static void test_entries_small(void **state)
{
	static uint8_t msg[PROTO_MAX_MSG];
	struct proto_entries_builder b;
	struct proto_entry_rec rec;
	struct proto_msg m;
	const char *name;
	size_t n, pos = 0;

	(void)state;
	/* empty listing */
	proto_entries_init(&b, msg, sizeof(msg), 5);
	n = proto_entries_finish(&b);
	assert_int_equal(n, HDR + sizeof(struct proto_entries));
	decode_ok(msg, n, &m);
	assert_int_equal(m.u.entries.count, 0);
	assert_int_equal(m.rec_len, 0);
	assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 0);

	/* a small buffer fills early */
	proto_entries_init(&b, msg, 160, 6);
	assert_int_equal(proto_entries_add(&b, PROTO_FT_SHARE, 0, 0, "share one"), 0);
	assert_int_equal(proto_entries_add(&b, PROTO_FT_SHARE, 0, 0, "share two"), 0);
	assert_int_equal(proto_entries_add(&b, PROTO_FT_SHARE, 0, 0, "share three"), -EMSGSIZE);
	n = proto_entries_finish(&b);
	assert_true(n <= 160);
	decode_ok(msg, n, &m);
	assert_int_equal(m.u.entries.count, 2);
	pos = 0;
	assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 1);
	assert_string_equal(name, "share one");
	assert_int_equal(rec.ftype, PROTO_FT_SHARE);
	assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 1);
	assert_string_equal(name, "share two");
	assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 0);

	/* proto_entries_next on another type: nothing */
	{
		const char *strs[] = {"s", "/"};
		int r = proto_encode(buf, sizeof(buf), PROTO_LIST, 1, NULL, 0, strs, 2);
		assert_true(r > 0);
		decode_ok(buf, (size_t)r, &m);
		pos = 0;
		assert_int_equal(proto_entries_next(&m, &pos, &rec, &name), 0);
	}
}

/* ---- encode: rejections --------------------------------------------------------------- */

static void test_encode_errors(void **state)
{
	const char *two[] = {"s", "/p"};
	const char *three[] = {"s", "/a", "/b"};
	const char *one[] = {"s"};
	uint8_t big[sizeof(struct proto_auth) + 8] = {0};
	int n;

	(void)state;
	/* wrong body size */
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_HELLO, 1, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_HELLO, 1, big, 8, NULL, 0), -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_AUTH, 1, big,
				      sizeof(struct proto_auth) - 1, two, 0),
			 -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_STAT, 1, big, 4, two, 2), -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_SHARES, 1, big, 1, NULL, 0), -EINVAL);
	/* wrong string count */
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_STAT, 1, NULL, 0, one, 1), -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_STAT, 1, NULL, 0, three, 3), -EINVAL);
	assert_int_equal(
	    proto_encode(buf, sizeof(buf), PROTO_RENAME, 1, &s_over, sizeof(s_over), two, 2),
	    -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_SHARES, 1, NULL, 0, one, 1), -EINVAL);
	assert_int_equal(
	    proto_encode(buf, sizeof(buf), PROTO_ERROR, 1, &s_error, sizeof(s_error), NULL, 0),
	    -EINVAL);
	/* ENTRIES goes through the builder */
	{
		struct proto_entries e = {.count = 0};
		assert_int_equal(
		    proto_encode(buf, sizeof(buf), PROTO_ENTRIES, 1, &e, sizeof(e), NULL, 0),
		    -EINVAL);
	}
	/* unknown types */
	assert_int_equal(proto_encode(buf, sizeof(buf), 0, 1, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), 13, 1, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(proto_encode(buf, sizeof(buf), 0xffff, 1, NULL, 0, NULL, 0), -EINVAL);

	/* -EMSGSIZE: the buffer is one byte short, untouched; exactly right works.
	 * (No message the protocol allows can exceed PROTO_MAX_MSG: the largest,
	 * RENAME/COPY at their caps, is under 10 KiB.) */
	n = proto_encode(buf, sizeof(buf), PROTO_RENAME, 1, &s_over, sizeof(s_over), three, 3);
	assert_true(n > 0);
	memset(buf2, 0x5a, sizeof(buf2));
	assert_int_equal(
	    proto_encode(buf2, (size_t)n - 1, PROTO_RENAME, 1, &s_over, sizeof(s_over), three, 3),
	    -EMSGSIZE);
	for (size_t i = 0; i < sizeof(buf2); i++)
		assert_int_equal(buf2[i], 0x5a);
	assert_int_equal(proto_encode(buf2, 0, PROTO_SHARES, 1, NULL, 0, NULL, 0), -EMSGSIZE);
	assert_int_equal(proto_encode(buf2, HDR - 1, PROTO_SHARES, 1, NULL, 0, NULL, 0), -EMSGSIZE);
	assert_int_equal(
	    proto_encode(buf2, (size_t)n, PROTO_RENAME, 1, &s_over, sizeof(s_over), three, 3), n);
	assert_memory_equal(buf2, buf, (size_t)n);
	assert_int_equal(buf2[n], 0x5a);
	assert_int_equal(proto_encode(buf2, HDR, PROTO_SHARES, 1, NULL, 0, NULL, 0), HDR);
}

/* ---- validation tables ---------------------------------------------------------------- */

static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		bool ok;
	} t[] = {
	    {"", 0, true},
	    {"abc", 0, true},
	    {"\x7f", 0, true},
	    {"\xc2\x80", 0, true},	   /* U+0080 */
	    {"\xc3\xa9", 0, true},	   /* é */
	    {"\xdf\xbf", 0, true},	   /* U+07FF */
	    {"\xe0\xa0\x80", 0, true},	   /* U+0800 */
	    {"\xe2\x82\xac", 0, true},	   /* € */
	    {"\xed\x9f\xbf", 0, true},	   /* U+D7FF */
	    {"\xee\x80\x80", 0, true},	   /* U+E000 */
	    {"\xef\xbf\xbf", 0, true},	   /* U+FFFF */
	    {"\xf0\x90\x80\x80", 0, true}, /* U+10000 */
	    {"\xf0\x9f\x98\x80", 0, true}, /* 😀 */
	    {"\xf4\x8f\xbf\xbf", 0, true}, /* U+10FFFF */
	    {"Ünïcødé ファイル.txt", 0, true},
	    {"emoji 😀🎉 mix", 0, true},
	    {"abc", 2, true}, /* only the first len bytes count */
	    {"\xc3\xa9", 1, false},
	    {"a\0b", 3, false}, /* NUL inside */
	    {"\0", 1, false},
	    {"\x80", 0, false}, /* lone continuation */
	    {"\xbf", 0, false},
	    {"\xc0\x80", 0, false},		    /* overlong NUL */
	    {"\xc0\xaf", 0, false},		    /* overlong '/' */
	    {"\xc1\xbf", 0, false},		    /* overlong */
	    {"\xe0\x80\xaf", 0, false},		    /* overlong '/' */
	    {"\xe0\x9f\xbf", 0, false},		    /* overlong U+07FF */
	    {"\xf0\x80\x80\xaf", 0, false},	    /* overlong '/' */
	    {"\xf0\x8f\xbf\xbf", 0, false},	    /* overlong U+FFFF */
	    {"\xed\xa0\x80", 0, false},		    /* U+D800 */
	    {"\xed\xb0\x80", 0, false},		    /* U+DC00 */
	    {"\xed\xbf\xbf", 0, false},		    /* U+DFFF */
	    {"\xed\xa0\xbd\xed\xb8\x80", 0, false}, /* CESU-8 surrogate pair */
	    {"\xf4\x90\x80\x80", 0, false},	    /* U+110000 */
	    {"\xf5\x80\x80\x80", 0, false},
	    {"\xf7\xbf\xbf\xbf", 0, false},
	    {"\xf8\x88\x80\x80\x80", 0, false}, /* 5 bytes */
	    {"\xfc\x84\x80\x80\x80\x80", 0, false},
	    {"\xfe", 0, false},
	    {"\xff", 0, false},
	    {"a\xff", 0, false},
	    {"\xc3", 0, false}, /* truncated at the end */
	    {"\xe2\x82", 0, false},
	    {"\xf0\x9f\x98", 0, false},
	    {"\xc3x", 0, false}, /* bad continuation */
	    {"\xe2\x82x", 0, false},
	    {"\xf0\x9f\x98x", 0, false},
	    {"\xe2\x28\xa1", 0, false},
	    {"\xf0\x9f\x98\x80\xc3", 0, false},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY(t); i++) {
		size_t len = t[i].len ? t[i].len : strlen(t[i].s);
		bool r = proto_utf8_valid(t[i].s, len);
		if (r != t[i].ok)
			print_error("proto_utf8_valid #%zu: got %d\n", i, r);
		assert_int_equal(r, t[i].ok);
	}
}

static void test_name_valid(void **state)
{
	static char name[PROTO_MAX_NAME + 8];

	(void)state;
	for (size_t i = 0; i < ARRAY(awkward); i++) {
		if (!proto_name_valid(awkward[i]))
			print_error("proto_name_valid(\"%s\") is false\n", awkward[i]);
		assert_true(proto_name_valid(awkward[i]));
	}
	for (size_t i = 0; i < ARRAY(bad_names); i++) {
		if (proto_name_valid(bad_names[i]))
			print_error("proto_name_valid(bad #%zu) is true\n", i);
		assert_false(proto_name_valid(bad_names[i]));
	}

	/* length: 1..PROTO_MAX_NAME bytes, counted in bytes not characters */
	memset(name, 0, sizeof(name));
	memset(name, 'a', PROTO_MAX_NAME);
	assert_true(proto_name_valid(name));
	name[PROTO_MAX_NAME] = 'a';
	assert_false(proto_name_valid(name));
	memset(name, 0, sizeof(name));
	memset(name, 'a', PROTO_MAX_NAME - 2);
	memcpy(name + PROTO_MAX_NAME - 2, "\xc3\xa9", 2); /* 1024 bytes */
	assert_true(proto_name_valid(name));
	memset(name, 0, sizeof(name));
	memset(name, 'a', PROTO_MAX_NAME - 1);
	memcpy(name + PROTO_MAX_NAME - 1, "\xc3\xa9", 2); /* 1025 bytes */
	assert_false(proto_name_valid(name));
	assert_true(proto_name_valid("a"));
}

/* Names the server would mangle: refused at creation, every spelling. */
static void test_name_creatable(void **state)
{
	static const char *const refused[] = {
	    "a.",	   "a ",
	    "dots...",	   "end. ",
	    "CON",	   "con",
	    "Con",	   "PRN",
	    "aux",	   "NUL",
	    "nul.txt",	   "NUL.tar.gz",
	    "nul .txt",	   "CON  .x",
	    "COM1",	   "com9",
	    "Com5.log",	   "LPT1",
	    "lpt9.txt",	   "COM\xc2\xb9",
	    "lpt\xc2\xb2", "COM\xc2\xb3.txt",
	    "CON.",	   "x.txt ",
	    "\xc3\xa9.",
	};
	static const char *const allowed[] = {
	    "a",	"a.b",	    ".hidden",	"..a",	       " lead",	       "CONS",	"CONSOLE",
	    "con1",	"NULL.txt", "COM",	"COM0",	       "LPT0",	       "COM10", "LPT10.txt",
	    "xcon",	"aux_",	    "_nul.txt", "COM\xc2\xb4", "COM\xc2\xb9x", "a.CON", "PRN-2.txt",
	    "tab\tend",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY(refused); i++) {
		if (proto_name_creatable(refused[i]))
			print_error("proto_name_creatable(\"%s\") is true\n", refused[i]);
		assert_false(proto_name_creatable(refused[i]));
	}
	for (size_t i = 0; i < ARRAY(allowed); i++) {
		if (!proto_name_creatable(allowed[i]))
			print_error("proto_name_creatable(\"%s\") is false\n", allowed[i]);
		assert_true(proto_name_creatable(allowed[i]));
	}
	assert_false(proto_name_creatable(""));
}

/* ---- names ---------------------------------------------------------------------------- */

/* Names of upload temporaries: exactly the gateway's pattern; WRITE and DROP
 * carry one or are refused both ways. */
static void test_tmp_names(void **state)
{
	static const char *const good[] = {TMP, TMP2,
					   ".~smbgate-new-00000000000000000000000000000000.tmp"};
	static const char *const bad[] = {
	    "",
	    "hello.txt",
	    ".~smbgate-new-.tmp",
	    ".~smbgate-new-0123456789abcdef.tmp",		   /* 16 digits */
	    ".~smbgate-new-0123456789abcdef0123456789abcde.tmp",   /* 31 */
	    ".~smbgate-new-0123456789abcdef0123456789abcdef0.tmp", /* 33 */
	    ".~smbgate-new-0123456789ABCDEF0123456789abcdef.tmp",  /* upper case */
	    ".~smbgate-new-0123456789abcdeg0123456789abcdef.tmp",  /* not hex */
	    ".~smbgate-old-0123456789abcdef0123456789abcdef.tmp",  /* a backup's */
	    ".~smbgate-new-0123456789abcdef0123456789abcdef.tmq",
	    ".~smbgate-new-0123456789abcdef0123456789abcdef.tmp.",
	    ".~smbgate-new-0123456789abcdef0123456789abcdef",
	    "x.~smbgate-new-0123456789abcdef0123456789abcdef.tmp",
	    "d/.~smbgate-new-0123456789abcdef0123456789abcdef.tmp",
	    ".~smbgate-new-0123456789abcdef0123456789abcd/f.tmp",
	    ".~SMBGATE-new-0123456789abcdef0123456789abcdef.tmp",
	};
	struct proto_write_req w = {.size = 1};
	struct proto_msg m;
	char tail[256];
	size_t n;
	int r;

	(void)state;
	assert_int_equal(strlen(TMP), PROTO_TMP_NAME_LEN);
	for (size_t i = 0; i < ARRAY(good); i++) {
		assert_true(proto_tmp_name_valid(good[i]));
		assert_true(proto_name_valid(good[i])); /* a plain name, too */
		const char *strs[] = {"s", "d/f", good[i]};
		r = proto_encode(buf, sizeof(buf), PROTO_DROP, 1, NULL, 0, strs, 3);
		assert_true(r > 0);
		decode_ok(buf, (size_t)r, &m);
		assert_string_equal(m.str[2], good[i]);
		r = proto_encode(buf, sizeof(buf), PROTO_WRITE, 1, &w, sizeof(w), strs, 3);
		assert_true(r > 0);
		decode_ok(buf, (size_t)r, &m);
	}
	for (size_t i = 0; i < ARRAY(bad); i++) {
		size_t l = strlen(bad[i]) + 1;
		assert_false(proto_tmp_name_valid(bad[i]));
		const char *strs[] = {"s", "d/f", bad[i]};
		assert_int_equal(proto_encode(buf, sizeof(buf), PROTO_DROP, 1, NULL, 0, strs, 3),
				 -EINVAL);
		assert_int_equal(
		    proto_encode(buf, sizeof(buf), PROTO_WRITE, 1, &w, sizeof(w), strs, 3),
		    -EINVAL);
		memcpy(tail, "s\0d/f", 6);
		memcpy(tail + 6, bad[i], l);
		n = raw_msg(buf, PROTO_DROP, NULL, 0, tail, 6 + l);
		expect_bad(buf, n, "DROP with a bad temporary");
		n = raw_msg(buf, PROTO_WRITE, &w, sizeof(w), tail, 6 + l);
		expect_bad(buf, n, "WRITE with a bad temporary");
	}
	/* A NUL inside: the name ends early, what follows is a fourth string. */
	n = raw_msg(buf, PROTO_DROP, NULL, 0,
		    TAIL("s\0d/f\0.~smbgate-new-0123456789abcdef\0"
			 "0123456789abcdef.tmp"));
	expect_bad(buf, n, "DROP with a NUL in the temporary");
	/* The temporary is a string of its own: two strings are not enough. */
	n = raw_msg(buf, PROTO_DROP, NULL, 0, TAIL("s\0d/" TMP));
	expect_bad(buf, n, "DROP with two strings");
	n = raw_msg(buf, PROTO_WRITE, &w, sizeof(w), TAIL("s\0d/f"));
	expect_bad(buf, n, "WRITE without a temporary");
	/* DROP has no body. */
	n = raw_msg(buf, PROTO_DROP, &s_none, sizeof(s_none), TAIL("s\0d/f\0" TMP));
	expect_bad(buf, n, "DROP with a body");
}

static void test_err_name(void **state)
{
	static const char *const want[] = {
	    [PROTO_E_NOT_FOUND] = "not_found",
	    [PROTO_E_ACCESS] = "access_denied",
	    [PROTO_E_EXISTS] = "exists",
	    [PROTO_E_NOT_EMPTY] = "not_empty",
	    [PROTO_E_NOT_DIR] = "not_a_directory",
	    [PROTO_E_IS_DIR] = "is_a_directory",
	    [PROTO_E_NO_SPACE] = "no_space",
	    [PROTO_E_BAD_NAME] = "bad_name",
	    [PROTO_E_UNREACHABLE] = "server_unreachable",
	    [PROTO_E_TIMEOUT] = "timeout",
	    [PROTO_E_PROTOCOL] = "protocol_error",
	    [PROTO_E_AUTH] = "auth_failed",
	    [PROTO_E_IO] = "io_error",
	    [PROTO_E_INVALID] = "invalid_request",
	    [PROTO_E_TOO_BIG] = "too_many_entries",
	    [PROTO_E_LINK] = "contains_link",
	    [PROTO_E_BAD_ENTRY] = "unusable_name",
	    [PROTO_E_TOO_DEEP] = "too_deep",
	    [PROTO_E_OFFSET] = "offset_mismatch",
	    [PROTO_E_OVERLAP] = "overlap",
	    [PROTO_E_RESERVED_NAME] = "reserved_name",
	};
	static const uint32_t unknown[] = {0, PROTO_E_MAX + 1, 1000, UINT32_MAX};

	(void)state;
	assert_int_equal(ARRAY(want), PROTO_E_MAX + 1);
	for (uint32_t c = 1; c <= PROTO_E_MAX; c++) {
		/* the set has gaps (codes kept for other requests) */
		assert_int_equal(proto_err_known(c), want[c] != NULL);
		assert_string_equal(proto_err_name(c), want[c] ? want[c] : "io_error");
	}
	/* unknown codes read as the generic I/O error */
	for (size_t i = 0; i < ARRAY(unknown); i++)
		assert_string_equal(proto_err_name(unknown[i]), "io_error");
}

static void test_type_name(void **state)
{
	static const struct {
		uint16_t type;
		const char *name;
		bool fd;
	} t[] = {
	    {PROTO_AUTH, "AUTH", false},
	    {PROTO_SHARES, "SHARES", false},
	    {PROTO_STAT, "STAT", false},
	    {PROTO_LIST, "LIST", false},
	    {PROTO_READ, "READ", true},
	    {PROTO_WRITE, "WRITE", true},
	    {PROTO_MKDIR, "MKDIR", false},
	    {PROTO_RENAME, "RENAME", false},
	    {PROTO_COPY, "COPY", false},
	    {PROTO_UNLINK, "UNLINK", false},
	    {PROTO_RMDIR, "RMDIR", false},
	    {PROTO_CHECK, "CHECK", false},
	    {PROTO_LANE, "LANE", false},
	    {PROTO_DROP, "DROP", false},
	    {PROTO_MOUNT, "MOUNT", false},
	    {PROTO_HELLO, "HELLO", false},
	    {PROTO_ERROR, "ERROR", false},
	    {PROTO_STAT_OK, "STAT_OK", false},
	    {PROTO_ENTRIES, "ENTRIES", false},
	    {PROTO_READ_OK, "READ_OK", false},
	    {PROTO_END, "END", false},
	    {PROTO_ZIP, "ZIP", true},
	    {PROTO_SEARCH, "SEARCH", false},
	    {PROTO_TUS_CREATE, "TUS_CREATE", false},
	    {PROTO_TUS_APPEND, "TUS_APPEND", true},
	    {PROTO_TUS_INFO, "TUS_INFO", false},
	    {PROTO_ZIP_OK, "ZIP_OK", false},
	    {PROTO_WALKING, "WALKING", false},
	    {PROTO_FOUND, "FOUND", false},
	    {PROTO_STATVFS, "STATVFS", false},
	    {PROTO_UTIMES, "UTIMES", false},
	    {PROTO_FOLLOWED, "FOLLOWED", false},
	    {PROTO_WRITABLE, "WRITABLE", false},
	    {PROTO_ASIDE, "ASIDE", false},
	    {PROTO_STATVFS_OK, "STATVFS_OK", false},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY(t); i++) {
		assert_string_equal(proto_type_name(t[i].type), t[i].name);
		assert_int_equal(proto_type_has_fd(t[i].type), t[i].fd);
		/* requests even, answers odd */
		assert_int_equal(t[i].type % 2,
				 t[i].name[0] == 'H' || t[i].type == PROTO_ERROR ||
				     t[i].type == PROTO_STAT_OK || t[i].type == PROTO_ENTRIES ||
				     t[i].type == PROTO_READ_OK || t[i].type == PROTO_END ||
				     t[i].type == PROTO_ZIP_OK || t[i].type == PROTO_FOUND ||
				     t[i].type == PROTO_WALKING || t[i].type == PROTO_STATVFS_OK);
	}
	assert_string_equal(proto_type_name(0), "?");
	assert_string_equal(proto_type_name(13), "?");
	assert_string_equal(proto_type_name(0xffff), "?");
}

/* The fds of each message, as both sides check them. */
static void test_fds(void **state)
{
	(void)state;
	/* Requests: the pipe of READ and WRITE, nothing else. */
	assert_int_equal(proto_fds(PROTO_READ, 0), 1);
	assert_int_equal(proto_fds(PROTO_WRITE, 0), 1);
	assert_int_equal(proto_fds(PROTO_LIST, 0), 0);
	assert_int_equal(proto_fds(PROTO_LANE, 0), 0);
	assert_int_equal(proto_fds(PROTO_AUTH, 0), 0);
	/* Answers: only the END of a LANE carries one (the new lane). */
	assert_int_equal(proto_fds(PROTO_END, PROTO_LANE), 1);
	assert_int_equal(proto_fds(PROTO_ERROR, PROTO_LANE), 0);
	assert_int_equal(proto_fds(PROTO_END, PROTO_WRITE), 0);
	assert_int_equal(proto_fds(PROTO_END, PROTO_READ), 0);
	assert_int_equal(proto_fds(PROTO_READ_OK, PROTO_READ), 0);
	assert_int_equal(proto_fds(PROTO_HELLO, 0), 0);
	/* Unknown types carry none. */
	assert_int_equal(proto_fds(200, 0), 0);
	assert_int_equal(proto_fds(201, PROTO_LANE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	     cmocka_unit_test(test_string_caps),
	    cmocka_unit_test(test_wire_layout),	     cmocka_unit_test(test_bad_size),
	    cmocka_unit_test(test_bad_type),	     cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_bad_body),	     cmocka_unit_test(test_bad_strings),
	    cmocka_unit_test(test_bad_utf8_strings), cmocka_unit_test(test_bad_auth),
	    cmocka_unit_test(test_bad_error),	     cmocka_unit_test(test_bad_flags),
	    cmocka_unit_test(test_bad_answers),	     cmocka_unit_test(test_bad_entries),
	    cmocka_unit_test(test_entries_builder),  cmocka_unit_test(test_entries_small),
	    cmocka_unit_test(test_entries_rec),	     cmocka_unit_test(test_share_comments),
	    cmocka_unit_test(test_encode_errors),    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_name_valid),	     cmocka_unit_test(test_name_creatable),
	    cmocka_unit_test(test_err_name),	     cmocka_unit_test(test_type_name),
	    cmocka_unit_test(test_tmp_names),	     cmocka_unit_test(test_fds),
	    cmocka_unit_test(test_aside_ops),	     cmocka_unit_test(test_aside_bad),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
