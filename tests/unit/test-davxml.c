/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-davxml.c - unit tests of gateway/dav/davxml.c: PROPFIND,
 * PROPPATCH and LOCK bodies (namespaces, refusals of DOCTYPEs and entities,
 * depth and size caps, malformed XML) and the answer buffer's escaping.
 * Inputs are passed in heap buffers of exactly their size (no NUL), so a
 * read past the end shows under ASan.
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

#include "dav/davxml.h"

static char *exact(const char *s, size_t *len)
{
	*len = strlen(s);
	char *p = calloc(1, *len ? *len : 1);
	assert_non_null(p);
	memcpy(p, s, *len);
	return p;
}

static int propfind(const char *body, struct davxml_propfind *pf)
{
	size_t n;
	char *b = exact(body, &n);
	int r = davxml_parse_propfind(b, n, pf);
	free(b);
	return r;
}

static void test_propfind_kinds(void **state)
{
	struct davxml_propfind pf;
	(void)state;

	assert_int_equal(davxml_parse_propfind(NULL, 0, &pf), 0);
	assert_int_equal(pf.kind, DAVXML_ALLPROP);
	assert_int_equal(propfind("<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><allprop/>"
				  "</propfind>",
				  &pf),
			 0);
	assert_int_equal(pf.kind, DAVXML_ALLPROP);
	assert_int_equal(propfind("<D:propfind xmlns:D=\"DAV:\"><D:propname/></D:propfind>", &pf),
			 0);
	assert_int_equal(pf.kind, DAVXML_PROPNAME);
	assert_int_equal(propfind("<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/>"
				  "<x:q xmlns:x=\"urn:x\"/><plain xmlns=\"\"/></D:prop>"
				  "</D:propfind>",
				  &pf),
			 0);
	assert_int_equal(pf.kind, DAVXML_PROP);
	assert_int_equal(pf.n, 3);
	assert_string_equal(pf.props[0].ns, "DAV:");
	assert_string_equal(pf.props[0].name, "getetag");
	assert_string_equal(pf.props[1].ns, "urn:x");
	assert_string_equal(pf.props[1].name, "q");
	assert_string_equal(pf.props[2].ns, "");
	assert_string_equal(pf.props[2].name, "plain");
	davxml_propfind_clear(&pf);
}

static void test_propfind_refused(void **state)
{
	static const char *const bad[] = {
	    "<propfind xmlns=\"DAV:\">", /* not well-formed */
	    "<propfind xmlns=\"DAV:\"><allprop/></propfinx>",
	    "<propfind><allprop/></propfind>", /* not in DAV: */
	    "<D:propfind xmlns:D=\"urn:other\"><D:allprop/></D:propfind>",
	    "<D:propfind xmlns:D=\"DAV:\"></D:propfind>", /* nothing asked */
	    "<D:propfind xmlns:D=\"DAV:\"><D:allprop/><D:propname/></D:propfind>",
	    "<D:propfind xmlns:D=\"DAV:\"><D:prop/><D:prop/></D:propfind>",
	    "<D:lockinfo xmlns:D=\"DAV:\"/>",
	    /* DTDs and entities: never read, never expanded */
	    "<!DOCTYPE propfind [<!ENTITY x \"y\">]><propfind xmlns=\"DAV:\"><allprop/>"
	    "</propfind>",
	    "<!DOCTYPE propfind SYSTEM \"file:///etc/passwd\"><propfind xmlns=\"DAV:\">"
	    "<allprop/></propfind>",
	    "<propfind xmlns=\"DAV:\"><prop><a>&xxe;</a></prop></propfind>",
	    "\xff\xfe<",
	    "",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct davxml_propfind pf = {.n = 99};
		size_t n;
		char *b = exact(bad[i], &n);
		/* An empty body is allprop (length 0), so "" is given one byte more. */
		int r = davxml_parse_propfind(b, n ? n : 1, &pf);
		free(b);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(pf.n, 99);
	}
}

static void test_caps(void **state)
{
	struct davxml_propfind pf;
	char *deep = malloc(64 * 1024);
	(void)state;

	/* Nesting past DAVXML_MAX_DEPTH. */
	strcpy(deep, "<D:propfind xmlns:D=\"DAV:\"><D:prop>");
	for (int i = 0; i < DAVXML_MAX_DEPTH; i++)
		strcat(deep, "<a>");
	for (int i = 0; i < DAVXML_MAX_DEPTH; i++)
		strcat(deep, "</a>");
	strcat(deep, "</D:prop></D:propfind>");
	assert_int_equal(propfind(deep, &pf), -EINVAL);
	/* More properties than DAVXML_MAX_PROPS. */
	strcpy(deep, "<D:propfind xmlns:D=\"DAV:\"><D:prop>");
	for (int i = 0; i <= DAVXML_MAX_PROPS; i++)
		strcat(deep, "<a/>");
	strcat(deep, "</D:prop></D:propfind>");
	assert_int_equal(propfind(deep, &pf), -EINVAL);
	/* Exactly DAVXML_MAX_PROPS is fine. */
	strcpy(deep, "<D:propfind xmlns:D=\"DAV:\"><D:prop>");
	for (int i = 0; i < DAVXML_MAX_PROPS; i++)
		strcat(deep, "<a/>");
	strcat(deep, "</D:prop></D:propfind>");
	assert_int_equal(propfind(deep, &pf), 0);
	assert_int_equal(pf.n, DAVXML_MAX_PROPS);
	davxml_propfind_clear(&pf);
	free(deep);
}

static void test_proppatch(void **state)
{
	const char *body =
	    "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:schemas-microsoft-com:\">"
	    "<D:set><D:prop><Z:Win32LastModifiedTime>Tue, 01 Dec 2026 00:00:00 GMT"
	    "</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>"
	    "</D:prop></D:set><D:remove><D:prop><x xmlns=\"urn:y\"/></D:prop></D:remove>"
	    "</D:propertyupdate>";
	struct davxml_prop *props = NULL;
	size_t n = 0, len;
	char *b = exact(body, &len);
	(void)state;

	assert_int_equal(davxml_parse_proppatch(b, len, &props, &n), 0);
	free(b);
	assert_int_equal(n, 3);
	assert_string_equal(props[0].name, "Win32LastModifiedTime");
	assert_string_equal(props[0].ns, "urn:schemas-microsoft-com:");
	assert_false(props[0].remove);
	assert_string_equal(props[2].name, "x");
	assert_true(props[2].remove);
	davxml_props_free(props, n);

	b = exact("<D:propertyupdate xmlns:D=\"DAV:\"/>", &len);
	props = NULL;
	n = 7;
	assert_int_equal(davxml_parse_proppatch(b, len, &props, &n), -EINVAL);
	assert_int_equal(n, 7);
	free(b);
}

static void test_lockinfo(void **state)
{
	const char *body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
			   "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope>"
			   "<D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:a&amp;b"
			   "</D:href><x:n xmlns:x=\"urn:&quot;q\">&lt;&gt;</x:n></D:owner>"
			   "</D:lockinfo>";
	bool ex = true;
	char *owner = NULL;
	size_t len;
	char *b = exact(body, &len);
	(void)state;

	assert_int_equal(davxml_parse_lockinfo(b, len, &ex, &owner), 0);
	free(b);
	assert_false(ex);
	assert_string_equal(owner,
			    "<D:href>mailto:a&amp;b</D:href><n xmlns=\"urn:&quot;q\">&lt;&gt;"
			    "</n>");
	free(owner);

	b = exact("<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
		  "<D:locktype><D:write/></D:locktype></D:lockinfo>",
		  &len);
	owner = (char *)"x";
	assert_int_equal(davxml_parse_lockinfo(b, len, &ex, &owner), 0);
	assert_true(ex);
	assert_null(owner);
	free(b);

	static const char *const bad[] = {
	    "<D:lockinfo xmlns:D=\"DAV:\"><D:locktype><D:write/></D:locktype></D:lockinfo>",
	    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/><D:shared/></D:lockscope>"
	    "<D:locktype><D:write/></D:locktype></D:lockinfo>",
	    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
	    "<D:locktype><D:read/></D:locktype></D:lockinfo>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = exact(bad[i], &len);
		owner = NULL;
		assert_int_equal(davxml_parse_lockinfo(b, len, &ex, &owner), -EINVAL);
		assert_null(owner);
		free(b);
	}
}

static void test_buffer(void **state)
{
	struct davxml_buf b = {0};
	size_t len;
	(void)state;

	davxml_put(&b, "<a>");
	davxml_put_text(&b, "x&y<z>\"'");
	davxml_putf(&b, "%d", 42);
	davxml_put_empty_prop(&b, "DAV:", "getetag");
	davxml_put_empty_prop(&b, "urn:a&b", "n");
	davxml_put_empty_prop(&b, "", "e");
	char *s = davxml_buf_take(&b, &len);
	assert_string_equal(s, "<a>x&amp;y&lt;z&gt;&quot;&apos;42<D:getetag/>"
			       "<X:n xmlns:X=\"urn:a&amp;b\"/><e xmlns=\"\"/>");
	assert_int_equal(len, strlen(s));
	free(s);
	/* What XML 1.0 cannot carry becomes U+FFFD (found by fuzz-listing: a
	 * file named with U+FFFF made the whole multistatus unreadable). */
	davxml_put_text(&b, "a\xef\xbf\xbf b\xef\xbf\xbe c\x01 \t\xef\xbf\xbd \xef\xbc\x8e");
	s = davxml_buf_take(&b, &len);
	assert_string_equal(
	    s, "a\xef\xbf\xbd b\xef\xbf\xbd c\xef\xbf\xbd \t\xef\xbf\xbd \xef\xbc\x8e");
	free(s);
	/* A long formatted piece grows the buffer. */
	char big[5000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	davxml_putf(&b, "[%s]", big);
	s = davxml_buf_take(&b, &len);
	assert_int_equal(len, sizeof(big) + 1);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_propfind_kinds), cmocka_unit_test(test_propfind_refused),
	    cmocka_unit_test(test_caps),	   cmocka_unit_test(test_proppatch),
	    cmocka_unit_test(test_lockinfo),	   cmocka_unit_test(test_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
