#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Load and abuse, bounded: a real gateway with real sandboxes and the Samba
fixture, hit in turn by
  1. idle connections held open, from many loopback addresses;
  2. slowloris: headers, and login bodies, sent one byte a second;
  3. wrong-password logins for one user from one address, 64 at a time, while
     another user logs in from another address; every SMB session setup is
     counted on the wire (a relay in front of smbd counts NTLMSSP
     AUTHENTICATE messages): one password try per 401, never two, none for
     a 429 (past its free failures an address's logins go one at a time);
  4. parallel logins of one user: each one ends the user's least recently
     used session past the 8 a user may hold, no crash;
  4b. one user under many spellings (case, DOMAIN\\, X\\Y\\, the UPN form):
     one user for the limits, another user still gets in; then a storm of wrong
     passwords for one name from 60 addresses at once: at most one password
     try past the free ones reaches the server, and bob's known device gets
     in meanwhile;
  5. parallel downloads by several sessions, every byte checked.
Throughout, a healthy user (alice, from an address of her own) lists a folder
every 0.2 s; each phase prints that listing's latency percentiles. Before and
after: the gateway's RSS and threads; after the logouts: no sandbox held by a
session, and only the spares' workers left.

    test_abuse.py SMBGATE WORKER [--full]   (under tests/fixtures/with-samba.sh)

The quick version (meson test "abuse", in CI) uses small counts and checks
correctness only (statuses, bytes, counts, no crash, the sandboxes back to the
spares), never wall-clock times. --full (on demand) uses the issue's counts:
1000 idle connections, 200 slowloris, 300 wrong passwords, 200 parallel
logins, 20 downloads of 200 MiB by 4 sessions; there the healthy user's
listings must all answer within 1 s. Figures: docs/security.md.

Python 3 standard library only. Nothing is skipped.
"""
import hashlib
import os
import resource
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwharness import (ALICE, ALICE_PW, BOB, BOB_PW, FX, HEALTHZ, PUBLIC, Failures,  # noqa: E402
                       Gateway, connect_from, exchange, metric, proc_status, workers)
from gwharness import http_from as http, login_from as login  # noqa: E402
from relay import AuthCounter  # noqa: E402

SMBGATE, WORKER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
FULL = "--full" in sys.argv[3:]
N = {  # quick, full
    "idle": (120, 1000),
    "idle_hold": (1, 20),
    "slow": (20, 200),
    "wrong": (16, 300),
    "parallel_logins": (20, 200),
    "spellings": (24, 192),
    "storm": (60, 60),
    "downloads": (4, 20),
    "download_sessions": (2, 4),
    "download_mib": (8, 200),
}
N = {k: v[1] if FULL else v[0] for k, v in N.items()}
HEADER_TIMEOUT = 30 if FULL else 3  # [gateway] header_timeout (30: the default)


class Healthy(threading.Thread):
    """alice lists public/ every 0.2 s from 127.0.0.9; latencies per phase."""

    def __init__(self, port, token):
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.phase = "baseline"
        self.samples = {}
        self.bad = []
        self.stop = False
        self.gw_pid = None
        self.peak_rss = self.peak_threads = 0

    def run(self):
        while not self.stop:
            t0 = time.monotonic()
            st, body = http(self.port, "GET", "/api/v1/fs/fixture/public/", self.token,
                            src="127.0.0.9", timeout=60)
            dt = time.monotonic() - t0
            if st == 200:
                self.samples.setdefault(self.phase, []).append(dt)
            if self.gw_pid:
                rss, thr = proc_status(self.gw_pid)
                self.peak_rss, self.peak_threads = max(self.peak_rss, rss), max(
                    self.peak_threads, thr)
            if st != 200 or b'"hello.txt"' not in body:
                self.bad.append((self.phase, st))
            time.sleep(max(0, 0.2 - dt))

    def report(self, phase):
        xs = sorted(self.samples.get(phase, []))
        bad = sum(p == phase for p, _ in self.bad)
        if not xs:
            return f"{phase}: no listing answered 200 ({bad} failed)"

        def pct(p):
            return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000
        return (f"{phase}: healthy listing n={len(xs)} p50 {pct(50):.0f} ms, p95 {pct(95):.0f} "
                f"ms, p99 {pct(99):.0f} ms, max {xs[-1] * 1000:.0f} ms; {bad} failed")


def src_addr(i, third=2):
    """Distinct loopback addresses 127.<third>.x.y for the crowds."""
    return f"127.{third}.{i // 250}.{i % 250 + 1}"


def phase_idle(gw, f):
    conns, refused = [], 0
    for i in range(N["idle"]):
        s = connect_from(src_addr(i // 8), gw.port)
        if s:
            conns.append(s)
        else:
            refused += 1
    time.sleep(N["idle_hold"])
    # Which ones the gateway still holds open: a readable socket has been
    # closed (or answered, which an idle connection never is).
    r, _, _ = select.select(conns, [], [], 0)
    open_now = len(conns) - len(r)
    st = exchange(gw.port, HEALTHZ)[0]
    print(f"  idle: {N['idle']} tried, {len(conns)} connected, {open_now} held open after "
          f"{N['idle_hold']} s, {refused} refused; /metrics connections open: "
          f"{metric(gw.port, 'smbgate_http_connections_open')}", file=sys.stderr)
    f.check(st == 200, f"{N['idle']} idle connections: /healthz answers ({st})")
    for s in conns:
        s.close()


def phase_slowloris(gw, f):
    """Half send a request's headers, half a login's body, one byte a second."""
    socks = {}
    for i in range(N["slow"]):
        s = connect_from(src_addr(i, third=3), gw.port, None)
        if not s:
            continue
        s.setblocking(False)
        if i % 2:
            s.send(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                   b"\r\nContent-Length: 200\r\n\r\n")
            rest = b"{" + b" " * 198 + b"}"
        else:
            rest = b"GET /api/v1/fs/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
        socks[s] = [rest, 0, time.monotonic(), None]  # bytes left, sent, start, closed after
    t0 = time.monotonic()
    cut_before = metric(gw.port, "smbgate_http_connections_cut_total") or 0
    limit = HEADER_TIMEOUT + 60  # the gateway must have closed every one by then
    while time.monotonic() - t0 < limit and any(v[3] is None for v in socks.values()):
        for s, v in socks.items():
            if v[3] is not None:
                continue
            closed = False
            try:
                d = s.recv(4096)
                closed = True  # an answer (408) or EOF: the gateway ended it
                del d
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            if not closed and v[0]:
                try:
                    s.send(v[0][:1])
                    v[0] = v[0][1:]
                    v[1] += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
            if closed:
                v[3] = time.monotonic() - v[2]
        time.sleep(1)
    times = sorted(v[3] for v in socks.values() if v[3] is not None)
    still = sum(v[3] is None for v in socks.values())
    cut = (metric(gw.port, "smbgate_http_connections_cut_total") or 0) - cut_before
    print(f"  slowloris: {len(socks)} connections, closed by the gateway after "
          f"{times[0] if times else 0:.0f}..{times[-1] if times else 0:.0f} s "
          f"(header_timeout {HEADER_TIMEOUT} s), {cut} counted as cut, {still} still open",
          file=sys.stderr)
    f.check(len(socks) == N["slow"] and still == 0,
            f"slowloris: every one of {len(socks)} slow connections closed by the gateway")
    for s in socks:
        s.close()


def phase_wrong(gw, relay, f):
    before = relay.count
    results = []
    lock = threading.Lock()
    go = threading.Barrier(N["wrong"] + 1)
    # at most 64 at a time: the gateway takes 128 connections of one address
    slots = threading.Semaphore(64)

    def wrong():
        go.wait()
        with slots:
            t0 = time.monotonic()
            r = login(gw.port, ALICE, "wrong-password", server="counted")
            with lock:
                results.append((r, time.monotonic() - t0))
    ths = [threading.Thread(target=wrong) for _ in range(N["wrong"])]
    for t in ths:
        t.start()
    t0 = time.monotonic()
    go.wait()
    time.sleep(1)
    # another user, another address, meanwhile: at once
    t1 = time.monotonic()
    bob_st, bob = login(gw.port, BOB, BOB_PW, server="counted", src="127.0.0.2")
    bob_dt = time.monotonic() - t1
    f.check(bob_st == 200,
            f"during {N['wrong']} wrong logins, bob logs in from 127.0.0.2 ({bob_st})")
    for t in ths:
        t.join(600)
    total = time.monotonic() - t0
    statuses = {}
    for (st, code), _ in results:
        statuses[(st, code)] = statuses.get((st, code), 0) + 1
    tries = relay.count - before - (1 if bob_st == 200 else 0)
    waits = sorted(dt for _, dt in results)
    print(f"  wrong passwords: {N['wrong']} in {total:.1f} s: {statuses}; password tries seen "
          f"by the server {tries}; each request waited {waits[0]:.1f}..{waits[-1]:.1f} s; "
          f"bob's login from another address took {bob_dt * 1000:.0f} ms", file=sys.stderr)
    tried = statuses.get((401, "auth_failed"), 0)
    refused = statuses.get((429, "too_many_attempts"), 0)
    f.check(tried + refused == N["wrong"] and tried >= 5,
            f"wrong passwords: each one 401 auth_failed (at least the 5 free ones) or 429 "
            f"too_many_attempts ({statuses})")
    f.check(tries == tried,
            f"wrong passwords: exactly one password try at the server per 401, none per 429 "
            f"({tries} tries for {tried} x 401)")
    # Past the 5 free failures the address's logins go one at a time, each
    # after a wait of 1 s or more: a bound on the tries, not on the time.
    f.check(tried <= 5 + int(total) + 1,
            f"wrong passwords: the rate limit holds ({tried} tries in {total:.1f} s)")
    if not FULL:
        return [bob] if bob_st == 200 else []
    # alice's own right password from another address: accepted (after the
    # wait her name's failures impose: 16 s)
    t1 = time.monotonic()
    st, alice = login(gw.port, ALICE, ALICE_PW, server="counted", src="127.0.0.3")
    print(f"  alice's right password from 127.0.0.3 after that: {st} in "
          f"{time.monotonic() - t1:.1f} s", file=sys.stderr)
    f.check(st == 200, f"then alice's right password from another address: {st}")
    return ([bob] if bob_st == 200 else []) + ([alice] if st == 200 else [])


def phase_parallel_logins(gw, f):
    results = []
    lock = threading.Lock()
    go = threading.Barrier(N["parallel_logins"])

    def one(i):
        go.wait()
        r = login(gw.port, BOB, BOB_PW, src=src_addr(i, third=4))
        with lock:
            results.append(r)
    ths = [threading.Thread(target=one, args=(i,)) for i in range(N["parallel_logins"])]
    for t in ths:
        t.start()
    for t in ths:
        t.join(600)
    statuses = {}
    for st, code in results:
        key = (st, None if st == 200 else code)
        statuses[key] = statuses.get(key, 0) + 1
    print(f"  {N['parallel_logins']} parallel logins of bob: {statuses}", file=sys.stderr)
    ok = statuses.get((200, None), 0)
    f.check(len(results) == N["parallel_logins"] and
            all(k in ((200, None), (503, "too_many_sessions"), (503, "no_sandbox"))
                or k[0] == 429 for k in statuses) and ok >= 1,
            f"parallel logins of one user: 200 (past his 8, each ending bob's least "
            f"recently used session, none brand new), 503 too_many_sessions or "
            f"no_sandbox, or 429, nothing else ({statuses})")
    # logged out at once: the downloads' sessions need bob's slots; at most 8 live
    live = 0
    for st, tok in results:
        if st == 200:
            lst = http(gw.port, "POST", "/api/v1/logout", tok)[0]
            f.check(lst in (204, 401), f"logout of bob ({lst})")
            live += lst == 204
    print(f"  of which still live: {live}", file=sys.stderr)
    f.check(live <= 8, f"parallel logins of one user: at most 8 live ({live})")
    return []


def spelled(name, i):
    """The @i-th spelling of the account @name (case, DOMAIN\\, X\\Y\\, UPN)."""
    forms = ["{}", "SMBGATE\\{}", "ACME\\{}", "X\\Y\\{}", "{}@SMBGATE", "{}@acme"]
    case = "".join(c.upper() if (i // len(forms)) >> (k % 8) & 1 else c
                   for k, c in enumerate(name))
    return forms[i % len(forms)].format(case)


def phase_spellings(gw, f):
    """bob under many spellings: one user (his 8 sessions at most); then
    alice still logs in."""
    toks, statuses = [], {}
    for i in range(N["spellings"]):
        st, tok = login(gw.port, spelled(BOB, i), BOB_PW, src="127.0.6.1")
        statuses[st] = statuses.get(st, 0) + 1
        if st == 200:
            toks.append(tok)
            http(gw.port, "GET", "/api/v1/fs/", tok)  # used, as a client does
    live = sum(http(gw.port, "GET", "/api/v1/fs/", t)[0] == 200 for t in toks)
    st, alice = login(gw.port, ALICE, ALICE_PW, src="127.0.6.2")
    print(f"  {N['spellings']} spellings of bob: {statuses}, {live} of his sessions live; "
          f"then alice: {st}", file=sys.stderr)
    f.check(statuses == {200: N["spellings"]}, f"every spelling of bob logs in ({statuses})")
    f.check(live == 8, f"bob under {N['spellings']} spellings holds his 8 sessions ({live})")
    f.check(st == 200, f"after {N['spellings']} spellings of bob, alice logs in ({st})")
    for t in toks:
        http(gw.port, "POST", "/api/v1/logout", t)
    return [alice] if st == 200 else []


def phase_name_storm(gw, relay, f):
    """60 wrong passwords of bob (60 spellings) from 60 addresses at once, on
    the counted server: his name's free failures, then one at a time."""
    results, lock = [], threading.Lock()
    go = threading.Barrier(N["storm"] + 1)

    def one(i):
        go.wait()
        r = login(gw.port, spelled(BOB, i + 7), "wrong-password", server="counted",
                  src=src_addr(i, third=8))
        with lock:
            results.append(r)
    ths = [threading.Thread(target=one, args=(i,)) for i in range(N["storm"])]
    for t in ths:
        t.start()
    before = relay.count
    go.wait()
    time.sleep(0.5)
    # bob's known device: 127.0.0.2, where he logged in to "counted" before
    st, bob = login(gw.port, BOB.upper(), BOB_PW, server="counted", src="127.0.0.2")
    for t in ths:
        t.join(120)
    statuses = {}
    for r in results:
        statuses[r] = statuses.get(r, 0) + 1
    tried = statuses.get((401, "auth_failed"), 0)
    tries = relay.count - before - (1 if st == 200 else 0)
    print(f"  {N['storm']} parallel wrong passwords of one name from {N['storm']} addresses: "
          f"{statuses}; password tries seen by the server {tries}; bob's known device: {st}",
          file=sys.stderr)
    f.check(st == 200, f"during the storm, bob's known device logs in ({st})")
    f.check(tried + statuses.get((429, "too_many_attempts"), 0) == N["storm"] and
            1 <= tried <= 6 and tries == tried,
            f"a storm on one name: at most 5 free + 1 password tries reach the server "
            f"({tries} tries, {statuses})")
    return [bob] if st == 200 else []


def phase_downloads(gw, f, path, digest, size):
    sessions = []
    for i in range(N["download_sessions"]):
        user, pw = (ALICE, ALICE_PW) if i % 2 == 0 else (BOB, BOB_PW)
        st, tok = login(gw.port, user, pw, src=f"127.0.5.{i + 1}")
        f.check(st == 200, f"download session {i} ({user}): login {st}")
        if st == 200:
            sessions.append(tok)
    results = []
    lock = threading.Lock()

    def one(i):
        tok = sessions[i % len(sessions)]
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=120)
        s.sendall(f"GET /api/v1/fs/fixture/public/{os.path.basename(path)} HTTP/1.1\r\n"
                  f"Host: x\r\nAuthorization: Bearer {tok}\r\nConnection: close\r\n\r\n"
                  .encode())
        h = hashlib.sha256()
        head, n = b"", 0
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    break
                if head is not None and not head.endswith(b"\r\n\r\n"):
                    head += d
                    if b"\r\n\r\n" in head:
                        head, _, d = head.partition(b"\r\n\r\n")
                        head += b"\r\n\r\n"
                    else:
                        continue
                h.update(d)
                n += len(d)
        except OSError:
            pass
        s.close()
        with lock:
            results.append((head.split(b" ")[1] if head else b"0", n, h.hexdigest()))
    t0 = time.monotonic()
    ths = [threading.Thread(target=one, args=(i,)) for i in range(N["downloads"])]
    for t in ths:
        t.start()
    for t in ths:
        t.join(1800)
    dt = time.monotonic() - t0
    good = sum(r == (b"200", size, digest) for r in results)
    print(f"  {N['downloads']} parallel downloads of {N['download_mib']} MiB by "
          f"{len(sessions)} sessions: {good} whole and right in {dt:.1f} s "
          f"({N['downloads'] * size / dt / 2**20:.0f} MiB/s in all)", file=sys.stderr)
    f.check(good == N["downloads"], f"parallel downloads: every byte right ({good} of "
                                    f"{N['downloads']})")
    return sessions


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    relay = AuthCounter(int(FX["SAMBA_PORT"]))
    gw = Gateway(SMBGATE, WORKER, servers=[
        ("fixture", FX["SAMBA_PORT"], ""),
        ("counted", relay.port, ""),
    ], gateway_extra=f"max_upload_size = 0\nheader_timeout = {HEADER_TIMEOUT}",
        uid_base=2200000)
    f = Failures()
    size = N["download_mib"] << 20
    big = os.path.join(PUBLIC, "abuse-big.bin")
    block = os.urandom(1 << 20)
    h = hashlib.sha256()
    with open(big, "wb") as fh:
        for _ in range(N["download_mib"]):
            fh.write(block)
            h.update(block)
    digest = h.hexdigest()
    os.chown(big, int(FX["SAMBA_UID1"]), int(FX["SAMBA_GID"]))
    pid = gw.proc.pid
    tokens = []
    healthy = None
    try:
        time.sleep(1)  # the spares start
        spares = workers(pid)
        rss0, thr0 = proc_status(pid)
        print(f"gateway before: RSS {rss0} MiB, {thr0} threads, {spares} spare workers "
              f"({'full' if FULL else 'quick'} run)", file=sys.stderr)
        st, tok = login(gw.port, ALICE, ALICE_PW, src="127.0.0.9")
        f.check(st == 200, f"the healthy user logs in ({st})")
        tokens.append(tok)
        healthy = Healthy(gw.port, tok)
        healthy.gw_pid = pid
        healthy.start()
        time.sleep(2)
        for name, fn in (("idle", lambda: phase_idle(gw, f)),
                         ("slowloris", lambda: phase_slowloris(gw, f)),
                         ("wrong-passwords", lambda: tokens.extend(phase_wrong(gw, relay, f))),
                         ("parallel-logins", lambda: tokens.extend(
                             phase_parallel_logins(gw, f))),
                         ("spellings", lambda: tokens.extend(phase_spellings(gw, f))),
                         ("name-storm", lambda: tokens.extend(phase_name_storm(gw, relay, f))),
                         ("downloads", lambda: tokens.extend(
                             phase_downloads(gw, f, big, digest, size)))):
            healthy.phase = name
            fn()
            print("  " + healthy.report(name), file=sys.stderr, flush=True)
            f.check(gw.proc.poll() is None, f"after {name}: the gateway runs")
        healthy.stop = True
        healthy.join(60)
        print("  " + healthy.report("baseline"), file=sys.stderr)
        f.check(not healthy.bad, f"the healthy user's listings all answered 200 "
                                 f"({healthy.bad[:5]})")
        if FULL:
            worst = max(max(v) for v in healthy.samples.values() if v)
            f.check(worst < 1.0, f"full run: every healthy listing within 1 s "
                                 f"(max {worst * 1000:.0f} ms)")
        rss1, thr1 = proc_status(pid)
        for t in tokens:
            st, _ = http(gw.port, "POST", "/api/v1/logout", t)
            f.check(st == 204, f"logout {st}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
                metric(gw.port, "smbgate_sandboxes_active") != 0 or workers(pid) > spares):
            time.sleep(0.5)
        active, left = metric(gw.port, "smbgate_sandboxes_active"), workers(pid)
        rss2, thr2 = proc_status(pid)
        print(f"gateway at its peak (sampled every 0.2 s): RSS {healthy.peak_rss} MiB, "
              f"{healthy.peak_threads} threads", file=sys.stderr)
        print(f"gateway after the load: RSS {rss1} MiB, {thr1} threads; after the logouts: "
              f"RSS {rss2} MiB, {thr2} threads, {active} sandboxes held, {left} workers "
              f"(spares {spares})", file=sys.stderr)
        f.check(active == 0 and left == spares,
                f"after the logouts: no sandbox held ({active}), the workers back to the "
                f"spares ({left} of {spares})")
    finally:
        if healthy:
            healthy.stop = True
        rc = gw.stop()
        os.unlink(big)
    f.check(rc == 0, f"the gateway exits 0 on SIGTERM ({rc})")
    if not f:
        print(f"abuse ({'full' if FULL else 'quick'}): all checks passed", file=sys.stderr)
    return gw.verdict(len(f))


if __name__ == "__main__":
    sys.exit(main())
