# SPDX-License-Identifier: GPL-3.0-or-later
"""
The one harness of the integration tests and the bench (tests/bench/bench.py):
  - the Samba fixture's settings (FX, from tests/fixtures/with-samba.sh) and
    a snapshot of its shares;
  - processes: free ports, the process table, a gateway's sandbox workers,
    RSS, PSS and threads;
  - raw HTTP exchanges (req, download, a request from another loopback
    address, login, tus) and /metrics;
  - Failures, the checks of a standalone test, and its verdict;
  - Gateway: a real smbgate on a free port of 127.0.0.1 with its own folder,
    configuration, control socket and log; the tests' gateways are its
    subclasses.
The TCP relays (proxies) are in relay.py beside it. Python 3 standard library
only.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# ---- the Samba fixture ------------------------------------------------------

FX = {}  # the fixture's settings (fixture.env)
_NEEDED = ("SAMBA_PORT", "SAMBA_USER1", "SAMBA_PASS1", "SAMBA_USER2", "SAMBA_PASS2",
           "SAMBA_SHARE_PUBLIC", "SAMBA_SHARE_ALICE_PRIVATE", "SAMBA_SHARE_READONLY",
           "SAMBA_UID1", "SAMBA_GID")


def _load_fixture():
    path = os.environ.get("SMBGATE_FIXTURE_ENV", "")
    if not os.path.isfile(path):
        sys.exit("FAIL: SMBGATE_FIXTURE_ENV is not set or missing: run under "
                 "tests/fixtures/with-samba.sh")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                FX[k] = v
    for k in _NEEDED:
        if k not in FX:
            sys.exit(f"FAIL: {k} missing from {path}")


_load_fixture()
SHARES = [FX["SAMBA_SHARE_PUBLIC"], FX["SAMBA_SHARE_ALICE_PRIVATE"], FX["SAMBA_SHARE_READONLY"]]
PUBLIC, PRIVATE, READONLY = SHARES
ALICE, ALICE_PW = FX["SAMBA_USER1"], FX["SAMBA_PASS1"]
BOB, BOB_PW = FX["SAMBA_USER2"], FX["SAMBA_PASS2"]


BIG_LEN = 3 * 1024 * 1024 + 7


def pattern(n):
    """n bytes, byte i = i % 251 (the fixture's big.bin)."""
    block = bytes(range(251))
    return (block * (n // 251 + 1))[:n]


UNICODE_NAME = "\u00dcn\u00efc\u00f8d\u00e9 \u30d5\u30a1\u30a4\u30eb.txt"
SEEDED_PUBLIC = {  # what the fixture seeds in "public"
    "hello.txt": b"Hello, world!\n",
    "name with spaces.txt": b"spaces\n",
    UNICODE_NAME: "unicode \u2713\n".encode(),
    "Dossier \u00e9t\u00e9/note.txt": b"note in dossier\n",
    "100% done.txt": b"percent\n",
    "#hash#.txt": b"hash\n",
    "a+b=c.txt": b"plus\n",
    "Tom & Jerry.txt": b"ampersand\n",
    "it's.txt": b"single quote\n",
    "nested/level 1/level 2/deep file.txt": b"deep\n",
    "nested/level 1/sibling.txt": b"sibling\n",
    "binary.bin": bytes(range(256)),
    "big.bin": pattern(BIG_LEN),
}


def snapshot():
    """Every name, type, size, mode and content hash under the shares."""
    out = {}
    for top in SHARES:
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                p = os.path.join(root, n)
                st = os.lstat(p)
                data = b""
                if os.path.isfile(p) and not os.path.islink(p) and st.st_size < (1 << 20):
                    with open(p, "rb") as f:
                        data = f.read()
                out[p] = (st.st_mode, st.st_size, st.st_mtime_ns, hash(data))
    return out


def disk_tree(top, links=False):
    """{relative path: bytes, or None for a folder} of everything under
    @top on disk; with @links, a symbolic link is "-> its target"."""
    out = {}
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, top)
            if links and os.path.islink(full):
                out[rel] = "-> " + os.readlink(full)
            elif os.path.isdir(full):
                out[rel] = None
            else:
                with open(full, "rb") as f:
                    out[rel] = f.read()
    return out


def file_sha256(path, block=8 << 20):
    """(size, sha256 hex digest) of the file at @path, read in blocks."""
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(block), b""):
            h.update(b)
            n += len(b)
    return n, h.hexdigest()


def temporaries(folder=PUBLIC):
    """The gateway's upload temporaries in @folder."""
    return [n for n in os.listdir(folder) if n.startswith(".~smbgate-new-")]


def wait_until(pred, timeout, step=0.05):
    """Polls pred() until true or @timeout seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def in_parallel(n, work, timeout=60):
    """Runs work(i) for i in 0..n-1 at once, one thread each: (their results
    in order, an exception's repr in its place; how many still ran after
    @timeout s each)."""
    results = [None] * n

    def run(i):
        try:
            results[i] = work(i)
        except Exception as e:  # reported by the caller's assertions
            results[i] = repr(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results, sum(t.is_alive() for t in threads)


def key_values(text):
    """{key: [values]} of the KEY=VALUE lines of a script's output."""
    res = {}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        res.setdefault(k, []).append(v)
    return res


# ---- processes --------------------------------------------------------------

def free_port():
    """A port of 127.0.0.1 free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect_from(src, port, timeout=5):
    """A connection from the loopback address @src to 127.0.0.1:@port, or
    None when it failed (refused, or no answer within @timeout s)."""
    s = socket.socket()
    try:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
        return s
    except OSError:
        s.close()
        return None


def connect_many(srcs, port, timeout=5):
    """connect_from() each of @srcs: the connections made."""
    return [s for s in (connect_from(src, port, timeout) for src in srcs) if s]


def proc_files(name):
    """(pid, bytes) of /proc/PID/@name for every process there now."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/{name}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        yield int(d), data


def proc_table():
    """{pid: (comm, ppid)} of every process now."""
    out = {}
    for pid, data in proc_files("stat"):
        l, r = data.index(b"("), data.rindex(b")")
        out[pid] = (data[l + 1:r].decode(errors="replace"), int(data[r + 2:].split()[1]))
    return out


def tree(pid, table=None):
    """@pid and every process below it (in @table, default: now)."""
    kids = {}
    for p, (_c, pp) in (table or proc_table()).items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def workers(gw_pid):
    """How many smbgate-worker processes run below the gateway @gw_pid."""
    t = proc_table()
    return sum(t[p][0] == "smbgate-worker" for p in tree(gw_pid, t) if p != gw_pid)


def proc_number(pid, name, key, must_exist=False):
    """The number on the "@key:" line of /proc/PID/@name (kiB for sizes); 0
    when there is none, or when the process is gone unless @must_exist."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        if must_exist:
            raise
    return 0


def status_kib(pid, key):
    """A kiB figure of /proc/PID/status (VmRSS, VmHWM...); 0 when absent."""
    return proc_number(pid, "status", key, must_exist=True)


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def proc_status(pid):
    """(RSS in MiB, threads) of @pid."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return int(out["VmRSS"].split()[0]) // 1024, int(out["Threads"])


def pss_kib(pid):
    """Proportional set size of @pid (0 when it is gone)."""
    return proc_number(pid, "smaps_rollup", "Pss")


# ---- HTTP -------------------------------------------------------------------

def parse_head(head):
    """(status, {lower-name: value}) of a raw answer's header block."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers


def exchange(port, data, timeout=20):
    """Sends raw bytes, returns the first answer's (status, headers, body);
    status 0 when the gateway closed without answering."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    break
    finally:
        s.close()
    if not out.startswith(b"HTTP/"):
        return 0, {}, out
    head, _, body = out.partition(b"\r\n\r\n")
    return parse_head(head) + (body,)


def read_to_end(s, size=65536, ends=()):
    """What socket @s gives until its end (or one of @ends is raised)."""
    out = b""
    while True:
        try:
            chunk = s.recv(size)
        except ends:
            break
        if not chunk:
            break
        out += chunk
    return out


def raw_exchange(port, data, timeout=30, rcvbuf=None, ends=(ConnectionResetError,)):
    """Sends raw bytes; returns everything read until the server closes or
    one of @ends is raised (a reset: b'' or what came before). The request
    should say Connection: close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early; read what was said
        return read_to_end(s, ends=ends)
    finally:
        s.close()


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def req(port, method, path, token, body=b"", extra=b"", timeout=60):
    """(status, headers, body) of one request with a bearer token."""
    data = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Connection: close\r\n").encode() + extra
    if body or method in ("PUT", "POST"):
        data += f"Content-Length: {len(body)}\r\n".encode()
    return exchange(port, data + b"\r\n" + body, timeout)


def tus(port, method, path, tok, headers="", body=b""):
    """(status, headers, body) of one tus request."""
    data = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n"
            f"Tus-Resumable: 1.0.0\r\nConnection: close\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return exchange(port, data + body)


def download(port, path, token, timeout=60):
    """(status, Content-Length or None, bytes received) of a GET read to the
    end of the connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
               "Connection: close\r\n\r\n").encode())
    try:
        buf = read_to_end(s, 1 << 20, (ConnectionResetError, socket.timeout))
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        return 0, None, body
    status, headers = parse_head(head)
    length = headers.get("content-length")
    return status, None if length is None else int(length), body


def http_from(port, method, path, token=None, body=None, src="127.0.0.1", timeout=120):
    """One exchange from the loopback address @src, read to the end of the
    connection: (status, body); (0, b"") when it failed."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + (body or b""))
        out = read_to_end(s)
    except OSError:
        return 0, b""
    finally:
        s.close()
    if not out.startswith(b"HTTP/"):
        return 0, out
    head, _, rest = out.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def login_from(port, user, pw, server="fixture", src="127.0.0.1"):
    """(status, the token on 200 or else the error code) of a login from @src."""
    body = json.dumps({"username": user, "password": pw, "server": server}).encode()
    st, data = http_from(port, "POST", "/api/v1/login", body=body, src=src)
    code = None
    try:
        j = json.loads(data)
        code = j.get("token") if st == 200 else j.get("error", {}).get("code")
    except ValueError:
        pass
    return st, code


def error_code(body):
    """The error code of a JSON error body (None for anything else)."""
    return json.loads(body).get("error", {}).get("code") if body[:1] == b"{" else None


# ---- /metrics ---------------------------------------------------------------

def parse_metrics(text):
    """{"name" or "name{labels}": value} of a /metrics text."""
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m


def metric_of(text, name):
    """The value of @name (its first series, any labels) in a /metrics
    text; None when absent. Whole numbers come as int."""
    for k, v in parse_metrics(text).items():
        if k == name or k.startswith(name + "{"):
            return int(v) if v.is_integer() else v
    return None


def metric(port, name):
    """The value of @name in the gateway's /metrics (None when absent or
    when /metrics did not answer 200)."""
    st, body = http_from(port, "GET", "/metrics")
    return metric_of(body.decode(errors="replace"), name) if st == 200 else None


# ---- checks -----------------------------------------------------------------

class Failures(list):
    """The failed checks of a standalone test; each check printed."""

    def check(self, cond, what):
        print(("ok: " if cond else "FAIL: ") + what, file=sys.stderr, flush=True)
        if not cond:
            self.append(what)
        return cond


# ---- the gateway ------------------------------------------------------------

class Gateway:
    """smbgate SMBGATE with WORKER on a free port of 127.0.0.1 with its
    configuration, control socket and log: in a new folder of its own named
    @prefix... (smbgate.conf, smbgate.log, control.sock), or in @workdir
    (STEM.conf, STEM.log, STEM.sock); started unless @start is false. @name
    names it in messages. The configuration is config()'s: here [gateway]
    @gateway_extra and @servers ([(name, port, extra lines)], default: the
    fixture's smbd); subclasses write theirs."""

    def __init__(self, smbgate, worker, servers=None, gateway_extra="", uid_base=2000000,
                 prefix="smbgate-test.", workdir=None, stem="smbgate", name="smbgate",
                 start=True):
        self.smbgate, self.worker, self.name = smbgate, worker, name
        self.servers, self.gateway_extra = servers, gateway_extra
        self.uid_base = uid_base + (os.getpid() % 10000) * 64
        self.dir = workdir or tempfile.mkdtemp(prefix=prefix)
        self.conf = os.path.join(self.dir, f"{stem}.conf")
        self.logpath = os.path.join(self.dir, f"{stem}.log")
        self.sock = os.path.join(self.dir, f"{stem}.sock" if workdir else "control.sock")
        self.port = free_port()
        self.proc = None
        if start:
            self.start()

    def config(self):
        text = f"""[gateway]
listen = 127.0.0.1:{self.port}
control_socket = {self.sock}
{self.gateway_extra or "max_upload_size = 1M"}

[sandbox]
uid_range = {self.uid_base}-{self.uid_base + 63}
"""
        for name, port, extra in self.servers or [("fixture", FX["SAMBA_PORT"], "")]:
            text += f"""
[server {name}]
host = 127.0.0.1
port = {port}
workgroup = SMBGATE
{extra}
"""
        return text

    def spawn(self):
        """Writes the configuration and starts smbgate (its output: the log)."""
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(self.config())
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([self.smbgate, "-c", self.conf, "--worker", self.worker],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def healthy(self):
        """Whether /healthz answers 200 now."""
        try:
            return exchange(self.port, HEALTHZ, 2)[0] == 200
        except OSError:
            return False

    def start(self, attempts=1, seconds=20):
        """spawn(), then waits up to @seconds for /healthz. A gateway that
        could not listen (the port taken meanwhile) is tried on another
        port, @attempts times in all."""
        for _ in range(attempts):
            self.spawn()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self.healthy():
                    return
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"gateway {self.name} did not answer /healthz in "
                                     f"{seconds} s: {self.log_text()[-2000:]}")
            if b"cannot listen" not in self.log_bytes():
                raise AssertionError(f"gateway {self.name} exited with {self.proc.returncode}: "
                                     f"{self.log_text()[-2000:]}")
            self.port = free_port()
        raise AssertionError(f"gateway {self.name}: no free port after {attempts} attempts")

    def log_bytes(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def log_text(self):
        return self.log_bytes().decode("utf-8", errors="replace")

    def stop(self, timeout=30):
        """SIGTERM; the exit status, or "killed" when it took over @timeout s
        (None when it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return "killed"

    def login(self, user=None, password=None, server=None, expect=200):
        d = {"username": user or ALICE, "password": password or ALICE_PW}
        if server:
            d["server"] = server
        body = json.dumps(d).encode()
        st, _, data = exchange(self.port, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\nConnection: close\r\n"
                               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                               + body)
        if st != expect:
            raise AssertionError(f"login: {st} {data[:200]!r}")
        return json.loads(data)["token"] if st == 200 else st

    def verdict(self, failures):
        """The test's exit status after @failures (a count): 1 with the
        gateway log's last 40 lines on stderr (its work folder kept), or 0
        with the work folder removed."""
        if failures:
            print(f"\n{failures} failure(s); gateway log {self.logpath}:", file=sys.stderr)
            sys.stderr.write("".join(self.log_text().splitlines(True)[-40:]))
            return 1
        shutil.rmtree(self.dir, ignore_errors=True)
        return 0
