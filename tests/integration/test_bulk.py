#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Integration test of the bulk features of the HTTP API: folder and selection
downloads as zip, search, resumable uploads (tus 1.0). The real smbgate, its
real sandboxes and the real Samba fixture, as test_api.py (whose gateway
helpers this file uses).

    test_bulk.py SMBGATE WORKER [SMBGATECTL] [TEST...]
        (run under tests/fixtures/with-samba.sh)

Needs unzip and bsdtar (packaging/debian-packages.txt): missing is a failure.
SMBGATE_TEST_BIG_ZIP=1 adds the archive over 4 GiB (a sparse file of
4.5 GiB on the Samba side; on demand: it reads 4.5 GiB through the sandbox).
"""
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as A  # noqa: E402  (takes SMBGATE WORKER [SMBGATECTL] from argv)

from test_api import ALICE, ALICE_PW, BOB, BOB_PW, PUBLIC, FS, bearer, q  # noqa: E402

for tool in ("unzip", "bsdtar"):
    if not shutil.which(tool):
        sys.exit(f"FAIL: {tool} is missing (packaging/debian-packages.txt)")

MAIN = None

# The awkward names of the fixture (test_api.SEEDED_PUBLIC) plus folders.
AWKWARD = {k: v for k, v in A.SEEDED_PUBLIC.items() if k != "big.bin"}
AWKWARD["big.bin"] = A.pattern(3 * 1024 * 1024 + 7)
AWKWARD["Dossier \u00e9t\u00e9/empty.txt"] = b""
MTIME = 1620284890  # 2021-05-06 07:08:10 UTC: even, as DOS times are


def setUpModule():
    global MAIN
    A.SLOW = A.FreePortServer()
    MAIN = A.Gateway("bulk", "session_idle_timeout = 600")
    MAIN.start()


def tearDownModule():
    try:
        MAIN.stop()
    finally:
        A.SLOW.close()


def tree_of(top):
    """{relative path: bytes or None (folder)} of a folder on disk."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        for d in dirnames:
            out[os.path.normpath(os.path.join(rel, d))] = None
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                out[os.path.normpath(os.path.join(rel, f))] = fh.read()
    return out


class Base(A.Base):
    def setUp(self):
        super().setUp()
        self.gw = MAIN

    def fill(self, top, files, mtime=MTIME):
        """Makes @files ({rel: bytes}) under @top on disk, owned like the share."""
        for rel, content in sorted(files.items()):
            parts = rel.split("/")
            for i in range(1, len(parts)):
                d = os.path.join(top, *parts[:i])
                if not os.path.isdir(d):
                    self.mk(d)
            self.mk(os.path.join(top, *parts), content)
        for dirpath, dirnames, filenames in os.walk(top, topdown=False):
            for n in filenames + dirnames:
                os.utime(os.path.join(dirpath, n), (mtime, mtime), follow_symlinks=False)

    def stream(self, method, path, headers=None, body=None):
        """The response with its whole body, and whether it was chunked."""
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=120)
        try:
            hdrs = dict(headers or {})
            if body is not None:
                hdrs.setdefault("Content-Length", str(len(body)))
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return A.Resp(r.status, r.reason, r.headers, data), r.chunked
        finally:
            conn.close()


# ---- zip -----------------------------------------------------------------------------

class T20Zip(Base):
    def check_archive(self, data, want, prefix=""):
        """@data is a zip whose entries are exactly @want ({rel: bytes|None})
        under @prefix, by unzip -t, Python's zipfile and bsdtar."""
        d = tempfile.mkdtemp(prefix="smbgate-zip.")
        self.scratch_dirs.append(d)
        path = os.path.join(d, "a.zip")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run(["unzip", "-t", path], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"No errors detected", p.stdout)
        expect = {prefix + k: v for k, v in want.items()}
        if prefix:
            expect[prefix[:-1]] = None  # the folder itself
        # zipfile: names (folders end with '/'), bytes, the UTF-8 flag, CRCs
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.assertIsNone(z.testzip())
            got = {}
            for info in z.infolist():
                name = info.filename
                if any(ord(ch) > 127 for ch in name):
                    self.assertTrue(info.flag_bits & 0x800, name)
                if name.endswith("/"):
                    got[name[:-1]] = None
                else:
                    got[name] = z.read(info)
                    self.assertEqual(info.date_time, time.gmtime(MTIME)[:6], name)
            self.assertEqual(got, expect)
        # bsdtar: extracted, the same bytes, names and mtimes
        out = os.path.join(d, "bsdtar")
        os.mkdir(out)
        p = subprocess.run(["bsdtar", "-xf", path, "-C", out], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(tree_of(out), expect)
        for rel, v in expect.items():
            if v is not None:
                self.assertEqual(int(os.stat(os.path.join(out, rel)).st_mtime), MTIME, rel)
        # unzip itself extracts the same
        out2 = os.path.join(d, "unzip")
        p = subprocess.run(["unzip", "-q", path, "-d", out2], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(tree_of(out2), expect)
        return path

    def awkward(self):
        name, top = self.scratch()
        self.fill(top, AWKWARD)
        self.mk(os.path.join(top, "empty folder"))
        os.utime(os.path.join(top, "empty folder"), (MTIME, MTIME))
        want = dict(AWKWARD)
        for rel in list(AWKWARD):
            parts = rel.split("/")
            for i in range(1, len(parts)):
                want["/".join(parts[:i])] = None
        want["empty folder"] = None
        return name, top, want

    def test_folder_awkward_names(self):
        tok = self.login()
        name, top, want = self.awkward()
        # a folder with an awkward name of its own
        inner = "Dossier \u00e9t\u00e9"
        r, chunked = self.stream("GET", f"{FS}/public/{q(name)}/?download=zip", bearer(tok))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(chunked)
        self.assertEqual(r.header("Content-Type"), "application/zip")
        self.assertEqual(r.header("Content-Disposition"),
                         f"attachment; filename=\"{name}.zip\"; filename*=UTF-8''"
                         + urllib.parse.quote(name + ".zip", safe=""))
        self.assertEqual(r.header("X-Archive-Entries"), str(len(want) + 1))
        self.check_archive(r.body, want, prefix=name + "/")
        # the same without the trailing slash; and a folder named in UTF-8
        r2, _ = self.stream("GET", f"{FS}/public/{q(name)}?download=zip", bearer(tok))
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(len(r2.body), len(r.body))
        r3, _ = self.stream("GET", f"{FS}/public/{q(name + '/' + inner)}?download=zip",
                            bearer(tok))
        self.assertEqual(r3.status, 200, r3)
        self.assertEqual(r3.header("Content-Disposition"),
                         "attachment; filename=\"Dossier _t_.zip\"; filename*=UTF-8''"
                         + urllib.parse.quote(inner + ".zip", safe=""))
        sub = {k[len(inner) + 1:]: v for k, v in want.items() if k.startswith(inner + "/")}
        self.check_archive(r3.body, sub, prefix=inner + "/")

    def test_deflate_and_zip64(self):
        tok = self.login()
        name, top, want = self.awkward()
        stored, _ = self.stream("GET", f"{FS}/public/{q(name)}?download=zip", bearer(tok))
        r, _ = self.stream("GET", f"{FS}/public/{q(name)}?download=zip&compress=1",
                           bearer(tok))
        self.assertEqual(r.status, 200, r)
        self.check_archive(r.body, want, prefix=name + "/")
        with zipfile.ZipFile(io.BytesIO(r.body)) as z:
            big = z.getinfo(name + "/big.bin")
            self.assertEqual(big.compress_type, zipfile.ZIP_DEFLATED)
            self.assertLess(big.compress_size, big.file_size // 10)
        with zipfile.ZipFile(io.BytesIO(stored.body)) as z:
            for info in z.infolist():
                self.assertEqual(info.compress_type, zipfile.ZIP_STORED, info.filename)
                # no zip64 when not needed
                self.assertFalse(has_zip64_extra(local_extra(stored.body, info)), info.filename)
        # zip64 records forced: every file entry carries the zip64 extra field
        r, _ = self.stream("GET", f"{FS}/public/{q(name)}?download=zip&zip64=1", bearer(tok))
        self.assertEqual(r.status, 200, r)
        self.check_archive(r.body, want, prefix=name + "/")
        with zipfile.ZipFile(io.BytesIO(r.body)) as z:
            for info in z.infolist():
                if not info.filename.endswith("/"):
                    self.assertTrue(has_zip64_extra(local_extra(r.body, info)), info.filename)
                    self.assertGreaterEqual(info.extract_version, 45, info.filename)

    def test_share_root_and_selection(self):
        tok = self.login()
        name, top, want = self.awkward()
        sel = ["/" + name + "/hello.txt", "/" + name + "/nested", "/" + name + "/#hash#.txt"]
        body = json.dumps({"paths": sel}).encode()
        r, _ = self.stream("POST", f"/api/v1/zip/fixture/public",
                           {**bearer(tok), "Content-Type": "application/json"}, body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Disposition"),
                         f"attachment; filename=\"{name}.zip\"; filename*=UTF-8''"
                         + urllib.parse.quote(name + ".zip", safe=""))
        sub = {k: v for k, v in want.items()
               if k in ("hello.txt", "#hash#.txt") or k == "nested" or k.startswith("nested/")}
        self.check_archive(r.body, sub)
        # the share's root: named after the share, its content at the top
        r, _ = self.stream("GET", f"{FS}/public/?download=zip&compress=1", bearer(tok))
        self.assertEqual(r.status, 200, r)
        self.assertIn(f"filename=\"public.zip\"", r.header("Content-Disposition"))
        with zipfile.ZipFile(io.BytesIO(r.body)) as z:
            self.assertIsNone(z.testzip())
            self.assertEqual(z.read(name + "/Tom & Jerry.txt"), b"ampersand\n")
            self.assertEqual(z.read("hello.txt"), b"Hello, world!\n")

    def test_errors(self):
        tok = self.login()
        name, top, want = self.awkward()
        h = {**bearer(tok), "Content-Type": "application/json"}
        base = f"{FS}/public/{q(name)}"
        # limits, before anything is streamed
        r = self.gw.request("GET", base + "?download=zip&max_entries=3", bearer(tok))
        self.assertError(r, 413, "too_many_entries")
        # NAME/nested/level 1/level 2/deep file.txt: 4 folders above the file
        r = self.gw.request("GET", base + "?download=zip&max_depth=3", bearer(tok))
        self.assertError(r, 413, "too_deep")
        r = self.gw.request("GET", base + "?download=zip&max_depth=4", bearer(tok))
        self.assertEqual(r.status, 200, r)
        r = self.gw.request("GET", base + f"?download=zip&max_entries={len(want) + 1}",
                            bearer(tok))
        self.assertEqual(r.status, 200, r)
        r = self.gw.request("GET", base + f"?download=zip&max_entries={len(want)}",
                            bearer(tok))
        self.assertError(r, 413, "too_many_entries")
        for bad in ("max_entries=0", "max_depth=65", "max_entries=x", "max_depth=-1"):
            r = self.gw.request("GET", base + "?download=zip&" + bad, bearer(tok))
            self.assertError(r, 400, "bad_request")
        # a file, a missing folder, another user's share, no session
        r = self.gw.request("GET", base + "/hello.txt?download=zip", bearer(tok))
        self.assertError(r, 409, "not_a_directory")
        r = self.gw.request("GET", base + "/nope?download=zip", bearer(tok))
        self.assertError(r, 404, "not_found")
        r = self.gw.request("GET", base + "?download=zip")
        self.assertEqual(r.status, 401, r)
        r = self.gw.request("POST", base + "?download=zip", h, b"{}")
        self.assertError(r, 400)
        # selections
        url = f"/api/v1/zip/fixture/public"
        for body, status, code in (
                (b"", 400, "bad_request"), (b"[]", 400, "bad_request"),
                (b'{"paths": []}', 400, "bad_request"),
                (b'{"paths": ["/a"], "x": 1}', 400, "bad_request"),
                (b'{"paths": [1]}', 400, "bad_path"),
                (b'{"paths": ["/"]}', 400, "bad_path"),
                (b'{"paths": ["/../x"]}', 400, "bad_path"),
                (json.dumps({"paths": [f"/{name}/hello.txt", "/hello.txt"]}).encode(), 400,
                 "bad_request"),
                (json.dumps({"paths": [f"/{name}/hello.txt", f"/{name}/hello.txt"]}).encode(),
                 400, "bad_request"),
                (json.dumps({"paths": [f"/{name}/nope"]}).encode(), 404, "not_found"),
                (json.dumps({"paths": [f"/{name}/.~smbgate-new-x"]}).encode(), 400,
                 "bad_name")):
            r = self.gw.request("POST", url, h, body)
            self.assertError(r, status, code)
        r = self.gw.request("GET", url, bearer(tok))
        self.assertEqual(r.status, 405, r)
        r = self.gw.request("POST", f"/api/v1/zip/fixture", h, b'{"paths": ["/a"]}')
        self.assertError(r, 404, "not_found")
        r = self.gw.request("POST", f"/api/v1/zip/nope/public", h, b'{"paths": ["/a"]}')
        self.assertError(r, 404, "not_found")

    def test_unreadable_and_links(self):
        tok = self.login()
        name, top = self.scratch()
        self.fill(top, {"ok.txt": b"fine\n", "locked.txt": b"secret\n", "sub/x.txt": b"x\n",
                        "other/y.txt": b"y\n"})
        os.chown(os.path.join(top, "locked.txt"), 0, 0)
        os.chmod(os.path.join(top, "locked.txt"), 0o600)
        os.symlink("../other", os.path.join(top, "sub", "link"))  # a link the server follows
        r, _ = self.stream("GET", f"{FS}/public/{q(name)}?download=zip", bearer(tok))
        self.assertEqual(r.status, 200, r)
        with zipfile.ZipFile(io.BytesIO(r.body)) as z:
            self.assertIsNone(z.testzip())
            names = sorted(z.namelist())
            self.assertEqual(names, sorted([f"{name}/", f"{name}/ok.txt", f"{name}/sub/",
                                            f"{name}/sub/x.txt", f"{name}/other/",
                                            f"{name}/other/y.txt", "smbgate-errors.txt"]))
            errors = z.read("smbgate-errors.txt").decode()
        # what the walk found first, then what reading found
        self.assertEqual(errors,
                         f"{name}/sub/link: a link to a folder, not followed\r\n"
                         f"{name}/locked.txt: cannot be read, left out: access_denied\r\n")


def local_extra(data, info):
    """The extra field of @info's local header in the archive @data."""
    at = info.header_offset
    assert data[at:at + 4] == b"PK\x03\x04"
    nlen = int.from_bytes(data[at + 26:at + 28], "little")
    xlen = int.from_bytes(data[at + 28:at + 30], "little")
    return data[at + 30 + nlen:at + 30 + nlen + xlen]


def has_zip64_extra(extra):
    i = 0
    while i + 4 <= len(extra):
        tag = int.from_bytes(extra[i:i + 2], "little")
        size = int.from_bytes(extra[i + 2:i + 4], "little")
        if tag == 1:
            return True
        i += 4 + size
    return False


class T21ZipBig(Base):
    """On demand (SMBGATE_TEST_BIG_ZIP=1): an archive over 4 GiB is valid zip64."""

    def test_over_4gib(self):
        if os.environ.get("SMBGATE_TEST_BIG_ZIP") != "1":
            self.skipTest("on demand: SMBGATE_TEST_BIG_ZIP=1")
        tok = self.login()
        name, top = self.scratch()
        size = 4 * 1024 ** 3 + 512 * 1024 ** 2 + 3
        path = os.path.join(top, "sparse.bin")
        self.mk(path, b"head")
        with open(path, "r+b") as f:
            f.truncate(size)
            f.seek(size - 4)
            f.write(b"tail")
        self.fill(top, {"small.txt": b"small\n"})
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=600)
        conn.request("GET", f"{FS}/public/{q(name)}?download=zip", headers=bearer(tok))
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        out = os.path.join(tempfile.mkdtemp(prefix="smbgate-zip."), "big.zip")
        self.scratch_dirs.append(os.path.dirname(out))
        with open(out, "wb") as f:
            while True:
                b = resp.read(1 << 20)
                if not b:
                    break
                f.write(b)
        conn.close()
        took = time.monotonic() - t0
        print(f"\n  {os.path.getsize(out) / 2**30:.2f} GiB archive in {took:.1f} s",
              file=sys.stderr)
        self.assertGreater(os.path.getsize(out), 4 * 1024 ** 3)
        p = subprocess.run(["unzip", "-t", out], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr)
        with zipfile.ZipFile(out) as z:
            info = z.getinfo(f"{name}/sparse.bin")
            self.assertEqual(info.file_size, size)
            self.assertTrue(has_zip64_extra(info.extra))
            self.assertEqual(z.read(f"{name}/small.txt"), b"small\n")  # after 4 GiB: zip64


def run():
    t0 = time.monotonic()
    module = sys.modules[__name__]
    if len(sys.argv) > 1:
        suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:], module)
    else:
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    on_demand = {"T21ZipBig.test_over_4gib"}
    skipped = [t for t, _ in result.skipped if t.id().split(".", 1)[1] not in on_demand]
    ok = result.wasSuccessful() and result.testsRun > 0 and not skipped
    print(f"\n  {time.monotonic() - t0:7.2f} s  total", file=sys.stderr)
    if not ok:
        for gw in A.GATEWAYS:
            print(f"\n==== gateway {gw.name} log ({gw.logpath}) ====", file=sys.stderr)
            sys.stderr.write(gw.log_bytes()[-60000:].decode(errors="replace"))
    for gw in A.GATEWAYS:
        gw.cleanup()
        shutil.rmtree(gw.dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
