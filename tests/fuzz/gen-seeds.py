#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the seed corpora of
# - fuzz-proto (corpus/proto/*.bin): one valid message of every type, in host
#   (little-endian) order, built independently of proto.c from the layout in
#   sandbox/shared/proto.h;
# - fuzz-json (corpus/json/*.json): the REST API's JSON bodies (login, file
#   operations, zip selections), valid ones and near misses;
# - fuzz-listing (corpus/listing/*.bin): listings as fuzz-listing.c reads its
#   input (see there), with the names a hostile file server can hold.
# Run from anywhere:
#   python3 tests/fuzz/gen-seeds.py
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "proto")


def msg(mtype, body=b"", strings=(), seq=1):
    payload = body + b"".join(s.encode() + b"\0" for s in strings)
    return struct.pack("<HHII", mtype, 0, seq, len(payload)) + payload


def stat(ftype, size, mtime, mtime_ns=0, ctime=0, ctime_ns=0, file_id=0):
    """struct proto_stat (and struct proto_entry_rec, the same fields)."""
    return struct.pack("<IIQqqIIQ", ftype, mtime_ns, size, mtime, ctime, ctime_ns, 0, file_id)


def entries(recs, seq=1):
    out = b""
    for i, rec in enumerate(recs):
        ftype, size, mtime, name = rec[:4]
        out += stat(ftype, size, mtime, i * 1000, mtime, 999999999 - i, 1000 + i) + \
            name.encode() + b"\0"
        if ftype == 3:  # a share's record ends with its comment
            out += (rec[4] if len(rec) > 4 else "").encode() + b"\0"
    return msg(7, struct.pack("<I", len(recs)) + out, seq=seq)


AWKWARD = [
    "file.txt", "with space", "Ünïcødé ファイル.txt", "100% done", "#hash", "a+b",
    "Tom & Jerry", "it's", '"quoted"', "emoji 😀.png", "...", ".hidden", "share$",
]

# An upload's temporary, as the gateway names them (proto_tmp_name_valid()).
TMP = ".~smbgate-new-0123456789abcdef0123456789abcdef.tmp"

SEEDS = {
    "auth": msg(2, struct.pack("<6I", 1, 5, 1, 30, 1, 0),
                ["files.example.com", "WORKGROUP", "alice", "s3cret pässwörd", "Données"]),
    "shares": msg(4),
    "stat": msg(6, strings=["data", "/dir/Ünïcødé ファイル.txt"]),
    "list": msg(8, strings=["data$", "/a b/100% #1 + 2 & \"q\" 'x'/😀"]),
    "read": msg(10, struct.pack("<QQ", 10, 2**64 - 1), ["data", "/f.bin"]),
    "write": msg(12, struct.pack("<IIQ", 1, 0, 1234), ["data", "/up.bin", TMP]),
    "mkdir": msg(14, strings=["data", "/new dir"]),
    "rename": msg(16, struct.pack("<I", 1), ["data", "/a", "/b"]),
    "copy": msg(18, struct.pack("<I", 0), ["data", "/a", "/ファイル"]),
    "unlink": msg(20, strings=["data", "/a"]),
    "rmdir": msg(22, struct.pack("<I", 2), ["data", "/d"]),
    "drop": msg(28, strings=["data", "dir/up.bin", TMP]),
    "writable": msg(46, strings=["data", "dir/Ünïcødé.txt"]),
    "aside": msg(48, struct.pack("<I", 1), ["data", "dir/old folder", TMP]),
    "zip": msg(50, struct.pack("<4I", 3, 100000, 64, 0), ["data", "dir", "a.txt\nsub dir\nÜ"]),
    "search": msg(52, struct.pack("<4I", 1000, 64, 20000, 0), ["data", "dir", "*.PDF"]),
    "tus_create": msg(54, struct.pack("<I", 1), ["data", "dir/up.bin", TMP]),
    "tus_append": msg(56, struct.pack("<QQII", 5, 10, 0, 0), ["data", "dir/up.bin", TMP]),
    "tus_info": msg(58, strings=["data", "dir/up.bin", TMP]),
    "zip_ok": msg(51, struct.pack("<IIQ", 3, 0, 2**33)),
    "found": msg(53, stat(1, 5, 1700000000), ["a/b/Ünï.txt"]),
    "hello": msg(1, struct.pack("<I", 2)),
    "error": msg(3, struct.pack("<I", 1), ["no such file"]),
    "stat_ok": msg(5, stat(2, 4096, 1700000000, 123456789, 1700000001, 999999999, 2**64 - 1)),
    "read_ok": msg(9, stat(1, 10, 1700000000, 5, 1700000000, 5, 4242) + struct.pack("<Q", 10)),
    "end": msg(11, struct.pack("<IIQ", 1, 0, 99)),
    "entries-empty": entries([]),
    "entries-shares": entries([(3, 0, 0, "data", "Team data"), (3, 0, 0, "public"),
                               (3, 0, 0, "hidden$", "Ünïcødé comment")]),
    "entries-awkward": entries([(1 + i % 2, i * 1000, 1700000000 + i, n)
                                for i, n in enumerate(AWKWARD)]),
}


def write(folder, seeds, ext):
    out = os.path.join(os.path.dirname(OUT), folder)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name + ext), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    print(f"wrote {len(seeds)} seeds to {out}")


write("proto", SEEDS, ".bin")

J = json.dumps
JSON_SEEDS = {
    "login": J({"username": "alice", "password": "s3cret pässwörd"}),
    "login-full": J({"username": "bob", "password": "", "server": "fixture",
                     "workgroup": "WORKGROUP"}),
    "login-unicode": '{"username":"\\u00dc\\u00f1\\u00ef","password":"\\ud83d\\ude00"}',
    "login-nul": '{"username":"a\\u0000b","password":"x"}',
    "login-dup": '{"username":"a","username":"b","password":"x"}',
    "login-types": J({"username": 1, "password": None, "server": [], "workgroup": {}}),
    "login-workgroup-bad": J({"username": "a", "password": "b", "workgroup": "A/B"}),
    "login-long": J({"username": "u" * 257, "password": "p" * 256}),
    "mkdir": J({"op": "mkdir"}),
    "mkdir-extra": J({"op": "mkdir", "to": "/x"}),
    "move": J({"op": "move", "to": "/folder/new name.txt"}),
    "copy-overwrite": J({"op": "copy", "to": "/Ünïcødé/ファイル", "overwrite": True}),
    "move-dotdot": J({"op": "move", "to": "/a/../b"}),
    "move-root": J({"op": "move", "to": "/"}),
    "move-trailing": J({"op": "move", "to": "/a/"}),
    "move-backslash": J({"op": "move", "to": "/a\\b"}),
    "op-unknown": J({"op": "frob", "to": "/x"}),
    "op-overwrite-type": J({"op": "copy", "to": "/x", "overwrite": "yes"}),
    "zip": J({"paths": ["/docs/a.txt", "/docs/sub dir", "/docs/Ü"]}),
    "zip-root": J({"paths": ["/a", "/b"]}),
    "zip-two-folders": J({"paths": ["/a/x", "/b/y"]}),
    "zip-bad-path": J({"paths": ["/a/x", "/a/.."]}),
    "zip-long-names": J({"paths": ["/d/" + "n" * 40, "/d/" + "m" * 40]}),
    "zip-empty": J({"paths": []}),
    "zip-extra": J({"paths": ["/a"], "more": 1}),
    "nested": "[" * 200 + "]" * 200,
    "not-json": "op=mkdir",
    "truncated": '{"op": "mo',
    "number": "1e999999",
}
write("json", JSON_SEEDS, ".json")


def listing(recs):
    """fuzz-listing.c's input: per record a type byte (0 file, 1 folder,
    2 share), size (8 bytes LE), mtime (8 bytes LE, signed), the name's length
    (2 bytes LE) and the name's bytes."""
    out = b""
    for kind, size, mtime, name in recs:
        name = name if isinstance(name, bytes) else name.encode()
        out += struct.pack("<BQqH", kind, size, mtime, len(name)) + name
    return out


HOSTILE = [b"new\nline", b"tab\there", b"cr\r", b"\x1b[31mred", b"del\x7f", b"back\\slash",
           b"bad\xff\xfeutf8", b"\xc0\xae\xc0\xae", b"\xed\xa0\x80surrogate", b"..", b".",
           b"-leading dash", b"trailing dot.", b"trailing space ", b". .", b"%2e%2e",
           b"\xef\xbc\x8e\xef\xbc\x8e", b"\xe2\x80\xaertl", b"<b>html</b>", b"\"q'\"&amp;",
           b"]]>", b"x" * 255, b"nonchar \xef\xbf\xbf\xef\xbf\xbe", b"y" * 1024, b"z" * 1025, b"a/b", b""]
LISTING_SEEDS = {
    "awkward": listing([(i % 2, i * 1000, 1700000000 + i, n) for i, n in enumerate(AWKWARD)]),
    "hostile": listing([(i % 2, 2**63 + i, -2**63 + i, n) for i, n in enumerate(HOSTILE)]),
    "shares": listing([(2, 0, 0, "data"), (2, 0, 0, "hidden$"), (2, 0, 0, "Ünï")]),
    "extremes": listing([(0, 2**64 - 1, 2**63 - 1, "max"), (0, 0, -2**63, "min"),
                         (1, 5, 253402300800, "year 10000")]),
}
write("listing", LISTING_SEEDS, ".bin")
