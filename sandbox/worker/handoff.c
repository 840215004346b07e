/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/handoff.c - the worker's own socket() and connect(), which
 * libsmbclient calls instead of glibc's: with [sandbox] smb_socket = handoff
 * they give it a socket that the gateway connected to the configured server
 * (worker process, its lanes and its FUSE server).
 *
 * libsmbclient has no "use this fd" call; it connects through connect()
 * imported from the C library (libsmbconf's async_connect_send). The worker
 * executable exports exactly these two symbols (handoff.sym, given to the
 * linker as a dynamic list), so the dynamic linker binds the libraries'
 * calls to them first, without LD_PRELOAD. The C library's own internal
 * calls (the resolver, nscd) do not go through them.
 *
 * In hand-off mode - the channel JAIL_SMBSOCK_FD is open - socket() for a
 * TCP socket returns a placeholder (one end of an AF_UNIX stream pair: the
 * seccomp filter refuses every new network socket), and connect() to the
 * pinhole (127.0.0.1:445) asks the gateway for a connected socket
 * (smbsock_request()), dup3()s it over the placeholder with the same
 * close-on-exec flag and file status flags (O_NONBLOCK), and returns 0.
 * Any other IPv4/IPv6 destination fails with ECONNREFUSED, as it does
 * through the relay; other families go to the kernel, whose filter refuses
 * them. Without the channel both go straight to the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/init/jail.h"
#include "smb.h"
#include "smbsock.h"

/* Whether this process runs in hand-off mode: read once, before main() and
 * before anything of ours or of the libraries opens an fd, so that fd 5 is
 * what the sandbox's PID 1 left there (the channel, or nothing with the
 * relay) and never a socket this process made later (a lane's socket pair
 * could take fd 5 in relay mode). Forks inherit the channel and the flag. */
static bool mode;

__attribute__((constructor)) static void handoff_mode(void)
{
	int type = 0;
	socklen_t len = sizeof(type);

	mode = getsockopt(JAIL_SMBSOCK_FD, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	       type == SOCK_SEQPACKET;
}

static bool handoff(void)
{
	return mode;
}

int socket(int domain, int type, int protocol)
{
	if ((domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM && handoff()) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | (type & (SOCK_NONBLOCK | SOCK_CLOEXEC)), 0,
			       sv) < 0)
			return -1;
		close(sv[1]);
		return sv[0];
	}
	return (int)syscall(SYS_socket, domain, type, protocol);
}

/* The pinhole's address, as the worker's /etc/hosts and smb.conf give it. */
static bool is_pinhole(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

	return sa->sa_family == AF_INET && len >= sizeof(*in) &&
	       in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
	       in->sin_port == htons(JAIL_PINHOLE_PORT);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int fd_flags, fl_flags, s, r;

	if (!sa || len < sizeof(sa->sa_family) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || !handoff())
		return (int)syscall(SYS_connect, fd, sa, len);
	if (!is_pinhole(sa, len)) {
		errno = ECONNREFUSED;
		return -1;
	}
	fd_flags = fcntl(fd, F_GETFD);
	fl_flags = fcntl(fd, F_GETFL);
	if (fd_flags < 0 || fl_flags < 0)
		return -1;
	/* As long as libsmbclient would wait for the server's first answer. */
	r = smbsock_request(
	    JAIL_SMBSOCK_FD,
	    smb_connect_timeout_ms ? (int)smb_connect_timeout_ms : SMBSOCK_TIMEOUT_MS, &s);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (dup3(s, fd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0 ||
	    fcntl(fd, F_SETFL, fl_flags) < 0) {
		r = errno;
		close(s);
		errno = r;
		return -1;
	}
	close(s);
	return 0;
}
