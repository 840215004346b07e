/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/spawner/enter.c - an administrator's command inside a live sandbox.
 * See enter.h.
 *
 * Runs in: a child of the spawner (joins the sandbox, waits, reports) and its
 * child, the command (inside the sandbox's PID namespace: it dies with the
 * sandbox).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enter.h"
#include "jail.h"

#define ENTER_NS                                                                                   \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)

/* Says why on the command's stderr and exits with @code (no return). */
_Noreturn static void refuse(int err_fd, int code, const char *what, int err)
{
	dprintf(err_fd, "smbgate: exec: %s: %s\n", what, strerror(err));
	_exit(code);
}

/* The command's side: become the sandbox's user with nothing more, then exec. */
_Noreturn static void become_and_exec(const struct cfg *cfg, const int stdio[3], char *const argv[],
				      bool tty)
{
	static char home[] = "HOME=" JAIL_HOME, pathenv[] = "PATH=/usr/bin:/bin",
		    lang[] = "LANG=C.UTF-8", user[] = "USER=" JAIL_USER;
	char *const envp[] = {home, pathenv, lang, user, NULL};
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	struct rlimit nofile = {JAIL_RLIMIT_NOFILE, JAIL_RLIMIT_NOFILE}, core = {0, 0};
	struct rlimit nproc = {cfg->max_processes, cfg->max_processes};
	int err = stdio[2];

	/* The gateway's blocked signals and the spawner's dispositions are not
	 * the command's. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	if (setsid() < 0 || dup2(stdio[0], 0) < 0 || dup2(stdio[1], 1) < 0 || dup2(stdio[2], 2) < 0)
		refuse(err, 126, "stdio", errno);
	err = 2;
	if (tty && ioctl(0, TIOCSCTTY, 0) < 0)
		refuse(err, 126, "controlling terminal", errno);
	if (syscall(SYS_close_range, 3, ~0U, 0) < 0)
		refuse(err, 126, "close fds", errno);
	(void)setgroups(0, NULL); /* EPERM where the sandbox denies setgroups: none to drop */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			refuse(err, 126, "drop the bounding set", errno);
	if (setresgid(JAIL_GID, JAIL_GID, JAIL_GID) < 0 ||
	    setresuid(JAIL_UID, JAIL_UID, JAIL_UID) < 0)
		refuse(err, 126, "become the sandbox's user", errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &h, d) < 0)
		refuse(err, 126, "drop capabilities", errno);
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CORE, &core) < 0 ||
	    (cfg->max_processes && setrlimit(RLIMIT_NPROC, &nproc) < 0))
		refuse(err, 126, "rlimits", errno);
	if (chdir(JAIL_HOME) < 0 && chdir("/") < 0)
		refuse(err, 126, "chdir", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		refuse(err, 126, "no_new_privs", errno);
	int r = jail_seccomp_exec_apply();
	if (r < 0)
		refuse(err, 126, "seccomp", -r);
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
	} else {
		static const char *const dirs[] = {"/usr/bin/", "/bin/"};
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			char path[512];
			snprintf(path, sizeof(path), "%s%s", dirs[i], argv[0]);
			execve(path, argv, envp);
		}
	}
	dprintf(2, "smbgate: exec: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Moves this process into the cgroup whose cgroup.procs is @procs. */
static int join_cgroup(const char *procs)
{
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, "0", 1) == 1 ? 0 : -errno;
	close(fd);
	return r;
}

_Noreturn void enter_run(const struct cfg *cfg, int pidfd, const char *cgroup_procs,
			 const int stdio[3], int status_fd, char *const argv[], bool tty)
{
	int32_t code;
	int status;

	(void)prctl(PR_SET_NAME, "smbgate-exec", 0, 0, 0);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* Before setns(): the cgroup tree is the host's. Fails closed: a command
	 * outside the sandbox's limits is not run. */
	int r = cgroup_procs ? join_cgroup(cgroup_procs) : 0;
	if (r < 0) {
		code = 126;
		dprintf(stdio[2], "smbgate: exec: cannot join the sandbox's cgroup: %s\n",
			strerror(-r));
		goto report;
	}
	if (setns(pidfd, ENTER_NS) < 0) {
		code = 126;
		dprintf(stdio[2], "smbgate: exec: cannot join the sandbox: %s\n", strerror(errno));
		goto report;
	}
	close(pidfd);
	pid_t pid = fork(); /* the first child in the sandbox's PID namespace */
	if (pid < 0) {
		code = 126;
		dprintf(stdio[2], "smbgate: exec: fork: %s\n", strerror(errno));
		goto report;
	}
	if (pid == 0) {
		close(status_fd);
		become_and_exec(cfg, stdio, argv, tty);
	}
	for (int i = 0; i < 3; i++)
		close(stdio[i]); /* the command's alone: EOF reaches the reader when it ends */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 0x7f00; /* 127 */
			break;
		}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
report:
	(void)!write(status_fd, &code, sizeof(code));
	_exit(0);
}
