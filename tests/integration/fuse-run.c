/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuse-run: mounts the FUSE file system (sandbox/fuse/) of one fixture user,
 * unprivileged, in a fresh user+mount namespace, and runs a command there.
 * Run as root under tests/fixtures/with-samba.sh (test_fuse.py drives it):
 *
 *     fuse-run [--uid N] [--server-killed] USER MOUNTPOINT -- CMD [ARGS...]
 *
 * The processes, as the sandbox will have them:
 *   this one (root, host namespaces): logs USER in (smb_open()), forks
 *   the child: unshare(CLONE_NEWUSER|CLONE_NEWNS); this process maps its
 *     uid and gid 0 to host uid/gid N (65534) and denies setgroups. Still
 *     holding its host credentials, the child opens /dev/fuse (the kernel
 *     wants the mount made from the user namespace of the fd's opener), then
 *     becomes uid 0 of the namespace (host uid N, no host privilege) and
 *     mounts "fuse.smbgate" on MOUNTPOINT with fd=, rootmode=, user_id=0,
 *     group_id=0; it forks
 *       the server: smb_clone() of the login, fusefs_serve() on the fd;
 *       the command, with SMBGATE_FUSE_MNT and SMBGATE_FUSE_SERVER_PID set.
 *     When the command ends the child sends SIGTERM to the server, which
 *     must exit 0 (with --server-killed: the command killed it, it must
 *     have died of SIGKILL), and exits: the namespace ends.
 *   Then this process checks that no process is left in that mount
 *   namespace and that the host never saw the mount.
 *
 * The server's options are fusefs_opts_init()'s; SMBGATE_FUSE_DEBUG (any
 * value) logs every request, SMBGATE_FUSE_MAX_HANDLES and
 * SMBGATE_FUSE_MAX_NODES set those limits.
 *
 * Exit status: 0 when all of that held and the command exited 0; 1
 * otherwise; 2 for bad usage. A missing /dev/fuse or user namespaces are
 * failures (never skipped).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "fixture.h"
#include "fusefs.h"
#include "smb.h"

#define SERVER_STOP_TIMEOUT 10 /* seconds for the server to end after SIGTERM */

static void die(const char *what)
{
	fprintf(stderr, "fuse-run: FAIL: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

static void sync_read(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1) {
		fprintf(stderr, "fuse-run: FAIL: the other side of the set-up went away\n");
		_exit(1);
	}
}

static void sync_write(int fd)
{
	if (write(fd, "x", 1) != 1)
		die("set-up pipe");
}

static const char *describe(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "status %#x", status);
	return buf;
}

static struct smb *login(const char *user)
{
	struct smb_params p = {
	    .min_protocol = CFG_PROTO_SMB2_02,
	    .max_protocol = CFG_PROTO_SMB3_11,
	    .encryption = CFG_ENCRYPTION_OFF,
	    .timeout = 10,
	};
	char server[64];
	const char *pass = strcmp(user, FIXTURE_ALICE) == 0 ? FIXTURE_ALICE_PASS
			   : strcmp(user, FIXTURE_BOB) == 0 ? FIXTURE_BOB_PASS
							    : NULL;
	struct smb *s = NULL;
	int r;

	if (!pass) {
		fprintf(stderr, "fuse-run: unknown fixture user %s\n", user);
		exit(2);
	}
	/* libsmbclient takes a port in the URL's server part. */
	snprintf(server, sizeof(server), "%s:%d", fixture_require("SAMBA_HOST"), fixture_port());
	p.server = server;
	r = smb_open(&p, FIXTURE_WORKGROUP, user, pass, NULL, &s);
	if (r) {
		fprintf(stderr, "fuse-run: FAIL: login of %s: %s\n", user, proto_err_name(r));
		exit(1);
	}
	return s;
}

/* The server process: its own context, the mounted fd; never returns. */
static void serve(struct smb *login_ctx, int fuse_fd)
{
	struct fusefs_opts o;
	struct smb *c = NULL;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The login's connections are the parent's: never touched here. */
	if (smb_clone(login_ctx, &c) != 0) {
		fprintf(stderr, "fuse-run: FAIL: smb_clone\n");
		_exit(1);
	}
	fusefs_opts_init(&o);
	o.debug = getenv("SMBGATE_FUSE_DEBUG") != NULL;
	if (getenv("SMBGATE_FUSE_MAX_HANDLES"))
		o.max_handles = (unsigned)strtoul(getenv("SMBGATE_FUSE_MAX_HANDLES"), NULL, 10);
	if (getenv("SMBGATE_FUSE_MAX_NODES"))
		o.max_nodes = (unsigned)strtoul(getenv("SMBGATE_FUSE_MAX_NODES"), NULL, 10);
	int r = fusefs_serve(c, "fixture", fuse_fd, &o);
	smb_free(c);
	if (r)
		fprintf(stderr, "fuse-run: fusefs_serve: %s\n", strerror(-r));
	exit(r ? 1 : 0); /* exit(), not _exit(): LeakSanitizer checks the server too */
}

/* The child: namespaces, mount, server, command. Returns its exit status. */
static int child(struct smb *s, const char *mnt, char **cmd, bool server_killed, int to_parent,
		 int from_parent)
{
	char opts[128], buf[64], pidstr[32];
	int fd, status;
	pid_t server, run;
	int rc = 0, server_status = -1, cmd_status = -1;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWUSER|CLONE_NEWNS) (user namespaces missing?)");
	sync_write(to_parent);
	sync_read(from_parent); /* the id maps are written */
	/* Opened with the host credentials still held, in the new user
	 * namespace: the mount below must come from the opener's namespace. */
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/fuse");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die("setresuid to uid 0 of the namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("mount --make-rprivate /");
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("smbgate", mnt, "fuse.smbgate", MS_NOSUID | MS_NODEV, opts) < 0)
		die("mount fuse.smbgate");

	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0)
		serve(s, fd);
	close(fd); /* the server's alone: its death must end the connection */
	/* Ready when it answers (INIT, then this GETATTR): its signal handlers
	 * are in place from then on. */
	struct stat st;
	if (stat(mnt, &st) < 0)
		die("stat of the mount (the server's first answer)");

	run = fork();
	if (run < 0)
		die("fork");
	if (run == 0) {
		snprintf(pidstr, sizeof(pidstr), "%d", (int)server);
		setenv("SMBGATE_FUSE_MNT", mnt, 1);
		setenv("SMBGATE_FUSE_SERVER_PID", pidstr, 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "fuse-run: exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	/* Reap the server as soon as it dies (the command may kill it and wait
	 * for it to be gone), until the command ends. */
	while (cmd_status < 0) {
		pid_t p = wait(&status);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			die("wait");
		if (p == server)
			server_status = status;
		else if (p == run)
			cmd_status = status;
	}
	if (server_status < 0) {
		kill(server, SIGTERM);
		alarm(SERVER_STOP_TIMEOUT); /* a server that hangs: this process dies, so does it */
		if (waitpid(server, &server_status, 0) < 0)
			die("waitpid server");
		alarm(0);
	}
	printf("fuse-run: command %s\n", describe(cmd_status, buf, sizeof(buf)));
	printf("fuse-run: server %s\n", describe(server_status, buf, sizeof(buf)));
	if (!WIFEXITED(cmd_status) || WEXITSTATUS(cmd_status) != 0)
		rc = 1;
	if (server_killed ? !(WIFSIGNALED(server_status) && WTERMSIG(server_status) == SIGKILL)
			  : !(WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0)) {
		printf("fuse-run: FAIL: the server did not end as it should\n");
		rc = 1;
	}
	fflush(stdout);
	return rc;
}

/* Whether a process of the host still lives in mount namespace @ino. */
/* The parent of @pid (0 when gone or unreadable). */
static pid_t parent_of(pid_t pid)
{
	char path[64], line[512];
	FILE *f;
	pid_t pp = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) {
		const char *p = strrchr(line, ')'); /* the name may hold anything */
		if (!p || sscanf(p + 1, " %*c %d", &pp) != 1)
			pp = 0;
	}
	fclose(f);
	return pp;
}

/* Whether @pid descends from this process (a subreaper: orphans of the
 * namespace's processes come back to it). */
static bool ours(pid_t pid)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		pid = parent_of(pid);
		if (pid == getpid())
			return true;
	}
	return false;
}

/* Whether a process of ours still lives in the mount namespace @ino. Only
 * our descendants count: once the namespace is gone, the kernel may give its
 * inode number to a namespace that another test makes at that moment. */
static bool mntns_in_use_once(ino_t ino)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool used = false;

	if (!d)
		die("/proc");
	while (!used && (e = readdir(d)) != NULL) {
		char path[300];
		struct stat st;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/mnt", e->d_name);
		used = stat(path, &st) == 0 && st.st_ino == ino && ours(atoi(e->d_name));
	}
	closedir(d);
	return used;
}

/* As mntns_in_use_once(), giving a process that is being killed 2 s to go. */
static bool mntns_in_use(ino_t ino)
{
	for (int i = 0; i < 40; i++) {
		if (!mntns_in_use_once(ino))
			return false;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* orphans that came back to us and died */
		usleep(50 * 1000);
	}
	return true;
}

static bool host_has_mount(const char *mnt)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;

	if (!f)
		die("/proc/self/mountinfo");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "fuse.smbgate") || strstr(line, mnt))
			found = true;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	uid_t uid = 65534;
	bool server_killed = false;
	int i = 1, up[2], down[2], status;
	char path[64], map[64], buf[64];
	struct stat ns;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i++) {
		if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc)
			uid = (uid_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--server-killed") == 0)
			server_killed = true;
		else
			break;
	}
	if (argc - i < 4 || strcmp(argv[i + 2], "--") != 0) {
		fprintf(stderr, "usage: fuse-run [--uid N] [--server-killed] USER MOUNTPOINT -- "
				"CMD [ARGS...]\n");
		return 2;
	}
	const char *user = argv[i], *mnt = argv[i + 1];
	char **cmd = argv + i + 3;

	if (access("/dev/fuse", F_OK) < 0)
		die("/dev/fuse");
	/* What the namespace's processes leave behind comes back to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("PR_SET_CHILD_SUBREAPER");
	struct smb *s = login(user);
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		die("pipe");
	fflush(stdout);
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(up[0]);
		close(down[1]);
		exit(child(s, mnt, cmd, server_killed, up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	sync_read(up[0]);
	/* The child's namespace, to check it is gone at the end. */
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)c);
	if (stat(path, &ns) < 0)
		die(path);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)c);
	write_file(path, "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)c);
	write_file(path, map);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)c);
	write_file(path, map);
	sync_write(down[1]);
	smb_free(s); /* this process's copy; the server made its own */

	if (waitpid(c, &status, 0) < 0)
		die("waitpid");
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (!WIFEXITED(status))
		printf("fuse-run: FAIL: the namespace's first process %s\n",
		       describe(status, buf, sizeof(buf)));
	if (mntns_in_use(ns.st_ino)) {
		printf("fuse-run: FAIL: a process still lives in the mount namespace\n");
		rc = 1;
	} else {
		printf("fuse-run: namespace gone\n");
	}
	if (host_has_mount(mnt)) {
		printf("fuse-run: FAIL: the host sees the mount\n");
		rc = 1;
	}
	return rc;
}
