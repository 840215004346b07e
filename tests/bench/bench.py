#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/bench/bench.py - the measurements of tests/bench/run.sh.

Runs inside tests/fixtures/with-samba.sh (SAMBA_* in the environment), with
the smbgate and smbgate-worker binaries given on the command line. Prints one
table where each smbgate figure stands beside its baseline measured in the same
run (smbclient, rclone serve http), as medians with the run's min-max.
Exit status: 0 when every measurement produced a number and every byte the
gateway moved was checked; 1 otherwise. Timing targets are reported, never
asserted.
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import shutil
import ssl
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import gwharness  # noqa: E402  (the fixture's settings: run under with-samba.sh)
from gwharness import free_port, proc_files, pss_kib, status_kib, tree  # noqa: E402
from relay import BenchRelay  # noqa: E402

MIB = 1024 * 1024
ALICE, ALICE_PASS = "alice", "Alice-pass-1"
BENCH_PASS = "Bench-pass-1"
SERVER = "fixture"  # encryption = off: same wire as plain smbclient
SERVER_ENC = "fixture-enc"  # encryption = desired: the product default

failures = []


def fail(msg):
    failures.append(msg)
    print(f"bench: FAILED: {msg}", file=sys.stderr, flush=True)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100)."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


# ---- processes and memory ----


def reset_hwm(pid):
    # "5" resets VmHWM to the current RSS (proc(5), Linux >= 4.0).
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def smbd_pss_kib():
    """PSS of the fixture's smbd processes (one per SMB connection)."""
    conf = os.environ["SAMBA_CONF"].encode()
    return sum(pss_kib(pid) for pid, cmd in proc_files("cmdline")
               if conf in cmd and b"smbd" in cmd)


# ---- HTTP ----


class Gateway(gwharness.Gateway):
    def __init__(self, args, workdir, max_sessions, name="smbgate", tls=None):
        """tls: (certificate, key) paths for an HTTPS gateway."""
        self.args, self.max_sessions, self.tls = args, max_sessions, tls
        super().__init__(args.smbgate, args.worker, workdir=workdir, stem=name, name=name,
                         start=False)

    def config(self):
        args = self.args
        sport = os.environ["SAMBA_PORT"]
        tmo = f"timeout = {args.server_timeout}\n" if args.server_timeout else ""
        tls = self.tls
        tls_conf = f"tls_certificate = {tls[0]}\ntls_key = {tls[1]}\n" if tls else ""
        return f"""[gateway]
listen = 127.0.0.1:{self.port}
control_socket = {self.sock}
{tls_conf}session_idle_timeout = 3600
max_sessions = {self.max_sessions}
max_upload_size = 0

[sandbox]
memory_limit = 256M
max_processes = 64
mounts = {args.mounts}
smb_socket = {args.smb_socket}
{f"prestart = {args.prestart}" if args.prestart is not None else ""}

[server {SERVER}]
host = 127.0.0.1
port = {sport}
workgroup = SMBGATE
encryption = off
{tmo}
[server {SERVER_ENC}]
host = 127.0.0.1
port = {sport}
workgroup = SMBGATE
encryption = desired
{tmo}"""

    def healthy(self):
        try:
            return self.request("GET", "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def stop(self):
        super().stop()
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, token=None, timeout=60):
        if self.tls:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                            context=ssl._create_unverified_context())
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        if token:
            h["Authorization"] = "Bearer " + token
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, data
        finally:
            c.close()

    def login(self, user, password, server=SERVER):
        st, data = self.request(
            "POST", "/api/v1/login", {"username": user, "password": password, "server": server}
        )
        if st != 200:
            raise RuntimeError(f"login {user}: HTTP {st} {data[:200]!r}")
        return json.loads(data)["token"]

    def listing(self, path, token):
        st, data = self.request("GET", "/api/v1/fs/" + path, token=token)
        if st != 200:
            raise RuntimeError(f"listing {path}: HTTP {st} {data[:200]!r}")
        return json.loads(data)["entries"]

    def logout(self, token):
        st, _ = self.request("POST", "/api/v1/logout", token=token)
        if st != 204:
            raise RuntimeError(f"logout: HTTP {st}")


# ---- commands ----


def cpu_busy_s():
    """CPU-seconds the whole machine spent busy so far (/proc/stat: all but idle
    and iowait, over every CPU)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def timed(cmd, env=None, check_out=None):
    """Runs cmd, returns (seconds, stdout). Raises on a non-zero status.
    timed.cpu is then the machine's busy CPU-seconds during the run (every
    process: client, smbgate and its sandboxes, smbd)."""
    t0, c0 = time.perf_counter(), cpu_busy_s()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    timed.cpu = cpu_busy_s() - c0
    if p.returncode != 0:
        raise RuntimeError(
            f"{cmd[0]} exited {p.returncode}: {p.stderr.decode(errors='replace')[-400:]}"
        )
    out = p.stdout.decode(errors="replace")
    if check_out and not check_out(out):
        raise RuntimeError(f"{cmd[0]}: unexpected output: {out[-400:]}")
    return dt, out


def smbclient(cmds, encrypt=False, port=None):
    cmd = [
        "smbclient",
        "//127.0.0.1/public",
        "-p",
        str(port) if port else os.environ["SAMBA_PORT"],
        "-s",
        os.environ["SAMBA_CLIENT_CONF"],
        "-A",
        os.path.join(os.environ["SAMBA_DIR"], "client", "alice.auth"),
        "--client-protection=" + ("encrypt" if encrypt else "off"),
        "-c",
        cmds,
    ]
    return cmd


def curl_code(expect):
    return lambda out: out.strip().split()[0] in expect


def warm(gw, auth):
    """One listing by @auth, untimed: its session and sandbox are live."""
    timed(["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}",
           gw.url(f"/api/v1/fs/{SERVER}/public/")], check_out=curl_code({"200"}))


def sha256_file(path):
    return gwharness.file_sha256(path, 4 * MIB)[1]


# ---- results ----


class Row:
    def __init__(self, what, unit, gw, base=None, base_name="", third=None, target="", ok=None,
                 ratio=None, note=""):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def fmt_series(xs, unit, fmt="{:.0f}"):
    if xs is None:
        return "n/a"
    if isinstance(xs, str):
        return xs
    if not xs:
        return "n/a"
    med = statistics.median(xs)
    if len(xs) == 1:
        return (fmt + " {}").format(med, unit)
    return (fmt + " {} [" + fmt + "–" + fmt + "]").format(med, unit, min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smbgate", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--list-runs", type=int, default=5)
    ap.add_argument("--logins", type=int, default=50)
    ap.add_argument("--sessions", default="50 200 1000")
    ap.add_argument("--server-timeout", type=int, default=0,
                    help="the servers' timeout (seconds; default: the gateway's)")
    ap.add_argument("--parallel", type=int, default=4, help="logins in flight when opening N sessions")
    ap.add_argument("--no-rclone", action="store_true")
    ap.add_argument("--search-entries", type=int, default=20000,
                    help="files and folders of the search's tree")
    ap.add_argument("--search-folders", type=int, default=500)
    ap.add_argument("--skip", default="",
                    help="comma list of: transfer,enc,dav,parallel,https,list,login,sessions,"
                         "zip,search")
    ap.add_argument("--json", help="also write the results as JSON here")
    ap.add_argument("--mounts", default="off", choices=("off", "login", "on-demand"),
                    help="[sandbox] mounts of the gateway under test (sessions' memory with "
                         "their FUSE servers); not off: also times cat through the mount "
                         "(smbgatectl exec) against the REST download")
    ap.add_argument("--smbgatectl", help="default: beside --smbgate")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work folder (the gateways' logs, with each request's ms)")
    ap.add_argument("--prestart", type=int, default=None,
                    help="the gateway's [sandbox] prestart (default: the gateway's own, 1)")
    ap.add_argument("--smb-socket", default="handoff", choices=("handoff", "relay"),
                    help="[sandbox] smb_socket of the gateway under test (default: handoff, "
                    "the configuration's default)")
    a = ap.parse_args()
    if a.smoke:
        a.size_mib, a.runs, a.entries, a.list_runs, a.logins, a.sessions = 16, 1, 200, 2, 5, "5"
        a.search_entries, a.search_folders = 400, 20
    skip = set(filter(None, a.skip.split(",")))
    sessions_n = [int(x) for x in a.sessions.replace(",", " ").split()]

    share = os.environ["SAMBA_SHARE_PUBLIC"]
    uid, gid = int(os.environ["SAMBA_UID1"]), int(os.environ["SAMBA_GID"])
    work = tempfile.mkdtemp(prefix="smbgate-bench.")
    a.machine = machine_info()
    rows, results = [], {"machine": a.machine, "config": vars(a)}
    size = a.size_mib * MIB

    # ---- data on disk, in the share ----
    bdir = os.path.join(share, "bench")
    os.makedirs(bdir, exist_ok=True)
    big = os.path.join(bdir, "big.bin")
    log(f"creating {a.size_mib} MiB of random data and {a.entries} files")
    write_random(big, size)
    big_sha = sha256_file(big)
    ldir = os.path.join(bdir, "list")
    os.makedirs(ldir, exist_ok=True)
    for i in range(a.entries):
        open(os.path.join(ldir, f"file-{i:06d}.txt"), "w").close()
    for root, dirs, files in os.walk(bdir):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, gid)
    os.chown(bdir, uid, gid)
    os.chmod(bdir, 0o2775)
    os.chmod(ldir, 0o2775)

    max_n = max(sessions_n) if sessions_n and "sessions" not in skip else 0
    gw = Gateway(a, work, max(1000, max_n + 100))
    rclone = None
    try:
        # ---- 1, 2, 6: transfers, on a fresh gateway ----
        if "transfer" not in skip:
            gw.start()
            rclone = start_rclone(a, work)
            transfers(a, gw, rclone, big, big_sha, size, rows, results, work, encrypted=False)
            if a.mounts != "off":
                mount_reads(a, gw, big_sha, size, rows, work)
            if "enc" not in skip:
                transfers(a, gw, None, big, big_sha, size, rows, results, work, encrypted=True)
        # ---- 9: WebDAV GET and PUT (runs with --skip transfer too) ----
        if "dav" not in skip:
            if not gw.proc:
                gw.start()
            rdav = start_rclone(a, work, "webdav")
            try:
                dav_transfers(a, gw, rdav, big, big_sha, size, rows, work)
            finally:
                if rdav:
                    rdav.terminate()
                    rdav.wait()
        if "zip" not in skip:
            if not gw.proc:
                gw.start()
            zips(a, gw, big, size, rows, results, work)
        if "parallel" not in skip or "https" not in skip:
            if not gw.proc:
                gw.start()
            if "parallel" not in skip:
                parallel(a, gw, rows, results, work)
            if "https" not in skip:
                https(a, gw, size, big_sha, rows, results, work)
        if gw.proc:
            gw.stop()
        if rclone:
            rclone.terminate()
            rclone.wait()
            rclone = None
        # ---- 3, 4, 5 on another fresh gateway ----
        gw.start()
        if "list" not in skip:
            listing(a, gw, rows, results)
        if "list" not in skip and "dav" not in skip:
            rdav = start_rclone(a, work, "webdav")
            try:
                dav_listing(a, gw, rdav, rows)
            finally:
                if rdav:
                    rdav.terminate()
                    rdav.wait()
        if "search" not in skip:
            search(a, gw, rows, results, uid, gid)
        if "login" not in skip:
            logins(a, gw, rows, results)
        if "sessions" not in skip:
            sessions(a, gw, sessions_n, rows, results)
        gw.stop()
    except Exception as e:  # noqa: BLE001 - report and fail
        fail(f"{type(e).__name__}: {e}")
    finally:
        if rclone:
            rclone.terminate()
            rclone.wait()
        gw.stop()

    print_table(a, rows)
    if a.json:
        results["rows"] = [r.__dict__ for r in rows]
        results["failures"] = failures
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    # Every measurement must have produced a number.
    for r in rows:
        for v in (r.gw, r.base):
            if isinstance(v, list) and not v:
                fail(f"no figure for: {r.what}")
    if failures:
        print(f"bench: {len(failures)} failure(s); gateway log: {gw.logpath}", file=sys.stderr)
        with open(gw.logpath, errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-30:]))
        return 1
    if a.keep:
        log(f"kept {work} (--keep: the gateway's log is {gw.logpath})")
    elif not any(n.startswith("samba-logs") for n in os.listdir(work)):
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"kept {work} (Samba logs of refused logins)")
    return 0


def machine_info():
    def cmd(c):
        try:
            return subprocess.run(c, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True).stdout.strip()
        except OSError:
            return "?"

    mem = status_like("/proc/meminfo", "MemTotal")
    commit = cmd(["git", "-C", HERE, "rev-parse", "--short=12", "HEAD"]) or "unknown"
    if cmd(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    return {
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_start": f"{os.getloadavg()[0]:.2f}",
        "nproc": os.cpu_count(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                     if l.startswith("model name")), "?"),
        "memory_gib": round(mem / MIB, 1),
        "kernel": os.uname().release,
        "samba": cmd(["smbd", "--version"]),
        "rclone": cmd(["rclone", "version"]).split("\n")[0] if shutil.which("rclone") else "n/a",
        "curl": cmd(["curl", "--version"]).split("\n")[0],
        "damon": damon_state(),
    }


def damon_state():
    """Whether the kernel's DAMON runs here, and what it does: on a VM that
    reclaims idle memory with it, the 1000-session row pays for its access
    sampling (docs/performance.md)."""
    base = "/sys/kernel/mm/damon/admin/kdamonds"
    try:
        names = sorted((n for n in os.listdir(base) if n.isdigit()), key=int)
    except OSError:
        return "off"
    on = []
    for k in names:
        try:
            with open(f"{base}/{k}/state") as f:
                if f.read().strip() != "on":
                    continue
            with open(f"{base}/{k}/contexts/0/schemes/0/action") as f:
                on.append(f.read().strip())
        except OSError:
            on.append("monitoring")
    return "on (" + ", ".join(on) + ")" if on else "off"


def status_like(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait_listening(p, port):
    """Waits until process @p takes connections on @port: None, or why not
    ("exited", or "did not start" after 200 tries: then it is terminated)."""
    for _ in range(200):
        if p.poll() is not None:
            return "exited"
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return None
        except OSError:
            time.sleep(0.05)
    p.terminate()
    return "did not start"


def start_rclone(a, work, proto="http"):
    if a.no_rclone or not shutil.which("rclone"):
        log("rclone not installed: its column is n/a")
        return None
    env = dict(os.environ)
    obscured = subprocess.run(["rclone", "obscure", ALICE_PASS], stdout=subprocess.PIPE,
                              text=True, check=True).stdout.strip()
    env.update({
        "RCLONE_CONFIG_FIX_TYPE": "smb",
        "RCLONE_CONFIG_FIX_HOST": "127.0.0.1",
        "RCLONE_CONFIG_FIX_PORT": os.environ["SAMBA_PORT"],
        "RCLONE_CONFIG_FIX_USER": ALICE,
        "RCLONE_CONFIG_FIX_PASS": obscured,
        "RCLONE_CONFIG_FIX_DOMAIN": "SMBGATE",
        "RCLONE_CONFIG": os.path.join(work, "rclone.conf"),
    })
    port = free_port()
    lf = open(os.path.join(work, "rclone.log"), "ab")
    p = subprocess.Popen(["rclone", "serve", proto, "fix:public", "--addr", f"127.0.0.1:{port}"],
                         env=env, stdin=subprocess.DEVNULL, stdout=lf, stderr=lf)
    lf.close()
    p.port = port
    why = wait_listening(p, port)
    if why:
        log(f"rclone serve {proto} {why}; its column is n/a")
        return None
    return p


def mbps(size, secs):
    return [size / s / 1e6 for s in secs]


def transfers(a, gw, rclone, big, big_sha, size, rows, results, work, encrypted):
    server = SERVER_ENC if encrypted else SERVER
    tag = " (encrypted: gateway encryption=desired, smbclient --client-protection=encrypt)" \
        if encrypted else ""
    auth = f"{ALICE}:{ALICE_PASS}"
    gurl = gw.url(f"/api/v1/fs/{server}/public/bench/big.bin")
    # Warm the Basic session (the sandbox) so the first run does not pay for it.
    timed(["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}",
           gw.url(f"/api/v1/fs/{server}/public/")], check_out=curl_code({"200"}))
    # Bytes check (untimed): the gateway's bytes must be the file's.
    out = os.path.join(work, "download.bin")
    timed(["curl", "-sS", "-u", auth, "-o", out, "-w", "%{http_code}", gurl],
          check_out=curl_code({"200"}))
    got = sha256_file(out)
    os.unlink(out)
    if got != big_sha:
        fail(f"download{tag}: sha256 of the gateway's bytes differs from the file's")
    else:
        log(f"download{tag}: sha256 matches ({got[:16]}...)")

    g, s, rc, rl, big_io = [], [], [], [], []
    cpu = {"g": [], "s": [], "rl": []}
    hwm_dl = []
    relay = None if encrypted else BenchRelay(int(os.environ["SAMBA_PORT"]))
    for i in range(a.runs):
        reset_hwm(gw.pid)
        dt, _ = timed(["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}", gurl],
                      check_out=curl_code({"200"}))
        hwm_dl.append(status_kib(gw.pid, "VmHWM") / 1024)
        g.append(dt)
        cpu["g"].append(timed.cpu)
        dt, _ = timed(smbclient("get bench/big.bin /dev/null", encrypted))
        s.append(dt)
        cpu["s"].append(timed.cpu)
        if rclone:
            dt, _ = timed(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                           f"http://127.0.0.1:{rclone.port}/bench/big.bin"],
                          check_out=curl_code({"200"}))
            rc.append(dt)
        if relay:
            dt, _ = timed(smbclient("get bench/big.bin /dev/null", False, relay.port))
            rl.append(dt)
            cpu["rl"].append(timed.cpu)
            dt, _ = timed(smbclient("iosize 8388608; get bench/big.bin /dev/null"))
            big_io.append(dt)
        log(f"download{tag} run {i + 1}: gateway {g[-1]:.2f}s smbclient {s[-1]:.2f}s"
            + (f" rclone {rc[-1]:.2f}s" if rclone else "")
            + (f" smbclient-relayed {rl[-1]:.2f}s smbclient-iosize-8MiB {big_io[-1]:.2f}s"
               if relay else ""))
    if relay:
        relay.stop()
    gm, sm = mbps(size, g), mbps(size, s)
    ratio = statistics.median(gm) / statistics.median(sm)
    gib = size / (1 << 30)
    busy = "; ".join(f"{k} {statistics.median(cpu[c]) / gib:.2f}"
                     for k, c in (("smbgate", "g"), ("smbclient", "s"), ("relayed smbclient", "rl"))
                     if cpu[c])
    rows.append(Row(f"download {a.size_mib} MiB{' enc' if encrypted else ''}", "MB/s", gm, sm,
                    "smbclient get", None if encrypted else (mbps(size, rc) if rclone else "n/a"),
                    "≥ 0.90×", ratio >= 0.9, ratio,
                    f"busy CPU-s per GiB, whole machine ({os.cpu_count()} CPUs; client, server "
                    f"and gateway share them): {busy}"))
    cpu_ratio = statistics.median(cpu["g"]) / statistics.median(cpu["s"])
    rows.append(Row(f"busy CPU-s per GiB, download{' enc' if encrypted else ''}", "CPU-s",
                    [x / gib for x in cpu["g"]], [x / gib for x in cpu["s"]], "smbclient get",
                    None, "≤ 1.25×", cpu_ratio <= 1.25, cpu_ratio,
                    "whole machine, so other load on it counts too (see the load above the table)"))
    results.setdefault("cpu_ratio", {})["enc" if encrypted else "plain"] = cpu_ratio
    if relay:
        # Not a target: what the pinhole's shape alone costs smbclient.
        rm = mbps(size, rl)
        rr = statistics.median(rm) / statistics.median(sm)
        rows.append(Row(f"download {a.size_mib} MiB: smbclient through a relay", "MB/s",
                        rm, sm, "smbclient get", None, "(reference)", None, rr,
                        f"one relayed hop, as the pinhole's; gateway / relayed smbclient: "
                        f"{statistics.median(gm) / statistics.median(rm):.2f}×"))
        # Not the baseline: smbclient's default read size is what its users get.
        im = mbps(size, big_io)
        rows.append(Row(f"download {a.size_mib} MiB: smbclient with iosize 8 MiB (not its default)",
                        "MB/s", im, sm, "smbclient get", None, "(reference)", None,
                        statistics.median(im) / statistics.median(sm),
                        f"gateway / this: {statistics.median(gm) / statistics.median(im):.2f}×"))

    # Upload: the same file, to a name removed before each run.
    up_g = os.path.join(os.path.dirname(big), "up-gw.bin")
    up_s = os.path.join(os.path.dirname(big), "up-smbclient.bin")
    g, s, hwm_ul = [], [], []
    for i in range(a.runs):
        for f in (up_g, up_s):
            if os.path.exists(f):
                os.unlink(f)
        # Each upload starts with no dirty pages left from the previous one:
        # the kernel's writeback of 1 GiB would land on whichever run is next.
        os.sync()
        reset_hwm(gw.pid)
        dt, _ = timed(["curl", "-sS", "-u", auth, "-T", big, "-o", "/dev/null", "-w",
                       "%{http_code}", gw.url(f"/api/v1/fs/{server}/public/bench/up-gw.bin")],
                      check_out=curl_code({"201", "204"}))
        hwm_ul.append(status_kib(gw.pid, "VmHWM") / 1024)
        g.append(dt)
        os.sync()
        dt, _ = timed(smbclient(f"put {big} bench/up-smbclient.bin", encrypted))
        s.append(dt)
        log(f"upload{tag} run {i + 1}: gateway {g[-1]:.2f}s smbclient {s[-1]:.2f}s")
    if sha256_file(up_g) != big_sha:
        fail(f"upload{tag}: the file the gateway wrote differs from the source")
    else:
        log(f"upload{tag}: sha256 of the uploaded file matches")
    for f in (up_g, up_s):
        if os.path.exists(f):
            os.unlink(f)
    gm, sm = mbps(size, g), mbps(size, s)
    ratio = statistics.median(gm) / statistics.median(sm)
    rows.append(Row(f"upload {a.size_mib} MiB{' enc' if encrypted else ''}", "MB/s", gm, sm,
                    "smbclient put", None, "≥ 0.90×", ratio >= 0.9, ratio))
    if not encrypted:
        peak = max(hwm_dl + hwm_ul)
        rows.append(Row("gateway peak RSS (VmHWM), download", "MiB", hwm_dl, None, "", None,
                        "< 64 MiB", max(hwm_dl) < 64, None))
        rows.append(Row("gateway peak RSS (VmHWM), upload", "MiB", hwm_ul, None, "", None,
                        "< 64 MiB", max(hwm_ul) < 64, None))
        results["peak_rss_mib"] = peak


def mount_reads(a, gw, big_sha, size, rows, work):
    """cat of the big file through the session's FUSE mount (smbgatectl exec,
    inside alice's sandbox) beside the REST download of the same file by the
    same session, interleaved in one loop."""
    ctl = a.smbgatectl or os.path.join(os.path.dirname(a.smbgate), "smbgatectl")
    auth = f"{ALICE}:{ALICE_PASS}"
    gurl = gw.url(f"/api/v1/fs/{SERVER}/public/bench/big.bin")
    # The Basic session of the transfers above is alice's live sandbox.
    warm(gw, auth)
    exe = [ctl, "-s", os.path.join(work, "smbgate.sock"), "exec", ALICE, "--server", SERVER, "--"]
    path = f"/shares/{SERVER}/public/bench/big.bin"
    _, out = timed(exe + ["sha256sum", path])
    if out.split()[0] != big_sha:
        fail("mount: sha256 of the file read through the mount differs from the file's")
    else:
        log("mount: sha256 through the mount matches")
    g, m = [], []
    for i in range(a.runs):
        dt, _ = timed(["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}", gurl],
                      check_out=curl_code({"200"}))
        g.append(dt)
        dt, _ = timed(exe + ["sh", "-c", f"cat {path} > /dev/null"])
        m.append(dt)
        log(f"mount run {i + 1}: cat {m[-1]:.2f}s, REST download {g[-1]:.2f}s")
    mm, gm = mbps(size, m), mbps(size, g)
    ratio = statistics.median(mm) / statistics.median(gm)
    rows.append(Row(f"cat {a.size_mib} MiB through the mount", "MB/s", mm, gm,
                    "REST download", None, "≥ 0.80×", ratio >= 0.8, ratio,
                    f"[sandbox] mounts = {a.mounts}; cat inside the sandbox via smbgatectl exec "
                    "(its start, ~tens of ms, included)"))


def write_random(path, size):
    with open("/dev/urandom", "rb") as src, open(path, "wb") as dst:
        left = size
        while left:
            b = src.read(min(left, 8 * MIB))
            dst.write(b)
            left -= len(b)


def run_parallel(cmds):
    """Starts every command at once; returns (wall seconds, busy CPU-s).
    Raises when one fails."""
    t0, c0 = time.perf_counter(), cpu_busy_s()
    ps = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in cmds]
    outs = [p.communicate() for p in ps]
    dt, cpu = time.perf_counter() - t0, cpu_busy_s() - c0
    for c, p, (o, e) in zip(cmds, ps, outs):
        if p.returncode != 0 or (c[0] == "curl" and o.decode().strip() != "200"):
            raise RuntimeError(f"{c[0]} exited {p.returncode}: {(o + e).decode(errors='replace')[-300:]}")
    return dt, cpu


def parallel(a, gw, rows, results, work):
    """16 downloads at once by 8 users (2 each) through the gateway, against
    16 smbclients at once, alternated."""
    users, each = 8, 2
    psize = min(256, a.size_mib) * MIB
    subprocess.run([os.path.join(HERE, "add-users.sh"), str(users), BENCH_PASS], check=True)
    path = os.path.join(os.environ["SAMBA_SHARE_READONLY"], "bench-par.bin")
    write_random(path, psize)
    os.chmod(path, 0o644)
    sha = sha256_file(path)
    names = [f"bench{i + 1:03d}" for i in range(users)]
    auths = []
    for u in names:
        f = os.path.join(work, f"{u}.auth")
        with open(f, "w") as fh:
            fh.write(f"username = {u}\npassword = {BENCH_PASS}\ndomain = SMBGATE\n")
        os.chmod(f, 0o600)
        auths.append(f)
    url = gw.url(f"/api/v1/fs/{SERVER}/readonly/bench-par.bin")
    for u in names:  # one session per user, warm
        timed(["curl", "-sS", "-u", f"{u}:{BENCH_PASS}", "-o", "/dev/null", "-w", "%{http_code}",
               gw.url(f"/api/v1/fs/{SERVER}/readonly/")], check_out=curl_code({"200"}))
    out = os.path.join(work, "par.bin")
    timed(["curl", "-sS", "-u", f"{names[-1]}:{BENCH_PASS}", "-o", out, "-w", "%{http_code}", url],
          check_out=curl_code({"200"}))
    if sha256_file(out) != sha:
        fail("parallel download: sha256 of the gateway's bytes differs from the file's")
    os.unlink(out)
    gcmd = [["curl", "-sS", "-u", f"{u}:{BENCH_PASS}", "-o", "/dev/null", "-w", "%{http_code}", url]
            for u in names for _ in range(each)]
    scmd = [["smbclient", "//127.0.0.1/readonly", "-p", os.environ["SAMBA_PORT"], "-s",
             os.environ["SAMBA_CLIENT_CONF"], "-A", f, "--client-protection=off", "-c",
             "get bench-par.bin /dev/null"] for f in auths for _ in range(each)]
    n = len(gcmd)
    g, s = [], []
    for i in range(a.runs):
        dt, _ = run_parallel(gcmd)
        g.append(n * psize / dt / 1e6)
        dt, _ = run_parallel(scmd)
        s.append(n * psize / dt / 1e6)
        log(f"parallel run {i + 1}: gateway {g[-1]:.0f} MB/s smbclient {s[-1]:.0f} MB/s (aggregate)")
    os.unlink(path)
    ratio = statistics.median(g) / statistics.median(s)
    rows.append(Row(f"{n} downloads of {psize // MIB} MiB at once, {users} users: aggregate", "MB/s",
                    g, s, f"{n} smbclient get at once", None, "≥ 0.85×", ratio >= 0.85, ratio))
    results["parallel_ratio"] = ratio


def make_cert(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    both = os.path.join(work, "haproxy.pem")
    with open(both, "w") as f:
        f.write(open(cert).read() + open(key).read())
    os.chmod(both, 0o600)
    return cert, key, both


def start_haproxy(work, pem, backend_port):
    port = free_port()
    conf = os.path.join(work, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend tls
    bind 127.0.0.1:{port} ssl crt {pem}
    default_backend gateway
backend gateway
    server gw 127.0.0.1:{backend_port}
""")
    lf = open(os.path.join(work, "haproxy.log"), "ab")
    p = subprocess.Popen(["haproxy", "-db", "-f", conf], stdin=subprocess.DEVNULL, stdout=lf,
                         stderr=lf)
    lf.close()
    p.port = port
    why = wait_listening(p, port)
    if why:
        raise RuntimeError(f"haproxy {why}; see haproxy.log")
    return p


def negotiated(cmd):
    """TLS version / cipher curl reports for cmd (curl -v)."""
    p = subprocess.run(cmd[:1] + ["-v"] + cmd[1:], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, errors="replace")
    for line in p.stderr.splitlines():
        if "SSL connection using" in line:
            return line.split("using", 1)[1].strip()
    return "?"


def https(a, gw, size, big_sha, rows, results, work):
    """Downloads over HTTPS: the gateway's own TLS (its default priorities,
    the cipher curl and GnuTLS agree on, then AES-128-GCM and ChaCha20 asked
    by curl), and HAProxy terminating TLS in front of the plain-http gateway;
    beside smbclient --client-protection=encrypt. The SMB leg is encrypted
    too (server fixture-enc, encryption = desired, the product default)."""
    cert, key, pem = make_cert(work)
    tgw = Gateway(a, work, 100, name="smbgate-tls", tls=(cert, key))
    tgw.start()
    hp = None
    try:
        hp = start_haproxy(work, pem, gw.port)
        auth = f"{ALICE}:{ALICE_PASS}"
        path = f"/api/v1/fs/{SERVER_ENC}/public/bench/big.bin"
        base = ["curl", "-sS", "-k", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}"]
        variants = [
            ("gateway TLS, default", base + [tgw.url(path)]),
            ("gateway TLS, AES-128-GCM", base + ["--tls13-ciphers", "TLS_AES_128_GCM_SHA256",
                                                 tgw.url(path)]),
            ("gateway TLS, ChaCha20-Poly1305", base + ["--tls13-ciphers",
                                                       "TLS_CHACHA20_POLY1305_SHA256",
                                                       tgw.url(path)]),
            ("HAProxy TLS → gateway http, default", base + [f"https://127.0.0.1:{hp.port}{path}"]),
        ]
        for _, cmd in variants:  # warm each session; the bytes once
            timed(cmd[:-1] + [cmd[-1].rsplit("/", 2)[0] + "/"], check_out=curl_code({"200"}))
        out = os.path.join(work, "tls.bin")
        timed(base[:6] + [out] + base[7:] + [tgw.url(path)], check_out=curl_code({"200"}))
        if sha256_file(out) != big_sha:
            fail("https download: sha256 of the gateway's bytes differs from the file's")
        os.unlink(out)
        labels = {v: negotiated(c) for v, c in variants}
        t = {v: [] for v, _ in variants}
        cpu = {v: [] for v, _ in variants}
        s, scpu = [], []
        for i in range(a.runs):
            for v, cmd in variants:
                dt, _ = timed(cmd, check_out=curl_code({"200"}))
                t[v].append(dt)
                cpu[v].append(timed.cpu)
            dt, _ = timed(smbclient("get bench/big.bin /dev/null", True))
            s.append(dt)
            scpu.append(timed.cpu)
            log(f"https run {i + 1}: " + " ".join(f"{t[v][-1]:.2f}s" for v, _ in variants)
                + f" smbclient-encrypt {s[-1]:.2f}s")
        sm = mbps(size, s)
        gib = size / (1 << 30)
        for v, _ in variants:
            gm = mbps(size, t[v])
            ratio = statistics.median(gm) / statistics.median(sm)
            rows.append(Row(f"HTTPS download {size // MIB} MiB: {v}", "MB/s", gm, sm,
                            "smbclient get, encrypt", None, "≥ 0.70×", ratio >= 0.7, ratio,
                            f"{labels[v]}; busy CPU-s per GiB {statistics.median(cpu[v]) / gib:.2f}"
                            f" (smbclient {statistics.median(scpu) / gib:.2f})"))
            results.setdefault("https_ratio", {})[v] = ratio
    finally:
        if hp:
            hp.terminate()
            hp.wait()
        tgw.stop()


def listing(a, gw, rows, results):
    auth = f"{ALICE}:{ALICE_PASS}"
    url = gw.url(f"/api/v1/fs/{SERVER}/public/bench/list/")
    warm(gw, auth)
    g, s = [], []
    for i in range(a.list_runs):
        dt, out = timed(["curl", "-sS", "-u", auth, url])
        n = len(json.loads(out)["entries"])
        if n != a.entries:
            fail(f"gateway listing: {n} entries, expected {a.entries}")
        g.append(dt * 1000)
        dt, out = timed(smbclient("ls bench/list/*"))
        n = sum(1 for line in out.splitlines() if "file-" in line)
        if n != a.entries:
            fail(f"smbclient ls: {n} entries, expected {a.entries}")
        s.append(dt * 1000)
    # smbclient's figure includes its own connect + session setup + tree
    # connect; measure that alone so the reader can subtract it.
    base = []
    for i in range(a.list_runs):
        dt, _ = timed(smbclient("pwd"))
        base.append(dt * 1000)
    ratio = statistics.median(g) / statistics.median(s)
    rows.append(Row(f"list {a.entries} entries", "ms", g, s, "smbclient ls", None, "≤ 1.20×",
                    ratio <= 1.2, ratio,
                    f"smbclient connect+auth alone (-c pwd): {statistics.median(base):.0f} ms"))


ZIP_FILES = 16


def zips(a, gw, big, size, rows, results, work):
    """A folder of ZIP_FILES files (the big file's bytes in slices) as one zip
    (stored: the default) against the plain downloads of the same files, one
    curl and one connection each way."""
    auth = f"{ALICE}:{ALICE_PASS}"
    share = os.environ["SAMBA_SHARE_PUBLIC"]
    zdir = os.path.join(share, "bench", "zip")
    os.makedirs(zdir, exist_ok=True)
    per = size // ZIP_FILES
    shas = {}
    with open(big, "rb") as src:
        for i in range(ZIP_FILES):
            b = src.read(per)
            name = f"part-{i:02d}.bin"
            with open(os.path.join(zdir, name), "wb") as f:
                f.write(b)
            shas[name] = hashlib.sha256(b).hexdigest()
    for n in os.listdir(zdir) + [""]:
        os.chown(os.path.join(zdir, n), int(os.environ["SAMBA_UID1"]),
                 int(os.environ["SAMBA_GID"]))
    total = per * ZIP_FILES
    zurl = gw.url(f"/api/v1/fs/{SERVER}/public/bench/zip?download=zip")
    plain = ["curl", "-sS", "-u", auth, "-w", "%{http_code}\n"]
    for n in sorted(shas):
        plain += [gw.url(f"/api/v1/fs/{SERVER}/public/bench/zip/{n}"), "-o", "/dev/null"]
    all_200 = lambda out: out.split() == ["200"] * ZIP_FILES  # noqa: E731
    warm(gw, auth)
    # Bytes check (untimed): every member is the file's bytes.
    out = os.path.join(work, "bench.zip")
    timed(["curl", "-sS", "-u", auth, "-o", out, "-w", "%{http_code}", zurl],
          check_out=curl_code({"200"}))
    with zipfile.ZipFile(out) as z:
        got = {}
        for info in z.infolist():
            if info.filename.endswith("/"):
                continue
            h = hashlib.sha256()
            with z.open(info) as f:
                while True:
                    b = f.read(4 * MIB)
                    if not b:
                        break
                    h.update(b)
            got[info.filename[len("zip/"):]] = h.hexdigest()
            if info.compress_type != zipfile.ZIP_STORED:
                fail("zip: an entry is not stored")
    os.unlink(out)
    if got != shas:
        fail("zip: the archive's members differ from the files")
    else:
        log(f"zip: the {ZIP_FILES} members' sha256 match")
    one = ["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}",
           gw.url(f"/api/v1/fs/{SERVER}/public/bench/big.bin"), "-r", f"0-{total - 1}"]
    g, p, o = [], [], []
    for i in range(a.runs):
        dt, _ = timed(["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}", zurl],
                      check_out=curl_code({"200"}))
        g.append(dt)
        dt, _ = timed(plain, check_out=all_200)
        p.append(dt)
        dt, _ = timed(one, check_out=curl_code({"200", "206"}))
        o.append(dt)
        log(f"zip run {i + 1}: zip {g[-1]:.2f}s plain downloads {p[-1]:.2f}s "
            f"one file of the same size {o[-1]:.2f}s")
    gm, pm = mbps(total, g), mbps(total, p)
    ratio = statistics.median(gm) / statistics.median(pm)
    rows.append(Row(f"zip of a folder ({ZIP_FILES} files, {total // MIB} MiB, stored)", "MB/s",
                    gm, pm, "the same files downloaded plainly", None, "≥ 0.90×", ratio >= 0.9,
                    ratio, "MB/s of the files' bytes; both from the gateway, one curl each; "
                    f"one file of the same bytes (the big file's first {total // MIB} MiB): "
                    f"{fmt_series(mbps(total, o), 'MB/s')}, zip / that "
                    f"{statistics.median(gm) / statistics.median(mbps(total, o)):.2f}×"))
    results["zip_ratio"] = ratio
    shutil.rmtree(zdir, ignore_errors=True)


def search(a, gw, rows, results, uid, gid):
    """A search that walks a tree of a.search_entries files and folders in
    a.search_folders folders (one match) against smbclient's `recurse; ls`
    of the same tree."""
    auth = f"{ALICE}:{ALICE_PASS}"
    share = os.environ["SAMBA_SHARE_PUBLIC"]
    sdir = os.path.join(share, "bench", "search")
    nf = a.search_folders
    per = (a.search_entries - nf) // nf  # files per folder
    log(f"search: a tree of {nf} folders of {per} files")
    os.makedirs(sdir, exist_ok=True)
    os.chown(sdir, uid, gid)
    for i in range(nf):
        d = os.path.join(sdir, f"folder-{i:03d}")
        os.mkdir(d)
        os.chown(d, uid, gid)
        for j in range(per):
            fp = os.path.join(d, f"file-{i:03d}-{j:03d}.txt")
            open(fp, "w").close()
            os.chown(fp, uid, gid)
    entries = nf * (per + 1)
    needle = f"file-{nf - 1:03d}-{per - 1:03d}"
    url = gw.url(f"/api/v1/search/{SERVER}/public/bench/search?q={needle}&limit=10")
    warm(gw, auth)
    g, s_ = [], []
    for i in range(a.list_runs):
        dt, out = timed(["curl", "-sS", "-u", auth, url])
        lines = [json.loads(x) for x in out.splitlines() if x]
        end = lines[-1]
        if len(lines) != 2 or end.get("results") != 1 or end.get("deadline_reached"):
            fail(f"search: {out[-300:]}")
        g.append(dt * 1000)
        dt, out = timed(smbclient("cd bench/search; recurse; ls"))
        n = sum(1 for line in out.splitlines() if "file-" in line)
        if n != nf * per:
            fail(f"smbclient recurse ls: {n} files, expected {nf * per}")
        s_.append(dt * 1000)
        log(f"search run {i + 1}: gateway {g[-1]:.0f} ms smbclient {s_[-1]:.0f} ms")
    ratio = statistics.median(g) / statistics.median(s_)
    rows.append(Row(f"search a tree of {entries} entries in {nf} folders", "ms", g, s_,
                    "smbclient recurse; ls", None, "≤ 1.20×", ratio <= 1.2, ratio,
                    "one match; smbclient prints every entry, connect and login included"))
    results["search_ratio"] = ratio
    shutil.rmtree(sdir, ignore_errors=True)


def dav_transfers(a, gw, rdav, big, big_sha, size, rows, work):
    """WebDAV GET and PUT of the big file beside the REST API's, alternated in
    the same run, with rclone serve webdav (SMB backend) on the same share."""
    auth = f"{ALICE}:{ALICE_PASS}"
    rest = gw.url(f"/api/v1/fs/{SERVER}/public/bench/")
    dav = gw.url(f"/dav/{SERVER}/public/bench/")
    out = os.path.join(work, "dav.bin")
    timed(["curl", "-sS", "-u", auth, "-o", out, "-w", "%{http_code}", dav + "big.bin"],
          check_out=curl_code({"200"}))
    if sha256_file(out) != big_sha:
        fail("WebDAV GET: sha256 of the gateway's bytes differs from the file's")
    os.unlink(out)
    get = {"dav": [], "rest": [], "rclone": []}
    put = {"dav": [], "rest": [], "rclone": []}
    updir = os.path.dirname(big)
    for i in range(a.runs):
        # The two alternate which goes first: what a 1 GiB write costs the
        # server (smbd's page-cache copies) depends on the writes before it on
        # a VM, whichever protocol carries it (docs/performance.md).
        order = (("rest", rest), ("dav", dav)) if i % 2 == 0 else (("dav", dav), ("rest", rest))
        for k, url in order:
            dt, _ = timed(["curl", "-sS", "-u", auth, "-o", "/dev/null", "-w", "%{http_code}",
                           url + "big.bin"], check_out=curl_code({"200"}))
            get[k].append(dt)
        if rdav:
            dt, _ = timed(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                           f"http://127.0.0.1:{rdav.port}/bench/big.bin"],
                          check_out=curl_code({"200"}))
            get["rclone"].append(dt)
        for k, url in order:
            name = f"up-{k}.bin"
            # Every PUT starts from the same state: no earlier upload in the
            # folder (the server frees their page cache now, not mid-PUT).
            for kk in ("rest", "dav", "rclone"):
                if os.path.exists(os.path.join(updir, f"up-{kk}.bin")):
                    os.unlink(os.path.join(updir, f"up-{kk}.bin"))
            os.sync()
            dt, _ = timed(["curl", "-sS", "-u", auth, "-T", big, "-o", "/dev/null", "-w",
                           "%{http_code}", url + name], check_out=curl_code({"201", "204"}))
            put[k].append(dt)
            if k == "dav" and i == 0 and sha256_file(os.path.join(updir, name)) != big_sha:
                fail("WebDAV PUT: the file the gateway wrote differs from the source")
        if rdav:
            for kk in ("rest", "dav", "rclone"):
                if os.path.exists(os.path.join(updir, f"up-{kk}.bin")):
                    os.unlink(os.path.join(updir, f"up-{kk}.bin"))
            os.sync()
            dt, _ = timed(["curl", "-sS", "-T", big, "-o", "/dev/null", "-w", "%{http_code}",
                           f"http://127.0.0.1:{rdav.port}/bench/up-rclone.bin"],
                          check_out=curl_code({"201", "204"}))
            put["rclone"].append(dt)
        log(f"webdav run {i + 1}: GET dav {get['dav'][-1]:.2f}s rest {get['rest'][-1]:.2f}s, "
            f"PUT dav {put['dav'][-1]:.2f}s rest {put['rest'][-1]:.2f}s")

    for k in ("dav", "rest", "rclone"):
        if os.path.exists(os.path.join(updir, f"up-{k}.bin")):
            os.unlink(os.path.join(updir, f"up-{k}.bin"))
    for what, d in (("GET", get), ("PUT", put)):
        dm, rm = mbps(size, d["dav"]), mbps(size, d["rest"])
        ratio = statistics.median(dm) / statistics.median(rm)
        rows.append(Row(f"WebDAV {what} {a.size_mib} MiB", "MB/s", dm, rm, f"REST {what}",
                        mbps(size, d["rclone"]) if rdav else "n/a", "≥ 0.95×", ratio >= 0.95,
                        ratio, "third column: rclone serve webdav (SMB backend), same share"))


def dav_listing(a, gw, rdav, rows):
    """PROPFIND Depth 1 of the listing folder beside the REST JSON listing."""
    auth = f"{ALICE}:{ALICE_PASS}"
    rest = gw.url(f"/api/v1/fs/{SERVER}/public/bench/list/")
    dav = gw.url(f"/dav/{SERVER}/public/bench/list/")
    pf = ["-X", "PROPFIND", "-H", "Depth: 1"]
    g, r, rc = [], [], []
    for i in range(a.list_runs):
        dt, out = timed(["curl", "-sS", "-u", auth] + pf + [dav])
        n = out.count("<D:response>") - 1
        if n != a.entries:
            fail(f"PROPFIND: {n} entries, expected {a.entries}")
        g.append(dt * 1000)
        dt, out = timed(["curl", "-sS", "-u", auth, rest])
        r.append(dt * 1000)
        if rdav:
            dt, out = timed(["curl", "-sS"] + pf + [f"http://127.0.0.1:{rdav.port}/bench/list/"])
            rc.append(dt * 1000)
    ratio = statistics.median(g) / statistics.median(r)
    rows.append(Row(f"PROPFIND depth 1, {a.entries} entries", "ms", g, r, "REST JSON listing",
                    rc if rdav else "n/a", "≤ 1.50×", ratio <= 1.5, ratio,
                    "third column: rclone serve webdav (SMB backend), same folder"))


def metric(gw, name):
    """The value of the counter or gauge NAME in /metrics (0 when absent)."""
    st, data = gw.request("GET", "/metrics")
    return float(gwharness.metric_of(data.decode(), name) or 0)


def spawn_metrics(gw):
    """(sum seconds, count) of smbgate_sandbox_spawn_seconds from /metrics."""
    return (metric(gw, "smbgate_sandbox_spawn_seconds_sum"),
            metric(gw, "smbgate_sandbox_spawn_seconds_count"))


def logins(a, gw, rows, results):
    lat, lg = [], []
    s0, c0 = spawn_metrics(gw)
    for i in range(a.logins):
        t0 = time.perf_counter()
        tok = gw.login(ALICE, ALICE_PASS)
        t1 = time.perf_counter()
        entries = gw.listing(f"{SERVER}/public/", tok)
        t2 = time.perf_counter()
        if not any(e["name"] == "hello.txt" for e in entries):
            fail("first listing does not show hello.txt")
        gw.logout(tok)
        lat.append((t2 - t0) * 1000)
        lg.append((t1 - t0) * 1000)
    s1, c1 = spawn_metrics(gw)
    spawn = (s1 - s0) / (c1 - c0) * 1000 if c1 > c0 else float("nan")
    med = statistics.median(lat)
    rows.append(Row(f"login → first listing (n={a.logins})", "ms", lat, None, "", None,
                    "median ≤ 25, p99 ≤ 50 ms", med <= 25 and pct(lat, 99) <= 50, None,
                    f"p99 {pct(lat, 99):.1f} ms; POST login alone: median {statistics.median(lg):.1f} ms,"
                    f" of which sandbox spawn (/metrics) mean {spawn:.1f} ms"))
    results["login_ms"] = {"median": med, "p99": pct(lat, 99), "login_median": statistics.median(lg),
                           "spawn_mean": spawn}


def sessions(a, gw, ns, rows, results):
    users = -(-max(ns) // 8)
    log(f"adding {users} fixture users for {max(ns)} sessions (8 per user and server)")
    subprocess.run([os.path.join(HERE, "add-users.sh"), str(users), BENCH_PASS], check=True)
    toks, retries = [], []
    base_pss = sum(pss_kib(p) for p in tree(gw.pid))
    results["sessions"] = {}
    for n in sorted(ns):
        try:
            one_level(a, gw, n, toks, retries, base_pss, rows, results)
        except Exception as e:  # noqa: BLE001 - the largest N that worked is the result
            fds = len(os.listdir(f"/proc/{gw.pid}/fd")) if gw.proc.poll() is None else -1
            msg = f"{type(e).__name__}: {e}"[:160]
            fail(f"{n} sessions: {msg} (after {len(toks)} sessions open; gateway fds {fds})")
            rows.append(Row(f"{n} sessions: FAILED after {len(toks)} open", "", "n/a", None, "",
                            None, "500 sessions", False, None,
                            f"{msg}; gateway had {fds} fds open; see the gateway log"))
            break
    for t in toks:
        try:
            gw.logout(t)
        except Exception:  # noqa: BLE001
            pass


def one_level(a, gw, n, toks, retries, base_pss, rows, results):
    if True:
        # Open sessions up to n (the earlier ones stay open).
        need = list(range(len(toks), n))
        t0 = time.perf_counter()

        def one(i):
            # A login refused under load is retried (twice at most) and counted:
            # the count is a finding, not noise to hide.
            for attempt in range(3):
                try:
                    return gw.login(f"bench{i // 8 + 1:03d}", BENCH_PASS)
                except RuntimeError as e:
                    if attempt == 2:
                        raise
                    retries.append(str(e)[:120])
                    time.sleep(0.2)

        with concurrent.futures.ThreadPoolExecutor(a.parallel) as ex:
            for t in ex.map(one, need):
                toks.append(t)
        dt_open = time.perf_counter() - t0
        time.sleep(1)  # let the sandboxes settle
        # Before the listings: a user's first login keeps no SMB connection
        # (no share of theirs to check the password on yet).
        idle = sum(pss_kib(p) for p in tree(gw.pid))
        conns0 = metric(gw, "smbgate_smb_connections_total")
        # One listing per session, one after another.
        lat = []
        for t in toks:
            t1 = time.perf_counter()
            e = gw.listing(f"{SERVER}/readonly/", t)
            lat.append((time.perf_counter() - t1) * 1000)
            if not any(x["name"] == "readme.txt" for x in e):
                fail("a session's listing does not show readme.txt")
        conns1 = metric(gw, "smbgate_smb_connections_total")
        # All sessions at once (32 in flight).
        latp = []

        def timed_list(t):
            t1 = time.perf_counter()
            gw.listing(f"{SERVER}/readonly/", t)
            return (time.perf_counter() - t1) * 1000

        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            latp = list(ex.map(timed_list, toks))
        # Every session has its connection: the listings should make none.
        conns2 = metric(gw, "smbgate_smb_connections_total")
        # In use: every session has listed a share and holds its connection.
        time.sleep(1)
        pids = tree(gw.pid)
        fds = len(os.listdir(f"/proc/{gw.pid}/fd"))
        total = sum(pss_kib(p) for p in pids)
        per = (total - base_pss) / n
        smbd = smbd_pss_kib()
        if retries:
            log(f"{len(retries)} login(s) refused and retried so far, e.g. {retries[0]}")
            shutil.copytree(os.environ["SAMBA_LOG_DIR"], os.path.join(os.path.dirname(gw.logpath),
                            f"samba-logs-{n}"), dirs_exist_ok=True)
        slow = sum(1 for x in lat if x > 1000) + sum(1 for x in latp if x > 1000)
        log(f"{n} sessions: opened in {dt_open:.1f}s, {len(pids)} processes, PSS {total / 1024:.0f} MiB"
            f" ({per / 1024:.2f} MiB/session), listing max {max(lat):.0f} ms seq, "
            f"{max(latp):.0f} ms with 32 in flight; smbd {smbd / 1024:.0f} MiB;"
            f" new SMB connections: {conns1 - conns0:.0f} in the listings one by one,"
            f" {conns2 - conns1:.0f} in those 32 at once")
        rows.append(Row(f"{n} sessions: PSS total (gateway+spawner+sandboxes)", "MiB",
                        [total / 1024], None, "", None, "≤ 24 GiB", total < 24 * 1024 * 1024,
                        None, f"after a listing each; {len(pids)} processes; gateway fds {fds};"
                        f" smbd side {smbd / 1024:.0f} MiB (not counted)"))
        rows.append(Row(f"{n} sessions: PSS per session", "MiB", [per / 1024], None, "", None,
                        "≤ 8 MiB", per <= 8 * 1024, None,
                        f"(total - idle gateway) / N, in use; {(idle - base_pss) / n / 1024:.2f}"
                        " MiB before the listings"))
        rows.append(Row(f"{n} sessions: one listing each", "ms", lat, None, "", None,
                        "all < 1 s", slow == 0, None,
                        f"p99 {pct(lat, 99):.0f}; 32 in flight: median {statistics.median(latp):.0f},"
                        f" max {max(latp):.0f}; {slow} over 1 s; {len(retries)} logins retried"))
        results["sessions"][n] = {"pss_total_mib": total / 1024, "per_session_mib": per / 1024,
                                  "per_session_mib_before_listings": (idle - base_pss) / n / 1024,
                                  "list_ms_max": max(lat), "list_ms_parallel_max": max(latp),
                                  "open_s": dt_open, "smbd_mib": smbd / 1024,
                                  "login_retries": len(retries), "gateway_fds": fds}


def print_table(a, rows):
    head = ["measurement", "smbgate", "baseline", "rclone serve http", "gw/base", "target", ""]
    lines = []
    for r in rows:
        fmt = {"ms": "{:.1f}", "MiB": "{:.1f}", "CPU-s": "{:.2f}"}.get(r.unit, "{:.0f}")
        gw = fmt_series(r.gw, r.unit, fmt)
        base = f"{fmt_series(r.base, r.unit, fmt)} ({r.base_name})" if r.base is not None else ""
        third = fmt_series(r.third, r.unit, fmt) if r.third is not None else ""
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else ""
        mark = "" if r.ok is None else ("met" if r.ok else "MISSED")
        lines.append([r.what, gw, base, third, ratio, r.target, mark])
        if r.note:
            lines.append(["  · " + r.note, "", "", "", "", "", ""])
    w = [max(len(x[i]) for x in lines + [head]) for i in range(len(head))]
    m = a.machine
    print()
    print("smbgate benchmark" + (" (SMOKE: tiny sizes, figures mean nothing)" if a.smoke else "")
          + f" — medians [min–max], runs: transfers {a.runs}, listings {a.list_runs}")
    print(f"commit {m['commit']}; {m['date']}; {m['cpu']}, {m['nproc']} CPUs, "
          f"{m['memory_gib']} GiB; Linux {m['kernel']}; {m['samba']}; {m['curl'].split(' (')[0]}")
    print(f"load average (1 min) at start {m['load_start']}, at end {os.getloadavg()[0]:.2f}; "
          f"gateway: smb_socket = {a.smb_socket}, mounts = {a.mounts}"
          f"{f', prestart = {a.prestart}' if a.prestart is not None else ''}; DAMON {m['damon']}")
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |")
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for x in lines:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(x)) + " |")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
