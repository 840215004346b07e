/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/reply.c - the answers of the gateway (gateway process, HTTP
 * threads): one JSON constructor, errors, empty answers. See reply.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/httputil.h"
#include "http/reply.h"
#include "http/request.h"
#include "log/metrics.h"
#include "proto.h"

static void add_headers(struct MHD_Response *resp, const gw_headers hdrs)
{
	for (size_t i = 0; hdrs && hdrs[i]; i += 2)
		MHD_add_response_header(resp, hdrs[i], hdrs[i + 1]);
}

enum MHD_Result gw_queue(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			 struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* A header the handler wants on every answer, those of the common code
	 * too (401, 429, 503...): tus 1.0's Tus-Resumable. */
	if (r->every_answer[0] && !MHD_get_response_header(resp, r->every_answer[0]))
		MHD_add_response_header(resp, r->every_answer[0], r->every_answer[1]);
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->responded = true;
	return ret;
}

struct MHD_Response *gw_json_response(json_t *body, const gw_headers hdrs, size_t *len)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	struct MHD_Response *resp;

	json_decref(body);
	if (!text)
		return NULL;
	*len = strlen(text);
	resp = MHD_create_response_from_buffer(*len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_headers(resp, hdrs);
	return resp;
}

enum MHD_Result gw_reply_json_with(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				   json_t *body, const gw_headers hdrs)
{
	size_t len = 0;
	struct MHD_Response *resp = gw_json_response(body, hdrs, &len);

	if (resp)
		r->bytes_out += len;
	return gw_queue(r, c, status, resp);
}

enum MHD_Result gw_reply_json(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			      json_t *body)
{
	return gw_reply_json_with(r, c, status, body, NULL);
}

enum MHD_Result gw_reply_xml(struct gw_req *r, struct MHD_Connection *c, unsigned status, char *xml,
			     size_t len, const gw_headers hdrs)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, xml, MHD_RESPMEM_MUST_FREE);

	if (!resp) {
		free(xml);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/xml; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_headers(resp, hdrs);
	r->bytes_out += len;
	return gw_queue(r, c, status, resp);
}

int gw_reply_raw(int fd, unsigned status, const char *json, size_t len)
{
	char head[320], date[32];

	gw_http_date(time(NULL), date);
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: application/json\r\n"
			  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
			  "Connection: close\r\nContent-Length: %zu\r\n\r\n",
			  status, MHD_get_reason_phrase_for(status), date, len);
	/* A few hundred bytes on a socket that has sent nothing of this
	 * answer: they fit in its buffer. */
	if (hl <= 0 || (size_t)hl >= sizeof(head) ||
	    send(fd, head, (size_t)hl, MSG_NOSIGNAL | MSG_MORE) != hl ||
	    send(fd, json, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -EIO;
	shutdown(fd, SHUT_WR);
	return 0;
}

/*
 * @r->answer_now: the error @body (taken) written straight to the client
 * (gw_reply_raw()); MHD_NO, so that libmicrohttpd closes the connection
 * without reading the rest of the body.
 */
static enum MHD_Result reply_now(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				 json_t *body)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(body);
	if (text && ci && gw_reply_raw(ci->connect_fd, status, text, strlen(text)) == 0) {
		r->status = status;
		r->bytes_out += strlen(text);
	}
	free(text);
	r->responded = true;
	return MHD_NO;
}

static enum MHD_Result reply_verror(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				    const gw_headers hdrs, const char *code, const char *fmt,
				    va_list ap)
{
	static const char *const challenge[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE,
						"Basic realm=\"smbgate\", charset=\"UTF-8\"", NULL};
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (r->answer_now)
		return reply_now(r, c, status, body);
	size_t len = 0;
	struct MHD_Response *resp = gw_json_response(body, hdrs, &len);
	if (!resp)
		return MHD_NO;
	/* The Basic challenge is for curl and friends; the web UI (which sends
	 * X-Requested-With on every call) must not get the browser's own prompt. */
	if (status == MHD_HTTP_UNAUTHORIZED &&
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Requested-With"))
		add_headers(resp, challenge);
	r->bytes_out += len;
	return gw_queue(r, c, status, resp);
}

enum MHD_Result gw_reply_error(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			       const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	enum MHD_Result ret = reply_verror(r, c, status, NULL, code, fmt, ap);
	va_end(ap);
	return ret;
}

enum MHD_Result gw_reply_error_with(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				    const gw_headers hdrs, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	enum MHD_Result ret = reply_verror(r, c, status, hdrs, code, fmt, ap);
	va_end(ap);
	return ret;
}

enum MHD_Result gw_reply_not_allowed(struct gw_req *r, struct MHD_Connection *c, const char *allow)
{
	const char *const hdrs[] = {MHD_HTTP_HEADER_ALLOW, allow, NULL};

	return gw_reply_error_with(r, c, MHD_HTTP_METHOD_NOT_ALLOWED, hdrs, "method_not_allowed",
				   "method not allowed here");
}

enum MHD_Result gw_reply_empty_with(struct gw_req *r, struct MHD_Connection *c, unsigned status,
				    const gw_headers hdrs)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (resp)
		add_headers(resp, hdrs);
	return gw_queue(r, c, status, resp);
}

enum MHD_Result gw_reply_empty(struct gw_req *r, struct MHD_Connection *c, unsigned status)
{
	return gw_reply_empty_with(r, c, status, NULL);
}

enum MHD_Result gw_reply_sbx_error(struct gw_req *r, struct MHD_Connection *c, int err)
{
	if (err < 0) {
		if (err == -ETIMEDOUT)
			return gw_reply_error(r, c, MHD_HTTP_GATEWAY_TIMEOUT, "timeout",
					      "the file server did not answer in time");
		return gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "sandbox_failed",
				      "the session's sandbox ended; please retry");
	}
	gw_metrics_smb_error(r->gw->metrics, (unsigned)err);
	switch (err) {
	case PROTO_E_NOT_FOUND:
		return gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				      "no such file or folder");
	case PROTO_E_ACCESS:
		return gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "access_denied",
				      "the file server denied access");
	case PROTO_E_EXISTS:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "exists",
				      "the target already exists");
	case PROTO_E_NOT_EMPTY:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "not_empty",
				      "the folder is not empty (use ?recursive=1)");
	case PROTO_E_NOT_DIR:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "not_a_directory",
				      "a part of the path is not a folder");
	case PROTO_E_IS_DIR:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "is_a_directory",
				      "the path is a folder");
	case PROTO_E_NO_SPACE:
		return gw_reply_error(r, c, MHD_HTTP_INSUFFICIENT_STORAGE, "no_space",
				      "no space left on the file server");
	case PROTO_E_BAD_NAME:
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_name",
				      "the file server does not accept this name");
	case PROTO_E_UNREACHABLE:
		return gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "server_unreachable",
				      "the file server cannot be reached");
	case PROTO_E_TIMEOUT:
		return gw_reply_error(r, c, MHD_HTTP_GATEWAY_TIMEOUT, "timeout",
				      "the file server did not answer in time");
	case PROTO_E_AUTH:
		return gw_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "auth_failed",
				      "wrong user name or password");
	case PROTO_E_INVALID:
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "the request is not valid here");
	case PROTO_E_TOO_BIG:
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_many_entries",
				      "the folder has more than %d entries",
				      PROTO_MAX_LIST_ENTRIES);
	case PROTO_E_LINK:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "contains_link",
				      "the folder holds a link to a folder that cannot be removed "
				      "without emptying what it points to; nothing was deleted");
	case PROTO_E_BAD_ENTRY:
		return gw_reply_error(
		    r, c, MHD_HTTP_CONFLICT, "unusable_name",
		    "the folder holds a name that cannot be used over SMB (a "
		    "backslash, a control character or invalid UTF-16, made on the "
		    "server itself); rename it there");
	case PROTO_E_TOO_DEEP:
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_deep",
				      "the folders go deeper than allowed");
	case PROTO_E_OFFSET:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "offset_mismatch",
				      "Upload-Offset is not the upload's offset");
	case PROTO_E_OVERLAP:
		return gw_reply_error(r, c, MHD_HTTP_CONFLICT, "overlap",
				      "the target is the source (in another spelling), inside it, "
				      "or a folder that holds it; nothing was changed");
	case PROTO_E_RESERVED_NAME:
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "reserved_name",
				      "Windows file servers cannot store a name ending in a dot or "
				      "a space, nor the device names CON, PRN, AUX, NUL, COM1-9 "
				      "and LPT1-9 (with or without an extension): choose another "
				      "name");
	case PROTO_E_PROTOCOL:
	case PROTO_E_IO:
	default:
		return gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "server_error",
				      "the file server reported an error (%s)",
				      proto_err_name((uint32_t)err));
	}
}
