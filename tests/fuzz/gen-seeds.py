#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the seed corpus of fuzz-proto (corpus/proto/*.bin): one valid
# message of every type, in host (little-endian) order, built independently
# of proto.c from the layout in sandbox/shared/proto.h. Run from anywhere:
#   python3 tests/fuzz/gen-seeds.py
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "proto")


def msg(mtype, body=b"", strings=(), seq=1):
    payload = body + b"".join(s.encode() + b"\0" for s in strings)
    return struct.pack("<HHII", mtype, 0, seq, len(payload)) + payload


def entries(recs, seq=1):
    out = b""
    for rec in recs:
        ftype, size, mtime, name = rec[:4]
        out += struct.pack("<IIQq", ftype, 0, size, mtime) + name.encode() + b"\0"
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
                ["files.example.com", "WORKGROUP", "alice", "s3cret pässwörd"]),
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
    "zip": msg(50, struct.pack("<4I", 3, 100000, 64, 0), ["data", "dir", "a.txt\nsub dir\nÜ"]),
    "search": msg(52, struct.pack("<4I", 1000, 64, 20000, 0), ["data", "dir", "*.PDF"]),
    "tus_create": msg(54, struct.pack("<I", 1), ["data", "dir/up.bin", TMP]),
    "tus_append": msg(56, struct.pack("<QQII", 5, 10, 0, 0), ["data", "dir/up.bin", TMP]),
    "tus_info": msg(58, strings=["data", "dir/up.bin", TMP]),
    "zip_ok": msg(51, struct.pack("<IIQ", 3, 0, 2**33)),
    "found": msg(53, struct.pack("<IIQq", 1, 0, 5, 1700000000), ["a/b/Ünï.txt"]),
    "hello": msg(1, struct.pack("<I", 2)),
    "error": msg(3, struct.pack("<I", 1), ["no such file"]),
    "stat_ok": msg(5, struct.pack("<IIQq", 2, 0, 4096, 1700000000)),
    "read_ok": msg(9, struct.pack("<IIQqQ", 1, 0, 10, 1700000000, 10)),
    "end": msg(11, struct.pack("<IIQ", 1, 0, 99)),
    "entries-empty": entries([]),
    "entries-shares": entries([(3, 0, 0, "data", "Team data"), (3, 0, 0, "public"),
                               (3, 0, 0, "hidden$", "Ünïcødé comment")]),
    "entries-awkward": entries([(1 + i % 2, i * 1000, 1700000000 + i, n)
                                for i, n in enumerate(AWKWARD)]),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(data)
print(f"wrote {len(SEEDS)} seeds to {OUT}")
