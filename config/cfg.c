/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config/cfg.c - reads the smbgate INI file with libinih and validates it.
 *
 * libinih does the parsing; we drive it with ini_parse_stream() and our own
 * line reader because this build of inih (Debian's, INI_HANDLER_LINENO=0)
 * neither gives the handler a line number nor tells it about sections that
 * have no keys, and it truncates section names to 49 bytes. The reader
 * therefore:
 *   - counts lines, so every message names file:line;
 *   - rejects lines that do not fit inih's line buffer (inih would silently
 *     split them into two lines) and lines with NUL bytes;
 *   - rejects indented lines (inih would take them as continuation lines);
 *   - notices "[section]" headers using inih's own rule (first ']' before an
 *     inline " ;" comment) so that empty sections, repeated sections and the
 *     full server name are seen. Everything else (keys, values, comments,
 *     syntax errors) is inih's.
 *
 * Parsing stops at the first error; only that one is reported. This module
 * never prints anything.
 *
 * Runs in: the gateway process, at start-up (and smbgate --check-config).
 */
#include "cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LISTEN_HOST    "127.0.0.1"
#define DEFAULT_LISTEN_PORT    8080
#define DEFAULT_IDLE_TIMEOUT   900
#define DEFAULT_HEADER_TIMEOUT 30
#define DEFAULT_MIN_BODY_RATE  1024
#define DEFAULT_MAX_SESSIONS   200
#define DEFAULT_MEMORY_LIMIT   (256ULL << 20)
#define MIN_MEMORY_LIMIT       (1ULL << 20)
#define DEFAULT_MAX_PROCESSES  64
#define DEFAULT_TMP_SIZE       (16ULL << 20)
#define DEFAULT_PRESTART       1
#define DEFAULT_UID_MIN	       200000
#define DEFAULT_UID_MAX	       265535
#define DEFAULT_SMB_PORT       445
#define DEFAULT_WORKGROUP      "WORKGROUP"
#define DEFAULT_SMB_TIMEOUT    30
#define MAX_SMB_TIMEOUT	       3600
#define MAX_QUOTED	       128 /* bytes of a value echoed in a message */
#define MAX_SECTION	       (CFG_MAX_NAME + 16)

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define cleanup_free __attribute__((cleanup(freep)))

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define cleanup_fclose __attribute__((cleanup(fclosep)))

enum section_kind {
	SECTION_NONE, /* before the first header */
	SECTION_GATEWAY,
	SECTION_SANDBOX,
	SECTION_SERVER,
};

enum gateway_key {
	GW_LISTEN,
	GW_TLS_CERTIFICATE,
	GW_TLS_KEY,
	GW_SESSION_IDLE_TIMEOUT,
	GW_MAX_SESSIONS,
	GW_MAX_UPLOAD_SIZE,
	GW_HEADER_TIMEOUT,
	GW_MIN_BODY_RATE,
	GW_CONTROL_SOCKET,
	GW_AUDIT,
	GW_UPLOAD_EXPIRY,
	GW_MAX_LOCKS_PER_USER,
	_GW_MAX,
};

static const char *const gateway_keys[_GW_MAX] = {
    [GW_LISTEN] = "listen",
    [GW_TLS_CERTIFICATE] = "tls_certificate",
    [GW_TLS_KEY] = "tls_key",
    [GW_SESSION_IDLE_TIMEOUT] = "session_idle_timeout",
    [GW_MAX_SESSIONS] = "max_sessions",
    [GW_MAX_UPLOAD_SIZE] = "max_upload_size",
    [GW_HEADER_TIMEOUT] = "header_timeout",
    [GW_MIN_BODY_RATE] = "min_body_rate",
    [GW_CONTROL_SOCKET] = "control_socket",
    [GW_AUDIT] = "audit",
    [GW_UPLOAD_EXPIRY] = "upload_expiry",
    [GW_MAX_LOCKS_PER_USER] = "max_locks_per_user",
};

enum sandbox_key {
	SBX_MEMORY_LIMIT,
	SBX_MAX_PROCESSES,
	SBX_UID_RANGE,
	SBX_PRESTART,
	SBX_MOUNTS,
	SBX_SMB_SOCKET,
	SBX_TMP_SIZE,
	_SBX_MAX,
};

static const char *const sandbox_keys[_SBX_MAX] = {
    [SBX_MEMORY_LIMIT] = "memory_limit",
    [SBX_MAX_PROCESSES] = "max_processes",
    [SBX_UID_RANGE] = "uid_range",
    [SBX_PRESTART] = "prestart",
    [SBX_MOUNTS] = "mounts",
    [SBX_SMB_SOCKET] = "smb_socket",
    [SBX_TMP_SIZE] = "tmp_size",
};

enum server_key {
	SRV_HOST,
	SRV_PORT,
	SRV_WORKGROUP,
	SRV_MIN_PROTOCOL,
	SRV_MAX_PROTOCOL,
	SRV_ENCRYPTION,
	SRV_SHOW_HIDDEN_SHARES,
	SRV_TIMEOUT,
	_SRV_MAX,
};

static const char *const server_keys[_SRV_MAX] = {
    [SRV_HOST] = "host",
    [SRV_PORT] = "port",
    [SRV_WORKGROUP] = "workgroup",
    [SRV_MIN_PROTOCOL] = "min_protocol",
    [SRV_MAX_PROTOCOL] = "max_protocol",
    [SRV_ENCRYPTION] = "encryption",
    [SRV_SHOW_HIDDEN_SHARES] = "show_hidden_shares",
    [SRV_TIMEOUT] = "timeout",
};

struct parser {
	const char *path;
	FILE *file;
	char *buf; /* getline() buffer */
	size_t bufsize;
	unsigned line; /* line number of the line last read */

	struct cfg *cfg;

	/* The current section, as the reader saw its header. */
	enum section_kind kind;
	char section[MAX_SECTION + 1]; /* "gateway", "server NAME"... for messages */
	unsigned section_line;
	struct cfg_server *server; /* the current [server NAME], or NULL */

	unsigned gateway_line, sandbox_line; /* header lines, 0 when not seen */
	unsigned gateway_key_line[_GW_MAX];  /* 0 when the key was not given */
	unsigned sandbox_key_line[_SBX_MAX];
	unsigned server_key_line[_SRV_MAX]; /* reset at each [server NAME] */

	int error; /* first error, negative errno; 0 while all is well */
	char *err;
	size_t errlen;
};

/* Records the first error only; later ones are consequences of it. */
__attribute__((format(printf, 3, 4))) static int parse_error(struct parser *p, int error,
							     const char *fmt, ...)
{
	va_list ap;

	if (p->error)
		return p->error;
	p->error = error;
	if (p->err && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
		/* One printable line, whatever the file held (a key, a section
		 * name): values are quoted with printable(), the rest is cut here. */
		for (char *c = p->err; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = *c == '\t' ? ' ' : '?';
	}
	return error;
}

/* Copies @s into @buf for quoting in a message: control bytes become \xNN. */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	if (*s && n + 4 <= size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* "<path>:<line>: [<section>] <key>: <what>: '<value>'" */
static int fail_value(struct parser *p, const char *key, const char *what, const char *value)
{
	char q[MAX_QUOTED * 4 + 8];

	return parse_error(p, -EINVAL, "%s:%u: [%s] %s: %s: '%s'", p->path, p->line, p->section,
			   key, what, printable(value, q, sizeof(q)));
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The decimal digits at *@s, at least one, into *@ret (-ERANGE past
 * UINT64_MAX); moves *@s past them. */
static int read_digits(const char **s, uint64_t *ret)
{
	const char *c = *s;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*c))
		return -EINVAL;
	for (; isdigit((unsigned char)*c); c++) {
		unsigned d = (unsigned)(*c - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*s = c;
	*ret = v;
	return 0;
}

/* Digits only: no sign, no blanks, no base prefix. */
static int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v;
	int r = read_digits(&s, &v);

	if (r < 0)
		return r;
	if (*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_unsigned(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *ret)
{
	static const char units[] = "KMGT";
	uint64_t v = 0;
	unsigned shift = 0;
	const char *u;
	int r;

	if (!s)
		return -EINVAL;
	r = read_digits(&s, &v);
	if (r < 0)
		return r;
	if (*s && (u = strchr(units, toupper((unsigned char)*s)))) {
		shift = 10 * (unsigned)(u - units + 1);
		s++;
		if (*s == 'i' || *s == 'I') {
			s++;
			if (*s != 'b' && *s != 'B')
				return -EINVAL;
		}
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const protocol_names[] = {
    [CFG_PROTO_NT1] = "NT1",	     [CFG_PROTO_SMB2_02] = "SMB2_02",
    [CFG_PROTO_SMB2_10] = "SMB2_10", [CFG_PROTO_SMB3_00] = "SMB3_00",
    [CFG_PROTO_SMB3_02] = "SMB3_02", [CFG_PROTO_SMB3_11] = "SMB3_11",
};

const char *cfg_protocol_name(enum cfg_protocol p)
{
	if ((unsigned)p >= sizeof(protocol_names) / sizeof(protocol_names[0]))
		return "unknown";
	return protocol_names[p];
}

/*
 * Samba's names. "SMB2" and "SMB3" are families: as a minimum they mean the
 * family's lowest dialect, as a maximum its highest.
 */
static int parse_protocol(const char *s, bool as_max, enum cfg_protocol *ret)
{
	if (strcasecmp(s, "SMB2") == 0) {
		*ret = as_max ? CFG_PROTO_SMB2_10 : CFG_PROTO_SMB2_02;
		return 0;
	}
	if (strcasecmp(s, "SMB3") == 0) {
		*ret = as_max ? CFG_PROTO_SMB3_11 : CFG_PROTO_SMB3_00;
		return 0;
	}
	for (size_t i = 0; i < sizeof(protocol_names) / sizeof(protocol_names[0]); i++) {
		if (strcasecmp(s, protocol_names[i]) == 0) {
			*ret = (enum cfg_protocol)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const encryption_names[] = {
    [CFG_ENCRYPTION_OFF] = "off",
    [CFG_ENCRYPTION_DESIRED] = "desired",
    [CFG_ENCRYPTION_REQUIRED] = "required",
};

const char *cfg_encryption_name(enum cfg_encryption e)
{
	if ((unsigned)e >= sizeof(encryption_names) / sizeof(encryption_names[0]))
		return "unknown";
	return encryption_names[e];
}

static int parse_encryption(const char *s, enum cfg_encryption *ret)
{
	for (size_t i = 0; i < sizeof(encryption_names) / sizeof(encryption_names[0]); i++) {
		if (strcasecmp(s, encryption_names[i]) == 0) {
			*ret = (enum cfg_encryption)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static bool is_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/*
 * A DNS name: labels of 1..63 [A-Za-z0-9_-] not starting or ending with '-'
 * (nothing that looks like an option), separated by single dots, at most
 * CFG_MAX_HOST in all. An all-digit last label means an IPv4 address, which
 * must then be a valid one.
 */
static bool is_dns_name(const char *s)
{
	size_t len = strlen(s), label = 0;
	const char *last = s;
	bool digits = true;

	if (len == 0 || len > CFG_MAX_HOST)
		return false;
	for (const char *c = s;; c++) {
		if (*c == '.' || *c == '\0') {
			if (label == 0 || label > 63 || c[-1] == '-')
				return false;
			if (*c == '\0')
				break;
			label = 0;
			last = c + 1;
			continue;
		}
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
		if (label == 0 && *c == '-')
			return false;
		label++;
	}
	for (const char *c = last; *c; c++)
		digits = digits && isdigit((unsigned char)*c);
	return !digits || is_ipv4(s);
}

/*
 * A copy of the host of @len bytes at @s: "[IPv6]" copied without its
 * brackets, anything else copied as it is and checked by @plain_ok. On 0,
 * *@ret is the copy (caller frees); else untouched.
 */
static int host_dup(const char *s, size_t len, bool (*plain_ok)(const char *), char **ret)
{
	bool bracketed = len > 2 && s[0] == '[' && s[len - 1] == ']';
	char *h = bracketed ? strndup(s + 1, len - 2) : strndup(s, len);

	if (!h)
		return -ENOMEM;
	if (bracketed ? !is_ipv6(h) : !plain_ok(h)) {
		free(h);
		return -EINVAL;
	}
	*ret = h;
	return 0;
}

static bool is_ipv6_or_dns_name(const char *s)
{
	return is_ipv6(s) || is_dns_name(s);
}

/* Server host: DNS name, IPv4, IPv6 bare or in brackets; stored bare. */
static int parse_host(const char *s, char **ret)
{
	char *h;
	int r = host_dup(s, strlen(s), is_ipv6_or_dns_name, &h);

	if (r < 0)
		return r;
	free(*ret);
	*ret = h;
	return 0;
}

/* "IPv4:PORT" or "[IPv6]:PORT"; the host is stored without brackets. */
static int parse_listen(const char *s, char **ret_host, uint16_t *ret_port)
{
	const char *colon = strrchr(s, ':');
	cleanup_free char *host = NULL;
	uint64_t port;
	int r;

	if (!colon || parse_unsigned(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	r = host_dup(s, (size_t)(colon - s), is_ipv4, &host);
	if (r < 0)
		return r;
	free(*ret_host);
	*ret_host = host;
	host = NULL;
	*ret_port = (uint16_t)port;
	return 0;
}

/* "MIN-MAX" with 0 < MIN <= MAX < 4294967295 ((uid_t)-1 is reserved). */
static int parse_uid_range(const char *s, uint32_t *ret_min, uint32_t *ret_max)
{
	cleanup_free char *lo = NULL;
	const char *dash = strchr(s, '-');
	uint64_t min, max;

	if (!dash)
		return -EINVAL;
	lo = strndup(s, (size_t)(dash - s));
	if (!lo)
		return -ENOMEM;
	if (parse_unsigned(lo, 1, UINT32_MAX - 1, &min) < 0 ||
	    parse_unsigned(dash + 1, min, UINT32_MAX - 1, &max) < 0)
		return -EINVAL;
	*ret_min = (uint32_t)min;
	*ret_max = (uint32_t)max;
	return 0;
}

/* NetBIOS domain: 1..15 printable ASCII bytes minus space and \/:*?"<>| */
static bool is_workgroup(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CFG_MAX_WORKGROUP)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("\\/:*?\"<>|", *s))
			return false;
	return true;
}

/* [server NAME]: 1..CFG_MAX_NAME of [A-Za-z0-9._-], not "." nor "..". */
static bool is_server_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CFG_MAX_NAME || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       len;
}

/* A file path: absolute, at most CFG_MAX_PATH bytes, no control bytes. */
static int parse_path(const char *s, char **ret)
{
	char *copy;

	if (s[0] != '/' || strlen(s) > CFG_MAX_PATH)
		return -EINVAL;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return -EINVAL;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	free(*ret);
	*ret = copy;
	return 0;
}

static int oom(struct parser *p)
{
	return parse_error(p, -ENOMEM, "%s:%u: out of memory", p->path, p->line);
}

/* Reports a value error: -ENOMEM as such, anything else with @what. */
static int value_error(struct parser *p, int r, const char *key, const char *what,
		       const char *value)
{
	if (r == -ENOMEM)
		return oom(p);
	return fail_value(p, key, what, value);
}

/* A whole number from @min to @max: into *@ret, or the message that names
 * the range. */
static int number_value(struct parser *p, const char *key, const char *v, unsigned min,
			unsigned max, unsigned *ret)
{
	char what[64];
	uint64_t n;

	if (parse_unsigned(v, min, max, &n) < 0) {
		snprintf(what, sizeof(what), "not a number between %u and %u", min, max);
		return fail_value(p, key, what, v);
	}
	*ret = (unsigned)n;
	return 0;
}

static int handle_gateway(struct parser *p, enum gateway_key k, const char *v)
{
	struct cfg *c = p->cfg;
	const char *key = gateway_keys[k];
	uint64_t n;
	int r;

	switch (k) {
	case GW_LISTEN:
		r = parse_listen(v, &c->listen_host, &c->listen_port);
		if (r < 0)
			return value_error(
			    p, r, key, "not IPV4:PORT or [IPV6]:PORT with a port from 1 to 65535",
			    v);
		return 0;
	case GW_TLS_CERTIFICATE:
	case GW_TLS_KEY:
		r = parse_path(v, k == GW_TLS_KEY ? &c->tls_key : &c->tls_certificate);
		if (r < 0)
			return value_error(p, r, key, "not an absolute file name", v);
		return 0;
	case GW_SESSION_IDLE_TIMEOUT:
		return number_value(p, key, v, 1, CFG_MAX_IDLE_TIMEOUT, &c->session_idle_timeout);
	case GW_UPLOAD_EXPIRY:
		return number_value(p, key, v, 1, CFG_MAX_IDLE_TIMEOUT, &c->upload_expiry);
	case GW_MAX_LOCKS_PER_USER:
		return number_value(p, key, v, 1, CFG_MAX_LOCKS, &c->max_locks_per_user);
	case GW_MAX_SESSIONS:
		return number_value(p, key, v, 1, CFG_MAX_SESSIONS, &c->max_sessions);
	case GW_MAX_UPLOAD_SIZE:
		r = cfg_parse_size(v, &c->max_upload_size);
		if (r < 0)
			return fail_value(p, key,
					  r == -ERANGE ? "size too large"
						       : "not a size such as 0, 512K, 100M or 2G",
					  v);
		return 0;
	case GW_HEADER_TIMEOUT:
		return number_value(p, key, v, 1, CFG_MAX_HEADER_TIMEOUT, &c->header_timeout);
	case GW_MIN_BODY_RATE:
		r = cfg_parse_size(v, &n);
		if (r < 0 || n > CFG_MAX_BODY_RATE)
			return fail_value(
			    p, key,
			    "not a rate such as 0, 512 or 1K (bytes per second, at most 1G)", v);
		c->min_body_rate = n;
		return 0;
	case GW_CONTROL_SOCKET:
		/* Its parent is created when missing; "/" alone names no file. */
		r = !*v || strlen(v) > CFG_MAX_SOCKET_PATH || strcmp(v, "/") == 0 ||
			    v[strlen(v) - 1] == '/'
			? -EINVAL
			: parse_path(v, &c->control_socket);
		if (r < 0)
			return value_error(p, r, key,
					   "not an absolute file name of at most 107 bytes", v);
		return 0;
	case GW_AUDIT:
		if (parse_bool(v, &c->audit) < 0)
			return fail_value(p, key, "not a boolean (true/false, yes/no, on/off, 1/0)",
					  v);
		return 0;
	case _GW_MAX:
		break;
	}
	return parse_error(p, -EINVAL, "%s:%u: internal error", p->path, p->line);
}

static int handle_sandbox(struct parser *p, enum sandbox_key k, const char *v)
{
	struct cfg *c = p->cfg;
	const char *key = sandbox_keys[k];
	uint64_t n;
	int r;

	switch (k) {
	case SBX_MEMORY_LIMIT:
		r = cfg_parse_size(v, &n);
		if (r < 0)
			return fail_value(
			    p, key,
			    r == -ERANGE ? "size too large" : "not a size such as 256M or 1G", v);
		if (n != 0 && n < MIN_MEMORY_LIMIT)
			return fail_value(p, key, "must be 0 (unlimited) or at least 1M", v);
		c->memory_limit = n;
		return 0;
	case SBX_MAX_PROCESSES:
		return number_value(p, key, v, 1, CFG_MAX_PROCESSES, &c->max_processes);
	case SBX_TMP_SIZE:
		r = cfg_parse_size(v, &n);
		if (r < 0)
			return fail_value(
			    p, key,
			    r == -ERANGE ? "size too large" : "not a size such as 16M or 1G", v);
		if (n < CFG_MIN_TMP_SIZE || n > CFG_MAX_TMP_SIZE)
			return fail_value(p, key, "must be between 1M and 16G", v);
		c->tmp_size = n;
		return 0;
	case SBX_UID_RANGE:
		r = parse_uid_range(v, &c->uid_min, &c->uid_max);
		if (r < 0)
			return value_error(p, r, key,
					   "not MIN-MAX with 0 < MIN <= MAX < 4294967295", v);
		return 0;
	case SBX_PRESTART:
		return number_value(p, key, v, 0, CFG_MAX_PRESTART, &c->prestart);
	case SBX_MOUNTS:
		if (strcmp(v, "off") == 0)
			c->mounts = CFG_MOUNTS_OFF;
		else if (strcmp(v, "login") == 0)
			c->mounts = CFG_MOUNTS_LOGIN;
		else if (strcmp(v, "on-demand") == 0)
			c->mounts = CFG_MOUNTS_ON_DEMAND;
		else
			return fail_value(p, key, "not one of off, login, on-demand", v);
		return 0;
	case SBX_SMB_SOCKET:
		if (strcmp(v, "handoff") == 0)
			c->smb_socket = CFG_SMB_SOCKET_HANDOFF;
		else if (strcmp(v, "relay") == 0)
			c->smb_socket = CFG_SMB_SOCKET_RELAY;
		else
			return fail_value(p, key, "not one of handoff, relay", v);
		return 0;
	case _SBX_MAX:
		break;
	}
	return parse_error(p, -EINVAL, "%s:%u: internal error", p->path, p->line);
}

static int handle_server(struct parser *p, enum server_key k, const char *v)
{
	struct cfg_server *s = p->server;
	const char *key = server_keys[k];
	uint64_t n;
	char *w;
	int r;

	switch (k) {
	case SRV_HOST:
		r = parse_host(v, &s->host);
		if (r < 0)
			return value_error(p, r, key, "not a DNS name or IP address", v);
		return 0;
	case SRV_PORT:
		if (parse_unsigned(v, 1, 65535, &n) < 0)
			return fail_value(p, key, "not a number between 1 and 65535", v);
		s->port = (uint16_t)n;
		return 0;
	case SRV_WORKGROUP:
		if (!is_workgroup(v))
			return fail_value(
			    p, key, "not 1 to 15 characters without blanks or \\/:*?\"<>|", v);
		w = strdup(v);
		if (!w)
			return oom(p);
		free(s->workgroup);
		s->workgroup = w;
		return 0;
	case SRV_MIN_PROTOCOL:
	case SRV_MAX_PROTOCOL:
		if (parse_protocol(v, k == SRV_MAX_PROTOCOL,
				   k == SRV_MAX_PROTOCOL ? &s->max_protocol : &s->min_protocol) < 0)
			return fail_value(p, key,
					  "not one of NT1, SMB2, SMB2_02, SMB2_10, SMB3, SMB3_00, "
					  "SMB3_02, SMB3_11",
					  v);
		return 0;
	case SRV_ENCRYPTION:
		if (parse_encryption(v, &s->encryption) < 0)
			return fail_value(p, key, "not one of off, desired, required", v);
		return 0;
	case SRV_SHOW_HIDDEN_SHARES:
		if (parse_bool(v, &s->show_hidden_shares) < 0)
			return fail_value(p, key, "not a boolean (true/false, yes/no, on/off, 1/0)",
					  v);
		return 0;
	case SRV_TIMEOUT:
		return number_value(p, key, v, 1, MAX_SMB_TIMEOUT, &s->timeout);
	case _SRV_MAX:
		break;
	}
	return parse_error(p, -EINVAL, "%s:%u: internal error", p->path, p->line);
}

static int find_key(const char *const *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0)
			return (int)i;
	return -1;
}

/* The libinih handler: returns nonzero to go on. @section is not used (see top). */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const char *const *keys;
	unsigned *lines;
	size_t n;
	int k;

	(void)section;
	if (p->error)
		return 0;

	switch (p->kind) {
	case SECTION_GATEWAY:
		keys = gateway_keys;
		lines = p->gateway_key_line;
		n = _GW_MAX;
		break;
	case SECTION_SANDBOX:
		keys = sandbox_keys;
		lines = p->sandbox_key_line;
		n = _SBX_MAX;
		break;
	case SECTION_SERVER:
		keys = server_keys;
		lines = p->server_key_line;
		n = _SRV_MAX;
		break;
	case SECTION_NONE:
	default:
		parse_error(p, -EINVAL, "%s:%u: %s: key outside of any section", p->path, p->line,
			    name);
		return 0;
	}

	k = find_key(keys, n, name);
	if (k < 0) {
		parse_error(p, -EINVAL, "%s:%u: [%s] %s: unknown key", p->path, p->line, p->section,
			    name);
		return 0;
	}
	if (lines[k]) {
		parse_error(p, -EINVAL, "%s:%u: [%s] %s: duplicate key, first set at line %u",
			    p->path, p->line, p->section, name, lines[k]);
		return 0;
	}
	lines[k] = p->line;

	switch (p->kind) {
	case SECTION_GATEWAY:
		return handle_gateway(p, (enum gateway_key)k, value) == 0;
	case SECTION_SANDBOX:
		return handle_sandbox(p, (enum sandbox_key)k, value) == 0;
	case SECTION_SERVER:
		return handle_server(p, (enum server_key)k, value) == 0;
	case SECTION_NONE:
	default:
		return 0;
	}
}

/* Checks a finished [server NAME] section. */
static int close_server(struct parser *p)
{
	struct cfg_server *s = p->server;
	enum server_key k;

	if (!s)
		return 0;
	p->server = NULL;
	if (!s->host)
		return parse_error(p, -EINVAL, "%s:%u: [server %s] host: required key missing",
				   p->path, s->line, s->name);
	if (s->min_protocol > s->max_protocol) {
		k = p->server_key_line[SRV_MIN_PROTOCOL] > p->server_key_line[SRV_MAX_PROTOCOL]
			? SRV_MIN_PROTOCOL
			: SRV_MAX_PROTOCOL;
		return parse_error(
		    p, -EINVAL, "%s:%u: [server %s] %s: min_protocol %s is above max_protocol %s",
		    p->path, p->server_key_line[k], s->name, server_keys[k],
		    cfg_protocol_name(s->min_protocol), cfg_protocol_name(s->max_protocol));
	}
	return 0;
}

static int open_server(struct parser *p, const char *name)
{
	struct cfg *c = p->cfg;
	struct cfg_server *s;
	char q[MAX_QUOTED * 4 + 8];

	if (!is_server_name(name))
		return parse_error(
		    p, -EINVAL,
		    "%s:%u: [server]: not a server name (1 to 63 of A-Z a-z 0-9 . _ -, "
		    "not . or ..): '%s'",
		    p->path, p->line, printable(name, q, sizeof(q)));
	for (size_t i = 0; i < c->n_servers; i++)
		if (strcmp(c->servers[i].name, name) == 0)
			return parse_error(
			    p, -EINVAL,
			    "%s:%u: [server %s]: duplicate section, first defined at line %u",
			    p->path, p->line, name, c->servers[i].line);
	if (c->n_servers >= CFG_MAX_SERVERS)
		return parse_error(p, -EINVAL, "%s:%u: [server %s]: too many servers (at most %d)",
				   p->path, p->line, name, CFG_MAX_SERVERS);

	if (!c->servers) {
		c->servers = calloc(CFG_MAX_SERVERS, sizeof(*c->servers));
		if (!c->servers)
			return oom(p);
	}
	s = &c->servers[c->n_servers];
	*s = (struct cfg_server){
	    .port = DEFAULT_SMB_PORT,
	    .min_protocol = CFG_PROTO_SMB2_02,
	    .max_protocol = CFG_PROTO_SMB3_11,
	    .encryption = CFG_ENCRYPTION_DESIRED,
	    .show_hidden_shares = false,
	    .timeout = DEFAULT_SMB_TIMEOUT,
	    .line = p->line,
	};
	s->name = strdup(name);
	s->workgroup = strdup(DEFAULT_WORKGROUP);
	c->n_servers++; /* counted now so that cfg_free() frees it */
	if (!s->name || !s->workgroup)
		return oom(p);
	p->server = s;
	memset(p->server_key_line, 0, sizeof(p->server_key_line));
	return 0;
}

/* A "[...]" header: @text is what is between the brackets. */
static int open_section(struct parser *p, const char *text, size_t len)
{
	char q[MAX_QUOTED * 4 + 8];
	cleanup_free char *t = NULL;
	unsigned *seen = NULL;
	const char *name;
	int r;

	r = close_server(p);
	if (r < 0)
		return r;

	while (len > 0 && is_blank(*text))
		text++, len--;
	while (len > 0 && is_blank(text[len - 1]))
		len--;
	t = strndup(text, len);
	if (!t)
		return oom(p);

	p->section_line = p->line;
	if (strcmp(t, "gateway") == 0) {
		p->kind = SECTION_GATEWAY;
		seen = &p->gateway_line;
	} else if (strcmp(t, "sandbox") == 0) {
		p->kind = SECTION_SANDBOX;
		seen = &p->sandbox_line;
	} else if (strncmp(t, "server", 6) == 0 && (t[6] == ' ' || t[6] == '\t')) {
		name = t + 6;
		while (*name == ' ' || *name == '\t')
			name++;
		p->kind = SECTION_SERVER;
		snprintf(p->section, sizeof(p->section), "server %s", name);
		return open_server(p, name);
	} else {
		p->kind = SECTION_NONE;
		return parse_error(
		    p, -EINVAL,
		    "%s:%u: [%s]: unknown section (not [gateway], [sandbox] or [server NAME])",
		    p->path, p->line, printable(t, q, sizeof(q)));
	}

	snprintf(p->section, sizeof(p->section), "%s", t);
	if (*seen)
		return parse_error(p, -EINVAL,
				   "%s:%u: [%s]: duplicate section, first defined at line %u",
				   p->path, p->line, t, *seen);
	*seen = p->line;
	return 0;
}

/*
 * The ini_reader: one line per call, like fgets(), but counting lines and
 * noticing section headers (see the top of the file). Returns NULL at the end
 * of the file and on error, which stops ini_parse_stream().
 */
static char *reader(char *str, int num, void *user)
{
	struct parser *p = user;
	ssize_t n;
	size_t len;
	char *line, *s;
	bool was_blank = false;

	if (p->error || num < 4)
		return NULL;
	errno = 0;
	n = getline(&p->buf, &p->bufsize, p->file);
	if (n < 0) {
		if (ferror(p->file)) {
			if (errno <= 0)
				errno = EIO;
			parse_error(p, -errno, "%s: read error: %m", p->path);
		}
		return NULL;
	}
	p->line++;
	line = p->buf;
	if ((size_t)n != strlen(line)) {
		parse_error(p, -EINVAL, "%s:%u: line contains a NUL byte", p->path, p->line);
		return NULL;
	}
	/* inih needs room for the text, "\r\n" and a NUL; it would split a longer line */
	len = (size_t)n;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > (size_t)num - 3 || (size_t)n > (size_t)num - 1) {
		parse_error(p, -EINVAL, "%s:%u: line too long (more than %d bytes)", p->path,
			    p->line, num - 3);
		return NULL;
	}
	memcpy(str, line, (size_t)n + 1);

	if (p->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3; /* UTF-8 BOM, which inih skips too */
	if (is_blank(*line)) {
		s = line;
		while (is_blank(*s))
			s++;
		if (*s && *s != ';' && *s != '#') {
			parse_error(
			    p, -EINVAL,
			    "%s:%u: indented line (taken as a continuation line; remove the "
			    "leading blanks)",
			    p->path, p->line);
			return NULL;
		}
	}
	if (*line == '[') {
		/* inih's rule: the first ']' not after an inline " ;" comment */
		for (s = line + 1; *s && *s != ']' && !(was_blank && *s == ';'); s++)
			was_blank = is_blank(*s);
		/* without ']', inih reports a syntax error on this line */
		if (*s == ']' && open_section(p, line + 1, (size_t)(s - line - 1)) < 0)
			return NULL;
	}
	return str;
}

/* Checks that need the whole file. */
static int check_file(struct parser *p)
{
	struct cfg *c = p->cfg;
	unsigned cert = p->gateway_key_line[GW_TLS_CERTIFICATE];
	unsigned key = p->gateway_key_line[GW_TLS_KEY];

	if (cert && !key)
		return parse_error(
		    p, -EINVAL,
		    "%s:%u: [gateway] tls_certificate: tls_key missing (set both or neither)",
		    p->path, cert);
	if (key && !cert)
		return parse_error(
		    p, -EINVAL,
		    "%s:%u: [gateway] tls_key: tls_certificate missing (set both or neither)",
		    p->path, key);
	if (c->n_servers == 0)
		return parse_error(p, -EINVAL, "%s: no [server NAME] section", p->path);
	return 0;
}

static struct cfg *cfg_new(const char *path)
{
	struct cfg *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->path = strdup(path);
	c->listen_host = strdup(DEFAULT_LISTEN_HOST);
	c->control_socket = strdup(CFG_DEFAULT_CONTROL_SOCKET);
	if (!c->path || !c->listen_host || !c->control_socket) {
		cfg_free(c);
		return NULL;
	}
	c->listen_port = DEFAULT_LISTEN_PORT;
	c->session_idle_timeout = DEFAULT_IDLE_TIMEOUT;
	c->max_sessions = DEFAULT_MAX_SESSIONS;
	c->max_upload_size = 0;
	c->upload_expiry = 86400;
	c->max_locks_per_user = CFG_DEFAULT_LOCKS_PER_USER;
	c->header_timeout = DEFAULT_HEADER_TIMEOUT;
	c->min_body_rate = DEFAULT_MIN_BODY_RATE;
	c->memory_limit = DEFAULT_MEMORY_LIMIT;
	c->max_processes = DEFAULT_MAX_PROCESSES;
	c->tmp_size = DEFAULT_TMP_SIZE;
	c->prestart = DEFAULT_PRESTART;
	c->smb_socket = CFG_SMB_SOCKET_HANDOFF;
	c->uid_min = DEFAULT_UID_MIN;
	c->uid_max = DEFAULT_UID_MAX;
	return c;
}

int cfg_load(const char *path, struct cfg **ret, char *err, size_t errlen)
{
	cleanup_fclose FILE *f = NULL;
	struct parser p = {
	    .path = path,
	    .err = err,
	    .errlen = errlen,
	};
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!path || !ret)
		return parse_error(&p, -EINVAL, "%s: invalid argument", path ? path : "(null)");

	f = fopen(path, "re");
	if (!f)
		return parse_error(&p, -errno, "%s: cannot open: %m", path);

	p.file = f;
	p.cfg = cfg_new(path);
	if (!p.cfg)
		return parse_error(&p, -ENOMEM, "%s: out of memory", path);

	r = ini_parse_stream(reader, &p, handler, &p);
	if (r > 0 && (!p.error || (unsigned)r < p.line)) {
		/* inih's own complaint, on a line before the one we stopped at */
		p.error = 0;
		parse_error(&p, -EINVAL,
			    "%s:%d: syntax error: not '[section]', 'key = value' or a comment",
			    path, r);
	} else if (r < 0 && !p.error) {
		parse_error(&p, -ENOMEM, "%s: out of memory", path);
	}
	if (!p.error && close_server(&p) == 0)
		check_file(&p);

	free(p.buf);
	if (p.error) {
		cfg_free(p.cfg);
		return p.error;
	}
	*ret = p.cfg;
	return 0;
}

/* Appends ", @what" (or @what first) to @kept. */
static void kept_add(char *kept, size_t len, const char *what)
{
	size_t n = strlen(kept);

	if (n + 1 < len)
		snprintf(kept + n, len - n, "%s%s", n ? ", " : "", what);
}

static bool str_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* *@dst = a copy of @src (NULL allowed); returns -ENOMEM, @dst untouched. */
static int str_keep(char **dst, const char *src)
{
	char *copy = NULL;

	if (src && !(copy = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

int cfg_reload_merge(struct cfg *next, const struct cfg *cur, char *kept, size_t keptlen, char *err,
		     size_t errlen)
{
	char what[CFG_MAX_NAME + 32];
	bool same = next->n_servers == cur->n_servers;

	if (keptlen)
		kept[0] = '\0';
	for (size_t i = 0; same && i < cur->n_servers; i++)
		same = strcmp(next->servers[i].name, cur->servers[i].name) == 0;
	if (!same) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: the [server] sections differ from the running ones (added, "
				 "removed, renamed or reordered): restart smbgate to apply them",
				 next->path);
		return -EINVAL;
	}
	if (str_differ(next->listen_host, cur->listen_host) ||
	    next->listen_port != cur->listen_port) {
		kept_add(kept, keptlen, "listen");
		if (str_keep(&next->listen_host, cur->listen_host) < 0)
			return -ENOMEM;
		next->listen_port = cur->listen_port;
	}
	if (str_differ(next->tls_certificate, cur->tls_certificate)) {
		kept_add(kept, keptlen, "tls_certificate");
		if (str_keep(&next->tls_certificate, cur->tls_certificate) < 0)
			return -ENOMEM;
	}
	if (str_differ(next->tls_key, cur->tls_key)) {
		kept_add(kept, keptlen, "tls_key");
		if (str_keep(&next->tls_key, cur->tls_key) < 0)
			return -ENOMEM;
	}
	if (str_differ(next->control_socket, cur->control_socket)) {
		kept_add(kept, keptlen, "control_socket");
		if (str_keep(&next->control_socket, cur->control_socket) < 0)
			return -ENOMEM;
	}
#define KEEP(field, name)                                                                          \
	do {                                                                                       \
		if (next->field != cur->field) {                                                   \
			kept_add(kept, keptlen, name);                                             \
			next->field = cur->field;                                                  \
		}                                                                                  \
	} while (0)
	KEEP(header_timeout, "header_timeout");
	KEEP(min_body_rate, "min_body_rate");
	KEEP(memory_limit, "[sandbox] memory_limit");
	KEEP(max_processes, "[sandbox] max_processes");
	KEEP(tmp_size, "[sandbox] tmp_size");
	KEEP(prestart, "[sandbox] prestart");
	KEEP(mounts, "[sandbox] mounts");
	KEEP(smb_socket, "[sandbox] smb_socket");
	if (next->uid_min != cur->uid_min || next->uid_max != cur->uid_max) {
		kept_add(kept, keptlen, "[sandbox] uid_range");
		next->uid_min = cur->uid_min;
		next->uid_max = cur->uid_max;
	}
#undef KEEP
	for (size_t i = 0; i < cur->n_servers; i++) {
		if (strcmp(next->servers[i].host, cur->servers[i].host) == 0)
			continue;
		snprintf(what, sizeof(what), "[server %s] host", cur->servers[i].name);
		kept_add(kept, keptlen, what);
		if (str_keep(&next->servers[i].host, cur->servers[i].host) < 0)
			return -ENOMEM;
	}
	return 0;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_servers; i++) {
		free(c->servers[i].name);
		free(c->servers[i].host);
		free(c->servers[i].workgroup);
	}
	free(c->servers);
	free(c->path);
	free(c->listen_host);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->control_socket);
	free(c);
}

const struct cfg_server *cfg_server_find(const struct cfg *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_servers; i++)
		if (strcmp(c->servers[i].name, name) == 0)
			return &c->servers[i];
	return NULL;
}
