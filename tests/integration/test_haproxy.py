#!/usr/bin/env python3
"""Scale-out: packaging/haproxy/haproxy.cfg (only its addresses, certificate
and socket paths replaced) in front of two smbgate gateways, against the
Samba fixture, all on 127.0.0.1.

    test_haproxy.py SMBGATE WORKER HAPROXY ADD_USERS

Checks: logins through HAProxy; every request of a cookie or token session
reaches the gateway that holds it; 20 users spread over both gateways; Basic
users by user name; draining a gateway sends new logins to the other while its
sessions go on; one gateway killed: its token users get 401, a new login lands
on the other, Basic users go on; nothing uploaded is lost on the share.
Runs under tests/fixtures/with-samba.sh (standard library only).
"""
import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwharness  # noqa: E402
from gwharness import (ALICE, ALICE_PW, BOB, BOB_PW, FX, PUBLIC, free_port,  # noqa: E402
                       read_to_end, wait_until)

if len(sys.argv) < 5:
    sys.exit("usage: test_haproxy.py SMBGATE WORKER HAPROXY ADD_USERS [unittest args]")
SMBGATE, WORKER, HAPROXY, ADD_USERS = (os.path.abspath(a) for a in sys.argv[1:5])
del sys.argv[1:5]
SMBGATECTL = os.path.join(os.path.dirname(SMBGATE), "smbgatectl")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFG = os.path.join(ROOT, "packaging", "haproxy", "haproxy.cfg")

BENCH_PW = "Bench-pass-9"
N_TOKEN = 18  # bench001..018 + alice and bob: 20 users with cookie or token sessions
N_BENCH = 28  # bench019..028: 10 users with Basic only
TIMEOUT = 30


class Gateway(gwharness.Gateway):
    """Started at once; healthy() says when it answers."""

    def __init__(self, name, uid_base):
        super().__init__(SMBGATE, WORKER, prefix=f"smbgate-hp-{name}.", name=name, start=False)
        self.uid_base = uid_base
        self.spawn()

    def config(self):
        return f"""[gateway]
listen = 127.0.0.1:{self.port}
control_socket = {self.sock}
audit = yes
[sandbox]
uid_range = {self.uid_base}-{self.uid_base + 63}
prestart = 0
[server fixture]
host = 127.0.0.1
port = {FX['SAMBA_PORT']}
workgroup = SMBGATE
"""

    def users(self):
        """User name of each live session, from smbgatectl."""
        out = subprocess.run([SMBGATECTL, "-s", self.sock, "sessions", "--json"],
                             capture_output=True, text=True, check=True).stdout
        return [s["user"] for s in json.loads(out)["sessions"]]

    def stop(self):
        if super().stop(30) == "killed":
            raise AssertionError(f"{self.name} did not stop within 30 s of SIGTERM")


class Proxy:
    def __init__(self, gws):
        self.dir = tempfile.mkdtemp(prefix="smbgate-hp-proxy.")
        self.port = free_port()
        self.admin = os.path.join(self.dir, "admin.sock")
        pem = os.path.join(self.dir, "smbgate.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-keyout", pem + ".key", "-out", pem],
                       check=True, capture_output=True)
        with open(pem, "a", encoding="ascii") as out, open(pem + ".key", encoding="ascii") as k:
            out.write(k.read())
        with open(CFG, encoding="utf-8") as f:
            text = f.read()
        # The shipped file, only its environment changed: this address, this
        # certificate, this socket, these gateways, in the foreground.
        subs = [("bind :443 ssl crt /etc/haproxy/certs/smbgate.pem",
                 f"bind 127.0.0.1:{self.port} ssl crt {pem}"),
                ("stats socket /run/haproxy/admin.sock", f"stats socket {self.admin}"),
                ("192.0.2.11:8080", f"127.0.0.1:{gws[0].port}"),
                ("192.0.2.12:8080", f"127.0.0.1:{gws[1].port}"),
                ("    log /dev/log local0\n", ""),
                ("    daemon\n", "")]
        for old, new in subs:
            if old not in text:
                raise AssertionError(f"haproxy.cfg no longer holds {old!r}")
            text = text.replace(old, new)
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(self.cfg, "w", encoding="utf-8") as f:
            f.write(text)
        subprocess.run([HAPROXY, "-c", "-q", "-f", self.cfg], check=True)
        self.log = open(os.path.join(self.dir, "haproxy.log"), "ab")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def admin_cmd(self, cmd):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.admin)
        except OSError:
            s.close()
            return ""
        s.sendall(cmd.encode() + b"\n")
        out = read_to_end(s)
        s.close()
        return out.decode()

    def status(self, server):
        """gw1/gw2's check status in the smbgate backend: UP, DOWN, DRAIN..."""
        for line in self.admin_cmd("show stat").splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == "smbgate" and f[1] == server:
                return f[17]
        return None

    def request(self, method, path, headers=None, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=TIMEOUT,
                                        context=self.ctx)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            hdrs = {}  # a header sent more than once (Set-Cookie): its values, one a line
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
            return r.status, hdrs, r.read()
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


class BasicLoop(threading.Thread):
    """A Basic-auth client (as a WebDAV client is) that loops GET and PROPFIND
    through HAProxy on one kept-alive connection until told to stop; every
    answer's status is recorded, and an answer that never came as None."""

    def __init__(self, proxy, headers):
        super().__init__(daemon=True)
        self.proxy, self.h = proxy, headers
        self.stop = threading.Event()
        self.answers = []  # (end, method, status or None, what, start): monotonic times

    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.proxy.port, timeout=TIMEOUT,
                                           context=self.proxy.ctx)

    def run(self):
        c = self.conn()
        reqs = (("GET", "/api/v1/fs/fixture/", {}),
                ("PROPFIND", "/dav/fixture/", {"Depth": "1"}))
        n = 0
        while not self.stop.is_set():
            method, path, extra = reqs[n % 2]
            n += 1
            t0 = time.monotonic()
            try:
                c.request(method, path, headers=dict(self.h, **extra))
                r = c.getresponse()
                body = r.read()
                self.answers.append((time.monotonic(), method, r.status, body[:200], t0))
            except (OSError, http.client.HTTPException) as e:
                self.answers.append((time.monotonic(), method, None, repr(e), t0))
                c.close()
                c = self.conn()
        c.close()

    def bad(self):
        return [a for a in self.answers if a[2] not in (200, 207)]


class Session:
    """A cookie (browser) or Bearer (script) session through HAProxy."""

    def __init__(self, proxy, user, pw, use_cookie):
        self.user = user
        st, hdrs, body = proxy.request("POST", "/api/v1/login",
                                       {"Content-Type": "application/json"},
                                       json.dumps({"username": user, "password": pw}).encode())
        if st != 200:
            raise AssertionError(f"login {user}: {st} {body!r}")
        self.token = json.loads(body)["token"]
        # Every cookie the login set, as a browser sends them back (the
        # session's and the known-device one): HAProxy must stick on the first.
        cookies = [line.split(";")[0] for line in hdrs["set-cookie"].split("\n")]
        if f"smbgate_session={self.token}" not in cookies:
            raise AssertionError(f"login {user}: no session cookie in {cookies}")
        if use_cookie:
            self.h = {"Cookie": "; ".join(reversed(cookies)), "X-Requested-With": "t"}
        else:
            self.h = {"Authorization": f"Bearer {self.token}"}


class TestHAProxy(unittest.TestCase):
    def setUp(self):
        subprocess.run([ADD_USERS, str(N_BENCH), BENCH_PW], check=True)
        base = 3100000 + (os.getpid() % 1000) * 256
        self.gws = []
        self.proxy = None
        self.addCleanup(self.cleanup)
        self.gws = [Gateway("gw1", base), Gateway("gw2", base + 64)]
        for g in self.gws:
            self.assertTrue(wait_until(g.healthy, 20), f"{g.name} did not start: {g.log_text()}")
        self.proxy = Proxy(self.gws)
        self.assertTrue(wait_until(lambda: all(self.proxy.status(s) == "UP"
                                               for s in ("gw1", "gw2")), 20),
                        [self.proxy.status(s) for s in ("gw1", "gw2")])

    def cleanup(self):
        failed = any(e for _t, e in getattr(self._outcome, "errors", []) if e) or \
            not getattr(self._outcome, "success", True)
        if self.proxy:
            self.proxy.stop()
        for g in self.gws:
            g.stop()
            if failed:
                sys.stderr.write(f"==== {g.name} log ====\n{g.log_text()[-20000:]}\n")
        for d in [g.dir for g in self.gws] + ([self.proxy.dir] if self.proxy else []):
            shutil.rmtree(d, ignore_errors=True)

    def where(self):
        """{user: gateway index} of every live session."""
        out = {}
        for i, g in enumerate(self.gws):
            for u in g.users():
                out.setdefault(u, set()).add(i)
        return out

    def get(self, path, h):
        return self.proxy.request("GET", path, h)[0]

    def test_scale_out(self):
        p = self.proxy
        users = [(ALICE, ALICE_PW), (BOB, BOB_PW)] + [
            (f"bench{i:03d}", BENCH_PW) for i in range(1, N_TOKEN + 1)]
        # 20 users log in through HAProxy, half with the cookie, half Bearer.
        sessions = [Session(p, u, pw, i % 2 == 0) for i, (u, pw) in enumerate(users)]
        where = self.where()
        self.assertEqual(sorted(where), sorted(u for u, _ in users))
        self.assertTrue(all(len(v) == 1 for v in where.values()), where)
        on = [sum(1 for v in where.values() if i in v) for i in (0, 1)]
        self.assertEqual(sum(on), 20)
        self.assertGreaterEqual(min(on), 5, f"20 logins spread badly: {on}")
        # Every request of a session lands on its gateway: a token is known
        # only there, anywhere else the answer would be 401.
        for _round in range(3):
            for s in sessions:
                self.assertEqual(self.get("/api/v1/fs/fixture/", s.h), 200, s.user)
        for i, g in enumerate(self.gws):
            mine = {u for u, v in where.items() if i in v}
            seen = set(re.findall(r"event=request method=GET path=/api/v1/fs/fixture/ "
                                  r"status=\d+ \S+ \S+ \S+ user=(\S+)", g.log_text()))
            self.assertEqual(seen, mine, g.name)

        # Basic users: spread by user name, always to the same gateway.
        b = [basic(f"bench{i:03d}", BENCH_PW) for i in range(N_TOKEN + 1, N_BENCH + 1)]
        for _round in range(2):
            for h in b:
                self.assertEqual(self.get("/api/v1/fs/fixture/", h), 200)
        basic_on = {}
        for i, g in enumerate(self.gws):
            for u in re.findall(r"event=login user=(\S+) server=fixture addr=\S+ via=basic",
                                g.log_text()):
                basic_on.setdefault(u, set()).add(i)
        self.assertEqual(len(basic_on), 10)
        self.assertTrue(all(len(v) == 1 for v in basic_on.values()), basic_on)
        self.assertEqual({i for v in basic_on.values() for i in v}, {0, 1}, basic_on)

        # Files uploaded through both gateways.
        files = {}
        for n, (s, who) in enumerate(((sessions[0], "alice"), (sessions[1], "bob"))):
            data = os.urandom(300000 + n)
            name = f"hp-{who}.bin"
            st = p.request("PUT", f"/api/v1/fs/fixture/public/{name}",
                           dict(s.h, **{"X-Requested-With": "t"}), data)[0]
            self.assertEqual(st, 201)
            files[name] = data
        data = os.urandom(123457)
        st = p.request("PUT", "/api/v1/fs/fixture/public/hp-basic.bin",
                       dict(basic(BOB, BOB_PW), **{"X-Requested-With": "t"}), data)[0]
        self.assertEqual(st, 201)
        files["hp-basic.bin"] = data

        # Drain gw2: new logins go to gw1, gw2's sessions go on.
        self.assertEqual(p.admin_cmd("set server smbgate/gw2 state drain").strip(), "")
        self.assertTrue(wait_until(lambda: p.status("gw2") == "DRAIN", 10), p.status("gw2"))
        before = {u for u, v in self.where().items() if 1 in v}
        for s in sessions:
            self.assertEqual(self.get("/api/v1/fs/fixture/", s.h), 200, s.user)
        drained = [Session(p, f"bench{i:03d}", BENCH_PW, False) for i in range(1, 6)]
        for s in drained:
            self.assertEqual(self.get("/api/v1/fs/fixture/", s.h), 200)
        self.assertEqual({u for u, v in self.where().items() if 1 in v}, before)
        for s in drained:  # logged out again: the per-user limits stay far
            self.assertEqual(p.request("POST", "/api/v1/logout", s.h)[0], 204)
        self.assertEqual(p.admin_cmd("set server smbgate/gw2 state ready").strip(), "")
        self.assertTrue(wait_until(lambda: p.status("gw2") == "UP", 10))

        # gw1 dies while Basic users (four on each gateway) loop GET and
        # PROPFIND: none of their requests fails, those of gw1 are retried
        # on gw2 (option redispatch, retry-on) until its checks take gw1 out.
        # (Four: gw2 checks at most five first logins from one address at a
        # time, and behind HAProxy every user has HAProxy's address: a sixth
        # user moving at the same moment gets 429 too_many_attempts.)
        where = self.where()
        on_gw1 = [s for s in sessions if where[s.user] == {0}]
        on_gw2 = [s for s in sessions if where[s.user] == {1}]
        self.assertTrue(on_gw1 and on_gw2)
        movers = [u for u in sorted(basic_on) if basic_on[u] == {0}][:4]
        stayers = [u for u in sorted(basic_on) if basic_on[u] == {1}][:4]
        loops = [BasicLoop(p, basic(u, BENCH_PW)) for u in movers + stayers]
        for t in loops:
            t.start()
        time.sleep(1.5)
        killed = time.monotonic()
        self.gws[0].proc.kill()
        self.gws[0].proc.wait(10)
        marked = []  # when HAProxy had gw1 down, watched apart from the requests
        watcher = threading.Thread(target=lambda: marked.append(
            time.monotonic() if wait_until(lambda: p.status("gw1") == "DOWN", 15, 0.02)
            else None), daemon=True)
        watcher.start()
        # one request of each of gw1's users at once, while HAProxy still
        # has gw1 up (its checks need two failures, 500 ms apart)
        sent_up = p.status("gw1")
        first = [p.request(m, path, dict(basic(u, BENCH_PW), Depth="1"))[0]
                 for u in movers for m, path in (("PROPFIND", "/dav/fixture/"),
                                                 ("GET", "/api/v1/fs/fixture/"))]
        self.assertTrue(sent_up.startswith("UP"), sent_up)  # "UP", or "UP 1/2": going down
        self.assertEqual(first, [207, 200] * len(movers))
        watcher.join(20)
        self.assertTrue(marked and marked[0], p.status("gw1"))
        down = marked[0] - killed
        time.sleep(1.5)
        for t in loops:
            t.stop.set()
        for t in loops:
            t.join(TIMEOUT + 5)
        total = sum(len(t.answers) for t in loops)
        # requests of gw1's users sent after the kill and before HAProxy knew
        during = sum(1 for t in loops[:len(movers)] for a in t.answers
                     if killed <= a[4] <= killed + down)
        bad = [a for t in loops for a in t.bad()]
        kinds = {}
        for a in bad:
            k = f"{a[1]} {a[2] if a[2] else a[3].split('(')[0]}"
            kinds[k] = kinds.get(k, 0) + 1
        sys.stderr.write(f"gw1 killed: {len(first)} requests of its users right after, "
                         f"gw1 still up in HAProxy, all 2xx; "
                         f"{total} Basic requests by {len(loops)} looping clients, "
                         f"{during} sent to gw1's users while HAProxy took {down:.2f} s to "
                         f"mark it down, {len(bad)} not 2xx: {kinds}\n")
        if bad:
            sys.stderr.write("".join(l + "\n" for l in self.gws[1].log_text().splitlines()
                                     if "event=login" in l or "status=429" in l or
                                     "slow" in l)[-6000:])
        self.assertEqual(bad[:5], [])
        self.assertLess(down, 3.0)
        # its token and cookie users: 401, then a new login lands on gw2
        for s in on_gw1:
            st, _h, body = p.request("GET", "/api/v1/fs/fixture/", s.h)
            self.assertEqual(st, 401, (s.user, body))
        for s in on_gw1:
            pw = dict(users)[s.user]
            again = Session(p, s.user, pw, False)
            self.assertEqual(self.get("/api/v1/fs/fixture/", again.h), 200)
        self.assertEqual(set(self.gws[1].users()) >= {s.user for s in on_gw1}, True)
        # gw2's sessions never noticed
        for s in on_gw2:
            self.assertEqual(self.get("/api/v1/fs/fixture/", s.h), 200, s.user)
        # Basic users go on, wherever they were (those of gw1 get a sandbox on gw2)
        for h in b:
            self.assertEqual(self.get("/api/v1/fs/fixture/", h), 200)
        st, _h, body = p.request("GET", "/api/v1/fs/fixture/public/hp-basic.bin",
                                 basic(BOB, BOB_PW))
        self.assertEqual((st, body), (200, files["hp-basic.bin"]))
        # Nothing is lost on the share: every upload is there, whole, and no
        # temporary is left.
        for name, data in files.items():
            with open(os.path.join(PUBLIC, name), "rb") as f:
                self.assertEqual(f.read(), data, name)
            os.unlink(os.path.join(PUBLIC, name))
        self.assertEqual([n for n in os.listdir(PUBLIC) if n.startswith(".~smbgate")], [])


if __name__ == "__main__":
    for tool in (HAPROXY, ADD_USERS, SMBGATE, WORKER, SMBGATECTL):
        if not os.access(tool, os.X_OK):
            sys.exit(f"FAIL: {tool} is missing")
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun and not result.skipped else 1)
