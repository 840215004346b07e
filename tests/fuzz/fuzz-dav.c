/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz-dav.c - fuzz target of WebDAV's request parsers: the XML
 * bodies (davxml_parse_propfind(), _proppatch(), _lockinfo() in
 * gateway/dav/davxml.c, through expat) and the If header (davlock_if_parse() in
 * gateway/dav/davlock.c).
 *
 * The input is given to each (the If parser gets it NUL-terminated). None may
 * crash, leak or read out of bounds; a failure must be -EINVAL (or -ENOMEM)
 * and leave the outputs untouched. On success the results are consistent:
 * a PROP propfind names at most DAVXML_MAX_PROPS properties (others none) with non-empty names,
 * an If header has lists of 1.. conditions, at most DAVLOCK_IF_MAX in all,
 * with non-empty values.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) or with run-corpus.c, a
 * plain driver that runs as a meson test; see README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dav/davlock.h"
#include "dav/davxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct davxml_propfind pf = {.n = 12345};
	int r = davxml_parse_propfind(body, size, &pf);

	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0) {
		CHECK(pf.kind == DAVXML_PROP ? pf.n <= DAVXML_MAX_PROPS : pf.n == 0);
		for (size_t i = 0; i < pf.n; i++)
			CHECK(pf.props[i].name[0] && pf.props[i].ns);
		davxml_propfind_clear(&pf);
	} else {
		CHECK(pf.n == 12345);
	}

	struct davxml_prop *props = NULL;
	size_t n = 777;
	r = davxml_parse_proppatch(body, size, &props, &n);
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0) {
		CHECK(n >= 1 && n <= DAVXML_MAX_PROPS);
		davxml_props_free(props, n);
	} else {
		CHECK(n == 777 && props == NULL);
	}

	bool ex = false;
	char *owner = (char *)"untouched";
	r = davxml_parse_lockinfo(body, size, &ex, &owner);
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0)
		free(owner);
	else
		CHECK(strcmp(owner, "untouched") == 0);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct davlock_if h = {.n = 4242};
	r = davlock_if_parse(s, &h);
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0) {
		size_t total = 0;
		CHECK(h.n >= 1);
		for (size_t i = 0; i < h.n; i++) {
			CHECK(h.lists[i].n >= 1);
			total += h.lists[i].n;
			for (size_t j = 0; j < h.lists[i].n; j++)
				CHECK(h.lists[i].c[j].value[0]);
		}
		CHECK(total <= DAVLOCK_IF_MAX);
		davlock_if_clear(&h);
	} else {
		CHECK(h.n == 4242);
	}
	free(s);
	return 0;
}
