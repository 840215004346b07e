# SPDX-License-Identifier: GPL-3.0-or-later
"""
The table of hostile requests of test_hostile.py: each row is one request
and the exact status and error code ("error": {"code": ...} of the JSON body;
None when the answer has no JSON error body) a user can rely on.

A row is sent on its own connection with "Connection: close" (unless it is
raw bytes). Authentication: "bearer" (a live session's token), "basic",
"none", or whatever the row's own headers say.
"""

FS = "/api/v1/fs/fixture"
TMP = ".~smbgate-new-" + "0123456789abcdef" * 2 + ".tmp"


class Row:
    def __init__(self, group, name, status, code, method="GET", target="/", headers=(),
                 body=b"", auth="bearer", raw=None, length=True, changes=None):
        self.group, self.name, self.status, self.code = group, name, status, code
        self.method, self.target, self.headers, self.body = method, target, headers, body
        self.auth, self.raw, self.length, self.changes = auth, raw, length, changes


def render(r, subst):
    def sub(b):
        for k, v in subst.items():
            b = b.replace(k.encode(), v.encode())
        return b

    if r.raw is not None:
        return sub(r.raw)
    target = r.target.encode("latin-1") if isinstance(r.target, str) else r.target
    body = r.body.encode() if isinstance(r.body, str) else r.body
    out = r.method.encode() + b" " + target + b" HTTP/1.1\r\nHost: x\r\n"
    if r.auth == "bearer":
        out += b"Authorization: Bearer {TOKEN}\r\n"
    elif r.auth == "basic":
        out += b"Authorization: Basic {BASIC}\r\n"
    for h in r.headers:
        out += (h.encode("latin-1") if isinstance(h, str) else h) + b"\r\n"
    if r.length and (body or r.method in ("POST", "PUT")):
        out += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    out += b"Connection: close\r\n\r\n" + body
    return sub(out)


def rows():
    t = []

    def add(*a, **k):
        t.append(Row(*a, **k))

    # ---- paths: traversal, encodings, names that cannot cross ----
    g = "path"
    bad_path = [
        ("dotdot", "/public/../alice_private/"),
        ("dotdot encoded", "/public/%2e%2e/alice_private/"),
        ("dotdot upper encoded", "/public/%2E%2E/"),
        ("dotdot mixed", "/public/.%2e/"),
        ("dot segment", "/public/./hello.txt"),
        ("dot encoded", "/public/%2e/hello.txt"),
        ("empty segment", "/public//hello.txt"),
        ("slash encoded in segment", "/public/a%2fb"),
        ("slash encoded to escape", "/public/..%2f..%2fetc"),
        ("nul", "/public/hello.txt%00.jpg"),
        ("overlong dot", "/public/%c0%ae%c0%ae/"),
        ("overlong slash", "/public/a%c0%afb"),
        ("invalid utf-8 ff", "/public/%ff"),
        ("invalid utf-8 lone continuation", "/public/%80abc"),
        ("invalid utf-8 truncated", "/public/%e2%82"),
        ("utf-8 surrogate", "/public/%ed%a0%80"),
        ("utf-8 over max", "/public/%f4%90%80%80"),
        ("bad percent", "/public/%zz"),
        ("truncated percent", "/public/abc%2"),
        ("percent at end", "/public/abc%"),
    ]
    for name, p in bad_path:
        add(g, name, 400, "bad_path", target=FS + p)
    # Refused by the path decoder: bytes no SMB name may hold.
    for name, p in [
        ("backslash", "/public/a%5cb"),
        ("backslash dotdot", "/public/..%5c..%5cetc"),
        ("control 01", "/public/a%01b"),
        ("newline", "/public/a%0ab"),
        ("carriage return", "/public/a%0db"),
        ("crlf header injection", "/public/a%0d%0aSet-Cookie:%20x=1"),
        ("tab", "/public/a%09b"),
        ("del", "/public/a%7fb"),
    ]:
        bad_path.append((name, p))
        add(g, name, 400, "bad_path", target=FS + p)
    # Refused as names: valid bytes, but not a name of a file here.
    bad_name = [
        ("star", "/public/*.txt"),
        ("question mark", "/public/a%3f"),
        ("less than", "/public/a%3cb"),
        ("greater than", "/public/a%3eb"),
        ("pipe", "/public/a%7cb"),
        ("double quote", "/public/a%22b"),
        ("colon stream", "/public/hello.txt:secret"),
        ("data stream", "/public/hello.txt::$DATA"),
        ("upload temporary", "/public/" + TMP),
        ("upload temporary in folder", "/public/sub/" + TMP),
    ]
    for name, p in bad_name:
        add(g, name, 400, "bad_name", target=FS + p)
    for name, p in bad_name[:8]:
        add(g, "PUT " + name, 400, "bad_name", method="PUT", target=FS + p, body=b"x")
    for name, p in bad_path[:3] + bad_path[-8:-5]:
        add(g, "PUT " + name, 400, "bad_path", method="PUT", target=FS + p, body=b"x")
    add(g, "segment of 256 bytes", 400, "bad_name", target=FS + "/public/" + "a" * 256)
    add(g, "path of 8 KiB", 414, "path_too_long", target=FS + "/public/" + "a/" * 4096)
    add(g, "unknown server", 404, "not_found", target="/api/v1/fs/nosuch/")
    add(g, "unknown share", 404, "not_found", target=FS + "/nosuchshare/")
    add(g, "hidden share by name (the server's policy)", 200, None, target=FS + "/hidden$/")
    add(g, "missing file", 404, "not_found", target=FS + "/public/no-such-file")
    add(g, "file as a folder", 404, "not_found", target=FS + "/public/hello.txt/")
    add(g, "private share of alice with no auth", 401, "unauthorized",
        target=FS + "/alice_private/", auth="none")
    add(g, "query junk (ignored)", 200, None, target=FS + "/public/hello.txt?download=%ff%00")

    # ---- framing: lengths, codings, request line, headers ----
    g = "framing"
    put = ("PUT " + FS + "/public/framing.txt HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer {TOKEN}\r\n").encode()
    add(g, "two equal Content-Length", 400, "bad_framing",
        raw=put + b"Content-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    add(g, "two different Content-Length", 400, "bad_framing",
        raw=put + b"Content-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello!")
    add(g, "Content-Length list", 400, "bad_request",
        raw=put + b"Content-Length: 5, 5\r\nConnection: close\r\n\r\nhello")
    add(g, "Content-Length and chunked", 400, "bad_framing",
        raw=put + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
        b"\r\n5\r\nhello\r\n0\r\n\r\n")
    add(g, "negative Content-Length", 400, "bad_request",
        raw=put + b"Content-Length: -5\r\nConnection: close\r\n\r\nhello")
    add(g, "Content-Length with plus", 400, "bad_request",
        raw=put + b"Content-Length: +5\r\nConnection: close\r\n\r\nhello")
    add(g, "overflowing Content-Length", 413, "too_large",
        raw=put + b"Content-Length: 99999999999999999999999\r\nConnection: close\r\n\r\nhello")
    add(g, "Content-Length hex", 400, "bad_request",
        raw=put + b"Content-Length: 0x5\r\nConnection: close\r\n\r\nhello")
    add(g, "Content-Length over the upload limit", 413, "too_large",
        raw=put + b"Content-Length: 2000000\r\nConnection: close\r\n\r\nhello")
    add(g, "chunked upload announced over the upload limit", 413, "too_large",
        raw=put + b"Transfer-Encoding: chunked\r\nX-Expected-Entity-Length: 2000000\r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    add(g, "Transfer-Encoding gzip", 501, "not_implemented",
        raw=put + b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    add(g, "Transfer-Encoding chunked, gzip", 501, "not_implemented",
        raw=put + b"Transfer-Encoding: chunked, gzip\r\nConnection: close\r\n\r\n")
    add(g, "Transfer-Encoding identity", 501, "not_implemented",
        raw=put + b"Transfer-Encoding: identity\r\nContent-Length: 5\r\nConnection: close\r\n"
        b"\r\nhello")
    add(g, "Content-Length with space before colon", 400, "bad_framing",
        raw=put + b"Content-Length : 5\r\nConnection: close\r\n\r\nhello")
    add(g, "Transfer-Encoding with space before colon", 400, "bad_framing",
        raw=put + b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\nConnection: close\r\n"
        b"\r\nhello")
    add(g, "Transfer-Encoding with a tab in the name", 400, "bad_framing",
        raw=put + b"Transfer-Encoding\t: chunked\r\nConnection: close\r\n\r\n")
    add(g, "Transfer-Encoding vertical tab value", 400, "bad_framing",
        raw=put + b"Transfer-Encoding: \x0bchunked\r\nConnection: close\r\n\r\n")
    add(g, "bad chunk size on a login", 400, "bad_request",
        raw=b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
    add(g, "huge chunk size on a login", 413, "too_large",
        raw=b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n\r\n"
        b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n")
    add(g, "header of 64 KiB", 431, "headers_too_large",
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536
        + b"\r\nConnection: close\r\n\r\n")
    add(g, "request line of 64 KiB", 414, None,
        raw=b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    add(g, "1000 headers", 431, "headers_too_large",
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"Connection: close\r\n\r\n")
    add(g, "header without colon", 400, "bad_request",
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n")
    add(g, "header with space before colon", 400, "bad_framing",
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A : v\r\nConnection: close\r\n\r\n")
    add(g, "obsolete line folding (joined)", 200, None,
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: v\r\n folded\r\nConnection: close\r\n\r\n")
    add(g, "bare CR in a header", 400, "bad_framing",
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: v\rw\r\nConnection: close\r\n\r\n")
    add(g, "NUL in a header (libmicrohttpd ends the value there)", 200, None,
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: v\x00w\r\nConnection: close\r\n\r\n")
    add(g, "no Host in HTTP/1.1", 400, "bad_request",
        raw=b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    add(g, "two Host headers", 400, "bad_framing",
        raw=b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\nConnection: close\r\n\r\n")
    add(g, "HTTP/2.0 request line", 505, None,
        raw=b"GET /healthz HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n")
    add(g, "HTTP/9.9", 505, None,
        raw=b"GET /healthz HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n")
    add(g, "no version", 400, None, raw=b"GET /healthz\r\n\r\n")
    add(g, "TLS hello on plain http (closed)", 0, None, raw=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
        + b"\r\n\r\n")
    add(g, "absolute-form target elsewhere", 404, "not_found",
        raw=b"GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    add(g, "target with a fragment", 404, "not_found",
        raw=b"GET /healthz#x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    add(g, "NUL in the target", 400, "bad_request",
        raw=b"GET /healthz\x00x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    add(g, "space in the target (closed)", 0, None,
        raw=b"GET /a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    # ---- methods ----
    g = "method"
    for m, target, st, code in [
        ("TRACE", "/", 405, "method_not_allowed"),
        ("TRACE", FS + "/public/", 405, "method_not_allowed"),
        ("TRACK", "/", 405, "method_not_allowed"),
        ("CONNECT", "/", 405, "method_not_allowed"),
        ("PROPFIND", "/api/v1/fs/", 405, "method_not_allowed"),
        ("PROPFIND", FS + "/public/", 405, "method_not_allowed"),
        ("MKCOL", FS + "/public/x", 405, "method_not_allowed"),
        ("LOCK", FS + "/public/hello.txt", 405, "method_not_allowed"),
        ("PATCH", FS + "/public/hello.txt", 405, "method_not_allowed"),
        ("DELETE", "/api/v1/login", 405, "method_not_allowed"),
        ("GET", "/api/v1/login", 405, "method_not_allowed"),
        ("PUT", "/healthz", 405, "method_not_allowed"),
        ("POST", "/", 405, "method_not_allowed"),
        ("get", "/healthz", 405, "method_not_allowed"),
        ("G\x01T", "/healthz", 405, "method_not_allowed"),
        ("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "/", 405, "method_not_allowed"),
    ]:
        add(g, f"{m[:12]} {target}", st, code, method=m, target=target)
    add(g, "unknown API path", 404, "not_found", target="/api/v2/fs/")

    # ---- Range and conditionals ----
    g = "range"
    hello = FS + "/public/hello.txt"  # 14 bytes
    for name, rng, st, code in [
        ("start past the end", "bytes=100-", 416, "range_not_satisfiable"),
        ("huge start", "bytes=99999999999999999999-", 416, "range_not_satisfiable"),
        ("huge end", "bytes=0-99999999999999999999", 206, None),
        ("huge suffix", "bytes=-99999999999999999999", 206, None),
        ("zero suffix", "bytes=-0", 416, "range_not_satisfiable"),
        ("end before start (ignored)", "bytes=5-1", 200, None),
        ("negative start (ignored)", "bytes=--1", 200, None),
        ("not bytes", "items=0-1", 200, None),
        ("no equals (ignored)", "bytes 0-1", 200, None),
        ("empty (ignored)", "bytes=", 200, None),
        ("garbage (ignored)", "bytes=a-b", 200, None),
        ("two ranges (ignored)", "bytes=0-1,3-4", 200, None),
        ("1000 ranges (ignored)", "bytes=" + ",".join("0-0" for _ in range(1000)), 200, None),
        ("whitespace (ignored)", "bytes = 0-1", 200, None),
        ("signed (ignored)", "bytes=+1-2", 200, None),
    ]:
        add(g, name, st, code, target=hello, headers=("Range: " + rng,))
    for name, hdr, st in [
        ("If-None-Match *", "If-None-Match: *", 304),
        ("If-None-Match garbage", "If-None-Match: \x7fgarbage", 200),
        ("If-Modified-Since garbage", "If-Modified-Since: not a date", 200),
        ("If-Modified-Since far future", "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT", 304),
        ("If-Range garbage", "If-Range: \"nope\"", 200),
    ]:
        add(g, name, st, None, target=hello, headers=(hdr,))

    # ---- JSON bodies ----
    g = "json"
    login = "/api/v1/login"
    ct = ("Content-Type: application/json",)
    for name, body, st, code in [
        ("not JSON", b"hello", 400, "bad_request"),
        ("empty body", b"", 400, "bad_request"),
        ("truncated", b'{"username":"alice",', 400, "bad_request"),
        ("top-level array", b'["alice","pw"]', 400, "bad_request"),
        ("top-level string", b'"alice"', 400, "bad_request"),
        ("top-level null", b"null", 400, "bad_request"),
        ("username number", b'{"username":1,"password":"x"}', 400, "bad_request"),
        ("username array", b'{"username":["alice"],"password":"x"}', 400, "bad_request"),
        ("username object", b'{"username":{"a":1},"password":"x"}', 400, "bad_request"),
        ("password null", b'{"username":"alice","password":null}', 400, "bad_request"),
        ("password number", b'{"username":"alice","password":123}', 400, "bad_request"),
        ("server number", b'{"username":"alice","password":"x","server":7}', 400,
         "bad_request"),
        ("unknown server", b'{"username":"alice","password":"x","server":"nosuch"}', 400,
         "unknown_server"),
        ("missing password", b'{"username":"alice"}', 400, "bad_request"),
        ("empty username", b'{"username":"","password":"x"}', 400, "bad_request"),
        ("NUL in username", b'{"username":"al\\u0000ice","password":"x"}', 400, "bad_request"),
        ("invalid UTF-8", b'{"username":"\xff\xfe","password":"x"}', 400, "bad_request"),
        ("lone surrogate escape", b'{"username":"\\ud800","password":"x"}', 400, "bad_request"),
        ("username of 10 KiB", b'{"username":"' + b"a" * 10240 + b'","password":"x"}', 400,
         "bad_request"),
        ("deep nesting", b"[" * 100000 + b"]" * 100000, 413, "too_large"),
        ("nesting in a field", b'{"username":' + b"[" * 5000 + b"]" * 5000 + b'}', 400,
         "bad_request"),
        ("body of 1 MiB", b'{"username":"' + b"a" * (1 << 20) + b'"}', 413, "too_large"),
        ("trailing garbage", b'{"username":"alice","password":"x"} junk', 400, "bad_request"),
        ("huge number", b'{"username":"alice","password":"x","n":1e999999}', 400,
         "bad_request"),
    ]:
        add(g, "login " + name, st, code, method="POST", target=login, headers=ct, body=body,
            auth="none")
    add(g, "login as form", 400, "bad_request", method="POST", target=login, auth="none",
        headers=("Content-Type: application/x-www-form-urlencoded",),
        body=b"username=alice&password=x")
    ops = FS + "/public/hello.txt"
    for name, body, st, code in [
        ("op unknown", b'{"op":"explode"}', 400, "bad_request"),
        ("op number", b'{"op":5}', 400, "bad_request"),
        ("move without to", b'{"op":"move"}', 400, "bad_request"),
        ("move to number", b'{"op":"move","to":5}', 400, "bad_request"),
        ("move to dotdot", b'{"op":"move","to":"../alice_private/x"}', 400, "bad_path"),
        ("move to wildcard", b'{"op":"move","to":"a*b"}', 400, "bad_path"),
        ("move to temporary", b'{"op":"move","to":"' + TMP.encode() + b'"}', 400, "bad_path"),
        ("copy overwrite string", b'{"op":"copy","to":"x.txt","overwrite":"yes"}', 400,
         "bad_request"),
        ("mkdir on a file", b'{"op":"mkdir"}', 409, "exists"),
        ("not JSON", b"op=move", 400, "bad_request"),
        ("array", b'[{"op":"move"}]', 400, "bad_request"),
    ]:
        add(g, "POST " + name, st, code, method="POST", target=ops, headers=ct, body=body)

    # ---- authentication: tokens, cookies, Basic ----
    g = "auth"
    priv = FS + "/alice_private/"
    for name, hdr, st, code in [
        ("no credentials", None, 401, "unauthorized"),
        ("Bearer empty", "Authorization: Bearer ", 401, "unauthorized"),
        ("Bearer spaces", "Authorization: Bearer    ", 401, "unauthorized"),
        ("Bearer wrong", "Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         401, "unauthorized"),
        ("Bearer of 8 KiB", "Authorization: Bearer " + "A" * 8192, 401, "unauthorized"),
        ("Bearer with NUL-ish", "Authorization: Bearer %00", 401, "unauthorized"),
        ("Bearer twice", "Authorization: Bearer {TOKEN} {TOKEN}", 401, "unauthorized"),
        ("lowercase bearer", "Authorization: bearer {TOKEN}", 200, None),
        ("Digest scheme", "Authorization: Digest username=\"alice\"", 401, "unauthorized"),
        ("Basic not base64", "Authorization: Basic !!!!", 401, "unauthorized"),
        ("Basic no colon", "Authorization: Basic YWxpY2U=", 401, "unauthorized"),
        ("Basic empty", "Authorization: Basic ", 401, "unauthorized"),
        ("Basic wrong password", "Authorization: Basic YWxpY2U6d3Jvbmc=", 401, "auth_failed"),
        ("Basic user of 4 KiB", "Authorization: Basic "
         + __import__("base64").b64encode(b"a" * 4096 + b":x").decode(), 401, "unauthorized"),
        ("Basic NUL in user", "Authorization: Basic "
         + __import__("base64").b64encode(b"al\x00ice:x").decode(), 401, "unauthorized"),
        ("cookie empty", "Cookie: smbgate_session=", 401, "unauthorized"),
        ("cookie wrong", "Cookie: smbgate_session=nope", 401, "unauthorized"),
        ("cookie of 8 KiB", "Cookie: smbgate_session=" + "A" * 8192, 401, "unauthorized"),
        ("cookie twice", "Cookie: smbgate_session=x; smbgate_session={TOKEN}", 401,
         "unauthorized"),
        ("cookie junk", "Cookie: ;;;=;=;smbgate_session", 401, "unauthorized"),
        ("cookie ok", "Cookie: smbgate_session={TOKEN}", 200, None),
    ]:
        add(g, name, st, code, target=priv, auth="none", headers=(hdr,) if hdr else ())
    add(g, "cookie write without CSRF header", 403, "csrf", method="POST",
        target=FS + "/public/csrf-dir", auth="none",
        headers=("Cookie: smbgate_session={TOKEN}", "Content-Type: text/plain"),
        body=b'{"op":"mkdir"}')
    add(g, "Basic write from another site", 403, "csrf", method="PUT",
        target=FS + "/public/csrf.txt", auth="basic", headers=("Origin: http://evil.example",),
        body=b"x")
    add(g, "logout with a wrong token", 401, "unauthorized", method="POST",
        target="/api/v1/logout", auth="none", headers=("Authorization: Bearer nope",))

    dav_rows(add)
    return t


DAV = "/dav/fixture"
XML = "Content-Type: application/xml"
PROPFIND_ALL = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


def dav_rows(add):
    """WebDAV (/dav/): paths, Destination headers, XML bodies, DAV headers,
    lock tokens, the read-only levels. None of them changes a share."""
    want = {  # the status and error code of each row, as the gateway answers
        'PROPFIND dotdot': (400, 'bad_path'),
        'PROPFIND dotdot encoded': (400, 'bad_path'),
        'PROPFIND dotdot upper encoded': (400, 'bad_path'),
        'PROPFIND dot encoded': (400, 'bad_path'),
        'PROPFIND slash encoded to escape': (400, 'bad_path'),
        'PROPFIND nul': (400, 'bad_path'),
        'PROPFIND overlong dot': (400, 'bad_path'),
        'PROPFIND backslash encoded': (400, 'bad_path'),
        'PROPFIND invalid utf-8': (400, 'bad_path'),
        'GET nul': (400, 'bad_path'),
        'PUT dotdot': (400, 'bad_path'),
        'PUT upload temporary': (400, 'bad_name'),
        'MKCOL wildcard': (400, 'bad_name'),
        'DELETE stream name': (400, 'bad_name'),
        "PROPFIND other user's share": (404, 'not_found'),
        'PROPFIND no such server': (404, 'not_found'),
        'PROPFIND unauthenticated': (401, 'unauthorized'),
        'COPY to other host': (502, 'other_server'),
        'COPY to other share': (502, 'other_share'),
        'COPY to other server': (502, 'other_share'),
        'COPY to dotdot': (400, 'bad_path'),
        'COPY to dotdot encoded': (400, 'bad_path'),
        'COPY to nul': (400, 'bad_path'),
        'COPY to backslash': (400, 'bad_path'),
        'COPY to backslash encoded': (400, 'bad_path'),
        'COPY to outside /dav/': (400, 'bad_path'),
        'COPY to relative': (400, 'bad_path'),
        'COPY to empty': (400, 'bad_path'),
        "COPY to the share's root": (502, 'other_share'),
        'COPY to the server': (502, 'other_share'),
        'COPY to upload temporary': (400, 'bad_name'),
        'COPY to itself': (403, 'same_path'),
        'MOVE to other share': (502, 'other_share'),
        'MOVE without Destination': (400, 'no_destination'),
        "MOVE the share's root": (403, 'read_only'),
        'PROPFIND malformed': (400, 'bad_xml'),
        'PROPFIND not XML': (400, 'bad_xml'),
        'PROPFIND wrong root': (400, 'bad_xml'),
        'PROPFIND no namespace': (400, 'bad_xml'),
        'PROPFIND nested 100000 deep': (400, 'bad_xml'),
        'PROPFIND entity bomb': (400, 'bad_xml'),
        'PROPFIND external entity': (400, 'bad_xml'),
        'PROPFIND external DTD': (400, 'bad_xml'),
        'PROPFIND NUL byte': (400, 'bad_xml'),
        'PROPFIND UTF-16 declared, bytes UTF-8': (400, 'bad_xml'),
        'PROPFIND oversized': (413, 'too_large'),
        'PROPPATCH entity bomb': (400, 'bad_xml'),
        'LOCK malformed': (400, 'bad_xml'),
        'LOCK external entity': (400, 'bad_xml'),
        'PROPFIND Depth infinity': (403, None),
        'PROPFIND Depth 2': (400, 'bad_depth'),
        'PROPFIND Depth -1': (400, 'bad_depth'),
        'PROPFIND Depth twice': (207, None),
        'COPY Overwrite X': (400, 'bad_overwrite'),
        'COPY Overwrite F onto a file': (404, 'not_found'),
        'MOVE Depth 0': (400, 'bad_depth'),
        'COPY Depth 1': (400, 'bad_depth'),
        'PUT If unbalanced': (400, 'bad_if'),
        'PUT If empty list': (400, 'bad_if'),
        'PUT If garbage': (400, 'bad_if'),
        'PUT If token of wrong shape': (412, 'precondition_failed'),
        'PUT If unknown token': (412, 'precondition_failed'),
        'PUT If etag mismatch': (412, 'precondition_failed'),
        'PUT If of 8 KiB': (400, 'bad_if'),
        'PUT If tagged other resource': (412, 'precondition_failed'),
        'LOCK Timeout garbage malformed body': (400, 'bad_xml'),
        'LOCK Timeout huge malformed body': (400, 'bad_xml'),
        'LOCK Timeout negative malformed body': (400, 'bad_xml'),
        'UNLOCK token none': (400, 'bad_lock_token'),
        'UNLOCK token no brackets': (400, 'bad_lock_token'),
        'UNLOCK token empty': (409, None),
        'UNLOCK token unknown': (409, None),
        'UNLOCK token of 8 KiB': (400, 'bad_lock_token'),
        'PUT /dav/': (405, 'method_not_allowed'),
        'MKCOL /dav/x': (404, 'not_found'),
        'DELETE /dav/fixture/': (405, 'method_not_allowed'),
        'MKCOL /dav/fixture/newshare': (405, 'method_not_allowed'),
        'DELETE /dav/fixture/public/': (405, 'method_not_allowed'),
        'PROPPATCH /dav/fixture/': (403, 'read_only'),
        'LOCK /dav/fixture/': (403, 'read_only'),
        'COPY /dav/fixture/public/': (403, 'read_only'),
        'PUT /dav/fixture/readonly/x.txt': (403, 'access_denied'),
        'MKCOL /dav/fixture/readonly/x': (403, 'access_denied'),
        'DELETE /dav/fixture/readonly/hello.txt': (404, 'not_found'),
        'TRACE /dav/': (405, 'method_not_allowed'),
        'SEARCH /dav/fixture/public/': (405, 'method_not_allowed'),
        'POST /dav/fixture/public/': (405, 'method_not_allowed'),
        'PATCH /dav/fixture/public/hello.txt': (405, 'method_not_allowed'),
    }

    def d(g, name, **k):
        add(g, name, *want[name], **k)

    # ---- paths under /dav/, as the REST API's ----
    g = "dav path"
    for name, p in [
        ("dotdot", "/public/../alice_private/"),
        ("dotdot encoded", "/public/%2e%2e/alice_private/"),
        ("dotdot upper encoded", "/public/%2E%2E/"),
        ("dot encoded", "/public/%2e/hello.txt"),
        ("slash encoded to escape", "/public/..%2f..%2fetc"),
        ("nul", "/public/hello.txt%00.jpg"),
        ("overlong dot", "/public/%c0%ae%c0%ae/"),
        ("backslash encoded", "/public/..%5c..%5cetc"),
        ("invalid utf-8", "/public/%ff"),
    ]:
        d(g, f"PROPFIND {name}", method="PROPFIND", target=DAV + p,
            headers=("Depth: 0",))
    d(g, "GET nul", target=DAV + "/public/hello.txt%00")
    d(g, "PUT dotdot", method="PUT", target=DAV + "/public/%2e%2e/x.txt", body=b"x")
    d(g, "PUT upload temporary", method="PUT", target=DAV + "/public/" + TMP,
        body=b"x")
    d(g, "MKCOL wildcard", method="MKCOL", target=DAV + "/public/a*b")
    d(g, "DELETE stream name", method="DELETE",
        target=DAV + "/public/hello.txt:evil:$DATA")
    d(g, "PROPFIND other user's share", method="PROPFIND",
        target="/dav/fixture/hidden/", headers=("Depth: 0",))
    d(g, "PROPFIND no such server", method="PROPFIND", target="/dav/nosuch/",
        headers=("Depth: 0",))
    d(g, "PROPFIND unauthenticated", method="PROPFIND", target=DAV + "/public/",
        auth="none", headers=("Depth: 0",))

    # ---- Destination of COPY and MOVE ----
    g = "dav destination"
    src = DAV + "/public/hello.txt"
    for name, dst in [
        ("other host", "http://evil.example/dav/fixture/public/copied.txt"),
        ("other share", "http://x/dav/fixture/alice_private/copied.txt"),
        ("other server", "/dav/nosuch/public/copied.txt"),
        ("dotdot", "/dav/fixture/public/../alice_private/copied.txt"),
        ("dotdot encoded", "/dav/fixture/public/%2e%2e/alice_private/copied.txt"),
        ("nul", "/dav/fixture/public/copied.txt%00.jpg"),
        ("backslash", "/dav/fixture/public/..\\..\\copied.txt"),
        ("backslash encoded", "/dav/fixture/public/%5c..%5ccopied.txt"),
        ("outside /dav/", "http://x/api/v1/fs/fixture/public/copied.txt"),
        ("relative", "copied.txt"),
        ("empty", ""),
        ("the share's root", "/dav/fixture/public/"),
        ("the server", "/dav/fixture/"),
        ("upload temporary", "/dav/fixture/public/" + TMP),
        ("itself", "/dav/fixture/public/hello.txt"),
    ]:
        d(g, f"COPY to {name}", method="COPY", target=src,
            headers=("Destination: " + dst,))
    d(g, "MOVE to other share", method="MOVE", target=src,
        headers=("Destination: /dav/fixture/readonly/hello.txt",))
    d(g, "MOVE without Destination", method="MOVE", target=src)
    d(g, "MOVE the share's root", method="MOVE", target=DAV + "/public/",
        headers=("Destination: /dav/fixture/public/x/",))

    # ---- XML bodies ----
    g = "dav xml"
    nested = b'<?xml version="1.0"?>' + b"<a>" * 100000 + b"</a>" * 100000
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
            b']><D:propfind xmlns:D="DAV:"><D:prop><D:x>&c;</D:x></D:prop></D:propfind>')
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<D:propfind xmlns:D="DAV:"><D:prop><D:x>&e;</D:x></D:prop></D:propfind>')
    dtd = (b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:1/x.dtd">'
           b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
    for name, body in [
        ("malformed", b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'),
        ("not XML", b'{"propfind": true}'),
        ("wrong root", b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"/>'),
        ("no namespace", b'<?xml version="1.0"?><propfind><allprop/></propfind>'),
        ("nested 100000 deep", nested[:60000] + b"</a>"),
        ("entity bomb", bomb),
        ("external entity", xxe),
        ("external DTD", dtd),
        ("NUL byte", b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:">\x00</D:propfind>'),
        ("UTF-16 declared, bytes UTF-8", b'<?xml version="1.0" encoding="UTF-16"?><a/>'),
        ("oversized", b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
         + b"<D:getetag/>" * 8000 + b"</D:prop></D:propfind>"),
    ]:
        d(g, f"PROPFIND {name}", method="PROPFIND", target=DAV + "/public/",
            headers=("Depth: 0", XML), body=body)
    d(g, "PROPPATCH entity bomb", method="PROPPATCH",
        target=DAV + "/public/hello.txt", headers=(XML,), body=bomb)
    d(g, "LOCK malformed", method="LOCK", target=DAV + "/public/hello.txt",
        headers=(XML,), body=b"<D:lockinfo xmlns:D='DAV:'><D:lockscope>")
    d(g, "LOCK external entity", method="LOCK", target=DAV + "/public/hello.txt",
        headers=(XML,), body=xxe)

    # ---- DAV headers ----
    g = "dav header"
    for name, hdrs in [
        ("Depth infinity", ("Depth: infinity",)),
        ("Depth 2", ("Depth: 2",)),
        ("Depth -1", ("Depth: -1",)),
        ("Depth twice", ("Depth: 0", "Depth: 1")),
    ]:
        d(g, f"PROPFIND {name}", method="PROPFIND", target=DAV + "/public/",
            headers=hdrs + (XML,), body=PROPFIND_ALL)
    d(g, "COPY Overwrite X", method="COPY", target=src,
        headers=("Destination: /dav/fixture/public/copied.txt", "Overwrite: X"))
    d(g, "COPY Overwrite F onto a file", method="COPY", target=DAV + "/public/x",
        headers=("Destination: /dav/fixture/public/hello.txt", "Overwrite: F"))
    d(g, "MOVE Depth 0", method="MOVE", target=src,
        headers=("Destination: /dav/fixture/public/moved.txt", "Depth: 0"))
    d(g, "COPY Depth 1", method="COPY", target=DAV + "/public/empty%20folder",
        headers=("Destination: /dav/fixture/public/copied", "Depth: 1"))
    for name, ifh in [
        ("If unbalanced", "If: (<opaquelocktoken:x>"),
        ("If empty list", "If: ()"),
        ("If garbage", "If: garbage"),
        ("If token of wrong shape", "If: (<not-a-token>)"),
        ("If unknown token", "If: (<opaquelocktoken:00000000-0000-0000-0000-000000000000>)"),
        ("If etag mismatch", 'If: (["nope"])'),
        ("If of 8 KiB", "If: (" + "<opaquelocktoken:x>" * 400 + ")"),
        ("If tagged other resource", "If: <http://evil.example/x> (<opaquelocktoken:x>)"),
    ]:
        d(g, f"PUT {name}", method="PUT", target=DAV + "/public/if.txt",
            headers=(ifh,), body=b"x")
    for name, tmo in [
        ("Timeout garbage", "Timeout: Second-"),
        ("Timeout huge", "Timeout: Second-99999999999999999999999"),
        ("Timeout negative", "Timeout: Second--5"),
    ]:
        d(g, f"LOCK {name} malformed body", method="LOCK",
            target=DAV + "/public/hello.txt", headers=(tmo, XML), body=b"<x")
    for name, tok in [
        ("none", None),
        ("no brackets", "Lock-Token: opaquelocktoken:x"),
        ("empty", "Lock-Token: <>"),
        ("unknown", "Lock-Token: <opaquelocktoken:00000000-0000-0000-0000-000000000000>"),
        ("of 8 KiB", "Lock-Token: <" + "x" * 8192 + ">"),
    ]:
        d(g, f"UNLOCK token {name}", method="UNLOCK", target=src,
            headers=(tok,) if tok else ())

    # ---- the read-only levels: servers, shares ----
    g = "dav read-only"
    for m, target in [
        ("PUT", "/dav/"), ("MKCOL", "/dav/x"), ("DELETE", "/dav/fixture/"),
        ("MKCOL", "/dav/fixture/newshare"), ("DELETE", "/dav/fixture/public/"),
        ("PROPPATCH", "/dav/fixture/"), ("LOCK", "/dav/fixture/"),
        ("COPY", "/dav/fixture/public/"), ("PUT", "/dav/fixture/readonly/x.txt"),
        ("MKCOL", "/dav/fixture/readonly/x"), ("DELETE", "/dav/fixture/readonly/hello.txt"),
        ("TRACE", "/dav/"), ("SEARCH", "/dav/fixture/public/"), ("POST", "/dav/fixture/public/"),
        ("PATCH", "/dav/fixture/public/hello.txt"),
    ]:
        d(g, f"{m} {target}", method=m, target=target,
            body=b"x" if m in ("PUT", "POST", "PATCH") else b"")
