/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/davxml.h - WebDAV's XML: the request bodies of PROPFIND, PROPPATCH
 * and LOCK parsed (expat, with namespaces), and a small buffer that builds
 * the answers (multistatus, lockdiscovery) with escaping.
 *
 * Request bodies are hostile. The parser refuses any DOCTYPE (so no DTD, no
 * entity declaration, no external entity is ever read or expanded; expat's
 * parameter-entity parsing stays off and no external entity handler is set),
 * refuses more than DAVXML_MAX_DEPTH nested elements and more than
 * DAVXML_MAX_NODES elements, and gets at most the gateway's body cap
 * (GW_MAX_JSON_BODY, enforced by the router: 413). Any failure is -EINVAL
 * (400), or -ENOMEM.
 *
 * Pure: no I/O, no global state. Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DAVXML_MAX_DEPTH 32
#define DAVXML_MAX_NODES 4096
#define DAVXML_MAX_PROPS 256 /* properties named in one PROPFIND or PROPPATCH */

/* A property's qualified name. */
struct davxml_prop {
	char *ns;    /* namespace URI ("" for none); owned */
	char *name;  /* local name; owned */
	bool remove; /* PROPPATCH: in a <remove> (else a <set>) */
	char *value; /* PROPPATCH set: the property's text (its character data
			directly inside), or NULL; owned */
};

enum davxml_propfind_kind {
	DAVXML_ALLPROP, /* also an empty body */
	DAVXML_PROPNAME,
	DAVXML_PROP,
};

struct davxml_propfind {
	enum davxml_propfind_kind kind;
	size_t n;		   /* DAVXML_PROP: the properties asked for */
	struct davxml_prop *props; /* owned */
};

/*
 * Parses a PROPFIND body (@len bytes; 0 means allprop). Returns 0 and fills
 * *@ret (free with davxml_propfind_clear()), or -EINVAL (not well-formed, a
 * DOCTYPE, not a DAV:propfind, none or two of allprop/propname/prop, too deep
 * or too many elements), -ENOMEM; *@ret untouched on failure.
 */
int davxml_parse_propfind(const char *body, size_t len, struct davxml_propfind *ret);
void davxml_propfind_clear(struct davxml_propfind *p);

/*
 * Parses a PROPPATCH body: DAV:propertyupdate holding DAV:set and DAV:remove,
 * each with one DAV:prop. The properties, in document order, go to *@ret_props
 * (*@ret_n of them; free with davxml_props_free()), each with its text value.
 * Returns 0, -EINVAL (as above; also no property at all), -ENOMEM.
 */
int davxml_parse_proppatch(const char *body, size_t len, struct davxml_prop **ret_props,
			   size_t *ret_n);
void davxml_props_free(struct davxml_prop *props, size_t n);

/*
 * Parses a LOCK body: DAV:lockinfo with DAV:lockscope (exclusive|shared),
 * DAV:locktype (write) and an optional DAV:owner. *@ret_owner gets the owner's
 * content again as XML (DAV elements with the "D:" prefix, others with their
 * own xmlns, text escaped), or NULL without an owner (caller frees).
 * Returns 0, -EINVAL, -ENOMEM; outputs untouched on failure.
 */
int davxml_parse_lockinfo(const char *body, size_t len, bool *ret_exclusive, char **ret_owner);

/* ---- building answers ---- */

struct davxml_buf {
	char *p; /* NUL-terminated; owned (take it with davxml_buf_take()) */
	size_t len, cap;
	bool oom; /* an append failed: the buffer is unusable */
};

/* Appends @s as it is. */
void davxml_put(struct davxml_buf *b, const char *s);
/* Appends printf-style. */
void davxml_putf(struct davxml_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends @s (UTF-8) escaped for text and attribute values (& < > " ');
 * what XML 1.0 cannot carry at all (control characters other than tab, LF,
 * CR; U+FFFE, U+FFFF) becomes U+FFFD, so the document stays well-formed. */
void davxml_put_text(struct davxml_buf *b, const char *s);
/* "<D:name/>" for DAV:, else "<X:name xmlns:X="ns"/>" (@ns escaped). */
void davxml_put_empty_prop(struct davxml_buf *b, const char *ns, const char *name);
/* Gives the text away (caller frees) and resets @b; NULL after an failed append. */
char *davxml_buf_take(struct davxml_buf *b, size_t *ret_len);
void davxml_buf_clear(struct davxml_buf *b);
