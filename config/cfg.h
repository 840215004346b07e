/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config/cfg.h - the smbgate configuration: an INI file parsed with libinih
 * into a validated, immutable struct cfg.
 *
 * This module never logs: every problem is reported to the caller as a
 * negative errno plus a one-line message naming file:line and the key.
 *
 * Runs in: the gateway process, at start-up and on a reload (SIGHUP).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SMB dialects, in order; the names are Samba's "client min/max protocol". */
enum cfg_protocol {
	CFG_PROTO_NT1,
	CFG_PROTO_SMB2_02,
	CFG_PROTO_SMB2_10,
	CFG_PROTO_SMB3_00,
	CFG_PROTO_SMB3_02,
	CFG_PROTO_SMB3_11,
};

enum cfg_encryption {
	CFG_ENCRYPTION_OFF,
	CFG_ENCRYPTION_DESIRED,
	CFG_ENCRYPTION_REQUIRED,
};

/* The control socket's path when the configuration does not set one. */
#define CFG_DEFAULT_CONTROL_SOCKET "/run/smbgate/control.sock"

/* Upper bounds on what an administrator can configure. */
#define CFG_MAX_SERVERS	       64
#define CFG_MAX_NAME	       63  /* [server NAME]: [A-Za-z0-9._-], appears in URLs */
#define CFG_MAX_HOST	       253 /* DNS name or IP literal */
#define CFG_MAX_WORKGROUP      15  /* NetBIOS domain name */
#define CFG_MAX_PATH	       4095
#define CFG_MAX_SESSIONS       100000
#define CFG_MAX_IDLE_TIMEOUT   604800 /* one week */
#define CFG_MAX_HEADER_TIMEOUT 3600
#define CFG_MAX_BODY_RATE      (1ULL << 30)
#define CFG_MAX_PROCESSES      65536
/* [sandbox] tmp_size bounds: a sandbox's /tmp (tmpfs, one inode per 4 KiB). */
#define CFG_MIN_TMP_SIZE    (1ULL << 20)
#define CFG_MAX_TMP_SIZE    (16ULL << 30)
#define CFG_MAX_PRESTART    16
#define CFG_MAX_SOCKET_PATH 107 /* sizeof(sun_path) - 1: a unix socket's address */

/* [gateway] max_locks_per_user: at most the gateway's whole WebDAV lock table. */
#define CFG_MAX_LOCKS		   4096
#define CFG_DEFAULT_LOCKS_PER_USER 256

/* When a sandbox mounts its server's shares under /shares/SERVER (FUSE). */
enum cfg_mounts {
	CFG_MOUNTS_OFF,	      /* never (default) */
	CFG_MOUNTS_LOGIN,     /* at login, served by a FUSE server inside the sandbox */
	CFG_MOUNTS_ON_DEMAND, /* mounted at set-up, served from the first smbgatectl exec */
};

/* How a sandbox's worker reaches its server (docs/security.md). */
enum cfg_smb_socket {
	CFG_SMB_SOCKET_HANDOFF, /* the gateway connects and hands the socket over (default) */
	CFG_SMB_SOCKET_RELAY,	/* the pinhole relays each connection, copying the bytes */
};

struct cfg_server {
	char *name;			/* from the section header; unique */
	char *host;			/* required */
	uint16_t port;			/* default 445 */
	char *workgroup;		/* default "WORKGROUP" */
	enum cfg_protocol min_protocol; /* default SMB2_02 */
	enum cfg_protocol max_protocol; /* default SMB3_11 ("SMB3") */
	enum cfg_encryption encryption; /* default desired */
	bool show_hidden_shares;	/* list "name$" shares; default false */
	unsigned timeout;		/* SMB operation timeout, seconds; default 30 */
	unsigned line;			/* line of the section header, for messages */
};

struct cfg {
	char *path; /* the file this was read from */

	/* [gateway] */
	char *listen_host;     /* "127.0.0.1", "::1" (no brackets), "0.0.0.0" ... */
	uint16_t listen_port;  /* default 8080 */
	char *tls_certificate; /* NULL when TLS is off; both or neither */
	char *tls_key;
	unsigned session_idle_timeout; /* seconds; default 900 */
	unsigned max_sessions;	       /* default 200 */
	uint64_t max_upload_size;      /* bytes, 0 = unlimited; default 0 */
	unsigned upload_expiry;	       /* seconds an unfinished resumable upload waits; 86400 */
	unsigned max_locks_per_user;   /* WebDAV locks one user may hold, 1..4096; 256 */
	unsigned header_timeout;       /* seconds for request line + headers; default 30 */
	uint64_t min_body_rate;	       /* bytes/s a request body must keep up; 0 = none; 1K */
	char *control_socket; /* smbgatectl's unix socket; default /run/smbgate/control.sock */
	bool audit;	      /* one log line per file operation; default false */

	/* [sandbox] */
	uint64_t memory_limit;		/* bytes, 0 = unlimited; default 256M */
	unsigned max_processes;		/* default 64 */
	uint64_t tmp_size;		/* bytes of each sandbox's /tmp; default 16M */
	unsigned prestart;		/* sandboxes kept ready per server, 0..16; default 1 */
	enum cfg_mounts mounts;		/* the shares under /shares/SERVER in each sandbox */
	enum cfg_smb_socket smb_socket; /* how the worker's SMB connections leave the sandbox */
	uint32_t uid_min;		/* host uid/gid range used when run as root */
	uint32_t uid_max;		/* default 200000-265535 */

	/* [server NAME] sections, in file order; at least one. */
	size_t n_servers;
	struct cfg_server *servers;
};

/*
 * Reads and validates the INI file at @path.
 *
 * On success returns 0 and stores a new struct cfg in *@ret (caller frees
 * with cfg_free()). On failure returns a negative errno (-ENOENT/-EACCES...
 * when the file cannot be read, -EINVAL when its content is invalid, -ENOMEM),
 * leaves *@ret untouched and, when @err is not NULL, writes a NUL-terminated
 * message of at most @errlen bytes such as
 *   "smbgate.conf:12: [server files] port: not a number between 1 and 65535: 'x'".
 */
int cfg_load(const char *path, struct cfg **ret, char *err, size_t errlen);

/*
 * Makes @next, freshly loaded, a configuration a running gateway can switch
 * to from @cur (a reload on SIGHUP). Keys read only at start-up keep @cur's
 * value in @next: listen, tls_certificate, tls_key, header_timeout,
 * min_body_rate, control_socket, every [sandbox] key, and each server's
 * host. Each of them that @next would have changed is named in @kept
 * ("listen, [sandbox] memory_limit, [server x] host"; "" when none; cut to
 * @keptlen bytes). The [server] sections must be the same names in the same
 * order: otherwise returns -EINVAL with a message in @err (@next is then
 * unusable, free it). Returns 0, or -ENOMEM (@next partly merged: free it).
 */
int cfg_reload_merge(struct cfg *next, const struct cfg *cur, char *kept, size_t keptlen, char *err,
		     size_t errlen);

/* Frees @c and everything it owns. NULL is allowed. */
void cfg_free(struct cfg *c);

/* Looks a server up by name; returns a pointer into @c (not owned) or NULL. */
const struct cfg_server *cfg_server_find(const struct cfg *c, const char *name);

/* Samba's name of a protocol ("SMB2_02", "SMB3_11"...); static storage. */
const char *cfg_protocol_name(enum cfg_protocol p);

/* "off", "desired" or "required"; static storage. */
const char *cfg_encryption_name(enum cfg_encryption e);

/*
 * Parses a size with an optional K, M, G or T suffix (powers of 1024, an
 * optional trailing "B" or "iB" accepted) into *@ret. Returns 0, or -EINVAL
 * (not a size) / -ERANGE (overflows 64 bits) leaving *@ret untouched.
 */
int cfg_parse_size(const char *s, uint64_t *ret);
