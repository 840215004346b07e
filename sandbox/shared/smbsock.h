/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/shared/smbsock.h - the socket hand-off channel ([sandbox]
 * smb_socket = handoff): how a worker gets a TCP socket that the gateway
 * connected to the sandbox's configured server (gateway's pinhole, worker).
 *
 * The sandbox's PID 1 makes a SOCK_SEQPACKET socket pair: one end goes to
 * the gateway's pinhole with the listener, the other becomes the worker's fd
 * JAIL_SMBSOCK_FD (inherited by its lanes and FUSE server, never by commands
 * run with smbgatectl exec). A request is one struct smbsock_req carrying
 * exactly one fd: one end of a fresh SOCK_SEQPACKET socket pair made for
 * that request. The answer goes on that pair, never on the shared channel,
 * so that concurrent requests of several lanes cannot receive each other's
 * socket: one struct smbsock_rep, with exactly one fd (the connected socket,
 * in the gateway's network namespace) when err is 0. The gateway closes the
 * pair without answering when the server cannot be reached.
 *
 * The gateway connects only to the configured host:port; nothing in the
 * request names a destination.
 */
#pragma once

#include <stdint.h>

#define SMBSOCK_MAGIC 0x6b636f73u /* "sock" */

struct smbsock_req {
	uint32_t magic; /* SMBSOCK_MAGIC */
	uint32_t flags; /* 0 */
};

struct smbsock_rep {
	int32_t err; /* 0, or a positive errno */
};

/* How long a worker waits for its socket (the gateway's name resolution and
 * connect()) when it knows no SMB timeout yet; else it waits that long. */
#define SMBSOCK_TIMEOUT_MS 30000

/*
 * Asks the gateway, over the channel @chan, for a socket connected to the
 * sandbox's server; waits at most @timeout_ms. Returns 0 and *@ret_fd
 * (O_CLOEXEC, non-blocking as the gateway made it; the caller owns it), or a negative errno:
 * -ECONNREFUSED when the gateway could not connect or refused the request
 * (too many in flight), -ETIMEDOUT, -EPROTO for a malformed answer, or what
 * socketpair() returns. *@ret_fd is untouched on failure.
 */
int smbsock_request(int chan, int timeout_ms, int *ret_fd);
