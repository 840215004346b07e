/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/shared/fdpass.c - SCM_RIGHTS send and receive, for every process
 * that passes fds (gateway, spawner, sandbox PID 1, worker). See fdpass.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for more fds than any message may carry, so that surplus fds are
 * received (and closed) rather than silently dropped by the kernel. */
#define CTRL_FDS (FDPASS_MAX * 4)

ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
	return fdpass_send_flags(sock, buf, len, fds, n_fds, 0);
}

ssize_t fdpass_send_flags(int sock, const void *buf, size_t len, const int *fds, size_t n_fds,
			  int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (n_fds > FDPASS_MAX || (n_fds && !fds))
		return -EINVAL;
	if (n_fds > 0) {
		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void close_it(void *ctx, int fd)
{
	(void)ctx;
	close(fd);
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, int flags,
		    struct fdpass_info *info)
{
	return fdpass_recv_dispose(sock, buf, len, fds, max_fds, flags, info, close_it, NULL);
}

ssize_t fdpass_recv_dispose(int sock, void *buf, size_t len, int *fds, size_t max_fds, int flags,
			    struct fdpass_info *info, void (*dispose)(void *ctx, int fd), void *ctx)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTRL_FDS)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctrl.buf,
			    .msg_controllen = sizeof(ctrl.buf)};
	struct fdpass_info got = {0};
	ssize_t n;

	if (info)
		*info = got;
	if (max_fds > FDPASS_MAX || (max_fds && (!fds || !info)))
		return -EINVAL;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	got.ctrunc = (mh.msg_flags & MSG_CTRUNC) != 0;
	got.trunc = (mh.msg_flags & MSG_TRUNC) != 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			got.received++;
			if (!got.ctrunc && got.kept < max_fds)
				fds[got.kept++] = fd;
			else
				dispose(ctx, fd);
		}
	}
	if (info)
		*info = got;
	return n;
}
