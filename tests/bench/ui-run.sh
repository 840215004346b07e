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

here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
root=$(realpath -- "$here/../..")
chromium=${SMBGATE_CHROMIUM:-/usr/bin/chromium}

build_dir=""
pass=()
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir)
		build_dir=$(realpath -- "$2")
		shift 2
		;;
	-h | --help)
		sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		pass+=("$1")
		shift
		;;
	esac
done

fail() {
	echo "ui-run.sh: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail "must run as root (Samba fixture, sandboxes)"
command -v node >/dev/null || fail "node is not installed (Debian package nodejs)"
command -v npm >/dev/null || fail "npm is not installed"
[ -x "$chromium" ] || fail "$chromium is missing (Debian package chromium)"

# playwright-core, as tests/browser/run.sh installs it (never a browser).
b="$root/tests/browser"
stamp="$b/node_modules/.smbgate-lock.sha256"
want=$(sha256sum "$b/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -d "$b/node_modules/playwright-core" ]; then
	echo "ui-run.sh: npm ci in tests/browser (playwright-core only)" >&2
	(cd "$b" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
	echo "$want" >"$stamp"
fi

if [ -z "$build_dir" ]; then
	build_dir="$root/build-bench"
	echo "ui-run.sh: building smbgate (release) in $build_dir" >&2
	"$root/packaging/build.sh" "$build_dir" --buildtype=release
fi
smbgate="$build_dir/gateway/smbgate"
worker="$build_dir/sandbox/smbgate-worker"
[ -x "$smbgate" ] && [ -x "$worker" ] || fail "no smbgate binaries in $build_dir (build first)"

SMBGATE_CHROMIUM=$chromium exec "$root/tests/fixtures/with-samba.sh" node "$here/ui_bench.mjs" \
	--smbgate "$smbgate" --worker "$worker" "${pass[@]}"
