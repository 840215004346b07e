#!/bin/bash
# tests/bench/ui-run.sh - the web UI's benchmark with big folders: Debian's
# Chromium (playwright-core, as tests/browser/) against the gateway and a
# private Samba server (tests/fixtures/). See tests/bench/ui_bench.mjs for
# what is measured; figures in docs/web-ui-big-folders.md.
#
#   tests/bench/ui-run.sh [--smoke] [--build-dir DIR] [BENCH OPTIONS]
#
#   --smoke            tiny folders (300 and 2000 entries), one run; checks
#                      that every figure exists, asserts no timing
#   --build-dir DIR    use the smbgate binaries of this meson build directory
#                      (default: build and use $root/build-bench, release)
# Options passed on to ui_bench.mjs (defaults):
#   --runs 5 --runs-100k 3 --entries 10000 --big 100000 --json FILE
# Needs root (the Samba fixture and the gateway's sandboxes), samba,
# libnss-wrapper, node, npm, chromium.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")/lib.sh"
chromium=${SMBGATE_CHROMIUM:-/usr/bin/chromium}
bench_parse "${BASH_SOURCE[0]}" "$@"

fail() {
	echo "ui-run.sh: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail "must run as root (Samba fixture, sandboxes)"
command -v node >/dev/null || fail "node is not installed (Debian package nodejs)"
command -v npm >/dev/null || fail "npm is not installed"
[ -x "$chromium" ] || fail "$chromium is missing (Debian package chromium)"

# playwright-core, by tests/browser/npm-ci.sh (never a browser download).
"$root/tests/browser/npm-ci.sh" >&2 || fail "npm ci failed"

bench_binaries ui-run.sh

SMBGATE_CHROMIUM=$chromium exec "$root/tests/fixtures/with-samba.sh" node "$here/ui_bench.mjs" \
	--smbgate "$smbgate" --worker "$worker" "${pass[@]}"
