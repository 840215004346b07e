/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/init/jail.h - the sandbox's PID 1 (the clone() child of the
 * spawner): from the new namespaces to the execve() of the worker (user ids,
 * hostname, loopback, the pinhole listener, the private root file system,
 * capabilities, rlimits, no_new_privs and seccomp), then the init that hands
 * the pinhole listener out, waits to be claimed and reaps (all in jail.c).
 *
 * The spawner (sandbox/spawner/spawner.c) is the only caller.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Inside every sandbox the worker runs as this uid/gid (mapped to one host uid). */
#define JAIL_UID  1000
#define JAIL_GID  1000
#define JAIL_USER "smbgate"
#define JAIL_HOME "/home/smbgate"

/* Where the worker executable is bound inside the sandbox. */
#define JAIL_WORKER_PATH "/smbgate-worker"

/* The pinhole: the worker reaches its file server at this address. */
#define JAIL_PINHOLE_ADDR "127.0.0.1"
#define JAIL_PINHOLE_PORT 445

/* Rlimits of the worker (and of init). */
#define JAIL_RLIMIT_NOFILE 256

/* Messages on the setup socket between the spawner and the clone child. */
enum jail_setup_msg {
	JAIL_SETUP_GO = 1,	/* spawner -> child: id maps written, go on */
	JAIL_SETUP_READY = 2,	/* child -> spawner: set up; carries the pinhole listener fd
				   and the gateway's end of the hand-off channel */
	JAIL_SETUP_FAIL = 3,	/* child -> spawner: failed; carries errno and the step */
	JAIL_SETUP_CLAIM = 4,	/* spawner -> PID 1: a session takes the sandbox; step = hostname */
	JAIL_SETUP_CLAIMED = 5, /* PID 1 -> spawner: hostname set, last capabilities dropped */
};

struct jail_setup {
	uint32_t msg;  /* enum jail_setup_msg */
	int32_t err;   /* JAIL_SETUP_FAIL: a positive errno */
	char step[64]; /* JAIL_SETUP_FAIL: which step, NUL-terminated */
};

struct jail_params {
	int setup_fd;		 /* the child's end of the setup socket */
	int ctl_fd;		 /* the worker's end of the control socket; fd 3 of the worker */
	const char *worker_path; /* absolute path of the worker executable on the host */
	int stderr_fd;		 /* becomes fd 2 of the worker (the gateway's log) */
	bool map_root;		 /* the spawner is root: drop supplementary groups, setresuid */
	const char *hostname;	 /* UTS hostname, already sanitised */
	const char *server_name; /* a DNS name to map to the pinhole in /etc/hosts, or NULL */
	unsigned max_processes;	 /* RLIMIT_NPROC */
	uint64_t tmp_size;	 /* bytes of /tmp ([sandbox] tmp_size) */
	char *const *argv;	 /* the worker's argv */
	char *const *envp;	 /* the worker's whole environment */
	const char *mount_name;	 /* mount the shares at /shares/MOUNT_NAME (the server's
				    name in the configuration), or NULL: no mount */
	bool smb_handoff;	 /* [sandbox] smb_socket = handoff: the worker gets the
				    channel and the stricter filter */
};

/* The worker's fds: the control socket, and the mount's /dev/fuse when there is one. */
#define JAIL_CTL_FD  3
#define JAIL_FUSE_FD 4
/* The worker's end of the socket hand-off channel (sandbox/shared/smbsock.h),
 * with smb_socket = handoff only. */
#define JAIL_SMBSOCK_FD 5
/* Where the shares are mounted inside a sandbox: /shares/SERVER/SHARE. */
#define JAIL_SHARES "/shares"

/*
 * Runs in the child of clone(CLONE_NEW*): waits for JAIL_SETUP_GO, builds the
 * sandbox, starts the worker as PID 2, reports JAIL_SETUP_READY (or
 * JAIL_SETUP_FAIL) and becomes the reaping PID 1. The sandbox may wait
 * started but unclaimed (the spawner's spares): on JAIL_SETUP_CLAIM, PID 1
 * sets the session's hostname, answers JAIL_SETUP_CLAIMED and drops its last
 * capabilities. Never returns; exits with the worker's status (or 127 when
 * setup failed, or when the spawner goes away before the claim).
 */
_Noreturn void jail_child_main(const struct jail_params *p);

/*
 * Applies the worker's seccomp filter to the calling thread (deny by default:
 * a call outside the allowlist fails with EPERM; a few dangerous ones kill the
 * process). PR_SET_NO_NEW_PRIVS must be set. @handoff: the worker will hold
 * sockets connected in the gateway's network namespace, so the filter also
 * refuses (EPERM) connect, new sockets of any family, socket pairs other than
 * AF_UNIX stream/seqpacket, MSG_FASTOPEN on sendto/sendmsg/sendmmsg and
 * setsockopt() at any level but SOL_SOCKET and IPPROTO_TCP (bind, listen and
 * accept are outside the allowlist in both cases). Returns 0 or a negative
 * errno.
 */
int jail_seccomp_apply(bool handoff);

/*
 * The filter of a command an administrator runs in a sandbox (smbgatectl
 * exec): what an ordinary program does is allowed; what only an escape
 * needs kills it (mount, unshare, setns, ptrace, bpf, keyctl, modules...),
 * new namespaces and raw or netlink sockets fail with EPERM, and so does
 * TIOCSTI. Returns 0 or a negative errno.
 */
int jail_seccomp_exec_apply(void);
