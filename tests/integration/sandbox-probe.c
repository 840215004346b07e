/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox-probe.c - run by the sandbox tests in place of smbgate-worker, in
 * the very same jail (namespaces, mounts, capabilities, seccomp). It reports
 * what it sees from the inside as "key=value" datagrams on fd 3, then "end".
 *
 *   sandbox-probe isolation HOST_PORT CONFIG_PATH   report isolation facts
 *   sandbox-probe garbage                           a HELLO, then malformed answers
 *   sandbox-probe sleep                             "ready", then wait forever
 *   sandbox-probe handoff                           smb_socket = handoff: take a socket
 *                                                   from the gateway, try every way to
 *                                                   re-point or pass it on, use it
 *   sandbox-probe steal                             run with smbgatectl exec next to a
 *                                                   "handoff" probe: try to take its
 *                                                   socket; report on stdout
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "smbsock.h"

#define SMBSOCK_FD 5 /* JAIL_SMBSOCK_FD */

static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)send(3, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, 0);
}

static int try_connect(const char *ip, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	if (fd < 0)
		return errno;
	inet_pton(AF_INET, ip, &sa.sin_addr);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	return r;
}

/* Runs @fn in a child; reports how it ended ("exit N" or "signal N"). */
static void in_child(const char *key, void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		say("%s=fork failed %d", key, errno);
		return;
	}
	if (WIFSIGNALED(status))
		say("%s=signal %d", key, WTERMSIG(status));
	else
		say("%s=exit %d", key, WEXITSTATUS(status));
}

static void do_ptrace(void)
{
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static void do_unshare_user(void)
{
	syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
}

static void do_mount(void)
{
	syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
}

static void report_file(const char *key, const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f) {
		say("%s=ERR %d", key, errno);
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (!prefix || strncmp(line, prefix, strlen(prefix)) == 0) {
			line[strcspn(line, "\n")] = '\0';
			say("%s=%s", key, line);
		}
	fclose(f);
}

static void isolation(int host_port, const char *config_path)
{
	static const char *const ns[] = {"user", "mnt", "pid", "net", "uts", "ipc"};
	char buf[256], path[64];

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		ssize_t n = readlink(path, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		say("ns.%s=%s", ns[i], buf);
	}
	say("pid=%d", (int)getpid());
	say("sid=%d", (int)getsid(0));
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	say("rlimit.nofile=%llu", (unsigned long long)rl.rlim_max);
	getrlimit(RLIMIT_CORE, &rl);
	say("rlimit.core=%llu", (unsigned long long)rl.rlim_max);
	getrlimit(RLIMIT_NPROC, &rl);
	say("rlimit.nproc=%llu", (unsigned long long)rl.rlim_max);
	/* Open fds, but the one that lists them. */
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char fds[256] = "", one[16];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			if (snprintf(one, sizeof(one), "%s%s", fds[0] ? "," : "", e->d_name) > 0 &&
			    strlen(fds) + strlen(one) < sizeof(fds))
				strcat(fds, one);
	if (d)
		closedir(d);
	say("fds=%s", fds);
	say("ppid=%d", (int)getppid());
	say("uid=%d", (int)getuid());
	say("gid=%d", (int)getgid());
	gethostname(buf, sizeof(buf));
	say("hostname=%s", buf);
	report_file("status", "/proc/self/status", "Cap");
	report_file("status", "/proc/self/status", "NoNewPrivs");
	report_file("status", "/proc/self/status", "Seccomp:");
	/* Interfaces of this network namespace (one per line after the two headers). */
	FILE *f = fopen("/proc/net/dev", "re");
	int line = 0;
	while (f && fgets(buf, sizeof(buf), f))
		if (++line > 2) {
			char *colon = strchr(buf, ':');
			if (colon)
				*colon = '\0';
			say("iface=%s", buf + strspn(buf, " "));
		}
	if (f)
		fclose(f);
	say("connect.host_listener=%d", try_connect("127.0.0.1", host_port));
	say("connect.other=%d", try_connect("192.0.2.1", 445));
	say("connect.pinhole=%d", try_connect("127.0.0.1", 445));
	static const char *const paths[] = {"/etc/shadow",    "/root",	    "/var/lib",
					    "/home/smbgate",  "/etc/hosts", "/smbgate-worker",
					    "/proc/1/cmdline"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		say("exists.%s=%d", paths[i], access(paths[i], F_OK) == 0);
	say("exists.config=%d", access(config_path, F_OK) == 0);
	static const char *const mounts[] = {"/", "/usr", "/etc", "/proc", "/tmp", "/home/smbgate"};
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		struct statvfs sv;
		say("ro.%s=%d", mounts[i], statvfs(mounts[i], &sv) == 0 && (sv.f_flag & ST_RDONLY));
	}
	say("write.root=%d", mkdir("/newdir", 0755) == 0 ? 0 : errno);
	say("write.home=%d", mkdir("/home/smbgate/x", 0755) == 0 ? 0 : errno);
	/* seccomp: outside the allowlist -> EPERM; escape attempts -> killed. */
	errno = 0;
	int s = socket(AF_NETLINK, SOCK_RAW, 0);
	say("seccomp.netlink=%d", s < 0 ? errno : 0);
	errno = 0;
	char page[64];
	/* raw: the sanitizers intercept mlock() */
	say("seccomp.mlock=%d", syscall(SYS_mlock, page, sizeof(page)) < 0 ? errno : 0);
	in_child("seccomp.ptrace", do_ptrace);
	in_child("seccomp.unshare_user", do_unshare_user);
	in_child("seccomp.mount", do_mount);
	say("end");
	/* Stay until the test has looked at us from outside. */
	char c;
	(void)recv(3, &c, 1, 0);
}

/* errno of a call that returned < 0, or 0 when it succeeded. */
static int err_of(long r)
{
	return r < 0 ? errno : 0;
}

/* An SMB2 NEGOTIATE (one dialect, 2.0.2) on @fd; 1 when an SMB2 answer came. */
static int smb2_negotiate(int fd)
{
	unsigned char m[4 + 64 + 38] = {0}, in[512];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;

	m[3] = sizeof(m) - 4; /* NetBIOS session message length */
	memcpy(m + 4, "\xfeSMB", 4);
	m[8] = 64;     /* header StructureSize */
	m[4 + 14] = 1; /* CreditRequest */
	m[68] = 36;    /* NEGOTIATE StructureSize */
	m[70] = 1;     /* DialectCount */
	m[72] = 1;     /* SecurityMode: signing enabled */
	m[104] = 0x02; /* dialect 0x0202 */
	m[105] = 0x02;
	if (send(fd, m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return 0;
	while (got < 8 && poll(&pfd, 1, 5000) == 1) {
		ssize_t n = recv(fd, in + got, sizeof(in) - got, MSG_DONTWAIT);
		if (n <= 0 && !(n < 0 && errno == EAGAIN))
			break;
		if (n > 0)
			got += (size_t)n;
	}
	return got >= 8 && memcmp(in + 4, "\xfeSMB", 4) == 0;
}

static void do_pidfd_getfd(void)
{
	int pidfd = (int)syscall(SYS_pidfd_open, 2, 0);
	syscall(SYS_pidfd_getfd, pidfd, SMBSOCK_FD, 0);
}

static void do_ptrace_attach(void)
{
	syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 2, 0, 0);
}

static void do_process_vm_readv(void)
{
	char buf[16];
	struct iovec local = {buf, sizeof(buf)}, remote = {(void *)0x10000, sizeof(buf)};
	syscall(SYS_process_vm_readv, 2, &local, 1, &remote, 1, 0);
}

/* With smb_socket = handoff, as the worker: not dumpable, like it. */
static void handoff(void)
{
	struct sockaddr_in other = {.sin_family = AF_INET, .sin_port = htons(445)};
	struct sockaddr_in any = {.sin_family = AF_INET};
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	char addr[64] = "";
	int s = -1, r, one = 1;

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	inet_pton(AF_INET, "192.0.2.1", &other.sin_addr);
	r = smbsock_request(SMBSOCK_FD, 10000, &s);
	say("handoff.request=%d", -r);
	if (r < 0) {
		say("end");
		return;
	}
	if (getpeername(s, (struct sockaddr *)&peer, &pl) == 0 && peer.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&peer;
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		say("handoff.peer=%s:%u", addr, ntohs(in->sin_port));
	}
	/* Re-pointing it: disconnect (AF_UNSPEC), connect elsewhere, bind, listen. */
	say("deny.connect_unspec=%d", err_of(connect(s, &unspec, sizeof(unspec))));
	say("deny.connect_inet=%d", err_of(connect(s, (struct sockaddr *)&other, sizeof(other))));
	say("deny.bind=%d", err_of(bind(s, (struct sockaddr *)&any, sizeof(any))));
	say("deny.listen=%d", err_of(listen(s, 1)));
	say("deny.accept=%d", err_of(accept(s, NULL, NULL)));
	/* New sockets of any family, datagram pairs. */
	say("deny.socket_inet=%d", err_of(socket(AF_INET, SOCK_STREAM, 0)));
	say("deny.socket_inet_dgram=%d", err_of(socket(AF_INET, SOCK_DGRAM, 0)));
	say("deny.socket_inet6=%d", err_of(socket(AF_INET6, SOCK_STREAM, 0)));
	say("deny.socket_unix_stream=%d", err_of(socket(AF_UNIX, SOCK_STREAM, 0)));
	say("deny.socket_unix_dgram=%d", err_of(socket(AF_UNIX, SOCK_DGRAM, 0)));
	say("deny.socket_unix_seqpacket=%d", err_of(socket(AF_UNIX, SOCK_SEQPACKET, 0)));
	int sv[2];
	say("deny.socketpair_dgram=%d", err_of(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)));
	r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	say("allow.socketpair_stream=%d", err_of(r));
	if (r == 0) {
		close(sv[0]);
		close(sv[1]);
	}
	/* TCP Fast Open connects: refused on every send call. */
	say("deny.sendto_fastopen=%d", err_of(sendto(s, "x", 1, MSG_FASTOPEN | MSG_NOSIGNAL,
						     (struct sockaddr *)&other, sizeof(other))));
	char x = 'x';
	struct iovec iov = {.iov_base = &x, .iov_len = 1};
	struct msghdr mh = {
	    .msg_name = &other, .msg_namelen = sizeof(other), .msg_iov = &iov, .msg_iovlen = 1};
	say("deny.sendmsg_fastopen=%d", err_of(sendmsg(s, &mh, MSG_FASTOPEN | MSG_NOSIGNAL)));
	struct mmsghdr mm = {.msg_hdr = mh};
	say("deny.sendmmsg_fastopen=%d", err_of(sendmmsg(s, &mm, 1, MSG_FASTOPEN | MSG_NOSIGNAL)));
	/* IP options (loose source route via 192.0.2.1), any IPv4/IPv6 option. */
	unsigned char lsrr[8] = {1 /* NOP */, 131 /* LSRR */, 7, 4, 192, 0, 2, 1};
	say("deny.ip_options=%d",
	    err_of(setsockopt(s, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr))));
	say("deny.ip_tos=%d", err_of(setsockopt(s, IPPROTO_IP, IP_TOS, &one, sizeof(one))));
	say("deny.ipv6=%d", err_of(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))));
	say("allow.tcp_nodelay=%d",
	    err_of(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))));
	say("allow.so_keepalive=%d",
	    err_of(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one))));
	struct linger lg = {.l_onoff = 1, .l_linger = 3600};
	say("deny.so_linger=%d", err_of(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))));
	/* Still connected to the same server, and it answers. */
	pl = sizeof(peer);
	char again[64] = "";
	if (getpeername(s, (struct sockaddr *)&peer, &pl) == 0 && peer.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, again, sizeof(again));
	say("handoff.same_peer=%d", strcmp(addr, again) == 0);
	say("handoff.works=%d", smb2_negotiate(s));
	close(s);

	/* Hostile requests on the channel are dropped; the next good one works. */
	struct smbsock_req req = {.magic = SMBSOCK_MAGIC};
	(void)send(SMBSOCK_FD, "short", 5, 0);
	(void)send(SMBSOCK_FD, &req, sizeof(req), 0); /* no fd */
	r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);  /* wrong type of answer socket */
	if (r == 0) {
		struct iovec v = {&req, sizeof(req)};
		char c[CMSG_SPACE(sizeof(int))] = {0};
		struct msghdr m = {
		    .msg_iov = &v, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof(c)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
		(void)sendmsg(SMBSOCK_FD, &m, 0);
		struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
		say("handoff.wrong_type_answered=%d",
		    poll(&pfd, 1, 2000) == 1 && recv(sv[0], &req, sizeof(req), 0) > 0);
		close(sv[0]);
		close(sv[1]);
	}
	s = -1;
	r = smbsock_request(SMBSOCK_FD, 10000, &s);
	say("handoff.after_garbage=%d", -r);
	if (r == 0) {
		say("handoff.after_garbage_works=%d", smb2_negotiate(s));
		close(s);
	}
	/* Two processes asking at once each get their own sockets. */
	int pipefd[2];
	if (pipe(pipefd) == 0) {
		pid_t pid = fork();
		unsigned ports[8] = {0};
		for (int i = 0; i < 4; i++) {
			struct sockaddr_in me;
			socklen_t ml = sizeof(me);
			int t = -1;
			if (smbsock_request(SMBSOCK_FD, 10000, &t) == 0 &&
			    getsockname(t, (struct sockaddr *)&me, &ml) == 0)
				ports[i] = ntohs(me.sin_port);
			if (t >= 0)
				close(t);
		}
		if (pid == 0) {
			(void)!write(pipefd[1], ports, 4 * sizeof(ports[0]));
			_exit(0);
		}
		int distinct = pid > 0 && read(pipefd[0], ports + 4, 4 * sizeof(ports[0])) ==
					      4 * sizeof(ports[0]);
		for (int i = 0; i < 8 && distinct; i++)
			for (int j = i + 1; j < 8; j++)
				if (ports[i] == 0 || ports[i] == ports[j])
					distinct = 0;
		say("handoff.parallel_distinct=%d", distinct);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	/* Keep one socket open while a command of the sandbox tries to take it. */
	r = smbsock_request(SMBSOCK_FD, 10000, &s);
	if (r == 0 && s != 6)
		(void)dup3(s, 6, O_CLOEXEC);
	say("end");
	char c;
	(void)recv(3, &c, 1, 0);
}

/* Run with smbgatectl exec beside a "handoff" probe (PID 2): report on stdout. */
static void steal(void)
{
	char path[64], link[128];

	printf("steal.fd5=%d\n", err_of(fcntl(SMBSOCK_FD, F_GETFD)));
	snprintf(path, sizeof(path), "/proc/2/fd/6");
	printf("steal.proc_fd=%d\n", err_of(readlink(path, link, sizeof(link))));
	printf("steal.proc_fd_open=%d\n", err_of(open(path, O_RDWR)));
	printf("steal.dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	fflush(stdout);
	int status;
	void (*const fns[])(void) = {do_pidfd_getfd, do_ptrace_attach, do_process_vm_readv};
	const char *const names[] = {"pidfd_getfd", "ptrace_attach", "process_vm_readv"};
	for (size_t i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			fns[i]();
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			printf("steal.%s=fork failed\n", names[i]);
		else if (WIFSIGNALED(status))
			printf("steal.%s=signal %d\n", names[i], WTERMSIG(status));
		else
			printf("steal.%s=exit %d\n", names[i], WEXITSTATUS(status));
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "handoff") == 0) {
		char go;
		if (recv(3, &go, 1, 0) != 1)
			return 1;
		handoff();
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "steal") == 0) {
		steal();
		/* No exit handlers: the leak checker of the sanitizer build stops
		 * the world with ptrace, which the exec filter kills. */
		fflush(stdout);
		_exit(0);
	}
	if (argc >= 4 && strcmp(argv[1], "isolation") == 0) {
		/* Started ahead as a spare: report once the test says go (claimed). */
		char go;
		if (recv(3, &go, 1, 0) != 1)
			return 1;
		isolation(atoi(argv[2]), argv[3]);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "garbage") == 0) {
		struct proto_hello hello = {.version = PROTO_VERSION};
		uint8_t buf[128];
		int n =
		    proto_encode(buf, sizeof(buf), PROTO_HELLO, 0, &hello, sizeof(hello), NULL, 0);
		(void)send(3, buf, (size_t)n, 0);
		/* Whatever the request, answer with a truncated header. */
		while (recv(3, buf, sizeof(buf), 0) > 0)
			(void)send(3, "\x0b\x00", 2, 0);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "sleep") == 0) {
		say("ready");
		for (;;)
			pause();
	}
	return 2;
}
