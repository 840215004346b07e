/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/shared/smbsock.c - the requesting side of the socket hand-off
 * (worker process, and the sandbox tests' probe). See smbsock.h.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"
#include "smbsock.h"

int smbsock_request(int chan, int timeout_ms, int *ret_fd)
{
	struct smbsock_req req = {.magic = SMBSOCK_MAGIC};
	struct smbsock_rep rep = {0};
	struct fdpass_info info = {0};
	int sv[2], fd = -1, type = 0, r;
	socklen_t len = sizeof(type);
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	n = fdpass_send(chan, &req, sizeof(req), &sv[1], 1);
	close(sv[1]);
	if (n != (ssize_t)sizeof(req)) {
		r = -ECONNREFUSED; /* the gateway's end is gone */
		goto out;
	}
	struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		r = r == 0 ? -ETIMEDOUT : -errno;
		goto out;
	}
	n = fdpass_recv(sv[0], &rep, sizeof(rep), &fd, 1, MSG_DONTWAIT, &info);
	if (n <= 0) {
		r = -ECONNREFUSED; /* closed without an answer: not reachable */
		goto out;
	}
	r = -EPROTO;
	if (n != (ssize_t)sizeof(rep) || info.trunc || info.ctrunc || info.received > 1)
		goto out;
	if (rep.err != 0) {
		r = rep.err > 0 && rep.err < 4096 ? -rep.err : -EPROTO;
		goto out;
	}
	if (info.kept != 1 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		goto out;
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (info.kept == 1 && fd >= 0)
		close(fd);
	close(sv[0]);
	return r;
}
