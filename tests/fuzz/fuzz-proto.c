/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz-proto.c - fuzz target of proto_decode(), the decoder of
 * everything an (untrusted) worker sends the gateway.
 *
 * Any input: proto_decode() must not crash or read out of bounds. When it
 * accepts the input, the result must be self-consistent: the records of an
 * ENTRIES message walk to the end, count as announced, carry valid names and
 * rebuild byte for byte with the entries builder; any other message re-encodes
 * with proto_encode() to exactly the input bytes.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) or with run-corpus.c, a
 * plain driver that runs as a meson test; see README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

static uint8_t out[PROTO_MAX_MSG];

static void check_entries(const struct proto_msg *m, const uint8_t *data, size_t size)
{
	struct proto_entries_builder b;
	struct proto_entry_rec rec;
	const char *name;
	size_t pos = 0, last = 0;
	uint32_t n = 0;

	CHECK(m->n_str == 0);
	CHECK(m->rec == data + sizeof(struct proto_hdr) + sizeof(struct proto_entries));
	CHECK(m->rec_len == size - sizeof(struct proto_hdr) - sizeof(struct proto_entries));
	proto_entries_init(&b, out, sizeof(out), m->hdr.seq);
	const char *comment;
	while (proto_entries_next_comment(m, &pos, &rec, &name, &comment)) {
		CHECK(pos > last && pos <= m->rec_len);
		last = pos;
		CHECK(rec.ftype >= PROTO_FT_FILE && rec.ftype <= PROTO_FT_SHARE);
		CHECK(rec.reserved == 0);
		CHECK(proto_name_valid(name));
		CHECK(proto_comment_valid(comment));
		CHECK(rec.mtime_ns < 1000000000u && rec.ctime_ns < 1000000000u);
		CHECK(proto_entries_add_rec(&b, &rec, name, comment) == 0);
		n++;
	}
	CHECK(pos == m->rec_len);
	CHECK(n == m->u.entries.count);
	CHECK(proto_entries_finish(&b) == size);
	CHECK(memcmp(out, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	int r;

	if (proto_decode(data, size, &m) < 0)
		return 0;

	CHECK(size >= sizeof(struct proto_hdr) && size <= PROTO_MAX_MSG);
	CHECK(m.hdr.reserved == 0 && m.hdr.len == size - sizeof(struct proto_hdr));
	CHECK(strcmp(proto_type_name(m.hdr.type), "?") != 0);
	CHECK(m.n_str <= PROTO_MAX_STRINGS);
	(void)proto_type_has_fd(m.hdr.type);
	if (m.hdr.type == PROTO_ERROR)
		CHECK(strcmp(proto_err_name(m.u.error.code), "") != 0);

	if (m.hdr.type == PROTO_ENTRIES) {
		check_entries(&m, data, size);
		return 0;
	}
	for (unsigned i = 0; i < m.n_str; i++)
		CHECK(proto_utf8_valid(m.str[i], strlen(m.str[i])));
	r = proto_encode(out, sizeof(out), m.hdr.type, m.hdr.seq, m.body, m.body_len, m.str,
			 m.n_str);
	CHECK(r >= 0 && (size_t)r == size);
	CHECK(memcmp(out, data, size) == 0);
	return 0;
}
