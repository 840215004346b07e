/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/body.c - the JSON request bodies of the REST API, decoded (body.h).
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"
#include "http/path.h"
#include "proto.h"

/* Parses @buf as one JSON object (duplicate keys refused), or NULL. */
static json_t *load_object(const char *buf, size_t len, int flags)
{
	json_error_t jerr;
	json_t *v;

	if (!buf)
		return NULL;
	v = json_loadb(buf, len, flags, &jerr);
	if (v && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Whether @v is a string holding no "\u0000" (C would cut it short there). */
static bool is_text(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

bool body_text_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n == 0 || n > max || !proto_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Wipes a string inside a jansson value (jansson frees without wiping). */
static void wipe_string(json_t *v)
{
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

/* ---- login ---- */

int body_login_decode(const char *buf, size_t len, struct body_login *ret)
{
	json_t *body = load_object(buf, len, JSON_REJECT_DUPLICATES);
	json_t *ju, *jp, *js, *jw;
	struct body_login b = {0};
	int r = -EINVAL;

	if (!body)
		return -EBADMSG;
	ju = json_object_get(body, "username");
	jp = json_object_get(body, "password");
	js = json_object_get(body, "server");
	jw = json_object_get(body, "workgroup");
	/* At most four fields: the two required and the two optional ones. */
	if (!is_text(ju) || !json_is_string(jp) || (js && !is_text(js)) || (jw && !is_text(jw)) ||
	    json_object_size(body) > 4 ||
	    !body_text_ok(json_string_value(ju), BODY_MAX_CREDENTIAL) ||
	    json_string_length(jp) > BODY_MAX_CREDENTIAL || !is_text(jp) ||
	    (jw && (!body_text_ok(json_string_value(jw), BODY_MAX_WORKGROUP) ||
		    strpbrk(json_string_value(jw), " \\/:*?\"<>|"))))
		goto out;
	r = -ENOMEM;
	b.username = strdup(json_string_value(ju));
	b.password = malloc(json_string_length(jp) + 1);
	b.server = js ? strdup(json_string_value(js)) : NULL;
	b.workgroup = jw ? strdup(json_string_value(jw)) : NULL;
	if (!b.username || !b.password || (js && !b.server) || (jw && !b.workgroup)) {
		body_login_clear(&b);
		goto out;
	}
	memcpy(b.password, json_string_value(jp), json_string_length(jp) + 1);
	*ret = b;
	r = 0;
out:
	wipe_string(jp);
	json_decref(body);
	return r;
}

void body_login_clear(struct body_login *b)
{
	if (!b)
		return;
	if (b->password)
		explicit_bzero(b->password, strlen(b->password));
	free(b->username);
	free(b->password);
	free(b->server);
	free(b->workgroup);
	memset(b, 0, sizeof(*b));
}

/* ---- POST op ---- */

int body_op_decode(const char *buf, size_t len, struct body_op *ret)
{
	json_t *body = load_object(buf, len, JSON_REJECT_DUPLICATES);
	json_t *jo, *jt, *jw;
	const char *op, *to;
	char *target = NULL;
	int r;

	if (!body)
		return -EBADMSG;
	jo = json_object_get(body, "op");
	jt = json_object_get(body, "to");
	jw = json_object_get(body, "overwrite");
	op = json_is_string(jo) ? json_string_value(jo) : NULL;
	to = is_text(jt) ? json_string_value(jt) : NULL;
	size_t known = (jo != NULL) + (jt != NULL) + (jw != NULL);
	if (!op || json_object_size(body) != known || (jw && !json_is_boolean(jw)) || (jt && !to)) {
		r = -EINVAL;
		goto out;
	}
	if (strcmp(op, "mkdir") == 0 && !jt && !jw) {
		*ret = (struct body_op){.op = BODY_OP_MKDIR};
		r = 0;
		goto out;
	}
	if ((strcmp(op, "move") != 0 && strcmp(op, "copy") != 0) || !to) {
		r = -EOPNOTSUPP;
		goto out;
	}
	r = gw_path_parse_plain(to, &target);
	if (r == -ENOMEM)
		goto out;
	if (r < 0 || !*target) {
		free(target);
		r = -EILSEQ;
		goto out;
	}
	*ret = (struct body_op){.op = op[0] == 'm' ? BODY_OP_MOVE : BODY_OP_COPY,
				.to = target,
				.overwrite = jw && json_is_true(jw)};
	r = 0;
out:
	json_decref(body);
	return r;
}

void body_op_clear(struct body_op *b)
{
	if (!b)
		return;
	free(b->to);
	memset(b, 0, sizeof(*b));
}

void body_op_peek(const char *buf, size_t len, char op[static 16], char **ret_to)
{
	json_t *body = load_object(buf, len, 0);
	json_t *jo = json_object_get(body, "op"), *jt = json_object_get(body, "to");

	op[0] = '\0';
	*ret_to = NULL;
	if (is_text(jo) && json_string_length(jo) < 16)
		memcpy(op, json_string_value(jo), json_string_length(jo) + 1);
	if (is_text(jt))
		*ret_to = strdup(json_string_value(jt));
	json_decref(body);
}

/* ---- zip selection ---- */

int body_zip_decode(const char *buf, size_t len, size_t max_names, struct body_zip *ret)
{
	json_t *body = load_object(buf, len, JSON_REJECT_DUPLICATES);
	json_t *paths = body && json_object_size(body) == 1 ? json_object_get(body, "paths") : NULL;
	struct body_zip z = {0};
	size_t used = 0, i;
	json_t *v;
	int r = -EINVAL;

	if (!json_is_array(paths) || json_array_size(paths) < 1 ||
	    json_array_size(paths) > BODY_ZIP_MAX_PATHS)
		goto out;
	r = -ENOMEM;
	z.names = malloc(max_names + 1);
	if (!z.names)
		goto out;
	z.names[0] = '\0';
	json_array_foreach(paths, i, v)
	{
		char *path = NULL;
		if (!is_text(v) || gw_path_parse_plain(json_string_value(v), &path) < 0 || !*path) {
			free(path);
			r = -EILSEQ;
			goto out;
		}
		const char *slash = strrchr(path, '/');
		size_t dl = slash ? (size_t)(slash - path) : 0;
		const char *name = slash ? slash + 1 : path;
		if (!z.folder) {
			z.folder = strndup(path, dl);
		} else if (strlen(z.folder) != dl || strncmp(z.folder, path, dl) != 0) {
			free(path);
			r = -EXDEV;
			goto out;
		}
		size_t nl = strlen(name);
		if (!z.folder || used + nl + 1 > max_names) {
			free(path);
			r = z.folder ? -E2BIG : -ENOMEM;
			goto out;
		}
		if (used)
			z.names[used++] = '\n';
		memcpy(z.names + used, name, nl + 1);
		used += nl;
		z.count++;
		free(path);
	}
	*ret = z;
	z = (struct body_zip){0};
	r = 0;
out:
	body_zip_clear(&z);
	json_decref(body);
	return r;
}

void body_zip_clear(struct body_zip *b)
{
	if (!b)
		return;
	free(b->folder);
	free(b->names);
	memset(b, 0, sizeof(*b));
}
