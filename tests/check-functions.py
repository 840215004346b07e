#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""No product C function over 100 lines (gateway/, sandbox/, config/).

Counts a function's lines from its declarator to its closing brace, on the
tree as clang-format leaves it (a function's braces stand in column 0).
Usage: check-functions.py [SOURCE_ROOT] [--max N]; exit 1 naming each one.
"""
import os
import re
import sys

NAME = re.compile(r"(\w+)\s*\([^;]*$")


def functions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    start = None
    for i, ln in enumerate(lines):
        if ln == "{" and start is None:
            # the declarator: the lines right above, up to the first in column 0
            j = i - 1
            while j > 0 and lines[j][:1] in ("\t", " ") and lines[j - 1].strip():
                j -= 1
            m = NAME.search(lines[j])
            start = (m.group(1) if m else "?", j)
        elif ln.startswith("}") and start is not None:
            yield start[0], start[1] + 1, i - start[1] + 1
            start = None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    limit = 100
    if "--max" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--max") + 1])
        args = [a for a in args if a != str(limit)]
    root = args[0] if args else "."
    over = []
    for top in ("gateway", "sandbox", "config"):
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith(".c"):
                    p = os.path.join(d, n)
                    for name, line, count in functions(p):
                        if count > limit:
                            over.append((count, f"{os.path.relpath(p, root)}:{line}", name))
    for count, where, name in sorted(over, reverse=True):
        print(f"{where}: {name}() is {count} lines (at most {limit})")
    print(f"check-functions: {len(over)} over {limit} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
