/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-sandbox.c - the sandbox against the real Samba fixture: isolation as
 * seen from the inside (sandbox-probe in the worker's place), the pinhole,
 * the death of sandboxes, a misbehaving worker, and every worker operation.
 *
 *   test-sandbox WORKER PROBE     (run under tests/fixtures/with-samba.sh)
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "client.h"
#include "fixture.h"
#include "jail.h"
#include "pinhole.h"
#include "proto.h"
#include "spawn.h"

static const char *worker_path, *probe_path;
static char conf_dir[64], conf_path[128];
static struct cfg *cfg;
static struct pinhole *ph;
static struct sbx_spawner *spawner; /* runs the real worker */

/* ---- helpers ---- */

/* A port of 127.0.0.1 where nothing listens: bound and kept bound, never
 * listening, for the whole run (a connection there is refused). A port
 * released at once could be taken by any connection made meanwhile. */
static int closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		abort();
	return ntohs(sa.sin_port); /* fd stays open until the process ends */
}

static void write_config(void)
{
	char err[256];
	FILE *f;

	snprintf(conf_dir, sizeof(conf_dir), "/tmp/smbgate-test-XXXXXX");
	if (!mkdtemp(conf_dir))
		abort();
	snprintf(conf_path, sizeof(conf_path), "%s/smbgate.conf", conf_dir);
	f = fopen(conf_path, "w");
	if (!f)
		abort();
	fprintf(f,
		"[sandbox]\nuid_range = 300000-300099\n"
		"[server fixture]\nhost = %s\nport = %s\nworkgroup = %s\ntimeout = 10\n"
		"[server closed]\nhost = 127.0.0.1\nport = %d\ntimeout = 5\n",
		fixture_require("SAMBA_HOST"), fixture_require("SAMBA_PORT"), FIXTURE_WORKGROUP,
		closed_port());
	fclose(f);
	if (cfg_load(conf_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
}

struct session {
	struct sbxc *c;
	struct sbx *b; /* owned by c once c exists */
	long pin;
	pid_t pid;
};

/* A sandbox with its pinhole wired to server @idx of the configuration. */
/*
 * Forks with no other thread running. The gateway starts its spawner before
 * any thread; this test process has the pinhole's two threads. Under ASan
 * (GCC 12's libasan) fork() does not take the allocator's locks, so a child
 * forked while a pinhole thread holds one deadlocks at its first malloc of
 * that size class (seen in CI: the sandbox's worker stuck in seccomp_load()
 * before exec). So every spawner, and every child that starts one, is forked
 * with the pinhole stopped; no session may be open then.
 */
static void threads_stop(void)
{
	pinhole_stop(ph);
	ph = NULL;
}

static void threads_start(void)
{
	assert_int_equal(pinhole_start(&ph), 0);
}

static int spawner_start(const struct sbx_spawner_options *o, struct sbx_spawner **sp)
{
	threads_stop();
	int r = sbx_spawner_start(cfg, o, sp);
	threads_start();
	return r;
}

static pid_t fork_alone(void)
{
	threads_stop();
	pid_t pid = fork();
	if (pid != 0)
		threads_start();
	return pid;
}

static struct session open_sandbox_to(struct sbx_spawner *sp, size_t idx, const char *user)
{
	struct session s = {0};

	assert_int_equal(sbx_spawn(sp, idx, user, &s.b), 0);
	s.pid = s.b->pid;
	if (cfg->smb_socket != CFG_SMB_SOCKET_HANDOFF) {
		close(s.b->smbsock_fd);
		s.b->smbsock_fd = -1;
	}
	s.pin = pinhole_add(ph, s.b->listen_fd, s.b->smbsock_fd, cfg->servers[idx].host,
			    cfg->servers[idx].port);
	assert_true(s.pin > 0);
	s.b->listen_fd = s.b->smbsock_fd = -1; /* the pinhole owns them now */
	return s;
}

static struct session open_sandbox(struct sbx_spawner *sp, const char *user)
{
	return open_sandbox_to(sp, 0, user);
}

static struct session login(const char *user, const char *pass)
{
	struct session s = open_sandbox(spawner, user);

	assert_int_equal(sbxc_new(s.b, 10, &s.c), 0);
	assert_int_equal(sbxc_auth(s.c, &cfg->servers[0], FIXTURE_WORKGROUP, user, pass, NULL), 0);
	return s;
}

static void close_session(struct session *s)
{
	if (s->c)
		sbxc_free(s->c);
	else
		sbx_free(s->b);
	pinhole_remove(ph, s->pin);
	*s = (struct session){0};
}

/* Whether host pid @pid is gone (or a zombie) within @ms. */
static int gone_within(pid_t pid, int ms)
{
	char path[64], stat[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int waited = 0; waited <= ms; waited += 10) {
		FILE *f = fopen(path, "re");
		if (!f)
			return 1;
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		char *rp = strrchr(stat, ')');
		if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Reads the probe's reports until "end"; returns them joined by '\n'. */
static char *probe_report(int ctl)
{
	size_t cap = 65536, len = 0;
	char *out = calloc(1, cap);
	char buf[1100];

	for (;;) {
		struct pollfd p = {.fd = ctl, .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t n = recv(ctl, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			break;
		buf[n] = '\0';
		if (strcmp(buf, "end") == 0)
			return out;
		if (len + (size_t)n + 2 < cap) {
			memcpy(out + len, buf, (size_t)n);
			len += (size_t)n;
			out[len++] = '\n';
		}
	}
	fail_msg("the probe did not finish its report; got:\n%s", out);
	return NULL;
}

/* The value of "key=" in a report (static buffer), or NULL. */
static const char *report_get(const char *report, const char *key)
{
	static char val[512];
	size_t kl = strlen(key);

	for (const char *p = report; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(val, sizeof(val), "%.*s", (int)(ll - kl - 1), p + kl + 1);
			return val;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static void assert_report(const char *report, const char *key, const char *want)
{
	const char *got = report_get(report, key);
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s: want '%s', got '%s'", key, want, got ? got : "(missing)");
}

static char errbuf[16];
static const char *num(int v)
{
	snprintf(errbuf, sizeof(errbuf), "%d", v);
	return errbuf;
}

/* ---- isolation, seen from inside ---- */

/* Isolation with either way out ([sandbox] smb_socket): the spawner and the
 * sessions read cfg->smb_socket, so it is set for the whole test. */
static void isolation_in(enum cfg_smb_socket mode)
{
	enum cfg_smb_socket saved = cfg->smb_socket;
	bool handoff = mode == CFG_SMB_SOCKET_HANDOFF;
	cfg->smb_socket = mode;
	/* A listener on the host's loopback that the sandbox must not reach. */
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	char port[16];
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));

	const char *args[] = {"isolation", port, conf_path, NULL};
	struct sbx_spawner_options o = {.worker_path = probe_path, .worker_args = args};
	struct sbx_spawner *sp;
	assert_int_equal(spawner_start(&o, &sp), 0);
	struct session s = open_sandbox(sp, "ACME\\Alice.Smith");
	assert_int_equal(send(s.b->ctl, "g", 1, 0), 1); /* claimed: report */
	char *rep = probe_report(s.b->ctl);

	/* All six namespaces differ from ours. */
	static const char *const ns[] = {"user", "mnt", "pid", "net", "uts", "ipc"};
	for (size_t i = 0; i < 6; i++) {
		char key[32], path[64], mine[128];
		snprintf(key, sizeof(key), "ns.%s", ns[i]);
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		ssize_t n = readlink(path, mine, sizeof(mine) - 1);
		assert_true(n > 0);
		mine[n] = '\0';
		const char *theirs = report_get(rep, key);
		assert_non_null(theirs);
		assert_string_not_equal(theirs, mine);
		assert_true(strncmp(theirs, ns[i], strlen(ns[i])) == 0);
	}
	/* The worker is PID 2 under the sandbox's own PID 1. */
	assert_report(rep, "pid", "2");
	assert_report(rep, "sid", "2"); /* setsid() */
	assert_report(rep, "rlimit.nofile", "256");
	assert_report(rep, "rlimit.core", "0");
	assert_report(rep, "rlimit.nproc", "64");
	/* Nothing inherited; with the hand-off, its channel at 5. */
	assert_report(rep, "fds", handoff ? "0,1,2,3,5" : "0,1,2,3");
	assert_report(rep, "ppid", "1");
	assert_report(rep, "uid", "1000");
	assert_report(rep, "gid", "1000");
	assert_report(rep, "hostname", "alice-smith");
	/* No capabilities at all, no_new_privs, a seccomp filter. */
	assert_non_null(strstr(rep, "status=CapInh:\t0000000000000000"));
	assert_non_null(strstr(rep, "status=CapPrm:\t0000000000000000"));
	assert_non_null(strstr(rep, "status=CapEff:\t0000000000000000"));
	assert_non_null(strstr(rep, "status=CapBnd:\t0000000000000000"));
	assert_non_null(strstr(rep, "status=CapAmb:\t0000000000000000"));
	assert_non_null(strstr(rep, "status=NoNewPrivs:\t1"));
	assert_non_null(strstr(rep, "status=Seccomp:\t2"));
	/* Only lo in the network namespace. */
	assert_report(rep, "iface", "lo");
	assert_null(strstr(strstr(rep, "iface=lo") + 1, "iface="));
	/* The host's loopback is not reachable, nor any other address; the pinhole
	 * is. With the hand-off, no network socket can be made at all (the
	 * probe calls the C library's socket(), not the worker's). */
	assert_report(rep, "connect.host_listener", num(handoff ? EPERM : ECONNREFUSED));
	assert_report(rep, "connect.other", num(handoff ? EPERM : ENETUNREACH));
	assert_report(rep, "connect.pinhole", handoff ? num(EPERM) : "0");
	/* The host's files are absent; the root is read-only, the home writable. */
	assert_report(rep, "exists./etc/shadow", "0");
	assert_report(rep, "exists./root", "0");
	assert_report(rep, "exists./var/lib", "0");
	assert_report(rep, "exists.config", "0");
	assert_report(rep, "exists./home/smbgate", "1");
	assert_report(rep, "exists./etc/hosts", "1");
	assert_report(rep, "exists./smbgate-worker", "1");
	assert_report(rep, "ro./", "1");
	assert_report(rep, "ro./usr", "1");
	assert_report(rep, "ro./etc", "1");
	assert_report(rep, "ro./tmp", "0");
	assert_report(rep, "ro./home/smbgate", "0");
	assert_report(rep, "write.root", num(EROFS));
	assert_report(rep, "write.home", "0");
	/* seccomp: outside the allowlist -> EPERM; escape attempts kill. */
	assert_report(rep, "seccomp.netlink", num(EPERM));
	assert_report(rep, "seccomp.mlock", num(EPERM));
	assert_report(rep, "seccomp.ptrace", "signal 31");
	assert_report(rep, "seccomp.unshare_user", "signal 31");
	assert_report(rep, "seccomp.mount", "signal 31");
	/* Run as root: the sandbox runs as an unprivileged uid from the range. */
	if (geteuid() == 0) {
		assert_true(s.b->uid >= 300000 && s.b->uid <= 300099);
		char path[64];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%d", (int)s.pid);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, s.b->uid);
	}
	free(rep);
	close_session(&s);
	sbx_spawner_free(sp);
	close(lfd);
	cfg->smb_socket = saved;
}

static void test_isolation(void **state)
{
	(void)state;
	isolation_in(CFG_SMB_SOCKET_HANDOFF);
}

static void test_isolation_relay(void **state)
{
	(void)state;
	isolation_in(CFG_SMB_SOCKET_RELAY);
}

/* The children of @ppid, by reading /proc (at most @max). */
static int children_of(pid_t ppid, pid_t *out, int max)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)) && n < max) {
		char path[64], buf[512];
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		char *rp = strrchr(buf, ')');
		int pp = 0;
		char state;
		if (rp && sscanf(rp + 1, " %c %d", &state, &pp) == 2 && pp == ppid && state != 'Z')
			out[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

/* A spare sandbox waits, started, before anyone asks; a login takes it (with
 * the user's hostname) and another spare is started behind it. */
static void test_spares(void **state)
{
	(void)state;
	const char *args[] = {"sleep", NULL};
	struct sbx_spawner_options o = {.worker_path = probe_path, .worker_args = args};
	struct sbx_spawner *sp;
	pid_t kids[8];
	int n = 0;

	/* One spare per server (the configuration has two). */
	const int spares = (int)(cfg->prestart * cfg->n_servers);
	assert_int_equal(spares, 2);
	assert_int_equal(spawner_start(&o, &sp), 0);
	for (int i = 0; i < 300 && (n = children_of(sbx_spawner_pid(sp), kids, 8)) < spares; i++)
		usleep(10000);
	assert_int_equal(n, spares);
	struct session s = open_sandbox(sp, "Spare.User");
	assert_true(s.pid == kids[0] || s.pid == kids[1]);
	char buf[16];
	assert_int_equal(recv(s.b->ctl, buf, sizeof(buf), 0), 5); /* "ready" */
	/* The claim set the hostname. */
	char cmd[128], host[64] = "";
	snprintf(cmd, sizeof(cmd), "nsenter -t %d -u hostname", (int)s.pid);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(host, sizeof(host), f));
	pclose(f);
	assert_string_equal(host, "spare-user\n");
	/* A new spare follows. */
	for (int i = 0; i < 300 && (n = children_of(sbx_spawner_pid(sp), kids, 8)) < spares + 1;
	     i++)
		usleep(10000);
	assert_int_equal(n, spares + 1);
	close_session(&s);
	sbx_spawner_free(sp);
}

/* Two sandboxes never share a host uid (as root). */
static void test_distinct_uids(void **state)
{
	(void)state;
	if (geteuid() != 0)
		fail_msg("this test needs root (CI runs as root)");
	struct session a = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct session b = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	assert_int_not_equal(sbxc_sbx(a.c)->uid, sbxc_sbx(b.c)->uid);
	close_session(&a);
	close_session(&b);
}

/* Killing the spawner kills every sandbox; so does killing the gateway. */
static void test_spawner_death_kills_sandboxes(void **state)
{
	(void)state;
	const char *args[] = {"sleep", NULL};
	struct sbx_spawner_options o = {.worker_path = probe_path, .worker_args = args};
	struct sbx_spawner *sp;
	assert_int_equal(spawner_start(&o, &sp), 0);
	struct session s1 = open_sandbox(sp, "u1"), s2 = open_sandbox(sp, "u2");
	char buf[16];
	assert_int_equal(recv(s1.b->ctl, buf, sizeof(buf), 0), 5);
	assert_int_equal(recv(s2.b->ctl, buf, sizeof(buf), 0), 5);
	assert_int_equal(kill(sbx_spawner_pid(sp), SIGKILL), 0);
	assert_true(gone_within(s1.pid, 3000));
	assert_true(gone_within(s2.pid, 3000));
	close_session(&s1);
	close_session(&s2);
	sbx_spawner_free(sp);
}

static void test_gateway_death_kills_sandboxes(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t gw = fork_alone();
	assert_true(gw >= 0);
	if (gw == 0) {
		/* A stand-in gateway: a spawner and one sandbox, then wait to be killed. */
		const char *args[] = {"sleep", NULL};
		struct sbx_spawner_options o = {.worker_path = probe_path, .worker_args = args};
		struct sbx_spawner *sp;
		struct sbx *b;
		if (sbx_spawner_start(cfg, &o, &sp) < 0 || sbx_spawn(sp, 0, "gw", &b) < 0)
			_exit(1);
		pid_t pids[2] = {b->pid, sbx_spawner_pid(sp)};
		if (write(p[1], pids, sizeof(pids)) != sizeof(pids))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	pid_t pids[2];
	assert_int_equal(read(p[0], pids, sizeof(pids)), sizeof(pids));
	close(p[0]);
	assert_false(gone_within(pids[0], 0));
	assert_int_equal(kill(gw, SIGKILL), 0);
	assert_int_equal(waitpid(gw, NULL, 0), gw);
	assert_true(gone_within(pids[1], 3000)); /* the spawner */
	assert_true(gone_within(pids[0], 3000)); /* its sandbox */
}

/* A worker that breaks the protocol is killed; another user's sandbox goes on. */
static void test_malformed_worker_killed(void **state)
{
	(void)state;
	const char *args[] = {"garbage", NULL};
	struct sbx_spawner_options o = {.worker_path = probe_path, .worker_args = args};
	struct sbx_spawner *sp;
	struct proto_stat st;

	assert_int_equal(spawner_start(&o, &sp), 0);
	struct session good = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	struct session bad = open_sandbox(sp, FIXTURE_ALICE);
	assert_int_equal(sbxc_new(bad.b, 10, &bad.c), 0); /* a valid HELLO */
	assert_int_equal(sbxc_stat(bad.c, "public", "hello.txt", &st), -EPROTO);
	assert_true(gone_within(bad.pid, 3000));
	assert_true(sbxc_dead(bad.c));
	assert_int_equal(sbxc_stat(bad.c, "public", "hello.txt", &st), -EPIPE);
	/* The other sandbox is unaffected. */
	assert_int_equal(sbxc_stat(good.c, "public", "hello.txt", &st), 0);
	assert_int_equal(st.size, 14);
	close_session(&bad);
	close_session(&good);
	sbx_spawner_free(sp);
}

/* ---- worker operations ---- */

static void test_wrong_password(void **state)
{
	(void)state;
	struct session s = open_sandbox(spawner, FIXTURE_ALICE);
	assert_int_equal(sbxc_new(s.b, 10, &s.c), 0);
	assert_int_equal(sbxc_auth(s.c, &cfg->servers[0], FIXTURE_WORKGROUP, FIXTURE_ALICE,
				   "wrong-password", NULL),
			 PROTO_E_AUTH);
	/* One login per sandbox: a failed one ends it. */
	assert_true(gone_within(s.pid, 3000));
	close_session(&s);
}

/* Connections the pinhole made so far (relayed or handed over). */
static unsigned long long connections_made(void)
{
	struct pinhole_stats st;
	pinhole_get_stats(ph, &st);
	return st.connections_total;
}

/* AUTH on a share: checked there with one connection, which then serves the
 * first listing of that share; a share the server does not have still logs
 * in; a wrong password is one try at the server, share or not; a share
 * refused to the user fails as a wrong password does (libsmbclient 4.17
 * reports both as EACCES: telling them apart would take a second try). */
static void test_auth_on_share(void **state)
{
	static const struct {
		const char *user, *pass, *share;
		int want;
		unsigned long long conns; /* made by AUTH */
	} cases[] = {
	    {FIXTURE_ALICE, FIXTURE_ALICE_PASS, "public", 0, 1},
	    {FIXTURE_ALICE, "wrong-password", "public", PROTO_E_AUTH, 1},
	    {FIXTURE_ALICE, "wrong-password", "no-such-share", PROTO_E_AUTH, 1},
	    {FIXTURE_ALICE, FIXTURE_ALICE_PASS, "no-such-share", 0, 1},
	    {FIXTURE_BOB, FIXTURE_BOB_PASS, "alice_private", PROTO_E_AUTH, 1},
	    {FIXTURE_BOB, "wrong-password", "alice_private", PROTO_E_AUTH, 1},
	    /* not a share name the worker takes: as without one */
	    {FIXTURE_ALICE, FIXTURE_ALICE_PASS, "IPC$", 0, 1},
	    {FIXTURE_ALICE, FIXTURE_ALICE_PASS, "a/b", 0, 1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct session s = open_sandbox(spawner, cases[i].user);
		assert_int_equal(sbxc_new(s.b, 10, &s.c), 0);
		unsigned long long before = connections_made();
		int r = sbxc_auth(s.c, &cfg->servers[0], FIXTURE_WORKGROUP, cases[i].user,
				  cases[i].pass, cases[i].share);
		unsigned long long made = connections_made() - before;
		if (r != cases[i].want || made != cases[i].conns)
			fail_msg("case %zu (%s on %s): AUTH %d, %llu connections", i, cases[i].user,
				 cases[i].share, r, made);
		if (r == 0 && strcmp(cases[i].share, "public") == 0) {
			/* the first listing of that share: no new connection */
			struct proto_stat st;
			assert_int_equal(sbxc_stat(s.c, "public", "", &st), 0);
			assert_int_equal(connections_made() - before, 1);
		}
		close_session(&s);
	}

	/* A share whose root the user may not read: the tree connect was
	 * done, libsmbclient kept the connection: the login stands. */
	const char *root = fixture_require("SAMBA_SHARE_ALICE_PRIVATE");
	struct stat was;
	assert_int_equal(stat(root, &was), 0);
	assert_int_equal(chmod(root, 0), 0);
	struct session s = open_sandbox(spawner, FIXTURE_ALICE);
	assert_int_equal(sbxc_new(s.b, 10, &s.c), 0);
	unsigned long long before = connections_made();
	int r = sbxc_auth(s.c, &cfg->servers[0], FIXTURE_WORKGROUP, FIXTURE_ALICE,
			  FIXTURE_ALICE_PASS, FIXTURE_SHARE_ALICE_PRIVATE);
	unsigned long long made = connections_made() - before;
	struct proto_stat st;
	int sr = sbxc_stat(s.c, FIXTURE_SHARE_ALICE_PRIVATE, "", &st);
	assert_int_equal(chmod(root, was.st_mode & 07777), 0);
	assert_int_equal(r, 0);
	assert_int_equal(made, 1);
	assert_int_equal(sr, PROTO_E_ACCESS); /* the root is refused, on that connection */
	assert_int_equal(connections_made() - before, 1);
	close_session(&s);
}

/* The file server does not answer: a clear error, the gateway is fine. */
static void test_server_unreachable(void **state)
{
	(void)state;
	struct session s = open_sandbox_to(spawner, 1, FIXTURE_ALICE);
	assert_int_equal(sbxc_new(s.b, 10, &s.c), 0);
	assert_int_equal(sbxc_auth(s.c, &cfg->servers[1], FIXTURE_WORKGROUP, FIXTURE_ALICE,
				   FIXTURE_ALICE_PASS, NULL),
			 PROTO_E_UNREACHABLE);
	close_session(&s);
}

/* Without root, through unprivileged user namespaces (a single-uid map). */
static void test_unprivileged(void **state)
{
	(void)state;
	char dir[] = "/tmp/smbgate-unpriv-XXXXXX", probe[64], cmd[256];
	assert_non_null(mkdtemp(dir));
	snprintf(probe, sizeof(probe), "%s/probe", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s' '%s'", probe_path, probe, dir,
		 probe);
	assert_int_equal(system(cmd), 0);
	pid_t pid = fork_alone();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *args[] = {"isolation", "1", "/nonexistent", NULL};
		struct sbx_spawner_options o = {.worker_path = probe, .worker_args = args};
		struct sbx_spawner *sp;
		struct sbx *b;
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		     setresuid(65534, 65534, 65534) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0))
			_exit(10); /* dumpable: as if started unprivileged */
		if (sbx_spawner_start(cfg, &o, &sp) < 0)
			_exit(11);
		if (sbx_spawn(sp, 0, "nobody", &b) < 0)
			_exit(12);
		if (b->uid != getuid())
			_exit(13);
		if (send(b->ctl, "g", 1, 0) != 1)
			_exit(17);
		char *rep = probe_report(b->ctl);
		const char *uid = report_get(rep, "uid");
		if (!uid || strcmp(uid, "1000") != 0)
			_exit(14);
		if (!strstr(rep, "status=CapEff:\t0000000000000000") ||
		    !strstr(rep, "status=NoNewPrivs:\t1"))
			_exit(15);
		const char *pidv = report_get(rep, "pid");
		if (!pidv || strcmp(pidv, "2") != 0)
			_exit(16);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_requests_before_auth_refused(void **state)
{
	(void)state;
	struct proto_stat st;
	struct session s = open_sandbox(spawner, FIXTURE_ALICE);
	assert_int_equal(sbxc_new(s.b, 10, &s.c), 0);
	assert_int_equal(sbxc_stat(s.c, "public", "hello.txt", &st), PROTO_E_INVALID);
	close_session(&s);
}

struct names {
	char list[64][256];
	uint32_t type[64];
	int n;
};

static char public_comment[256];

static int collect(void *ud, const struct proto_entry_rec *rec, const char *name,
		   const char *comment)
{
	if (rec->ftype == PROTO_FT_SHARE && strcmp(name, "public") == 0)
		snprintf(public_comment, sizeof(public_comment), "%s", comment);
	struct names *n = ud;
	if (n->n < 64) {
		snprintf(n->list[n->n], sizeof(n->list[0]), "%s", name);
		n->type[n->n++] = rec->ftype;
	}
	return 0;
}

static int has(const struct names *n, const char *name, uint32_t type)
{
	for (int i = 0; i < n->n; i++)
		if (strcmp(n->list[i], name) == 0)
			return n->type[i] == type;
	return 0;
}

static void test_shares(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct names n = {0};
	assert_int_equal(sbxc_shares(s.c, collect, &n), 0);
	assert_string_equal(public_comment, "Shared by alice & bob: caf\xc3\xa9");
	assert_true(has(&n, "public", PROTO_FT_SHARE));
	assert_true(has(&n, "alice_private", PROTO_FT_SHARE));
	assert_true(has(&n, "readonly", PROTO_FT_SHARE));
	for (int i = 0; i < n.n; i++) {
		assert_string_not_equal(n.list[i], "IPC$"); /* disk shares only */
		assert_string_not_equal(n.list[i], "hidden$");
	}
	close_session(&s);
}

static void test_list_awkward_names(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	struct names n = {0};
	assert_int_equal(sbxc_list(s.c, "public", "", collect, &n), 0);
	static const char *const files[] = {"hello.txt",
					    "name with spaces.txt",
					    "Ünïcødé ファイル.txt",
					    "100% done.txt",
					    "#hash#.txt",
					    "a+b=c.txt",
					    "Tom & Jerry.txt",
					    "it's.txt",
					    "binary.bin",
					    "big.bin"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!has(&n, files[i], PROTO_FT_FILE))
			fail_msg("missing file '%s'", files[i]);
	assert_true(has(&n, "Dossier été", PROTO_FT_DIR));
	assert_true(has(&n, "nested", PROTO_FT_DIR));
	for (int i = 0; i < n.n; i++) {
		assert_string_not_equal(n.list[i], ".");
		assert_string_not_equal(n.list[i], "..");
	}
	struct names d = {0};
	assert_int_equal(sbxc_list(s.c, "public", "Dossier été", collect, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.list[0], "note.txt");
	struct names e = {0};
	assert_int_equal(sbxc_list(s.c, "public", "empty folder", collect, &e), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(sbxc_list(s.c, "public", "no such dir", collect, &e), PROTO_E_NOT_FOUND);
	assert_int_equal(sbxc_list(s.c, "public", "hello.txt", collect, &e), PROTO_E_NOT_DIR);
	assert_int_equal(sbxc_list(s.c, "public", "a/../b", collect, &e), PROTO_E_BAD_NAME);
	assert_false(sbxc_dead(s.c));
	close_session(&s);
}

/* Reads a whole range through the pipe. */
/* Reads a range through its pipe; with @step > 0, @step bytes at a time and a
 * pause of @pause_us after each: a slow client, the pipe full all along. */
static int read_range_paced(struct sbxc *c, const char *share, const char *path, uint64_t off,
			    uint64_t len, size_t step, unsigned pause_us, char **out,
			    size_t *out_len)
{
	struct proto_read_ok ok;
	struct sbxc_lane *lane;
	int fd;
	int r = sbxc_read_begin(c, share, path, off, len, &ok, &fd, &lane);
	if (r)
		return r;
	size_t cap = ok.length + 1, got = 0;
	char *buf = malloc(cap);
	for (;;) {
		size_t want = step && step < cap - got ? step : cap - got;
		ssize_t n = sbxc_stream_read(lane, fd, buf + got, want);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == cap)
			break;
		if (pause_us)
			usleep(pause_us);
	}
	close(fd);
	uint64_t bytes = 0;
	r = sbxc_read_end(lane, &bytes);
	assert_int_equal(bytes, got);
	assert_int_equal(got, ok.length);
	*out = buf;
	*out_len = got;
	return r;
}

static int read_range(struct sbxc *c, const char *share, const char *path, uint64_t off,
		      uint64_t len, char **out, size_t *out_len)
{
	return read_range_paced(c, share, path, off, len, 0, 0, out, out_len);
}

static void test_read(void **state)
{
	(void)state;
	struct pinhole_stats before, after;
	pinhole_get_stats(ph, &before);
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct proto_stat st;
	char *data;
	size_t len;

	assert_int_equal(sbxc_stat(s.c, "public", "Ünïcødé ファイル.txt", &st), 0);
	assert_int_equal(st.ftype, PROTO_FT_FILE);
	assert_int_equal(
	    read_range(s.c, "public", "Ünïcødé ファイル.txt", 0, UINT64_MAX, &data, &len), 0);
	assert_int_equal(len, st.size);
	assert_memory_equal(data, "unicode \xe2\x9c\x93\n", len);
	free(data);
	assert_int_equal(read_range(s.c, "public", "hello.txt", 7, 5, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "world", 5);
	free(data);
	/* 3 MiB + 7 bytes, byte i = i % 251, through a pipe of one 512 KiB chunk. */
	assert_int_equal(read_range(s.c, "public", "big.bin", 0, UINT64_MAX, &data, &len), 0);
	assert_int_equal(len, 3 * 1024 * 1024 + 7);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] != i % 251)
			fail_msg("big.bin differs at %zu", i);
	free(data);
	assert_int_equal(read_range(s.c, "public", "nested/level 1/level 2/deep file.txt", 0,
				    UINT64_MAX, &data, &len),
			 0);
	assert_memory_equal(data, "deep\n", 5);
	free(data);
	assert_int_equal(read_range(s.c, "public", "missing.txt", 0, 1, &data, &len),
			 PROTO_E_NOT_FOUND);
	assert_int_equal(read_range(s.c, "public", "nested", 0, 1, &data, &len), PROTO_E_IS_DIR);
	assert_int_equal(sbxc_stat(s.c, "public", "nested", &st), 0);
	assert_int_equal(st.ftype, PROTO_FT_DIR);
	/* The worker's own connection was handed over, not relayed (the default). */
	pinhole_get_stats(ph, &after);
	assert_true(after.handed_over > before.handed_over);
	assert_int_equal(after.bytes_down, before.bytes_down);
	close_session(&s);
}

/* Reads of 64 MiB and more go through two readers taking turns (in chunks of
 * 512 KiB), smaller ones of several chunks through one reader with two buffers:
 * every byte arrives, in order, whatever the range. */
static void test_read_striped(void **state)
{
	(void)state;
	const size_t M = 1024 * 1024;
	const size_t size = 68 * M + 123;
	char path[512];
	snprintf(path, sizeof(path), "%s/striped.bin", fixture_require("SAMBA_SHARE_PUBLIC"));
	unsigned char *want = malloc(size);
	/* No period: a chunk that comes twice, or in the wrong place, shows. */
	uint64_t x = 42;
	for (size_t i = 0; i < size; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		want[i] = (unsigned char)(x >> 56);
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(want, 1, size, f), size);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);

	struct session s = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	const struct {
		uint64_t off, len;
	} ranges[] = {
	    {0, UINT64_MAX},		/* all, two readers, the last chunk short */
	    {4 * M - 1, 64 * M + 1000}, /* two readers, unaligned, the last chunk short */
	    {123, 64 * M},		/* two readers, whole chunks only, unaligned */
	    {56 * M + 5, UINT64_MAX},	/* one reader, the last chunk short */
	    {M, 8 * M},			/* one reader, whole chunks only */
	    {size - 1000, UINT64_MAX},	/* one reader, one short chunk */
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		char *data;
		size_t len;
		uint64_t off = ranges[i].off;
		uint64_t n = ranges[i].len < size - off ? ranges[i].len : size - off;
		assert_int_equal(
		    read_range(s.c, "public", "striped.bin", off, ranges[i].len, &data, &len), 0);
		assert_int_equal(len, n);
		if (memcmp(data, want + off, n) != 0)
			fail_msg("range %zu differs", i);
		free(data);
	}
	/* A slow reader (the pipe full all along), with two readers and with
	 * one: the buffers go into the pipe by reference (vmsplice), and one
	 * refilled before the gateway read it would show here. */
	const struct {
		uint64_t off, len;
	} slow[] = {{0, UINT64_MAX}, {56 * M + 5, UINT64_MAX}};
	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
		char *data = NULL;
		size_t len = 0;
		assert_int_equal(read_range_paced(s.c, "public", "striped.bin", slow[i].off,
						  slow[i].len, 256 * 1024, 2000, &data, &len),
				 0);
		assert_int_equal(len, size - slow[i].off);
		if (memcmp(data, want + slow[i].off, len) != 0)
			fail_msg("slow read %zu differs", i);
		free(data);
	}
	assert_int_equal(sbxc_unlink(s.c, "public", "striped.bin"), 0);
	free(want);
	close_session(&s);
}

static int upload(struct sbxc *c, const char *share, const char *path, uint32_t flags,
		  const char *data, size_t len, uint32_t *created)
{
	struct sbxc_lane *lane;
	char tmp[PROTO_TMP_NAME_LEN + 1];
	int fd;
	int r = sbxc_write_begin(c, share, path, flags, len, tmp, &fd, &lane);
	if (r)
		return r;
	signal(SIGPIPE, SIG_IGN);
	(void)sbxc_stream_write(lane, fd, data, len); /* the worker says why it stopped */
	close(fd);
	uint64_t bytes = 0;
	r = sbxc_write_end(lane, created, &bytes);
	if (r == 0)
		assert_int_equal(bytes, len);
	return r;
}

static int no_temporaries(struct sbxc *c, const char *share, const char *dir)
{
	struct names n = {0};
	assert_int_equal(sbxc_list(c, share, dir, collect, &n), 0);
	for (int i = 0; i < n.n; i++)
		if (strncmp(n.list[i], ".~smbgate-", 10) == 0)
			return 0;
	return 1;
}

static void expect_content(struct sbxc *c, const char *share, const char *path, const char *want,
			   size_t want_len)
{
	char *data;
	size_t len;
	assert_int_equal(read_range(c, share, path, 0, UINT64_MAX, &data, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, len);
	free(data);
}

static void test_write_replace_and_interrupt(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	const char *name = "up 100% #1 + a&b ü.txt";
	uint32_t created = 9;

	assert_int_equal(upload(s.c, "public", name, 0, "first\n", 6, &created), 0);
	assert_int_equal(created, 1);
	expect_content(s.c, "public", name, "first\n", 6);
	/* Exists, no overwrite: refused, content unchanged. */
	assert_int_equal(upload(s.c, "public", name, 0, "second\n", 7, &created), PROTO_E_EXISTS);
	expect_content(s.c, "public", name, "first\n", 6);
	/* Overwrite. */
	assert_int_equal(upload(s.c, "public", name, PROTO_F_OVERWRITE, "second!\n", 8, &created),
			 0);
	assert_int_equal(created, 0);
	expect_content(s.c, "public", name, "second!\n", 8);
	/* Interrupted: 1 MiB announced, 100 bytes sent, then the pipe closes. */
	int fd;
	struct sbxc_lane *lane;
	char tmp[PROTO_TMP_NAME_LEN + 1];
	assert_int_equal(
	    sbxc_write_begin(s.c, "public", name, PROTO_F_OVERWRITE, 1 << 20, tmp, &fd, &lane), 0);
	assert_true(proto_tmp_name_valid(tmp));
	char junk[100];
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_int_equal(sbxc_write_end(lane, NULL, NULL), PROTO_E_IO);
	expect_content(s.c, "public", name, "second!\n", 8);
	assert_true(no_temporaries(s.c, "public", ""));
	/* A 4 MiB upload round trip. */
	size_t big = 4 << 20;
	char *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 7 + 3);
	assert_int_equal(upload(s.c, "public", "nested/big upload.bin", 0, data, big, &created), 0);
	expect_content(s.c, "public", "nested/big upload.bin", data, big);
	free(data);
	assert_int_equal(sbxc_unlink(s.c, "public", "nested/big upload.bin"), 0);
	assert_int_equal(sbxc_unlink(s.c, "public", name), 0);
	/* Read-only share, private share of another user, a directory target. */
	assert_int_equal(upload(s.c, "readonly", "new.txt", 0, "x", 1, &created), PROTO_E_ACCESS);
	assert_int_equal(upload(s.c, "alice_private", "new.txt", 0, "x", 1, &created),
			 PROTO_E_ACCESS);
	assert_int_equal(upload(s.c, "public", "nested", PROTO_F_OVERWRITE, "x", 1, &created),
			 PROTO_E_IS_DIR);
	assert_true(no_temporaries(s.c, "public", ""));
	close_session(&s);
}

/* Whether the file @name exists in the fixture's share @share_key, on disk. */
static bool on_disk(const char *share_key, const char *name)
{
	char path[2048];
	int n = snprintf(path, sizeof(path), "%s/%s", fixture_require(share_key), name);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	return access(path, F_OK) == 0;
}

struct kill_later {
	struct sbx *b;
	int ms;
};

static void *kill_later_run(void *arg)
{
	struct kill_later *k = arg;
	usleep((useconds_t)k->ms * 1000);
	sbx_kill(k->b);
	return NULL;
}

/* A sandbox killed mid-upload leaves the temporary the client named; another
 * sandbox of the user removes it with DROP, and nothing but such a temporary.
 * DROP may come while the server still holds the dead worker's handle open
 * (a sharing violation): it waits for the server to let go. */
static void test_drop_temporary(void **state)
{
	(void)state;
	struct session a = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	char tmp[PROTO_TMP_NAME_LEN + 1], path[128];
	struct sbxc_lane *lane;
	int fd;

	assert_int_equal(
	    sbxc_write_begin(a.c, "public", "nested/cut.bin", 0, 1 << 20, tmp, &fd, &lane), 0);
	assert_true(proto_tmp_name_valid(tmp));
	char junk[64 * 1024];
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	snprintf(path, sizeof(path), "nested/%s", tmp);
	for (int i = 0; i < 200 && !on_disk("SAMBA_SHARE_PUBLIC", path); i++)
		usleep(25 * 1000);
	assert_true(on_disk("SAMBA_SHARE_PUBLIC", path));

	struct session s = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	/* What is not an upload temporary is refused before the server sees it. */
	assert_int_equal(sbxc_drop_tmp(s.c, "public", "hello.txt", "hello.txt"), -EINVAL);
	assert_int_equal(sbxc_drop_tmp(s.c, "public", "hello.txt", ".~smbgate-new-0.tmp"), -EINVAL);
	char upper[PROTO_TMP_NAME_LEN + 1];
	snprintf(upper, sizeof(upper), "%s", tmp);
	upper[sizeof(PROTO_TMP_PREFIX) - 1] = 'A';
	assert_int_equal(sbxc_drop_tmp(s.c, "public", "nested/cut.bin", upper), -EINVAL);
	/* A target path in the reserved namespace: refused by the worker. */
	assert_int_equal(sbxc_drop_tmp(s.c, "public", ".~smbgate-old-1/cut.bin", tmp),
			 PROTO_E_BAD_NAME);
	/* Beside another target: that folder has no such file. */
	assert_int_equal(sbxc_drop_tmp(s.c, "public", "cut.bin", tmp), PROTO_E_NOT_FOUND);
	assert_true(on_disk("SAMBA_SHARE_PUBLIC", path));
	assert_false(sbxc_dead(s.c));

	/* The uploading sandbox dies while DROP is under way. */
	struct kill_later k = {.b = sbxc_sbx(a.c), .ms = 300};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, kill_later_run, &k), 0);
	assert_int_equal(sbxc_drop_tmp(s.c, "public", "nested/cut.bin", tmp), 0);
	pthread_join(t, NULL);
	assert_false(on_disk("SAMBA_SHARE_PUBLIC", path));
	assert_false(on_disk("SAMBA_SHARE_PUBLIC", "nested/cut.bin"));
	close(fd);
	assert_true(sbxc_write_end(lane, NULL, NULL) < 0);
	close_session(&a);
	assert_int_equal(sbxc_drop_tmp(s.c, "public", "nested/cut.bin", tmp), PROTO_E_NOT_FOUND);
	assert_true(no_temporaries(s.c, "public", "nested"));
	assert_false(sbxc_dead(s.c));
	close_session(&s);
}

/* HTTP Basic requests reuse a sandbox: the sandbox checks the password. */
static void test_check_password(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	assert_int_equal(sbxc_check(s.c, FIXTURE_ALICE_PASS), 0);
	assert_int_equal(sbxc_check(s.c, "Alice-pass-"), PROTO_E_AUTH);
	assert_int_equal(sbxc_check(s.c, "Alice-pass-12"), PROTO_E_AUTH);
	assert_int_equal(sbxc_check(s.c, ""), PROTO_E_AUTH);
	assert_false(sbxc_dead(s.c));
	close_session(&s);
}

/* A download that is not being read does not hold up the session: the
 * listing goes through a second lane (a forked copy of the worker). */
static void test_lanes(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct proto_read_ok ok;
	struct sbxc_lane *lane;
	struct names n = {0};
	int fd;

	assert_int_equal(sbxc_lanes(s.c), 1);
	assert_int_equal(sbxc_read_begin(s.c, "public", "big.bin", 0, UINT64_MAX, &ok, &fd, &lane),
			 0);
	assert_int_equal(sbxc_lanes(s.c), 2);
	/* The first worker is stuck writing into a full pipe; this one is not. */
	assert_int_equal(sbxc_list(s.c, "public", "Dossier été", collect, &n), 0);
	assert_int_equal(n.n, 1);
	struct proto_stat st;
	assert_int_equal(sbxc_stat(s.c, "public", "hello.txt", &st), 0);
	/* Then the download completes, byte for byte. */
	size_t got = 0;
	char buf[65536];
	bool same = true;
	for (ssize_t r; (r = sbxc_stream_read(lane, fd, buf, sizeof(buf))) > 0; got += (size_t)r)
		for (ssize_t i = 0; i < r; i++)
			same &= (unsigned char)buf[i] == (got + (size_t)i) % 251;
	close(fd);
	uint64_t bytes = 0;
	assert_int_equal(sbxc_read_end(lane, &bytes), 0);
	assert_int_equal(got, ok.length);
	assert_int_equal(bytes, got);
	assert_true(same);
	/* A second transfer reuses the idle lanes. */
	char *data;
	size_t len;
	assert_int_equal(read_range(s.c, "public", "hello.txt", 0, UINT64_MAX, &data, &len), 0);
	free(data);
	assert_true(sbxc_lanes(s.c) <= SBXC_MAX_LANES);
	assert_false(sbxc_dead(s.c));
	pid_t pid = s.pid;
	close_session(&s);
	assert_true(gone_within(pid, 3000));
}

/* Names that must not reach the server: SMB wildcards, streams, IPC$, and the
 * temporaries of uploads in progress (which listings also leave out). */
static void test_refused_names(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct proto_stat st;
	struct names n = {0};
	char path[512];

	snprintf(path, sizeof(path), "%s/.~smbgate-new-0123456789abcdef.tmp",
		 fixture_require("SAMBA_SHARE_PUBLIC"));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("partial", f);
	fclose(f);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(sbxc_stat(s.c, "public", ".~smbgate-new-0123456789abcdef.tmp", &st),
			 PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_unlink(s.c, "public", ".~smbgate-new-0123456789abcdef.tmp"),
			 PROTO_E_BAD_NAME);
	assert_int_equal(
	    sbxc_rename(s.c, "public", "hello.txt", "nested/.~smbgate-old-1.tmp", 0, NULL),
	    PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_list(s.c, "public", "", collect, &n), 0);
	for (int i = 0; i < n.n; i++)
		assert_true(strncmp(n.list[i], ".~smbgate-", 10) != 0);
	assert_int_equal(access(path, F_OK), 0); /* still there, untouched */
	unlink(path);
	assert_int_equal(sbxc_stat(s.c, "public", "*.txt", &st), PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_stat(s.c, "public", "hell?.txt", &st), PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_stat(s.c, "public", "hello.txt:stream", &st), PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_stat(s.c, "IPC$", "", &st), PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_stat(s.c, "ipc$", "x", &st), PROTO_E_BAD_NAME);
	assert_int_equal(sbxc_stat(s.c, "public", "hello.txt", &st), 0);
	assert_false(sbxc_dead(s.c));
	close_session(&s);
}

static void test_access_denied(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_BOB, FIXTURE_BOB_PASS);
	struct names n = {0};
	struct proto_stat st;
	assert_int_equal(sbxc_list(s.c, "alice_private", "", collect, &n), PROTO_E_ACCESS);
	assert_int_equal(sbxc_stat(s.c, "alice_private", "secret.txt", &st), PROTO_E_ACCESS);
	assert_int_equal(sbxc_mkdir(s.c, "readonly", "newdir"), PROTO_E_ACCESS);
	assert_int_equal(sbxc_unlink(s.c, "readonly", "readme.txt"), PROTO_E_ACCESS);
	assert_int_equal(sbxc_stat(s.c, "readonly", "readme.txt", &st), 0);
	assert_false(sbxc_dead(s.c));
	close_session(&s);
}

static void test_dir_ops(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct proto_stat st;
	uint32_t created = 9;
	const char *d = "ops été #1";

	assert_int_equal(sbxc_mkdir(s.c, "public", d), 0);
	assert_int_equal(sbxc_mkdir(s.c, "public", d), PROTO_E_EXISTS);
	assert_int_equal(sbxc_mkdir(s.c, "public", "no such/child"), PROTO_E_NOT_FOUND);
	assert_int_equal(upload(s.c, "public", "ops été #1/a.txt", 0, "AAA", 3, &created), 0);
	/* copy */
	assert_int_equal(
	    sbxc_copy(s.c, "public", "ops été #1/a.txt", "ops été #1/b & c.txt", 0, &created), 0);
	assert_int_equal(created, 1);
	expect_content(s.c, "public", "ops été #1/b & c.txt", "AAA", 3);
	assert_int_equal(
	    sbxc_copy(s.c, "public", "ops été #1/a.txt", "ops été #1/b & c.txt", 0, &created),
	    PROTO_E_EXISTS);
	assert_int_equal(
	    sbxc_copy(s.c, "public", "ops été #1/missing", "ops été #1/x", 0, &created),
	    PROTO_E_NOT_FOUND);
	/* rename / move */
	assert_int_equal(
	    sbxc_rename(s.c, "public", "ops été #1/a.txt", "ops été #1/b & c.txt", 0, &created),
	    PROTO_E_EXISTS);
	expect_content(s.c, "public", "ops été #1/a.txt", "AAA", 3);
	assert_int_equal(sbxc_rename(s.c, "public", "ops été #1/a.txt", "moved+.txt", 0, &created),
			 0);
	assert_int_equal(sbxc_stat(s.c, "public", "ops été #1/a.txt", &st), PROTO_E_NOT_FOUND);
	expect_content(s.c, "public", "moved+.txt", "AAA", 3);
	assert_int_equal(upload(s.c, "public", "ops été #1/a.txt", 0, "new", 3, &created), 0);
	assert_int_equal(sbxc_rename(s.c, "public", "moved+.txt", "ops été #1/a.txt",
				     PROTO_F_OVERWRITE, &created),
			 0);
	assert_int_equal(created, 0);
	expect_content(s.c, "public", "ops été #1/a.txt", "AAA", 3);
	/* delete */
	assert_int_equal(sbxc_unlink(s.c, "public", d), PROTO_E_IS_DIR);
	assert_int_equal(sbxc_rmdir(s.c, "public", "ops été #1/a.txt", 0), PROTO_E_NOT_DIR);
	assert_int_equal(sbxc_rmdir(s.c, "public", d, 0), PROTO_E_NOT_EMPTY);
	assert_int_equal(sbxc_mkdir(s.c, "public", "ops été #1/sub"), 0);
	assert_int_equal(upload(s.c, "public", "ops été #1/sub/deep.txt", 0, "d", 1, &created), 0);
	assert_int_equal(sbxc_rmdir(s.c, "public", d, PROTO_F_RECURSIVE), 0);
	assert_int_equal(sbxc_stat(s.c, "public", d, &st), PROTO_E_NOT_FOUND);
	assert_int_equal(sbxc_unlink(s.c, "public", "missing.txt"), PROTO_E_NOT_FOUND);
	assert_int_equal(sbxc_rmdir(s.c, "public", "", PROTO_F_RECURSIVE), PROTO_E_ACCESS);
	close_session(&s);
}

/* Stops the fixture's smbd and starts it again on the same port. */
static void restart_server(void)
{
	const char *script = getenv("SAMBA_FIXTURE_SCRIPT");
	char cmd[1024];

	assert_non_null(script);
	snprintf(cmd, sizeof(cmd), "'%s' restart '%s' >/dev/null", script,
		 fixture_require("SAMBA_DIR"));
	assert_int_equal(system(cmd), 0);
}

/*
 * The file server restarts under an idle session. libsmbclient checks a
 * connection with an echo on its second use, then trusts it for `timeout`
 * seconds: each request is made twice first, so that the one after the
 * restart meets a dead connection libsmbclient trusts. A request that changes
 * nothing (here a download's open) is sent again on a new connection; one
 * that changes something (a mkdir) starts with a stat, which is.
 */
static void test_server_restart(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct proto_stat st;
	char *data;
	size_t len;

	for (int i = 0; i < 3; i++) {
		if (i == 2)
			restart_server();
		assert_int_equal(read_range(s.c, "public", "hello.txt", 0, UINT64_MAX, &data, &len),
				 0);
		assert_int_equal(len, 14);
		assert_memory_equal(data, "Hello, world!\n", len);
		free(data);
	}
	assert_int_equal(sbxc_stat(s.c, "public", "hello.txt", &st), 0);
	restart_server();
	assert_int_equal(sbxc_mkdir(s.c, "public", "after restart"), 0);
	assert_int_equal(sbxc_mkdir(s.c, "public", "after restart"), PROTO_E_EXISTS);
	assert_int_equal(sbxc_rmdir(s.c, "public", "after restart", 0), 0);
	close_session(&s);
}

/* ---- commands run inside a session's sandbox (sbx_exec) ---- */

struct ran {
	int status;
	char out[4096], err[4096];
};

/* Reads @fd to EOF into @buf (NUL-terminated, cut at @size - 1). */
static void slurp(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, size - 1 - n)) > 0 && n + (size_t)r < size - 1)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Runs @argv in @s's sandbox (of @sp) with @input on its stdin. */
static struct ran run_in_sp(struct sbx_spawner *sp, struct session *s, const char *input,
			    const char *const *argv)
{
	int in[2], out[2], err[2], status_fd = -1;
	struct ran ran = {.status = -1};
	int32_t code = -1;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	int stdio[3] = {in[0], out[1], err[1]};
	assert_int_equal(sbx_exec(sp, s->b, "test", argv, stdio, false, &status_fd), 0);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (input)
		assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
	close(in[1]);
	slurp(out[0], ran.out, sizeof(ran.out));
	slurp(err[0], ran.err, sizeof(ran.err));
	close(out[0]);
	close(err[0]);
	assert_int_equal(read(status_fd, &code, sizeof(code)), sizeof(code));
	close(status_fd);
	ran.status = code;
	return ran;
}

static struct ran run_in(struct session *s, const char *input, const char *const *argv)
{
	return run_in_sp(spawner, s, input, argv);
}

#define RUN(s, input, ...) run_in(s, input, (const char *const[]){__VA_ARGS__, NULL})

/*
 * The socket hand-off, from inside: the probe, in the worker's place and under
 * its filter, takes a socket the gateway connected to the fixture, and every
 * way to re-point it, route it elsewhere, open another or pass it on fails
 * with EPERM; the socket still reaches the same server, which answers. Then a
 * command run in the same sandbox (the exec filter) cannot take it.
 */
static void test_handoff(void **state)
{
	(void)state;
	assert_int_equal(cfg->smb_socket, CFG_SMB_SOCKET_HANDOFF);
	const char *args[] = {"handoff", NULL};
	struct sbx_spawner_options o = {.worker_path = probe_path, .worker_args = args};
	struct sbx_spawner *sp;
	struct pinhole_stats before, after;
	assert_int_equal(spawner_start(&o, &sp), 0);
	struct session s = open_sandbox(sp, FIXTURE_ALICE);
	pinhole_get_stats(ph, &before);
	assert_int_equal(send(s.b->ctl, "g", 1, 0), 1);
	char *rep = probe_report(s.b->ctl);
	if (getenv("PROBE_DEBUG"))
		print_message("%s", rep);

	char peer[128];
	snprintf(peer, sizeof(peer), "%s:%s", fixture_require("SAMBA_HOST"),
		 fixture_require("SAMBA_PORT"));
	assert_report(rep, "handoff.request", "0");
	assert_report(rep, "handoff.peer", peer);
	static const char *const denied[] = {
	    "connect_unspec",
	    "connect_inet",
	    "bind",
	    "listen",
	    "accept",
	    "socket_inet",
	    "socket_inet_dgram",
	    "socket_inet6",
	    "socket_unix_stream",
	    "socket_unix_dgram",
	    "socket_unix_seqpacket",
	    "socketpair_dgram",
	    "sendto_fastopen",
	    "sendmsg_fastopen",
	    "sendmmsg_fastopen",
	    "ip_options",
	    "ip_tos",
	    "ipv6",
	    "so_linger",
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "deny.%s", denied[i]);
		const char *v = report_get(rep, key);
		if (!v || strcmp(v, num(EPERM)) != 0)
			fail_msg("%s: %s, not EPERM", key, v ? v : "(missing)");
	}
	assert_report(rep, "allow.socketpair_stream", "0");
	assert_report(rep, "allow.tcp_nodelay", "0");
	assert_report(rep, "allow.so_keepalive", "0");
	assert_report(rep, "handoff.same_peer", "1");
	assert_report(rep, "handoff.works", "1");
	/* Malformed requests are dropped (the wrong kind of answer socket gets
	 * nothing), and the channel still serves. */
	assert_report(rep, "handoff.wrong_type_answered", "0");
	assert_report(rep, "handoff.after_garbage", "0");
	assert_report(rep, "handoff.after_garbage_works", "1");
	assert_report(rep, "handoff.parallel_distinct", "1");
	/* The pinhole counts a hand-off after its send returns, which the probe
	 * may outrun: wait for the counts (at most 2 s), then check them exactly. */
	for (int i = 0; i < 200; i++) {
		pinhole_get_stats(ph, &after);
		if (after.handed_over - before.handed_over >= 11 &&
		    after.refused - before.refused >= 3)
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(after.handed_over - before.handed_over, 11);
	assert_int_equal(after.refused - before.refused, 3);
	assert_int_equal(after.bytes_up, before.bytes_up); /* nothing relayed */

	/* A command of the same sandbox: no channel, no way to the worker's fds. */
	struct ran r =
	    run_in_sp(sp, &s, NULL, (const char *const[]){JAIL_WORKER_PATH, "steal", NULL});
	char want[64];
	if (getenv("PROBE_DEBUG"))
		print_message("%s%s", r.out, r.err);
	assert_int_equal(r.status, 0);
	snprintf(want, sizeof(want), "steal.fd5=%d\n", EBADF);
	assert_non_null(strstr(r.out, want));
	/* Not dumpable: even its fds' names are out of reach (this check is the
	 * kernel's ptrace access check, the one pidfd_getfd() makes too). */
	snprintf(want, sizeof(want), "steal.proc_fd=%d\n", EACCES);
	assert_non_null(strstr(r.out, want));
	snprintf(want, sizeof(want), "steal.proc_fd_open=%d\n", EACCES);
	assert_non_null(strstr(r.out, want));
	assert_non_null(strstr(r.out, "steal.pidfd_getfd=signal 31\n"));
	assert_non_null(strstr(r.out, "steal.ptrace_attach=signal 31\n"));
	assert_non_null(strstr(r.out, "steal.process_vm_readv=signal 31\n"));

	free(rep);
	assert_int_equal(send(s.b->ctl, "x", 1, 0), 1);
	close_session(&s);
	sbx_spawner_free(sp);
}

static void test_exec(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	struct ran r;

	/* The sandbox's user, its hostname, its stdio; exit statuses pass through. */
	r = RUN(&s, NULL, "id", "-u");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "1000\n");
	r = RUN(&s, NULL, "hostname");
	assert_string_equal(r.out, FIXTURE_ALICE "\n");
	r = RUN(&s, "from stdin", "cat");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "from stdin");
	r = RUN(&s, NULL, "sh", "-c", "echo to stderr >&2; exit 7");
	assert_int_equal(r.status, 7);
	assert_string_equal(r.err, "to stderr\n");
	r = RUN(&s, NULL, "sh", "-c", "kill -9 $$");
	assert_int_equal(r.status, 128 + SIGKILL);
	r = RUN(&s, NULL, "no-such-command");
	assert_int_equal(r.status, 127);
	assert_non_null(strstr(r.err, "cannot run no-such-command"));
	/* No capabilities, not even in the bounding set; no new privileges. */
	r = RUN(&s, NULL, "sh", "-c",
		"grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(r.out, "CapBnd:\t0000000000000000"));
	assert_non_null(strstr(r.out, "NoNewPrivs:\t1"));
	assert_non_null(strstr(r.out, "Seccomp:\t2"));

	/* Escapes: new namespaces kill, mounts kill, /proc/sys is read-only,
	 * the worker's memory and environment cannot be read. */
	r = RUN(&s, NULL, "unshare", "-U", "true");
	assert_int_equal(r.status, 128 + SIGSYS);
	r = RUN(&s, NULL, "mount", "-t", "tmpfs", "none", "/tmp");
	assert_true(r.status == 128 + SIGSYS || r.status == 32 || r.status == 1);
	r = RUN(&s, NULL, "sh", "-c", "echo x > /proc/sys/kernel/hostname");
	assert_int_not_equal(r.status, 0);
	r = RUN(&s, NULL, "cat", "/proc/2/environ");
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "Permission denied"));
	r = RUN(&s, NULL, "sh", "-c", "head -c 16 /proc/2/mem");
	assert_int_not_equal(r.status, 0);
	/* The network: only the pinhole; the host's loopback (the fixture's own
	 * port) is not there. */
	char code[256];
	snprintf(code, sizeof(code),
		 "import socket\n"
		 "try:\n socket.create_connection(('127.0.0.1', %s), 3)\n print('connected')\n"
		 "except OSError as e:\n print('refused', e.errno)\n",
		 fixture_require("SAMBA_PORT"));
	r = RUN(&s, NULL, "python3", "-c", code);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "refused"));

	/* A command does not outlive its session. */
	int in[2], out[2], status_fd = -1;
	int32_t st = -1;
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	int stdio[3] = {in[0], out[1], out[1]};
	const char *const sleeper[] = {"sh", "-c", "echo started; exec sleep 1000", NULL};
	assert_int_equal(sbx_exec(spawner, s.b, "test", sleeper, stdio, false, &status_fd), 0);
	close(in[0]);
	close(out[1]);
	char started[8] = {0};
	assert_int_equal(read(out[0], started, sizeof(started)), 8); /* it runs in there */
	assert_memory_equal(started, "started\n", 8);
	close_session(&s);
	struct pollfd p = {.fd = status_fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(status_fd, &st, sizeof(st)), sizeof(st));
	assert_int_equal(st, 128 + SIGKILL);
	close(status_fd);
	close(in[1]);
	close(out[0]);
}

/* Logout: the sandbox and its processes are gone. */
static void test_logout_kills(void **state)
{
	(void)state;
	struct session s = login(FIXTURE_ALICE, FIXTURE_ALICE_PASS);
	pid_t pid = s.pid;
	close_session(&s);
	assert_true(gone_within(pid, 3000));
}

static int setup(void **state)
{
	(void)state;
	struct sbx_spawner_options o = {.worker_path = worker_path};
	write_config();
	/* The spawner first, while this process has a single thread. */
	if (sbx_spawner_start(cfg, &o, &spawner) < 0 || pinhole_start(&ph) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sbx_spawner_free(spawner);
	pinhole_stop(ph);
	cfg_free(cfg);
	unlink(conf_path);
	rmdir(conf_dir);
	fixture_free();
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_isolation),
	    cmocka_unit_test(test_isolation_relay),
	    cmocka_unit_test(test_handoff),
	    cmocka_unit_test(test_distinct_uids),
	    cmocka_unit_test(test_spares),
	    cmocka_unit_test(test_spawner_death_kills_sandboxes),
	    cmocka_unit_test(test_gateway_death_kills_sandboxes),
	    cmocka_unit_test(test_malformed_worker_killed),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_auth_on_share),
	    cmocka_unit_test(test_requests_before_auth_refused),
	    cmocka_unit_test(test_server_unreachable),
	    cmocka_unit_test(test_unprivileged),
	    cmocka_unit_test(test_shares),
	    cmocka_unit_test(test_list_awkward_names),
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_read_striped),
	    cmocka_unit_test(test_write_replace_and_interrupt),
	    cmocka_unit_test(test_drop_temporary),
	    cmocka_unit_test(test_access_denied),
	    cmocka_unit_test(test_refused_names),
	    cmocka_unit_test(test_check_password),
	    cmocka_unit_test(test_lanes),
	    cmocka_unit_test(test_dir_ops),
	    cmocka_unit_test(test_server_restart),
	    cmocka_unit_test(test_logout_kills),
	    cmocka_unit_test(test_exec),
	};
	if (argc != 3) {
		fprintf(stderr, "usage: %s WORKER PROBE\n", argv[0]);
		return 2;
	}
	worker_path = argv[1];
	probe_path = argv[2];
	return cmocka_run_group_tests(tests, setup, teardown);
}
