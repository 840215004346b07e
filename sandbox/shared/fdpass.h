/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/shared/fdpass.h - passing file descriptors over a unix socket
 * (SCM_RIGHTS). Linked by every process that passes fds: the gateway's
 * sandbox client, the spawner, the sandbox's PID 1 and the worker. No other
 * file of the product sends or receives SCM_RIGHTS.
 *
 * The receiving side never keeps an fd it did not ask for: every fd past
 * @max_fds is closed at once, and so is every fd of a message whose control
 * data was cut short (MSG_CTRUNC). It reports how many fds came in all, so
 * that the caller checks the count against what the protocol allows for that
 * message (and treats a peer that sends more as broken).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most fds one message carries (sender and receiver). */
#define FDPASS_MAX 8

struct fdpass_info {
	size_t received; /* fds that came with the message, surplus included */
	size_t kept;	 /* of them, stored in @fds (the rest were closed) */
	bool ctrunc;	 /* the control data was cut short: every fd closed */
	bool trunc;	 /* the message was longer than the buffer */
};

/*
 * Sends @len bytes of @buf as one message, with @n_fds (0..FDPASS_MAX) fds
 * of @fds attached (they stay open here). MSG_NOSIGNAL; EINTR is retried.
 * Returns the bytes sent, or a negative errno (-EINVAL for too many fds).
 */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);

/* fdpass_send() with extra sendmsg() @flags: MSG_DONTWAIT for a socket the
 * peer also holds (its O_NONBLOCK is the peer's to change). */
ssize_t fdpass_send_flags(int sock, const void *buf, size_t len, const int *fds, size_t n_fds,
			  int flags);

/*
 * Receives one message into @buf (at most @len bytes) and at most @max_fds
 * (<= FDPASS_MAX) fds into @fds, each O_CLOEXEC; the caller owns the kept
 * ones. @flags: extra recvmsg() flags (MSG_DONTWAIT). Fills *@info (may be
 * NULL only when no fd is expected: then any fd that comes is closed). EINTR
 * is retried. Returns the bytes received (0: the peer closed), or a negative
 * errno; on error no fd is kept and *@info says nothing was.
 */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, int flags,
		    struct fdpass_info *info);

/*
 * fdpass_recv(), except that no fd is closed here: each fd it would close
 * (past @max_fds, or all of a message whose control data was cut short) is
 * given to @dispose(@ctx, fd), which takes it. For a receiver that must never
 * wait in close(): closing a file of a FUSE mount waits for its server, and
 * closing a lingering TCP socket for its peer.
 */
ssize_t fdpass_recv_dispose(int sock, void *buf, size_t len, int *fds, size_t max_fds, int flags,
			    struct fdpass_info *info, void (*dispose)(void *ctx, int fd),
			    void *ctx);
