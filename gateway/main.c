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

#include "smbgate-config.h"
#include "cfg.h"
#include "gateway.h"
#include "control.h"
#include "http.h"
#include "sbxsession.h"

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

static int run(const struct cfg *cfg, const char *config_path, const char *worker_opt)
{
	struct gw gw = {.cfg = cfg};
	struct sbx_spawner_options so = {0};
	struct gw_http *http = NULL;
	struct gw_control *ctl = NULL;
	char ctl_err[256];
	sigset_t sigs;
	struct rlimit rl;
	int r, exit_code = 1;
	char *worker = find_worker(worker_opt);

	if (!worker)
		return 1;
	/* Each session holds a few fds (control socket, pinhole, pipes). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	/* Signals are taken by sigtimedwait() below; every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	/* The spawner first, while this process has a single thread. */
	so.worker_path = worker;
	r = sbx_spawner_start(cfg, &so, &gw.spawner);
	if (r < 0) {
		fprintf(stderr, "smbgate: cannot start the sandbox spawner with worker %s: %s\n",
			worker, strerror(-r));
		goto out;
	}
	r = pinhole_start(&gw.pinhole);
	if (r == 0)
		r = gw_metrics_new(&gw.metrics);
	if (r == 0)
		r = gw_sessions_new(cfg->max_sessions, GW_MAX_PER_USER, cfg->session_idle_timeout,
				    gw_sbx_free, &gw.sessions);
	if (r == 0)
		r = gw_orphans_new(GW_ORPHANS_MAX, GW_ORPHANS_PER_USER, GW_ORPHANS_TTL,
				   &gw.orphans);
	if (r == 0)
		r = gw_tus_new(GW_TUS_MAX, GW_TUS_PER_USER, cfg->upload_expiry, &gw.tus);
	if (r < 0) {
		fprintf(stderr, "smbgate: cannot start: %s\n", strerror(-r));
		goto out;
	}
	r = gw_http_start(&gw, &http);
	if (r < 0)
		goto out;
	const char *host = cfg->listen_host;
	bool v6 = strchr(host, ':') != NULL;
	fprintf(stderr, "smbgate %s: listening on %s://%s%s%s:%u/ (configuration %s)\n",
		SMBGATE_VERSION, gw.tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "",
		gw_http_port(http), config_path);
	/* Without it the gateway still serves its users; only smbgatectl is blind. */
	r = gw_control_start(&gw, &ctl, ctl_err, sizeof(ctl_err));
	if (r < 0)
		fprintf(stderr,
			"smbgate: no control socket, smbgatectl cannot reach this gateway: %s\n",
			ctl_err);

	for (;;) {
		struct timespec ts = {.tv_sec = 5};
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			fprintf(stderr, "smbgate: %s: stopping\n", strsignal(sig));
			break;
		}
		gw_sessions_expire(gw.sessions);
		gw_tus_expire_all(&gw);
		gw_orphans_log_dropped(&gw, gw_orphans_expire(gw.orphans),
				       "its user did not come back in time");
	}
	exit_code = 0;
out:
	gw_control_stop(ctl);
	gw_http_stop(http);
	gw_sessions_free(gw.sessions); /* ends every sandbox */
	/* What is still waiting stays on the file servers: say where. */
	if (gw.tus)
		gw_tus_stop(&gw);
	gw_tus_free(gw.tus);
	if (gw.orphans)
		gw_orphans_log_dropped(&gw, gw_orphans_take_all(gw.orphans), "smbgate stopped");
	gw_orphans_free(gw.orphans);
	pinhole_stop(gw.pinhole);
	sbx_spawner_free(gw.spawner);
	gw_metrics_free(gw.metrics);
	free(worker);
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
