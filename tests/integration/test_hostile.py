#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Hostile requests, table-driven: every row of hostile_rows.py is sent raw to a
real gateway (its real sandboxes, the real Samba fixture) and must get exactly
its status and error code. After every row the gateway answers /healthz, and
the shares are byte for byte as before (unless the row says what it changes);
the table is sent twice, and over the second pass the gateway's RSS must not
grow by more than 4 MiB (checked every 25 rows: no leak per request).

    test_hostile.py SMBGATE WORKER [--print]
        (under tests/fixtures/with-samba.sh; --print: show what each row got,
        for writing new rows, and do not fail)

Python 3 standard library only. Nothing is skipped.
"""
import base64
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_rows  # noqa: E402

if len(sys.argv) < 3:
    sys.exit("usage: test_hostile.py SMBGATE WORKER [--print]")
SMBGATE, WORKER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PRINT = "--print" in sys.argv[3:]

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
ALICE, ALICE_PW = "alice", FX["SAMBA_PASS1"]
# Growth allowed over the second pass: glibc's per-thread arenas settle
# (0.2-1.3 MiB seen); a leak of 20 KiB per request would be 4 MiB. Under
# ASan, LeakSanitizer checks the gateway at its exit too (exit status).
RSS_SLACK_KIB = 4096


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
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="smbgate-hostile.")
        self.conf = os.path.join(self.dir, "smbgate.conf")
        self.logpath = os.path.join(self.dir, "smbgate.log")
        base = 2000000 + (os.getpid() % 10000) * 64
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        with open(self.conf, "w") as f:
            f.write(f"""[gateway]
listen = 127.0.0.1:{self.port}
control_socket = {self.dir}/control.sock
max_upload_size = 1M

[sandbox]
uid_range = {base}-{base + 63}

[server fixture]
host = 127.0.0.1
port = {FX['SAMBA_PORT']}
workgroup = SMBGATE
""")
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([SMBGATE, "-c", self.conf, "--worker", WORKER],
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

    def login(self):
        body = json.dumps({"username": ALICE, "password": ALICE_PW}).encode()
        st, _, data = exchange(self.port, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\nConnection: close\r\n"
                               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                               + body)
        if st != 200:
            sys.exit(f"login: {st} {data[:200]!r}")
        return json.loads(data)["token"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed"
        return rc


def main():
    gw = Gateway()
    token = gw.login()
    basic = base64.b64encode(f"{ALICE}:{ALICE_PW}".encode()).decode()
    subst = {"{TOKEN}": token, "{BASIC}": basic}
    rows = hostile_rows.rows()
    failures = []
    before = snapshot()
    counts = {}
    # ASan's quarantine keeps freed memory for a while: RSS says nothing
    # there, LeakSanitizer does (at the gateway's exit: its exit status).
    with open(f"/proc/{gw.proc.pid}/maps") as f:
        asan = "libasan" in f.read()
    # Twice through the table: the first pass also warms up what the gateway
    # allocates once (sessions, caches, thread stacks); the second one must
    # not make it grow.
    for i, r in enumerate(rows + rows):
        if i == len(rows):
            rss0 = rss_kib(gw.proc.pid)
        if i < len(rows):
            counts[r.group] = counts.get(r.group, 0) + 1
        data = hostile_rows.render(r, subst)
        try:
            st, hd, body = exchange(gw.port, data)
        except OSError as e:
            st, hd, body = -1, {}, repr(e).encode()
        code = None
        if body[:1] == b"{":
            try:
                j = json.loads(body)
                code = j["error"]["code"] if "error" in j else None
            except (ValueError, KeyError, TypeError):
                code = "(a broken error body)"
        got = (st, code)
        want = (r.status, r.code)
        if PRINT:
            print(f"{r.name:<48} got {st} {code}  want {r.status} {r.code}"
                  + ("" if got == want else "   <<<"))
        elif got != want:
            failures.append(f"{r.name}: got {got}, want {want}; sent {data[:160]!r}; "
                            f"answer {body[:200]!r}")
        # The gateway lives, and the shares are as they were.
        hst = exchange(gw.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if hst[0] != 200:
            failures.append(f"{r.name}: /healthz answered {hst[0]} after the row")
            break
        if r.changes is None:
            now = snapshot()
            if now != before:
                diff = sorted(set(now.items()) ^ set(before.items()))[:4]
                failures.append(f"{r.name}: the shares changed: {diff}")
                before = now
        else:
            r.changes(FX)
            before = snapshot()
        if i > len(rows) and i % 25 == 24 and not asan:
            grown = rss_kib(gw.proc.pid) - rss0
            if grown > RSS_SLACK_KIB:
                failures.append(f"after {r.name}: the gateway's RSS grew by {grown} KiB")
        if PRINT and i == len(rows) - 1:
            break
    grown = rss_kib(gw.proc.pid) - rss0 if not PRINT else 0
    rc = gw.stop()
    print(f"{len(rows)} rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"gateway RSS growth over the second pass: {grown} KiB"
          + (" (not checked under ASan: LeakSanitizer checks at exit)" if asan else "")
          + f"; exit status {rc}")
    if rc != 0:
        failures.append(f"the gateway exited {rc} on SIGTERM")
    if failures:
        print(f"\n{len(failures)} failure(s):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        with open(gw.logpath, errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-40:]))
        return 0 if PRINT else 1
    shutil.rmtree(gw.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
