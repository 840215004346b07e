/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/gateway/spawn.h - the gateway side of sandbox creation (gateway
 * process, HTTP threads).
 *
 * sbx_spawner_start() forks a long-lived, single-threaded spawner process
 * while the gateway is still single-threaded. Every sandbox is then created
 * by that process: one clone() into new user, mount, PID, network, UTS and
 * IPC namespaces, id maps written from outside, and the worker started under
 * a PID 1 that reaps (see jail.h). The gateway gets back, by SCM_RIGHTS, the
 * control socket of the worker, a pidfd of the sandbox and the pinhole
 * listener that lives in the sandbox's network namespace.
 *
 * The spawner dies with the gateway (PR_SET_PDEATHSIG), and every sandbox
 * dies with the spawner.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"

struct sbx_spawner;

/* One sandbox, as the gateway holds it. */
struct sbx {
	pid_t pid;	/* host pid of the sandbox's PID 1 (for logs; signal through pidfd) */
	int pidfd;	/* owned; readable when the sandbox has exited */
	int ctl;	/* owned; SOCK_SEQPACKET to the worker (proto.h) */
	int listen_fd;	/* owned; the pinhole listener inside the sandbox's netns */
	int smbsock_fd; /* owned; the gateway's end of the hand-off channel
			   (sandbox/shared/smbsock.h); silent with smb_socket = relay */
	uid_t uid;	/* host uid the sandbox runs as */
	const struct cfg_server *server; /* not owned: points into the spawner's cfg */
};

struct sbx_spawner_options {
	const char *worker_path;	/* executable run inside; opened by the spawner */
	const char *const *worker_args; /* extra argv after argv[0], NULL-terminated, or NULL */
	/* The cgroup v2 directory under which each sandbox gets its own cgroup
	 * (memory.max, pids.max); NULL: the spawner's own cgroup, when it is
	 * delegated and has the memory and pids controllers for its children. */
	const char *cgroup;
};

/*
 * Starts the spawner process for @cfg (which must outlive the spawner).
 * Call while the process is single-threaded. Returns 0 and *@ret (caller
 * frees with sbx_spawner_free()), or a negative errno: -ENOENT/-EACCES for
 * a worker that cannot be opened, anything fork() or socketpair() returns.
 * Logs once to stderr which resource limits cannot be enforced here.
 */
int sbx_spawner_start(const struct cfg *cfg, const struct sbx_spawner_options *opts,
		      struct sbx_spawner **ret);

/* Stops the spawner, which kills every sandbox it made. NULL is allowed. */
void sbx_spawner_free(struct sbx_spawner *s);

/* Host pid of the spawner (tests kill it to check that sandboxes follow). */
pid_t sbx_spawner_pid(const struct sbx_spawner *s);

/*
 * Creates a sandbox for @user (shown as its hostname, sanitised) that may
 * reach the server @server_index of the configuration. Thread-safe.
 * Returns 0 and *@ret (caller frees with sbx_free()), or a negative errno:
 * -EAGAIN when the uid range is exhausted, -EPIPE/-ECONNRESET when the spawner
 * is gone, -EPROTO when the sandbox failed to set itself up (the step is logged).
 */
int sbx_spawn(struct sbx_spawner *s, size_t server_index, const char *user, struct sbx **ret);

/* Whether a configured host is an IP literal (the worker then reaches the
 * pinhole by address; a name is mapped to it in the sandbox's /etc/hosts). */
bool sbx_host_is_ip_literal(const char *host);

/*
 * Runs @argv (NULL-terminated; argv[0] a path or a name in /usr/bin or /bin)
 * inside the running sandbox @b, as its user, with nothing more: no
 * capabilities, no new privileges, the sandbox's rlimits and an exec seccomp
 * filter that refuses escapes (enter.h). @stdio become its fds 0-2 (the
 * caller keeps its own copies); with @tty, stdio[0] is a terminal that becomes
 * the command's controlling terminal. @who names the caller in the spawner's log
 * line. Thread-safe. Returns 0 and *@ret_status, a socket that gives one
 * int32 when the command ends (its exit code, 128 + a signal, 126 when the
 * sandbox cannot be joined, 127 when the command cannot be run); the caller
 * closes it. Else -E2BIG (argv over SPAWN_EXEC_ARGS bytes or
 * SPAWN_EXEC_MAX_ARGC strings), -EINVAL, -EPIPE (no spawner), or the errno
 * of the spawner's fork().
 */
/* The most strings sbx_exec() passes (argv[0] included). */
#define SBX_EXEC_MAX_ARGC 256

int sbx_exec(struct sbx_spawner *s, const struct sbx *b, const char *who, const char *const *argv,
	     const int stdio[3], bool tty, int *ret_status);

/* Kills the sandbox (SIGKILL to its PID 1 through the pidfd). Idempotent. */
void sbx_kill(struct sbx *b);

/* Whether the sandbox is still running (its pidfd is not yet readable). */
int sbx_alive(const struct sbx *b);

/* How long sbx_free() waits for a killed sandbox to be gone (it takes
 * milliseconds); past that it closes the fds anyway. */
#define SBX_GONE_MS 2000

/*
 * Waits at most @timeout_ms for the sandbox to have exited: every process of
 * it, since its PID 1 exits after them (and so every file they held is
 * closed, its FUSE mount's server included). Returns 0, or -ETIMEDOUT.
 */
int sbx_wait_gone(const struct sbx *b, int timeout_ms);

/* Kills the sandbox, waits for it to be gone (sbx_wait_gone(), at most
 * SBX_GONE_MS), then frees @b, closing every fd. NULL is allowed. */
void sbx_free(struct sbx *b);
