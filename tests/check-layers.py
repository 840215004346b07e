#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's rooms and what each may call, checked over its #include lines.

gateway/ is one folder per job (docs/development.md). A file may include
headers of its own room and of the rooms before it in this order:

    ctl, log, store < http < auth < files < rest, dav < ops < gateway/*.c

(gateway/gateway.h, the process's shared state, is open to all). Rooms of
one rank (rest and dav; ctl, log and store) never include each other. On
top, no circle: the graph of modules (a .c and its .h are one) has no cycle.

Usage: check-layers.py [SOURCE_ROOT]; exit 1 with one line per breach.
"""
import os
import re
import sys

RANK = {"ctl": 0, "log": 0, "store": 0, "http": 1, "auth": 2, "files": 3, "rest": 4, "dav": 4, "ops": 5, "": 6}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def room_of(rel):
    parts = rel.split("/")
    return parts[0] if len(parts) > 1 else ""


def main():
    root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "gateway")
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(d, n), root)
                with open(os.path.join(d, n), encoding="utf-8") as f:
                    files[rel] = INCLUDE.findall(f.read())
    bad = []
    unknown = sorted({room_of(r) for r in files} - set(RANK))
    for r in unknown:
        bad.append(f"gateway/{r}/: a room with no place in the order (tests/check-layers.py)")
    graph = {}
    for rel, incs in sorted(files.items()):
        src = room_of(rel)
        mod = rel.rsplit(".", 1)[0]
        for inc in incs:
            if inc not in files or inc == "gateway.h":
                continue  # outside gateway/ (sandbox/, config/, generated) or the shared state
            dst = room_of(inc)
            dmod = inc.rsplit(".", 1)[0]
            if dmod != mod:
                graph.setdefault(mod, set()).add(dmod)
            if dst == src or src in unknown or dst in unknown:
                continue
            if RANK[dst] >= RANK[src]:
                bad.append(f"gateway/{rel} includes {inc}: {src or 'the top'} may not call "
                           f"{dst or 'the top'}")
    # no circle among modules
    state = {}

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cyc = stack[stack.index(n):] + [n]
                bad.append("a circle: " + " -> ".join(cyc))
            elif not state.get(n):
                visit(n, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m, [])
    for b in bad:
        print(b)
    print(f"{len(files)} files, {sum(len(v) for v in graph.values())} module edges, "
          f"{len(bad)} breaches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
