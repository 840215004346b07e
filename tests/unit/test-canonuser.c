/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-canonuser.c - gateway/auth/canonuser.c: one canonical user per
 * account, whatever the spelling; what a login name sends to the server.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/canonuser.h"

static char out[GW_CANON_USER_MAX + 1];

static const char *canon(const char *login)
{
	memset(out, 'x', sizeof(out));
	return gw_canon_user(login, out) == 0 ? out : "<error>";
}

static void test_spellings(void **state)
{
	(void)state;
	static const char *const alice[] = {
	    "alice",	     "ALICE",	       "Alice",
	    "ACME\\alice",   "acme\\ALICE",    "X\\Y\\alice",
	    "\\alice",	     "alice@ACME",     "ALICE@acme.example",
	    "ACME\\alice@x", "a\\b\\c\\AliCe", "WORKGROUP\\alice",
	};
	for (size_t i = 0; i < sizeof(alice) / sizeof(alice[0]); i++)
		assert_string_equal(canon(alice[i]), "alice");
	assert_string_equal(canon("smbfix_alice"), "smbfix_alice");
	assert_string_equal(canon("SMBFIX_ALICE"), "smbfix_alice");
	assert_string_equal(canon("bob"), "bob");
	/* Unicode lower case, as the server compares names */
	assert_string_equal(canon("ÉLODIE"), "élodie");
	assert_string_equal(canon("ACME\\ΣΩΚΡΆΤΗΣ"),
			    "σωκράτησ"); /* simple lower case, no final sigma */
	assert_string_equal(canon("Ǆemal"), "ǆemal");
	/* what is not a letter stays */
	assert_string_equal(canon("a.b-c_d 1"), "a.b-c_d 1");
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"",	  "ACME\\",    "@ACME",	   "ACME\\@x",	  "X\\Y\\",
					  "\xff", "al\xc3ice", "\xc0\xaf", "\xed\xa0\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(gw_canon_user(bad[i], out), -EINVAL);
		assert_string_equal(out, "");
	}
	/* the longest login name (256 bytes) of letters that grow in lower case fits */
	char big[257] = "";
	for (size_t i = 0; i + 2 <= 256; i += 2)
		strcat(big, "\xc8\xba"); /* U+023A, lower case U+2C65: 3 bytes */
	assert_int_equal(gw_canon_user(big, out), 0);
	assert_int_equal(strlen(out), 128 * 3);
}

static void test_split(void **state)
{
	static const struct {
		const char *login, *workgroup;
		int ret;
		const char *domain, *account;
	} cases[] = {
	    {"alice", "WG", 0, "WG", "alice"},
	    {"ACME\\alice", "WG", 0, "ACME", "alice"},
	    {"X\\Y\\alice", "WG", 0, "X", "Y\\alice"},
	    /* the UPN form: the account and its realm */
	    {"alice@ACME", "WG", 0, "ACME", "alice"},
	    {"alice@acme.example", NULL, 0, "acme.example", "alice"},
	    {"alice", NULL, 0, "", "alice"},
	    /* refused: no account, or a part too long; the outputs "" */
	    {"ACME\\", "WG", -EINVAL, "", ""},
	    {"@ACME", "WG", -EINVAL, "", ""},
	    {"a-very-long-account-name", "WG", -EINVAL, "", ""},
	};
	char d[16], a[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(d, 'x', sizeof(d));
		memset(a, 'x', sizeof(a));
		assert_int_equal(
		    gw_login_split(cases[i].login, cases[i].workgroup, d, a, sizeof(d)),
		    cases[i].ret);
		assert_string_equal(d, cases[i].domain);
		assert_string_equal(a, cases[i].account);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spellings),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
