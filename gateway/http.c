/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http.c - the libmicrohttpd daemon and the routing table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "proto.h"

struct gw_http {
	struct MHD_Daemon *d;
	char *cert, *key;
};

int64_t gw_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void gw_client_addr(struct MHD_Connection *c, char buf[64])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	buf[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf,
			  64);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf,
			  64);
}

enum MHD_Result gw_queue(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			 struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->responded = true;
	return ret;
}

enum MHD_Result gw_reply_json(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			      json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	struct MHD_Response *resp;

	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r->bytes_out += len;
	return gw_queue(r, c, status, resp);
}

enum MHD_Result gw_reply_error(struct gw_req *r, struct MHD_Connection *c, unsigned status,
			       const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (!body)
		return MHD_NO;
	/* The Basic challenge is for curl and friends; the web UI (which sends
	 * X-Requested-With on every call) must not get the browser's own prompt. */
	if (status == MHD_HTTP_UNAUTHORIZED &&
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Requested-With")) {
		char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(body);
		if (!text)
			return MHD_NO;
		size_t len = strlen(text);
		struct MHD_Response *resp =
		    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(text);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"smbgate\", charset=\"UTF-8\"");
		r->bytes_out += len;
		return gw_queue(r, c, status, resp);
	}
	return gw_reply_json(r, c, status, body);
}

enum MHD_Result gw_reply_empty(struct gw_req *r, struct MHD_Connection *c, unsigned status)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	return gw_queue(r, c, status, resp);
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
	case PROTO_E_PROTOCOL:
	case PROTO_E_IO:
	default:
		return gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "server_error",
				      "the file server reported an error (%s)",
				      proto_err_name((uint32_t)err));
	}
}

/* The raw path is what we want: percent-decoding happens per segment (path.c). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

enum MHD_Result gw_reply_not_allowed(struct gw_req *r, struct MHD_Connection *c, const char *allow)
{
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", "method_not_allowed", "message",
				 "method not allowed here");
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text)
		return MHD_NO;
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return gw_queue(r, c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

bool gw_collect_body(struct gw_req *r, const char *data, size_t *size)
{
	if (*size == 0)
		return true;
	r->bytes_in += *size;
	if (!r->body_too_big && r->body_len + *size > GW_MAX_JSON_BODY)
		r->body_too_big = true;
	if (!r->body_too_big) {
		/* Grown by hand, not realloc(): the old buffer (a login body holds
		 * a password) is wiped before it is freed. */
		char *nb = malloc(r->body_len + *size + 1);
		if (nb) {
			if (r->body)
				memcpy(nb, r->body, r->body_len);
			memcpy(nb + r->body_len, data, *size);
			nb[r->body_len + *size] = '\0';
		} else {
			r->body_too_big = true;
		}
		if (r->body) {
			explicit_bzero(r->body, r->body_len);
			free(r->body);
		}
		r->body = nb;
		r->body_len = nb ? r->body_len + *size : 0;
	} else if (r->body) {
		explicit_bzero(r->body, r->body_len);
		free(r->body);
		r->body = NULL;
		r->body_len = 0;
	}
	*size = 0;
	return false;
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload_data,
			     size_t *upload_data_size, void **con_cls)
{
	struct gw *gw = cls;
	struct gw_req *r = *con_cls;
	(void)version;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->gw = gw;
		r->start_us = gw_now_us();
		snprintf(r->method, sizeof(r->method), "%s", method);
		r->url = strdup(url);
		if (!r->url) {
			free(r);
			return MHD_NO;
		}
		*con_cls = r;
		/* A body larger than any JSON we accept is refused before it is read. */
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		bool is_fs = strncmp(url, "/api/v1/fs/", 11) == 0 || strcmp(url, "/api/v1/fs") == 0;
		if (cl && !(is_fs && strcmp(method, "PUT") == 0) &&
		    strtoull(cl, NULL, 10) > GW_MAX_JSON_BODY)
			return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
					      "request bodies are limited to %d bytes",
					      GW_MAX_JSON_BODY);
		if (!is_fs || strcmp(method, "PUT") != 0)
			return MHD_YES; /* the body (if any) comes next */
	}
	if (r->responded) {
		/* Answered early: swallow whatever body is left. */
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (strcmp(url, "/api/v1/fs") == 0 || strncmp(url, "/api/v1/fs/", 11) == 0)
		return gw_api_fs(r, c, strcmp(url, "/api/v1/fs") == 0 ? "/" : url + 10, upload_data,
				 upload_data_size);

	if (!gw_collect_body(r, upload_data, upload_data_size))
		return MHD_YES;
	if (r->body_too_big)
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				      "request bodies are limited to %d bytes", GW_MAX_JSON_BODY);

	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/healthz") == 0) {
		if (!get)
			return gw_reply_not_allowed(r, c, "GET, HEAD");
		return gw_reply_json(r, c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
	}
	if (strcmp(url, "/metrics") == 0) {
		if (!get)
			return gw_reply_not_allowed(r, c, "GET, HEAD");
		return gw_api_metrics(r, c);
	}
	if (strcmp(url, "/api/v1/servers") == 0) {
		if (!get)
			return gw_reply_not_allowed(r, c, "GET, HEAD");
		/* The names only (no hosts): what the login form offers. */
		json_t *list = json_array();
		for (size_t i = 0; i < gw->cfg->n_servers; i++)
			json_array_append_new(list,
					      json_pack("{s:s}", "name", gw->cfg->servers[i].name));
		return gw_reply_json(r, c, MHD_HTTP_OK, json_pack("{s:o}", "servers", list));
	}
	if (strcmp(url, "/api/v1/login") == 0) {
		if (strcmp(method, "POST") != 0)
			return gw_reply_not_allowed(r, c, "POST");
		return gw_api_login(r, c);
	}
	if (strcmp(url, "/api/v1/logout") == 0) {
		if (strcmp(method, "POST") != 0)
			return gw_reply_not_allowed(r, c, "POST");
		return gw_api_logout(r, c);
	}
	if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0)
		return gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found",
				      "no such API endpoint");
	if (!get)
		return gw_reply_not_allowed(r, c, "GET, HEAD");
	return gw_static(r, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct gw *gw = cls;
	struct gw_req *r = *con_cls;
	(void)c;

	if (!r)
		return;
	if (r->upload_abort)
		r->upload_abort(r); /* the client went away mid-upload */
	int64_t ms = (gw_now_us() - r->start_us) / 1000;
	unsigned status = r->responded ? r->status : 0;
	/* One line per request; the path may carry file names, never secrets. */
	char safe[512];
	size_t j = 0;
	for (size_t i = 0; r->url[i] && j + 5 < sizeof(safe); i++) {
		unsigned char ch = (unsigned char)r->url[i];
		if (ch < 0x20 || ch == 0x7f || ch == '"')
			j += (size_t)snprintf(safe + j, sizeof(safe) - j, "%%%02X", ch);
		else
			safe[j++] = (char)ch;
	}
	safe[j] = '\0';
	fprintf(stderr, "smbgate: %s \"%s\" %u %llu %lldms user=%s%s\n", r->method, safe, status,
		(unsigned long long)r->bytes_out, (long long)ms, r->user[0] ? r->user : "-",
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	gw_metrics_request(gw->metrics, status, r->bytes_in, r->bytes_out);
	if (r->body) {
		explicit_bzero(r->body, r->body_len);
		free(r->body);
	}
	free(r->url);
	free(r);
	*con_cls = NULL;
}

static char *read_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < 1024 * 1024) {
		buf = calloc(1, (size_t)st.st_size + 1);
		if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

/* Frees what gw_http_start() read, wiping the private key. */
static void free_keys(struct gw_http *h)
{
	if (h->key)
		explicit_bzero(h->key, strlen(h->key));
	free(h->key);
	free(h->cert);
	h->key = h->cert = NULL;
}

int gw_http_start(struct gw *gw, struct gw_http **ret)
{
	const struct cfg *cfg = gw->cfg;
	struct sockaddr_storage ss = {0};
	/* poll(), not select(): every session holds a few fds, and select()
	 * cannot see a connection whose fd is 1024 or more. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct gw_http *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	if (strchr(cfg->listen_host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->listen_port);
		if (inet_pton(AF_INET6, cfg->listen_host, &s6->sin6_addr) != 1)
			goto inval;
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg->listen_port);
		if (inet_pton(AF_INET, cfg->listen_host, &s4->sin_addr) != 1)
			goto inval;
	}
	if (cfg->tls_certificate) {
		h->cert = read_file(cfg->tls_certificate);
		h->key = read_file(cfg->tls_key);
		if (!h->cert || !h->key) {
			fprintf(stderr, "smbgate: cannot read the TLS certificate %s or key %s\n",
				cfg->tls_certificate, cfg->tls_key);
			goto inval;
		}
		flags |= MHD_USE_TLS;
		gw->tls = true;
	}
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
	    {MHD_OPTION_END, 0, NULL},
	};
	errno = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, route, gw, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)GW_CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)GW_CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned)GW_PER_IP_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)GW_MEMORY_PER_CONN, MHD_OPTION_THREAD_STACK_SIZE,
				(size_t)(256 * 1024), MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
				NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, gw,
				MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_ARRAY,
				cfg->tls_certificate ? tls_opts : &tls_opts[2], MHD_OPTION_END);
	if (!h->d) {
		int err = errno ? errno : EADDRINUSE;
		fprintf(stderr, "smbgate: cannot listen on %s:%u: %s\n", cfg->listen_host,
			cfg->listen_port, strerror(err));
		free_keys(h);
		free(h);
		return -err;
	}
	*ret = h;
	return 0;
inval:
	free_keys(h);
	free(h);
	return -EINVAL;
}

unsigned gw_http_port(const struct gw_http *h)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

void gw_http_stop(struct gw_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free_keys(h);
	free(h);
}
