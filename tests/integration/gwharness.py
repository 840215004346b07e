# SPDX-License-Identifier: GPL-3.0-or-later
"""
What the standalone integration tests (test_hostile.py, test_faults.py) share:
the Samba fixture's settings, raw HTTP exchanges, the shares' snapshot, and a
real gateway on a free port of 127.0.0.1 with its own configuration.
Python 3 standard library only.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FX = {}
if not os.path.isfile(os.environ.get("SMBGATE_FIXTURE_ENV", "")):
    sys.exit("FAIL: SMBGATE_FIXTURE_ENV is not set or missing: run under "
             "tests/fixtures/with-samba.sh")
with open(os.environ["SMBGATE_FIXTURE_ENV"], encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            FX[k] = v
SHARES = [FX["SAMBA_SHARE_PUBLIC"], FX["SAMBA_SHARE_ALICE_PRIVATE"], FX["SAMBA_SHARE_READONLY"]]
ALICE, ALICE_PW = FX["SAMBA_USER1"], FX["SAMBA_PASS1"]
BOB, BOB_PW = FX["SAMBA_USER2"], FX["SAMBA_PASS2"]


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


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


class Gateway:
    """smbgate SMBGATE with WORKER on a free port; @servers: [(name, port,
    extra lines)] besides nothing else (default: the fixture's smbd)."""

    def __init__(self, smbgate, worker, servers=None, gateway_extra="", uid_base=2000000):
        self.dir = tempfile.mkdtemp(prefix="smbgate-hostile.")
        self.conf = os.path.join(self.dir, "smbgate.conf")
        self.logpath = os.path.join(self.dir, "smbgate.log")
        base = uid_base + (os.getpid() % 10000) * 64
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        with open(self.conf, "w") as f:
            f.write(f"""[gateway]
listen = 127.0.0.1:{self.port}
control_socket = {self.dir}/control.sock
{gateway_extra or "max_upload_size = 1M"}

[sandbox]
uid_range = {base}-{base + 63}
""")
            for name, port, extra in servers or [("fixture", FX["SAMBA_PORT"], "")]:
                f.write(f"""
[server {name}]
host = 127.0.0.1
port = {port}
workgroup = SMBGATE
{extra}
""")
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([smbgate, "-c", self.conf, "--worker", worker],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        for _ in range(200):
            if self.proc.poll() is not None:
                sys.exit(f"smbgate exited with {self.proc.returncode}; log {self.logpath}")
            try:
                if exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                            b"Connection: close\r\n\r\n", 2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit("smbgate did not answer /healthz")

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
            with open(self.logpath, errors="replace") as fh:
                sys.stderr.write("".join(fh.readlines()[-40:]))
            return 1
        shutil.rmtree(self.dir, ignore_errors=True)
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed"
        return rc
