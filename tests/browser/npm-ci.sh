#!/bin/bash
# tests/browser/npm-ci.sh
#
# Installs the Node packages of the tests (playwright-core, tus-js-client)
# into tests/browser/node_modules with `npm ci`, pinned by package-lock.json:
# nothing but the npm registry, never a browser download. Does nothing when
# node_modules already matches the lock file (a stamp holds its hash; a
# changed lock file or a half-done install reinstalls). A missing node or npm
# is a failure, never a skip. Used by run.sh, tests/bench/ui-run.sh and the
# integration test tests/integration/test_tus_client.py.
set -euo pipefail

here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
fail() {
	echo "npm-ci: FAILED: $*" >&2
	exit 1
}
command -v node >/dev/null || fail "node is not installed (Debian package nodejs)"
command -v npm >/dev/null || fail "npm is not installed (Debian package npm)"

stamp="$here/node_modules/.smbgate-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] ||
	[ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/tus-js-client" ]; then
	echo "npm-ci: npm ci (playwright-core, tus-js-client; no browser download)"
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
		fail "npm ci failed"
	echo "$want" >"$stamp"
fi
