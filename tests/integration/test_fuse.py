#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Integration test of the sandbox's FUSE file system (sandbox/fuse/) against
the real Samba fixture. Python 3 standard library only.

    test_fuse.py FUSE-RUN        (as root, under tests/fixtures/with-samba.sh)

This outer part seeds a few names on the fixture's disk, then runs each
scenario through FUSE-RUN (tests/integration/fuse-run.c), which mounts the
file system of one fixture user in a fresh user+mount namespace, as uid 0
of that namespace mapped to host uid 65534 (no host privilege), serves it
from a forked server process and runs this script again inside:

    test_fuse.py --inner SCENARIO [unittest args]

The inner part checks the mount with ordinary syscalls and commands (ls,
cat, cp, mv, rm, mkdir, rmdir, touch, truncate, sha256sum, smbclient),
exact errnos, and the fixture's directory on disk (what the REST API
serves) for both views agreeing. Scenarios: Main (alice), Bob (kept out of
alice's share), Death (the FUSE server is killed: ENOTCONN), Gone (the
Samba server stops answering: ETIMEDOUT, then dies: EIO; this part stops and
kills it when the inner part asks). Each must end with the server's expected
end and "namespace gone". Nothing is skipped: a missing /dev/fuse, user
namespaces or tool is a failure.
"""
import ctypes
import errno
import hashlib
import mmap
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwharness import FX, SEEDED_PUBLIC, UNICODE_NAME  # noqa: E402

NS_UID = 65534  # host uid (and gid) of uid 0 inside the test's namespace

# Put on the disk of "public" by the outer part, before any scenario.
TMP_NAME = ".~smbgate-new-0123456789abcdef.tmp"  # an upload in progress
BAD_UTF8 = b"bad-\xff-name.txt"                   # not UTF-8: never listed
COLON_NAME = "colon:name.txt"                     # listed, cannot be opened
RESERVED_DIR = "reserved seeded"                  # made on the server: NUL.txt, end.
MANY_DIR, MANY = "many", 10000
# "links": sibtarget/ and, beside it, toplink -> sibtarget (a link the server
# follows, whose ".." is "links" too); sibfile.txt and filelink -> sibfile.txt.
LINKS_DIR = "links"
LINKS_FILES = {"sibtarget/keep.txt": b"keep\n", "sibtarget/sub/deep.bin": bytes(range(256)),
               "sibfile.txt": b"sibling file\n"}
# In alice_private (Samba's default "mangled names": short names answer):
# an upload's temporary and a file beside it.
TMP_DIR, PRIV_TMP = "uploading", ".~smbgate-new-" + "0123456789abcdef" * 2 + ".tmp"
# The server's limits in a scenario (fuse-run passes them on).
BOB_HANDLES, BOB_NODES = 16, 100
LIMITS = {"Bob": {"SMBGATE_FUSE_MAX_HANDLES": str(BOB_HANDLES),
                  "SMBGATE_FUSE_MAX_NODES": str(BOB_NODES)}}


# ---------------------------------------------------------------- outer part

def seed_disk():
    pub = FX["SAMBA_SHARE_PUBLIC"]
    st = os.stat(pub)
    for name in (TMP_NAME.encode(), BAD_UTF8, COLON_NAME.encode()):
        path = os.path.join(pub.encode(), name)
        with open(path, "wb") as f:
            f.write(b"seeded\n")
        os.chown(path, st.st_uid, st.st_gid)
    links = os.path.join(pub, LINKS_DIR)
    for d in ("", "sibtarget", "sibtarget/sub"):
        os.makedirs(os.path.join(links, d), exist_ok=True)
    for rel, data in LINKS_FILES.items():
        with open(os.path.join(links, rel), "wb") as f:
            f.write(data)
    os.symlink("sibtarget", os.path.join(links, "toplink"))
    os.symlink("sibfile.txt", os.path.join(links, "filelink"))
    for root, dirs, files in os.walk(links):
        for n in [root] + [os.path.join(root, f) for f in dirs + files]:
            os.lchown(n, st.st_uid, st.st_gid)
    priv = os.path.join(FX["SAMBA_SHARE_ALICE_PRIVATE"], TMP_DIR)
    pst = os.stat(FX["SAMBA_SHARE_ALICE_PRIVATE"])
    os.mkdir(priv, 0o700)
    os.chown(priv, pst.st_uid, pst.st_gid)
    for name, data in ((PRIV_TMP, b"an upload in progress\n"), ("other.txt", b"other\n")):
        with open(os.path.join(priv, name), "wb") as f:
            f.write(data)
        os.chown(os.path.join(priv, name), pst.st_uid, pst.st_gid)
        os.chmod(os.path.join(priv, name), 0o600)
    os.mkdir(os.path.join(pub, RESERVED_DIR))
    os.chown(os.path.join(pub, RESERVED_DIR), st.st_uid, st.st_gid)
    for name in ("NUL.txt", "end."):
        path = os.path.join(pub, RESERVED_DIR, name)
        with open(path, "wb") as f:
            f.write(b"seeded\n")
        os.chown(path, st.st_uid, st.st_gid)
    many = os.path.join(pub, MANY_DIR)
    os.mkdir(many)
    for i in range(MANY):
        with open(os.path.join(many, "f%05d" % i), "wb"):
            pass
    for root, dirs, files in os.walk(many):
        for n in [root] + [os.path.join(root, f) for f in files]:
            os.chown(n, st.st_uid, st.st_gid)


def wait_file(path, proc, timeout):
    """Waits for @path to exist while @proc runs: True, or False."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def samba_control(proc, scratch):
    """The Gone scenario's other half: when the inner part asks, stop the
    Samba server (SIGSTOP: no answer any more), then kill it (SIGKILL: the
    connection breaks, nothing listens)."""
    for ask, sig, done in (("stop-samba", signal.SIGSTOP, "samba-stopped"),
                           ("kill-samba", signal.SIGKILL, "samba-killed")):
        if not wait_file(os.path.join(scratch, ask), proc, 120):
            return
        # This run's smbd and its children: their command line names its
        # smb.conf (as samba-fixture.sh finds them).
        conf = FX["SAMBA_CONF"].encode()
        for pid in [d for d in os.listdir("/proc") if d.isdigit()]:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if conf in f.read():
                        os.kill(int(pid), sig)
            except (FileNotFoundError, ProcessLookupError):
                pass
        with open(os.path.join(scratch, done), "w"):
            pass


def outer(runner):
    for need in ("SAMBA_SHARE_PUBLIC", "SAMBA_PORT", "SAMBA_CLIENT_CONF", "SAMBA_CONF"):
        if need not in FX:
            sys.exit(f"FAIL: {need} missing from the fixture")
    if not os.path.exists("/dev/fuse"):
        sys.exit("FAIL: /dev/fuse is missing (modprobe fuse)")
    with open("/proc/sys/user/max_user_namespaces") as f:
        if int(f.read()) < 1:
            sys.exit("FAIL: user namespaces are disabled (user.max_user_namespaces)")
    for tool in ("smbclient", "sha256sum", "truncate", "touch", "cp", "ls"):
        if not shutil.which(tool):
            sys.exit(f"FAIL: {tool} is missing")
    # The inner part runs as host uid 65534: the system's Python, readable by all.
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        sys.exit(f"FAIL: {python} is missing")
    seed_disk()

    work = tempfile.mkdtemp(prefix="smbgate-fuse.")
    failed = []
    try:
        os.chmod(work, 0o755)
        script = os.path.join(work, "test_fuse.py")
        shutil.copy(os.path.abspath(__file__), script)
        # the harness beside it (the inner part cannot read the source tree)
        harness = os.path.join(work, "gwharness.py")
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gwharness.py"),
                    harness)
        mnt = os.path.join(work, "mnt")
        os.mkdir(mnt)
        scratch = os.path.join(work, "scratch")
        os.mkdir(scratch)
        for p in (work, script, harness, mnt, scratch):
            os.chown(p, NS_UID, NS_UID)
        with open(runner, "rb") as f:
            asan = b"libasan" in f.read()
        env = dict(os.environ, SMBGATE_FUSE_SCRATCH=scratch, SMBGATE_FUSE_ASAN=str(int(asan)))
        # Gone stops, then kills, the Samba server: it comes last.
        for user, scenario, killed in (("alice", "Main", False), ("bob", "Bob", False),
                                       ("alice", "Death", True), ("alice", "Gone", False)):
            args = [runner, "--uid", str(NS_UID)] + (["--server-killed"] if killed else [])
            args += [user, mnt, "--", python, script, "--inner", scenario]
            print(f"==== scenario {scenario} ({user})", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            with tempfile.TemporaryFile() as log:
                p = subprocess.Popen(args, env=dict(env, **LIMITS.get(scenario, {})),
                                     stdout=log, stderr=subprocess.STDOUT)
                if scenario == "Gone":
                    samba_control(p, scratch)
                p.wait(timeout=900)
                log.seek(0)
                out = log.read().decode(errors="replace")
            sys.stderr.write(out)
            want = "fuse-run: server killed by signal 9" if killed else \
                "fuse-run: server exited 0"
            ok = p.returncode == 0 and want in out and "fuse-run: namespace gone" in out
            print(f"==== scenario {scenario}: {'ok' if ok else 'FAILED'} "
                  f"({time.monotonic() - t0:.1f} s)", file=sys.stderr, flush=True)
            if not ok:
                failed.append(scenario)
            if os.listdir(mnt):
                print("FAIL: the mount point is not empty on the host", file=sys.stderr)
                failed.append(scenario + " (mount point)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    print("all scenarios passed", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- inner part

MNT = os.environ.get("SMBGATE_FUSE_MNT", "")
SCRATCH = os.environ.get("SMBGATE_FUSE_SCRATCH", "")
PUB = os.path.join(MNT, "public")
RO = os.path.join(MNT, "readonly")
PRIV = os.path.join(MNT, "alice_private")
CACHE_S = 1.0  # the file system's attribute and name timeout

libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
AT_FDCWD = -100


def renameat2(old, new, flags):
    if libc.renameat2(AT_FDCWD, old.encode(), AT_FDCWD, new.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old)


def disk(*parts):
    """The path of a file on the fixture's disk (what the REST API serves)."""
    return os.path.join(FX["SAMBA_SHARE_PUBLIC"], *parts)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, **kw).stdout


def smbclient(cmd, share="public"):
    """The other view: smbclient as alice, as the worker of the REST API sees it."""
    return run("smbclient", "//127.0.0.1/" + share, "-p", FX["SAMBA_PORT"],
               "-s", FX["SAMBA_CLIENT_CONF"], "-U", "alice%" + FX["SAMBA_PASS1"], "-c", cmd)


class FsCase(unittest.TestCase):
    def assertErrno(self, err, fn, *args, **kw):
        with self.assertRaises(OSError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.errno, err,
                         f"{fn.__name__}{args}: {errno.errorcode.get(cm.exception.errno)}, "
                         f"wanted {errno.errorcode[err]}")

    def assertErrnoIn(self, errs, fn, *args):
        with self.assertRaises(OSError) as cm:
            fn(*args)
        self.assertIn(cm.exception.errno, errs, f"{fn.__name__}{args}: "
                      f"{errno.errorcode.get(cm.exception.errno)}")

    def scratch_name(self, tag):
        return f"fuse-{tag}-{os.getpid()}-{time.monotonic_ns()}"


class Main(FsCase):
    """alice: everything but the other user and the server's death."""

    def test_root_lists_the_disk_shares(self):
        names = set(os.listdir(MNT))
        self.assertLessEqual({"public", "alice_private", "readonly"}, names)
        self.assertNotIn("IPC$", names)
        self.assertNotIn("hidden$", names)  # show_hidden is off
        st = os.stat(MNT)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual((st.st_uid, st.st_gid), (0, 0))  # the mount's owner
        self.assertTrue(stat.S_ISDIR(os.stat(PUB).st_mode))
        self.assertErrno(errno.ENOENT, os.stat, os.path.join(MNT, "no such share"))
        self.assertErrno(errno.ENOENT, os.stat, os.path.join(MNT, "IPC$"))

    def test_root_is_read_only(self):
        self.assertErrno(errno.EROFS, os.mkdir, os.path.join(MNT, "newshare"))
        self.assertErrno(errno.EROFS, os.open, os.path.join(MNT, "f"), os.O_CREAT | os.O_WRONLY)
        self.assertErrno(errno.EROFS, os.rmdir, PUB)
        self.assertErrno(errno.EROFS, os.rename, PUB, os.path.join(MNT, "pub2"))
        self.assertErrno(errno.EROFS, os.utime, MNT, (1, 1))

    def test_listing_matches_the_fixture(self):
        names = set(os.listdir(PUB))
        for path in SEEDED_PUBLIC:
            self.assertIn(path.split("/")[0], names)
        self.assertIn("empty folder", names)
        self.assertIn('say "hi".txt', names)  # listed as the REST API lists it
        self.assertIn(COLON_NAME, names)
        self.assertNotIn(TMP_NAME, names)     # an upload's temporary: invisible
        self.assertEqual([n for n in os.listdir(os.fsencode(PUB)) if b"\xff" in n], [])
        # ls -l: one listing with attributes; each seeded file has its size.
        # (ls exits 1: the names above cannot be stat'ed.)
        out = subprocess.run(["ls", "-l", PUB], stdout=subprocess.PIPE).stdout.decode()
        for path, data in SEEDED_PUBLIC.items():
            if "/" not in path:
                line = [ln for ln in out.splitlines() if ln.endswith(" " + path)]
                self.assertEqual(len(line), 1, path)
                self.assertIn(f" {len(data)} ", line[0])
                self.assertTrue(line[0].startswith("-rw-r--r--"), line[0])
        self.assertEqual(sorted(os.listdir(os.path.join(PUB, "empty folder"))), [])
        self.assertEqual(os.listdir(os.path.join(PUB, "nested", "level 1", "level 2")),
                         ["deep file.txt"])

    def test_names_that_cannot_be_opened(self):
        # Listed, but SMB cannot name them (wildcard, stream): EINVAL.
        self.assertErrno(errno.EINVAL, os.stat, os.path.join(PUB, 'say "hi".txt'))
        self.assertErrno(errno.EINVAL, os.stat, os.path.join(PUB, COLON_NAME))
        self.assertErrno(errno.ENOENT, os.stat, os.path.join(PUB, TMP_NAME))

    def test_many_entries(self):
        t0 = time.monotonic()
        out = run("ls", "-l", os.path.join(PUB, MANY_DIR)).decode().splitlines()
        took = time.monotonic() - t0
        self.assertEqual(len(out), MANY + 1)  # "total" and one line each
        self.assertEqual(sum(1 for ln in out if ln.startswith("-rw-r--r--")), MANY)
        print(f"\n  ls -l of {MANY} entries: {took:.2f} s", file=sys.stderr)

    def test_cat_unicode_and_binary(self):
        for path, data in SEEDED_PUBLIC.items():
            self.assertEqual(run("cat", os.path.join(PUB, path)), data, path)
        with open(os.path.join(PUB, UNICODE_NAME), "rb") as f:
            self.assertEqual(f.read(), "unicode \u2713\n".encode())

    def test_seek_and_read(self):
        data = SEEDED_PUBLIC["big.bin"]
        fd = os.open(os.path.join(PUB, "big.bin"), os.O_RDONLY)
        try:
            for off, n in ((0, 100), (1, 1), (1048575, 3), (2 * 1048576 - 50, 100),
                           (len(data) - 10, 100), (len(data), 10), (len(data) + 4096, 10),
                           (12345, 1048576 + 17)):
                self.assertEqual(os.pread(fd, n, off), data[off:off + n], (off, n))
            os.lseek(fd, 1000, os.SEEK_SET)
            self.assertEqual(os.read(fd, 10), data[1000:1010])
            self.assertEqual(os.lseek(fd, 0, os.SEEK_END), len(data))
            # Private mappings (programs, libraries) work with direct I/O.
            m = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
            self.assertEqual(m[2000000:2000010], data[2000000:2000010])
            m.close()
        finally:
            os.close(fd)

    def test_big_file_in_and_out(self):
        name = self.scratch_name("big") + ".bin"
        src = os.path.join(SCRATCH, name)
        back = os.path.join(SCRATCH, name + ".back")
        target = os.path.join(PUB, name)
        try:
            with open(src, "wb") as f:
                for _ in range(100):
                    f.write(os.urandom(1 << 20))
            want = sha256_file(src)
            t0 = time.monotonic()
            run("cp", src, target)
            t_in = time.monotonic() - t0
            self.assertEqual(os.stat(target).st_size, 100 << 20)
            self.assertEqual(sha256_file(disk(name)), want)  # what the REST API serves
            t0 = time.monotonic()
            run("cp", target, back)
            t_out = time.monotonic() - t0
            self.assertEqual(run("sha256sum", back).split()[0].decode(), want)
            self.assertEqual(run("sha256sum", target).split()[0].decode(), want)
            print(f"\n  100 MiB: in {t_in:.2f} s, out {t_out:.2f} s", file=sys.stderr)
        finally:
            for p in (src, back):
                if os.path.exists(p):
                    os.unlink(p)
            if os.path.exists(target):
                os.unlink(target)
        self.assertFalse(os.path.exists(disk(name)))

    def test_write_at_offsets(self):
        name = self.scratch_name("offsets")
        path = os.path.join(PUB, name)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        try:
            self.assertEqual(os.pwrite(fd, b"abc", 0), 3)
            self.assertEqual(os.pwrite(fd, b"XYZ", 1048576 + 5), 3)
            os.lseek(fd, 1, os.SEEK_SET)
            self.assertEqual(os.write(fd, b"B"), 1)
            self.assertEqual(os.pread(fd, 4, 0), b"aBc\0")
        finally:
            os.close(fd)
        with open(disk(name), "rb") as f:
            got = f.read()
        self.assertEqual(len(got), 1048576 + 8)
        self.assertEqual(got[:3], b"aBc")
        self.assertEqual(got[1048576 + 5:], b"XYZ")
        self.assertEqual(got[3:1048576 + 5], bytes(1048576 + 2))
        # O_TRUNC empties it; O_APPEND writes at the end.
        with open(path, "wb") as f:
            f.write(b"one\n")
        with open(path, "ab") as f:
            f.write(b"two\n")
        with open(disk(name), "rb") as f:
            self.assertEqual(f.read(), b"one\ntwo\n")
        os.unlink(path)

    def test_mv_rm_mkdir_rmdir(self):
        d = os.path.join(PUB, self.scratch_name("dir"))
        run("mkdir", d)
        self.assertTrue(os.path.isdir(disk(os.path.basename(d))))
        f = os.path.join(d, "file.txt")
        with open(f, "w") as fh:
            fh.write("content\n")
        run("mv", f, os.path.join(d, "renamed.txt"))
        self.assertEqual(os.listdir(d), ["renamed.txt"])
        self.assertEqual(os.listdir(disk(os.path.basename(d))), ["renamed.txt"])
        sub = os.path.join(d, "sub")
        run("mkdir", sub)
        run("mv", os.path.join(d, "renamed.txt"), sub)  # into a directory
        self.assertEqual(os.listdir(sub), ["renamed.txt"])
        d2 = d + "-moved"
        run("mv", d, d2)  # a directory with content: the children follow
        self.assertFalse(os.path.exists(d))
        with open(os.path.join(d2, "sub", "renamed.txt")) as fh:
            self.assertEqual(fh.read(), "content\n")
        self.assertTrue(os.path.isfile(disk(os.path.basename(d2), "sub", "renamed.txt")))
        # A file over a file: replaced; an empty directory over an empty one too.
        a, b = os.path.join(d2, "a"), os.path.join(d2, "b")
        for p, t in ((a, "A"), (b, "B")):
            with open(p, "w") as fh:
                fh.write(t)
        os.rename(a, b)
        with open(b) as fh:
            self.assertEqual(fh.read(), "A")
        e1, e2 = os.path.join(d2, "e1"), os.path.join(d2, "e2")
        os.mkdir(e1)
        os.mkdir(e2)
        os.rename(e1, e2)
        self.assertFalse(os.path.exists(e1))
        self.assertTrue(os.path.isdir(e2))
        # A case-only rename (the server ignores case).
        os.rename(b, os.path.join(d2, "B"))
        self.assertIn("B", os.listdir(d2))
        run("rm", os.path.join(d2, "B"))
        run("rmdir", e2)
        run("rm", "-r", d2)
        self.assertFalse(os.path.exists(d2))
        self.assertFalse(os.path.exists(disk(os.path.basename(d2))))

    def test_touch_d_sets_the_servers_mtime(self):
        name = self.scratch_name("touch")
        path = os.path.join(PUB, name)
        run("touch", path)
        run("touch", "-d", "2001-02-03 04:05:06 UTC", path)
        self.assertEqual(os.stat(disk(name)).st_mtime, 981173106)
        self.assertEqual(os.stat(path).st_mtime, 981173106)
        out = smbclient(f'allinfo "{name}"').decode()
        self.assertIn("2001", [ln for ln in out.splitlines() if ln.startswith("write_time")][0])
        # Only the access time: the modification time stays.
        os.utime(path, ns=(1_000_000_000_000_000_000, os.stat(path).st_mtime_ns))
        self.assertEqual(os.stat(disk(name)).st_mtime, 981173106)
        os.unlink(path)

    def test_truncate(self):
        name = self.scratch_name("trunc")
        path = os.path.join(PUB, name)
        with open(path, "wb") as f:
            f.write(b"0123456789abcdef")
        run("truncate", "-s", "10", path)
        self.assertEqual(os.path.getsize(disk(name)), 10)
        self.assertEqual(os.stat(path).st_size, 10)
        os.truncate(path, 3 * 1048576)  # extends with zeros
        with open(disk(name), "rb") as f:
            got = f.read()
        self.assertEqual(got, b"0123456789" + bytes(3 * 1048576 - 10))
        with open(path, "r+b") as f:  # ftruncate(2) of an open file
            f.truncate(4)
            self.assertEqual(os.fstat(f.fileno()).st_size, 4)
        self.assertEqual(os.path.getsize(disk(name)), 4)
        os.unlink(path)

    def test_read_only_share_refuses_writes(self):
        # Samba answers ACCESS_DENIED; the mount cannot tell a read-only share
        # from an ACL: EACCES.
        with open(os.path.join(RO, "readme.txt"), "rb") as f:
            self.assertEqual(f.read(), b"read only\n")
        self.assertErrno(errno.EACCES, os.open, os.path.join(RO, "new.txt"),
                         os.O_CREAT | os.O_WRONLY, 0o644)
        self.assertErrno(errno.EACCES, os.open, os.path.join(RO, "readme.txt"), os.O_WRONLY)
        self.assertErrno(errno.EACCES, os.mkdir, os.path.join(RO, "newdir"))
        self.assertErrno(errno.EACCES, os.unlink, os.path.join(RO, "readme.txt"))
        self.assertErrno(errno.EACCES, os.rename, os.path.join(RO, "readme.txt"),
                         os.path.join(RO, "moved.txt"))
        self.assertErrno(errno.EACCES, os.truncate, os.path.join(RO, "readme.txt"), 0)
        self.assertErrno(errno.EACCES, os.utime, os.path.join(RO, "readme.txt"), (1, 1))

    def test_exact_errors(self):
        base = os.path.join(PUB, self.scratch_name("errs"))
        os.mkdir(base)
        f = os.path.join(base, "file")
        with open(f, "w") as fh:
            fh.write("x")
        os.mkdir(os.path.join(base, "full"))
        with open(os.path.join(base, "full", "inside"), "w") as fh:
            fh.write("x")
        self.assertErrno(errno.ENOENT, os.stat, os.path.join(base, "missing"))
        self.assertErrno(errno.ENOENT, os.open, os.path.join(base, "missing"), os.O_RDONLY)
        self.assertErrno(errno.ENOENT, os.listdir, os.path.join(base, "missing"))
        self.assertErrno(errno.EEXIST, os.open, f, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        self.assertErrno(errno.EEXIST, os.mkdir, f)
        self.assertErrno(errno.EEXIST, os.mkdir, os.path.join(base, "full"))
        self.assertErrno(errno.ENOTEMPTY, os.rmdir, os.path.join(base, "full"))
        self.assertErrno(errno.EISDIR, os.open, os.path.join(base, "full"), os.O_WRONLY)
        self.assertErrno(errno.EISDIR, os.unlink, os.path.join(base, "full"))
        self.assertErrno(errno.EISDIR, os.rename, f, os.path.join(base, "full"))
        self.assertErrno(errno.ENOTDIR, os.rename, os.path.join(base, "full"), f)
        self.assertErrno(errno.ENOTDIR, os.rmdir, f)
        self.assertErrno(errno.ENOTDIR, os.stat, os.path.join(f, "below"))
        self.assertErrno(errno.ENOTDIR, os.listdir, f)
        os.mkdir(os.path.join(base, "other"))
        self.assertErrnoIn((errno.ENOTEMPTY, errno.EEXIST), os.rename,
                           os.path.join(base, "other"), os.path.join(base, "full"))
        # renameat2: RENAME_NOREPLACE honoured, other flags refused.
        self.assertErrno(errno.EEXIST, renameat2, f, os.path.join(base, "full", "inside"),
                         RENAME_NOREPLACE)
        renameat2(f, os.path.join(base, "moved"), RENAME_NOREPLACE)
        self.assertTrue(os.path.isfile(os.path.join(base, "moved")))
        self.assertErrno(errno.EINVAL, renameat2, os.path.join(base, "moved"),
                         os.path.join(base, "full", "inside"), RENAME_EXCHANGE)
        # Another share: EXDEV (mv copies instead).
        self.assertErrno(errno.EXDEV, os.rename, os.path.join(base, "moved"),
                         os.path.join(PRIV, "moved"))
        run("rm", "-r", base)

    def test_rename_overlap_and_case(self):
        # The worker's smb_rename(): a folder never goes into itself, in any
        # spelling (EINVAL, nothing changed); a case-only rename works; a
        # file renamed over another replaces it.
        name = self.scratch_name("overlap")
        base = os.path.join(PUB, name)
        os.mkdir(base)
        os.mkdir(os.path.join(base, "Reports"))
        os.mkdir(os.path.join(base, "Reports", "sub"))
        with open(os.path.join(base, "Reports", "q3.txt"), "w") as f:
            f.write("q3")
        self.assertErrno(errno.EINVAL, os.rename, os.path.join(base, "Reports"),
                         os.path.join(base, "REPORTS", "sub", "in"))
        self.assertEqual(sorted(os.listdir(disk(name, "Reports"))), ["q3.txt", "sub"])
        os.rename(os.path.join(base, "Reports"), os.path.join(base, "reports"))
        self.assertEqual(os.listdir(disk(name)), ["reports"])
        with open(disk(name, "reports", "q3.txt"), "rb") as f:
            self.assertEqual(f.read(), b"q3")
        for n, data in (("a.txt", "new"), ("b.txt", "old")):
            with open(os.path.join(base, n), "w") as f:
                f.write(data)
        os.rename(os.path.join(base, "a.txt"), os.path.join(base, "b.txt"))
        with open(disk(name, "b.txt"), "rb") as f:
            self.assertEqual(f.read(), b"new")
        self.assertEqual(sorted(os.listdir(disk(name))), ["b.txt", "reports"])
        run("rm", "-r", base)

    def test_refused_names(self):
        base = os.path.join(PUB, self.scratch_name("names"))
        os.mkdir(base)
        for bad in ("a*b", "a?b", "a<b", "a>b", "a|b", 'a"b', "a:b", "back\\slash", "tab\there"):
            p = os.path.join(base, bad)
            self.assertErrno(errno.EINVAL, os.open, p, os.O_CREAT | os.O_WRONLY, 0o644)
            self.assertErrno(errno.EINVAL, os.mkdir, p)
            self.assertErrno(errno.EINVAL, os.stat, p)
        p = os.path.join(os.fsencode(base), b"bad\xff\xfe")  # not UTF-8
        self.assertErrno(errno.EINVAL, os.open, p, os.O_CREAT | os.O_WRONLY, 0o644)
        # The temporaries of uploads: not there, and not to be made.
        t = os.path.join(base, ".~smbgate-new-00.tmp")
        self.assertErrno(errno.ENOENT, os.stat, t)
        self.assertErrno(errno.EPERM, os.open, t, os.O_CREAT | os.O_WRONLY, 0o644)
        self.assertErrno(errno.EPERM, os.mkdir, t)
        with open(os.path.join(base, "ok"), "w"):
            pass
        self.assertErrno(errno.EPERM, os.rename, os.path.join(base, "ok"), t)
        self.assertErrno(errno.EINVAL, os.rename, os.path.join(base, "ok"),
                         os.path.join(base, "a*b"))
        self.assertEqual(os.listdir(base), ["ok"])
        self.assertEqual(os.listdir(disk(os.path.basename(base))), ["ok"])
        self.assertErrno(errno.EPERM, os.symlink, "ok", os.path.join(base, "link"))
        self.assertErrno(errno.EPERM, os.link, os.path.join(base, "ok"),
                         os.path.join(base, "hard"))
        self.assertErrno(errno.EPERM, os.mkfifo, os.path.join(base, "fifo"))
        run("rm", "-r", base)

    def test_rm_r_of_a_link_to_a_sibling(self):
        # toplink -> sibtarget, beside it: one folder for the server (one
        # file id, the same ".."). Neither is opened (ELOOP), so rm -r cannot
        # go down either; every byte of sibtarget stays. A link to a file
        # goes alone.
        d = os.path.join(PUB, LINKS_DIR)

        def kept():
            for rel, data in LINKS_FILES.items():
                with open(disk(LINKS_DIR, rel), "rb") as f:
                    self.assertEqual(f.read(), data, rel)
            self.assertEqual(sorted(os.listdir(disk(LINKS_DIR, "sibtarget"))), ["keep.txt", "sub"])
            self.assertEqual(os.readlink(disk(LINKS_DIR, "toplink")), "sibtarget")

        for name in ("toplink", "sibtarget"):
            with self.subTest(folder=name):
                self.assertTrue(os.path.isdir(os.path.join(d, name)))
                p = subprocess.run(["rm", "-r", os.path.join(d, name)], capture_output=True)
                kept()
                self.assertNotEqual(p.returncode, 0, p)  # "Directory not empty"
                self.assertErrno(errno.ELOOP, os.listdir, os.path.join(d, name))
        with open(os.path.join(d, "toplink", "keep.txt"), "rb") as f:  # a name: read
            self.assertEqual(f.read(), b"keep\n")
        run("rm", os.path.join(d, "filelink"))
        self.assertFalse(os.path.lexists(disk(LINKS_DIR, "filelink")))
        kept()

    def test_short_name_of_a_temporary(self):
        # alice_private answers to 8.3 names: the temporary's is not there,
        # and cannot be made, as its own name.
        out = smbclient(f'allinfo "{TMP_DIR}/{PRIV_TMP}"', "alice_private").decode()
        alias = [ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("altname: ")]
        self.assertEqual(len(alias), 1, out)
        self.assertIn("~", alias[0])
        d = os.path.join(PRIV, TMP_DIR)
        a, other = os.path.join(d, alias[0]), os.path.join(d, "other.txt")
        self.assertErrno(errno.ENOENT, os.stat, a)
        self.assertErrno(errno.ENOENT, os.open, a, os.O_RDONLY)
        self.assertErrno(errno.ENOENT, os.unlink, a)
        self.assertErrno(errno.ENOENT, os.rename, a, os.path.join(d, "moved"))
        self.assertErrno(errno.EPERM, os.rename, other, a)
        self.assertErrno(errno.EPERM, os.open, a, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        self.assertErrno(errno.EPERM, os.mkdir, a)
        self.assertErrno(errno.ENOENT, os.stat, os.path.join(d, PRIV_TMP.upper()))
        self.assertEqual(os.listdir(d), ["other.txt"])
        with open(other, "rb") as f:
            self.assertEqual(f.read(), b"other\n")
        local = os.path.join(SCRATCH, self.scratch_name("tmp"))
        smbclient(f'get "{TMP_DIR}/{PRIV_TMP}" "{local}"', "alice_private")
        with open(local, "rb") as f:
            self.assertEqual(f.read(), b"an upload in progress\n")
        os.unlink(local)
        names = smbclient(f'ls "{TMP_DIR}/*"', "alice_private").decode()
        self.assertIn(PRIV_TMP, names)
        self.assertNotIn("moved", names)

    def test_reserved_names(self):
        """Names the server would mangle are not made (EINVAL: create, mknod,
        mkdir, the target of a rename); made on the server, they are read,
        written, renamed and removed."""
        base = os.path.join(PUB, self.scratch_name("reserved"))
        os.mkdir(base)
        ok = os.path.join(base, "ok")
        with open(ok, "w"):
            pass
        for bad in ("dot.", "space ", "CON", "nul.txt", "Aux .txt", "com1.tar.gz", "LPT9",
                    "COM\u00b3"):
            p = os.path.join(base, bad)
            self.assertErrno(errno.EINVAL, os.open, p, os.O_CREAT | os.O_WRONLY, 0o644)
            self.assertErrno(errno.EINVAL, os.mknod, p, 0o644 | stat.S_IFREG)
            self.assertErrno(errno.EINVAL, os.mkdir, p)
            self.assertErrno(errno.EINVAL, os.rename, ok, p)
            self.assertErrno(errno.EPERM, os.symlink, "ok", p)
        self.assertEqual(os.listdir(base), ["ok"])
        self.assertEqual(os.listdir(disk(os.path.basename(base))), ["ok"])
        run("rm", "-r", base)
        seeded = os.path.join(PUB, RESERVED_DIR)
        with open(os.path.join(seeded, "NUL.txt"), "rb") as f:
            self.assertEqual(f.read(), b"seeded\n")
        with open(os.path.join(seeded, "NUL.txt"), "wb") as f:
            f.write(b"rewritten\n")
        with open(disk(RESERVED_DIR, "NUL.txt"), "rb") as f:
            self.assertEqual(f.read(), b"rewritten\n")
        os.rename(os.path.join(seeded, "end."), os.path.join(seeded, "end"))
        os.unlink(os.path.join(seeded, "NUL.txt"))
        self.assertEqual(sorted(os.listdir(disk(RESERVED_DIR))), ["end"])

    def test_both_views_agree(self):
        name = self.scratch_name("views")
        local = os.path.join(SCRATCH, name)
        path = os.path.join(PUB, name)
        # Written by the other side (smbclient: what the REST API's worker
        # does): seen here at once (no negative cache), with its bytes.
        with open(local, "wb") as f:
            f.write(b"from smbclient\n")
        smbclient(f'put "{local}" "{name}"')
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"from smbclient\n")
        # Replaced there: the bytes at once (no data cache), the size within
        # the attribute timeout.
        with open(local, "wb") as f:
            f.write(b"replaced, and longer\n")
        smbclient(f'put "{local}" "{name}"')
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"replaced, and longer\n")
        time.sleep(CACHE_S + 0.2)
        self.assertEqual(os.stat(path).st_size, len(b"replaced, and longer\n"))
        # Written here: the disk holds it when write(2) has returned.
        with open(path, "wb") as f:
            f.write(b"from the mount\n")
            f.flush()
            with open(disk(name), "rb") as g:
                self.assertEqual(g.read(), b"from the mount\n")
        smbclient(f'get "{name}" "{local}"')
        with open(local, "rb") as f:
            self.assertEqual(f.read(), b"from the mount\n")
        # Removed there: gone here within the name timeout.
        smbclient(f'del "{name}"')
        time.sleep(CACHE_S + 0.2)
        self.assertFalse(os.path.exists(path))
        os.unlink(local)

    def test_statfs(self):
        m, d = os.statvfs(PUB), os.statvfs(FX["SAMBA_SHARE_PUBLIC"])
        self.assertGreater(m.f_blocks, 0)
        self.assertEqual(m.f_namemax, 255)
        total_m, total_d = m.f_blocks * m.f_frsize, d.f_blocks * d.f_frsize
        self.assertLess(abs(total_m - total_d), total_d // 100 + 1, (total_m, total_d))
        avail_m, avail_d = m.f_bavail * m.f_frsize, d.f_bavail * d.f_frsize
        self.assertLess(abs(avail_m - avail_d), total_d // 50 + 1, (avail_m, avail_d))

    def test_zz_server_holds_little(self):
        # Last (tests run in name order): after the 100 MiB copy and the
        # 10 000 entries. One thread; data streamed, never held.
        pid = int(os.environ["SMBGATE_FUSE_SERVER_PID"])
        with open(f"/proc/{pid}/status") as f:
            status = dict(ln.split(":", 1) for ln in f.read().splitlines() if ":" in ln)
        threads = int(status["Threads"])
        hwm_mib = int(status["VmHWM"].split()[0]) // 1024
        print(f"\n  server: {threads} thread(s), peak RSS {hwm_mib} MiB", file=sys.stderr)
        self.assertEqual(threads, 1)
        # (Under ASan, its quarantine keeps freed buffers: no bound.)
        if os.environ.get("SMBGATE_FUSE_ASAN") != "1":
            self.assertLess(hwm_mib, 64)


class Bob(FsCase):
    """bob: the share of alice alone stays closed to him. His server has
    small limits: BOB_HANDLES open files, BOB_NODES inodes."""

    def test_handle_limit(self):
        fds = []
        try:
            for _ in range(BOB_HANDLES):
                fds.append(os.open(os.path.join(PUB, "hello.txt"), os.O_RDONLY))
            self.assertErrno(errno.ENFILE, os.open, os.path.join(PUB, "binary.bin"),
                             os.O_RDONLY)
            self.assertErrno(errno.ENFILE, os.listdir, PUB)
        finally:
            for fd in fds:
                os.close(fd)
        # Released: every slot again.
        for _ in range(3 * BOB_HANDLES):
            with open(os.path.join(PUB, "hello.txt"), "rb") as f:
                self.assertEqual(f.read(), b"Hello, world!\n")

    def test_listing_past_the_node_limit(self):
        # More entries than inodes: the names still come (without
        # attributes past the limit's three quarters).
        names = os.listdir(os.path.join(PUB, MANY_DIR))
        self.assertEqual(len(names), MANY)
        self.assertEqual(len(set(names)), MANY)

    def test_cannot_enter_alices_share(self):
        self.assertIn("alice_private", os.listdir(MNT))
        self.assertTrue(os.path.isdir(PRIV))  # a share, even a closed one
        self.assertErrno(errno.EACCES, os.listdir, PRIV)
        self.assertErrno(errno.EACCES, os.open, os.path.join(PRIV, "secret.txt"), os.O_RDONLY)
        self.assertErrno(errno.EACCES, os.stat, os.path.join(PRIV, "secret.txt"))
        self.assertErrno(errno.EACCES, os.mkdir, os.path.join(PRIV, "x"))

    def test_reads_public(self):
        with open(os.path.join(PUB, "hello.txt"), "rb") as f:
            self.assertEqual(f.read(), b"Hello, world!\n")


class Death(FsCase):
    """The server process dies: callers get ENOTCONN (or EIO), never hang."""

    def test_server_killed(self):
        pid = int(os.environ["SMBGATE_FUSE_SERVER_PID"])
        with open(os.path.join(PUB, "hello.txt"), "rb") as f:
            self.assertEqual(f.read(), b"Hello, world!\n")
        fd = os.open(os.path.join(PUB, "big.bin"), os.O_RDONLY)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break  # reaped by fuse-run
            self.assertLess(time.monotonic(), deadline, "the server did not die")
            time.sleep(0.02)
        dead = (errno.ENOTCONN, errno.EIO)
        self.assertErrnoIn(dead, os.pread, fd, 10, 0)
        self.assertErrnoIn(dead, os.close, fd)  # flush: the fd is closed all the same
        self.assertErrnoIn(dead, os.stat, os.path.join(PUB, "not looked up before"))
        self.assertErrnoIn(dead, os.listdir, PUB)
        self.assertErrnoIn(dead, os.open, os.path.join(PUB, "new"), os.O_CREAT | os.O_WRONLY)
        time.sleep(CACHE_S + 0.2)  # the root's cached attributes expire
        self.assertErrnoIn(dead, os.stat, MNT)


class Gone(FsCase):
    """The Samba server stops answering (ETIMEDOUT after the login's 10 s
    timeout), then is gone (EIO)."""

    def handshake(self, ask, done):
        with open(os.path.join(SCRATCH, ask), "w"):
            pass
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(SCRATCH, done)):
            self.assertLess(time.monotonic(), deadline, f"no {done}")
            time.sleep(0.05)

    def test_server_stops_then_goes(self):
        fd = os.open(os.path.join(PUB, "big.bin"), os.O_RDONLY)
        self.assertEqual(os.pread(fd, 3, 0), bytes([0, 1, 2]))
        self.handshake("stop-samba", "samba-stopped")
        t0 = time.monotonic()
        self.assertErrno(errno.ETIMEDOUT, os.pread, fd, 3, 0)
        took = time.monotonic() - t0
        self.assertGreater(took, 5)
        self.assertLess(took, 30)
        self.handshake("kill-samba", "samba-killed")
        self.assertErrno(errno.EIO, os.pread, fd, 3, 0)
        self.assertErrno(errno.EIO, os.stat, os.path.join(PUB, "never looked up"))
        self.assertErrno(errno.EIO, os.listdir, PUB)
        self.assertErrno(errno.EIO, os.listdir, MNT)
        os.close(fd)


def inner(scenario):
    if not MNT or not os.path.isdir(MNT) or not SCRATCH:
        sys.exit("FAIL: not run by fuse-run (SMBGATE_FUSE_MNT, SMBGATE_FUSE_SCRATCH)")
    suite = unittest.defaultTestLoader.loadTestsFromName(scenario, sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    ok = result.wasSuccessful() and result.testsRun > 0 and not result.skipped
    return 0 if ok else 1


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--inner":
        return inner(sys.argv[2])
    if len(sys.argv) != 2:
        sys.exit("usage: test_fuse.py FUSE-RUN")
    return outer(os.path.abspath(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
