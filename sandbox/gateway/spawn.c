/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/gateway/spawn.c - the gateway's handle on the spawner (gateway
 * process, HTTP threads; one request at a time under a lock). See spawn.h.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "fdpass.h"
#include "spawner.h"

struct sbx_spawner {
	pid_t pid;
	int sock; /* gateway end */
	const struct cfg *cfg;
	pthread_mutex_t lock;
};

int sbx_spawner_start(const struct cfg *cfg, const struct sbx_spawner_options *opts,
		      struct sbx_spawner **ret)
{
	struct sbx_spawner *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = spawner_fork(cfg, opts, &s->pid, &s->sock);
	if (r < 0) {
		free(s);
		return r;
	}
	s->cfg = cfg;
	pthread_mutex_init(&s->lock, NULL);
	*ret = s;
	return 0;
}

void sbx_spawner_free(struct sbx_spawner *s)
{
	if (!s)
		return;
	close(s->sock);
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

pid_t sbx_spawner_pid(const struct sbx_spawner *s)
{
	return s->pid;
}

int sbx_spawn(struct sbx_spawner *s, size_t server_index, const char *user, struct sbx **ret)
{
	static __thread struct spawn_req req;

	req = (struct spawn_req){.kind = SPAWN_SANDBOX, .server_index = (uint32_t)server_index};
	struct spawn_rep rep;
	int fds[SPAWN_REP_FDS];
	size_t n_fds = 0;
	struct sbx *b;
	int r;

	if (server_index >= s->cfg->n_servers)
		return -EINVAL;
	snprintf(req.user, sizeof(req.user), "%s", user ? user : "");
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	if (send(s->sock, &req, sizeof(req), MSG_NOSIGNAL) < 0)
		r = -errno;
	else
		r = spawner_recv(s->sock, &rep, sizeof(rep), fds, SPAWN_REP_FDS, &n_fds);
	pthread_mutex_unlock(&s->lock);
	if (r == 0 && rep.err != 0) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		r = -rep.err;
	} else if (r == 0 && n_fds != SPAWN_REP_FDS) {
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		r = -EBADMSG;
	}
	if (r < 0) {
		free(b);
		return r;
	}
	b->pid = rep.pid;
	b->ctl = fds[0];
	b->pidfd = fds[1];
	b->listen_fd = fds[2];
	b->smbsock_fd = fds[3];
	b->uid = rep.uid;
	b->server = &s->cfg->servers[server_index];
	*ret = b;
	return 0;
}

void sbx_kill(struct sbx *b)
{
	if (b && b->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, b->pidfd, SIGKILL, NULL, 0);
}

int sbx_alive(const struct sbx *b)
{
	struct pollfd p = {.fd = b->pidfd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

int sbx_wait_gone(const struct sbx *b, int timeout_ms)
{
	struct pollfd p = {.fd = b->pidfd, .events = POLLIN};
	int r;

	if (b->pidfd < 0)
		return 0;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

void sbx_free(struct sbx *b)
{
	if (!b)
		return;
	sbx_kill(b);
	/* Its sockets may hold fds the sandbox queued in them; closing them
	 * closes those, which waits for the sandbox's FUSE server when one is
	 * a file of its mount. Dead, the sandbox has none: its PID 1 exits
	 * only once every process of its PID namespace has. */
	(void)sbx_wait_gone(b, SBX_GONE_MS);
	if (b->ctl >= 0)
		close(b->ctl);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	if (b->smbsock_fd >= 0)
		close(b->smbsock_fd);
	if (b->pidfd >= 0)
		close(b->pidfd);
	free(b);
}

int sbx_exec(struct sbx_spawner *s, const struct sbx *b, const char *who, const char *const *argv,
	     const int stdio[3], bool tty, int *ret_status)
{
	static __thread struct spawn_req req;
	struct spawn_rep rep;
	int sv[2], r;
	size_t at = 0, n_fds = 0;

	req = (struct spawn_req){.kind = SPAWN_EXEC, .flags = tty ? SPAWN_EXEC_TTY : 0};
	snprintf(req.user, sizeof(req.user), "%s", who ? who : "");
	for (; argv && argv[req.argc]; req.argc++) {
		size_t len = strlen(argv[req.argc]) + 1;
		if (req.argc >= SPAWN_EXEC_MAX_ARGC || at + len > sizeof(req.args) - 1)
			return -E2BIG;
		memcpy(req.args + at, argv[req.argc], len);
		at += len;
	}
	if (req.argc == 0)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	int fds[SPAWN_EXEC_FDS] = {b->pidfd, stdio[0], stdio[1], stdio[2], sv[1]};
	pthread_mutex_lock(&s->lock);
	r = fdpass_send(s->sock, &req, sizeof(req), fds, SPAWN_EXEC_FDS) < 0 ? -EPIPE : 0;
	if (r == 0)
		r = spawner_recv(s->sock, &rep, sizeof(rep), NULL, 0, &n_fds);
	pthread_mutex_unlock(&s->lock);
	close(sv[1]);
	if (r == 0 && rep.err != 0)
		r = -rep.err;
	if (r < 0) {
		close(sv[0]);
		return r;
	}
	*ret_status = sv[0];
	return 0;
}
