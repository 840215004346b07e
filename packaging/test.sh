#!/bin/bash
# The whole test suite: installs missing Debian packages, builds, runs every
# test suite, then does the same in an AddressSanitizer+UBSan build.
#   packaging/test.sh            both builds
#   SMBGATE_SANITIZE=0 packaging/test.sh   the plain build only
#   SMBGATE_DEB=0 packaging/test.sh        without the Debian package's test
# Build directories: build/ and build-asan/ in the source tree.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/packaging/install-deps.sh"

rc=0
logs=("$root/build/meson-logs/testlog.json")
echo "== plain build (build/)"
"$root/packaging/build.sh" "$root/build"
meson test -C "$root/build" --print-errorlogs --num-processes 2 || rc=1

# The Debian package: built, checked by lintian, installed, its installed
# daemon smoke-tested, purged (packaging/deb-test.sh; about a minute).
if [ "${SMBGATE_DEB:-1}" != 0 ]; then
  echo "== Debian package (build-deb/)"
  if "$root/packaging/deb-test.sh"; then deb_result="deb: passed"; else deb_result="deb: FAILED"; rc=1; fi
fi

if [ "${SMBGATE_SANITIZE:-1}" != 0 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/)"
  logs+=("$root/build-asan/meson-logs/testlog.json")
  "$root/packaging/build.sh" "$root/build-asan" -Db_sanitize=address,undefined -Db_lundef=false
  meson test -C "$root/build-asan" --print-errorlogs --num-processes 2 || rc=1
fi

# One closing line for the whole run, counted from meson's test logs; a
# skipped test counts as a failure (a missing smbd or kernel feature must
# not pass silently).
read -r passed failed skipped < <(python3 - "${logs[@]}" <<'PY'
import json, os, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line).get("result", "FAIL")
        counts[r if r in counts else "FAIL"] += 1
print(counts["OK"], counts["FAIL"], counts["SKIP"])
PY
)
[ "$skipped" -eq 0 ] || { echo "smbgate: $skipped test(s) skipped: not allowed" >&2; rc=1; }
[ "$passed" -gt 0 ] || { echo "smbgate: no test ran" >&2; rc=1; }
echo "$passed passed, $((failed + skipped)) failed${deb_result:+ ($deb_result)}"

if [ $rc -eq 0 ]; then
  echo "smbgate: all test suites passed"
else
  echo "smbgate: TEST FAILURES (see above; logs in build*/meson-logs/testlog.txt)" >&2
fi
exit $rc
