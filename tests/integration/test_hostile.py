#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Hostile requests, table-driven: every row of hostile_rows.py is sent raw to a
real gateway (its real sandboxes, the real Samba fixture) and must get exactly
its status and error code. After every row the gateway answers /healthz, and
the shares are byte for byte as before (unless the row says what it changes);
the table is sent twice, and over the second pass the gateway's RSS must not
grow by more than 4 MiB (checked every 25 rows: no leak per request).
Then folders holding names no client should see raw are listed through the
REST API (valid UTF-8 JSON) and through WebDAV (a multistatus that Python's
XML parser accepts, names that XML must escape too).

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
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_rows  # noqa: E402
from gwharness import FX, Gateway, exchange, raw_exchange, rss_kib, snapshot  # noqa: E402

if len(sys.argv) < 3:
    sys.exit("usage: test_hostile.py SMBGATE WORKER [--print]")
SMBGATE, WORKER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PRINT = "--print" in sys.argv[3:]
# Growth allowed over the second pass: glibc's per-thread arenas settle
# (0.2-1.3 MiB seen); a leak of 20 KiB per request would be 4 MiB. Under
# ASan, LeakSanitizer checks the gateway at its exit too (exit status).
RSS_SLACK_KIB = 4096


# Names made on the server's disk that no client should see raw, each in a
# folder of its own in the public share (Samba with "mangled names = no"), and
# what its folder's listing must say: ("listed", the name as it arrives),
# ("skipped",) - left out and counted -, ("unusable",) - 409 unusable_name
# for the whole folder (docs/rest-api.md: "Names made on the server itself") - or
# ("hidden",): Samba itself does not send it (bytes it cannot convert).
HOSTILE_NAMES = [
    ("newline", b"a\nb", ("skipped",)),
    ("tab", b"a\tb", ("skipped",)),
    ("carriage return", b"a\rb", ("skipped",)),
    ("escape", b"a\x1b[31mred", ("skipped",)),
    ("DEL", b"a\x7fb", ("skipped",)),
    ("backslash", b"a\\b", ("unusable",)),
    ("invalid UTF-8", b"a\xffb", ("hidden",)),
    ("CESU-8 surrogate", b"a\xed\xa0\x80b", ("unusable",)),
    ("255 bytes", b"n" * 255, ("listed", "n" * 255)),
    ("leading dash", b"-rf", ("listed", "-rf")),
    ("trailing dot", b"name.", ("listed", "name.")),
    ("trailing space", b"name ", ("listed", "name ")),
    ("dots and spaces", b". .", ("listed", ". .")),
    ("percent-encoded dotdot", b"%2e%2e", ("listed", "%2e%2e")),
    ("fullwidth dots", "\uff0e\uff0e".encode(), ("listed", "\uff0e\uff0e")),
    ("right-to-left override", "a\u202etxt.exe".encode(), ("listed", "a\u202etxt.exe")),
    ("HTML", b"<img src=x onerror=alert(1)>", ("listed", "<img src=x onerror=alert(1)>")),
    ("quote", b'say "hi"', ("listed", 'say "hi"')),
]


def each_name(label, folder, rows, one, same=lambda want: want):
    """For each row (what, raw name, outcome) of @rows: a folder of its own
    under public/@folder/ holding ok.txt and the raw name; one(i, what, raw,
    failures) lists it and returns the outcome (None: a failure it noted),
    which must be the row's (as same() maps it). Returns the failures."""
    top = os.path.join(FX["SAMBA_SHARE_PUBLIC"], folder)
    shutil.rmtree(top.encode(), ignore_errors=True)
    os.mkdir(top)
    failures, seen = [], []
    try:
        for i, (what, raw, want) in enumerate(rows):
            d = os.path.join(top, f"d{i:02d}")
            os.mkdir(d)
            for n in (b"ok.txt", raw):
                with open(os.path.join(d.encode(), n), "wb") as f:
                    f.write(b"x")
            got = one(i, what, raw, failures)
            if got is None:
                continue
            seen.append((what, got[0]))
            want = same(want)
            if got != want:
                failures.append(f"{label} {what} ({raw!r}): got {got}, want {want}")
    finally:
        shutil.rmtree(top.encode(), ignore_errors=True)
    print(f"{label}s: " + ", ".join(f"{w} {g}" for w, g in seen))
    return failures


def hostile_names(gw, token):
    """Lists each folder of HOSTILE_NAMES through the gateway: valid UTF-8
    JSON, and exactly the expected outcome. Returns the failures."""

    def one(i, what, raw, failures):
        st, _, body = exchange(gw.port, (
            f"GET /api/v1/fs/fixture/public/hostile-names/d{i:02d}/ HTTP/1.1\r\n"
            f"Host: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ).encode())
        try:
            j = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            failures.append(f"hostile name {what}: not UTF-8 JSON ({e}): {body[:120]!r}")
            return None
        if st == 200:
            names = sorted(e["name"] for e in j["entries"])
            if names == ["ok.txt"] and j.get("skipped") == 1:
                return ("skipped",)
            if names == ["ok.txt"] and "skipped" not in j:
                return ("hidden",)
            if len(names) == 2 and "ok.txt" in names and "skipped" not in j:
                return ("listed", [n for n in names if n != "ok.txt"][0])
            return ("wrong", names, j.get("skipped"))
        if st == 409 and j.get("error", {}).get("code") == "unusable_name":
            return ("unusable",)
        return ("status", st, body[:100])

    return each_name("hostile name", "hostile-names", HOSTILE_NAMES, one)


# Names that XML must escape (or that cannot be in XML at all), on top of
# HOSTILE_NAMES, for the WebDAV listing.
XML_NAMES = [
    ("less-than", b"a<b", ("listed", "a<b")),
    ("ampersand", b"a&b", ("listed", "a&b")),
    ("CDATA end", b"x]]>y", ("listed", "x]]>y")),
    ("apostrophe", b"it's", ("listed", "it's")),
    ("entity-like", b"&amp;lt;", ("listed", "&amp;lt;")),
    ("control character", b"a\x01b", ("skipped",)),
    ("form feed", b"a\x0cb", ("skipped",)),
]


def dav_names(gw, token):
    """PROPFIND (Depth 1) through /dav/ of a folder per hostile name: the
    multistatus must be well-formed XML (Python's expat-based parser), and the
    name either listed faithfully (displayname and the decoded href) or left
    out (the gateway's skipped names and Samba's hidden ones alike), as in
    the REST listing. Returns the failures."""
    import urllib.parse
    import xml.etree.ElementTree as ET

    ns = {"D": "DAV:"}

    def one(i, what, raw, failures):
        href = f"/dav/fixture/public/dav-names/d{i:02d}/"
        st, _, body = exchange(gw.port, (
            f"PROPFIND {href} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Depth: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode())
        if st == 409 and body[:1] == b"{":
            return ("unusable",) if json.loads(body)["error"]["code"] == "unusable_name" \
                else ("status", st, body[:100])
        if st != 207:
            return ("status", st, body[:100])
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            failures.append(f"dav name {what}: not well-formed XML ({e}): {body[:200]!r}")
            return None
        names = []
        for resp in root.findall("D:response", ns):
            h = resp.find("D:href", ns).text
            if h == href:
                continue
            dn = resp.find(".//D:displayname", ns)
            decoded = urllib.parse.unquote(h[len(href):], errors="strict")
            if dn is None or dn.text != decoded or not h.startswith(href):
                failures.append(f"dav name {what}: href {h!r} and displayname "
                                f"{None if dn is None else dn.text!r} differ")
            names.append(decoded)
        names.sort()
        others = [n for n in names if n != "ok.txt"]
        if names == ["ok.txt"]:
            got = ("left out",)  # skipped by the gateway or hidden by Samba
        elif len(names) == 2 and len(others) == 1:
            got = ("listed", others[0])
        else:
            got = ("wrong", names)
        # what is not listed must not be in the body raw either
        if got[0] != "listed" and raw in body:
            failures.append(f"dav name {what}: left out, yet in the body raw")
        return got

    def same(want):
        # a multistatus has no count of skipped names
        return ("left out",) if want in (("skipped",), ("hidden",)) else want

    return each_name("dav name", "dav-names", HOSTILE_NAMES + XML_NAMES, one, same)


def status_lines(port, data, timeout=5):
    """How many answers @data gets on one connection read to its end: the
    status lines at the start and right after a header block."""
    out = raw_exchange(port, data, timeout, ends=(ConnectionResetError, socket.timeout))
    return len(re.findall(rb"(?:^|\r\n\r\n)HTTP/1\.[01] \d\d\d ", out))


def main():
    gw = Gateway(SMBGATE, WORKER)
    token = gw.login()
    basic = base64.b64encode(f"{FX['SAMBA_USER1']}:{FX['SAMBA_PASS1']}".encode()).decode()
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
        # One answer, no more: a raw row that ends the connection is read to
        # its end, and exactly one status line comes back (libmicrohttpd
        # 0.9.75 wrote the header block of its own refusals twice).
        if i < len(rows) and r.raw is not None and b"Connection: close" in data and st > 0:
            n = status_lines(gw.port, data)
            if n != 1:
                failures.append(f"{r.name}: {n} status lines on the wire, want 1")
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
    if not PRINT:
        failures += hostile_names(gw, token)
        failures += dav_names(gw, token)
    rc = gw.stop()
    print(f"{len(rows)} rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"gateway RSS growth over the second pass: {grown} KiB"
          + (" (not checked under ASan: LeakSanitizer checks at exit)" if asan else "")
          + f"; exit status {rc}")
    if rc != 0:
        failures.append(f"the gateway exited {rc} on SIGTERM")
    for f in failures:
        print("  " + f, file=sys.stderr)
    rc = gw.verdict(len(failures))
    return 0 if PRINT else rc


if __name__ == "__main__":
    sys.exit(main())
