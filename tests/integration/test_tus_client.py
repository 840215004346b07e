#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
A real tus client against the gateway's resumable uploads: tus-js-client
(from npm, pinned by tests/browser/package-lock.json, installed by
tests/browser/npm-ci.sh) in Node uploads a 200 MB file through a TCP proxy
of this test that cuts the connection twice while the body flows. The
client asks the gateway where the upload stands (HEAD) and goes on; the file
on the share then has the same sha256, and no temporary stays behind.

    test_tus_client.py SMBGATE WORKER   (under tests/fixtures/with-samba.sh)

A missing node or npm is a failure, never a skip.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwharness import ALICE, ALICE_PW, FX, Gateway  # noqa: E402

SMBGATE, WORKER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser")
PUBLIC = FX["SAMBA_SHARE_PUBLIC"]
SIZE = 200 * 1000 * 1000 + 17
CUTS = [60 << 20, 140 << 20]  # client bytes (all connections) after which one is cut


class CutProxy:
    """Relays TCP connections to the gateway; the connection that carries the
    client's byte number CUTS[i] is closed at once (both ways), each once."""

    def __init__(self, target_port, cuts):
        self.target = target_port
        self.cuts = list(cuts)
        self.done = []  # (client bytes when cut, the connection's bytes)
        self.count = 0
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._c2s, args=(c, u), daemon=True).start()
            threading.Thread(target=self._s2c, args=(u, c), daemon=True).start()

    @staticmethod
    def _kill(a, b):
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _c2s(self, c, u):
        mine = 0
        while True:
            try:
                data = c.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                self._kill(c, u)
                return
            with self.lock:
                self.count += len(data)
                mine += len(data)
                cut = bool(self.cuts) and self.count >= self.cuts[0]
                if cut:
                    self.cuts.pop(0)
                    self.done.append((self.count, mine))
            if cut:
                self._kill(c, u)
                return
            try:
                u.sendall(data)
            except OSError:
                self._kill(c, u)
                return

    def _s2c(self, u, c):
        while True:
            try:
                data = u.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                self._kill(c, u)
                return
            try:
                c.sendall(data)
            except OSError:
                self._kill(c, u)
                return


def main():
    fails = []

    def check(cond, what):
        print(("ok: " if cond else "FAIL: ") + what, file=sys.stderr)
        if not cond:
            fails.append(what)

    if not shutil.which("node"):
        sys.exit("FAIL: node is missing (Debian package nodejs)")
    p = subprocess.run([os.path.join(BROWSER, "npm-ci.sh")])
    if p.returncode != 0:
        sys.exit("FAIL: npm ci of tests/browser failed")

    gw = Gateway(SMBGATE, WORKER, gateway_extra="max_upload_size = 0", uid_base=2200000)
    src = os.path.join(gw.dir, "upload.bin")
    h = hashlib.sha256()
    with open(src, "wb") as f:
        left = SIZE
        while left:
            b = os.urandom(min(left, 8 << 20))
            h.update(b)
            f.write(b)
            left -= len(b)
    name = f"tus-client-{os.getpid()}.bin"
    target = os.path.join(PUBLIC, name)
    try:
        tok = gw.login(ALICE, ALICE_PW)
        proxy = CutProxy(gw.port, CUTS)
        t0 = time.monotonic()
        p = subprocess.run(["node", os.path.join(BROWSER, "tus-client.mjs"),
                            f"http://127.0.0.1:{proxy.port}", tok, src, "fixture", "public",
                            "/" + name], capture_output=True, timeout=300)
        took = time.monotonic() - t0
        sys.stderr.write(p.stderr.decode(errors="replace"))
        check(p.returncode == 0, f"tus-js-client finished the upload (exit {p.returncode}) "
                                 f"in {took:.1f} s")
        out = json.loads(p.stdout.decode().strip().splitlines()[-1]) if p.returncode == 0 else {}
        print(f"  client: {out}", file=sys.stderr)
        check([n for n, _ in proxy.done] and len(proxy.done) == 2,
              f"the proxy cut two connections mid-body ({proxy.done})")
        cuts = [e for e in out.get("errors", []) if not e.startswith("status ")]
        check(len(cuts) == 2, f"the client saw the two cuts ({out.get('errors')})")
        # after each cut, HEAD's offset: past the bytes already there, short of the end
        rf = out.get("resumedFrom", [])
        check(len(rf) >= 2 and 0 < rf[0] < rf[-1] < SIZE,
              f"it resumed from the offsets the gateway reported ({rf}), not from 0")
        check(out.get("offset") == SIZE, f"the client's final offset is the size ({SIZE})")
        got = hashlib.sha256()
        n = 0
        if os.path.exists(target):
            with open(target, "rb") as f:
                while True:
                    b = f.read(8 << 20)
                    if not b:
                        break
                    got.update(b)
                    n += len(b)
        check((n, got.hexdigest()) == (SIZE, h.hexdigest()),
              f"the file on the share: {n} bytes, the same sha256")
        tmps = [x for x in os.listdir(PUBLIC) if x.startswith(".~smbgate-new-")]
        check(tmps == [], f"no temporary stays on the share ({tmps})")
    finally:
        rc = gw.stop()
        if os.path.exists(target):
            os.unlink(target)
    check(rc == 0, f"the gateway exits 0 on SIGTERM ({rc})")
    return gw.verdict(len(fails))


if __name__ == "__main__":
    sys.exit(main())
