/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/spawner/spawner.c - the spawner process (single-threaded, forked
 * by the gateway before any thread starts). Per sandbox: a host uid from the
 * range, the socketpairs, one clone3() into new namespaces, the id maps and
 * the cgroup written from outside, the handshake with the sandbox's PID 1;
 * spares kept started ahead; children reaped. See spawner.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enter.h"
#include "fdpass.h"
#include "jail.h"
#include "spawner.h"

#define SETUP_TIMEOUT_MS 10000
#define MAX_WORKER_ARGS	 16

struct child_slot {
	pid_t pid;
	uint32_t uid;
};

struct spawner_state {
	const struct cfg *cfg;
	int sock;
	char *worker_path; /* absolute */
	bool root;
	char *argv[MAX_WORKER_ARGS + 2];
	char *envp[8];
	struct child_slot *slots; /* root mode: one per uid in the range */
	size_t n_slots;
	size_t next_slot;
	char cgroup[512];    /* delegated cgroup v2 directory, or "" */
	struct ready *spare; /* cfg->prestart started, unclaimed sandboxes per server */
	size_t *n_spare;
};

/* A started sandbox, not yet handed to the gateway. */
struct ready {
	pid_t pid;
	int pidfd, ctl, lfd, chan, setup;
	uint32_t uid;
};

static void ready_close(struct ready *rd, bool kill_it)
{
	if (kill_it && rd->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, rd->pidfd, SIGKILL, NULL, 0);
	int *fds[] = {&rd->pidfd, &rd->ctl, &rd->lfd, &rd->chan, &rd->setup};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

int spawner_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *n_fds)
{
	struct fdpass_info info;
	ssize_t n = fdpass_recv(sock, buf, len, fds, max_fds, 0, &info);

	if (n < 0)
		return (int)n;
	if (n == 0 || (size_t)n != len || info.trunc || info.ctrunc || info.received > max_fds) {
		for (size_t i = 0; i < info.kept; i++)
			close(fds[i]);
		return n == 0 ? -ECONNRESET : -EBADMSG;
	}
	if (n_fds)
		*n_fds = info.kept;
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *content)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, content, strlen(content)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void sanitize_hostname(const char *user, char *out, size_t size)
{
	size_t j = 0;

	/* DOMAIN\user and user@realm: keep the user part. */
	const char *bs = strrchr(user, '\\');
	if (bs)
		user = bs + 1;
	for (size_t i = 0; user[i] && user[i] != '@' && j + 1 < size && j < 63; i++) {
		char c = user[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
			out[j++] = c;
		else if (c >= 'A' && c <= 'Z')
			out[j++] = (char)(c - 'A' + 'a');
		else if (c == '.' || c == '_' || c == ' ')
			out[j++] = '-';
	}
	while (j > 0 && out[j - 1] == '-')
		j--;
	if (j == 0)
		j = (size_t)snprintf(out, size, "sandbox");
	out[j] = '\0';
}

bool sbx_host_is_ip_literal(const char *host)
{
	return strspn(host, "0123456789.") == strlen(host) || strchr(host, ':');
}

static void cgroup_place(struct spawner_state *st, pid_t pid)
{
	char dir[700], val[64];

	if (!st->cgroup[0])
		return;
	snprintf(dir, sizeof(dir), "%s/sbx-%d", st->cgroup, (int)pid);
	if (mkdir(dir, 0755) < 0)
		return;
	snprintf(dir, sizeof(dir), "%s/sbx-%d/memory.max", st->cgroup, (int)pid);
	if (st->cfg->memory_limit)
		snprintf(val, sizeof(val), "%llu", (unsigned long long)st->cfg->memory_limit);
	else
		snprintf(val, sizeof(val), "max");
	int fd = open(dir, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, val, strlen(val));
		close(fd);
	}
	snprintf(dir, sizeof(dir), "%s/sbx-%d/pids.max", st->cgroup, (int)pid);
	snprintf(val, sizeof(val), "%u", st->cfg->max_processes);
	fd = open(dir, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, val, strlen(val));
		close(fd);
	}
	snprintf(dir, sizeof(dir), "%s/sbx-%d/cgroup.procs", st->cgroup, (int)pid);
	snprintf(val, sizeof(val), "%d", (int)pid);
	fd = open(dir, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, val, strlen(val));
		close(fd);
	}
}

/* The host pid behind @pidfd (its fdinfo's "Pid:" line), or -1. */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], line[128];
	pid_t pid = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Pid:", 4) == 0) {
			pid = (pid_t)strtol(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return pid;
}

static void cgroup_remove(struct spawner_state *st, pid_t pid)
{
	char dir[700];

	if (!st->cgroup[0])
		return;
	snprintf(dir, sizeof(dir), "%s/sbx-%d", st->cgroup, (int)pid);
	(void)rmdir(dir);
}

/* Finds a delegated cgroup v2 directory (ours, with memory and pids enabled
 * for children and writable); logs once what is not enforced otherwise. */
static void cgroup_detect(struct spawner_state *st, const char *given)
{
	char line[400], path[512], ctl[256] = "";
	FILE *f = given ? NULL : fopen("/proc/self/cgroup", "re");
	bool found = false;

	st->cgroup[0] = '\0';
	if (given && strlen(given) < sizeof(path)) {
		snprintf(path, sizeof(path), "%s", given);
		found = true;
	}
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "0::", 3) == 0) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(path, sizeof(path), "/sys/fs/cgroup%s", line + 3);
				found = true;
			}
		fclose(f);
	}
	if (found) {
		char file[700];
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", path);
		FILE *s = fopen(file, "re");
		if (s) {
			if (!fgets(ctl, sizeof(ctl), s))
				ctl[0] = '\0';
			fclose(s);
		}
		if (strstr(ctl, "memory") && strstr(ctl, "pids") && access(path, W_OK) == 0)
			snprintf(st->cgroup, sizeof(st->cgroup), "%s", path);
	}
	if (!st->cgroup[0])
		fprintf(
		    stderr,
		    "smbgate: no delegated cgroup v2 tree with the memory and pids controllers:"
		    " [sandbox] memory_limit is NOT enforced; max_processes is enforced per sandbox"
		    " uid by RLIMIT_NPROC only\n");
}

static struct child_slot *slot_alloc(struct spawner_state *st)
{
	for (size_t k = 0; k < st->n_slots; k++) {
		size_t i = (st->next_slot + k) % st->n_slots;
		if (st->slots[i].pid == 0) {
			st->next_slot = (i + 1) % st->n_slots;
			return &st->slots[i];
		}
	}
	return NULL;
}

static void reap(struct spawner_state *st)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		cgroup_remove(st, pid);
		for (size_t i = 0; i < st->n_slots; i++)
			if (st->slots[i].pid == pid)
				st->slots[i].pid = 0;
		/* A spare that died waiting (it should not): forget it. */
		for (size_t sv = 0; sv < st->cfg->n_servers; sv++) {
			struct ready *pool = &st->spare[sv * st->cfg->prestart];
			for (size_t i = 0; i < st->n_spare[sv]; i++)
				if (pool[i].pid == pid) {
					ready_close(&pool[i], false);
					pool[i] = pool[--st->n_spare[sv]];
					break;
				}
		}
	}
}

/* The host uid of a new sandbox: a free one of the range as root, else ours. */
static struct child_slot *slot_for(struct spawner_state *st, struct child_slot *unpriv)
{
	if (st->root)
		return slot_alloc(st);
	unpriv->uid = getuid();
	return unpriv;
}

/*
 * clone3() into new namespaces; the child becomes the sandbox's PID 1
 * (jail_child_main(), which waits for its id maps). Returns the child's pid
 * (*@pidfd set), or a negative errno.
 */
static pid_t clone_jail(struct spawner_state *st, const struct cfg_server *srv, int ctl[2],
			int setup[2], int *pidfd)
{
	struct jail_params params = {
	    .setup_fd = setup[1],
	    .ctl_fd = ctl[1],
	    .worker_path = st->worker_path,
	    .stderr_fd = 2,
	    .map_root = st->root,
	    .hostname = "sandbox",
	    .server_name = sbx_host_is_ip_literal(srv->host) ? NULL : srv->host,
	    .max_processes = st->cfg->max_processes,
	    .tmp_size = st->cfg->tmp_size,
	    .argv = st->argv,
	    .envp = st->envp,
	    .mount_name = st->cfg->mounts != CFG_MOUNTS_OFF ? srv->name : NULL,
	    .smb_handoff = st->cfg->smb_socket == CFG_SMB_SOCKET_HANDOFF,
	};
	struct clone_args ca = {
	    .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS |
		     CLONE_NEWIPC | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	int err = errno;

	if (pid == 0) {
		close(ctl[0]);
		close(setup[0]);
		close(st->sock);
		jail_child_main(&params);
	}
	return pid < 0 ? -err : pid;
}

/* Maps the sandbox's uid/gid to @uid (and the group, as root) from outside. */
static int write_id_maps(const struct spawner_state *st, pid_t pid, uid_t uid)
{
	char map[64];
	int r;

	snprintf(map, sizeof(map), "%d %u 1\n", JAIL_UID, (unsigned)uid);
	r = write_proc(pid, "uid_map", map);
	if (r == 0 && !st->root)
		r = write_proc(pid, "setgroups", "deny");
	snprintf(map, sizeof(map), "%d %u 1\n", JAIL_GID,
		 st->root ? (unsigned)uid : (unsigned)getgid());
	if (r == 0)
		r = write_proc(pid, "gid_map", map);
	return r;
}

/*
 * Lets the child go on with its set-up and waits for its answer: READY with
 * the pinhole listener (*@lfd) and the hand-off channel (*@chan), or FAIL with the step (logged).
 * Returns 0 or a negative errno (-ETIMEDOUT, -EPROTO).
 */
static int setup_handshake(int setup, pid_t pid, int *lfd, int *chan)
{
	int fds[2] = {-1, -1};
	struct jail_setup m = {.msg = JAIL_SETUP_GO};
	struct pollfd pfd = {.fd = setup, .events = POLLIN};
	size_t n_fds = 0;
	int r;

	if (send(setup, &m, sizeof(m), MSG_NOSIGNAL) < 0)
		return -errno;
	r = poll(&pfd, 1, SETUP_TIMEOUT_MS);
	if (r <= 0) {
		fprintf(stderr, "smbgate: sandbox %d: setup timed out\n", (int)pid);
		return r == 0 ? -ETIMEDOUT : -errno;
	}
	memset(&m, 0, sizeof(m));
	r = spawner_recv(setup, &m, sizeof(m), fds, 2, &n_fds);
	if (r == 0 && m.msg == JAIL_SETUP_READY && n_fds == 2) {
		*lfd = fds[0];
		*chan = fds[1];
		return 0;
	}
	if (r == 0 && m.msg == JAIL_SETUP_FAIL) {
		m.step[sizeof(m.step) - 1] = '\0';
		fprintf(stderr, "smbgate: sandbox %d: setup failed at %s: %s\n", (int)pid, m.step,
			strerror(m.err));
	} else {
		fprintf(stderr, "smbgate: sandbox %d: setup failed\n", (int)pid);
	}
	for (size_t i = 0; r == 0 && i < n_fds; i++)
		close(fds[i]);
	*lfd = *chan = -1;
	return -EPROTO;
}

/* Starts one sandbox for @server, up to its worker; it waits to be claimed. */
static int start_one(struct spawner_state *st, size_t server, struct ready *ret)
{
	struct child_slot *slot, unpriv_slot = {0};
	int ctl[2] = {-1, -1}, setup[2] = {-1, -1}, pidfd = -1, lfd = -1, chan = -1;
	pid_t pid = -1;
	int r;

	slot = slot_for(st, &unpriv_slot);
	if (!slot)
		return -EAGAIN;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, setup) < 0) {
		r = -errno;
		goto fail;
	}
	pid = clone_jail(st, &st->cfg->servers[server], ctl, setup, &pidfd);
	if (pid < 0) {
		r = pid;
		goto fail;
	}
	slot->pid = pid;
	close(ctl[1]);
	close(setup[1]);
	ctl[1] = setup[1] = -1;
	r = write_id_maps(st, pid, slot->uid);
	if (r < 0)
		goto fail;
	cgroup_place(st, pid);
	r = setup_handshake(setup[0], pid, &lfd, &chan);
	if (r < 0)
		goto fail;
	*ret = (struct ready){.pid = pid,
			      .pidfd = pidfd,
			      .ctl = ctl[0],
			      .lfd = lfd,
			      .chan = chan,
			      .setup = setup[0],
			      .uid = slot->uid};
	return 0;

fail:
	if (pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	} else if (pid > 0) {
		kill(pid, SIGKILL);
	}
	for (int i = 0; i < 2; i++) {
		if (ctl[i] >= 0)
			close(ctl[i]);
		if (setup[i] >= 0)
			close(setup[i]);
	}
	return r;
}

/* Gives a started sandbox to a session: its hostname, then the last
 * capabilities of its PID 1 go. On success @rd's fds are the gateway's. */
static int claim(struct ready *rd, const char *user)
{
	struct jail_setup m = {.msg = JAIL_SETUP_CLAIM};
	struct pollfd pfd = {.fd = rd->setup, .events = POLLIN};

	sanitize_hostname(user, m.step, sizeof(m.step));
	if (send(rd->setup, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
		return -EPIPE;
	if (poll(&pfd, 1, SETUP_TIMEOUT_MS) <= 0)
		return -ETIMEDOUT;
	memset(&m, 0, sizeof(m));
	if (recv(rd->setup, &m, sizeof(m), 0) != sizeof(m) || m.msg != JAIL_SETUP_CLAIMED)
		return -EPROTO;
	close(rd->setup);
	rd->setup = -1;
	return 0;
}

/* A sandbox for a session: a spare when there is one, else a new one. */
static int provide(struct spawner_state *st, const struct spawn_req *req, struct spawn_rep *rep,
		   int out[SPAWN_REP_FDS])
{
	size_t sv = req->server_index;
	struct ready rd;
	int r;

	if (sv >= st->cfg->n_servers)
		return -EINVAL;
	for (;;) {
		if (st->n_spare[sv] > 0) {
			rd = st->spare[sv * st->cfg->prestart + --st->n_spare[sv]];
		} else {
			r = start_one(st, sv, &rd);
			if (r < 0)
				return r;
		}
		r = claim(&rd, req->user);
		if (r == 0)
			break;
		ready_close(&rd, true);
		if (r != -EPIPE || st->n_spare[sv] == 0)
			return r; /* a spare that died meanwhile: take the next */
	}
	*rep = (struct spawn_rep){.pid = rd.pid, .uid = rd.uid};
	out[0] = rd.ctl;
	out[1] = rd.pidfd;
	out[2] = rd.lfd;
	out[3] = rd.chan;
	return 0;
}

/* Starts one spare for the first server short of them. Returns whether
 * more are missing. */
static bool refill(struct spawner_state *st)
{
	for (size_t sv = 0; sv < st->cfg->n_servers; sv++) {
		if (st->n_spare[sv] >= st->cfg->prestart)
			continue;
		struct ready rd;
		if (start_one(st, sv, &rd) < 0)
			return false; /* try again at the next request */
		st->spare[sv * st->cfg->prestart + st->n_spare[sv]++] = rd;
		return true;
	}
	return false;
}

/*
 * SPAWN_EXEC: a child joins the sandbox and runs the command (enter.c); this
 * process answers at once and goes on. Takes @fds.
 */
static void exec_in(struct spawner_state *st, struct spawn_req *req, int *fds, size_t n_fds)
{
	char *argv[SPAWN_EXEC_MAX_ARGC + 1];
	struct spawn_rep rep = {0};
	size_t at = 0;
	uint32_t argc = 0;

	req->args[sizeof(req->args) - 1] = '\0';
	while (argc < req->argc && argc < SPAWN_EXEC_MAX_ARGC && at < sizeof(req->args) - 1) {
		argv[argc++] = &req->args[at];
		at += strlen(&req->args[at]) + 1;
	}
	argv[argc] = NULL;
	if (req->kind != SPAWN_EXEC || n_fds != SPAWN_EXEC_FDS || argc == 0 || argc != req->argc ||
	    !*argv[0]) {
		rep.err = EINVAL;
	} else {
		/* With a delegated tree, the command joins the sandbox's cgroup
		 * (cgroup_place()): its memory and process limits. */
		char procs[700] = "";
		pid_t sandbox = st->cgroup[0] ? pidfd_pid(fds[0]) : 0;
		if (sandbox > 0)
			snprintf(procs, sizeof(procs), "%s/sbx-%d/cgroup.procs", st->cgroup,
				 (int)sandbox);
		pid_t pid = sandbox < 0 ? (errno = ESRCH, -1) : fork();
		if (pid == 0) {
			close(st->sock);
			enter_run(st->cfg, fds[0], procs[0] ? procs : NULL, &fds[1], fds[4], argv,
				  (req->flags & SPAWN_EXEC_TTY) != 0);
		}
		rep.err = pid < 0 ? errno : 0;
		rep.pid = pid;
		if (pid > 0)
			fprintf(stderr, "smbgate: exec in the sandbox %s: %s (%u arguments)\n",
				req->user, argv[0], (unsigned)argc - 1);
	}
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	(void)fdpass_send(st->sock, &rep, sizeof(rep), NULL, 0);
}

_Noreturn static void spawner_main(struct spawner_state *st, pid_t gateway)
{
	sigset_t mask;
	int sfd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != gateway)
		_exit(1);
	(void)prctl(PR_SET_NAME, "smbgate-spawner", 0, 0, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);

	bool short_of_spares = st->cfg->prestart > 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = st->sock, .events = POLLIN},
				      {.fd = sfd, .events = POLLIN}};
		/* Idle: start the spares that are missing, one at a time. */
		int ready = poll(p, 2, short_of_spares ? 0 : -1);
		if (ready == 0) {
			short_of_spares = refill(st);
			continue;
		}
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			reap(st);
		}
		if (p[0].revents) {
			static struct spawn_req req;
			int xfds[SPAWN_EXEC_FDS];
			size_t n_xfds = 0;
			int got = spawner_recv(st->sock, &req, sizeof(req), xfds, SPAWN_EXEC_FDS,
					       &n_xfds);
			if (got == -ECONNRESET)
				_exit(0); /* gateway gone: our sandboxes die with us */
			if (got < 0)
				continue;
			req.user[sizeof(req.user) - 1] = '\0';
			if (req.kind == SPAWN_EXEC || n_xfds > 0) {
				exec_in(st, &req, xfds, n_xfds);
				continue;
			}
			struct spawn_rep rep = {0};
			int fds[SPAWN_REP_FDS];
			reap(st);
			int r = provide(st, &req, &rep, fds);
			short_of_spares = st->cfg->prestart > 0;
			if (r < 0) {
				rep.err = -r;
				(void)fdpass_send(st->sock, &rep, sizeof(rep), NULL, 0);
				continue;
			}
			(void)fdpass_send(st->sock, &rep, sizeof(rep), fds, SPAWN_REP_FDS);
			for (int i = 0; i < SPAWN_REP_FDS; i++)
				close(fds[i]);
		}
	}
}

int spawner_fork(const struct cfg *cfg, const struct sbx_spawner_options *opts, pid_t *ret_pid,
		 int *ret_sock)
{
	struct spawner_state st = {.cfg = cfg, .root = geteuid() == 0};
	int sv[2], r;
	size_t a = 0;

	/* The worker must be there and runnable before any sandbox is made. */
	if (access(opts->worker_path, X_OK) < 0)
		return -errno;
	st.worker_path = realpath(opts->worker_path, NULL);
	if (!st.worker_path)
		return -errno;
	st.argv[a++] = (char *)"smbgate-worker";
	for (size_t i = 0; opts->worker_args && opts->worker_args[i] && a < MAX_WORKER_ARGS; i++)
		st.argv[a++] = (char *)opts->worker_args[i];
	/* The worker starts its FUSE server at login unless told to wait for MOUNT. */
	if (cfg->mounts == CFG_MOUNTS_ON_DEMAND)
		st.argv[a++] = (char *)"--mount-on-demand";
	st.argv[a] = NULL;
	a = 0;
	st.envp[a++] = (char *)"HOME=" JAIL_HOME;
	st.envp[a++] = (char *)"PATH=/usr/bin";
	st.envp[a++] = (char *)"LANG=C.UTF-8";
	st.envp[a++] = (char *)"USER=" JAIL_USER;
	/* Sanitizer builds: LeakSanitizer needs ptrace, which seccomp forbids. */
	st.envp[a++] = (char *)"ASAN_OPTIONS=detect_leaks=0";
	st.envp[a] = NULL;
	if (st.root) {
		st.n_slots = (size_t)(cfg->uid_max - cfg->uid_min) + 1;
		st.slots = calloc(st.n_slots, sizeof(*st.slots));
		if (!st.slots) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < st.n_slots; i++)
			st.slots[i].uid = cfg->uid_min + (uint32_t)i;
	}
	cgroup_detect(&st, opts->cgroup);
	/* Each sandbox opens /dev/fuse itself, with the spawner's host uid. */
	if (cfg->mounts != CFG_MOUNTS_OFF && access("/dev/fuse", R_OK | W_OK) < 0)
		fprintf(stderr,
			"smbgate: [sandbox] mounts = %s, but /dev/fuse cannot be opened (%s): "
			"sandboxes run without their mounts\n",
			cfg->mounts == CFG_MOUNTS_LOGIN ? "login" : "on-demand", strerror(errno));
	st.spare = calloc(cfg->n_servers * (cfg->prestart ? cfg->prestart : 1), sizeof(*st.spare));
	st.n_spare = calloc(cfg->n_servers, sizeof(*st.n_spare));
	if (!st.spare || !st.n_spare) {
		r = -ENOMEM;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		goto out;
	}
	pid_t gateway = getpid();
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		st.sock = sv[1];
		spawner_main(&st, gateway);
	}
	close(sv[1]);
	*ret_pid = pid;
	*ret_sock = sv[0];
	r = 0;
out:
	free(st.worker_path);
	free(st.slots);
	free(st.spare);
	free(st.n_spare);
	return r;
}
