/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/main.c - the smbgate command line: arguments, configuration,
 * start-up.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbgate-config.h"
#include "cfg.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: smbgate [OPTION]...\n"
		     "A web and REST gateway to SMB file servers, one sandbox per user session.\n"
		     "\n"
		     "  -c, --config FILE   read the configuration from FILE\n"
		     "                      (default " SMBGATE_DEFAULT_CONFIG ")\n"
		     "      --check-config  validate the configuration and exit: 0 valid, 1 not\n"
		     "  -h, --help          show this help and exit\n"
		     "  -V, --version       show the version and exit\n"
		     "\n"
		     "Exit status: 0 success, 1 bad configuration or failure, 2 bad usage.\n");
}

enum { OPT_CHECK_CONFIG = 0x100 };

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = SMBGATE_DEFAULT_CONFIG;
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

	/* The HTTP server and the sandboxes land with the gateway issue; until
	 * then the gateway says what it would serve. */
	printf("smbgate %s: configuration %s is valid.\n", SMBGATE_VERSION, config_path);
	printf("It would listen on http%s://%s%s%s:%u/ and reach:\n",
	       cfg->tls_certificate ? "s" : "", strchr(cfg->listen_host, ':') ? "[" : "",
	       cfg->listen_host, strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port);
	for (size_t i = 0; i < cfg->n_servers; i++)
		printf("  [server %s] %s:%u workgroup %s, %s..%s, encryption %s\n",
		       cfg->servers[i].name, cfg->servers[i].host, cfg->servers[i].port,
		       cfg->servers[i].workgroup, cfg_protocol_name(cfg->servers[i].min_protocol),
		       cfg_protocol_name(cfg->servers[i].max_protocol),
		       cfg_encryption_name(cfg->servers[i].encryption));
	printf("The HTTP server is not implemented yet.\n");
	cfg_free(cfg);
	return 0;
}
