/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/spawner/enter.h - running an administrator's command inside a live
 * sandbox (smbgatectl exec). Runs in: a child of the spawner, which joins the
 * sandbox's namespaces through its pidfd, and that child's own child, the
 * command.
 */
#pragma once

#include <stdbool.h>

#include "cfg.h"

/*
 * Joins the user, mount, PID, network, UTS and IPC namespaces of the sandbox
 * behind @pidfd, then forks the command: fds 0-2 from @stdio, the sandbox's
 * uid and gid, no capabilities (bounding set included), the sandbox's
 * rlimits, no_new_privs, jail_seccomp_exec_apply(), then execve() of @argv
 * (NULL-terminated; argv[0] looked up in /usr/bin and /bin unless it holds a
 * '/'). Waits for it and writes its status to @status_fd as one int32: the
 * exit code, or 128 + the signal's number; 126 when the sandbox cannot be
 * joined, 127 when the command cannot be run (a line on @stdio[2] says why).
 * With @tty, stdin is a terminal (a pseudo-terminal of smbgatectl) that
 * becomes the command's controlling terminal. With @cgroup_procs (the
 * cgroup.procs file of the sandbox's cgroup, borrowed), this process first
 * moves into that cgroup, so the command is under the sandbox's memory and
 * process limits; 126 when it cannot. Never returns. The caller (a fresh
 * child of the spawner) owns every fd.
 */
_Noreturn void enter_run(const struct cfg *cfg, int pidfd, const char *cgroup_procs,
			 const int stdio[3], int status_fd, char *const argv[], bool tty);
