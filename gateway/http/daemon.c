/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/daemon.c - the libmicrohttpd daemon: framing checks, routing
 * by the table it is given (routes.c), bodies, one log line per request.
 *
 * Runs in: the gateway process (libmicrohttpd's listening and connection threads).
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

#include "cfg.h"
#include "http/conns.h"
#include "http/daemon.h"
#include "http/mhderr.h"
#include "http/reply.h"
#include "log/audit.h"
#include "log/log.h"
#include "log/metrics.h"

struct gw_http {
	struct gw *gw;
	const struct gw_http_app *app;
	struct MHD_Daemon *d;
	struct gw_conns *conns;
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

/* The raw path is what we want: percent-decoding happens per segment (path.c). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
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

/*
 * The request object, made when libmicrohttpd has parsed the request line and
 * before it touches the target (the URI log callback): what it sees here is
 * the whole target up to the first NUL byte.
 */
static void *uri_logged(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct gw *gw = ((struct gw_http *)cls)->gw;
	struct gw_req *r = calloc(1, sizeof(*r));

	gw_mhderr_conn(c, gw->cfg->tls_certificate != NULL);
	if (!r)
		return NULL;
	r->gw = gw;
	r->start_us = gw_now_us();
	if (uri) {
		r->raw_uri = uri;
		r->raw_uri_len = strlen(uri);
	}
	return r;
}

/* The headers that frame a request's body, and headers a proxy in front
 * could read otherwise than libmicrohttpd does. */
struct framing {
	unsigned n_length, n_encoding, n_host;
	const char *length, *encoding;
	bool bad_header;
};

/* RFC 9110 token characters: what a header name is made of. */
static bool is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || strchr(extra, *s)))
			return false;
	return true;
}

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     size_t key_size, const char *value, size_t value_size)
{
	struct framing *f = cls;

	(void)kind;
	/* "Content-Length : 5" is a length to some proxies and none to us; a
	 * bare CR, a NUL or another control byte in a value splits it for some. */
	if (!is_token(key) || strlen(key) != key_size)
		f->bad_header = true;
	for (size_t i = 0; value && i < value_size; i++)
		if ((unsigned char)value[i] < 0x20 && value[i] != '\t')
			f->bad_header = true;
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		f->n_host++;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->n_length++;
		f->length = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->n_encoding++;
		f->encoding = value;
	}
	return MHD_YES;
}

/*
 * Refuses a request whose target or body framing cannot be trusted, before
 * any of its body is read; such answers close the connection, since what
 * follows on it cannot be told apart from a next request (smuggling behind
 * a proxy). Returns true after queuing the answer; else sets *@body to
 * whether a body follows.
 */
static bool refuse_framing(struct gw_req *r, struct MHD_Connection *c, const char *url,
			   const char *version, bool *body)
{
	struct framing f = {0};

	/* libmicrohttpd ends the target at a NUL byte ("/a.txt\0.jpg" would
	 * serve /a.txt): the request line's version follows the whole target. */
	if (r->raw_uri == url && version && *version && version > url &&
	    (size_t)(version - 1 - url) != r->raw_uri_len) {
		r->close = true;
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
			       "the request target holds a NUL byte");
		return true;
	}
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.bad_header || f.n_host > 1) {
		r->close = true;
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_framing",
			       f.bad_header ? "a header name or value holds a character that is "
					      "not allowed there"
					    : "more than one Host header");
		return true;
	}
	if (f.n_encoding && strcasecmp(f.encoding, "chunked") != 0) {
		r->close = true;
		gw_reply_error(r, c, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented",
			       "only Transfer-Encoding: chunked is supported");
		return true;
	}
	if (f.n_encoding > 1 || f.n_length > 1 || (f.n_encoding && f.n_length)) {
		r->close = true;
		gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_framing",
			       "conflicting Content-Length / Transfer-Encoding headers");
		return true;
	}
	*body = f.n_encoding || (f.length && strtoull(f.length, NULL, 10) > 0);
	return false;
}

static bool path_matches(const struct gw_route *rt, const char *url)
{
	size_t n = strlen(rt->path);

	if (!rt->prefix)
		return strcmp(url, rt->path) == 0;
	return strncmp(url, rt->path, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

static bool method_listed(const char *methods, const char *method)
{
	size_t n = strlen(method);

	if (!methods)
		return true;
	for (const char *p = methods; (p = strstr(p, method)); p += n)
		if ((p == methods || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

/*
 * The route of @url and @method; NULL after queuing 405 (with Allow). Every
 * path matches some row (the last one takes any path).
 */
static const struct gw_route *find_route(const struct gw_http_app *app, struct gw_req *r,
					 struct MHD_Connection *c, const char *url,
					 const char *method)
{
	const struct gw_route *group = NULL;
	char allow[192] = "";

	for (size_t i = 0; i < app->n_routes; i++) {
		const struct gw_route *rt = &app->routes[i];
		if (group && (strcmp(rt->path, group->path) != 0 || rt->prefix != group->prefix))
			continue;
		if (!group && !path_matches(rt, url))
			continue;
		group = rt;
		if (method_listed(rt->methods, method))
			return rt;
		for (const char *m = rt->methods; m && *m;) {
			size_t n = strcspn(m, " ");
			size_t used = strlen(allow);
			snprintf(allow + used, sizeof(allow) - used, "%s%.*s", used ? ", " : "",
				 (int)n, m);
			m += n + (m[n] == ' ');
		}
	}
	if (group)
		gw_reply_not_allowed(r, c, allow);
	else
		gw_reply_error(r, c, MHD_HTTP_NOT_FOUND, "not_found", "no such page");
	return NULL;
}

/* The first call of a request: its headers are in, its body (if any) not. */
static enum MHD_Result first_call(const struct gw_http_app *app, struct gw_req *r,
				  struct MHD_Connection *c, const char *url, const char *method,
				  const char *version)
{
	bool body = false;

	if (refuse_framing(r, c, url, version, &body))
		return MHD_YES;
	gw_conns_headers_done(c, body);
	r->route = find_route(app, r, c, url, method);
	if (!r->route)
		return MHD_YES;
	/* A body larger than any JSON we accept is refused before it is read. */
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && !r->route->streams && strtoull(cl, NULL, 10) > GW_MAX_JSON_BODY)
		return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				      "request bodies are limited to %d bytes", GW_MAX_JSON_BODY);
	return MHD_YES;
}

static enum MHD_Result dispatch(struct gw_req *r, struct MHD_Connection *c, const char *url,
				const char *upload_data, size_t *upload_data_size)
{
	const struct gw_route *rt = r->route;

	if (r->responded || !rt) {
		/* Answered early: swallow whatever body is left. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!rt->streams) {
		if (!gw_collect_body(r, upload_data, upload_data_size))
			return MHD_YES;
		if (r->body_too_big)
			return gw_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
					      "request bodies are limited to %d bytes",
					      GW_MAX_JSON_BODY);
	}
	return rt->fn(r, c, *rt->path ? url + strlen(rt->path) : url, upload_data,
		      upload_data_size);
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload_data,
			     size_t *upload_data_size, void **con_cls)
{
	struct gw_http *h = cls;
	struct gw_req *r = *con_cls;
	size_t offered = *upload_data_size;
	enum MHD_Result ret;

	if (!r) {
		r = uri_logged(h, NULL, c);
		if (!r)
			return MHD_NO;
		*con_cls = r;
	}
	gw_conns_handler_enter(c);
	if (!r->url) {
		snprintf(r->method, sizeof(r->method), "%s", method);
		r->url = strdup(url);
		if (!r->url) {
			gw_conns_handler_leave(c, 0, false);
			return MHD_NO;
		}
		ret = first_call(h->app, r, c, url, method, version);
		/* Streaming handlers start at once; the others wait for the body. */
		if (ret == MHD_YES && !r->responded && r->route->streams)
			ret = dispatch(r, c, url, upload_data, upload_data_size);
		gw_conns_handler_leave(c, 0, false);
		return ret;
	}
	ret = dispatch(r, c, url, upload_data, upload_data_size);
	gw_conns_handler_leave(c, offered - *upload_data_size, offered == 0);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct gw_http *h = cls;
	struct gw_req *r = *con_cls;

	gw_conns_request_done(c);
	if (!r)
		return;
	if (!r->url) {
		/* libmicrohttpd answered the request itself (a malformed header...). */
		free(r);
		*con_cls = NULL;
		return;
	}
	if (r->upload_abort)
		r->upload_abort(r); /* the client went away mid-upload */
	uint64_t sid = h->app->request_done ? h->app->request_done(r) : 0;
	int64_t ms = (gw_now_us() - r->start_us) / 1000;
	unsigned status = r->responded ? r->status : 0;
	/* One line per request (log.h); the path may carry file names, never
	 * secrets: it is logged raw, as the client sent it. */
	struct gw_log l;
	char addr[64];
	gw_client_addr(c, addr);
	gw_log_begin(&l, "request");
	gw_log_str(&l, "method", r->method);
	gw_log_strn(&l, "path", r->url, strnlen(r->url, 1024));
	gw_log_u64(&l, "status", status);
	gw_log_u64(&l, "bytes_in", r->bytes_in);
	gw_log_u64(&l, "bytes_out", r->bytes_out);
	gw_log_i64(&l, "ms", ms);
	gw_log_str(&l, "user", r->user[0] ? r->user : "-");
	gw_log_str(&l, "addr", addr);
	if (sid)
		gw_log_u64(&l, "session", sid);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		gw_log_str(&l, "aborted", "yes");
	gw_log_end(&l);
	if (r->audit) {
		/* Authenticated requests only: a 401 is no file operation. */
		if (r->user[0])
			gw_audit_log(r->audit, r->user,
				     strcmp(r->audit->op, "upload") == 0 ? r->bytes_in
									 : r->bytes_out,
				     status >= 200 && status < 400 &&
					 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK,
				     status, addr);
		gw_audit_free(r->audit);
		r->audit = NULL;
	}
	gw_metrics_request(h->gw->metrics, status, r->bytes_in, r->bytes_out);
	if (r->body) {
		explicit_bzero(r->body, r->body_len);
		free(r->body);
	}
	free(r->url);
	free(r);
	*con_cls = NULL;
}

void gw_audit_set(struct gw_req *r, const char *op, const char *server, const char *share,
		  const char *path, const char *to)
{
	if (r->gw->cfg->audit && !r->audit)
		r->audit = gw_audit_new(op, server, share, path, to);
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

/* Whether @ss is 127.0.0.0/8 or ::1. */
static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int gw_http_start(struct gw *gw, const struct gw_http_app *app, struct gw_http **ret)
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
	h->gw = gw;
	h->app = app;
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
	struct gw_conns_limits lim = {
	    .limit = GW_CONNECTION_LIMIT,
	    .per_address = GW_PER_IP_LIMIT,
	    .reserve = GW_CONNECTION_RESERVE,
	    .header_timeout = cfg->header_timeout,
	    .min_body_rate = cfg->min_body_rate,
	};
	int err = gw_conns_new(&lim, &h->conns);
	if (err < 0) {
		free_keys(h);
		free(h);
		return err;
	}
	gw->conns = h->conns;
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
	    {MHD_OPTION_END, 0, NULL},
	};
	errno = 0;
	h->d = MHD_start_daemon(
	    flags, 0, gw_conns_accept, h->conns, route, h,
	    /* first: libmicrohttpd logs the options after it through it */
	    MHD_OPTION_EXTERNAL_LOGGER, gw_mhderr_log, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)GW_CONNECTION_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(GW_CONNECTION_LIMIT + GW_CONNS_SPARE),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)GW_PER_IP_LIMIT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GW_MEMORY_PER_CONN,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_UNESCAPE_CALLBACK,
	    no_unescape, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, gw_conns_notify, h->conns, MHD_OPTION_URI_LOG_CALLBACK,
	    uri_logged, h, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_ARRAY,
	    cfg->tls_certificate ? tls_opts : &tls_opts[2], MHD_OPTION_END);
	if (!h->d) {
		err = errno ? errno : EADDRINUSE;
		fprintf(stderr, "smbgate: cannot listen on %s:%u: %s\n", cfg->listen_host,
			cfg->listen_port, strerror(err));
		gw_conns_free(h->conns);
		gw->conns = NULL;
		free_keys(h);
		free(h);
		return -err;
	}
	if (!gw->tls && !loopback(&ss))
		fprintf(stderr,
			"smbgate: WARNING: plain HTTP on %s, not a loopback address: the "
			"passwords of HTTP Basic (WebDAV clients, curl -u) and of the login "
			"cross the network in clear text; set tls_certificate and tls_key\n",
			cfg->listen_host);
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
	gw_conns_free(h->conns);
	free_keys(h);
	free(h);
}
