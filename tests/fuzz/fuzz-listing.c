/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz-listing.c - fuzz target of the listing encoders fed the
 * names, sizes and mtimes a hostile file server can send: the REST API's
 * JSON (gateway/files/listing.c) and WebDAV's multistatus (gateway/dav/davms.c).
 *
 * The input is a list of records: a type byte (0 file, 1 folder, 2 share,
 * taken modulo 3), the size (8 bytes, little-endian), the mtime (8 bytes,
 * signed), the name's length (2 bytes) and the name's bytes (any bytes, cut
 * at the input's end). A share's comment is its name.
 *
 * Each record goes the way a server's entry goes: the worker's rule first
 * (sandbox/worker/smb.c smb_list(): "." and ".." are no entries;
 * proto_name_valid() names pass, others are left out and counted; worker.c
 * list_cb(): a record the ENTRIES builder refuses is left out and counted),
 * ENTRIES messages as the worker sends them, proto_decode() on the gateway's
 * side, then the encoders, for a folder's listing and a server's shares.
 *
 * Checks: the rule agrees with an independent oracle written here (UTF-8
 * decoded by hand; control characters, '/', '\\' and over-long names out);
 * the JSON (as the gateway sends it, ASCII-escaped, and as plain UTF-8) is
 * valid UTF-8 and parses back with jansson to exactly the passed entries, in
 * order, each name byte for byte, with "skipped" equal to the count left out;
 * the multistatus parses with expat (well-formed, namespaces on) and has one
 * response per passed entry whose href decodes with the gateway's own path
 * parser to that name and whose displayname is that name (U+FFFE and U+FFFF,
 * which XML cannot carry, as U+FFFD: found by this target).
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) or with run-corpus.c, a
 * plain driver that runs as a meson test; see README.md.
 */
#include <errno.h>
#include <expat.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dav/davms.h"
#include "dav/davxml.h"
#include "files/listing.h"
#include "http/path.h"
#include "proto.h"

#define MAX_RECS 256

struct rec {
	uint32_t ftype;
	uint64_t size;
	int64_t mtime;
	char *name;
	size_t len; /* bytes of name (it may hold NULs) */
};

/* The oracle: whether a server's name may be shown, decided without proto.c. */
static bool oracle_ok(const unsigned char *s, size_t n)
{
	if (n == 0 || n > PROTO_MAX_NAME || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need, cp;
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- the JSON side ---- */

static void check_json(json_t *answer, struct rec *pass, size_t n_pass, unsigned skipped,
		       bool shares, size_t flags)
{
	char *text = json_dumps(answer, flags);
	CHECK(text);
	CHECK(proto_utf8_valid(text, strlen(text)));
	json_error_t jerr;
	json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	CHECK(back);
	json_t *entries = json_object_get(back, "entries");
	CHECK(json_is_array(entries));
	CHECK(json_integer_value(json_object_get(back, "skipped")) == (json_int_t)skipped);
	CHECK(!json_object_get(back, "skipped") == !skipped);
	size_t k = 0;
	for (size_t i = 0; i < n_pass; i++) {
		if ((pass[i].ftype == PROTO_FT_SHARE) != shares)
			continue;
		json_t *e = json_array_get(entries, k++);
		json_t *jn = json_object_get(e, "name");
		CHECK(json_string_length(jn) == pass[i].len &&
		      memcmp(json_string_value(jn), pass[i].name, pass[i].len) == 0);
		const char *type = json_string_value(json_object_get(e, "type"));
		CHECK(type);
		if (shares) {
			CHECK(strcmp(type, "share") == 0);
		} else {
			CHECK(strcmp(type, pass[i].ftype == PROTO_FT_DIR ? "dir" : "file") == 0);
			CHECK((uint64_t)json_integer_value(json_object_get(e, "size")) ==
			      pass[i].size);
			CHECK(json_string_length(json_object_get(e, "mtime")) == 20);
		}
	}
	CHECK(k == json_array_size(entries));
	json_decref(back);
	free(text);
}

/* ---- the XML side ---- */

struct xml {
	int depth;
	char *text; /* the current element's text */
	size_t len;
	const char *want; /* "href" or "displayname" being collected */
	char *href[MAX_RECS + 2], *display[MAX_RECS + 2];
	size_t n_href, n_display;
};

static void x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml *x = ud;
	(void)atts;
	x->depth++;
	x->want = NULL;
	if (strcmp(name, "DAV: href") == 0)
		x->want = "href";
	else if (strcmp(name, "DAV: displayname") == 0)
		x->want = "displayname";
	x->len = 0;
}

static void x_text(void *ud, const XML_Char *s, int len)
{
	struct xml *x = ud;
	if (!x->want)
		return;
	x->text = realloc(x->text, x->len + (size_t)len + 1);
	CHECK(x->text);
	memcpy(x->text + x->len, s, (size_t)len);
	x->len += (size_t)len;
	x->text[x->len] = '\0';
}

static void x_end(void *ud, const XML_Char *name)
{
	struct xml *x = ud;
	(void)name;
	x->depth--;
	if (x->want) {
		char *v = strndup(x->text ? x->text : "", x->len);
		CHECK(v);
		if (x->want[0] == 'h' && x->n_href < MAX_RECS + 2)
			x->href[x->n_href++] = v;
		else if (x->want[0] == 'd' && x->n_display < MAX_RECS + 2)
			x->display[x->n_display++] = v;
		else
			free(v);
	}
	x->want = NULL;
	x->len = 0;
}

static void check_xml(const char *doc, size_t len, struct rec *pass, size_t n_pass, bool shares)
{
	XML_Parser p = XML_ParserCreateNS("UTF-8", ' ');
	struct xml x = {0};
	CHECK(p);
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, x_start, x_end);
	XML_SetCharacterDataHandler(p, x_text);
	CHECK(XML_Parse(p, doc, (int)len, 1) == XML_STATUS_OK);
	XML_ParserFree(p);
	size_t k = 0;
	for (size_t i = 0; i < n_pass; i++) {
		if ((pass[i].ftype == PROTO_FT_SHARE) != shares)
			continue;
		CHECK(k < x.n_href && k < x.n_display);
		/* The name, as a client reads it back: the href's path decoded by
		 * the gateway's own parser, and the displayname. */
		CHECK(strncmp(x.href[k], "/dav/", 5) == 0);
		struct gw_path gp = {0};
		CHECK(gw_path_parse(x.href[k] + 4, &gp) == 0);
		const char *got = shares ? gp.share : gp.path;
		CHECK(got && strlen(got) == pass[i].len &&
		      memcmp(got, pass[i].name, pass[i].len) == 0);
		CHECK(strcmp(gp.server, "srv") == 0 && (shares || strcmp(gp.share, "share") == 0));
		gw_path_clear(&gp);
		CHECK(strlen(x.display[k]) == pass[i].len);
		for (size_t j = 0; j < pass[i].len; j++) {
			/* U+FFFE and U+FFFF are U+FFFD in XML text (davxml.h) */
			if (j + 2 < pass[i].len && memcmp(pass[i].name + j, "\xef\xbf", 2) == 0 &&
			    (pass[i].name[j + 2] == '\xbe' || pass[i].name[j + 2] == '\xbf')) {
				CHECK(memcmp(x.display[k] + j, "\xef\xbf\xbd", 3) == 0);
				j += 2;
				continue;
			}
			CHECK(x.display[k][j] == pass[i].name[j]);
		}
		k++;
	}
	CHECK(k == x.n_href && k == x.n_display);
	for (size_t i = 0; i < x.n_href; i++)
		free(x.href[i]);
	for (size_t i = 0; i < x.n_display; i++)
		free(x.display[i]);
	free(x.text);
}

/* ---- one message at a time, as the gateway gets them ---- */

struct sinks {
	struct gw_listing files, shares;
	struct davms_listing dav_files, dav_shares;
	size_t decoded;
};

static void deliver(struct sinks *k, struct proto_entries_builder *b)
{
	size_t len = proto_entries_finish(b);
	struct proto_msg m;
	CHECK(proto_decode(b->buf, len, &m) == 0 && m.hdr.type == PROTO_ENTRIES);
	struct proto_entry_rec rec;
	const char *name, *comment;
	size_t pos = 0;
	while (proto_entries_next_comment(&m, &pos, &rec, &name, &comment) == 1) {
		CHECK(gw_listing_entry(&k->files, &rec, name, comment) == 0);
		CHECK(gw_listing_entry(&k->shares, &rec, name, comment) == 0);
		CHECK(davms_list_entry(&k->dav_files, &rec, name, comment) == 0);
		CHECK(davms_list_entry(&k->dav_shares, &rec, name, comment) == 0);
		k->decoded++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[PROTO_MAX_MSG];
	struct rec recs[MAX_RECS], pass[MAX_RECS];
	size_t n = 0, n_pass = 0, off = 0;
	unsigned skipped = 0;

	while (n < MAX_RECS && off + 19 <= size) {
		struct rec *r = &recs[n++];
		static const uint32_t types[3] = {PROTO_FT_FILE, PROTO_FT_DIR, PROTO_FT_SHARE};
		r->ftype = types[data[off] % 3];
		r->size = le64(data + off + 1);
		r->mtime = (int64_t)le64(data + off + 9);
		size_t want = (size_t)data[off + 17] | (size_t)data[off + 18] << 8;
		off += 19;
		r->len = want < size - off ? want : size - off;
		r->name = malloc(r->len + 1);
		CHECK(r->name);
		memcpy(r->name, data + off, r->len);
		r->name[r->len] = '\0';
		off += r->len;
	}

	struct davxml_propfind pf = {.kind = DAVXML_ALLPROP};
	struct davxml_buf xf = {0}, xs = {0};
	struct sinks k = {
	    .files = {.entries = json_array()},
	    .shares = {.entries = json_array(), .shares = true},
	    .dav_files = {.b = &xf, .pf = &pf, .server = "srv", .share = "share", .dir = ""},
	    .dav_shares = {.b = &xs, .pf = &pf, .server = "srv", .shares = true},
	};
	CHECK(k.files.entries && k.shares.entries);
	davxml_put(&xf, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			"<D:multistatus xmlns:D=\"DAV:\">");
	davxml_put(&xs, xf.p);

	struct proto_entries_builder b;
	proto_entries_init(&b, msg, sizeof(msg), 7);
	for (size_t i = 0; i < n; i++) {
		struct rec *r = &recs[i];
		bool nul = strlen(r->name) != r->len;
		/* smb_list(): "." and ".." are no entries; names are C strings */
		if (!nul && (strcmp(r->name, ".") == 0 || strcmp(r->name, "..") == 0))
			continue;
		bool ok = !nul && proto_name_valid(r->name);
		CHECK(ok == oracle_ok((const unsigned char *)r->name, r->len));
		if (!ok) {
			skipped++;
			continue;
		}
		/* worker.c list_cb() */
		const char *comment = r->ftype == PROTO_FT_SHARE ? r->name : NULL;
		int e =
		    proto_entries_add_comment(&b, r->ftype, r->size, r->mtime, r->name, comment);
		if (e == -EMSGSIZE) {
			deliver(&k, &b);
			proto_entries_init(&b, msg, sizeof(msg), 7);
			e = proto_entries_add_comment(&b, r->ftype, r->size, r->mtime, r->name,
						      comment);
		}
		if (e == -EINVAL) {
			/* only a share's comment can be refused here: over its cap */
			CHECK(comment && r->len > PROTO_MAX_COMMENT);
			skipped++;
			continue;
		}
		CHECK(e == 0);
		pass[n_pass++] = *r;
	}
	if (b.count > 0)
		deliver(&k, &b);
	CHECK(k.decoded == n_pass);
	if (getenv("FUZZ_LISTING_DEBUG"))
		fprintf(stderr, "records %zu passed %zu skipped %u\n", n, n_pass, skipped);

	json_t *af = gw_listing_answer("/srv/share", k.files.entries, skipped);
	json_t *as = gw_listing_answer("/srv/", k.shares.entries, 0);
	CHECK(af && as);
	/* as the gateway sends it (reply.c), and as plain UTF-8 */
	check_json(af, pass, n_pass, skipped, false, JSON_COMPACT | JSON_ENSURE_ASCII);
	check_json(af, pass, n_pass, skipped, false, JSON_COMPACT);
	check_json(as, pass, n_pass, 0, true, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(af);
	json_decref(as);

	davxml_put(&xf, "</D:multistatus>\n");
	davxml_put(&xs, "</D:multistatus>\n");
	CHECK(!xf.oom && !xs.oom);
	check_xml(xf.p, xf.len, pass, n_pass, false);
	check_xml(xs.p, xs.len, pass, n_pass, true);
	davxml_buf_clear(&xf);
	davxml_buf_clear(&xs);

	for (size_t i = 0; i < n; i++)
		free(recs[i].name);
	return 0;
}
