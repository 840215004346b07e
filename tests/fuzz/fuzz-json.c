/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz-json.c - fuzz target of the REST API's JSON request bodies
 * (gateway/http/body.c): login, the file operations (mkdir, move, copy), the
 * audit log's look at them, and zip selections.
 *
 * The input is given to every decoder as the body. None may crash, leak or
 * read out of bounds; each must answer one of its documented errors with its
 * output untouched, or succeed with an output that holds what body.h
 * promises: a login's fields within their sizes, without NUL or control
 * characters where forbidden, and equal to what jansson reads in the same
 * input; a move's or copy's target a valid path in the share that parses
 * again to itself; a zip selection of 1..BODY_ZIP_MAX_PATHS valid names of
 * one valid folder, within the names' cap (checked with the protocol's cap
 * and with a small one that the seeds overflow).
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) or with run-corpus.c, a
 * plain driver that runs as a meson test; see README.md.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/body.h"
#include "http/path.h"
#include "proto.h"

/* Whether @s is "" or "seg/seg" with every segment a valid name. */
static bool path_ok(const char *s)
{
	char *copy = strdup(s), *save = NULL;
	bool ok = copy != NULL;

	if (*s == '\0') {
		free(copy);
		return true;
	}
	CHECK(s[0] != '/' && s[strlen(s) - 1] != '/' && !strstr(s, "//"));
	for (char *seg = strtok_r(copy, "/", &save); ok && seg; seg = strtok_r(NULL, "/", &save))
		ok = proto_name_valid(seg);
	free(copy);
	return ok && strlen(s) <= PROTO_MAX_PATH;
}

/* What jansson itself reads as the string @key of the object in @buf, or NULL. */
static const char *jansson_string(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void check_login(const char *buf, size_t size)
{
	struct body_login b = {.username = (char *)"untouched"};
	int r = body_login_decode(buf, size, &b);

	CHECK(r == 0 || r == -EBADMSG || r == -EINVAL || r == -ENOMEM);
	if (r) {
		CHECK(strcmp(b.username, "untouched") == 0 && !b.password && !b.server &&
		      !b.workgroup);
		return;
	}
	size_t ul = strlen(b.username);
	CHECK(ul >= 1 && ul <= BODY_MAX_CREDENTIAL && proto_utf8_valid(b.username, ul));
	for (size_t i = 0; i < ul; i++)
		CHECK((unsigned char)b.username[i] >= 0x20 && b.username[i] != 0x7f);
	CHECK(strlen(b.password) <= BODY_MAX_CREDENTIAL);
	if (b.workgroup) {
		size_t wl = strlen(b.workgroup);
		CHECK(wl >= 1 && wl <= BODY_MAX_WORKGROUP && !strpbrk(b.workgroup, " \\/:*?\"<>|"));
	}
	/* The same values as jansson's own reading (its password wiped above is
	 * in another parse: this one is fresh). */
	json_t *o = json_loadb(buf, size, JSON_REJECT_DUPLICATES, NULL);
	CHECK(json_is_object(o));
	CHECK(strcmp(jansson_string(o, "username"), b.username) == 0);
	CHECK(strcmp(jansson_string(o, "password"), b.password) == 0);
	CHECK(!b.server == !json_object_get(o, "server"));
	CHECK(!b.server || strcmp(jansson_string(o, "server"), b.server) == 0);
	CHECK(!b.workgroup || strcmp(jansson_string(o, "workgroup"), b.workgroup) == 0);
	json_decref(o);
	body_login_clear(&b);
	CHECK(!b.username && !b.password);
}

static void check_op(const char *buf, size_t size)
{
	struct body_op b = {.op = (enum body_op_kind)99, .to = NULL, .overwrite = true};
	int r = body_op_decode(buf, size, &b);

	CHECK(r == 0 || r == -EBADMSG || r == -EINVAL || r == -EOPNOTSUPP || r == -EILSEQ ||
	      r == -ENOMEM);
	if (r) {
		CHECK(b.op == (enum body_op_kind)99 && !b.to && b.overwrite);
		return;
	}
	if (b.op == BODY_OP_MKDIR) {
		CHECK(!b.to && !b.overwrite);
	} else {
		CHECK(b.op == BODY_OP_MOVE || b.op == BODY_OP_COPY);
		CHECK(b.to && *b.to && path_ok(b.to));
		/* "/" + the target parses again to itself */
		char *again = NULL, *slashed = NULL;
		CHECK(asprintf(&slashed, "/%s", b.to) > 0);
		CHECK(gw_path_parse_plain(slashed, &again) == 0 && strcmp(again, b.to) == 0);
		free(again);
		free(slashed);
	}
	body_op_clear(&b);

	char op[16];
	char *to = NULL;
	body_op_peek(buf, size, op, &to);
	CHECK(strlen(op) < 16);
	free(to);
}

static void check_zip(const char *buf, size_t size, size_t max_names)
{
	struct body_zip z = {.count = 4242};
	int r = body_zip_decode(buf, size, max_names, &z);

	CHECK(r == 0 || r == -EINVAL || r == -EILSEQ || r == -EXDEV || r == -E2BIG || r == -ENOMEM);
	if (r) {
		CHECK(z.count == 4242 && !z.folder && !z.names);
		return;
	}
	CHECK(z.count >= 1 && z.count <= BODY_ZIP_MAX_PATHS);
	CHECK(z.folder && path_ok(z.folder));
	CHECK(z.names && strlen(z.names) <= max_names);
	size_t n = 0;
	for (char *p = z.names, *nl;; p = nl + 1) {
		nl = strchr(p, '\n');
		char save = nl ? *nl : '\0';
		if (nl)
			*nl = '\0';
		CHECK(proto_name_valid(p));
		n++;
		if (!nl)
			break;
		*nl = save;
	}
	CHECK(n == z.count);
	body_zip_clear(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	check_login(buf, size);
	check_op(buf, size);
	check_zip(buf, size, PROTO_ZIP_MAX_NAMES);
	check_zip(buf, size, 64);
	return 0;
}
