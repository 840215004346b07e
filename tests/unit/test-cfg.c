/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/test-cfg.c - unit tests of config/cfg.c.
 *
 * Good files are written to a temporary directory; bad ones are the golden
 * files of tests/golden/cfg: every NAME.conf there must fail to load with
 * -EINVAL and exactly the message in NAME.err. Each golden file is its own
 * cmocka test, so a new pair is picked up without touching this file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

#ifndef CFG_DEFAULT_CONF
#error "CFG_DEFAULT_CONF must name config/smbgate.conf"
#endif
#ifndef CFG_GOLDEN_DIR
#error "CFG_GOLDEN_DIR must name tests/golden/cfg"
#endif

/* What *ret holds before a call that must leave it untouched. */
#define SENTINEL ((struct cfg *)(uintptr_t)0x5e47)

static char tmpdir[] = "/tmp/test-cfg-XXXXXX";

/* Writes @text to a file of the temporary directory; returns its path. */
static char *write_conf(const char *name, const char *text)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct cfg *load_ok(const char *name, const char *text)
{
	char err[512] = "";
	struct cfg *c = NULL;
	char *path = write_conf(name, text);
	int r = cfg_load(path, &c, err, sizeof(err));

	if (r != 0)
		print_error("%s: %s\n", path, err);
	assert_int_equal(r, 0);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	unlink(path);
	free(path);
	return c;
}

static void test_defaults(void **state)
{
	struct cfg *c = load_ok("defaults.conf", "[server files]\nhost = files.example.com\n");
	const struct cfg_server *s;

	(void)state;
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_null(c->tls_certificate);
	assert_null(c->tls_key);
	assert_int_equal(c->session_idle_timeout, 900);
	assert_int_equal(c->max_sessions, 200);
	assert_int_equal(c->max_upload_size, 0);
	assert_int_equal(c->upload_expiry, 86400);
	assert_int_equal(c->max_locks_per_user, 256);
	assert_int_equal(c->header_timeout, 30);
	assert_int_equal(c->min_body_rate, 1024);
	assert_string_equal(c->control_socket, "/run/smbgate/control.sock");
	assert_false(c->audit);
	assert_int_equal(c->memory_limit, 256ULL << 20);
	assert_int_equal(c->max_processes, 64);
	assert_int_equal(c->tmp_size, 16ULL << 20);
	assert_int_equal(c->prestart, 1);
	assert_int_equal(c->mounts, CFG_MOUNTS_OFF);
	assert_int_equal(c->smb_socket, CFG_SMB_SOCKET_HANDOFF);
	assert_int_equal(c->uid_min, 200000);
	assert_int_equal(c->uid_max, 265535);
	assert_int_equal(c->n_servers, 1);
	s = &c->servers[0];
	assert_string_equal(s->name, "files");
	assert_string_equal(s->host, "files.example.com");
	assert_int_equal(s->port, 445);
	assert_string_equal(s->workgroup, "WORKGROUP");
	assert_int_equal(s->min_protocol, CFG_PROTO_SMB2_02);
	assert_int_equal(s->max_protocol, CFG_PROTO_SMB3_11);
	assert_int_equal(s->encryption, CFG_ENCRYPTION_DESIRED);
	assert_false(s->show_hidden_shares);
	assert_int_equal(s->timeout, 30);
	assert_int_equal(s->line, 1);
	cfg_free(c);
}

static void test_every_key(void **state)
{
	static const char text[] = "; a comment\n"
				   "# another\n"
				   "[gateway]\n"
				   "listen = 0.0.0.0:443 ; inline comment\n"
				   "tls_certificate = /etc/smbgate/cert.pem\n"
				   "tls_key = /etc/smbgate/key.pem\n"
				   "session_idle_timeout = 604800\n"
				   "max_sessions = 100000\n"
				   "max_upload_size = 2GiB\n"
				   "header_timeout = 3600\n"
				   "min_body_rate = 0\n"
				   "control_socket = /run/x/ctl.sock\n"
				   "audit = yes\n"
				   "max_locks_per_user = 4096\n"
				   "\n"
				   "[sandbox]\n"
				   "memory_limit = 0\n"
				   "max_processes = 65536\n"
				   "tmp_size = 16G\n"
				   "uid_range = 1-1\n"
				   "prestart = 16\n"
				   "mounts = login\n"
				   "smb_socket = relay\n"
				   "\n"
				   "[server a.b_c-D]\n"
				   "host = 192.0.2.10\n"
				   "port = 1445\n"
				   "workgroup = EXAMPLE\n"
				   "min_protocol = nt1\n"
				   "max_protocol = SMB3_02\n"
				   "encryption = required\n"
				   "show_hidden_shares = yes\n"
				   "timeout = 3600\n"
				   "[server v6]\n"
				   "host = [2001:db8::1]\n"
				   "min_protocol = SMB3\n"
				   "max_protocol = smb3\n"
				   "encryption = OFF\n"
				   "show_hidden_shares = 0\n"
				   "[server bare6]\n"
				   "host = fe80::1\n"
				   "max_protocol = SMB2\n"
				   "min_protocol = SMB2\n"
				   "show_hidden_shares = On\n";
	struct cfg *c = load_ok("every-key.conf", text);
	const struct cfg_server *s;

	(void)state;
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 443);
	assert_string_equal(c->tls_certificate, "/etc/smbgate/cert.pem");
	assert_string_equal(c->tls_key, "/etc/smbgate/key.pem");
	assert_int_equal(c->session_idle_timeout, 604800);
	assert_int_equal(c->max_sessions, 100000);
	assert_int_equal(c->max_upload_size, 2ULL << 30);
	assert_int_equal(c->header_timeout, 3600);
	assert_int_equal(c->min_body_rate, 0);
	assert_string_equal(c->control_socket, "/run/x/ctl.sock");
	assert_true(c->audit);
	assert_int_equal(c->max_locks_per_user, 4096);
	assert_int_equal(c->memory_limit, 0);
	assert_int_equal(c->max_processes, 65536);
	assert_int_equal(c->tmp_size, 16ULL << 30);
	assert_int_equal(c->prestart, 16);
	assert_int_equal(c->mounts, CFG_MOUNTS_LOGIN);
	assert_int_equal(c->smb_socket, CFG_SMB_SOCKET_RELAY);
	assert_int_equal(c->uid_min, 1);
	assert_int_equal(c->uid_max, 1);
	assert_int_equal(c->n_servers, 3);

	s = &c->servers[0];
	assert_string_equal(s->name, "a.b_c-D");
	assert_string_equal(s->host, "192.0.2.10");
	assert_int_equal(s->port, 1445);
	assert_string_equal(s->workgroup, "EXAMPLE");
	assert_int_equal(s->min_protocol, CFG_PROTO_NT1);
	assert_int_equal(s->max_protocol, CFG_PROTO_SMB3_02);
	assert_int_equal(s->encryption, CFG_ENCRYPTION_REQUIRED);
	assert_true(s->show_hidden_shares);
	assert_int_equal(s->timeout, 3600);
	assert_int_equal(s->line, 25);

	s = &c->servers[1];
	assert_string_equal(s->name, "v6");
	assert_string_equal(s->host, "2001:db8::1");
	assert_int_equal(s->min_protocol, CFG_PROTO_SMB3_00);
	assert_int_equal(s->max_protocol, CFG_PROTO_SMB3_11);
	assert_int_equal(s->encryption, CFG_ENCRYPTION_OFF);
	assert_false(s->show_hidden_shares);
	assert_int_equal(s->line, 34);

	s = &c->servers[2];
	assert_string_equal(s->host, "fe80::1");
	assert_int_equal(s->min_protocol, CFG_PROTO_SMB2_02);
	assert_int_equal(s->max_protocol, CFG_PROTO_SMB2_10);
	assert_true(s->show_hidden_shares);
	cfg_free(c);
}

static void test_ipv6_listen(void **state)
{
	struct cfg *c = load_ok("ipv6.conf", "[gateway]\r\n"
					     "listen = [::1]:8443\r\n"
					     "[server files]\r\n"
					     "host = files\r\n");

	(void)state;
	assert_string_equal(c->listen_host, "::1");
	assert_int_equal(c->listen_port, 8443);
	assert_string_equal(c->servers[0].host, "files");
	cfg_free(c);
}

/* control_socket: 107 bytes fit in sun_path, 108 do not; relative and
 * folder names are refused; a failed load leaves *ret alone. */
static void test_control_socket(void **state)
{
	char path[CFG_MAX_SOCKET_PATH + 2], text[256], err[512];
	struct cfg *c;
	char *file;

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[CFG_MAX_SOCKET_PATH] = '\0';
	snprintf(text, sizeof(text), "[gateway]\ncontrol_socket = %s\n[server f]\nhost = h\n",
		 path);
	c = load_ok("sock-ok.conf", text);
	assert_string_equal(c->control_socket, path);
	assert_int_equal(strlen(c->control_socket), 107);
	cfg_free(c);

	static const char *const bad[] = {"a/b.sock", "/run/smbgate/", "/", "/run/a\tb"};
	for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
		const char *v = i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : NULL;
		char want[400];

		if (!v) {
			path[CFG_MAX_SOCKET_PATH] = 'a'; /* 108 bytes */
			path[CFG_MAX_SOCKET_PATH + 1] = '\0';
			v = path;
		}
		snprintf(text, sizeof(text),
			 "[gateway]\ncontrol_socket = %s\n[server f]\nhost = h\n", v);
		file = write_conf("sock-bad.conf", text);
		c = SENTINEL;
		assert_int_equal(cfg_load(file, &c, err, sizeof(err)), -EINVAL);
		assert_ptr_equal(c, SENTINEL);
		if (!strchr(v, '\t')) {
			snprintf(want, sizeof(want),
				 "%s:2: [gateway] control_socket: not an absolute file name of at "
				 "most 107 bytes: '%s'",
				 file, v);
			assert_string_equal(err, want);
		}
		unlink(file);
		free(file);
	}
}

/* Section names longer than inih's 49-byte buffer, and CRLF-less last line. */
static void test_long_server_name(void **state)
{
	static const char name[] =
	    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.";
	struct cfg *c;
	char text[256];

	(void)state;
	assert_int_equal(strlen(name), CFG_MAX_NAME);
	snprintf(text, sizeof(text), "[server %s]\nhost = a\n[server %.48s]\nhost = b", name, name);
	c = load_ok("long-name.conf", text);
	assert_int_equal(c->n_servers, 2);
	assert_string_equal(c->servers[0].name, name);
	assert_string_equal(c->servers[0].host, "a");
	assert_int_equal(strlen(c->servers[1].name), 48);
	assert_string_equal(c->servers[1].host, "b");
	cfg_free(c);
}

/* A reload keeps what only start-up reads, and says which; the servers must
 * stay the same. */
static void test_reload_merge(void **state)
{
	struct cfg *cur = load_ok("cur.conf", "[gateway]\nlisten = 127.0.0.1:8080\n"
					      "max_sessions = 10\n"
					      "[sandbox]\nmemory_limit = 64M\n"
					      "[server a]\nhost = a.example\n"
					      "[server b]\nhost = b.example\n");
	struct cfg *next = load_ok("next.conf", "[gateway]\nlisten = 0.0.0.0:9090\n"
						"max_sessions = 20\naudit = yes\n"
						"tls_certificate = /c.pem\ntls_key = /k.pem\n"
						"[sandbox]\nmemory_limit = 64M\nmounts = login\n"
						"smb_socket = relay\n"
						"[server a]\nhost = other.example\nport = 1445\n"
						"[server b]\nhost = b.example\ntimeout = 5\n");
	char kept[512], err[256] = "";

	(void)state;
	assert_int_equal(cfg_reload_merge(next, cur, kept, sizeof(kept), err, sizeof(err)), 0);
	assert_string_equal(kept, "listen, tls_certificate, tls_key, [sandbox] mounts, "
				  "[sandbox] smb_socket, [server a] host");
	assert_string_equal(err, "");
	/* kept from the running one */
	assert_string_equal(next->listen_host, "127.0.0.1");
	assert_int_equal(next->listen_port, 8080);
	assert_null(next->tls_certificate);
	assert_null(next->tls_key);
	assert_int_equal(next->mounts, CFG_MOUNTS_OFF);
	assert_int_equal(next->smb_socket, CFG_SMB_SOCKET_HANDOFF);
	assert_string_equal(next->servers[0].host, "a.example");
	/* taken from the new file */
	assert_int_equal(next->max_sessions, 20);
	assert_true(next->audit);
	assert_int_equal(next->servers[0].port, 1445);
	assert_int_equal(next->servers[1].timeout, 5);
	/* the running one is untouched */
	assert_int_equal(cur->max_sessions, 10);
	assert_false(cur->audit);
	cfg_free(next);

	/* nothing needs a restart */
	next = load_ok("same.conf", "[gateway]\nlisten = 127.0.0.1:8080\nmax_sessions = 5\n"
				    "[sandbox]\nmemory_limit = 64M\n"
				    "[server a]\nhost = a.example\n[server b]\nhost = b.example\n");
	assert_int_equal(cfg_reload_merge(next, cur, kept, sizeof(kept), err, sizeof(err)), 0);
	assert_string_equal(kept, "");
	cfg_free(next);

	/* other servers, or the same in another order: refused */
	static const char *const bad[] = {
	    "[server a]\nhost = a.example\n",
	    "[server b]\nhost = b.example\n[server a]\nhost = a.example\n",
	    "[server a]\nhost = a.example\n[server c]\nhost = b.example\n",
	    "[server a]\nhost = a.example\n[server b]\nhost = b.example\n[server c]\nhost = c\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		next = load_ok("servers.conf", bad[i]);
		assert_int_equal(cfg_reload_merge(next, cur, kept, sizeof(kept), err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "servers.conf: the [server] sections differ from the "
					    "running ones"));
		cfg_free(next);
	}
	cfg_free(cur);
}

static void test_default_conf(void **state)
{
	char err[512] = "";
	struct cfg *c = NULL;
	const struct cfg_server *s;

	(void)state;
	assert_int_equal(cfg_load(CFG_DEFAULT_CONF, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_null(c->tls_certificate);
	assert_string_equal(c->control_socket, "/run/smbgate/control.sock");
	assert_int_equal(c->memory_limit, 256ULL << 20);
	assert_int_equal(c->n_servers, 1);
	s = cfg_server_find(c, "fileserver");
	assert_non_null(s);
	assert_int_equal(s->port, 445);
	assert_int_equal(s->min_protocol, CFG_PROTO_SMB2_02);
	assert_int_equal(s->max_protocol, CFG_PROTO_SMB3_11);
	assert_int_equal(s->encryption, CFG_ENCRYPTION_DESIRED);
	cfg_free(c);
}

static void test_server_find(void **state)
{
	struct cfg *c = load_ok("find.conf", "[server one]\nhost = h1\n"
					     "[server two]\nhost = h2\n"
					     "[server three]\nhost = h3\n");

	(void)state;
	assert_ptr_equal(cfg_server_find(c, "one"), &c->servers[0]);
	assert_ptr_equal(cfg_server_find(c, "two"), &c->servers[1]);
	assert_string_equal(cfg_server_find(c, "three")->host, "h3");
	assert_null(cfg_server_find(c, "four"));
	assert_null(cfg_server_find(c, "ONE"));
	assert_null(cfg_server_find(c, ""));
	assert_null(cfg_server_find(c, NULL));
	assert_null(cfg_server_find(NULL, "one"));
	cfg_free(c);
	cfg_free(NULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cfg_protocol_name(CFG_PROTO_NT1), "NT1");
	assert_string_equal(cfg_protocol_name(CFG_PROTO_SMB2_02), "SMB2_02");
	assert_string_equal(cfg_protocol_name(CFG_PROTO_SMB2_10), "SMB2_10");
	assert_string_equal(cfg_protocol_name(CFG_PROTO_SMB3_00), "SMB3_00");
	assert_string_equal(cfg_protocol_name(CFG_PROTO_SMB3_02), "SMB3_02");
	assert_string_equal(cfg_protocol_name(CFG_PROTO_SMB3_11), "SMB3_11");
	assert_string_equal(cfg_encryption_name(CFG_ENCRYPTION_OFF), "off");
	assert_string_equal(cfg_encryption_name(CFG_ENCRYPTION_DESIRED), "desired");
	assert_string_equal(cfg_encryption_name(CFG_ENCRYPTION_REQUIRED), "required");
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"1", 0, 1},
	    {"123", 0, 123},
	    {"1B", 0, 1},
	    {"1b", 0, 1},
	    {"1K", 0, 1024},
	    {"1k", 0, 1024},
	    {"1KB", 0, 1024},
	    {"1KiB", 0, 1024},
	    {"1kib", 0, 1024},
	    {"256M", 0, 256ULL << 20},
	    {"256MiB", 0, 256ULL << 20},
	    {"3G", 0, 3ULL << 30},
	    {"3gb", 0, 3ULL << 30},
	    {"5T", 0, 5ULL << 40},
	    {"0T", 0, 0},
	    {"007", 0, 7},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"16777215T", 0, 16777215ULL << 40},
	    {"18446744073709551616", -ERANGE, 0},
	    {"99999999999999999999999", -ERANGE, 0},
	    {"16777216T", -ERANGE, 0},
	    {"17179869184G", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"K", -EINVAL, 0},
	    {"B", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	    {"1 K", -EINVAL, 0},
	    {"1.5M", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	    {"1KK", -EINVAL, 0},
	    {"1iB", -EINVAL, 0},
	    {"1Ki", -EINVAL, 0},
	    {"1KBB", -EINVAL, 0},
	    {"1P", -EINVAL, 0},
	    {"1M1", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdeadbeef;
		int r = cfg_parse_size(cases[i].s, &v);

		if (r != cases[i].r)
			print_error("cfg_parse_size(\"%s\") = %d\n", cases[i].s, r);
		assert_int_equal(r, cases[i].r);
		assert_int_equal(v, cases[i].r == 0 ? cases[i].v : 0xdeadbeef);
	}
	assert_int_equal(cfg_parse_size(NULL, NULL), -EINVAL);
}

static void test_nonexistent(void **state)
{
	char err[512] = "untouched?";
	struct cfg *c = SENTINEL;

	(void)state;
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(cfg_load("nonexistent.conf", &c, err, sizeof(err)), -ENOENT);
	assert_ptr_equal(c, SENTINEL);
	assert_string_equal(err, "nonexistent.conf: cannot open: No such file or directory");
	assert_int_equal(cfg_load("nonexistent.conf", &c, NULL, 0), -ENOENT);
	assert_ptr_equal(c, SENTINEL);
}

static void test_directory(void **state)
{
	char err[512];
	struct cfg *c = SENTINEL;

	(void)state;
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(cfg_load("tmp", &c, err, sizeof(err)), -EISDIR);
	assert_ptr_equal(c, SENTINEL);
	assert_string_equal(err, "tmp: read error: Is a directory");
}

/* A short buffer gets a truncated but terminated message. */
static void test_short_err(void **state)
{
	char err[12];
	struct cfg *c = SENTINEL;
	char *path = write_conf("short.conf", "[nope]\n");

	(void)state;
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(cfg_load("short.conf", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "short.conf:");
	assert_int_equal(cfg_load("short.conf", &c, err, 1), -EINVAL);
	assert_string_equal(err, "");
	assert_int_equal(cfg_load("short.conf", &c, NULL, 0), -EINVAL);
	assert_ptr_equal(c, SENTINEL);
	unlink(path);
	free(path);
}

/* Only CFG_MAX_SERVERS servers fit. */
static void test_too_many_servers(void **state)
{
	char text[CFG_MAX_SERVERS * 32 + 64], err[512], expected[512];
	struct cfg *c = SENTINEL;
	size_t n = 0;
	char *path;

	(void)state;
	for (int i = 0; i <= CFG_MAX_SERVERS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[server s%d]\nhost = h%d\n", i,
				      i);
	path = write_conf("many.conf", text);
	assert_int_equal(cfg_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(c, SENTINEL);
	snprintf(expected, sizeof(expected), "%s:%d: [server s%d]: too many servers (at most %d)",
		 path, 2 * CFG_MAX_SERVERS + 1, CFG_MAX_SERVERS, CFG_MAX_SERVERS);
	assert_string_equal(err, expected);

	/* ... and exactly that many load */
	text[strstr(text, "[server s64]") - text] = '\0';
	unlink(path);
	free(path);
	c = load_ok("max.conf", text);
	assert_int_equal(c->n_servers, CFG_MAX_SERVERS);
	assert_string_equal(c->servers[CFG_MAX_SERVERS - 1].host, "h63");
	cfg_free(c);
}

/* Returns the first line of @path, without its newline; caller frees. */
static char *read_first_line(const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(getdelim(&text, &size, '\0', f) >= 0);
	fclose(f);
	text[strcspn(text, "\n")] = '\0'; /* the message is the first line */
	return text;
}

/* state: "NAME.conf" in CFG_GOLDEN_DIR */
static void test_golden(void **state)
{
	const char *conf = *state;
	char err[1024] = "", *expected, *errfile;
	struct cfg *c = SENTINEL;
	int r;

	assert_int_equal(chdir(CFG_GOLDEN_DIR), 0);
	assert_true(asprintf(&errfile, "%.*s.err", (int)(strlen(conf) - 5), conf) > 0);
	expected = read_first_line(errfile);

	r = cfg_load(conf, &c, err, sizeof(err));
	if (strcmp(err, expected) != 0)
		print_error("%s\n  expected: %s\n  got:      %s\n", conf, expected, err);
	assert_int_equal(r, -EINVAL);
	assert_ptr_equal(c, SENTINEL);
	assert_string_equal(err, expected);
	free(expected);
	free(errfile);
}

static int is_conf(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0;
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	     cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_ipv6_listen),	     cmocka_unit_test(test_long_server_name),
	    cmocka_unit_test(test_default_conf),     cmocka_unit_test(test_reload_merge),
	    cmocka_unit_test(test_server_find),	     cmocka_unit_test(test_names),
	    cmocka_unit_test(test_parse_size),	     cmocka_unit_test(test_nonexistent),
	    cmocka_unit_test(test_directory),	     cmocka_unit_test(test_short_err),
	    cmocka_unit_test(test_too_many_servers), cmocka_unit_test(test_control_socket),
	};
	struct CMUnitTest *golden;
	struct dirent **list;
	int n, failed;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	failed = cmocka_run_group_tests_name("cfg", tests, NULL, NULL);

	n = scandir(CFG_GOLDEN_DIR, &list, is_conf, alphasort);
	if (n < 0) {
		perror(CFG_GOLDEN_DIR);
		return 1;
	}
	golden = calloc((size_t)n + 1, sizeof(*golden));
	if (!golden)
		return 1;
	for (int i = 0; i < n; i++) {
		golden[i].name = list[i]->d_name;
		golden[i].test_func = test_golden;
		golden[i].initial_state = list[i]->d_name;
	}
	if (n == 0) {
		fprintf(stderr, "%s: no golden files\n", CFG_GOLDEN_DIR);
		failed++;
	} else {
		failed += _cmocka_run_group_tests("cfg-golden", golden, (size_t)n, NULL, NULL);
	}

	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	free(golden);
	rmdir(tmpdir);
	return failed ? 1 : 0;
}
