#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
A real tus client against the gateway's resumable uploads: tus-js-client
(from npm, pinned by tests/browser/package-lock.json, installed by
tests/browser/npm-ci.sh) in Node uploads a 200 MB file through a TCP proxy
of this test that cuts the connection twice while the body flows. The
client asks the gateway where the upload stands (HEAD) and goes on; the file
on the share then has the same sha256, and no temporary stays behind.

Then a cut on the client's side only (a Wi-Fi switch, a NAT that forgets):
another proxy resets the client's connection under a PATCH and leaves the
gateway's side open and silent. The owner's session takes the stalled PATCH
over once it has waited GW_TUS_STALL_MS (3 s) for its bytes; before that,
and for another session of the same user always, the upload answers 423
with Retry-After; for another user it does not exist (404). The resumed
upload completes with the exact bytes.

    test_tus_client.py SMBGATE WORKER   (under tests/fixtures/with-samba.sh)

A missing node or npm is a failure, never a skip.
"""
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwharness import (ALICE, ALICE_PW, BOB, BOB_PW, PUBLIC, Failures, Gateway,  # noqa: E402
                       file_sha256, temporaries, tus)
from relay import CutProxy, HalfCutProxy  # noqa: E402

SMBGATE, WORKER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser")
SIZE = 200 * 1000 * 1000 + 17
CUTS = [60 << 20, 140 << 20]  # client bytes (all connections) after which one is cut


def b64(s):
    return base64.b64encode(s.encode()).decode()


def half_cut(gw, check):
    """The client's side of a PATCH is reset, the gateway's side stays open."""
    size, first = (6 << 20) + 7, (2 << 20) + 5
    data = os.urandom(size)
    name = f"tus-half-cut-{os.getpid()}.bin"
    target = os.path.join(PUBLIC, name)
    alice, alice2 = gw.login(ALICE, ALICE_PW), gw.login(ALICE, ALICE_PW)
    bob = gw.login(BOB, BOB_PW)
    meta = f"server {b64('fixture')},share {b64('public')},path {b64('/' + name)}"
    st, h, _ = tus(gw.port, "POST", "/api/v1/uploads/", alice,
                   f"Upload-Length: {size}\r\nUpload-Metadata: {meta}\r\n")
    check(st == 201 and h.get("location", "").startswith("/api/v1/uploads/"),
          f"half cut: the upload is created ({st} {h.get('location')})")
    loc = h.get("location", "/api/v1/uploads/x")
    proxy = HalfCutProxy(gw.port)
    try:
        s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        head = (f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {alice}\r\n"
                f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Upload-Offset: 0\r\nContent-Length: {size}\r\n\r\n").encode()
        s.sendall(head + data[:first])
        for _ in range(100):
            if proxy.relayed >= len(head) + first:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the gateway reads what came
        proxy.cut_client()
        t_cut = time.monotonic()
        try:
            s.recv(1)
            reset = False
        except ConnectionResetError:
            reset = True
        s.close()
        check(reset, "half cut: the client's connection was reset (RST)")
        # At once: the owner waits as Retry-After says (the writer is not stalled yet).
        st, h, _ = tus(gw.port, "HEAD", loc, alice)
        check(st == 423 and h.get("retry-after") in ("1", "2", "3"),
              f"half cut: the owner's HEAD at once: 423 with Retry-After 1-3 "
              f"({st}, {h.get('retry-after')})")
        time.sleep(max(0.0, t_cut + 3.5 - time.monotonic()))
        # Stalled now: another session of alice, and bob, cannot take it over.
        st, h, body = tus(gw.port, "HEAD", loc, alice2)
        check(st == 423 and h.get("retry-after") == "5",
              f"half cut: alice's other session gets 423, Retry-After 5 ({st}, "
              f"{h.get('retry-after')})")
        st, h, body = tus(gw.port, "PATCH", loc, alice2,
                          "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n",
                          b"x")
        check(st == 423 and b'"upload_busy"' in body,
              f"half cut: alice's other session's PATCH gets 423 upload_busy ({st})")
        st, _, body = tus(gw.port, "HEAD", loc, bob)
        check(st == 404, f"half cut: bob's HEAD: 404, the upload is not his ({st})")
        check(not proxy.upstream_closed.is_set(), "half cut: the stalled PATCH was still open")
        # The owner, as web/tus.js does: HEAD, honouring Retry-After.
        offset, heads = None, []
        while time.monotonic() - t_cut < 40:
            st, h, _ = tus(gw.port, "HEAD", loc, alice)
            heads.append(st)
            if st != 423:
                offset = int(h.get("upload-offset", "-1")) if st == 200 else None
                break
            time.sleep(min(int(h.get("retry-after", "1")), 10))
        took = time.monotonic() - t_cut
        check(heads[-1:] == [200] and took < 6,
              f"half cut: the owner's HEAD takes the stalled PATCH over: {heads} "
              f"{took:.1f} s after the cut (< 6 s)")
        check(offset == first, f"half cut: the offset is what came before the cut "
                               f"({offset}, {first})")
        check(proxy.upstream_closed.wait(2), "half cut: the gateway closed the stalled PATCH")
        off = offset or 0
        st, h, body = tus(gw.port, "PATCH", loc, alice,
                          "Content-Type: application/offset+octet-stream\r\n"
                          f"Upload-Offset: {off}\r\n", data[off:])
        took = time.monotonic() - t_cut
        check((st, h.get("upload-offset")) == (204, str(size)) and took < 15,
              f"half cut: the rest is sent, the upload complete ({st} "
              f"{h.get('upload-offset')}) {took:.1f} s after the cut")
        got = open(target, "rb").read() if os.path.exists(target) else b""
        check(got == data, f"half cut: the file on the share: {len(got)} bytes, the same bytes")
        tmps = temporaries()
        check(tmps == [], f"half cut: no temporary stays on the share ({tmps})")
    finally:
        proxy.close()
        if os.path.exists(target):
            os.unlink(target)


def main():
    fails = Failures()
    check = fails.check

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
        n, got = file_sha256(target) if os.path.exists(target) else (0, None)
        check((n, got) == (SIZE, h.hexdigest()),
              f"the file on the share: {n} bytes, the same sha256")
        tmps = temporaries()
        check(tmps == [], f"no temporary stays on the share ({tmps})")
        half_cut(gw, check)
    finally:
        rc = gw.stop()
        if os.path.exists(target):
            os.unlink(target)
    check(rc == 0, f"the gateway exits 0 on SIGTERM ({rc})")
    return gw.verdict(len(fails))


if __name__ == "__main__":
    sys.exit(main())
