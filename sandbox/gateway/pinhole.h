/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/gateway/pinhole.h - the gateway side of a sandbox's only way out
 * (gateway process).
 *
 * A sandbox lives in a network namespace that holds nothing but `lo`. The
 * spawner creates a TCP listener on 127.0.0.1:445 inside it and hands the fd
 * to the gateway (spawn.h, struct sbx.listen_fd). The pinhole accepts the
 * connections made on that listener - they come from the untrusted sandbox -
 * and relays each one to the single host:port configured for that sandbox's
 * server. The sandbox never chooses the destination, and no byte of the
 * relayed data is logged or inspected.
 *
 * One relay thread serves every listener: non-blocking sockets, one epoll
 * set, recv() and send() through a buffer per direction that exists only
 * while it holds bytes (pinhole.c says why not splice()). Names
 * are resolved again for each accepted connection, by a second, resolver
 * thread, so that a slow DNS server delays new connections only. Both threads
 * block every signal; sends use MSG_NOSIGNAL.
 *
 * The hand-off ([sandbox] smb_socket = handoff; sandbox/shared/smbsock.h):
 * beside its listener, a sandbox may have a channel on which its worker asks
 * for a socket. The relay thread reads the requests (non-blocking; every
 * byte is hostile), has the resolver thread resolve the host, connects
 * non-blocking to the same configured host:port, and sends the connected
 * socket on the request's own answer socket; then it forgets it: the gateway
 * keeps no copy and relays nothing. The request names no destination.
 *
 * Limits: per sandbox, at most PINHOLE_MAX_CONNECTIONS relayed connections,
 * hand-off requests in progress and handed-over sockets still open in the
 * sandbox, together; a connection accepted beyond that is closed at once,
 * and so is the answer socket of a request beyond it (the worker's connect()
 * fails with ECONNREFUSED). The gateway keeps no copy of a socket it handed
 * over, yet knows when the sandbox's last copy is closed: pinhole.c,
 * handed_alive(). Each relayed connection or request in progress holds two
 * fds (for a request, its answer socket and the server socket), so the
 * gateway's RLIMIT_NOFILE must leave room for 2 * PINHOLE_MAX_CONNECTIONS + 3
 * fds per sandbox (with the listener, the channel and its epoll set).
 */
#pragma once

#include <stdint.h>

/* Relayed connections per listener; more are accepted and closed at once. */
#define PINHOLE_MAX_CONNECTIONS 16

/* Longest host accepted by pinhole_add(), in bytes (a DNS name is <= 253). */
#define PINHOLE_MAX_HOST 255

/* One relay thread (and its resolver thread) serving many listeners. */
struct pinhole;

/* Counters over the whole pinhole, for metrics and tests. */
struct pinhole_stats {
	unsigned long long connections_total; /* accepted and relayed (or attempted) */
	unsigned long long active;	      /* relayed connections open now */
	unsigned long long bytes_up;	      /* sandbox -> server, bytes delivered */
	unsigned long long bytes_down;	      /* server -> sandbox, bytes delivered */
	unsigned long long refused;	   /* accepted and closed at once: limit or no resources */
	unsigned long long connect_failed; /* resolution or connection to the server failed */
	unsigned long long handed_over;	   /* connected sockets sent to a sandbox */
	unsigned long long unclosed;	   /* fds a sandbox sent, left open: the closer was full */
};

/*
 * Starts the relay and resolver threads (with every signal blocked).
 * Returns 0 and *@ret (caller frees with pinhole_stop()), or a negative
 * errno (-ENOMEM, -EMFILE, anything pthread_create() returns as errno);
 * *@ret is untouched on failure.
 */
int pinhole_start(struct pinhole **ret);

/*
 * Stops both threads, closes every listener and every connection, frees @p.
 * Waits for a name resolution in progress, if any, to end. NULL is allowed.
 * Must not be called concurrently with any other pinhole_*() call on @p.
 */
void pinhole_stop(struct pinhole *p);

/*
 * Starts relaying the connections accepted on @listen_fd to @host:@port and,
 * when @chan_fd >= 0 (a SOCK_SEQPACKET socket: the hand-off channel), serving
 * its requests for sockets connected to @host:@port.
 * @host is a DNS name or an IP literal, copied; it is resolved again for
 * each connection, and every address is tried in turn.
 *
 * Takes ownership of @listen_fd and @chan_fd in every case: on failure they
 * are closed too (@chan_fd is made non-blocking and close-on-exec likewise).
 * The fd is made non-blocking and close-on-exec (this changes the open file
 * description, which the sandbox should no longer hold).
 *
 * Returns an id > 0 for pinhole_remove(), or a negative errno: -EINVAL for an
 * empty or too long @host, port 0, a negative @listen_fd, a socket that is
 * not a listening stream socket or a @chan_fd that is not a seqpacket socket; -ENOTSOCK when
 * @listen_fd is not a socket; -ENOMEM; -EBADF. Thread-safe; blocks until the relay thread has taken
 * the listener, so connections are accepted from the moment it returns.
 */
long pinhole_add(struct pinhole *p, int listen_fd, int chan_fd, const char *host, uint16_t port);

/*
 * Stops accepting on the listener @id, closes it and all of its connections,
 * even in the middle of a transfer (both peers see the connection closed).
 * Thread-safe; idempotent; an unknown id is ignored. Blocks until done: when
 * it returns, nothing of that listener is left open.
 */
void pinhole_remove(struct pinhole *p, long id);

/* Copies the counters to *@out. Thread-safe; each counter is read atomically. */
void pinhole_get_stats(struct pinhole *p, struct pinhole_stats *out);
