/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/main.c - the smbgate command line: arguments, configuration,
 * start-up.
 *
 * Runs in: the gateway process (its main thread).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/canonuser.h"
#include "auth/sbxsession.h"
#include "auth/session.h"
#include "cfg.h"
#include "dav/dav.h"
#include "files/fileops.h"
#include "files/journal.h"
#include "files/orphans.h"
#include "files/uploads.h"
#include "http/daemon.h"
#include "http/request.h"
#include "log/log.h"
#include "log/metrics.h"
#include "ops/control.h"
#include "pinhole.h"
#include "rest/rest.h"
#include "routes.h"
#include "smbgate-config.h"
#include "spawn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <stdatomic.h>

/* The worker: --worker, else beside this executable, else in the build
 * tree's sandbox/ folder, else the installed one. Returns a malloc'd path. */
static char *find_worker(const char *opt)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;

	if (opt)
		return strdup(opt);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/smbgate-worker", self);
			if (access(path, X_OK) == 0)
				return strdup(path);
			snprintf(path, sizeof(path), "%s/../sandbox/smbgate-worker", self);
			if (access(path, X_OK) == 0)
				return strdup(path);
		}
	}
	return strdup(SMBGATE_LIBEXECDIR "/smbgate-worker");
}

/* Whether @host (no brackets) is a loopback address: 127.0.0.0/8 or ::1. */
static bool is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/*
 * Under systemd with Delegate=yes the gateway's cgroup (the service's) is
 * its own to manage, but cgroup v2 lets a cgroup hand the memory and pids
 * controllers to its children only when it holds no process itself. So the
 * gateway moves itself into a "gateway" leaf, enables both controllers for
 * the service's children, and the spawner puts each sandbox in a sibling
 * sbx-PID. Returns the service's cgroup directory in @dir, or false when any
 * step fails (no delegation, cgroup v1, not writable...): the spawner then
 * looks at its own cgroup and says what it cannot enforce.
 * Call while the process has a single thread.
 */
static bool cgroup_prepare(char *dir, size_t len)
{
	char line[400], file[700];
	FILE *f = fopen("/proc/self/cgroup", "re");
	bool found = false;
	int fd;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::/", 4) == 0) {
			line[strcspn(line, "\n")] = '\0';
			/* never the root cgroup */
			found = strlen(line + 3) > 1 &&
				(size_t)snprintf(dir, len, "/sys/fs/cgroup%s", line + 3) < len;
		}
	fclose(f);
	/* Only a cgroup that systemd delegated and that we may write. Delegate=yes
	 * marks it with the user.delegate or trusted.delegate attribute (the
	 * latter readable with CAP_SYS_ADMIN only, which the unit drops); where
	 * neither can be read, a service's own cgroup (INVOCATION_ID is set by
	 * systemd for each unit it starts) is taken as the unit file says. */
	char mark[8] = "";
	bool delegated = getxattr(dir, "user.delegate", mark, sizeof(mark) - 1) > 0 ||
			 getxattr(dir, "trusted.delegate", mark, sizeof(mark) - 1) > 0;
	if (delegated)
		delegated = mark[0] == '1';
	else
		delegated = getenv("INVOCATION_ID") && strlen(dir) > 8 &&
			    strcmp(dir + strlen(dir) - 8, ".service") == 0;
	if (!found || !delegated || access(dir, W_OK) < 0)
		return false;
	snprintf(file, sizeof(file), "%s/gateway", dir);
	if (mkdir(file, 0755) < 0 && errno != EEXIST)
		return false;
	snprintf(file, sizeof(file), "%s/gateway/cgroup.procs", dir);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool moved = write(fd, "0", 1) == 1;
	close(fd);
	if (!moved)
		return false;
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool enabled = write(fd, "+memory +pids", 13) == 13;
	close(fd);
	return enabled;
}

/* The configurations replaced by reloads: kept until the gateway stops
 * (struct gw's cfg). Main thread only. */
struct cfg_list {
	struct cfg *c;
	struct cfg_list *next;
};

/*
 * SIGHUP: reads @path again. A file with an error is refused with the same
 * message as --check-config's, and the running configuration stays; else
 * the new one replaces it (cfg_reload_merge(): what needs a restart keeps
 * its running value, and is named). New logins and requests use it from
 * now on; running sessions keep the server settings they logged in with.
 */
static void reload(struct gw *gw, const char *path, struct cfg_list **old)
{
	char err[512], kept[512];
	struct cfg *next = NULL;
	struct cfg_list *item = NULL;
	const struct cfg *cur = gw->cfg;
	struct gw_log l;
	int r = cfg_load(path, &next, err, sizeof(err));

	if (r == 0)
		r = cfg_reload_merge(next, cur, kept, sizeof(kept), err, sizeof(err));
	if (r == 0) {
		item = malloc(sizeof(*item));
		if (!item)
			r = -ENOMEM;
	}
	if (r < 0 || !item || !next) {
		if (r == -ENOMEM)
			snprintf(err, sizeof(err), "%s: %s", path, strerror(ENOMEM));
		fprintf(stderr, "smbgate: %s\n", err);
		gw_log_begin(&l, "reload");
		gw_log_str(&l, "result", "refused");
		gw_log_str(&l, "config", path);
		gw_log_str(&l, "error", err);
		gw_log_end(&l);
		cfg_free(next);
		return;
	}
	gw_sessions_set_limits(gw->sessions, next->max_sessions, next->session_idle_timeout);
	item->c = (struct cfg *)cur;
	item->next = *old;
	*old = item;
	atomic_store(&gw->cfg, next);
	gw_log_begin(&l, "reload");
	gw_log_str(&l, "result", "ok");
	gw_log_str(&l, "config", path);
	gw_log_u64(&l, "servers", next->n_servers);
	if (kept[0])
		gw_log_str(&l, "restart_needed", kept);
	gw_log_end(&l);
}

/* A temporary an earlier run of the gateway left in the journal: an orphan
 * again, for its user's next request. An aside (the old Destination of a
 * WebDAV COPY over a folder, cut midway) is never removed: the log says where
 * it is, beside what the copy left in its place. */
static void journal_leftover(void *arg, const struct gw_journal_entry *e)
{
	struct gw *gw = arg;
	const struct cfg_server *srv = cfg_server_find(gw->cfg, e->server);

	if (e->aside) {
		const char *slash = strrchr(e->path, '/');
		fprintf(stderr,
			"smbgate: user=%s server=%s: a COPY over %s/%s was cut by the gateway's "
			"stop or death; the old Destination may be kept as %s/%.*s%s (check "
			"what is at %s/%s, then rename it back or remove it by hand)\n",
			e->user, e->server, e->share, e->path, e->share,
			slash ? (int)(slash - e->path + 1) : 0, e->path, e->tmp, e->share, e->path);
		gw_journal_end(gw->journal, e->id);
		return;
	}
	if (!srv) {
		fprintf(stderr,
			"smbgate: server=%s: an upload temporary of an earlier run, %s/%s (beside "
			"%s), is on a server no longer configured; remove it by hand\n",
			e->server, e->share, e->tmp, e->path);
		gw_journal_end(gw->journal, e->id);
		return;
	}
	/* a journal of an earlier version may hold the name as typed */
	char canon[GW_CANON_USER_MAX + 1];
	gw_orphans_record(gw, gw_canon_user(e->user, canon) == 0 ? canon : e->user,
			  (size_t)(srv - gw->cfg->servers), e->share, e->path, e->tmp, e->id,
			  "an upload was cut by the gateway's stop or death:");
}

/* The orphans still waiting at stop: kept in the journal for the next start
 * (the log says so), or, without a journal, left for an administrator. */
static void orphans_at_stop(struct gw *gw, struct gw_orphan *list)
{
	if (!gw->journal) {
		gw_orphans_log_dropped(gw, list, "smbgate stopped");
		return;
	}
	while (list) {
		struct gw_orphan *next = list->next;
		gw_log_tmp(gw, list->user, list->server, list->share, list->path, list->tmp,
			   "smbgate stopped before removing the upload temporary",
			   list->jid ? "(kept in the journal: removed at the user's first request "
				       "after the next start)"
				     : "(not in the journal: remove it by hand)");
		gw_orphan_free(list);
		list = next;
	}
}

/* Opens the journal of upload temporaries beside the control socket; the
 * gateway runs without one (as before) when it cannot. */
static void journal_open(struct gw *gw)
{
	char path[PATH_MAX];
	const char *sock = gw->cfg->control_socket;
	const char *slash = strrchr(sock, '/');
	int dl = slash ? (int)(slash - sock) : 0;
	unsigned bad = 0;

	if (dl <= 0 ||
	    snprintf(path, sizeof(path), "%.*s/uploads.journal", dl, sock) >= (int)sizeof(path))
		return;
	path[dl] = '\0';
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "smbgate: no journal of upload temporaries: %s: %s\n", path,
			strerror(errno));
		return;
	}
	path[dl] = '/';
	gw->journal = NULL;
	int r = gw_journal_open(path, journal_leftover, gw, &bad, &gw->journal);
	if (r < 0) {
		fprintf(stderr,
			"smbgate: no journal of upload temporaries (%s: %s): the temporaries of "
			"uploads cut by a crash of the gateway stay on the file servers\n",
			path, r == -EWOULDBLOCK ? "another gateway uses it" : strerror(-r));
		return;
	}
	if (bad)
		fprintf(stderr, "smbgate: %s: %u unreadable lines left out\n", path, bad);
}

/* Keeps the WebDAV locks in a file beside the journal (the control socket's
 * folder, made by journal_open()), so that they survive a restart; in memory
 * only (as before) when it cannot. */
static void dav_locks_open(const struct gw *gw)
{
	char path[PATH_MAX];
	const char *sock = gw->cfg->control_socket;
	const char *slash = strrchr(sock, '/');
	int dl = slash ? (int)(slash - sock) : 0;

	if (dl <= 0 ||
	    snprintf(path, sizeof(path), "%.*s/dav.locks", dl, sock) >= (int)sizeof(path))
		return;
	int r = gw_dav_locks_open(path);
	if (r < 0)
		fprintf(stderr,
			"smbgate: WebDAV locks kept in memory only (%s: %s): a restart forgets "
			"them\n",
			path, r == -EWOULDBLOCK ? "another gateway uses it" : strerror(-r));
}

/* Raises the fd limit to its maximum (each session holds a few fds: control
 * socket, pinhole, pipes), ignores SIGPIPE and blocks the signals that
 * serve_until_stopped() takes with sigtimedwait(); every thread started
 * after this inherits the mask. */
static void process_setup(sigset_t *sigs)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

/* The spawner, while this process still has a single thread. Returns 0 or a
 * negative errno (said on stderr). */
static int spawner_start(struct gw *gw, const char *worker)
{
	struct sbx_spawner_options so = {0};
	char cgroup[600];

	if (cgroup_prepare(cgroup, sizeof(cgroup)))
		so.cgroup = cgroup;
	so.worker_path = worker;
	int r = sbx_spawner_start(gw->cfg, &so, &gw->spawner);
	if (r < 0)
		fprintf(stderr, "smbgate: cannot start the sandbox spawner with worker %s: %s\n",
			worker, strerror(-r));
	return r;
}

/* The pinhole, the metrics and the tables of @gw (sessions, orphans, tus).
 * Returns 0 or a negative errno (said on stderr); what started is freed by
 * the caller's stop_all(). */
static int tables_start(struct gw *gw)
{
	const struct cfg *cfg = gw->cfg;
	int r = pinhole_start(&gw->pinhole);

	if (r == 0)
		r = gw_metrics_new(&gw->metrics);
	if (r == 0)
		r = gw_sessions_new(cfg->max_sessions, GW_MAX_PER_USER, cfg->session_idle_timeout,
				    gw_sbx_free, &gw->sessions);
	if (r == 0)
		gw_sessions_on_end(gw->sessions, gw_session_ended);
	if (r == 0)
		r = gw_orphans_new(GW_ORPHANS_MAX, GW_ORPHANS_PER_USER, GW_ORPHANS_TTL,
				   &gw->orphans);
	if (r == 0)
		r = gw_tus_new(GW_TUS_MAX, GW_TUS_PER_USER, cfg->upload_expiry, &gw->tus);
	if (r < 0)
		fprintf(stderr, "smbgate: cannot start: %s\n", strerror(-r));
	return r;
}

/* Says where the gateway listens, and warns when it does so in clear text
 * on more than the loopback. */
static void announce_listening(const struct gw *gw, const struct gw_http *http,
			       const char *config_path)
{
	const char *host = gw->cfg->listen_host;
	bool v6 = strchr(host, ':') != NULL;

	fprintf(stderr, "smbgate %s: listening on %s://%s%s%s:%u/ (configuration %s)\n",
		SMBGATE_VERSION, gw->tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "",
		gw_http_port(http), config_path);
	if (!gw->tls && !is_loopback(host))
		fprintf(stderr,
			"smbgate: WARNING: listening on %s%s%s:%u without TLS: passwords, tokens "
			"and files cross the network in clear text. Set tls_certificate and "
			"tls_key in [gateway] (the Debian package made a self-signed pair in "
			"/etc/smbgate/tls/), or serve it only through a TLS proxy\n",
			v6 ? "[" : "", host, v6 ? "]" : "", gw_http_port(http));
}

/* The main thread's loop: reloads on SIGHUP, expires what waited too long
 * every 5 s, and returns on SIGTERM or SIGINT. */
static void serve_until_stopped(struct gw *gw, const sigset_t *sigs, const char *config_path,
				struct cfg_list **old_cfgs)
{
	for (;;) {
		struct timespec ts = {.tv_sec = 5};
		int sig = sigtimedwait(sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			fprintf(stderr, "smbgate: %s: stopping\n", strsignal(sig));
			return;
		}
		if (sig == SIGHUP)
			reload(gw, config_path, old_cfgs);
		gw_sessions_expire(gw->sessions);
		gw_tus_expire_all(gw);
		gw_orphans_log_dropped(gw, gw_orphans_expire(gw->orphans),
				       "its user did not come back in time");
	}
}

/* Stops and frees what run() started (any part of it may be NULL). */
static void stop_all(struct gw *gw, struct gw_http *http, struct gw_control *ctl)
{
	gw_control_stop(ctl);
	gw_http_stop(http);
	/* The spawner first: every sandbox dies with it, all at once, so that
	 * ending the sessions (each waits for its sandbox to be gone) is quick. */
	sbx_spawner_free(gw->spawner);
	gw->spawner = NULL;
	gw_sessions_free(gw->sessions); /* ends every sandbox */
	/* What is still waiting stays on the file servers: say where. */
	if (gw->tus)
		gw_tus_stop(gw);
	gw_tus_free(gw->tus);
	if (gw->orphans)
		orphans_at_stop(gw, gw_orphans_take_all(gw->orphans));
	gw_orphans_free(gw->orphans);
	gw_journal_close(gw->journal);
	gw_dav_locks_close();
	pinhole_stop(gw->pinhole);
	gw_metrics_free(gw->metrics);
}

/* Frees the configurations reloads replaced, and the running one, except
 * @old_cfgs' first, the caller's (which runs when no reload replaced it). */
static void cfgs_free(struct gw *gw, struct cfg_list *old_cfgs)
{
	if (!old_cfgs)
		return;
	cfg_free((struct cfg *)gw->cfg);
	while (old_cfgs->next) {
		struct cfg_list *next = old_cfgs->next;
		cfg_free(old_cfgs->c);
		free(old_cfgs);
		old_cfgs = next;
	}
	free(old_cfgs); /* the first one: @cfg, the caller's */
}

static int run(struct cfg *cfg, const char *config_path, const char *worker_opt)
{
	struct gw gw = {.cfg = cfg};
	struct gw_http *http = NULL;
	struct gw_control *ctl = NULL;
	char ctl_err[256];
	sigset_t sigs;
	struct cfg_list *old_cfgs = NULL;
	int exit_code = 1;
	char *worker = find_worker(worker_opt);

	if (!worker)
		return 1;
	process_setup(&sigs);
	if (spawner_start(&gw, worker) < 0 || tables_start(&gw) < 0)
		goto out;
	journal_open(&gw);
	dav_locks_open(&gw);
	if (gw_http_start(&gw, &gw_routes, &http) < 0)
		goto out;
	announce_listening(&gw, http, config_path);
	/* Without it the gateway still serves its users; only smbgatectl is blind. */
	if (gw_control_start(&gw, &ctl, ctl_err, sizeof(ctl_err)) < 0)
		fprintf(stderr,
			"smbgate: no control socket, smbgatectl cannot reach this gateway: %s\n",
			ctl_err);
	serve_until_stopped(&gw, &sigs, config_path, &old_cfgs);
	exit_code = 0;
out:
	stop_all(&gw, http, ctl);
	free(worker);
	cfgs_free(&gw, old_cfgs);
	return exit_code;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: smbgate [OPTION]...\n"
		"A web and REST gateway to SMB file servers, one sandbox per user session.\n"
		"\n"
		"  -c, --config FILE   read the configuration from FILE\n"
		"                      (default " SMBGATE_DEFAULT_CONFIG ")\n"
		"      --check-config  validate the configuration and exit: 0 valid, 1 not\n"
		"      --worker PATH   the smbgate-worker executable (default: beside smbgate,\n"
		"                      or the installed one)\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"Exit status: 0 success, 1 bad configuration or failure, 2 bad usage.\n");
}

enum { OPT_CHECK_CONFIG = 0x100, OPT_WORKER };

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
	    {"worker", required_argument, NULL, OPT_WORKER},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = SMBGATE_DEFAULT_CONFIG;
	const char *worker_path = NULL;
	int check_only = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case OPT_CHECK_CONFIG:
			check_only = 1;
			break;
		case OPT_WORKER:
			worker_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("smbgate %s\n", SMBGATE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "smbgate: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	char err[512];
	struct cfg *cfg = NULL;
	int r = cfg_load(config_path, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "smbgate: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK (%zu server%s)\n", config_path, cfg->n_servers,
		       cfg->n_servers == 1 ? "" : "s");
		cfg_free(cfg);
		return 0;
	}

	r = run(cfg, config_path, worker_path);
	cfg_free(cfg);
	return r;
}
