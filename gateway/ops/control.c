/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ops/control.c - the control socket (see control.h, ctlproto.h).
 *
 * One thread, one poll() over an eventfd (stop), the listener and at most
 * CTL_MAX_CONNS connections. A request is read whole (one SOCK_SEQPACKET
 * message), answered at once by this thread, and the connection then waits
 * for the next one; a connection idle for CTL_TIMEOUT_MS, or whose client
 * does not read an answer within that time, is closed.
 *
 * Runs in: the gateway process (the control thread).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/canonuser.h"
#include "auth/sbxsession.h"
#include "auth/session.h"
#include "cfg.h"
#include "client.h"
#include "ctl/ctlproto.h"
#include "fdpass.h"
#include "ops/control.h"
#include "proto.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct conn {
	int fd; /* -1: free slot */
	int64_t deadline_ms;
	bool refused;  /* told it may not: its request is read and dropped, then closed */
	int status_fd; /* an exec under way: its exit status comes here; else -1 */
};

struct gw_control {
	struct gw *gw; /* not owned */
	int lfd;
	int wake; /* eventfd: stop */
	pthread_t thread;
	dev_t dev; /* the socket file made here */
	ino_t ino;
	char path[SUN_PATH_MAX];
	struct conn conns[CTL_MAX_CONNS];
	char buf[CTL_MAX_MSG + 1];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends @msg (consumed) as one message. Returns 0 or a negative errno. */
static int send_json(int fd, json_t *msg)
{
	char *s;
	size_t len;
	ssize_t n;

	if (!msg)
		return -ENOMEM;
	s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(msg);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	if (len > CTL_MAX_MSG) {
		free(s);
		return -EMSGSIZE;
	}
	do
		n = send(fd, s, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	free(s);
	return n < 0 ? -errno : 0;
}

/* The final answer of a failed request. */
__attribute__((format(printf, 3, 4))) static int send_error(int fd, const char *code,
							    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_json(
	    fd, json_pack("{s:b,s:{s:s,s:s}}", "done", 1, "error", "code", code, "message", msg));
}

/* ---- sessions -------------------------------------------------------- */

struct row {
	struct gw_session_info info; /* .user and .sbx not used past the walk */
	char *user;
	pid_t pid;
};

struct rows {
	struct row *v;
	size_t n, cap;
	bool oom;
	/* for kill --user: only rows of this user (and server, unless SIZE_MAX) */
	const char *user;
	size_t server;
};

/* gw_sessions_list()'s callback: copies one session (the table's lock held). */
static void collect(void *ud, const struct gw_session_info *info)
{
	struct rows *rs = ud;
	const struct gw_sbx *g = info->sbx;
	struct row *row;

	if (rs->oom || (rs->user && (strcmp(rs->user, info->user) != 0 ||
				     (rs->server != SIZE_MAX && rs->server != info->server))))
		return;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct row *v = realloc(rs->v, cap * sizeof(*v));

		if (!v) {
			rs->oom = true;
			return;
		}
		rs->v = v;
		rs->cap = cap;
	}
	row = &rs->v[rs->n];
	row->info = *info;
	row->info.user = NULL;
	row->info.sbx = NULL;
	row->user = strdup(info->user);
	row->pid = g && g->c ? sbxc_sbx(g->c)->pid : 0;
	if (!row->user) {
		rs->oom = true;
		return;
	}
	rs->n++;
}

static void rows_free(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].user);
	free(rs->v);
}

/* Whether a child of host pid @pid has the name @comm (its /proc children). */
static bool child_named(pid_t pid, const char *comm, pid_t *ret_child)
{
	char path[96], name[32];
	bool found = false;
	long kid;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fscanf(f, "%ld", &kid) == 1) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", kid);
		FILE *c = fopen(path, "re");
		if (!c)
			continue;
		if (fgets(name, sizeof(name), c)) {
			name[strcspn(name, "\n")] = '\0';
			found = !comm || strcmp(name, comm) == 0;
			if (found && ret_child)
				*ret_child = (pid_t)kid;
		}
		fclose(c);
	}
	fclose(f);
	return found;
}

/*
 * "off" when the configuration mounts nothing; "yes" when the sandbox's
 * mount namespace (seen through its PID 1 @pid) holds the FUSE mount and its
 * server (a child of the worker, PID 1's child) runs; "no" otherwise: with
 * on-demand mounts before the session's first exec, or when the server is
 * gone (the mount then answers ENOTCONN).
 */
static const char *mounted(const struct gw *gw, pid_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool yes = false;
	pid_t worker = 0;
	FILE *f;

	if (gw->cfg->mounts == CFG_MOUNTS_OFF)
		return "off";
	if (pid <= 0)
		return "no";
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return "no";
	while (!yes && getline(&line, &cap, f) > 0)
		yes = strstr(line, " - fuse.smbgate ") != NULL;
	free(line);
	fclose(f);
	yes = yes && child_named(pid, NULL, &worker) && child_named(worker, "smbgate-fuse", NULL);
	return yes ? "yes" : "no";
}

static json_t *session_json(const struct gw *gw, const struct row *row)
{
	const struct gw_session_info *in = &row->info;
	time_t since = time(NULL) - (time_t)(in->age_ms / 1000);
	char when[32];
	struct tm tm;

	gmtime_r(&since, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:I,s:I,s:i,s:s}}", "session", "id",
			 (json_int_t)in->id, "user", row->user, "server",
			 gw->cfg->servers[in->server].name, "address", in->addr, "since", when,
			 "age_s", (json_int_t)(in->age_ms / 1000), "idle_s",
			 (json_int_t)(in->idle_ms / 1000), "pid", (int)row->pid, "bytes_in",
			 (json_int_t)in->bytes_in, "bytes_out", (json_int_t)in->bytes_out,
			 "in_flight", (int)in->in_flight, "mounted", mounted(gw, row->pid));
}

static int cmd_sessions(struct gw_control *ctl, int fd)
{
	struct rows rs = {.server = SIZE_MAX};
	int r = 0;

	gw_sessions_list(ctl->gw->sessions, collect, &rs);
	if (rs.oom) {
		rows_free(&rs);
		return send_error(fd, "out_of_memory", "the gateway is out of memory");
	}
	for (size_t i = 0; i < rs.n && r == 0; i++)
		r = send_json(fd, session_json(ctl->gw, &rs.v[i]));
	if (r == 0)
		r = send_json(fd, json_pack("{s:b,s:I}", "done", 1, "count", (json_int_t)rs.n));
	rows_free(&rs);
	return r;
}

/* ---- kill -------------------------------------------------------------- */

/*
 * Ends the session @id as logout does (its token dies, the table lets go)
 * and kills its sandbox now, so that a request still holding it fails at
 * once instead of finishing. Returns whether this call ended it.
 */
static bool end_session(struct gw *gw, uint64_t id)
{
	struct gw_session *s = gw_sessions_by_id(gw->sessions, id);
	struct gw_sbx *g;
	bool ended;

	if (!s)
		return false;
	ended = gw_sessions_end_why(gw->sessions, s, "killed");
	g = gw_session_sbx(s);
	if (ended && g && g->c)
		sbx_kill(sbxc_sbx(g->c));
	gw_session_put(s); /* the last reference frees the sandbox */
	return ended;
}

static int cmd_kill(struct gw_control *ctl, int fd, json_t *req)
{
	json_t *ids = json_object_get(req, "ids");
	json_t *user = json_object_get(req, "user");
	json_t *server = json_object_get(req, "server");
	json_t *unknown = json_array();
	size_t i;
	unsigned ended = 0;
	json_t *v;

	if (!unknown)
		return send_error(fd, "out_of_memory", "the gateway is out of memory");
	if (ids && !user && !server) {
		if (!json_is_array(ids) || json_array_size(ids) == 0 ||
		    json_array_size(ids) > CTL_MAX_IDS) {
			json_decref(unknown);
			return send_error(fd, "bad_request", "\"ids\": 1 to %d session ids",
					  CTL_MAX_IDS);
		}
		json_array_foreach(ids, i, v)
		{
			if (!json_is_integer(v) || json_integer_value(v) < 1) {
				json_decref(unknown);
				return send_error(fd, "bad_request",
						  "\"ids\": session ids are positive integers");
			}
		}
		json_array_foreach(ids, i, v)
		{
			if (end_session(ctl->gw, (uint64_t)json_integer_value(v)))
				ended++;
			else
				json_array_append(unknown, v);
		}
	} else if (json_is_string(user) && !ids && (!server || json_is_string(server))) {
		/* the user as the gateway keeps it, whatever the spelling typed */
		char name[GW_CANON_USER_MAX + 1];
		struct rows rs = {.user = name, .server = SIZE_MAX};

		if (strlen(json_string_value(user)) > GW_SESSION_MAX_USER ||
		    gw_canon_user(json_string_value(user), name) < 0) {
			json_decref(unknown);
			return send_error(fd, "bad_request", "\"user\": 1 to %d bytes",
					  GW_SESSION_MAX_USER);
		}

		if (server) {
			const struct cfg_server *s =
			    cfg_server_find(ctl->gw->cfg, json_string_value(server));

			if (!s) {
				json_decref(unknown);
				return send_error(fd, "no_such_server",
						  "no server of that name is configured");
			}
			rs.server = (size_t)(s - ctl->gw->cfg->servers);
		}
		if (strlen(name) == 0 || strlen(name) > GW_SESSION_MAX_USER) {
			json_decref(unknown);
			return send_error(fd, "bad_request", "\"user\": 1 to %d bytes",
					  GW_SESSION_MAX_USER);
		}
		gw_sessions_list(ctl->gw->sessions, collect, &rs);
		for (size_t k = 0; k < rs.n; k++)
			if (end_session(ctl->gw, rs.v[k].info.id))
				ended++;
		if (rs.oom) {
			rows_free(&rs);
			json_decref(unknown);
			return send_error(fd, "out_of_memory", "the gateway is out of memory");
		}
		rows_free(&rs);
	} else {
		json_decref(unknown);
		return send_error(fd, "bad_request",
				  "kill takes \"ids\", or \"user\" and maybe \"server\"");
	}
	return send_json(
	    fd, json_pack("{s:b,s:i,s:o}", "done", 1, "ended", (int)ended, "unknown", unknown));
}

/* ---- exec ---------------------------------------------------------------- */

/* One line for the log: @argv with control characters and '"' escaped, cut
 * short when long. */
static void argv_text(json_t *argv, char *out, size_t size)
{
	size_t j = 0, i;
	json_t *a;

	json_array_foreach(argv, i, a)
	{
		const char *s = json_string_value(a);
		if (j + 4 >= size)
			break;
		out[j++] = i ? ' ' : '"';
		for (; *s && j + 5 < size; s++) {
			unsigned char ch = (unsigned char)*s;
			if (ch < 0x20 || ch == 0x7f || ch == '"')
				j += (size_t)snprintf(out + j, size - j, "%%%02X", ch);
			else
				out[j++] = (char)ch;
		}
	}
	if (j + 1 < size)
		out[j++] = '"';
	out[j] = '\0';
}

/*
 * {"cmd":"exec","user":U[,"server":S],"argv":[...]} with the caller's stdin,
 * stdout and stderr: runs the command in U's live sandbox (the most recently
 * used session of U, on S or on the first server where U has one). The final
 * answer, {"done":true,"exit":N}, comes when it ends (serve_exec()). Takes
 * @fds.
 */
static int cmd_exec(struct gw_control *ctl, struct conn *c, json_t *req, int *fds, size_t n_fds)
{
	struct gw *gw = ctl->gw;
	const char *user = json_string_value(json_object_get(req, "user"));
	json_t *jserver = json_object_get(req, "server"), *jargv = json_object_get(req, "argv"), *a;
	const char *argv[SBX_EXEC_MAX_ARGC + 1];
	struct gw_session *s = NULL;
	size_t i, server = SIZE_MAX;
	struct ucred uc = {0};
	socklen_t ul = sizeof(uc);
	int r;

	if (n_fds != 3 || !user || !*user || (jserver && !json_is_string(jserver)) ||
	    !json_is_array(jargv) || json_array_size(jargv) == 0 ||
	    json_array_size(jargv) > SBX_EXEC_MAX_ARGC) {
		r = send_error(c->fd, "bad_request",
			       "exec takes \"user\", maybe \"server\", \"argv\" (1 to %d strings) "
			       "and 3 file descriptors",
			       SBX_EXEC_MAX_ARGC);
		goto out;
	}
	json_array_foreach(jargv, i, a)
	{
		if (!json_is_string(a) || !gw_json_text(a)) {
			r = send_error(c->fd, "bad_request", "argv holds strings without NUL");
			goto out;
		}
		argv[i] = json_string_value(a);
	}
	argv[json_array_size(jargv)] = NULL;
	if (jserver) {
		const struct cfg_server *srv = cfg_server_find(gw->cfg, json_string_value(jserver));
		if (!srv) {
			r = send_error(c->fd, "no_such_server", "no such server");
			goto out;
		}
		server = (size_t)(srv - gw->cfg->servers);
	}
	char canon[GW_CANON_USER_MAX + 1];
	if (gw_canon_user(user, canon) < 0)
		canon[0] = '\0';
	for (size_t sv = 0; !s && *canon && sv < gw->cfg->n_servers; sv++)
		if (server == SIZE_MAX || server == sv)
			s = gw_sessions_find_user(gw->sessions, canon, sv);
	if (!s) {
		r = send_error(c->fd, "no_session", "%s has no live session%s%s", user,
			       jserver ? " on " : "", jserver ? json_string_value(jserver) : "");
		goto out;
	}
	struct gw_sbx *g = gw_session_sbx(s);
	char text[256];
	argv_text(jargv, text, sizeof(text));
	(void)getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
	/* Who ran what as whom. */
	fprintf(stderr, "smbgate: exec by uid %u (pid %d) as %s on %s (session %llu): %s\n",
		(unsigned)uc.uid, (int)uc.pid, user, gw->cfg->servers[gw_session_server(s)].name,
		(unsigned long long)gw_session_id(s), text);
	/* On-demand mounts start with the session's first exec. */
	if (gw->cfg->mounts == CFG_MOUNTS_ON_DEMAND) {
		int m = sbxc_mount(g->c);
		if (m != 0 && m != PROTO_E_NOT_FOUND)
			fprintf(stderr,
				"smbgate: the mounts of session %llu could not start (%d)\n",
				(unsigned long long)gw_session_id(s), m);
	}
	r = sbx_exec(gw->spawner, sbxc_sbx(g->c), user, argv, fds,
		     json_is_true(json_object_get(req, "tty")), &c->status_fd);
	gw_session_put(s);
	if (r < 0)
		r = send_error(c->fd, "exec_failed", "the command could not be started: %s",
			       strerror(-r));
out:
	for (i = 0; i < n_fds; i++)
		close(fds[i]); /* the command has its own copies */
	return r;
}

/* The exec of @c ended: its status is the final answer. */
static int serve_exec(struct conn *c)
{
	int32_t code = -1;
	ssize_t n = read(c->status_fd, &code, sizeof(code));

	close(c->status_fd);
	c->status_fd = -1;
	if (n != sizeof(code))
		return send_error(c->fd, "exec_failed", "the command's sandbox went away");
	return send_json(c->fd, json_pack("{s:b,s:i}", "done", 1, "exit", (int)code));
}

/* ---- requests and connections ---------------------------------------- */

/* Whether every key of @req is one of @keys (NULL-terminated). */
static bool only_keys(json_t *req, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(req, k, v)
	{
		bool ok = false;

		for (size_t i = 0; keys[i] && !ok; i++)
			ok = strcmp(k, keys[i]) == 0;
		if (!ok)
			return false;
	}
	return true;
}

/* Answers one request of @len bytes in ctl->buf that came with @n_fds fds
 * (@fds; taken). Returns 0 to keep the connection, < 0 to close it. */
static int handle(struct gw_control *ctl, struct conn *c, size_t len, int *fds, size_t n_fds,
		  bool trunc)
{
	static const char *const exec_keys[] = {"v", "cmd", "user", "server", "argv", "tty", NULL};
	static const char *const sessions_keys[] = {"v", "cmd", NULL};
	int fd = c->fd;
	static const char *const kill_keys[] = {"v", "cmd", "ids", "user", "server", NULL};
	json_error_t jerr;
	json_t *req, *v;
	const char *cmd;
	int r;

	if (trunc) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		(void)send_error(fd, "bad_request", "a request is at most %d bytes", CTL_MAX_MSG);
		return -EMSGSIZE;
	}
	req = json_loadb(ctl->buf, len, JSON_REJECT_DUPLICATES, &jerr);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (json_is_object(req) && cmd && strcmp(cmd, "exec") == 0 && only_keys(req, exec_keys) &&
	    json_integer_value(json_object_get(req, "v")) == CTL_PROTO_VERSION) {
		r = cmd_exec(ctl, c, req, fds, n_fds);
		json_decref(req);
		return r;
	}
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]); /* no other command takes fds */
	if (!json_is_object(req)) {
		json_decref(req);
		return send_error(fd, "bad_request", "a request is one JSON object");
	}
	v = json_object_get(req, "v");
	if (!json_is_integer(v) || json_integer_value(v) != CTL_PROTO_VERSION)
		r = send_error(fd, "bad_request", "unsupported protocol version (this gateway: %d)",
			       CTL_PROTO_VERSION);
	else if (n_fds > 0)
		r = send_error(fd, "unexpected_fds", "this command takes no file descriptors");
	else if (cmd && strcmp(cmd, "sessions") == 0 && only_keys(req, sessions_keys))
		r = cmd_sessions(ctl, fd);
	else if (cmd && strcmp(cmd, "kill") == 0 && only_keys(req, kill_keys))
		r = cmd_kill(ctl, fd, req);
	else
		r = send_error(fd, "bad_request", "unknown command or argument");
	json_decref(req);
	return r;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->status_fd >= 0)
		close(c->status_fd); /* the command goes on; nobody waits for it */
	c->fd = c->status_fd = -1;
}

/* Whether the peer of @fd may use the socket: root, or this gateway's uid. */
static bool peer_allowed(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc))
		return false;
	return uc.uid == 0 || uc.uid == geteuid();
}

static void accept_one(struct gw_control *ctl)
{
	struct timeval tv = {.tv_sec = CTL_TIMEOUT_MS / 1000};
	struct conn *slot = NULL;
	bool allowed;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* An answer the client does not read in time closes the connection. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (size_t i = 0; i < CTL_MAX_CONNS && !slot; i++)
		if (ctl->conns[i].fd < 0)
			slot = &ctl->conns[i];
	allowed = peer_allowed(fd);
	if (!allowed) {
		(void)send_error(fd, "permission_denied",
				 "smbgatectl must be run as root (the control socket is root's)");
		/* Closing with its request unread would reset the connection and
		 * lose the answer: the slot waits for that request, if one is free. */
		if (!slot) {
			close(fd);
			return;
		}
	} else if (!slot) {
		(void)send_error(fd, "busy", "%d control connections are open already; try again",
				 CTL_MAX_CONNS);
		close(fd);
		return;
	}
	slot->fd = fd;
	slot->status_fd = -1;
	slot->deadline_ms = now_ms() + CTL_TIMEOUT_MS;
	slot->refused = !allowed;
}

static void serve(struct gw_control *ctl, struct conn *c)
{
	int fds[FDPASS_MAX];
	struct fdpass_info info;
	ssize_t n = fdpass_recv(c->fd, ctl->buf, CTL_MAX_MSG, fds, FDPASS_MAX, MSG_DONTWAIT, &info);

	if (n == -EAGAIN)
		return;
	if (n <= 0 || c->refused || c->status_fd >= 0 || info.received != info.kept) {
		/* Closed, refused, a request while an exec runs, or fds past
		 * FDPASS_MAX: nothing is kept. */
		for (size_t i = 0; n > 0 && i < info.kept; i++)
			close(fds[i]);
		conn_close(c);
		return;
	}
	if (handle(ctl, c, (size_t)n, fds, info.kept, info.trunc) < 0) {
		conn_close(c);
		return;
	}
	/* An exec under way has no time limit: it ends with its command. */
	c->deadline_ms = c->status_fd >= 0 ? INT64_MAX : now_ms() + CTL_TIMEOUT_MS;
}

static void *control_thread(void *arg)
{
	struct gw_control *ctl = arg;

	for (;;) {
		struct pollfd p[2 + 2 * CTL_MAX_CONNS];
		struct conn *which[2 + 2 * CTL_MAX_CONNS];
		bool status[2 + 2 * CTL_MAX_CONNS];
		int64_t now = now_ms(), next = now + CTL_TIMEOUT_MS;
		nfds_t n = 2;

		p[0] = (struct pollfd){.fd = ctl->wake, .events = POLLIN};
		p[1] = (struct pollfd){.fd = ctl->lfd, .events = POLLIN};
		for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
			struct conn *c = &ctl->conns[i];

			if (c->fd < 0)
				continue;
			if (c->deadline_ms <= now) {
				conn_close(c);
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			which[n] = c;
			status[n] = false;
			p[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
			if (c->status_fd >= 0) {
				which[n] = c;
				status[n] = true;
				p[n++] = (struct pollfd){.fd = c->status_fd, .events = POLLIN};
			}
		}
		if (poll(p, n, (int)(next - now)) < 0)
			continue;
		if (p[0].revents)
			break;
		for (nfds_t i = 2; i < n; i++) {
			struct conn *c = which[i];
			if (c->fd < 0)
				continue; /* closed a moment ago */
			if (status[i] && p[i].revents) {
				if (c->status_fd >= 0 && serve_exec(c) < 0)
					conn_close(c);
				else
					c->deadline_ms = now_ms() + CTL_TIMEOUT_MS;
			} else if (!status[i] && (p[i].revents & POLLIN)) {
				serve(ctl, c);
			} else if (!status[i] && p[i].revents) {
				conn_close(c);
			}
		}
		if (p[1].revents & POLLIN)
			accept_one(ctl);
	}
	return NULL;
}

/* ---- start and stop -------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(int r, char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* Makes @path's folder (mode 0700) when it is missing; its parent must exist. */
static int make_folder(const char *path, char *err, size_t errlen)
{
	char dir[SUN_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(-errno, err, errlen, "%s: cannot create the folder: %s", dir,
			    strerror(errno));
	return 0;
}

/* Removes a socket file at @sa nobody answers on. */
static int remove_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int probe, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT
			   ? 0
			   : fail(-errno, err, errlen, "%s: %s", sa->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail(-EEXIST, err, errlen, "%s exists and is not a socket", sa->sun_path);
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return fail(-errno, err, errlen, "socket: %s", strerror(errno));
	r = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	close(probe);
	if (r == 0)
		return fail(-EADDRINUSE, err, errlen, "another smbgate answers on %s",
			    sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return fail(-errno, err, errlen, "%s: cannot remove the stale socket: %s",
			    sa->sun_path, strerror(errno));
	return 0;
}

int gw_control_start(struct gw *gw, struct gw_control **ret, char *err, size_t errlen)
{
	const char *path = gw->cfg->control_socket;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct gw_control *ctl;
	struct stat st;
	int r;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return fail(-ENAMETOOLONG, err, errlen, "the control socket's path is too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = make_folder(path, err, errlen);
	if (r == 0)
		r = remove_stale(&sa, err, errlen);
	if (r < 0)
		return r;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return fail(-ENOMEM, err, errlen, "out of memory");
	ctl->gw = gw;
	ctl->wake = -1;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		ctl->conns[i].fd = ctl->conns[i].status_fd = -1;
	memcpy(ctl->path, sa.sun_path, sizeof(ctl->path));
	ctl->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0) {
		r = fail(-errno, err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	/* The socket file takes this mode (less the umask) at bind(): never
	 * wider than 0600, not even for a moment. */
	(void)fchmod(ctl->lfd, 0600);
	if (bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = fail(-errno, err, errlen, "%s: bind: %s", path, strerror(errno));
		goto fail;
	}
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0) {
		r = fail(-errno, err, errlen, "%s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (listen(ctl->lfd, 2 * CTL_MAX_CONNS) < 0) {
		r = fail(-errno, err, errlen, "%s: listen: %s", path, strerror(errno));
		goto fail_unlink;
	}
	ctl->wake = eventfd(0, EFD_CLOEXEC);
	if (ctl->wake < 0) {
		r = fail(-errno, err, errlen, "eventfd: %s", strerror(errno));
		goto fail_unlink;
	}
	r = -pthread_create(&ctl->thread, NULL, control_thread, ctl);
	if (r < 0) {
		fail(r, err, errlen, "cannot start the control thread: %s", strerror(-r));
		goto fail_unlink;
	}
	*ret = ctl;
	return 0;
fail_unlink:
	unlink(path);
fail:
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	if (ctl->wake >= 0)
		close(ctl->wake);
	free(ctl);
	return r;
}

void gw_control_stop(struct gw_control *ctl)
{
	struct stat st;

	if (!ctl)
		return;
	(void)eventfd_write(ctl->wake, 1);
	pthread_join(ctl->thread, NULL);
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(&ctl->conns[i]);
	close(ctl->lfd);
	close(ctl->wake);
	/* Another gateway may have taken the path over since: leave its socket. */
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}
