#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
An upload whose sandbox dies midway is answered at once: the sandbox of a
PUT of 1 GiB is killed after 4 MiB; the gateway answers 502 sandbox_failed
(one status line, Connection: close) while the client is still sending, and
closes the connection without reading the rest of the body. The target is
not made, no temporary stays, and the user's next login works.

    test_upload_abort.py SMBGATE WORKER   (under tests/fixtures/with-samba.sh)

Python 3 standard library only. Nothing is skipped.
"""
import os
import re
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwharness import PUBLIC, Gateway, exchange  # noqa: E402

if len(sys.argv) < 3:
    sys.exit("usage: test_upload_abort.py SMBGATE WORKER")
SMBGATE, WORKER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SIZE = 1 << 30
FIRST = 4 << 20
CHUNK = 256 << 10


def temporaries():
    return [n for n in os.listdir(PUBLIC) if n.startswith(".~smbgate")]


def upload_then_kill(gw, token, pid):
    """(seconds from the kill to the answer, bytes sent after the kill, the
    bytes received until the gateway closed)."""
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
    s.sendall(b"PUT /api/v1/fs/fixture/public/abort-target.bin HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + token.encode() + b"\r\n"
              b"X-Requested-With: t\r\nContent-Length: " + str(SIZE).encode() + b"\r\n\r\n")
    chunk = b"\0" * CHUNK
    for _ in range(FIRST // CHUNK):
        s.sendall(chunk)
    time.sleep(0.5)  # the first bytes reach the sandbox
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    sent, got, answered = 0, b"", None
    s.setblocking(False)
    while FIRST + sent < SIZE and time.monotonic() - killed < 60:
        r, w, _ = select.select([s], [s], [], 1)
        if r:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            got += data
            answered = answered or time.monotonic() - killed
            continue
        if w:
            try:
                sent += s.send(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            except BlockingIOError:
                pass
    s.setblocking(True)
    s.settimeout(5)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
            answered = answered or time.monotonic() - killed
    except OSError:
        pass
    s.close()
    return answered, sent, got


def main():
    gw = Gateway(SMBGATE, WORKER, gateway_extra="max_upload_size = 2G")
    fails = 0
    try:
        token = gw.login()
        with open(gw.logpath, encoding="utf-8", errors="replace") as f:
            pid = int(re.findall(r"event=login .* sandbox=(\d+)", f.read())[-1])
        answered, sent, got = upload_then_kill(gw, token, pid)
        print(f"answered {answered} s after the kill, {sent >> 20} MiB sent after it, "
              f"answer {got[:300]!r}")
        checks = [
            (got.count(b"HTTP/1.1 ") == 1 and got.startswith(b"HTTP/1.1 502 Bad Gateway\r\n"),
             "one answer, 502"),
            (b"\r\nConnection: close\r\n" in got, "Connection: close"),
            (b'{"error":{"code":"sandbox_failed"' in got, "sandbox_failed"),
            (answered is not None and answered < 5, "answered within 5 s of the kill"),
            (sent < 256 << 20, "the rest of the body was not read (< 256 MiB after the kill)"),
            (not os.path.exists(os.path.join(PUBLIC, "abort-target.bin")), "no target"),
        ]
        # the next request of a new session drops what the dead one left
        token = gw.login()
        st = exchange(gw.port, b"GET /api/v1/fs/fixture/public/ HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + token.encode() + b"\r\n"
                      b"Connection: close\r\n\r\n")[0]
        checks.append((st == 200, f"a new session lists ({st})"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and temporaries():
            time.sleep(0.2)
        checks.append((not temporaries(), f"no temporary stays ({temporaries()})"))
        for ok, what in checks:
            print(("ok   " if ok else "FAIL ") + what)
            fails += not ok
    finally:
        gw.stop()
    return gw.verdict(fails)


if __name__ == "__main__":
    sys.exit(main())
