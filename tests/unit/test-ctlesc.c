/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-ctlesc.c - unit tests of gateway/ctl/ctlesc.c: what
 * smbgatectl's table prints of a name a user chose.
 *
 * Table-driven with exact expected outputs; inputs are passed in heap
 * buffers of exactly their size, so a read past the end shows under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ctl/ctlesc.h"
#include "unit.h"

struct esc_case {
	const char *in;
	size_t len; /* of the output buffer */
	const char *out;
};

static void test_escape(void **state)
{
	static const struct esc_case cases[] = {
	    {"alice", 80, "alice"},
	    {"", 80, ""},
	    /* the column separators and line breaks a name could fake */
	    {"ACME\\alice", 80, "ACME\\\\alice"},
	    {"eve\n42  root  fixture", 80, "eve\\n42  root  fixture"},
	    {"a\rb\tc", 80, "a\\rb\\tc"},
	    {"a\x1b[2Jb\x7f", 80, "a\\x1b[2Jb\\x7f"},
	    /* bidi overrides and isolates, zero-width and format characters */
	    {"eve\xe2\x80\xaetxt.exe", 80, "eve\\u202etxt.exe"},
	    {"\xe2\x81\xa6x\xe2\x81\xa9", 80, "\\u2066x\\u2069"},
	    {"a\xe2\x80\x8b"
	     "b\xef\xbb\xbf"
	     "c\xd8\x9c",
	     80, "a\\u200bb\\ufeffc\\u061c"},
	    {"l\xe2\x80\xa8p\xe2\x80\xa9", 80, "l\\u2028p\\u2029"},
	    {"c1\xc2\x85\xc2\x9b", 80, "c1\\u0085\\u009b"},
	    /* letters of any script stay as they are */
	    {"J\xc3\xbcrgen \xe5\xbc\xa0\xe4\xb8\x89 \xf0\x9f\x98\x80", 80,
	     "J\xc3\xbcrgen \xe5\xbc\xa0\xe4\xb8\x89 \xf0\x9f\x98\x80"},
	    /* what is not UTF-8: each byte as \xNN */
	    {"a\xff\xc3(\xed\xa0\x80\xc0\xaf", 80, "a\\xff\\xc3(\\xed\\xa0\\x80\\xc0\\xaf"},
	    {"\xe2\x80", 80, "\\xe2\\x80"},
	    /* cut: never inside an escape or a character, "..." said */
	    {"abcdefghij", 8, "abcd..."},
	    {"abcdefg", 8, "abcdefg"},
	    {"abc\\\\\\\\", 8, "abc..."},
	    {"ab\xe2\x80\xae", 8, "ab..."},
	    {"ab\xc3\xbc\xc3\xbc\xc3\xbc", 8, "ab\xc3\xbc..."},
	    {"abc", 3, "ab"},
	    {"abcdef", 3, "ab"},
	    {"\\x", 2, ""},
	    {"abc", 1, ""},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY(cases); i++) {
		char *in = exact_copy(cases[i].in), *out = malloc(cases[i].len);
		size_t n;

		assert_non_null(out);
		n = ctl_escape(out, cases[i].len, in);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
		free(out);
		free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
