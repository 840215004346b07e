/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/init/jail.c - the sandbox's PID 1 (the spawner's clone() child),
 * from the new namespaces to the execve() of the worker, then the init that
 * reaps. The order follows bubblewrap/nsjail: ids, hostname,
 * loopback and pinhole listener, private root (tmpfs + read-only binds,
 * fresh /proc, minimal /dev, generated /etc), pivot_root, then for the worker
 * setsid, fds, rlimits, capabilities, no_new_privs and seccomp last.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "jail.h"

#define NEWROOT "/tmp"

static int setup_fd = -1;
/* The mount's /dev/fuse, opened by jail_child_main() when the shares are mounted. */
static int fuse_fd = -1;
/* The hand-off channel (smbsock.h): [0] for the gateway, [1] the worker's. */
static int smbsock[2] = {-1, -1};

/* Reports a failed step to the spawner and exits. */
_Noreturn static void setup_failed(const char *step, int err)
{
	struct jail_setup m = {.msg = JAIL_SETUP_FAIL, .err = err > 0 ? err : EIO};

	snprintf(m.step, sizeof(m.step), "%s", step);
	if (setup_fd >= 0)
		(void)send(setup_fd, &m, sizeof(m), MSG_NOSIGNAL);
	else /* the worker, after READY: only the log is left */
		dprintf(2, "smbgate: sandbox: %s: %s\n", step, strerror(m.err));
	_exit(127);
}

#define CHECK(expr, step)                                                                          \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			setup_failed(step, errno);                                                 \
	} while (0)

static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	size_t len = strlen(content);

	if (fd < 0)
		setup_failed(path, errno);
	if (write(fd, content, len) != (ssize_t)len)
		setup_failed(path, errno ? errno : EIO);
	close(fd);
}

static void make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		setup_failed(path, errno);
}

/* Binds @src read-only on @dst, keeping the flags the kernel locks (nosuid, nodev...). */
static void bind_ro(const char *src, const char *dst)
{
	static const struct {
		unsigned long st, ms; /* statvfs()'s flag, mount()'s */
	} locked[] = {
	    {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},	      {ST_NOEXEC, MS_NOEXEC},
	    {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	struct statvfs sv;
	unsigned long keep = 0;

	CHECK(mount(src, dst, NULL, MS_BIND | MS_REC, NULL), dst);
	CHECK(statvfs(dst, &sv), dst);
	for (size_t i = 0; i < sizeof(locked) / sizeof(locked[0]); i++)
		if (sv.f_flag & locked[i].st)
			keep |= locked[i].ms;
	CHECK(mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | keep, NULL),
	      dst);
}

/* A file to bind a single file or device node on. */
static void bind_file(const char *src, const char *dst, bool ro)
{
	int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		setup_failed(dst, errno);
	close(fd);
	if (ro) {
		bind_ro(src, dst);
		return;
	}
	CHECK(mount(src, dst, NULL, MS_BIND, NULL), dst);
}

/* /bin, /lib... : the same symlink when the host has one (merged /usr), else a read-only bind. */
static void mirror_top(const char *name)
{
	char src[64], dst[64], target[256];
	struct stat st;

	snprintf(src, sizeof(src), "/%s", name);
	snprintf(dst, sizeof(dst), NEWROOT "/%s", name);
	if (lstat(src, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			setup_failed(src, errno);
		target[n] = '\0';
		CHECK(symlink(target, dst), dst);
	} else if (S_ISDIR(st.st_mode)) {
		make_dir(dst, 0755);
		bind_ro(src, dst);
	}
}

static void tmpfs(const char *dst, const char *opts)
{
	CHECK(mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, opts), dst);
}

static void loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		setup_failed("lo", errno);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	CHECK(ioctl(fd, SIOCGIFFLAGS, &ifr), "lo flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	CHECK(ioctl(fd, SIOCSIFFLAGS, &ifr), "lo up");
	close(fd);
}

static int pinhole_listener(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(JAIL_PINHOLE_PORT)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		setup_failed("pinhole socket", errno);
	inet_pton(AF_INET, JAIL_PINHOLE_ADDR, &sa.sin_addr);
	CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), "pinhole");
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "pinhole bind");
	CHECK(listen(fd, 16), "pinhole listen");
	return fd;
}

static void generate_etc(const struct jail_params *p)
{
	char buf[1024];

	make_dir(NEWROOT "/etc", 0755);
	make_dir(NEWROOT "/etc/samba", 0755);
	snprintf(buf, sizeof(buf),
		 "127.0.0.1\tlocalhost %s%s\n"
		 "::1\tlocalhost ip6-localhost\n",
		 p->server_name ? p->server_name : "", "");
	write_file(NEWROOT "/etc/hosts", buf, 0644);
	snprintf(buf, sizeof(buf), "%s\n", p->hostname);
	write_file(NEWROOT "/etc/hostname", buf, 0644);
	snprintf(buf, sizeof(buf),
		 "root:x:0:0:root:/:/usr/sbin/nologin\n"
		 "%s:x:%d:%d:smbgate sandbox:%s:/usr/sbin/nologin\n"
		 "nobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n",
		 JAIL_USER, JAIL_UID, JAIL_GID, JAIL_HOME);
	write_file(NEWROOT "/etc/passwd", buf, 0644);
	snprintf(buf, sizeof(buf), "root:x:0:\n%s:x:%d:\nnogroup:x:65534:\n", JAIL_USER, JAIL_GID);
	write_file(NEWROOT "/etc/group", buf, 0644);
	write_file(NEWROOT "/etc/nsswitch.conf",
		   "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
		   "networks: files\nprotocols: files\nservices: files\n",
		   0644);
	write_file(NEWROOT "/etc/resolv.conf", "", 0644);
	/* libsmbclient's own configuration: every directory inside the sandbox,
	 * name resolution through /etc/hosts only, TCP only. */
	write_file(NEWROOT "/etc/samba/smb.conf",
		   "[global]\n"
		   "\tworkgroup = WORKGROUP\n"
		   "\tname resolve order = host\n"
		   "\tdisable netbios = yes\n"
		   "\tinterfaces = 127.0.0.1/8\n"
		   "\tbind interfaces only = yes\n"
		   "\tclient use spnego = yes\n"
		   "\tlock directory = /var/samba/lock\n"
		   "\tstate directory = /var/samba/state\n"
		   "\tcache directory = /var/samba/cache\n"
		   "\tprivate dir = /var/samba/private\n"
		   "\tpid directory = /var/samba/run\n"
		   "\tncalrpc dir = /var/samba/ncalrpc\n"
		   "\tlog level = 0\n",
		   0644);
	if (access("/etc/ld.so.cache", R_OK) == 0)
		bind_file("/etc/ld.so.cache", NEWROOT "/etc/ld.so.cache", true);
}

/*
 * The shares' mount point, /shares/SERVER, served over @p->fuse_fd by the
 * worker's FUSE server (started at login): mounted here, in the sandbox's own
 * user and mount namespaces, so that nothing outside ever sees it and no
 * setuid fusermount is involved. Until the server answers, an access waits.
 */
static void mount_shares(const struct jail_params *p)
{
	char path[128], opts[160];

	make_dir(NEWROOT JAIL_SHARES, 0755);
	snprintf(path, sizeof(path), NEWROOT JAIL_SHARES "/%s", p->mount_name);
	make_dir(path, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40755,user_id=%d,group_id=%d,max_read=%d",
		 fuse_fd, JAIL_UID, JAIL_GID, 1024 * 1024);
	CHECK(mount("smbgate", path, "fuse.smbgate", MS_NOSUID | MS_NODEV, opts), "mount shares");
}

static void build_root(const struct jail_params *p, int worker_fd)
{
	static const char *const tops[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
	static const char *const devs[] = {"null", "zero", "full", "random", "urandom"};
	char path[64];

	/* Nothing we mount propagates back to the host. */
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL), "make / slave");
	tmpfs(NEWROOT, "mode=0755,size=4m,nr_inodes=1024");

	make_dir(NEWROOT "/usr", 0755);
	bind_ro("/usr", NEWROOT "/usr");
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		mirror_top(tops[i]);
	generate_etc(p);

	make_dir(NEWROOT "/dev", 0755);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		char src[32];
		snprintf(src, sizeof(src), "/dev/%s", devs[i]);
		snprintf(path, sizeof(path), NEWROOT "/dev/%s", devs[i]);
		bind_file(src, path, false);
	}
	CHECK(symlink("/proc/self/fd", NEWROOT "/dev/fd"), "/dev/fd");
	CHECK(symlink("/proc/self/fd/0", NEWROOT "/dev/stdin"), "/dev/stdin");
	CHECK(symlink("/proc/self/fd/1", NEWROOT "/dev/stdout"), "/dev/stdout");
	CHECK(symlink("/proc/self/fd/2", NEWROOT "/dev/stderr"), "/dev/stderr");

	/* The worker executable, wherever it lives on the host. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", worker_fd);
	bind_file(path, NEWROOT JAIL_WORKER_PATH, true);
	close(worker_fd);

	make_dir(NEWROOT "/proc", 0555);
	CHECK(mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "/proc");

	/* The writable places, each a small private tmpfs. */
	make_dir(NEWROOT "/tmp", 01777);
	char opts[96];
	snprintf(opts, sizeof(opts), "mode=1777,size=%llu,nr_inodes=%llu",
		 (unsigned long long)p->tmp_size, (unsigned long long)(p->tmp_size / 4096));
	tmpfs(NEWROOT "/tmp", opts);
	make_dir(NEWROOT "/home", 0755);
	make_dir(NEWROOT JAIL_HOME, 0700);
	tmpfs(NEWROOT JAIL_HOME, "mode=0700,size=4m,nr_inodes=256");
	make_dir(NEWROOT "/var", 0755);
	tmpfs(NEWROOT "/var", "mode=0755,size=16m,nr_inodes=1024");
	static const char *const sambadirs[] = {"lock",	   "state", "cache",
						"private", "run",   "ncalrpc"};
	make_dir(NEWROOT "/var/samba", 0755);
	for (size_t i = 0; i < sizeof(sambadirs) / sizeof(sambadirs[0]); i++) {
		snprintf(path, sizeof(path), NEWROOT "/var/samba/%s", sambadirs[i]);
		make_dir(path, 0700);
	}
	make_dir(NEWROOT "/run", 0755);
	if (fuse_fd >= 0)
		mount_shares(p);
	make_dir(NEWROOT "/oldroot", 0755);

	CHECK(syscall(SYS_pivot_root, NEWROOT, NEWROOT "/oldroot"), "pivot_root");
	CHECK(chdir("/"), "chdir /");
	CHECK(umount2("/oldroot", MNT_DETACH), "detach old root");
	CHECK(rmdir("/oldroot"), "rmdir /oldroot");
	/* The root itself is read-only from here on. */
	CHECK(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL),
	      "root read-only");
}

/* Raises the effective set to the permitted one (after a uid change). */
static void caps_effective(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	CHECK(syscall(SYS_capget, &h, d), "capget");
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	CHECK(syscall(SYS_capset, &h, d), "capset");
}

/* Drops every capability: bounding set, ambient, then effective/permitted/inheritable. */
static void caps_drop_all(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			setup_failed("drop bounding set", errno);
	CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient");
	CHECK(syscall(SYS_capset, &h, d), "drop capabilities");
}

static void set_rlimit(int res, rlim_t v, const char *step)
{
	struct rlimit rl = {v, v};
	CHECK(setrlimit(res, &rl), step);
}

_Noreturn static void exec_worker(const struct jail_params *p)
{
	int devnull;

	/* fds: 0 and 1 /dev/null, 2 the log, 3 the control socket, 4 /dev/fuse
	 * with a mount, 5 the hand-off channel with smb_socket = handoff, nothing
	 * else. Everything is first moved above 10 so that no dup2() clobbers a
	 * source. */
	CHECK(setsid(), "setsid");
	CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "pdeathsig");
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		setup_failed("/dev/null", errno);
	int hi_null = fcntl(devnull, F_DUPFD_CLOEXEC, 10);
	int hi_ctl = fcntl(p->ctl_fd, F_DUPFD_CLOEXEC, 10);
	int hi_log = fcntl(p->stderr_fd, F_DUPFD_CLOEXEC, 10);
	int hi_fuse = fuse_fd >= 0 ? fcntl(fuse_fd, F_DUPFD_CLOEXEC, 10) : -1;
	int hi_sock = p->smb_handoff ? fcntl(smbsock[1], F_DUPFD_CLOEXEC, 10) : -1;
	if (hi_null < 0 || hi_ctl < 0 || hi_log < 0 || (fuse_fd >= 0 && hi_fuse < 0) ||
	    (p->smb_handoff && hi_sock < 0))
		setup_failed("move fds", errno);
	CHECK(dup2(hi_null, 0), "dup2 stdin");
	CHECK(dup2(hi_null, 1), "dup2 stdout");
	CHECK(dup2(hi_log, 2), "dup2 stderr");
	CHECK(dup2(hi_ctl, JAIL_CTL_FD), "dup2 ctl");
	if (hi_fuse >= 0)
		CHECK(dup2(hi_fuse, JAIL_FUSE_FD), "dup2 fuse");
	if (hi_sock >= 0) {
		CHECK(dup2(hi_sock, JAIL_SMBSOCK_FD), "dup2 smbsock");
		if (hi_fuse < 0)
			(void)close(JAIL_FUSE_FD);
		CHECK(syscall(SYS_close_range, JAIL_SMBSOCK_FD + 1, ~0U, 0), "close fds");
	} else {
		CHECK(syscall(SYS_close_range, hi_fuse >= 0 ? JAIL_FUSE_FD + 1 : JAIL_FUSE_FD, ~0U,
			      0),
		      "close fds");
	}

	set_rlimit(RLIMIT_NOFILE, JAIL_RLIMIT_NOFILE, "RLIMIT_NOFILE");
	set_rlimit(RLIMIT_CORE, 0, "RLIMIT_CORE");
	if (p->max_processes)
		set_rlimit(RLIMIT_NPROC, p->max_processes, "RLIMIT_NPROC");

	caps_drop_all();
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs");
	int r = jail_seccomp_apply(p->smb_handoff);
	if (r < 0)
		setup_failed("seccomp", -r);
	execve(JAIL_WORKER_PATH, p->argv, p->envp);
	/* fd 2 is the gateway's log; the spawner already got READY. */
	dprintf(2, "smbgate: sandbox: cannot execute the worker: %s\n", strerror(errno));
	_exit(127);
}

/* Exits like the worker did. */
_Noreturn static void exit_as(int status)
{
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/*
 * PID 1 of a started sandbox: reaps while it waits for a session to claim it
 * (JAIL_SETUP_CLAIM with the hostname), then answers and closes the setup
 * socket. Exits when the worker exits or the spawner goes away first.
 */
static void wait_for_claim(pid_t worker)
{
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(127);
	for (;;) {
		struct pollfd pf[2] = {{.fd = setup_fd, .events = POLLIN},
				       {.fd = sfd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(127);
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			int status;
			pid_t w;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0)
				if (w == worker)
					exit_as(status);
		}
		if (pf[0].revents) {
			struct jail_setup m = {0};
			ssize_t n = recv(setup_fd, &m, sizeof(m), 0);
			if (n != (ssize_t)sizeof(m) || m.msg != JAIL_SETUP_CLAIM)
				_exit(127); /* the spawner is gone, or confused */
			m.step[sizeof(m.step) - 1] = '\0';
			struct jail_setup a = {.msg = JAIL_SETUP_CLAIMED};
			if (sethostname(m.step, strlen(m.step)) < 0)
				a = (struct jail_setup){.msg = JAIL_SETUP_FAIL, .err = errno};
			if (send(setup_fd, &a, sizeof(a), MSG_NOSIGNAL) != sizeof(a) ||
			    a.msg != JAIL_SETUP_CLAIMED)
				_exit(127);
			close(setup_fd);
			setup_fd = -1;
			close(sfd);
			sigprocmask(SIG_UNBLOCK, &mask, NULL);
			return;
		}
	}
}

/* Closes every fd but 0, 1, 2 and the @n in @keep. */
static void close_except(const int *keep, size_t n)
{
	unsigned lo = 3;

	for (;;) {
		unsigned next = ~0U;
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next > lo)
			(void)syscall(SYS_close_range, lo, next == ~0U ? ~0U : next - 1, 0);
		if (next == ~0U)
			return;
		lo = next + 1;
	}
}

_Noreturn void jail_child_main(const struct jail_params *p)
{
	struct jail_setup m = {0};
	struct pollfd pfd;
	pid_t worker;
	int lfd, worker_fd;
	ssize_t n;

	setup_fd = p->setup_fd;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(127);
	const int keep[] = {p->setup_fd, p->ctl_fd, p->stderr_fd};
	close_except(keep, sizeof(keep) / sizeof(keep[0]));

	/* The spawner writes our uid/gid maps, then says go (or dies: EOF). */
	n = recv(setup_fd, &m, sizeof(m), 0);
	if (n != (ssize_t)sizeof(m) || m.msg != JAIL_SETUP_GO)
		_exit(127);

	/* /dev/fuse is opened here, in the sandbox's user namespace (the kernel
	 * mounts a FUSE fd only in the namespace that opened it) but still with
	 * the spawner's host uid (the device is root's). No mount without it. */
	if (p->mount_name)
		fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	/* Opened in our own mount namespace, before the uid change: the worker
	 * may sit below a directory only the gateway's uid can traverse. */
	worker_fd = open(p->worker_path, O_PATH | O_CLOEXEC);
	if (worker_fd < 0)
		setup_failed("open worker", errno);

	if (p->map_root)
		CHECK(setgroups(0, NULL), "setgroups");
	CHECK(setresgid(JAIL_GID, JAIL_GID, JAIL_GID), "setresgid");
	CHECK(setresuid(JAIL_UID, JAIL_UID, JAIL_UID), "setresuid");
	caps_effective();
	/* A credential change clears the parent-death signal: set it again,
	 * then make sure the spawner did not die in between. */
	CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "pdeathsig");
	pfd = (struct pollfd){.fd = setup_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
		_exit(127);

	CHECK(sethostname(p->hostname, strlen(p->hostname)), "sethostname");
	CHECK(setdomainname("sandbox", 7), "setdomainname");
	loopback_up();
	lfd = pinhole_listener();
	/* Made in every mode, so that the spawner's answer has one shape; the
	 * worker gets its end with smb_socket = handoff only. */
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, smbsock), "smbsock channel");
	build_root(p, worker_fd);

	worker = fork();
	if (worker < 0)
		setup_failed("fork worker", errno);
	if (worker == 0) {
		close(lfd);
		close(smbsock[0]);
		close(setup_fd);
		setup_fd = -1;
		exec_worker(p);
	}

	/* PID 1: hand the pinhole listener out, keep nothing, reap until the worker exits. */
	{
		struct jail_setup ok = {.msg = JAIL_SETUP_READY};
		const int out[2] = {lfd, smbsock[0]};
		if (fdpass_send(setup_fd, &ok, sizeof(ok), out, 2) < 0) {
			kill(worker, SIGKILL);
			_exit(127);
		}
	}
	close(lfd);
	close(smbsock[0]);
	close(smbsock[1]);
	close(p->ctl_fd);
	close(p->stderr_fd);
	if (fuse_fd >= 0)
		close(fuse_fd); /* the worker's now: the mount dies with its server */
	wait_for_claim(worker);
	caps_drop_all();
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

	for (;;) {
		int status;
		pid_t w = waitpid(-1, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(127);
		if (w == worker)
			exit_as(status);
	}
}
