/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/davxml.c - WebDAV request bodies through expat into a small tree,
 * and the answer buffer. See davxml.h.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "dav/davxml.h"

#define NS_SEP	 '\x01' /* between namespace and local name in expat's names */
#define MAX_TEXT (64 * 1024)

struct node {
	char *ns, *name;
	char *text; /* character data directly inside (owner serialisation) */
	size_t text_len;
	struct node *parent, *child, *last, *next;
};

struct tree {
	struct node *root, *cur;
	unsigned depth, nodes;
	bool failed; /* -EINVAL */
	bool oom;
	XML_Parser p;
};

static void node_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		node_free(n->child);
		free(n->ns);
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

static void stop(struct tree *t, bool oom)
{
	if (oom)
		t->oom = true;
	else
		t->failed = true;
	XML_StopParser(t->p, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *qname, const XML_Char **attrs)
{
	struct tree *t = ud;
	const char *sep = strchr(qname, NS_SEP);
	struct node *n;

	(void)attrs;
	if (t->failed || t->oom)
		return;
	if (++t->depth > DAVXML_MAX_DEPTH || ++t->nodes > DAVXML_MAX_NODES) {
		stop(t, false);
		return;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		stop(t, true);
		return;
	}
	n->ns = sep ? strndup(qname, (size_t)(sep - qname)) : strdup("");
	n->name = strdup(sep ? sep + 1 : qname);
	if (!n->ns || !n->name) {
		node_free(n);
		stop(t, true);
		return;
	}
	n->parent = t->cur;
	if (t->cur) {
		if (t->cur->last)
			t->cur->last->next = n;
		else
			t->cur->child = n;
		t->cur->last = n;
	} else {
		t->root = n;
	}
	t->cur = n;
}

static void XMLCALL on_end(void *ud, const XML_Char *qname)
{
	struct tree *t = ud;

	(void)qname;
	if (t->failed || t->oom || !t->cur)
		return;
	t->depth--;
	t->cur = t->cur->parent;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct tree *t = ud;
	struct node *n = t->cur;

	if (t->failed || t->oom || !n || len <= 0)
		return;
	if (n->text_len + (size_t)len > MAX_TEXT) {
		stop(t, false);
		return;
	}
	char *nt = realloc(n->text, n->text_len + (size_t)len + 1);
	if (!nt) {
		stop(t, true);
		return;
	}
	memcpy(nt + n->text_len, s, (size_t)len);
	n->text = nt;
	n->text_len += (size_t)len;
	nt[n->text_len] = '\0';
}

/* Any DOCTYPE: no DTD, internal or external, is ever looked at. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	stop(ud, false);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
				   const XML_Char *value, int value_len, const XML_Char *base,
				   const XML_Char *sysid, const XML_Char *pubid,
				   const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
	(void)pubid, (void)notation;
	stop(ud, false);
}

/* Parses @body into a tree; returns 0 and *@ret (free with node_free()). */
static int parse(const char *body, size_t len, struct node **ret)
{
	struct tree t = {0};
	int err = 0;

	if (len > (size_t)1 << 30)
		return -EINVAL;
	t.p = XML_ParserCreateNS(NULL, NS_SEP);
	if (!t.p)
		return -ENOMEM;
	XML_SetUserData(t.p, &t);
	XML_SetElementHandler(t.p, on_start, on_end);
	XML_SetCharacterDataHandler(t.p, on_text);
	XML_SetStartDoctypeDeclHandler(t.p, on_doctype);
	XML_SetEntityDeclHandler(t.p, on_entity_decl);
	XML_SetParamEntityParsing(t.p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(t.p, body, (int)len, XML_TRUE) != XML_STATUS_OK || t.failed || t.oom ||
	    !t.root)
		err = t.oom ? -ENOMEM : -EINVAL;
	XML_ParserFree(t.p);
	if (err) {
		node_free(t.root);
		return err;
	}
	*ret = t.root;
	return 0;
}

static bool is_dav(const struct node *n, const char *name)
{
	return n && strcmp(n->ns, "DAV:") == 0 && strcmp(n->name, name) == 0;
}

static const struct node *dav_child(const struct node *n, const char *name, unsigned *count)
{
	const struct node *found = NULL;

	*count = 0;
	for (const struct node *c = n->child; c; c = c->next)
		if (is_dav(c, name)) {
			if (!found)
				found = c;
			(*count)++;
		}
	return found;
}

void davxml_props_free(struct davxml_prop *props, size_t n)
{
	for (size_t i = 0; props && i < n; i++) {
		free(props[i].ns);
		free(props[i].name);
		free(props[i].value);
	}
	free(props);
}

/* Appends the children of @prop (a DAV:prop) to *@props. */
static int add_props(const struct node *prop, bool remove, struct davxml_prop **props, size_t *n)
{
	for (const struct node *c = prop->child; c; c = c->next) {
		if (*n >= DAVXML_MAX_PROPS)
			return -EINVAL;
		struct davxml_prop *np = realloc(*props, (*n + 1) * sizeof(**props));
		if (!np)
			return -ENOMEM;
		*props = np;
		np[*n] = (struct davxml_prop){strdup(c->ns), strdup(c->name), remove,
					      c->text ? strdup(c->text) : NULL};
		if (!np[*n].ns || !np[*n].name || (c->text && !np[*n].value)) {
			free(np[*n].ns);
			free(np[*n].name);
			free(np[*n].value);
			return -ENOMEM;
		}
		(*n)++;
	}
	return 0;
}

int davxml_parse_propfind(const char *body, size_t len, struct davxml_propfind *ret)
{
	struct node *root = NULL;
	struct davxml_propfind pf = {DAVXML_ALLPROP, 0, NULL};
	unsigned na, nn, np;
	int err;

	if (len == 0) {
		*ret = pf;
		return 0;
	}
	err = parse(body, len, &root);
	if (err)
		return err;
	err = -EINVAL;
	if (!is_dav(root, "propfind"))
		goto out;
	dav_child(root, "allprop", &na);
	dav_child(root, "propname", &nn);
	const struct node *prop = dav_child(root, "prop", &np);
	if (na + nn + np != 1)
		goto out;
	if (nn)
		pf.kind = DAVXML_PROPNAME;
	if (np) {
		pf.kind = DAVXML_PROP;
		err = add_props(prop, false, &pf.props, &pf.n);
		if (err) {
			davxml_props_free(pf.props, pf.n);
			goto out;
		}
	}
	*ret = pf;
	err = 0;
out:
	node_free(root);
	return err;
}

void davxml_propfind_clear(struct davxml_propfind *p)
{
	if (!p)
		return;
	davxml_props_free(p->props, p->n);
	*p = (struct davxml_propfind){0};
}

int davxml_parse_proppatch(const char *body, size_t len, struct davxml_prop **ret_props,
			   size_t *ret_n)
{
	struct node *root = NULL;
	struct davxml_prop *props = NULL;
	size_t n = 0;
	int err = parse(body, len, &root);

	if (err)
		return err;
	err = -EINVAL;
	if (!is_dav(root, "propertyupdate"))
		goto out;
	for (const struct node *c = root->child; c; c = c->next) {
		bool set = is_dav(c, "set"), rm = is_dav(c, "remove");
		unsigned np;
		if (!set && !rm)
			continue; /* unknown elements are ignored (RFC 4918 17) */
		const struct node *prop = dav_child(c, "prop", &np);
		if (np != 1)
			goto out;
		err = add_props(prop, rm, &props, &n);
		if (err)
			goto out;
		err = -EINVAL;
	}
	if (n == 0)
		goto out;
	*ret_props = props;
	*ret_n = n;
	props = NULL;
	err = 0;
out:
	davxml_props_free(props, n);
	node_free(root);
	return err;
}

/* Serialises the content of @n (children and text) as XML into @b. */
static void put_content(struct davxml_buf *b, const struct node *n)
{
	if (n->text)
		davxml_put_text(b, n->text);
	for (const struct node *c = n->child; c; c = c->next) {
		bool dav = strcmp(c->ns, "DAV:") == 0;
		if (dav) {
			davxml_putf(b, "<D:%s>", c->name);
		} else {
			davxml_putf(b, "<%s xmlns=\"", c->name);
			davxml_put_text(b, c->ns);
			davxml_put(b, "\">");
		}
		put_content(b, c);
		davxml_putf(b, "</%s%s>", dav ? "D:" : "", c->name);
	}
}

int davxml_parse_lockinfo(const char *body, size_t len, bool *ret_exclusive, char **ret_owner)
{
	struct node *root = NULL;
	unsigned ns, nt, no, n1;
	int err = parse(body, len, &root);

	if (err)
		return err;
	err = -EINVAL;
	if (!is_dav(root, "lockinfo"))
		goto out;
	const struct node *scope = dav_child(root, "lockscope", &ns);
	const struct node *type = dav_child(root, "locktype", &nt);
	const struct node *owner = dav_child(root, "owner", &no);
	if (ns != 1 || nt != 1 || no > 1)
		goto out;
	const struct node *ex = dav_child(scope, "exclusive", &n1);
	unsigned n2;
	dav_child(scope, "shared", &n2);
	if (n1 + n2 != 1)
		goto out;
	dav_child(type, "write", &n1);
	if (n1 != 1)
		goto out;
	char *o = NULL;
	if (owner) {
		struct davxml_buf b = {0};
		davxml_put(&b, "");
		put_content(&b, owner);
		o = davxml_buf_take(&b, NULL);
		if (!o) {
			err = -ENOMEM;
			goto out;
		}
	}
	*ret_exclusive = ex != NULL;
	*ret_owner = o;
	err = 0;
out:
	node_free(root);
	return err;
}

/* ---- the answer buffer ---- */

static void grow(struct davxml_buf *b, size_t more)
{
	if (b->oom)
		return;
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void put_n(struct davxml_buf *b, const char *s, size_t n)
{
	grow(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void davxml_put(struct davxml_buf *b, const char *s)
{
	put_n(b, s, strlen(s));
}

void davxml_putf(struct davxml_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		put_n(b, small, (size_t)n);
		return;
	}
	grow(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void davxml_put_text(struct davxml_buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		case '\xef':
			/* U+FFFE and U+FFFF, which a file name may hold (NTFS
			 * names are UTF-16 units), are no XML 1.0 characters,
			 * not even as &#xFFFF;: U+FFFD instead. */
			if (s[1] == '\xbf' && (s[2] == '\xbe' || s[2] == '\xbf')) {
				put_n(b, run, (size_t)(s - run));
				davxml_put(b, "\xef\xbf\xbd");
				s += 2;
				run = s + 1;
			}
			continue;
		default:
			/* Control characters (no name holds them) likewise. */
			if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n' || *s == '\r')
				continue;
			rep = "\xef\xbf\xbd";
			break;
		}
		put_n(b, run, (size_t)(s - run));
		davxml_put(b, rep);
		run = s + 1;
	}
	put_n(b, run, (size_t)(s - run));
}

void davxml_put_empty_prop(struct davxml_buf *b, const char *ns, const char *name)
{
	if (strcmp(ns, "DAV:") == 0) {
		davxml_putf(b, "<D:%s/>", name);
		return;
	}
	if (!*ns) {
		davxml_putf(b, "<%s xmlns=\"\"/>", name);
		return;
	}
	davxml_putf(b, "<X:%s xmlns:X=\"", name);
	davxml_put_text(b, ns);
	davxml_put(b, "\"/>");
}

char *davxml_buf_take(struct davxml_buf *b, size_t *ret_len)
{
	char *p = b->oom ? NULL : b->p;

	if (b->oom)
		free(b->p);
	if (ret_len)
		*ret_len = p ? b->len : 0;
	*b = (struct davxml_buf){0};
	return p;
}

void davxml_buf_clear(struct davxml_buf *b)
{
	free(b->p);
	*b = (struct davxml_buf){0};
}
