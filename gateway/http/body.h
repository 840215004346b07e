/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/body.h - the JSON request bodies of the REST API, decoded.
 *
 * Each decoder takes a body's raw bytes exactly as the client sent them
 * (untrusted: any bytes, any length), parses them with jansson (duplicate
 * keys refused) and checks the shape, types and limits of its request. It
 * returns plain C values (no jansson objects), so that the handlers (api_*.c)
 * only map the error to an answer, and tests/fuzz/fuzz-json.c can feed any
 * input to every decoder.
 *
 * Errors are negative errno values, each naming one answer of the handler:
 *   -EBADMSG    the body is missing or is not a JSON object
 *   -EINVAL     a field is missing, unknown, or of the wrong type or size
 *   -EOPNOTSUPP (POST op) an unknown op, or fields the op does not take
 *   -EILSEQ     a path in the body is not a valid path in the share
 *   -EXDEV      (zip) the paths are not all in one folder
 *   -E2BIG      (zip) the selection's names do not fit one request
 *   -ENOMEM
 * On failure the output is untouched; on success it is filled and owned by
 * the caller, who frees it with the type's clear function.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BODY_MAX_CREDENTIAL 256	 /* user name, password: bytes (GW_MAX_CREDENTIAL) */
#define BODY_MAX_WORKGROUP  15	 /* NetBIOS domain name (CFG_MAX_WORKGROUP) */
#define BODY_ZIP_MAX_PATHS  1000 /* paths of one zip selection */

/* POST /api/v1/auth/login {"username", "password", "server"?, "workgroup"?} */
struct body_login {
	char *username;	 /* 1..BODY_MAX_CREDENTIAL bytes of UTF-8, no control character */
	char *password;	 /* 0..BODY_MAX_CREDENTIAL bytes, no NUL */
	char *server;	 /* NULL when absent; no NUL (whether it exists is the caller's) */
	char *workgroup; /* NULL when absent; 1..BODY_MAX_WORKGROUP bytes, no " \\/:*?\"<>|" */
};

/* Whether @s is printable text without control characters, 1..@max bytes of
 * UTF-8: a user name, in a login body or an HTTP Basic header alike. */
bool body_text_ok(const char *s, size_t max);

/*
 * Decodes a login body from @buf (@len bytes, may be NULL). On success fills
 * *@ret; the caller clears it with body_login_clear(), which wipes the
 * password. The password's other copies (jansson's) are wiped before return;
 * @buf itself is the caller's to wipe. -EBADMSG, -EINVAL, -ENOMEM.
 */
int body_login_decode(const char *buf, size_t len, struct body_login *ret);
/* Wipes the password, frees every field and zeroes *@b; fine on a zeroed struct. */
void body_login_clear(struct body_login *b);

enum body_op_kind { BODY_OP_MKDIR = 1, BODY_OP_MOVE, BODY_OP_COPY };

/* POST /api/v1/fs/{server}/{share}/{path} {"op", "to"?, "overwrite"?} */
struct body_op {
	enum body_op_kind op;
	char *to;	/* MOVE, COPY: the target in the share, "seg/seg" (gw_path_parse_plain(),
			   never empty); NULL for MKDIR */
	bool overwrite; /* MOVE, COPY: "overwrite": true */
};

/*
 * Decodes a file operation's body from @buf (@len bytes, may be NULL): mkdir
 * takes no other field; move and copy take "to" and maybe "overwrite". On
 * success fills *@ret, cleared by the caller with body_op_clear().
 * -EBADMSG, -EINVAL, -EOPNOTSUPP, -EILSEQ ("to" not a path), -ENOMEM.
 */
int body_op_decode(const char *buf, size_t len, struct body_op *ret);
/* Frees what *@b owns and zeroes it; fine on a zeroed struct. */
void body_op_clear(struct body_op *b);

/*
 * For the audit log only: the "op" (when a string of 1..15 bytes without NUL)
 * and the "to" (when a string without NUL) of a POST body, whatever else it
 * holds or lacks. @op gets "" when there is none; *@ret_to a new string the
 * caller frees with free(), or NULL. Never fails (a body that is not JSON
 * gives nothing).
 */
void body_op_peek(const char *buf, size_t len, char op[static 16], char **ret_to);

/* POST /api/v1/zip/{server}/{share} {"paths": ["/folder/a", "/folder/b", ...]} */
struct body_zip {
	char *folder; /* the one folder of every path, "seg/seg" or "" for the share's root */
	char *names;  /* the paths' last segments, '\n'-separated, at most max_names bytes */
	size_t count; /* 1..BODY_ZIP_MAX_PATHS */
};

/*
 * Decodes a zip selection from @buf (@len bytes, may be NULL): an object with
 * only "paths", an array of 1..BODY_ZIP_MAX_PATHS paths of one folder.
 * @max_names: the most bytes the joined names may take (the protocol's cap).
 * The paths are checked in order; the first bad one decides the error. On
 * success fills *@ret, cleared by the caller with body_zip_clear().
 * -EINVAL (the shape), -EILSEQ (a path), -EXDEV, -E2BIG, -ENOMEM.
 */
int body_zip_decode(const char *buf, size_t len, size_t max_names, struct body_zip *ret);
/* Frees what *@b owns and zeroes it; fine on a zeroed struct. */
void body_zip_clear(struct body_zip *b);
