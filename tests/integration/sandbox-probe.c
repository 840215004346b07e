/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox-probe.c - run by the sandbox tests in place of smbgate-worker, in
 * the very same jail (namespaces, mounts, capabilities, seccomp). It reports
 * what it sees from the inside as "key=value" datagrams on fd 3, then "end".
 *
 *   sandbox-probe isolation HOST_PORT CONFIG_PATH   report isolation facts
 *   sandbox-probe garbage                           a HELLO, then malformed answers
 *   sandbox-probe sleep                             "ready", then wait forever
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"

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

int main(int argc, char **argv)
{
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
