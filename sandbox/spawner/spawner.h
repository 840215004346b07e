/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/spawner/spawner.h - the spawner process, as the gateway's handle
 * (sandbox/gateway/spawn.c) sees it: how it is started, and the one request
 * and answer they exchange over their SOCK_SEQPACKET socket.
 *
 * Request: struct spawn_req. Answer: struct spawn_rep, with exactly four
 * fds when err is 0 (the worker's control socket, the sandbox's pidfd, the
 * pinhole listener, the gateway's end of the hand-off channel) and none
 * otherwise.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "spawn.h"

enum spawn_kind {
	SPAWN_SANDBOX = 1, /* a sandbox for a session: answer with SPAWN_REP_FDS fds */
	SPAWN_EXEC = 2,	   /* a command in a sandbox: SPAWN_EXEC_FDS fds come with it */
};

/* argv of SPAWN_EXEC: NUL-terminated strings one after the other. */
#define SPAWN_EXEC_ARGS	    4096
#define SPAWN_EXEC_MAX_ARGC SBX_EXEC_MAX_ARGC

struct spawn_req {
	uint32_t kind;
	uint32_t server_index;
	char user[64];
	uint32_t argc;
	uint32_t flags; /* SPAWN_EXEC_TTY */
	char args[SPAWN_EXEC_ARGS];
};

/* SPAWN_EXEC: stdin is a terminal, to become the command's controlling one. */
#define SPAWN_EXEC_TTY 1u

/* The fds of SPAWN_EXEC, in this order: the sandbox's pidfd, the command's
 * stdin, stdout and stderr, and the socket its exit status goes to. */
#define SPAWN_EXEC_FDS 5

struct spawn_rep {
	int32_t err; /* 0 or a positive errno */
	int32_t pid;
	uint32_t uid;
};

/* The fds of a successful answer, in this order. */
#define SPAWN_REP_FDS 4

/*
 * Forks the spawner process for @cfg (which must outlive it) while the caller
 * is single-threaded. Returns 0, its pid in *@ret_pid and the gateway's end of
 * their socket in *@ret_sock (caller closes it), or a negative errno:
 * -ENOENT/-EACCES for a worker that cannot be run, anything fork() or
 * socketpair() returns. Out-parameters are untouched on failure.
 */
int spawner_fork(const struct cfg *cfg, const struct sbx_spawner_options *opts, pid_t *ret_pid,
		 int *ret_sock);

/*
 * Receives one message of exactly @len bytes with at most @max_fds fds
 * (O_CLOEXEC; the caller owns them). Any other shape (short, long, more fds,
 * cut-short control data) closes whatever came and gives -EBADMSG; the peer's
 * end gives -ECONNRESET. *@n_fds: the fds kept.
 */
int spawner_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *n_fds);
