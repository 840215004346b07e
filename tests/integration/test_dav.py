#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Integration test of WebDAV (/dav/): the real smbgate, its sandboxes and the
real Samba fixture, driven by raw HTTP and by real clients from Debian
packages: litmus (the conformance suite), davfs2 (kernel FUSE, in a mount
namespace of this test), rclone's webdav backend and GNOME's gio (gvfs)
under dbus-run-session.

    test_dav.py SMBGATE WORKER SMBGATECTL [TEST...]
        (run under tests/fixtures/with-samba.sh; TEST: a class or Class.method)

A missing client is a failure, never a skip. Every wait is bounded.
"""
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwharness  # noqa: E402
from gwharness import (ALICE, ALICE_PW, BOB, BOB_PW, FX, PRIVATE, PUBLIC, READONLY,  # noqa: E402
                       disk_tree, exchange, in_parallel, key_values, status_kib, temporaries,
                       wait_until)

if len(sys.argv) < 4:
    sys.exit("usage: test_dav.py SMBGATE WORKER SMBGATECTL [unittest args]")
SMBGATE, WORKER, SMBGATECTL = (os.path.abspath(a) for a in sys.argv[1:4])
del sys.argv[1:4]

PUBLIC_DIR, PRIVATE_DIR, READONLY_DIR = PUBLIC, PRIVATE, READONLY
DAV = "/dav/fixture"
PUB = DAV + "/public"
TIMEOUT = 60
NS = {"D": "DAV:"}

TOOLS = ["litmus", "mount.davfs", "umount", "unshare", "rclone", "gio", "dbus-run-session"]
missing = [t for t in TOOLS if not shutil.which(t)]
if missing:
    sys.exit(f"FAIL: missing tools (packaging/debian-packages.txt): {' '.join(missing)}")
if not os.path.exists("/dev/fuse"):
    sys.exit("FAIL: /dev/fuse is missing (davfs2 needs it)")


def q(p):
    return "/".join(urllib.parse.quote(s, safe="") for s in p.split("/"))


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


ALICE_H = basic(ALICE, ALICE_PW)
BOB_H = basic(BOB, BOB_PW)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def xml(self):
        return ET.fromstring(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:400]!r}>"


class Gateway(gwharness.Gateway):
    def __init__(self, name, extra="", host="127.0.0.1"):
        super().__init__(SMBGATE, WORKER, gateway_extra=extra, prefix=f"smbgate-dav-{name}.",
                         name=name, start=False)
        self.host = host
        self.uid_base = 2000000 + (os.getpid() % 5000) * 256 + (hash(name) % 4) * 64
        self.start()

    def config(self):
        return f"""[gateway]
listen = {self.host}:{self.port}
control_socket = {self.sock}
session_idle_timeout = 600
{self.gateway_extra}
[sandbox]
uid_range = {self.uid_base}-{self.uid_base + 63}

[server fixture]
host = 127.0.0.1
port = {FX['SAMBA_PORT']}
workgroup = SMBGATE
"""

    def start(self, name=None):
        self.name = name or self.name
        super().start()

    def url(self, p=""):
        return f"http://127.0.0.1:{self.port}{p}"

    def request(self, method, p, headers=None, body=None, timeout=TIMEOUT):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, p, skip_accept_encoding=True)
            hdrs = dict(headers or {})
            if body is not None:
                hdrs.setdefault("Content-Length", str(len(body)))
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            r = conn.getresponse()
            return Resp(r.status, r.headers, r.read())
        finally:
            conn.close()

    def sessions(self):
        out = subprocess.run([SMBGATECTL, "-s", self.sock, "sessions", "--json"],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["sessions"]

    def restart(self):
        """Stops the gateway (SIGTERM) and starts it again on the same port and
        folder: its sessions are gone, what it keeps in files stays."""
        self.assertion_rc(super().stop(15))
        self.start("restarted")

    @staticmethod
    def assertion_rc(rc):
        assert rc == 0, f"gateway exited with {rc}"

    def asan(self):
        with open(f"/proc/{self.proc.pid}/maps", encoding="ascii", errors="replace") as f:
            return "libasan" in f.read()

    def rss_kib(self):
        rss = status_kib(self.proc.pid, "VmRSS")
        assert rss, "no VmRSS"
        return rss

    def stop(self):
        rc = super().stop(15)
        if rc == "killed":
            raise AssertionError("gateway did not stop within 15 s of SIGTERM")
        assert rc == 0, f"gateway exited with {rc}"
        shutil.rmtree(self.dir, ignore_errors=True)


GW = None


def setUpModule():
    global GW
    GW = Gateway("main")


def tearDownModule():
    GW.stop()


PROPFIND_PROPS = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
                  b'<D:resourcetype/><D:getcontentlength/><D:getetag/><D:getlastmodified/>'
                  b'<D:displayname/><D:getcontenttype/><Z:nope xmlns:Z="urn:z"/>'
                  b'</D:prop></D:propfind>')


def propfind(depth, p, headers=ALICE_H, body=PROPFIND_PROPS, gw=None):
    h = dict(headers)
    if depth is not None:
        h["Depth"] = depth
    h["Content-Type"] = "application/xml"
    return (gw or GW).request("PROPFIND", p, h, body)


def responses(r):
    """{href: {prop-tag: (status, element)}} of a multistatus."""
    out = {}
    for resp in r.xml().findall("D:response", NS):
        href = resp.find("D:href", NS).text
        props = {}
        for ps in resp.findall("D:propstat", NS):
            status = int(ps.find("D:status", NS).text.split()[1])
            for el in ps.find("D:prop", NS):
                props[el.tag] = (status, el)
        out[href] = props
    return out


def statuses(props):
    """{property: status} of responses()'s props; "ms:" stands for the
    Windows properties' namespace."""
    return {k.replace("{urn:schemas-microsoft-com:}", "ms:"): v[0] for k, v in props.items()}


def disk(rel, base=PUBLIC_DIR):
    with open(os.path.join(base, rel), "rb") as f:
        return f.read()


class Base(unittest.TestCase):
    def put(self, p, data, headers=ALICE_H, expect=None):
        r = GW.request("PUT", p, headers, data)
        if expect is not None:
            self.assertEqual(r.status, expect, r)
        return r


# ---- the protocol, with raw HTTP -------------------------------------------

class D01Protocol(Base):
    def test_options(self):
        r = GW.request("OPTIONS", PUB + "/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["DAV"], "1, 2")
        self.assertEqual(r.headers["MS-Author-Via"], "DAV")
        for m in ("PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PUT"):
            self.assertIn(m, r.headers["Allow"])

    def test_root_probes(self):
        """Windows Explorer's "Map network drive" (WebClient, as Microsoft
        documents its requests): the site's root is asked first, without
        credentials, then the share, which asks for them."""
        ua = {"User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045", "translate": "f"}
        r = GW.request("OPTIONS", "/", ua)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["DAV"], "1, 2")
        self.assertEqual(r.headers["MS-Author-Via"], "DAV")
        self.assertEqual(r.headers["Allow"], "GET, HEAD, OPTIONS, PROPFIND")
        r = propfind("0", "/", headers=ua)
        self.assertEqual(r.status, 207, r)
        self.assertEqual(list(responses(r)), ["/"])
        rt = responses(r)["/"]["{DAV:}resourcetype"]
        self.assertEqual(rt[0], 200)
        self.assertIsNotNone(rt[1].find("D:collection", NS))
        r = propfind("1", "/", headers=ua, body=b"")
        self.assertEqual(r.status, 207, r)
        self.assertEqual(sorted(responses(r)), ["/", "/dav/"])
        r = GW.request("OPTIONS", PUB, ua)
        self.assertEqual(r.status, 200, r)
        r = propfind("0", PUB, headers=ua)
        self.assertEqual(r.status, 401, r)
        r = propfind("0", PUB, headers={**ua, **ALICE_H})
        self.assertEqual(r.status, 207, r)
        r = propfind("1", PUB + "/", headers={**ua, **ALICE_H})
        self.assertEqual(r.status, 207, r)
        self.assertIn(PUB + "/hello.txt", responses(r))
        # What the root refuses, as any WebDAV resource does; the page stays.
        self.assertEqual(propfind("infinity", "/", headers=ua).status, 403)
        self.assertEqual(propfind("0", "/", headers=ua, body=b"<nope").status, 400)
        r = GW.request("POST", "/", {}, b"")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.headers["Allow"], "GET, HEAD, OPTIONS, PROPFIND")
        r = GW.request("GET", "/")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"), r.headers)
        r = GW.request("OPTIONS", "/index.html")
        self.assertEqual(r.status, 405, r)

    def test_unauthenticated(self):
        r = propfind("0", PUB + "/", headers={})
        self.assertEqual(r.status, 401, r)
        self.assertTrue(r.headers["WWW-Authenticate"].startswith('Basic realm="smbgate"'))
        r = propfind("0", PUB + "/", headers=basic(ALICE, "wrong"))
        self.assertEqual(r.status, 401, r)

    def test_tree(self):
        r = propfind("1", "/dav/")
        self.assertEqual(r.status, 207, r)
        self.assertTrue(r.headers["Content-Type"].startswith("application/xml"))
        self.assertEqual(sorted(responses(r)), ["/dav/", "/dav/fixture/"])
        r = propfind("1", DAV + "/")
        self.assertEqual(r.status, 207, r)
        got = responses(r)
        for share in ("public", "readonly", "alice_private"):
            props = got[f"/dav/fixture/{share}/"]
            self.assertEqual(props["{DAV:}resourcetype"][0], 200)
            self.assertIsNotNone(props["{DAV:}resourcetype"][1].find("D:collection", NS))
            self.assertEqual(props["{urn:z}nope"][0], 404)

    def test_listing_and_etag(self):
        r = propfind("1", PUB + "/")
        self.assertEqual(r.status, 207, r)
        got = responses(r)
        self.assertIn(PUB + "/", got)
        name = "\u00dcn\u00efc\u00f8d\u00e9 \u30d5\u30a1\u30a4\u30eb.txt"
        for n in (name, "100% done.txt", "#hash#.txt", "Tom & Jerry.txt", "it's.txt"):
            href = PUB + "/" + q(n)
            self.assertIn(href, got, sorted(got))
            props = got[href]
            self.assertEqual(int(props["{DAV:}getcontentlength"][1].text), len(disk(n)))
            self.assertEqual(props["{DAV:}displayname"][1].text, n)
            rest = GW.request("HEAD", "/api/v1/fs/fixture/public/" + q(n), ALICE_H)
            self.assertEqual(props["{DAV:}getetag"][1].text, rest.headers["ETag"])
        self.assertIn(PUB + "/" + q("Dossier \u00e9t\u00e9") + "/", got)
        # Depth 0 of a file, allprop (empty body), and propname.
        r = propfind("0", PUB + "/hello.txt", body=b"")
        self.assertEqual(r.status, 207, r)
        props = responses(r)[PUB + "/hello.txt"]
        self.assertEqual(props["{DAV:}getcontenttype"][1].text, "text/plain; charset=utf-8")
        self.assertIn("{DAV:}lockdiscovery", props)
        self.assertIn("{DAV:}supportedlock", props)
        r = propfind("0", PUB + "/hello.txt", body=b'<propfind xmlns="DAV:"><propname/></propfind>')
        self.assertEqual(r.status, 207, r)
        self.assertIsNone(responses(r)[PUB + "/hello.txt"]["{DAV:}getetag"][1].text)

    def test_quota(self):
        body = (b'<D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/>'
                b'<D:quota-used-bytes/></D:prop></D:propfind>')
        r = propfind("1", PUB + "/", body=body)
        self.assertEqual(r.status, 207, r)
        got = responses(r)
        props = got[PUB + "/"]
        avail = int(props["{DAV:}quota-available-bytes"][1].text)
        used = int(props["{DAV:}quota-used-bytes"][1].text)
        st = os.statvfs(PUBLIC_DIR)
        total = st.f_blocks * st.f_frsize
        # what the file system under the share says, up to Samba's rounding
        # and what other processes write meanwhile
        self.assertLess(abs(avail + used - total), total // 100 + 2 ** 20, (avail, used, total))
        self.assertLess(abs(avail - st.f_bavail * st.f_frsize), total // 20 + 2 ** 26)
        self.assertEqual(got[PUB + "/hello.txt"]["{DAV:}quota-available-bytes"][0], 200)
        # never in allprop; above the shares there is none
        r = propfind("0", PUB + "/", body=b"")
        self.assertNotIn("{DAV:}quota-available-bytes", responses(r)[PUB + "/"])
        r = propfind("0", DAV + "/", body=body)
        self.assertEqual(responses(r)[DAV + "/"]["{DAV:}quota-used-bytes"][0], 404)

    def test_depth_infinity_refused(self):
        for depth in ("infinity", None):
            r = propfind(depth, PUB + "/")
            self.assertEqual(r.status, 403, r)
            self.assertIsNotNone(r.xml().find("D:propfind-finite-depth", NS))

    def test_bad_xml(self):
        before = sorted(os.listdir(PUBLIC_DIR))
        for body in (b"<D:propfind xmlns:D='DAV:'>", b"<propfind/>", b"\xff\xfe",
                     b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                     b'<propfind xmlns="DAV:"><prop><a>&e;</a></prop></propfind>',
                     b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                     b'<propfind xmlns="DAV:"><allprop/></propfind>'):
            r = propfind("0", PUB + "/", body=body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertNotIn(b"root:", r.body)
        r = propfind("0", PUB + "/", body=b"<a>" + b" " * (64 * 1024) + b"</a>")
        self.assertEqual(r.status, 413, r)
        r = GW.request("LOCK", PUB + "/hello.txt", ALICE_H, b"<lockinfo/>")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(sorted(os.listdir(PUBLIC_DIR)), before)

    def test_bad_names(self):
        tmp = ".~smbgate-new-" + "0" * 32 + ".tmp"
        for p in ("/%2e%2e/x", "/a%2Fb", "/a%5Cb", "/a%00b", "/" + tmp, "/a:stream", "/x*y"):
            r = GW.request("PUT", PUB + p, ALICE_H, b"x")
            self.assertIn(r.status, (400,), (p, r))
            r = propfind("0", PUB + p)
            self.assertEqual(r.status, 400, (p, r))

    def test_bearer_and_cookie(self):
        r = GW.request("POST", "/api/v1/login", {"Content-Type": "application/json"},
                       json.dumps({"username": ALICE, "password": ALICE_PW}).encode())
        self.assertEqual(r.status, 200, r)
        tok = json.loads(r.body)["token"]
        try:
            r = propfind("0", PUB + "/", headers={"Authorization": "Bearer " + tok})
            self.assertEqual(r.status, 207, r)
            r = propfind("0", PUB + "/", headers={"Cookie": "smbgate_session=" + tok})
            self.assertEqual(r.status, 207, r)
        finally:
            GW.request("POST", "/api/v1/logout", {"Authorization": "Bearer " + tok})

    def test_private_share(self):
        r = propfind("1", DAV + "/alice_private/", headers=BOB_H)
        self.assertEqual(r.status, 403, r)
        r = GW.request("GET", DAV + "/alice_private/secret.txt", BOB_H)
        self.assertEqual(r.status, 403, r)
        r = GW.request("PUT", DAV + "/alice_private/bob.txt", BOB_H, b"x")
        self.assertEqual(r.status, 403, r)
        r = propfind("1", DAV + "/alice_private/")
        self.assertEqual(r.status, 207, r)


class D02Write(Base):
    def test_put_get_range(self):
        data = bytes(range(256)) * 40
        self.put(PUB + "/d02-put.bin", data, expect=201)
        self.put(PUB + "/d02-put.bin", data[::-1], expect=204)
        self.assertEqual(disk("d02-put.bin"), data[::-1])
        r = GW.request("GET", PUB + "/d02-put.bin", dict(ALICE_H, Range="bytes=10-19"))
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, data[::-1][10:20])
        etag = r.headers["ETag"]
        r = GW.request("GET", PUB + "/d02-put.bin", dict(ALICE_H, **{"If-None-Match": etag}))
        self.assertEqual(r.status, 304, r)
        r = GW.request("DELETE", PUB + "/d02-put.bin", ALICE_H)
        self.assertEqual(r.status, 204, r)
        self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d02-put.bin")))

    def test_put_no_parent_and_readonly(self):
        self.put(PUB + "/no-such-dir/x.txt", b"x", expect=409)
        self.put(DAV + "/readonly/x.txt", b"x", expect=403)
        self.assertFalse(os.path.exists(os.path.join(READONLY_DIR, "x.txt")))
        self.put("/dav/", b"x", expect=405)  # the servers: a read-only collection
        self.put(DAV + "/", b"x", expect=403)  # the shares: likewise

    def test_cancelled_put_keeps_old(self):
        self.put(PUB + "/d02-keep.txt", b"old content\n", expect=201)
        s = socket.create_connection(("127.0.0.1", GW.port), timeout=10)
        auth = ALICE_H["Authorization"]
        s.sendall(f"PUT {PUB}/d02-keep.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                  f"Content-Length: 1000000\r\n\r\n".encode() + b"n" * 300000)
        time.sleep(0.5)
        s.close()
        # the worker drops its temporary once it sees the pipe end early
        deadline = time.monotonic() + 15
        while True:
            left = [n for n in os.listdir(PUBLIC_DIR) if n.startswith(".~smbgate")]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(left, [])
        self.assertEqual(disk("d02-keep.txt"), b"old content\n")

    def test_mkcol(self):
        r = GW.request("MKCOL", PUB + "/d02-col", ALICE_H)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(os.path.isdir(os.path.join(PUBLIC_DIR, "d02-col")))
        r = GW.request("MKCOL", PUB + "/d02-col", ALICE_H)
        self.assertEqual(r.status, 405, r)
        r = GW.request("MKCOL", PUB + "/d02-none/sub", ALICE_H)
        self.assertEqual(r.status, 409, r)
        r = GW.request("MKCOL", PUB + "/d02-body", ALICE_H, b"<x/>")
        self.assertEqual(r.status, 415, r)
        self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d02-body")))
        self.put(PUB + "/d02-col/a.txt", b"a", expect=201)
        r = GW.request("DELETE", PUB + "/d02-col", ALICE_H)
        self.assertEqual(r.status, 204, r)
        self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d02-col")))

    def test_copy_move(self):
        r = GW.request("MKCOL", PUB + "/d02-src", ALICE_H)
        self.assertEqual(r.status, 201, r)
        self.put(PUB + "/d02-src/f.txt", b"file\n", expect=201)
        GW.request("MKCOL", PUB + "/d02-src/sub", ALICE_H)
        self.put(PUB + "/d02-src/sub/g.txt", b"g\n", expect=201)
        dest = {"Destination": GW.url(PUB + "/d02-copy")}
        r = GW.request("COPY", PUB + "/d02-src", dict(ALICE_H, **dest))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(disk("d02-copy/sub/g.txt"), b"g\n")
        r = GW.request("COPY", PUB + "/d02-src", dict(ALICE_H, Overwrite="F", **dest))
        self.assertEqual(r.status, 412, r)
        r = GW.request("COPY", PUB + "/d02-src", dict(ALICE_H, Depth="0", **dest))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(os.listdir(os.path.join(PUBLIC_DIR, "d02-copy")), [])
        r = GW.request("MOVE", PUB + "/d02-src/f.txt",
                       dict(ALICE_H, Destination=PUB + "/d02-copy/" + q("m\u00f6ved #1.txt")))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(disk("d02-copy/m\u00f6ved #1.txt"), b"file\n")
        self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d02-src/f.txt")))
        r = GW.request("MOVE", PUB + "/d02-src",
                       dict(ALICE_H, Destination=GW.url(DAV + "/readonly/x")))
        self.assertEqual(r.status, 502, r)
        r = GW.request("MOVE", PUB + "/d02-src",
                       dict(ALICE_H, Destination=GW.url(PUB + "/nope/x")))
        self.assertEqual(r.status, 409, r)
        r = GW.request("COPY", PUB + "/d02-src", dict(ALICE_H, Destination=PUB + "/d02-src/in"))
        self.assertEqual(r.status, 403, r)
        # an absolute Destination must name this gateway (its Host header)
        r = GW.request("COPY", PUB + "/d02-src",
                       dict(ALICE_H, Destination="http://evil.example" + PUB + "/d02-other"))
        self.assertEqual((r.status, json.loads(r.body)["error"]["code"]), (502, "other_server"))
        self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d02-other")))
        for p in ("d02-src", "d02-copy"):
            self.assertEqual(GW.request("DELETE", PUB + "/" + p, ALICE_H).status, 204)

    def test_copy_never_follows_links(self):
        # The public share has Samba's default "follow symlinks = yes": a link to
        # a folder looks like an ordinary folder. A deep COPY walks the folder
        # first and is refused (409 contains_link) when it is or holds such a
        # link, as the REST API's recursive delete: nothing is copied, the
        # Destination stays as it was. Links out of the share ("wide links =
        # no") are never served: nothing of them is copied either.
        uid, gid = int(FX["SAMBA_UID1"]), int(FX["SAMBA_GID"])
        top = os.path.join(PUBLIC_DIR, "d02-lk")
        outside = os.path.join(FX["SAMBA_DIR"], "d02-outside")
        for d in (top, outside):
            shutil.rmtree(d, ignore_errors=True)

        def mk(rel, data=None, base=top):
            path = os.path.join(base, rel)
            if data is None:
                os.makedirs(path)
            else:
                with open(path, "wb") as f:
                    f.write(data)
            os.lchown(path, uid, gid)

        def link(target, rel):
            os.symlink(target, os.path.join(top, rel))
            os.lchown(os.path.join(top, rel), uid, gid)

        def tree(rel):
            out = []
            for dirpath, dirs, files in os.walk(os.path.join(top, rel)):
                r = os.path.relpath(dirpath, os.path.join(top, rel))
                out += [os.path.normpath(os.path.join(r, n)) for n in dirs + files]
            return sorted(out)

        try:
            for d in ("", "src", "src/sub", "victim", "loop", "out", "plain", "plain/sub",
                      "dest", "dest/old"):
                mk(d)
            mk("", base=outside)
            mk("secret.txt", b"outside the share\n", outside)
            mk("src/f.txt", b"f\n")
            mk("src/sub/g.txt", b"g\n")
            mk("victim/keep.txt", b"keep\n")
            link("../../victim", "src/sub/in")     # followed by the server, out of src
            mk("loop/a.txt", b"a\n")
            link(".", "loop/self")                   # a loop
            mk("out/o.txt", b"o\n")
            link(outside, "out/wide")                # out of the share: never served
            mk("plain/sub/p.txt", b"p\n")
            mk("dest/old/keep.txt", b"old\n")
            base = PUB + "/d02-lk/"

            def copy(src, dst, **h):
                return GW.request("COPY", base + src,
                                  dict(ALICE_H, Destination=GW.url(base + dst), **h))

            def err(r):
                return json.loads(r.body)["error"]["code"]

            for src, dst in (("src", "c1"), ("src/sub", "c2"), ("src/sub/in", "c3"),
                             ("loop", "c4"), ("loop/self", "c5")):
                r = copy(src, dst)
                self.assertEqual((r.status, err(r)), (409, "contains_link"), (src, r))
                self.assertFalse(os.path.lexists(os.path.join(top, dst)), src)
            r = copy("src", "c6", Depth="infinity")
            self.assertEqual((r.status, err(r)), (409, "contains_link"), r)
            # Overwrite: T over an existing folder: the Destination is kept
            r = copy("src", "dest", Overwrite="T")
            self.assertEqual((r.status, err(r)), (409, "contains_link"), r)
            self.assertEqual(tree("dest"), ["old", "old/keep.txt"])
            # Depth 0 copies the folder alone: allowed, nothing through the link
            r = copy("src", "c7", Depth="0")
            self.assertEqual(r.status, 201, r)
            self.assertEqual(tree("c7"), [])
            # the link out of the share is not served: its content never copied
            r = copy("out", "c8")
            self.assertEqual(r.status, 201, r)
            self.assertEqual(tree("c8"), ["o.txt"])
            self.assertEqual(disk("d02-lk/c8/o.txt"), b"o\n")
            # a tree without links copies whole
            r = copy("plain", "c9")
            self.assertEqual(r.status, 201, r)
            self.assertEqual(tree("c9"), ["sub", "sub/p.txt"])
            self.assertEqual(disk("d02-lk/c9/sub/p.txt"), b"p\n")
            # nothing changed at the sources
            self.assertEqual(tree("src"), ["f.txt", "sub", "sub/g.txt", "sub/in"])
            self.assertTrue(os.path.islink(os.path.join(top, "src/sub/in")))
            self.assertEqual(tree("victim"), ["keep.txt"])
            with open(os.path.join(outside, "secret.txt"), "rb") as f:
                self.assertEqual(f.read(), b"outside the share\n")
            self.assertEqual(sorted(os.listdir(top)),
                             sorted(["src", "victim", "loop", "out", "plain", "dest", "c7",
                                     "c8", "c9"]))
        finally:
            shutil.rmtree(top, ignore_errors=True)
            shutil.rmtree(outside, ignore_errors=True)

    def test_link_to_a_sibling(self):
        # "ln -s sibtarget toplink" on the server: the ".." of toplink's
        # listing is the folder it is in, as for sibtarget; both have one
        # file id. DELETE (recursive in WebDAV) and a deep COPY of either are
        # refused, with every byte of sibtarget kept; a link to a file goes
        # alone.
        uid, gid = int(FX["SAMBA_UID1"]), int(FX["SAMBA_GID"])
        top = os.path.join(PUBLIC_DIR, "d02-sib")
        shutil.rmtree(top, ignore_errors=True)
        files = {"sibtarget/keep.txt": b"keep\n", "sibtarget/sub/deep.bin": bytes(range(256)),
                 "sibfile.txt": b"sibling file\n"}

        def kept():
            for rel, data in files.items():
                self.assertEqual(disk("d02-sib/" + rel), data, rel)
            self.assertEqual(sorted(os.listdir(os.path.join(top, "sibtarget"))),
                             ["keep.txt", "sub"])
            self.assertEqual(os.readlink(os.path.join(top, "toplink")), "sibtarget")

        try:
            for d in ("", "sibtarget", "sibtarget/sub"):
                os.makedirs(os.path.join(top, d), exist_ok=True)
                os.lchown(os.path.join(top, d), uid, gid)
            for rel, data in files.items():
                with open(os.path.join(top, rel), "wb") as f:
                    f.write(data)
                os.lchown(os.path.join(top, rel), uid, gid)
            for target, name in (("sibtarget", "toplink"), ("sibfile.txt", "filelink")):
                os.symlink(target, os.path.join(top, name))
                os.lchown(os.path.join(top, name), uid, gid)
            base = PUB + "/d02-sib/"
            for name in ("toplink", "sibtarget"):
                with self.subTest(delete=name):
                    r = GW.request("DELETE", base + name, ALICE_H)
                    self.assertEqual((r.status, json.loads(r.body)["error"]["code"]),
                                     (409, "contains_link"), r)
                    kept()
                with self.subTest(copy=name):
                    r = GW.request("COPY", base + name,
                                   dict(ALICE_H, Destination=GW.url(base + "copy")))
                    self.assertEqual((r.status, json.loads(r.body)["error"]["code"]),
                                     (409, "contains_link"), r)
                    self.assertFalse(os.path.lexists(os.path.join(top, "copy")))
                    kept()
            r = GW.request("DELETE", base + "filelink", ALICE_H)
            self.assertEqual(r.status, 204, r)
            self.assertFalse(os.path.lexists(os.path.join(top, "filelink")))
            kept()
        finally:
            shutil.rmtree(top, ignore_errors=True)

    def test_short_name_of_a_temporary(self):
        # alice_private keeps Samba's default "mangled names": an upload's
        # temporary answers to an 8.3 name there. Refused by every method,
        # as the temporary's own name is, and the temporary stays as it was.
        priv = FX["SAMBA_SHARE_ALICE_PRIVATE"]
        uid, gid = int(FX["SAMBA_UID1"]), int(FX["SAMBA_GID"])
        top = os.path.join(priv, "d02-tmp")
        tmp_name = ".~smbgate-new-" + "fedcba9876543210" * 2 + ".tmp"
        data = b"an upload in progress\n"
        shutil.rmtree(top, ignore_errors=True)
        os.mkdir(top)
        os.lchown(top, uid, gid)
        try:
            for name, content in ((tmp_name, data), ("other.txt", b"other\n")):
                with open(os.path.join(top, name), "wb") as f:
                    f.write(content)
                os.lchown(os.path.join(top, name), uid, gid)
            p = subprocess.run(["smbclient", "//127.0.0.1/alice_private", "-p", FX["SAMBA_PORT"],
                                "-s", FX["SAMBA_CLIENT_CONF"], "-U", f"{ALICE}%{ALICE_PW}",
                                "-c", f'allinfo "d02-tmp/{tmp_name}"'],
                               capture_output=True, timeout=60)
            m = re.search(rb"^altname: (\S+)$", p.stdout, re.M)
            self.assertTrue(m and b"~" in m.group(1), p)
            alias = m.group(1).decode()
            base = DAV + "/alice_private/d02-tmp/"

            def reset():
                for n in os.listdir(top):
                    if n not in (tmp_name, "other.txt"):
                        shutil.rmtree(os.path.join(top, n), ignore_errors=True)
                        if os.path.lexists(os.path.join(top, n)):
                            os.unlink(os.path.join(top, n))
                for name, content in ((tmp_name, data), ("other.txt", b"other\n")):
                    with open(os.path.join(top, name), "wb") as f:
                        f.write(content)
                    os.lchown(os.path.join(top, name), uid, gid)

            def kept():
                self.assertEqual(disk(tmp_name, top), data)
                self.assertEqual(sorted(os.listdir(top)), sorted([tmp_name, "other.txt"]))
                self.assertEqual(disk("other.txt", top), b"other\n")

            dest = dict(ALICE_H, Destination=GW.url(base + alias), Overwrite="T")
            for what, r in (
                    ("GET", lambda: GW.request("GET", base + alias, ALICE_H)),
                    ("PROPFIND", lambda: propfind("0", base + alias)),
                    ("PUT", lambda: GW.request("PUT", base + alias, ALICE_H, b"new\n")),
                    ("DELETE", lambda: GW.request("DELETE", base + alias, ALICE_H)),
                    ("MOVE from", lambda: GW.request(
                        "MOVE", base + alias, dict(ALICE_H, Destination=GW.url(base + "m")))),
                    ("COPY from", lambda: GW.request(
                        "COPY", base + alias, dict(ALICE_H, Destination=GW.url(base + "c")))),
                    ("MOVE onto", lambda: GW.request("MOVE", base + "other.txt", dest)),
                    ("COPY onto", lambda: GW.request("COPY", base + "other.txt", dest)),
                    ("MKCOL", lambda: GW.request("MKCOL", base + alias, ALICE_H)),
                    ("GET in another case",
                     lambda: GW.request("GET", base + tmp_name.upper(), ALICE_H))):
                with self.subTest(method=what):
                    reset()
                    resp = r()
                    self.assertEqual(resp.status, 400, resp)
                    kept()
        finally:
            shutil.rmtree(top, ignore_errors=True)

    def proppatch(self, p, body):
        """PROPPATCH of @p as alice: 207, and @p's {prop: (status, element)}."""
        r = GW.request("PROPPATCH", p, ALICE_H, body)
        self.assertEqual(r.status, 207, r)
        return responses(r)[p]

    def test_proppatch(self):
        self.put(PUB + "/d02-pp.txt", b"pp", expect=201)
        body = (b'<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" '
                b'xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
                b'<Z:Win32CreationTime>Tue, 01 Dec 2026 00:00:00 GMT</Z:Win32CreationTime>'
                b'<Z:Win32LastModifiedTime>Tue, 01 Dec 2026 00:00:00 GMT'
                b'</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020'
                b'</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>')
        props = self.proppatch(PUB + "/d02-pp.txt", body)
        self.assertEqual(statuses(props), {"ms:Win32CreationTime": 200,
                                           "ms:Win32LastModifiedTime": 200,
                                           "ms:Win32FileAttributes": 200})
        # the modification time is applied on the file server
        self.assertEqual(int(os.stat(os.path.join(PUBLIC_DIR, "d02-pp.txt")).st_mtime),
                         1796083200)
        r = propfind("0", PUB + "/d02-pp.txt", body=b"")
        self.assertEqual(responses(r)[PUB + "/d02-pp.txt"]["{DAV:}getlastmodified"][1].text,
                         "Tue, 01 Dec 2026 00:00:00 GMT")
        # a share that refuses: the time is 403, the rest 424; nothing changed
        ro = os.path.join(READONLY_DIR, "readme.txt")
        before = os.stat(ro).st_mtime
        props = self.proppatch(DAV + "/readonly/readme.txt", body)
        self.assertEqual(props["{urn:schemas-microsoft-com:}Win32LastModifiedTime"][0], 403)
        self.assertEqual(props["{urn:schemas-microsoft-com:}Win32CreationTime"][0], 424)
        self.assertEqual(os.stat(ro).st_mtime, before)
        body = (b'<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x">v'
                b'</x:a><Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:">0'
                b'</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>')
        props = self.proppatch(PUB + "/d02-pp.txt", body)
        self.assertEqual(props["{urn:x}a"][0], 403)
        self.assertEqual(props["{urn:schemas-microsoft-com:}Win32FileAttributes"][0], 424)
        # a time that is not a date: 409 Conflict for it (RFC 4918 9.2: a
        # value not appropriate for the property), 424 for the rest, and
        # nothing changed on the file server
        path = os.path.join(PUBLIC_DIR, "d02-pp.txt")
        for garbage in (b"yesterday-ish", b"", b"Tue, 41 Dec 2026 00:00:00 GMT",
                        b"\xc3\xa9" * 40):
            os.utime(path, (1700000000, 1700000000))
            body = (b'<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">'
                    b'<D:set><D:prop><Z:Win32LastAccessTime>Tue, 01 Dec 2026 00:00:00 GMT'
                    b'</Z:Win32LastAccessTime><Z:Win32LastModifiedTime>' + garbage +
                    b'</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020'
                    b'</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>')
            props = self.proppatch(PUB + "/d02-pp.txt", body)
            self.assertEqual(statuses(props), {"ms:Win32LastModifiedTime": 409,
                                               "ms:Win32LastAccessTime": 424,
                                               "ms:Win32FileAttributes": 424}, garbage)
            st = os.stat(path)
            self.assertEqual((st.st_mtime, st.st_atime), (1700000000, 1700000000), garbage)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"pp")
        GW.request("DELETE", PUB + "/d02-pp.txt", ALICE_H)


    def test_etag_after_mtime_put_back(self):
        """A rewrite of the same size whose mtime is put back with PROPPATCH
        (as Explorer does after a copy) changes the ETag: If-Match and the If
        header with the old one get 412 and change nothing, If-None-Match
        gets the new content; PROPFIND's getetag is HEAD's ETag."""
        p = PUB + "/d02-etag.txt"
        when = (b'<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" '
                b'xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
                b'<Z:Win32LastModifiedTime>Tue, 01 Dec 2026 00:00:00 GMT'
                b'</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>')

        def etag():
            r = propfind("0", p)
            tag = responses(r)[p]["{DAV:}getetag"][1].text
            self.assertEqual(GW.request("HEAD", p, ALICE_H).headers["ETag"], tag)
            return tag
        try:
            self.put(p, b"one", expect=201)
            self.assertEqual(GW.request("PROPPATCH", p, ALICE_H, when).status, 207)
            old = etag()
            self.put(p, b"two", expect=204)
            self.assertEqual(GW.request("PROPPATCH", p, ALICE_H, when).status, 207)
            self.assertEqual(os.stat(os.path.join(PUBLIC_DIR, "d02-etag.txt")).st_mtime_ns,
                             1796083200 * 10**9)
            new = etag()
            self.assertNotEqual(new, old)
            r = GW.request("GET", p, dict(ALICE_H, **{"If-None-Match": old}))
            self.assertEqual((r.status, r.body), (200, b"two"))
            for h in ({"If-Match": old}, {"If": f"([{old}])"}):
                with self.subTest(h=h):
                    r = self.put(p, b"bad", headers=dict(ALICE_H, **h))
                    self.assertEqual(r.status, 412, r)
                    self.assertEqual(disk("d02-etag.txt"), b"two")
            self.put(p, b"new", headers=dict(ALICE_H, **{"If-Match": new}), expect=204)
            self.assertEqual(disk("d02-etag.txt"), b"new")
        finally:
            GW.request("DELETE", p, ALICE_H)

    def test_reserved_names(self):
        """PUT, MKCOL, COPY and MOVE to a name the server would mangle:
        400 reserved_name, nothing made; one made on the server is still
        read, moved and deleted."""
        self.put(PUB + "/d02-rn.txt", b"rn", expect=201)
        before = sorted(os.listdir(PUBLIC_DIR))
        for n in ("x.", "x ", "CON", "nul.txt", "Com1.tar.gz", "LPT\u00b2"):
            with self.subTest(name=n):
                for method, p, h, body in (
                        ("PUT", PUB + "/" + q(n), ALICE_H, b"new"),
                        ("MKCOL", PUB + "/" + q(n), ALICE_H, None),
                        ("COPY", PUB + "/d02-rn.txt",
                         dict(ALICE_H, Destination=GW.url(PUB + "/" + q(n))), None),
                        ("MOVE", PUB + "/d02-rn.txt",
                         dict(ALICE_H, Destination=PUB + "/" + q(n)), None)):
                    r = GW.request(method, p, h, body)
                    self.assertEqual(r.status, 400, (method, r))
                    self.assertEqual(json.loads(r.body)["error"]["code"], "reserved_name")
        self.assertEqual(sorted(os.listdir(PUBLIC_DIR)), before)
        self.assertEqual(disk("d02-rn.txt"), b"rn")
        made = os.path.join(PUBLIC_DIR, "AUX.txt")
        with open(made, "wb") as f:
            f.write(b"on the server\n")
        os.chown(made, int(FX["SAMBA_UID1"]), int(FX["SAMBA_GID"]))
        try:
            r = GW.request("GET", PUB + "/AUX.txt", ALICE_H)
            self.assertEqual((r.status, r.body), (200, b"on the server\n"))
            r = GW.request("MOVE", PUB + "/AUX.txt",
                           dict(ALICE_H, Destination=PUB + "/d02-aux.txt"))
            self.assertEqual(r.status, 201, r)
            self.assertEqual(disk("d02-aux.txt"), b"on the server\n")
            os.rename(os.path.join(PUBLIC_DIR, "d02-aux.txt"), made)
            self.assertEqual(GW.request("DELETE", PUB + "/AUX.txt", ALICE_H).status, 204)
            self.assertFalse(os.path.exists(made))
        finally:
            for n in (made, os.path.join(PUBLIC_DIR, "d02-aux.txt")):
                if os.path.exists(n):
                    os.unlink(n)
            GW.request("DELETE", PUB + "/d02-rn.txt", ALICE_H)


LOCKINFO = (b'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
            b'<D:lockscope><D:%s/></D:lockscope><D:locktype><D:write/></D:locktype>'
            b'<D:owner><D:href>%s</D:href></D:owner></D:lockinfo>')


class D03Locks(Base):
    def lock(self, p, who=ALICE_H, scope=b"exclusive", extra=None, expect=200):
        r = GW.request("LOCK", p, dict(who, **(extra or {})), LOCKINFO % (scope, b"tester"))
        self.assertEqual(r.status, expect, r)
        return r.headers.get("Lock-Token", "")[1:-1]

    def test_two_users(self):
        self.put(PUB + "/d03.txt", b"v1", expect=201)
        tok = self.lock(PUB + "/d03.txt")
        self.assertTrue(tok.startswith("opaquelocktoken:"), tok)
        # bob: 423 for every change, his own lock too; alice's token is no use to him
        self.put(PUB + "/d03.txt", b"bob", headers=BOB_H, expect=423)
        self.put(PUB + "/d03.txt", b"bob", headers=dict(BOB_H, If=f"(<{tok}>)"), expect=423)
        self.assertEqual(GW.request("DELETE", PUB + "/d03.txt", BOB_H).status, 423)
        self.lock(PUB + "/d03.txt", who=BOB_H, expect=423)
        r = GW.request("UNLOCK", PUB + "/d03.txt", dict(BOB_H, **{"Lock-Token": f"<{tok}>"}))
        self.assertEqual(r.status, 403, r)
        r = GW.request("MOVE", PUB + "/d03.txt", dict(BOB_H, Destination=PUB + "/d03-moved"))
        self.assertEqual(r.status, 423, r)
        # alice herself needs the token
        self.put(PUB + "/d03.txt", b"no token", expect=423)
        self.assertEqual(disk("d03.txt"), b"v1")
        self.put(PUB + "/d03.txt", b"v2", headers=dict(ALICE_H, If=f"(<{tok}>)"), expect=204)
        self.put(PUB + "/d03.txt", b"v3", headers=dict(ALICE_H, If="(<opaquelocktoken:bad>)"),
                 expect=412)
        self.assertEqual(disk("d03.txt"), b"v2")
        # lockdiscovery shows it, for anybody
        r = propfind("0", PUB + "/d03.txt", headers=BOB_H, body=b"")
        ld = responses(r)[PUB + "/d03.txt"]["{DAV:}lockdiscovery"][1]
        self.assertEqual(ld.find("D:activelock/D:locktoken/D:href", NS).text, tok)
        self.assertEqual(ld.find("D:activelock/D:owner/D:href", NS).text, "tester")
        # refresh, unlock; then bob may write
        r = GW.request("LOCK", PUB + "/d03.txt", dict(ALICE_H, If=f"(<{tok}>)",
                                                      Timeout="Second-100"))
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"Second-100", r.body)
        r = GW.request("UNLOCK", PUB + "/d03.txt", dict(ALICE_H, **{"Lock-Token": f"<{tok}>"}))
        self.assertEqual(r.status, 204, r)
        self.put(PUB + "/d03.txt", b"bob", headers=BOB_H, expect=204)
        self.assertEqual(GW.request("DELETE", PUB + "/d03.txt", BOB_H).status, 204)

    def test_collection_lock_and_timeout(self):
        self.assertEqual(GW.request("MKCOL", PUB + "/d03-col", ALICE_H).status, 201)
        tok = self.lock(PUB + "/d03-col", extra={"Timeout": "Second-600"})
        self.put(PUB + "/d03-col/new.txt", b"x", headers=BOB_H, expect=423)
        self.assertEqual(GW.request("MKCOL", PUB + "/d03-col/sub", BOB_H).status, 423)
        self.assertEqual(GW.request("DELETE", PUB + "/d03-col", BOB_H).status, 423)
        # a lock below a depth-infinity lock conflicts with it, token or not
        self.lock(PUB + "/d03-col/locked-new.txt", extra={"If": f"(<{tok}>)"}, expect=423)
        r = GW.request("UNLOCK", PUB + "/d03-col", dict(ALICE_H, **{"Lock-Token": f"<{tok}>"}))
        self.assertEqual(r.status, 204, r)
        # a lock that times out: free for anybody afterwards, without UNLOCK
        r = GW.request("LOCK", PUB + "/d03-col", dict(ALICE_H, Timeout="Second-1"),
                       LOCKINFO % (b"exclusive", b"tester"))
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"<D:timeout>Second-1</D:timeout>", r.body)
        time.sleep(2.5)
        self.put(PUB + "/d03-col/new.txt", b"x", headers=BOB_H, expect=201)
        # a lock on an unmapped URL makes an empty file (201)
        tok3 = self.lock(PUB + "/d03-col/unmapped.txt", who=BOB_H, expect=201)
        self.assertEqual(disk("d03-col/unmapped.txt"), b"")
        r = GW.request("UNLOCK", PUB + "/d03-col/unmapped.txt",
                       dict(BOB_H, **{"Lock-Token": f"<{tok3}>"}))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(GW.request("DELETE", PUB + "/d03-col", ALICE_H).status, 204)

    def test_shared(self):
        self.put(PUB + "/d03-sh.txt", b"s", expect=201)
        a = self.lock(PUB + "/d03-sh.txt", scope=b"shared")
        b = self.lock(PUB + "/d03-sh.txt", who=BOB_H, scope=b"shared")
        self.lock(PUB + "/d03-sh.txt", who=BOB_H, expect=423)
        self.put(PUB + "/d03-sh.txt", b"bob", headers=dict(BOB_H, If=f"(<{b}>)"), expect=204)
        self.put(PUB + "/d03-sh.txt", b"none", expect=423)
        for who, t in ((ALICE_H, a), (BOB_H, b)):
            r = GW.request("UNLOCK", PUB + "/d03-sh.txt", dict(who, **{"Lock-Token": f"<{t}>"}))
            self.assertEqual(r.status, 204, r)
        self.assertEqual(GW.request("DELETE", PUB + "/d03-sh.txt", ALICE_H).status, 204)


def lock_req(gw, p, who=ALICE_H, scope=b"exclusive", owner=b"tester", extra=None):
    return gw.request("LOCK", p, dict(who, **(extra or {})), LOCKINFO % (scope, owner))


def lock_tokens(p, gw=None, headers=ALICE_H):
    """The tokens of the locks over @p, as its lockdiscovery shows them."""
    r = propfind("0", p, headers=headers, body=b"", gw=gw)
    assert r.status == 207, r
    ld = list(responses(r).values())[0]["{DAV:}lockdiscovery"][1]
    return [e.text for e in ld.findall("D:activelock/D:locktoken/D:href", NS)]


def error_code(r):
    return json.loads(r.body)["error"]["code"]


class D10LockAccess(Base):
    """A LOCK needs write access to what it locks, as the file server tells it
    through the user's own sandbox (or, for a new name, to its folder)."""

    def unlock(self, p, tok, who=ALICE_H, gw=None):
        r = (gw or GW).request("UNLOCK", p, dict(who, **{"Lock-Token": f"<{tok}>"}))
        self.assertEqual(r.status, 204, r)

    def test_lock_needs_write_access(self):
        before = snapshot_dirs(PRIVATE_DIR, READONLY_DIR)
        # bob cannot lock alice's private share: its root, a file, a new name
        for p in ("/alice_private", "/alice_private/", "/alice_private/secret.txt",
                  "/alice_private/d10-bob.txt"):
            r = lock_req(GW, DAV + p, who=BOB_H)
            self.assertEqual(r.status, 403, (p, r))
            self.assertNotIn("Lock-Token", r.headers)
        # the read-only share: its root, a file, a folder, a new name
        for p in ("/readonly/", "/readonly/readme.txt", "/readonly/Ünïcødé dir",
                  "/readonly/d10-new.txt"):
            for who in (ALICE_H, BOB_H):
                r = lock_req(GW, DAV + q(p), who=who)
                self.assertEqual(r.status, 403, (p, r))
        self.assertEqual(snapshot_dirs(PRIVATE_DIR, READONLY_DIR), before)
        self.assertEqual(lock_tokens(DAV + "/readonly/readme.txt"), [])
        self.assertEqual(lock_tokens(DAV + "/readonly/"), [])
        # nothing was locked: alice writes in her share and locks its root
        self.put(DAV + "/alice_private/d10.txt", b"mine", expect=201)
        r = lock_req(GW, DAV + "/alice_private/")
        self.assertEqual(r.status, 200, r)
        self.unlock(DAV + "/alice_private/", r.headers["Lock-Token"][1:-1])
        self.assertEqual(GW.request("DELETE", DAV + "/alice_private/d10.txt", ALICE_H).status,
                         204)
        # a share that does not exist: 404; a folder that does not: 409
        for p in ("/no-such-share", "/no-such-share/", "/no-such-share/x.txt"):
            r = lock_req(GW, DAV + p)
            self.assertEqual(r.status, 404, (p, r))
        r = lock_req(GW, PUB + "/no-such-dir/x.txt")
        self.assertEqual(r.status, 409, r)
        self.assertEqual(error_code(r), "no_parent")
        # where they may write, both lock: the share's root, a folder, a file
        for p in (PUB + "/", PUB + "/" + q("Dossier été"), PUB + "/hello.txt"):
            for who in (ALICE_H, BOB_H):
                r = lock_req(GW, p, who=who)
                self.assertEqual(r.status, 200, (p, r))
                self.unlock(p, r.headers["Lock-Token"][1:-1], who=who)
        # the probes of the folders are gone
        leftovers = [os.path.join(d, n) for top in (PUBLIC_DIR, PRIVATE_DIR)
                     for d, _, files in os.walk(top) for n in files if n.startswith(".~smbgate")]
        self.assertEqual(leftovers, [])


def snapshot_dirs(*tops):
    out = {}
    for top in tops:
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                st = os.lstat(os.path.join(d, n))
                out[os.path.join(d, n)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def empty_files(folder, names):
    """Empty files @names in @folder, writable by all."""
    for n in names:
        fd = os.open(os.path.join(folder, n), os.O_CREAT | os.O_WRONLY, 0o666)
        os.fchmod(fd, 0o666)
        os.close(fd)


class D11LockLimits(Base):
    """One user's LOCK flood: its own 429 at max_locks_per_user (256), the
    others lock on; owners over 4 KiB: 413; the gateway's memory stays small."""

    def test_flood(self):
        gw = Gateway("locklimits")
        folder = os.path.join(PUBLIC_DIR, "d11")
        os.mkdir(folder)
        try:
            empty_files(folder, (f"f{i}" for i in range(300)))
            base = PUB + "/d11/"
            for who in (ALICE_H, BOB_H):
                self.assertEqual(propfind("1", base, headers=who, gw=gw).status, 207)
            rss0 = gw.rss_kib()
            owner = b"o" * 4000
            t0 = time.monotonic()
            for i in range(256):
                r = lock_req(gw, base + f"f{i}", who=BOB_H, owner=owner)
                self.assertEqual(r.status, 200, (i, r))
            flood_s = time.monotonic() - t0
            r = lock_req(gw, base + "f256", who=BOB_H)
            self.assertEqual(r.status, 429, r)
            self.assertEqual(error_code(r), "too_many_user_locks")
            self.assertEqual(lock_tokens(base + "f256", gw=gw), [])
            # alice is not held back by bob's flood
            r = lock_req(gw, base + "f257")
            self.assertEqual(r.status, 200, r)
            # an owner past 4 KiB as the gateway keeps it (escaped): 413, no lock
            for big in (b"o" * 4097, b"&amp;" * 1000, b"o" * 60000):
                r = lock_req(gw, base + "f258", owner=big)
                self.assertEqual(r.status, 413, r)
                self.assertEqual(error_code(r), "lock_owner_too_large")
            self.assertEqual(lock_tokens(base + "f258", gw=gw), [])
            # a flood of refused 60 KB owners keeps nothing
            for i in range(300):
                r = lock_req(gw, base + f"f{i % 40 + 259}", owner=b"o" * 60000)
                self.assertEqual(r.status, 413, r)
            r = propfind("1", base, gw=gw, body=b"")
            self.assertEqual(r.status, 207, r)
            rss1 = gw.rss_kib()
            print(f"lock flood: 256 LOCKs by one user in {flood_s:.2f} s; gateway RSS "
                  f"{rss0} KiB before, {rss1} KiB after (+{rss1 - rss0} KiB) with 256 locks "
                  f"of 4000-byte owners and 303 refused; PROPFIND Depth 1 of the folder: "
                  f"{len(r.body)} bytes", file=sys.stderr)
            # ASan's quarantine keeps freed memory for a while: RSS says
            # nothing there (LeakSanitizer checks at the gateway's exit).
            if not gw.asan():
                self.assertLess(rss1 - rss0, 32 * 1024)
            self.assertLess(len(r.body), 2 * 1024 * 1024)
        finally:
            gw.stop()
            shutil.rmtree(folder, ignore_errors=True)

    def test_inherited_locks_in_listings(self):
        """32 shared locks on a folder (the most over one resource) with 4 KB
        owners: its Depth 1 listing stays small."""
        gw = Gateway("lockcover")
        folder = os.path.join(PUBLIC_DIR, "d11b")
        os.mkdir(folder)
        os.chmod(folder, 0o777)  # made here as root: bob's probe needs to write in it
        try:
            empty_files(folder, (f"f{i:03}" for i in range(500)))
            base = PUB + "/d11b/"
            toks = []
            for i in range(32):
                r = lock_req(gw, base, who=BOB_H, scope=b"shared", owner=b"o" * 4000)
                self.assertEqual(r.status, 200, (i, r))
                toks.append(r.headers["Lock-Token"][1:-1])
            r = lock_req(gw, base + "f000", scope=b"shared")
            self.assertEqual(r.status, 423, r)
            self.assertEqual(error_code(r), "too_many_shared_locks")
            self.assertEqual(sorted(lock_tokens(base, gw=gw)), sorted(toks))
            self.assertEqual(sorted(lock_tokens(base + "f499", gw=gw)), sorted(toks))
            r = propfind("1", base, gw=gw, body=b"")
            self.assertEqual(r.status, 207, r)
            print(f"PROPFIND Depth 1 of 500 entries under 32 locks of 4000-byte owners: "
                  f"{len(r.body)} bytes", file=sys.stderr)
            self.assertLess(len(r.body), 8 * 1024 * 1024)
            self.assertEqual(len(responses(r)), 501)
        finally:
            gw.stop()
            shutil.rmtree(folder, ignore_errors=True)



class D12LocksSurviveRestart(Base):
    """Locks are kept in a file beside the upload journal: a restart between
    LOCK and PUT keeps them."""

    def test_restart_between_lock_and_put(self):
        gw = Gateway("restart")
        try:
            self.assertEqual(gw.request("PUT", PUB + "/d12.txt", ALICE_H, b"v1").status, 201)
            r = lock_req(gw, PUB + "/d12.txt", extra={"Timeout": "Second-600"})
            self.assertEqual(r.status, 200, r)
            tok = r.headers["Lock-Token"][1:-1]
            r = lock_req(gw, PUB + "/d12-new.txt")  # a lock-null resource: an empty file
            self.assertEqual(r.status, 201, r)
            tok2 = r.headers["Lock-Token"][1:-1]
            st = os.stat(os.path.join(gw.dir, "dav.locks"))
            self.assertEqual(st.st_mode & 0o777, 0o600)
            gw.restart()
            # the locks hold: bob and a PUT without the token get 423
            r = gw.request("PUT", PUB + "/d12.txt", BOB_H, b"bob")
            self.assertEqual(r.status, 423, r)
            r = gw.request("PUT", PUB + "/d12.txt", ALICE_H, b"no token")
            self.assertEqual(r.status, 423, r)
            r = gw.request("PUT", PUB + "/d12.txt", dict(BOB_H, If=f"(<{tok}>)"), b"bob")
            self.assertEqual(r.status, 423, r)
            self.assertEqual(disk("d12.txt"), b"v1")
            # the owner's PUT with the token goes through
            r = gw.request("PUT", PUB + "/d12.txt", dict(ALICE_H, If=f"(<{tok}>)"), b"v2")
            self.assertEqual(r.status, 204, r)
            self.assertEqual(disk("d12.txt"), b"v2")
            r = gw.request("PUT", PUB + "/d12-new.txt", dict(ALICE_H, If=f"(<{tok2}>)"), b"n")
            self.assertEqual(r.status, 204, r)
            self.assertEqual(disk("d12-new.txt"), b"n")
            self.assertEqual(lock_tokens(PUB + "/d12.txt", gw=gw), [tok])
            for p, t in (("/d12.txt", tok), ("/d12-new.txt", tok2)):
                r = gw.request("UNLOCK", PUB + p, dict(ALICE_H, **{"Lock-Token": f"<{t}>"}))
                self.assertEqual(r.status, 204, r)
            # an UNLOCK is kept too: after one more restart bob may write
            gw.restart()
            r = gw.request("PUT", PUB + "/d12.txt", BOB_H, b"bob")
            self.assertEqual(r.status, 204, r)
        finally:
            gw.stop()
            for n in ("d12.txt", "d12-new.txt"):
                GW.request("DELETE", PUB + "/" + n, ALICE_H)


class D14CopyMoveSafety(Base):
    """COPY and MOVE with Overwrite: T delete nothing before the new content
    is in place (the worker's smb_rename() and smb_copy()): a Destination
    that is the source in another spelling is a case-only rename (MOVE) or
    refused (COPY); one inside the source or above it is refused, 403, with
    nothing changed; a folder replaced goes aside first."""

    UID, GID = int(FX["SAMBA_UID1"]), int(FX["SAMBA_GID"])

    def setUp(self):
        self.top = os.path.join(PUBLIC_DIR, "d10-" + self._testMethodName[5:])
        shutil.rmtree(self.top, ignore_errors=True)
        self.mk("")

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def mk(self, rel, data=None):
        path = os.path.join(self.top, rel)
        if data is None:
            os.makedirs(path, exist_ok=True)
        else:
            with open(path, "wb") as f:
                f.write(data)
        os.lchown(path, self.UID, self.GID)

    def snap(self, sub=""):
        """Every name under the test's folder (or @sub in it): its bytes
        (None: a folder; "-> target": a link)."""
        return disk_tree(os.path.join(self.top, sub), links=True)

    def req(self, method, src, dst, **h):
        base = PUB + "/" + os.path.basename(self.top) + "/"
        return GW.request(method, base + src, dict(ALICE_H, Destination=GW.url(base + dst), **h))

    def assertCode(self, r, status, code):
        self.assertEqual((r.status, json.loads(r.body)["error"]["code"]), (status, code), r)

    def test_move_case_only(self):
        self.mk("CaseFile.txt", b"case file\n")
        self.mk("Reports")
        self.mk("Reports/q3.txt", b"q3\n")
        self.mk("Reports/sub")
        self.mk("Reports/sub/deep.txt", b"deep\n")
        for ow in ("T", "F"):
            r = self.req("MOVE", "CaseFile.txt" if ow == "T" else "casefile.txt",
                         "casefile.txt" if ow == "T" else "CASEFILE.TXT", Overwrite=ow)
            self.assertEqual(r.status, 201, r)
        r = self.req("MOVE", "Reports", "reports", Overwrite="T")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.snap(), {"CASEFILE.TXT": b"case file\n", "reports": None,
                                       "reports/q3.txt": b"q3\n", "reports/sub": None,
                                       "reports/sub/deep.txt": b"deep\n"})

    def test_refused_overlaps(self):
        self.mk("CaseFile.txt", b"case file\n")
        self.mk("Reports")
        self.mk("Reports/q3.txt", b"q3\n")
        self.mk("Reports/sub")
        self.mk("par")
        self.mk("par/child")
        self.mk("par/child/f.txt", b"f\n")
        before = self.snap()
        for method, src, dst, code in (
                ("COPY", "CaseFile.txt", "casefile.txt", "same_path"),
                ("COPY", "Reports", "reports", "same_path"),
                ("COPY", "Reports", "reports/sub/in", "into_itself"),
                ("COPY", "par/child", "PAR", "into_itself"),
                ("COPY", "par/child/f.txt", "Par/Child", "into_itself"),
                ("MOVE", "Reports", "reports/sub", "into_itself"),
                ("MOVE", "Reports", "REPORTS/new", "into_itself"),
                ("MOVE", "par/child", "par", "into_itself"),
                ("MOVE", "par/child", "Par", "into_itself"),
                ("MOVE", "par/child/f.txt", "PAR/child", "into_itself")):
            with self.subTest(method=method, src=src, dst=dst):
                r = self.req(method, src, dst, Overwrite="T")
                self.assertCode(r, 403, code)
                self.assertEqual(self.snap(), before)

    def test_replace_folder(self):
        self.tree("src", {"new.txt": b"new\n"})
        self.tree("dst", {"old.txt": b"old\n", "old": None, "old/o.txt": b"o\n"})
        self.mk("file.txt", b"file\n")
        r = self.req("MOVE", "src", "dst", Overwrite="F")
        self.assertCode(r, 412, "exists")
        r = self.req("MOVE", "src", "dst", Overwrite="T")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.snap(), {"dst": None, "dst/new.txt": b"new\n",
                                       "file.txt": b"file\n"})
        # a file over a folder, and a folder over a file
        r = self.req("COPY", "file.txt", "dst", Overwrite="T")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.snap(), {"dst": b"file\n", "file.txt": b"file\n"})
        self.mk("f2")
        self.mk("f2/x.txt", b"x\n")
        r = self.req("MOVE", "f2", "file.txt", Overwrite="T")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.snap(), {"dst": b"file\n", "file.txt": None,
                                       "file.txt/x.txt": b"x\n"})

    def assertUndoneByLink(self, method):
        """@method of src over dst, whose old content holds a link to a
        folder (followed by the server): 409 contains_link, both as they
        were."""
        self.tree("src", {"new.txt": b"new\n"})
        self.tree("dst", {"old.txt": b"old\n"})
        self.tree("victim", {"keep.txt": b"keep\n"})
        os.symlink("../victim", os.path.join(self.top, "dst/in"))
        os.lchown(os.path.join(self.top, "dst/in"), self.UID, self.GID)
        before = self.snap()
        r = self.req(method, "src", "dst", Overwrite="T")
        self.assertCode(r, 409, "contains_link")
        self.assertEqual(self.snap(), before)

    def test_replace_undone(self):
        # The folder replaced holds a link to a folder (followed by the
        # server): it cannot be removed without emptying what the link points
        # to, so the MOVE is undone: both as they were, no temporary left.
        self.assertUndoneByLink("MOVE")

    def tree(self, top, files):
        self.mk(top)
        for rel, data in files.items():
            if data is None:
                self.mk(top + "/" + rel)
            else:
                self.mk(top + "/" + rel, data)

    def test_copy_over_folder(self):
        # The old Destination goes aside and is dropped once the copy is whole.
        self.tree("src", {"a.txt": b"a\n", "sub": None, "sub/b.txt": b"b\n", "empty": None})
        self.tree("dst", {"old.txt": b"old\n", "keep": None, "keep/k.txt": b"k\n"})
        r = self.req("COPY", "src", "dst", Overwrite="T")
        self.assertEqual(r.status, 204, r)
        want = {"a.txt": b"a\n", "sub": None, "sub/b.txt": b"b\n", "empty": None}
        snap = {"src": None, "dst": None}
        snap.update({"src/" + k: v for k, v in want.items()})
        snap.update({"dst/" + k: v for k, v in want.items()})
        self.assertEqual(self.snap(), snap)
        r = self.req("COPY", "src", "fresh", Overwrite="T")
        self.assertEqual(r.status, 201, r)
        # over a file, too
        self.mk("file.txt", b"file\n")
        r = self.req("COPY", "src", "file.txt", Overwrite="T")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.snap()["file.txt/sub/b.txt"], b"b\n")

    def test_copy_over_folder_fails(self):
        # A file of the source the share's user cannot read: the copy fails
        # midway, after the old Destination went aside, which is put back:
        # byte for byte as it was, no temporary left, the server's answer.
        self.tree("src", {"a.txt": b"a\n", "b.txt": b"b\n", "m-locked.txt": b"secret\n",
                          "z.txt": b"z\n", "sub": None, "sub/c.txt": b"c\n"})
        locked = os.path.join(self.top, "src", "m-locked.txt")
        os.chown(locked, 0, 0)
        os.chmod(locked, 0o600)
        self.tree("dst", {"old.txt": b"old\n", "keep": None, "keep/k.txt": b"k\n"})
        before = self.snap()
        r = self.req("COPY", "src", "dst", Overwrite="T")
        self.assertCode(r, 403, "access_denied")
        self.assertEqual(self.snap(), before)
        # Over a file likewise.
        self.mk("file.txt", b"file\n")
        before = self.snap()
        r = self.req("COPY", "src", "file.txt", Overwrite="T")
        self.assertCode(r, 403, "access_denied")
        self.assertEqual(self.snap(), before)

    def test_copy_over_folder_undone(self):
        # The old Destination holds a link to a folder (followed by the
        # server): the aside cannot be dropped without emptying what the link
        # points to, so the copy is undone: both as they were.
        self.assertUndoneByLink("COPY")

    def test_copy_cut_by_gateway_kill(self):
        # The gateway SIGKILLed while it copies over a folder: the old
        # Destination stays aside, whole; the next start logs where it is and
        # never removes it (it is no upload temporary).
        self.tree("src", {f"f{i:04}.txt": b"%d\n" % i for i in range(600)})
        self.tree("dst", {"old.txt": b"old\n", "keep": None, "keep/k.txt": b"k\n"})
        old = {k[4:]: v for k, v in self.snap().items() if k.startswith("dst/")}
        g = Gateway("copycut")
        try:
            base = PUB + "/" + os.path.basename(self.top) + "/"
            hdr = dict(ALICE_H, Destination=g.url(base + "dst"), Overwrite="T")

            def copy():
                try:
                    g.request("COPY", base + "src", hdr, timeout=60)
                except OSError:
                    pass  # the gateway dies under it
            t = threading.Thread(target=copy)
            t.start()
            aside = None
            deadline = time.monotonic() + 30
            while not aside and time.monotonic() < deadline and t.is_alive():
                aside = next((n for n in os.listdir(self.top)
                              if n.startswith(".~smbgate-new-")), None)
                time.sleep(0.002)
            self.assertTrue(aside, "the old Destination never went aside")
            g.proc.kill()
            g.proc.wait(10)
            t.join(30)
            # (only the aside: a worker may finish the file it was copying)
            self.assertEqual(self.snap(aside), old)
            dst = os.path.join(self.top, "dst")  # not made yet, or part of the copy
            self.assertLess(len(os.listdir(dst)) if os.path.exists(dst) else 0, 600)
            g.start("after the kill")
            log = g.log_text()
            self.assertIn(f"a COPY over public/{os.path.basename(self.top)}/dst was cut "
                          f"by the gateway's stop or death; the old Destination may be kept "
                          f"as public/{os.path.basename(self.top)}/{aside}", log)
            r = g.request("PROPFIND", base, dict(ALICE_H, Depth="1"))
            self.assertEqual(r.status, 207, r)
            self.assertNotIn(b"smbgate-new", r.body)
            self.assertEqual(self.snap(aside), old)  # kept, not taken for an orphan
        finally:
            if g.proc.poll() is None:
                g.stop()
            else:  # killed above, and a failure before its restart
                shutil.rmtree(g.dir, ignore_errors=True)

    def test_lock_survives(self):
        # RFC 4918 7.5: the Destination's lock stays with it; a MOVE takes the
        # source's. Done by the lock's owner, with its token.
        rel = os.path.basename(self.top)
        doc = PUB + "/" + rel + "/doc.txt"
        self.put(doc, b"v0", expect=201)
        r = GW.request("LOCK", doc, ALICE_H, LOCKINFO % (b"exclusive", b"owner"))
        self.assertEqual(r.status, 200, r)
        tok = r.headers["Lock-Token"][1:-1]
        self.put(PUB + "/" + rel + "/tmp.txt", b"v1", expect=201)
        r = self.req("MOVE", "tmp.txt", "doc.txt", Overwrite="T")
        self.assertEqual(r.status, 423, r)
        # the token tagged with the Destination (an untagged list is about
        # the source, RFC 4918 10.4.3), as davfs2 sends it
        tagged = f"<{GW.url(doc)}> (<{tok}>)"
        r = self.req("MOVE", "tmp.txt", "doc.txt", Overwrite="T", If=tagged)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(disk(rel + "/doc.txt"), b"v1")
        self.put(doc, b"bob", headers=BOB_H, expect=423)
        self.put(doc, b"no token", expect=423)
        self.put(doc, b"v2", headers=dict(ALICE_H, If=f"(<{tok}>)"), expect=204)
        # a COPY over it likewise
        self.put(PUB + "/" + rel + "/c.txt", b"v3", expect=201)
        r = self.req("COPY", "c.txt", "doc.txt", Overwrite="T", If=tagged)
        self.assertEqual(r.status, 204, r)
        self.put(doc, b"bob", headers=BOB_H, expect=423)
        self.assertEqual(disk(rel + "/doc.txt"), b"v3")
        r = GW.request("UNLOCK", doc, dict(ALICE_H, **{"Lock-Token": f"<{tok}>"}))
        self.assertEqual(r.status, 204, r)
        self.put(doc, b"free", expect=204)

    def test_too_deep(self):
        # 70 levels: past the 64 that COPY and the recursive delete go down
        rel = ""
        for i in range(70):
            rel = os.path.join(rel, f"l{i}")
            self.mk(rel)
        self.mk(os.path.join(rel, "leaf.txt"), b"leaf\n")
        before = self.snap()
        r = self.req("COPY", "l0", "copy")
        self.assertCode(r, 413, "too_deep")
        base = PUB + "/" + os.path.basename(self.top)
        r = GW.request("DELETE", base + "/l0", ALICE_H)
        self.assertCode(r, 413, "too_deep")
        self.assertEqual(self.snap(), before)


# ---- chunked request bodies (macOS Finder) ---------------------------------

def chunked_head(p, headers, extra=None):
    """The head of a chunked PUT of @p, with @headers and @extra."""
    h = dict(headers, **(extra or {}))
    lines = [f"PUT {q(p)} HTTP/1.1", "Host: x", "Transfer-Encoding: chunked"]
    lines += [f"{k}: {v}" for k, v in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunks(data, size=1000):
    """@data as chunks of @size bytes, without the zero chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                    for i in range(0, len(data), size))


def chunked_put(port, p, data, headers=ALICE_H, extra=None):
    """(status, headers, body) of a whole chunked PUT of @data."""
    return exchange(port, chunked_head(p, headers, dict(extra or {}, Connection="close")) +
                    chunks(data) + b"0\r\n\r\n")


class D15Chunked(Base):
    """PUT with Transfer-Encoding: chunked (Finder's uploads) streams like any
    upload; the old file is replaced only once the zero chunk came."""

    def assertClean(self, folder=PUBLIC_DIR):
        left = wait_until(lambda: not temporaries(folder), 10)
        self.assertTrue(left, f"temporary left: {temporaries(folder)}")

    def test_new_and_over(self):
        data = bytes(range(256)) * 40 + b"end"
        st, _, body = chunked_put(GW.port, PUB + "/d15-new.bin", data)
        self.assertEqual(st, 201, body)
        self.assertEqual(disk("d15-new.bin"), data)
        st, _, body = chunked_put(GW.port, PUB + "/d15-new.bin", b"second")
        self.assertEqual(st, 204, body)
        self.assertEqual(disk("d15-new.bin"), b"second")
        st, _, body = chunked_put(GW.port, PUB + "/d15-new.bin", b"")  # the zero chunk only
        self.assertEqual(st, 204, body)
        self.assertEqual(disk("d15-new.bin"), b"")
        # the REST API's PUT too
        tok = GW.login(ALICE, ALICE_PW)
        st, _, body = chunked_put(GW.port, "/api/v1/fs/fixture/public/d15-rest.bin", data,
                                  headers={"Authorization": f"Bearer {tok}"})
        self.assertEqual(st, 201, body)
        self.assertEqual(disk("d15-rest.bin"), data)
        self.assertClean()

    def test_cut_before_zero_chunk(self):
        self.put(PUB + "/d15-cut.txt", b"old content\n", expect=201)
        s = socket.create_connection(("127.0.0.1", GW.port), timeout=TIMEOUT)
        try:
            s.sendall(chunked_head(PUB + "/d15-cut.txt", ALICE_H) + chunks(b"N" * 200000))
            seen = wait_until(lambda: temporaries(PUBLIC_DIR), 10)
            self.assertTrue(seen, "no temporary appeared during the upload")
            # everything but the zero chunk has come: still the old file
            self.assertEqual(disk("d15-cut.txt"), b"old content\n")
        finally:
            s.close()
        self.assertClean()
        self.assertEqual(disk("d15-cut.txt"), b"old content\n")
        r = GW.request("GET", PUB + "/d15-cut.txt", ALICE_H)
        self.assertEqual((r.status, r.body), (200, b"old content\n"))

    def test_limit(self):
        gw = Gateway("chunklimit", "max_upload_size = 1K")
        try:
            self.assertEqual(gw.request("PUT", PUB + "/d15-lim.txt", ALICE_H, b"old").status,
                             201)
            # the body passes the limit as it comes: 413, the old file kept
            st, _, body = chunked_put(gw.port, PUB + "/d15-lim.txt", b"z" * 5000)
            self.assertEqual(st, 413, body)
            self.assertEqual(json.loads(body)["error"]["code"], "too_large")
            self.assertClean()
            self.assertEqual(disk("d15-lim.txt"), b"old")
            # Finder's announced size over the limit: 413 before the body
            st, _, body = exchange(gw.port, chunked_head(
                PUB + "/d15-lim.txt", ALICE_H,
                {"X-Expected-Entity-Length": "1025", "Connection": "close"}))
            self.assertEqual(st, 413, body)
            self.assertEqual(json.loads(body)["error"]["code"], "too_large")
            self.assertEqual(disk("d15-lim.txt"), b"old")
            # exactly the limit is taken
            st, _, body = chunked_put(gw.port, PUB + "/d15-lim.txt", b"k" * 1024,
                                      extra={"X-Expected-Entity-Length": "1024"})
            self.assertEqual(st, 204, body)
            self.assertEqual(disk("d15-lim.txt"), b"k" * 1024)
            self.assertClean()
        finally:
            gw.stop()

    def test_finder_sequence(self):
        """Finder's requests for a new file (WebDAVFS): LOCK of the new name,
        PUT chunked with X-Expected-Entity-Length and the token in If,
        PROPPATCH, the AppleDouble ._ file, UNLOCK."""
        name, data = "d15 Finder.txt", b"written by Finder\n" * 300
        p, ad = PUB + "/" + name, PUB + "/._" + name
        u = q(p)  # http.client sends the target as it is
        finder = dict(ALICE_H, **{"User-Agent": "WebDAVFS/3.0.0 (03008000) Darwin/21.6.0"})
        r = GW.request("LOCK", u, dict(finder, Depth="0", Timeout="Second-600"),
                       LOCKINFO % (b"exclusive", b"http://www.apple.com/webdav_fs/"))
        self.assertEqual(r.status, 201, r)
        tok = r.headers["Lock-Token"][1:-1]
        # without the token the locked file is not written
        st, _, _ = chunked_put(GW.port, p, b"intruder", headers=BOB_H)
        self.assertEqual(st, 423)
        st, _, body = chunked_put(GW.port, p, data, headers=finder,
                                  extra={"If": f"(<{tok}>)",
                                         "X-Expected-Entity-Length": str(len(data))})
        self.assertEqual(st, 204, body)  # the lock-null file is empty, yet exists
        self.assertEqual(disk(name), data)
        pp = (b'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:">'
              b'<D:set><D:prop><A:appledoubleheader xmlns:A="http://www.apple.com/webdav_fs/'
              b'props/">AAUWBwACAAA=</A:appledoubleheader></D:prop></D:set>'
              b'</D:propertyupdate>')
        r = GW.request("PROPPATCH", u, dict(finder, If=f"(<{tok}>)"), pp)
        self.assertEqual(r.status, 207, r)
        st, _, body = chunked_put(GW.port, ad, b"\x00\x05\x16\x07" + b"\x00" * 78,
                                  headers=finder, extra={"X-Expected-Entity-Length": "82"})
        self.assertEqual(st, 201, body)
        self.assertEqual(disk("._" + name), b"\x00\x05\x16\x07" + b"\x00" * 78)
        r = GW.request("UNLOCK", u, dict(finder, **{"Lock-Token": f"<{tok}>"}))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(disk(name), data)
        self.assertClean()


class D04ParallelBasic(Base):
    """Parallel first Basic requests of one user share one session."""

    def test_one_session(self):
        gw = Gateway("parallel")
        try:
            results, hung = in_parallel(
                16, lambda i: propfind("1", PUB + "/", headers=BOB_H, gw=gw).status, 120)
            self.assertEqual((results, hung), ([207] * 16, 0))
            sessions = gw.sessions()
            self.assertEqual([s["user"] for s in sessions], [BOB], sessions)
            # wrong passwords in parallel: all refused, the session unchanged
            results, hung = in_parallel(
                4, lambda i: propfind("0", PUB + "/", headers=basic(BOB, "nope"), gw=gw).status,
                120)
            self.assertEqual((results, hung), ([401] * 4, 0))
            self.assertEqual(len(gw.sessions()), 1)
        finally:
            gw.stop()


# ---- real clients ------------------------------------------------------------

LITMUS_KNOWN = {
    # Dead properties: a share cannot store them (PROPPATCH answers 403 per
    # property); the locks suite's owner_modify does a PROPPATCH of one.
    "props": {"propset", "propmanyns", "propget"},
    "locks": {"owner_modify"},
}


class D05Litmus(Base):
    def test_litmus(self):
        self.assertEqual(GW.request("MKCOL", PUB + "/litmus", ALICE_H).status, 201)
        env = dict(os.environ, TESTS="basic copymove props locks http")
        out = subprocess.run(["litmus", "-k", GW.url(PUB + "/litmus/"), ALICE, ALICE_PW],
                             capture_output=True, text=True, timeout=300, env=env,
                             cwd=tempfile.gettempdir())
        text = out.stdout + out.stderr
        suites = re.findall(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, "
                            r"(\d+) failed", text)
        current = None
        fails = {}
        for line in text.splitlines():
            m = re.match(r"-> running `(\w+)'", line)
            if m:
                current = m.group(1)
            m = re.search(r"\d+\. (\w+)\.+ FAIL", line)
            if m:
                fails.setdefault(current, set()).add(m.group(1))
        for name, run, passed, nfail in suites:
            print(f"litmus {name}: {run} run, {passed} passed, {nfail} failed"
                  f"{' (' + ', '.join(sorted(fails.get(name, ()))) + ')' if int(nfail) else ''}",
                  file=sys.stderr)
        self.assertEqual([s[0] for s in suites], ["basic", "copymove", "props", "locks", "http"],
                         text[-3000:])
        for name in ("basic", "copymove", "props", "locks", "http"):
            self.assertEqual(fails.get(name, set()), LITMUS_KNOWN.get(name, set()),
                             f"litmus {name}: {text[-4000:]}")
        self.assertEqual(GW.request("DELETE", PUB + "/litmus", ALICE_H).status, 204)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Davfs2:
    """davfs2's files for alice on @gw: a private folder (the secrets, the
    configuration with @extra lines), a cache and a mount point; remove()
    takes them away."""

    def __init__(self, gw, extra=""):
        self.priv = tempfile.mkdtemp(prefix="smbgate-davfs2.")  # 0700: the secrets
        os.chmod(self.priv, 0o711)  # mount.davfs reads its configuration here as root
        self.cache = tempfile.mkdtemp(prefix="smbgate-davfs2-cache.")
        self.mnt = tempfile.mkdtemp(prefix="smbgate-davfs2-mnt.")
        shutil.chown(self.cache, "root", "davfs2")
        os.chmod(self.cache, 0o775)
        self.url = gw.url(DAV + "/")
        secrets = os.path.join(self.priv, "secrets")
        fd = os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, f"{self.url} {ALICE} {ALICE_PW}\n".encode())
        os.close(fd)
        self.conf = os.path.join(self.priv, "davfs2.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(f"secrets {secrets}\nask_auth 0\ncache_dir {self.cache}\n{extra}")

    def remove(self):
        shutil.rmtree(self.priv, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)
        try:
            os.rmdir(self.mnt)
        except OSError:
            pass


class D06Davfs2(Base):
    """davfs2 mounts the gateway (kernel FUSE) in a mount namespace of its own."""

    def test_davfs2(self):
        dv = Davfs2(GW)
        priv, mnt, url, conf = dv.priv, dv.mnt, dv.url, dv.conf
        try:
            big = os.path.join(priv, "big.bin")
            data = os.urandom(1024 * 1024) * 100  # 100 MiB in
            with open(big, "wb") as f:
                f.write(data)
            # 100 MiB out: put on the file server directly, never seen by davfs2
            out_data = os.urandom(1024 * 1024) * 100
            with open(os.path.join(PUBLIC_DIR, "d06-out.bin"), "wb") as f:
                f.write(out_data)
            names = ["\u00dcn\u00efc\u00f8d\u00e9 \u30d5\u30a1\u30a4\u30eb.txt", "100% done.txt",
                     "#hash#.txt", "Tom & Jerry.txt", "it's.txt", "a+b=c.txt"]
            m = mnt
            script = f"""
set -u
mount.davfs -o conf={conf} {url} {m} || {{ echo "MOUNT FAILED"; exit 1; }}
trap 'umount {m}' EXIT
cp {big} {m}/public/d06-big.bin; echo "cp_in=$?"
cp {m}/public/d06-out.bin {priv}/out.bin; echo "cp_out=$?"
sha256sum < {priv}/out.bin | cut -d' ' -f1 | sed 's/^/sha_out=/'
rm {m}/public/d06-out.bin; echo "rm_out=$?"
for n in "$@"; do ls -l -- "{m}/public/$n" >/dev/null && echo "ls_ok=$n"; done
cat "{m}/public/Dossier été/note.txt" | sed 's/^/note=/'
mkdir {m}/public/d06-dir; echo "mkdir=$?"
mv {m}/public/d06-big.bin {m}/public/d06-dir/moved.bin; echo "mv=$?"
echo hello > {m}/public/d06-dir/small.txt; echo "write=$?"
rm {m}/public/d06-dir/small.txt; echo "rm=$?"
(echo x > {m}/readonly/d06.txt) 2>/dev/null; echo "ro_write=$?"
"""
            out = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c",
                                  script, "davfs2-test"] + names,
                                 capture_output=True, text=True, timeout=600)
            print(out.stdout + out.stderr, file=sys.stderr)
            res = key_values(out.stdout)
            self.assertEqual(res.get("cp_in"), ["0"], out.stdout + out.stderr)
            self.assertEqual(res.get("cp_out"), ["0"])
            self.assertEqual(res.get("sha_out"), [sha256(out_data)])
            self.assertEqual(res.get("rm_out"), ["0"])
            self.assertEqual(sorted(res.get("ls_ok", [])), sorted(names))
            self.assertEqual(res.get("note"), ["note in dossier"])
            self.assertEqual(res.get("mkdir"), ["0"])
            self.assertEqual(res.get("mv"), ["0"])
            self.assertEqual(res.get("write"), ["0"])
            self.assertEqual(res.get("rm"), ["0"])
            self.assertNotEqual(res.get("ro_write"), ["0"])
            # what the file server holds
            self.assertEqual(sha256(disk("d06-dir/moved.bin")), sha256(data))
            self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d06-big.bin")))
            self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d06-out.bin")))
            self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d06-dir/small.txt")))
            self.assertFalse(os.path.exists(os.path.join(READONLY_DIR, "d06.txt")))
            self.assertEqual(GW.request("DELETE", PUB + "/d06-dir", ALICE_H).status, 204)
        finally:
            dv.remove()


class D13Davfs2Restart(Base):
    """davfs2 holds a lock (use_locks, its default) with an upload pending
    while the gateway restarts: the upload still lands, with the lock's
    token, and the share has the file's bytes."""

    def test_davfs2_restart(self):
        gw = Gateway("davfs2-restart")
        # the upload waits (60 s) until the unmount, after the restart
        dv = Davfs2(gw, "use_locks 1\ndelay_upload 60\n")
        priv, mnt, url, conf = dv.priv, dv.mnt, dv.url, dv.conf
        proc = None
        try:
            data = os.urandom(300 * 1024)
            src = os.path.join(priv, "src.bin")
            with open(src, "wb") as f:
                f.write(data)
            ready, go = os.path.join(priv, "ready"), os.path.join(priv, "go")
            m = mnt
            script = f"""
set -u
mount.davfs -o conf={conf} {url} {m} || {{ echo "MOUNT FAILED"; exit 1; }}
cp {src} {m}/public/d13.bin; echo "cp=$?"
touch {ready}
for i in $(seq 600); do [ -e {go} ] && break; sleep 0.1; done
umount {m}; echo "umount=$?"
"""
            proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "bash", "-c",
                                     script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
            deadline = time.monotonic() + 120
            while not os.path.exists(ready) and time.monotonic() < deadline:
                self.assertIsNone(proc.poll(), proc.stdout.read() if proc.poll() else "")
                time.sleep(0.1)
            self.assertTrue(os.path.exists(ready), "davfs2 did not write the file in time")
            # davfs2 holds its lock; the content waits in its cache
            self.assertNotEqual(disk("d13.bin") if os.path.exists(
                os.path.join(PUBLIC_DIR, "d13.bin")) else b"", data)
            tokens = lock_tokens(PUB + "/d13.bin", gw=gw)
            self.assertEqual(len(tokens), 1, tokens)
            mark = len(gw.log_text())
            gw.restart()
            self.assertEqual(lock_tokens(PUB + "/d13.bin", gw=gw), tokens)
            # bob cannot write meanwhile
            r = gw.request("PUT", PUB + "/d13.bin", BOB_H, b"bob")
            self.assertEqual(r.status, 423, r)
            with open(go, "w", encoding="ascii"):
                pass
            out, _ = proc.communicate(timeout=300)
            print(out, file=sys.stderr)
            self.assertIn("cp=0", out)
            self.assertIn("umount=0", out)
            self.assertEqual(sha256(disk("d13.bin")), sha256(data))
            # davfs2 unlocked it on the way out
            self.assertEqual(lock_tokens(PUB + "/d13.bin", gw=gw), [])
            # its upload came after the restart, with the token, and went through
            puts = [st for st, user in re.findall(
                r"event=request method=PUT path=\S*d13\.bin status=(\d+) .*? user=(\S+)",
                gw.log_text()[mark:]) if user == ALICE]
            self.assertEqual([p for p in puts if p not in ("201", "204")], [], puts)
            self.assertIn(puts[-1:], (["201"], ["204"]))
        finally:
            if proc and proc.poll() is None:
                with open(os.path.join(priv, "go"), "w", encoding="ascii"):
                    pass
                try:
                    proc.communicate(timeout=120)
                except subprocess.TimeoutExpired:
                    proc.kill()
            gw.stop()
            GW.request("DELETE", PUB + "/d13.bin", ALICE_H)
            dv.remove()


class D15Davfs2Save(Base):
    """An editor's save through davfs2 (its default use_locks 1): write a
    temporary, rename it over the file, twice within 10 s. davfs2 locks the
    file, then MOVEs its temporary over it and PUTs with its token: the lock
    must survive the MOVE (RFC 4918 7.5), and the last content be on the
    share, byte for byte."""

    def test_editor_save(self):
        dv = Davfs2(GW)
        priv, mnt, url, conf = dv.priv, dv.mnt, dv.url, dv.conf
        top = os.path.join(PUBLIC_DIR, "d11-save")
        shutil.rmtree(top, ignore_errors=True)
        try:
            self.assertEqual(GW.request("MKCOL", PUB + "/d11-save", ALICE_H).status, 201)
            self.put(PUB + "/d11-save/doc.txt", b"version 0\n", expect=201)
            saves = [os.urandom(48 * 1024).hex().encode() + b"\n" for _ in range(2)]
            for i, data in enumerate(saves):
                with open(os.path.join(priv, f"save{i}"), "wb") as f:
                    f.write(data)
            d = f"{mnt}/public/d11-save"
            script = f"""
set -u
mount.davfs -o conf={conf} {url} {mnt} || {{ echo "MOUNT FAILED"; exit 1; }}
trap 'umount {mnt}' EXIT
cat {d}/doc.txt > /dev/null; echo "open=$?"
for i in 0 1; do
  cp {priv}/save$i {d}/.doc.txt.swp && mv -f {d}/.doc.txt.swp {d}/doc.txt; echo "save$i=$?"
  sleep 2
done
cmp {priv}/save1 {d}/doc.txt; echo "seen=$?"
"""
            t0 = time.monotonic()
            out = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c",
                                  script], capture_output=True, text=True, timeout=300)
            print(out.stdout + out.stderr, file=sys.stderr)
            self.assertLess(time.monotonic() - t0, 120)
            for k in ("open", "save0", "save1", "seen"):
                self.assertIn(f"{k}=0", out.stdout.splitlines(), out.stdout + out.stderr)
            # after the unmount (davfs2 uploads what it holds): the last save
            got = disk("d11-save/doc.txt")
            self.assertEqual((len(got), sha256(got)), (len(saves[1]), sha256(saves[1])))
            self.assertEqual(sorted(os.listdir(top)), ["doc.txt"])
        finally:
            shutil.rmtree(top, ignore_errors=True)
            dv.remove()


class D07Rclone(Base):
    def test_rclone(self):
        local = tempfile.mkdtemp(prefix="smbgate-rclone.")
        try:
            tree = os.path.join(local, "tree")
            os.makedirs(os.path.join(tree, "sub dir", "deeper"))
            files = {"a.txt": b"one\n", "sub dir/\u00e9 #%.txt": "caf\u00e9\n".encode(),
                     "sub dir/deeper/big.bin": os.urandom(3 * 1024 * 1024 + 5),
                     "Tom & Jerry.txt": b"amp\n"}
            for n, d in files.items():
                with open(os.path.join(tree, n), "wb") as f:
                    f.write(d)
            obscured = subprocess.run(["rclone", "obscure", "-"], input=ALICE_PW,
                                      capture_output=True, text=True, timeout=30).stdout.strip()
            env = dict(os.environ, RCLONE_CONFIG_GW_TYPE="webdav",
                       RCLONE_CONFIG_GW_URL=GW.url(PUB), RCLONE_CONFIG_GW_VENDOR="other",
                       RCLONE_CONFIG_GW_USER=ALICE, RCLONE_CONFIG_GW_PASS=obscured,
                       RCLONE_CONFIG=os.path.join(local, "none.conf"))

            def rc(*args):
                return subprocess.run(["rclone", *args], capture_output=True, text=True,
                                      timeout=300, env=env)
            r = rc("copy", tree, "gw:d07")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = rc("lsf", "-R", "gw:d07")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sorted(r.stdout.splitlines()),
                             sorted(list(files) + ["sub dir/", "sub dir/deeper/"]))
            r = rc("check", tree, "gw:d07")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("0 differences found", r.stderr)
            for n, d in files.items():
                self.assertEqual(disk("d07/" + n), d)
            # a difference is seen
            with open(os.path.join(PUBLIC_DIR, "d07/a.txt"), "wb") as f:
                f.write(b"changed\n")
            r = rc("check", tree, "gw:d07")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("1 differences found", r.stderr)
            r = rc("purge", "gw:d07")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(os.path.exists(os.path.join(PUBLIC_DIR, "d07")))
        finally:
            shutil.rmtree(local, ignore_errors=True)


class D08Gio(Base):
    """GNOME's gio (gvfs) in a D-Bus session of its own."""

    def test_gio(self):
        local = tempfile.mkdtemp(prefix="smbgate-gio.")
        try:
            src = os.path.join(local, "up.txt")
            with open(src, "wb") as f:
                f.write(b"from gio\n")
            base = f"dav://{ALICE}@127.0.0.1:{GW.port}{PUB}/"
            script = f"""
set -u
printf '%s\\n' "$SMBGATE_PW" | gio mount "{base}"; echo "mount=$?"
gio list "{base}" | sed 's/^/list=/'
gio copy "{src}" "{base}d08-up.txt"; echo "copy_in=$?"
gio copy "{base}hello.txt" "{local}/hello.txt"; echo "copy_out=$?"
gio mount -u "{base}"; echo "unmount=$?"
"""
            env = dict(os.environ, SMBGATE_PW=ALICE_PW, HOME=local)
            out = subprocess.run(["dbus-run-session", "--", "bash", "-c", script],
                                 capture_output=True, text=True, timeout=180, env=env)
            print(out.stdout + out.stderr, file=sys.stderr)
            res = key_values(out.stdout)
            self.assertEqual(res.get("mount"), ["0"], out.stdout + out.stderr)
            self.assertIn("hello.txt", res.get("list", []))
            self.assertIn("Tom & Jerry.txt", res.get("list", []))
            self.assertEqual(res.get("copy_in"), ["0"])
            self.assertEqual(res.get("copy_out"), ["0"])
            self.assertEqual(disk("d08-up.txt"), b"from gio\n")
            with open(os.path.join(local, "hello.txt"), "rb") as f:
                self.assertEqual(f.read(), b"Hello, world!\n")
            GW.request("DELETE", PUB + "/d08-up.txt", ALICE_H)
        finally:
            shutil.rmtree(local, ignore_errors=True)


class D09PlainHttpWarning(Base):
    WARN = "WARNING: plain HTTP on"

    def test_warning(self):
        self.assertNotIn(self.WARN, GW.log_text())  # 127.0.0.1
        gw = Gateway("wildcard", host="0.0.0.0")  # connected to on 127.0.0.1 only
        try:
            # printed just after the daemon starts listening: it can come a
            # moment after the first answer
            want = self.WARN + " 0.0.0.0, not a loopback address"
            deadline = time.monotonic() + 10
            while want not in gw.log_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn(want, gw.log_text())
            self.assertEqual(propfind("0", PUB + "/", gw=gw).status, 207)
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
