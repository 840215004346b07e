/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/dav/davms.c - WebDAV's multistatus encoder (davms.h).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/davms.h"
#include "http/httputil.h"
#include "http/path.h"

/* "/dav/server/share/path" percent-encoded, '/' at the end for @collection. */
char *davms_href(const char *server, const char *share, const char *path, bool collection)
{
	struct davxml_buf b = {0};
	const char *segs[3] = {server, share, path};

	davxml_put(&b, "/dav/");
	for (int i = 0; i < 3 && segs[i] && *segs[i]; i++) {
		char *e = gw_path_encode(segs[i]);
		if (!e) {
			davxml_buf_clear(&b);
			return NULL;
		}
		davxml_putf(&b, "%s%s", i ? "/" : "", e);
		free(e);
	}
	if (collection && b.p && b.p[b.len - 1] != '/')
		davxml_put(&b, "/");
	return davxml_buf_take(&b, NULL);
}

/* The lock table's key of a resource: "server/share[/path]" (decoded). */
char *davms_key(const char *server, const char *share, const char *path)
{
	char *k = NULL;

	if (asprintf(&k, "%s/%s%s%s", server, share, *path ? "/" : "", path) < 0)
		return NULL;
	return k;
}

static const char *const live_props[] = {
    "resourcetype", "displayname",    "getlastmodified", "creationdate",  "getcontentlength",
    "getetag",	    "getcontenttype", "supportedlock",	 "lockdiscovery",
};

void davms_activelock(struct davxml_buf *b, const struct davlock_info *l)
{
	char *root = NULL;
	char *enc = gw_path_encode(l->key);
	if (enc && asprintf(&root, "/dav/%s", enc) < 0)
		root = NULL;
	free(enc);
	davxml_putf(b,
		    "<D:activelock><D:locktype><D:write/></D:locktype>"
		    "<D:lockscope><D:%s/></D:lockscope><D:depth>%s</D:depth>",
		    l->exclusive ? "exclusive" : "shared", l->infinite ? "infinity" : "0");
	if (l->owner) {
		davxml_put(b, "<D:owner>");
		davxml_put(b, l->owner);
		davxml_put(b, "</D:owner>");
	}
	davxml_putf(b,
		    "<D:timeout>Second-%u</D:timeout><D:locktoken><D:href>%s</D:href>"
		    "</D:locktoken>",
		    l->timeout, l->token);
	if (root) {
		davxml_put(b, "<D:lockroot><D:href>");
		davxml_put_text(b, root);
		davxml_put(b, "</D:href></D:lockroot>");
	}
	davxml_put(b, "</D:activelock>");
	free(root);
}

struct discovery {
	struct davxml_buf *b;
	const struct davms_res *x;
};

static void each_activelock(void *ud, const struct davlock_info *info)
{
	struct discovery *d = ud;
	size_t *used = d->x->inherited;
	bool inherited = strcmp(info->key, d->x->key) != 0;

	if (!inherited || !used) {
		davms_activelock(d->b, info);
		return;
	}
	if (*used >= DAVMS_INHERITED_MAX)
		return;
	size_t before = d->b->len;
	davms_activelock(d->b, info);
	*used += d->b->len - before;
}

/* Writes the value of DAV:@name of @x (or only its name with @name_only)
 * when it is one of the properties of its content (dates, length, ETag,
 * type, quota); false when it is not or @x has no such property. */
static bool put_live_content(struct davxml_buf *b, const char *name, const struct davms_res *x,
			     bool name_only)
{
	char v[48];

	if (strcmp(name, "getlastmodified") == 0 || strcmp(name, "creationdate") == 0) {
		if (!x->stat)
			return false;
		if (name[0] == 'g')
			gw_http_date(x->st.mtime, v);
		else
			gw_rfc3339(x->st.mtime, v);
		if (name_only)
			davxml_putf(b, "<D:%s/>", name);
		else
			davxml_putf(b, "<D:%s>%s</D:%s>", name, v, name);
		return true;
	}
	if (x->collection && (strcmp(name, "getcontentlength") == 0 ||
			      strcmp(name, "getetag") == 0 || strcmp(name, "getcontenttype") == 0))
		return false;
	if (strcmp(name, "getcontentlength") == 0) {
		if (name_only)
			davxml_put(b, "<D:getcontentlength/>");
		else
			davxml_putf(b, "<D:getcontentlength>%llu</D:getcontentlength>",
				    (unsigned long long)x->st.size);
		return true;
	}
	if (strcmp(name, "getetag") == 0) {
		gw_etag(&x->st, v);
		if (name_only)
			davxml_put(b, "<D:getetag/>");
		else {
			davxml_put(b, "<D:getetag>");
			davxml_put_text(b, v);
			davxml_put(b, "</D:getetag>");
		}
		return true;
	}
	if (strcmp(name, "getcontenttype") == 0) {
		if (name_only)
			davxml_put(b, "<D:getcontenttype/>");
		else
			davxml_putf(b, "<D:getcontenttype>%s</D:getcontenttype>",
				    gw_mime_type(x->name));
		return true;
	}
	if (x->quota &&
	    (strcmp(name, "quota-available-bytes") == 0 || strcmp(name, "quota-used-bytes") == 0)) {
		uint64_t qv = name[6] == 'a' ? x->quota->avail : x->quota->total - x->quota->avail;
		if (name_only)
			davxml_putf(b, "<D:%s/>", name);
		else
			davxml_putf(b, "<D:%s>%llu</D:%s>", name, (unsigned long long)qv, name);
		return true;
	}
	return false;
}

/* Writes the value of DAV:@name of @x (or only its name with @name_only)
 * when it is one of the lock properties; false when it is not or @x has no
 * such property. */
static bool put_live_lock(struct davxml_buf *b, const char *name, const struct davms_res *x,
			  bool name_only)
{
	if (!x->key)
		return false; /* above the shares nothing can be locked */
	if (strcmp(name, "supportedlock") == 0) {
		if (name_only)
			davxml_put(b, "<D:supportedlock/>");
		else
			davxml_put(b, "<D:supportedlock>"
				      "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
				      "<D:locktype><D:write/></D:locktype></D:lockentry>"
				      "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
				      "<D:locktype><D:write/></D:locktype></D:lockentry>"
				      "</D:supportedlock>");
		return true;
	}
	if (strcmp(name, "lockdiscovery") == 0) {
		if (name_only) {
			davxml_put(b, "<D:lockdiscovery/>");
			return true;
		}
		davxml_put(b, "<D:lockdiscovery>");
		struct discovery d = {b, x};
		if (x->locks)
			davlock_each(x->locks, x->key, x->now, each_activelock, &d);
		davxml_put(b, "</D:lockdiscovery>");
		return true;
	}
	return false;
}

/* Writes the value of DAV:@name of @x (or only its name with @name_only);
 * false when @x has no such property. */
static bool put_live(struct davxml_buf *b, const char *name, const struct davms_res *x,
		     bool name_only)
{
	if (strcmp(name, "resourcetype") == 0) {
		if (name_only || !x->collection)
			davxml_put(b, "<D:resourcetype/>");
		else
			davxml_put(b, "<D:resourcetype><D:collection/></D:resourcetype>");
		return true;
	}
	if (strcmp(name, "displayname") == 0) {
		if (name_only) {
			davxml_put(b, "<D:displayname/>");
			return true;
		}
		davxml_put(b, "<D:displayname>");
		davxml_put_text(b, x->name);
		davxml_put(b, "</D:displayname>");
		return true;
	}
	return put_live_content(b, name, x, name_only) || put_live_lock(b, name, x, name_only);
}

void davms_response(struct davxml_buf *b, const struct davxml_propfind *pf,
		    const struct davms_res *x)
{
	davxml_put(b, "<D:response><D:href>");
	davxml_put_text(b, x->href);
	davxml_put(b, "</D:href><D:propstat><D:prop>");
	if (pf->kind != DAVXML_PROP) {
		for (size_t i = 0; i < sizeof(live_props) / sizeof(live_props[0]); i++)
			put_live(b, live_props[i], x, pf->kind == DAVXML_PROPNAME);
		davxml_put(b, "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
	} else {
		bool *found = calloc(pf->n + 1, sizeof(*found));
		size_t missing = 0, mark = b->len;
		if (!found) {
			b->oom = true;
			return;
		}
		for (size_t i = 0; i < pf->n; i++) {
			found[i] = strcmp(pf->props[i].ns, "DAV:") == 0 &&
				   put_live(b, pf->props[i].name, x, false);
			missing += !found[i];
		}
		if (missing == pf->n && !b->oom) {
			/* Nothing found: no empty 200 propstat. */
			b->len = mark - strlen("<D:propstat><D:prop>");
			b->p[b->len] = '\0';
		} else {
			davxml_put(b, "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
		}
		if (missing) {
			davxml_put(b, "<D:propstat><D:prop>");
			for (size_t i = 0; i < pf->n; i++)
				if (!found[i])
					davxml_put_empty_prop(b, pf->props[i].ns,
							      pf->props[i].name);
			davxml_put(b, "</D:prop><D:status>HTTP/1.1 404 Not Found</D:status>"
				      "</D:propstat>");
		}
		free(found);
	}
	davxml_put(b, "</D:response>");
}

int davms_list_entry(void *ud, const struct proto_entry_rec *rec, const char *name,
		     const char *comment)
{
	struct davms_listing *l = ud;
	char *path = NULL, *href, *key = NULL;

	(void)comment;
	if (l->shares != (rec->ftype == PROTO_FT_SHARE))
		return 0;
	if (l->shares) {
		href = davms_href(l->server, name, "", true);
	} else {
		if (asprintf(&path, "%s%s%s", l->dir, *l->dir ? "/" : "", name) < 0)
			return PROTO_E_IO;
		href = davms_href(l->server, l->share, path, rec->ftype == PROTO_FT_DIR);
		key = davms_key(l->server, l->share, path);
	}
	if (!href || (!l->shares && !key)) {
		free(path);
		free(href);
		free(key);
		return PROTO_E_IO;
	}
	struct davms_res x = {.quota = l->quota,
			      .href = href,
			      .name = name,
			      .key = key,
			      .locks = l->locks,
			      .now = l->now,
			      .inherited = &l->inherited,
			      .collection = rec->ftype != PROTO_FT_FILE,
			      .stat = !l->shares,
			      .st = proto_entry_stat(rec)};
	davms_response(l->b, l->pf, &x);
	free(path);
	free(href);
	free(key);
	return l->b->oom ? PROTO_E_IO : 0;
}
