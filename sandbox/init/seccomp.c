/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/init/seccomp.c - the worker's seccomp filter, built with
 * libseccomp and installed by the sandbox's PID 1 right before it execs the
 * worker.
 *
 * Deny by default: a system call outside the allowlist fails with EPERM.
 * Calls that only an escape attempt would make (mount, ptrace, namespaces,
 * kernel modules, bpf, keys...) kill the whole process. The list covers
 * glibc, libsmbclient (sockets, tdb files, poll), the worker, and the
 * AddressSanitizer/UBSan runtimes of the sanitizer build.
 *
 * Runs in: the sandbox's PID 1, for the worker it is about to exec.
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <seccomp.h>

#include "jail.h"

/* clang-format off */
static const char *const allowed[] = {
	/* files and fds */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "lseek", "_llseek", "close", "close_range", "open", "openat",
	"openat2", "stat", "fstat", "lstat", "newfstatat", "fstatat64", "stat64", "fstat64",
	"lstat64", "statx", "statfs", "fstatfs", "statfs64", "fstatfs64", "access", "faccessat",
	"faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "mkdir", "mkdirat",
	"unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir", "ftruncate",
	"truncate", "fsync", "fdatasync", "fcntl", "fcntl64", "flock", "dup", "dup2", "dup3",
	"pipe", "pipe2", "splice", "vmsplice", "tee", "sendfile", "sendfile64", "umask", "chdir", "fchdir",
	"getcwd", "fadvise64", "fadvise64_64", "readahead",
	/* memory */
	"mmap", "mmap2", "munmap", "mprotect", "mremap", "madvise", "brk", "mincore",
	"msync", "membarrier",
	/* threads, time, identity */
	"futex", "futex_time64", "get_robust_list", "set_robust_list", "set_tid_address",
	"rseq", "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler",
	"nanosleep", "clock_nanosleep", "clock_nanosleep_time64", "clock_gettime",
	"clock_gettime64", "clock_getres", "gettimeofday", "time", "getpid", "getppid",
	"gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
	"getresgid", "getpgrp", "getpgid", "getsid", "getrlimit", "ugetrlimit", "setrlimit",
	"prlimit64", "getrusage", "uname", "sysinfo", "times", "getrandom", "arch_prctl",
	"prctl", "restart_syscall", "seccomp", /* only ever adds filters */
	/* signals and processes */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
	"rt_sigsuspend", "sigaltstack", "kill", "tgkill", "tkill", "exit", "exit_group",
	"wait4", "waitid", "fork", "vfork", "execve", "execveat",
	/* sockets (socket(), connect(), socketpair(), setsockopt() and the sends
	 * are filtered below, by mode) */
	"getsockname", "getpeername", "getsockopt", "recvfrom", "recvmsg", "recvmmsg",
	"shutdown",
	/* waiting */
	"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6",
	"pselect6_time64", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create",
	"timerfd_settime", "timerfd_gettime",
};

/* With the relay, the sockets of the worker live in the sandbox's network
 * namespace, where only lo and the pinhole exist: these are harmless. */
static const char *const relay_sockets[] = {
	"socketpair", "connect", "setsockopt", "sendto", "sendmsg", "sendmmsg",
};

/* Only an escape attempt makes these: the process dies. */
static const char *const fatal[] = {
	"mount", "umount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv",
	"process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
	"unshare", "setns", "userfaultfd", "open_by_handle_at", "name_to_handle_at",
	"reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "adjtimex",
	"clock_adjtime", "iopl", "ioperm", "quotactl", "fsopen", "fsmount", "fsconfig",
	"move_mount", "open_tree", "mount_setattr", "pidfd_getfd",
};
/* clang-format on */

static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/*
 * The socket calls of the hand-off mode: the worker holds TCP sockets that
 * the gateway connected, in the gateway's network namespace, and must not be
 * able to point one elsewhere, route it elsewhere, open another, or pass one
 * to a process whose filter would allow that. Everything not allowed here
 * fails with EPERM (the default action):
 * - socket(): no new socket of any family (the worker's socket() hands
 *   libsmbclient a placeholder, sandbox/worker/handoff.c); connect(), bind(),
 *   listen(), accept(): never (AF_UNSPEC would disconnect a TCP socket);
 * - socketpair(): AF_UNIX stream or seqpacket only; a datagram pair could
 *   sendto() an fd to an address bound by another program of the sandbox;
 *   stream and seqpacket sockets ignore or refuse a destination address;
 * - sendto(), sendmsg(), sendmmsg(): without MSG_FASTOPEN (which connects);
 * - setsockopt(): SOL_SOCKET and IPPROTO_TCP only (no IP_OPTIONS source
 *   routing, nothing of IPPROTO_IP or IPPROTO_IPV6), and never SO_LINGER:
 *   the gateway may hold the last reference of a socket the worker sent it
 *   (a surplus fd of a message, one left queued in a lane's socket), and
 *   the last close of a lingering TCP socket waits for its peer.
 */
static int add_handoff_sockets(scmp_filter_ctx ctx)
{
	static const int pair_types[] = {SOCK_STREAM, SOCK_SEQPACKET};
	const scmp_datum_t fastopen = MSG_FASTOPEN;
	int r;

	for (size_t i = 0; i < sizeof(pair_types) / sizeof(pair_types[0]); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 2,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_UNIX),
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)pair_types[i]));
		if (r < 0)
			return r;
	}
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
			     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)SOL_SOCKET),
			     SCMP_A2(SCMP_CMP_NE, (scmp_datum_t)SO_LINGER));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)IPPROTO_TCP));
	if (r < 0)
		return r;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
			     SCMP_A3(SCMP_CMP_MASKED_EQ, fastopen, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, fastopen, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmmsg), 1,
				     SCMP_A3(SCMP_CMP_MASKED_EQ, fastopen, 0));
	return r;
}

/* The namespaces no process of the sandbox may make. */
#define NS_FLAGS                                                                                   \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | \
	 CLONE_NEWCGROUP)

/* A filter that does @def_action for the calls no rule names and kills the
 * process at a call of fatal[] (a way out of the jail). Caller releases it
 * with seccomp_release(). */
static int filter_new(uint32_t def_action, scmp_filter_ctx *ret)
{
	scmp_filter_ctx ctx = seccomp_init(def_action);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = add_names(ctx, SCMP_ACT_KILL_PROCESS, fatal, sizeof(fatal) / sizeof(fatal[0]));
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

/* Loads @ctx unless @r (where its rules stand) is a failure, and releases it. */
static int filter_finish(scmp_filter_ctx ctx, int r)
{
	if (r >= 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int jail_seccomp_apply(bool handoff)
{
	const uint64_t ns_flags = NS_FLAGS;
	scmp_filter_ctx ctx;
	int r = filter_new(SCMP_ACT_ERRNO(EPERM), &ctx);

	if (r < 0)
		return r;
	r = add_names(ctx, SCMP_ACT_ALLOW, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (r < 0)
		goto out;

	if (handoff) {
		r = add_handoff_sockets(ctx);
		if (r < 0)
			goto out;
	} else {
		r = add_names(ctx, SCMP_ACT_ALLOW, relay_sockets,
			      sizeof(relay_sockets) / sizeof(relay_sockets[0]));
		if (r < 0)
			goto out;
		/* socket(): UNIX and IP only (no netlink, packet, ...). */
		static const int domains[] = {AF_UNIX, AF_INET, AF_INET6};
		for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)domains[i]));
			if (r < 0)
				goto out;
		}
	}
	/* clone(): threads and forks, never new namespaces. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags, 0));
	if (r < 0)
		goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r < 0)
		goto out;
	/* clone3() hides its flags in memory: ENOSYS makes glibc fall back to clone(). */
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0 && r != -EDOM)
		goto out;
	/* personality(): only the query the sanitizer runtimes make. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
			     SCMP_A0(SCMP_CMP_EQ, 0xffffffffu));
	if (r < 0)
		goto out;
	/* ioctl(): the few requests glibc and libsmbclient make on their own fds
	 * (the kernel reads the request as 32 bits: compare those only). */
	static const unsigned long ioctls[] = {FIONREAD, FIONBIO, FIOCLEX,
					       FIONCLEX, TCGETS,  TIOCGWINSZ};
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i]));
		if (r < 0)
			goto out;
	}
out:
	return filter_finish(ctx, r);
}

int jail_seccomp_exec_apply(void)
{
	const uint64_t ns_flags = NS_FLAGS;
	scmp_filter_ctx ctx;
	/* Whatever an ordinary program does, but no way out. */
	int r = filter_new(SCMP_ACT_ALLOW, &ctx);

	if (r < 0)
		return r;
	/* clone() with any namespace flag fails; clone3() hides its flags in
	 * memory: ENOSYS makes glibc fall back to clone(). */
	for (uint64_t bit = 1; bit; bit <<= 1) {
		if (!(ns_flags & bit))
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit));
		if (r < 0 && r != -EEXIST)
			goto out;
	}
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0 && r != -EDOM)
		goto out;
	/* No raw or netlink sockets; no typing into a terminal. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			     SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)AF_INET6));
	if (r < 0)
		goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
out:
	return filter_finish(ctx, r);
}
