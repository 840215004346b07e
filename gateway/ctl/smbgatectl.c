/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ctl/smbgatectl.c - the administrator's command: lists and ends the
 * running gateway's sessions over its control socket (ctlproto.h).
 *
 * Runs in: smbgatectl, a process of its own started by root.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "smbgate-config.h"
#include "cfg.h"
#include "ctl/ctlesc.h"
#include "ctl/ctlproto.h"
#include "fdpass.h"

/* Exit statuses. */
#define EXIT_OK	      0
#define EXIT_FAILURE_ 1
#define EXIT_USAGE    2 /* bad usage, no such session, no gateway */

#define ROOT_MSG "smbgatectl: must be run as root (the control socket is root's)\n"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: smbgatectl [-c CONFIG | -s SOCKET] sessions [--json]\n"
	    "       smbgatectl [-c CONFIG | -s SOCKET] kill ID...\n"
	    "       smbgatectl [-c CONFIG | -s SOCKET] kill --user USER [--server NAME]\n"
	    "       smbgatectl [-c CONFIG | -s SOCKET] exec USER [--server NAME] -- CMD [ARG]...\n"
	    "       smbgatectl [-c CONFIG | -s SOCKET] shell USER [--server NAME]\n"
	    "Administers the running smbgate over its control socket (root only).\n"
	    "\n"
	    "Commands:\n"
	    "  sessions            list the live sessions: id, user, server, client address,\n"
	    "                      since (time since login), idle, sandbox pid, body bytes\n"
	    "                      in and out, requests in flight, mounted (off: the\n"
	    "                      configuration mounts nothing; yes: /shares is mounted\n"
	    "                      and served; no: not yet (on-demand, before the first\n"
	    "                      exec) or its server is gone)\n"
	    "  kill ID...          end these sessions as a logout does: the token dies and\n"
	    "                      the sandbox is killed, credentials and mounts with it\n"
	    "  kill --user USER    end every session of USER (on every server, or only\n"
	    "                      on --server NAME)\n"
	    "  exec USER -- CMD... run CMD inside USER's live sandbox (its most recently\n"
	    "                      used session; --server NAME to choose), as the\n"
	    "                      sandbox's user, on the shares as USER sees them under\n"
	    "                      /shares/SERVER when mounts are on; stdin, stdout and\n"
	    "                      stderr are this command's; its exit status is\n"
	    "                      returned (128+N for signal N, 126 cannot enter the\n"
	    "                      sandbox, 127 no such command). Logged by the gateway.\n"
	    "  shell USER          the same with an interactive shell (bash, else sh) on a\n"
	    "                      pseudo-terminal; its exit status is returned\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE   take control_socket from FILE\n"
	    "                      (default " SMBGATE_DEFAULT_CONFIG ")\n"
	    "  -s, --socket PATH   the control socket (default: the configuration's,\n"
	    "                      else " CFG_DEFAULT_CONTROL_SOCKET ")\n"
	    "      --json          sessions: one JSON object, {\"sessions\":[...]}\n"
	    "  -h, --help          show this help and exit\n"
	    "  -V, --version       show the version and exit\n"
	    "\n"
	    "Exit status: 0 success; 1 failure (not root, the gateway refused);\n"
	    "2 bad usage, no such session, or no gateway running.\n");
}

/* ---- the connection --------------------------------------------------- */

/* Connects to @path; on failure prints why and returns -1 with *@status. */
static int connect_to(const char *path, int *status)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 30};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "smbgatectl: %s: the socket's path is too long\n", path);
		*status = EXIT_USAGE;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "smbgatectl: socket: %s\n", strerror(errno));
		*status = EXIT_FAILURE_;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		return fd;
	}
	switch (errno) {
	case EACCES:
	case EPERM:
		fputs(ROOT_MSG, stderr);
		*status = EXIT_FAILURE_;
		break;
	case ENOENT:
	case ENOTDIR:
	case ECONNREFUSED:
		fprintf(stderr, "smbgatectl: no gateway is running (no control socket at %s)\n",
			path);
		*status = EXIT_USAGE;
		break;
	default:
		fprintf(stderr, "smbgatectl: %s: %s\n", path, strerror(errno));
		*status = EXIT_FAILURE_;
		break;
	}
	close(fd);
	return -1;
}

/*
 * Receives one answer. Returns it (caller frees with json_decref()), or NULL
 * after printing why.
 */
static json_t *recv_msg(int fd)
{
	static char buf[CTL_MAX_MSG + 1];
	json_error_t jerr;
	json_t *msg;
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		fprintf(stderr, "smbgatectl: no answer from the gateway: %s\n",
			errno == EAGAIN ? "timed out" : strerror(errno));
		return NULL;
	}
	if (n == 0) {
		fprintf(stderr, "smbgatectl: the gateway closed the connection\n");
		return NULL;
	}
	if ((size_t)n > CTL_MAX_MSG) {
		fprintf(stderr, "smbgatectl: the gateway's answer is too long\n");
		return NULL;
	}
	msg = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(msg)) {
		fprintf(stderr, "smbgatectl: the gateway's answer is not a JSON object\n");
		json_decref(msg);
		return NULL;
	}
	return msg;
}

/* Prints the error of a final answer, if it has one; returns the exit status. */
static int answer_status(json_t *msg)
{
	json_t *e = json_object_get(msg, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *text = json_string_value(json_object_get(e, "message"));

	if (!e)
		return EXIT_OK;
	if (code && strcmp(code, "permission_denied") == 0) {
		fputs(ROOT_MSG, stderr);
		return EXIT_FAILURE_;
	}
	fprintf(stderr, "smbgatectl: the gateway refused: %s (%s)\n", text ? text : "?",
		code ? code : "?");
	return code && strcmp(code, "no_such_server") == 0 ? EXIT_USAGE : EXIT_FAILURE_;
}

/*
 * Sends @req (consumed). Returns EXIT_OK, or an exit status after printing
 * why; a gateway that refused the connection (not root) has said so first.
 */
static int send_req(int fd, json_t *req)
{
	char *s = req ? json_dumps(req, JSON_COMPACT) : NULL;
	ssize_t n = -1;
	int err = ENOMEM;

	json_decref(req);
	if (s && strlen(s) <= CTL_MAX_MSG) {
		n = send(fd, s, strlen(s), MSG_NOSIGNAL);
		err = errno;
	}
	free(s);
	if (n >= 0)
		return EXIT_OK;
	if (err == EPIPE || err == ECONNRESET) {
		json_t *msg = recv_msg(fd);
		int status = msg ? answer_status(msg) : EXIT_FAILURE_;

		json_decref(msg);
		return status == EXIT_OK ? EXIT_FAILURE_ : status;
	}
	fprintf(stderr, "smbgatectl: cannot send the request: %s\n", strerror(err));
	return EXIT_FAILURE_;
}

/* ---- sessions ---------------------------------------------------------- */

/* "42s", "3m12s", "2h05m", "3d04h". */
static void human_time(json_int_t s, char out[32])
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, 32, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, 32, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, 32, "%lldh%02lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(out, 32, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}

/* "14B", "1.5K", "230M" (powers of 1024). */
static void human_size(json_int_t n, char out[32])
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, 32, "%lldB", (long long)(n < 0 ? 0 : n));
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, 32, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

#define N_COLS 11

/* One cell's text, escaped (user names come from users: ctlesc.h). */
static void cell(char *out, size_t len, const char *s)
{
	ctl_escape(out, len, s);
}

static void print_cell(const char *text, size_t width, bool last)
{
	if (last)
		printf("%s\n", text);
	else
		printf("%-*s  ", (int)width, text);
}

static void print_table(json_t *list)
{
	static const char *const head[N_COLS] = {"ID",	  "USER", "SERVER", "ADDRESS",
						 "SINCE", "IDLE", "PID",    "IN",
						 "OUT",	  "REQS", "MOUNTED"};
	size_t n = json_array_size(list), w[N_COLS];
	char(*cells)[N_COLS][80] = calloc(n ? n : 1, sizeof(*cells));

	if (!cells) {
		fprintf(stderr, "smbgatectl: out of memory\n");
		return;
	}
	for (size_t c = 0; c < N_COLS; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(list, i);
		char t[32];

#define INT(k) json_integer_value(json_object_get(s, k))
#define STR(k) (json_string_value(json_object_get(s, k)) ?: "")
		snprintf(cells[i][0], 80, "%lld", (long long)INT("id"));
		cell(cells[i][1], 80, STR("user"));
		cell(cells[i][2], 80, STR("server"));
		cell(cells[i][3], 80, *STR("address") ? STR("address") : "-");
		human_time(INT("age_s"), t);
		snprintf(cells[i][4], 80, "%s", t);
		human_time(INT("idle_s"), t);
		snprintf(cells[i][5], 80, "%s", t);
		snprintf(cells[i][6], 80, "%lld", (long long)INT("pid"));
		human_size(INT("bytes_in"), t);
		snprintf(cells[i][7], 80, "%s", t);
		human_size(INT("bytes_out"), t);
		snprintf(cells[i][8], 80, "%s", t);
		snprintf(cells[i][9], 80, "%lld", (long long)INT("in_flight"));
		cell(cells[i][10], 80, STR("mounted"));
#undef INT
#undef STR
		for (size_t c = 0; c < N_COLS; c++)
			if (strlen(cells[i][c]) > w[c])
				w[c] = strlen(cells[i][c]);
	}
	for (size_t c = 0; c < N_COLS; c++)
		print_cell(head[c], w[c], c + 1 == N_COLS);
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < N_COLS; c++)
			print_cell(cells[i][c], w[c], c + 1 == N_COLS);
	free(cells);
}

static int cmd_sessions(int fd, bool as_json)
{
	json_t *list = json_array();
	int status = EXIT_FAILURE_;

	if (!list ||
	    send_req(fd, json_pack("{s:i,s:s}", "v", CTL_PROTO_VERSION, "cmd", "sessions")) < 0) {
		json_decref(list);
		return EXIT_FAILURE_;
	}
	for (;;) {
		json_t *msg = recv_msg(fd);
		json_t *s;

		if (!msg)
			break;
		if (json_is_true(json_object_get(msg, "done"))) {
			status = answer_status(msg);
			json_decref(msg);
			break;
		}
		s = json_object_get(msg, "session");
		if (json_is_object(s))
			json_array_append(list, s);
		json_decref(msg);
	}
	if (status == EXIT_OK) {
		if (as_json) {
			json_t *all = json_pack("{s:O}", "sessions", list);
			char *text = all ? json_dumps(all, JSON_INDENT(2)) : NULL;

			if (text)
				puts(text);
			free(text);
			json_decref(all);
		} else {
			print_table(list);
		}
	}
	json_decref(list);
	return status;
}

/* ---- kill -------------------------------------------------------------- */

static int cmd_kill(int fd, char **ids, int n_ids, const char *user, const char *server)
{
	json_t *req = json_pack("{s:i,s:s}", "v", CTL_PROTO_VERSION, "cmd", "kill");
	json_t *msg, *unknown, *v;
	int status;
	size_t i;

	if (!req)
		return EXIT_FAILURE_;
	if (user) {
		json_object_set_new(req, "user", json_string(user));
		if (server)
			json_object_set_new(req, "server", json_string(server));
	} else {
		json_t *list = json_array();

		for (int k = 0; k < n_ids; k++) {
			char *end;
			unsigned long long id;

			errno = 0;
			id = strtoull(ids[k], &end, 10);
			if (errno || end == ids[k] || *end || ids[k][0] == '-' || id == 0 ||
			    id > INT64_MAX) {
				fprintf(stderr, "smbgatectl: not a session id: '%s'\n", ids[k]);
				json_decref(list);
				json_decref(req);
				return EXIT_USAGE;
			}
			json_array_append_new(list, json_integer((json_int_t)id));
		}
		json_object_set_new(req, "ids", list);
	}
	status = send_req(fd, req);
	if (status != EXIT_OK)
		return status;
	msg = recv_msg(fd);
	if (!msg)
		return EXIT_FAILURE_;
	status = answer_status(msg);
	if (status == EXIT_OK) {
		json_int_t ended = json_integer_value(json_object_get(msg, "ended"));

		printf("ended %lld session%s\n", (long long)ended, ended == 1 ? "" : "s");
		unknown = json_object_get(msg, "unknown");
		json_array_foreach(unknown, i, v)
		{
			fprintf(stderr, "smbgatectl: no such session: %lld\n",
				(long long)json_integer_value(v));
			status = EXIT_USAGE;
		}
		if (user && ended == 0) {
			fprintf(stderr, "smbgatectl: no session of user '%s'\n", user);
			status = EXIT_USAGE;
		}
	}
	json_decref(msg);
	return status;
}

/* ---- exec -------------------------------------------------------------- */

/*
 * Sends an exec request: @argv (@argc strings) in @user's sandbox with
 * @stdio as its fds 0-2 (@tty: stdio[0] is a terminal for it). Returns
 * EXIT_OK, or an exit status after printing why.
 */
static int send_exec(int fd, const char *user, const char *server, char **argv, int argc,
		     const int stdio[3], bool tty)
{
	json_t *list = json_array();

	for (int i = 0; list && i < argc; i++)
		json_array_append_new(list, json_string(argv[i]));
	json_t *req = json_pack("{s:i,s:s,s:s,s:o}", "v", CTL_PROTO_VERSION, "cmd", "exec", "user",
				user, "argv", list);
	if (req && server)
		json_object_set_new(req, "server", json_string(server));
	if (req && tty)
		json_object_set_new(req, "tty", json_true());
	char *s = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!s || strlen(s) > CTL_MAX_MSG) {
		fprintf(stderr, "smbgatectl: the command line is too long\n");
		free(s);
		return EXIT_USAGE;
	}
	ssize_t n = fdpass_send(fd, s, strlen(s), stdio, 3);
	free(s);
	if (n < 0) {
		fprintf(stderr, "smbgatectl: cannot send the request: %s\n", strerror((int)-n));
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

/* Waits for an exec's final answer, however long: the command's status. */
static int final_status(int fd)
{
	struct timeval forever = {0};
	json_t *msg;
	int status;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof(forever));
	msg = recv_msg(fd);
	if (!msg)
		return EXIT_FAILURE_;
	status = answer_status(msg);
	if (status == EXIT_OK)
		status = (int)json_integer_value(json_object_get(msg, "exit"));
	else if (strcmp(json_string_value(json_object_get(json_object_get(msg, "error"), "code"))
			    ?: "",
			"no_session") == 0)
		status = EXIT_USAGE;
	json_decref(msg);
	return status;
}

/* Runs @argv in @user's sandbox with this process's stdio; its exit status. */
static int cmd_exec(int fd, const char *user, const char *server, char **argv, int argc)
{
	static const int stdio[3] = {0, 1, 2};
	int status = send_exec(fd, user, server, argv, argc, stdio, false);

	return status == EXIT_OK ? final_status(fd) : status;
}

/* ---- shell ------------------------------------------------------------- */

static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* Copies what @from has to @to; false at its end (or an error). */
static bool pass(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

/*
 * An interactive shell in @user's sandbox: a pseudo-terminal made here (its
 * other side becomes the shell's controlling terminal in the sandbox), this
 * terminal in raw mode, the bytes relayed both ways until the shell ends.
 */
static int cmd_shell(int fd, const char *user, const char *server)
{
	static const char *const shell[] = {
	    "sh", "-c", "command -v bash >/dev/null && exec bash -i; exec sh -i", NULL};
	struct termios saved, raw;
	struct winsize ws;
	int master, slave, status;

	if (!isatty(0) || tcgetattr(0, &saved) < 0) {
		fprintf(stderr, "smbgatectl: shell needs a terminal; use exec for a command\n");
		return EXIT_USAGE;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    (slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "smbgatectl: no pseudo-terminal: %s\n", strerror(errno));
		return EXIT_FAILURE_;
	}
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(master, TIOCSWINSZ, &ws);
	const int stdio[3] = {slave, slave, slave};
	status = send_exec(fd, user, server, (char **)shell, 3, stdio, true);
	close(slave);
	if (status != EXIT_OK) {
		close(master);
		return status;
	}
	signal(SIGWINCH, on_winch);
	raw = saved;
	cfmakeraw(&raw);
	(void)tcsetattr(0, TCSANOW, &raw);
	bool open_in = true, open_pty = true;
	for (;;) {
		struct pollfd p[3] = {{.fd = open_in ? 0 : -1, .events = POLLIN},
				      {.fd = open_pty ? master : -1, .events = POLLIN},
				      {.fd = fd, .events = POLLIN}};
		if (resized) {
			resized = 0;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0)
				(void)ioctl(master, TIOCSWINSZ, &ws);
		}
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			open_pty = pass(master, 1); /* EIO: the shell's side is closed */
		if (open_in && p[0].revents)
			open_in = pass(0, master);
		if (p[2].revents && !open_pty)
			break; /* the final answer, after the last output */
		if (p[2].revents && !(p[1].revents & POLLIN))
			break;
	}
	(void)tcsetattr(0, TCSANOW, &saved);
	close(master);
	return final_status(fd);
}

/* ---- main -------------------------------------------------------------- */

enum { OPT_JSON = 0x100, OPT_USER, OPT_SERVER };

/* The socket: -s, else the configuration's (-c, or the default file when it
 * exists), else the built-in default. NULL after printing why. */
static char *socket_path(const char *opt_socket, const char *opt_config, int *status)
{
	const char *file = opt_config ? opt_config : SMBGATE_DEFAULT_CONFIG;
	struct cfg *cfg = NULL;
	char err[512];
	char *path;
	int r;

	if (opt_socket)
		return strdup(opt_socket);
	r = cfg_load(file, &cfg, err, sizeof(err));
	if (r == -ENOENT && !opt_config)
		return strdup(CFG_DEFAULT_CONTROL_SOCKET);
	if (r == -EACCES && geteuid() != 0) {
		fputs(ROOT_MSG, stderr);
		*status = EXIT_FAILURE_;
		return NULL;
	}
	if (r < 0) {
		fprintf(stderr, "smbgatectl: %s\n", err);
		*status = EXIT_FAILURE_;
		return NULL;
	}
	path = strdup(cfg->control_socket);
	cfg_free(cfg);
	return path;
}

/* The gateway's control socket, connected; -1 with *@status after saying why. */
static int open_socket(const char *sock, const char *config, int *status)
{
	char *path = socket_path(sock, config, status);
	int fd;

	if (!path)
		return -1;
	fd = connect_to(path, status);
	free(path);
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"user", required_argument, NULL, OPT_USER},
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *sock = NULL, *user = NULL, *server = NULL, *cmd;
	bool as_json = false;
	int opt, fd, status = EXIT_FAILURE_;

	/* exec's command line follows "--": options are read before it only. */
	int dashes = 1;
	while (dashes < argc && strcmp(argv[dashes], "--") != 0)
		dashes++;
	while ((opt = getopt_long(dashes, argv, "c:s:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case OPT_JSON:
			as_json = true;
			break;
		case OPT_USER:
			user = optarg;
			break;
		case OPT_SERVER:
			server = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("smbgatectl %s\n", SMBGATE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	cmd = optind < argc ? argv[optind++] : NULL;
	if (cmd && strcmp(cmd, "shell") == 0) {
		/* shell USER [--server NAME] */
		const char *who = optind < argc ? argv[optind++] : NULL;
		if (!who || optind != argc || as_json || user || (config && sock)) {
			usage(stderr);
			return EXIT_USAGE;
		}
		fd = open_socket(sock, config, &status);
		if (fd < 0)
			return status;
		status = cmd_shell(fd, who, server);
		close(fd);
		return status;
	}
	if (cmd && strcmp(cmd, "exec") == 0) {
		/* exec USER [--server NAME] -- CMD [ARG]... */
		const char *who = optind < dashes ? argv[optind++] : NULL;
		if (!who || optind != dashes || dashes + 1 >= argc || as_json || user ||
		    (config && sock)) {
			usage(stderr);
			return EXIT_USAGE;
		}
		optind = dashes + 1;
		fd = open_socket(sock, config, &status);
		if (fd < 0)
			return status;
		status = cmd_exec(fd, who, server, argv + optind, argc - optind);
		close(fd);
		return status;
	}
	if (!cmd || (config && sock) ||
	    (strcmp(cmd, "sessions") == 0 && (optind < argc || user || server)) ||
	    (strcmp(cmd, "kill") == 0 &&
	     (as_json || (user ? optind < argc : optind == argc) || (server && !user))) ||
	    (strcmp(cmd, "sessions") != 0 && strcmp(cmd, "kill") != 0)) {
		if (cmd && strcmp(cmd, "sessions") != 0 && strcmp(cmd, "kill") != 0)
			fprintf(stderr, "smbgatectl: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}

	fd = open_socket(sock, config, &status);
	if (fd < 0)
		return status;
	if (strcmp(cmd, "sessions") == 0)
		status = cmd_sessions(fd, as_json);
	else
		status = cmd_kill(fd, argv + optind, argc - optind, user, server);
	close(fd);
	return status;
}
