#!/bin/bash
# The Debian package, end to end, on this machine (run as root by
# packaging/test.sh): build it (deb.sh), check it with lintian, install it
# with dpkg -i, start the INSTALLED daemon (/usr/sbin/smbgate, its worker
# from /usr/libexec/smbgate) against the Samba fixture under the systemd
# unit's capability bounding set and NoNewPrivileges (no systemd here: it is
# not PID 1 in CI), log in, list, download, upload, run smbgatectl, then
# purge the package and check that nothing of it is left running or
# installed.
#   packaging/deb-test.sh [OUTDIR]   (the .deb is left in OUTDIR, default build-deb/)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "deb-test: must run as root (dpkg -i)" >&2; exit 1; }
for tool in dpkg-buildpackage dh lintian setpriv systemd-analyze curl; do
  command -v "$tool" >/dev/null || { echo "deb-test: $tool is missing" >&2; exit 1; }
done

if [ "${1:-}" != --inside ]; then
  echo "== Debian package: build"
  mkdir -p "$root/build-deb"
  deb=$("$root/packaging/deb.sh" "${1:-$root/build-deb}" | tail -n 1)
  echo "$deb"
  echo "== lintian"
  # Errors and warnings fail; the overrides in packaging/debian/ say why each is one.
  lint=0
  lintian --fail-on error,warning "$deb" >"$root/build-deb/lintian.txt" 2>&1 || lint=$?
  grep -v 'running with root privileges' "$root/build-deb/lintian.txt" || true
  [ $lint -eq 0 ] || { echo "deb-test: lintian found errors or warnings" >&2; exit 1; }
  echo "== dpkg -i"
  if dpkg-query -W -f='${db:Status-Status}' smbgate 2>/dev/null | grep -qx installed; then
    echo "deb-test: smbgate is installed already: purging it first" >&2
    dpkg --purge smbgate >/dev/null
  fi
  dpkg -i "$deb" >/dev/null
  rc=0
  "$root/tests/fixtures/with-samba.sh" "$0" --inside || rc=$?
  echo "== dpkg --purge"
  dpkg --purge smbgate >/dev/null
  left=()
  for p in /usr/sbin/smbgate /usr/sbin/smbgatectl /usr/libexec/smbgate /usr/share/smbgate \
           /etc/smbgate /lib/systemd/system/smbgate.service /usr/share/man/man8/smbgate.8.gz; do
    [ -e "$p" ] && left+=("$p")
  done
  [ ${#left[@]} -eq 0 ] || { echo "deb-test: left after purge: ${left[*]}" >&2; rc=1; }
  if dpkg-query -W -f='${db:Status-Status}' smbgate 2>/dev/null | grep -q .; then
    st=$(dpkg-query -W -f='${db:Status-Status}' smbgate 2>/dev/null)
    [ "$st" = not-installed ] || { echo "deb-test: dpkg still knows smbgate: $st" >&2; rc=1; }
  fi
  if pgrep -f '^/usr/sbin/smbgate|/usr/libexec/smbgate/' >/dev/null; then
    echo "deb-test: smbgate processes left running:" >&2
    pgrep -af '^/usr/sbin/smbgate|/usr/libexec/smbgate/' >&2
    rc=1
  fi
  [ $rc -eq 0 ] && echo "deb-test: package OK (built, lintian clean, installed, smoke-tested, purged)"
  exit $rc
fi

# ---- inside the Samba fixture, with the package installed ----
fail() { echo "deb-test: FAIL: $*" >&2; [ -f "${log:-}" ] && tail -n 40 "$log" >&2; exit 1; }
unit=/lib/systemd/system/smbgate.service
[ -x /usr/sbin/smbgate ] && [ -x /usr/libexec/smbgate/smbgate-worker ] || fail "not installed"
[ -f /etc/smbgate/tls/cert.pem ] && [ "$(stat -c %a /etc/smbgate/tls/key.pem)" = 600 ] ||
  fail "postinst made no certificate, or its key is not 0600"
grep -q '^smbgate:200000:65536$' /etc/subuid || fail "no /etc/subuid range for smbgate"
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
/usr/sbin/smbgate --check-config >/dev/null || fail "the installed configuration does not check"
# The unit's reload checks the file before its SIGHUP (systemd stops at the
# first ExecReload= that fails, and "systemctl reload" fails with it): the
# check, as the unit runs it, refuses a mistake and names its line.
mapfile -t reloads < <(sed -n 's/^ExecReload=//p' "$unit")
[ "${#reloads[@]}" = 2 ] && [ "${reloads[0]}" = "/usr/sbin/smbgate --check-config" ] &&
  [ "${reloads[1]}" = '/bin/kill -HUP $MAINPID' ] || fail "ExecReload: ${reloads[*]}"
badconf=$(mktemp)
printf '[gateway]\nlisten = nowhere\n[server a]\nhost = x\n' >"$badconf"
out=$(${reloads[0]} -c "$badconf" 2>&1) && fail "the reload's check passed a bad file"
rm -f "$badconf"
echo "$out" | grep -q ":2: \[gateway\] listen: " || fail "the reload's check said: $out"
man -w smbgate.conf.5 >/dev/null || fail "no smbgate.conf(5)"

work=$(mktemp -d)
gw_pid=
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf=$work/smbgate.conf
log=$work/smbgate.log
# The shipped configuration's mounts (on-demand): smbgatectl exec below must
# find the shares there with it.
shipped_mounts=$(sed -n 's/^mounts = //p' /etc/smbgate/smbgate.conf)
[ -n "$shipped_mounts" ] || fail "no [sandbox] mounts in the installed /etc/smbgate/smbgate.conf"
cat >"$conf" <<CONF
[gateway]
listen = 127.0.0.1:$port
control_socket = $work/ctl/control.sock
audit = yes
[sandbox]
uid_range = 3000000-3000063
mounts = $shipped_mounts
[server fixture]
host = $SAMBA_HOST
port = $SAMBA_PORT
workgroup = $SAMBA_WORKGROUP
CONF

# The unit's capability bounding set, read from the installed unit itself
# (DEB_TEST_CAPS replaces it, to find out what each capability is for).
caps=${DEB_TEST_CAPS:-$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")}
[ -n "$caps" ] || fail "no CapabilityBoundingSet in $unit"
bset=-all
for c in $caps; do
  c=${c#CAP_}
  bset+=",+${c,,}"
done
echo "== the installed smbgate, bounding set $bset, no new privileges"
setpriv --bounding-set "$bset" --no-new-privs -- /usr/sbin/smbgate -c "$conf" >"$log" 2>&1 &
gw_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$gw_pid" 2>/dev/null || fail "smbgate exited"
  sleep 0.1
done
[ "$(curl -s "$base/healthz")" = '{"status":"ok"}' ] || fail "no /healthz"
grep -q "listening on http://127.0.0.1:$port/" "$log" || fail "no start-up line"
capbnd=$(awk '/^CapBnd/ {print $2}' "/proc/$gw_pid/status")
[ "$capbnd" != 000001ffffffffff ] && [ "$capbnd" != 000003ffffffffff ] ||
  fail "the bounding set was not applied ($capbnd)"

echo "== login, listing, download, upload"
code=$(curl -s -o "$work/login.json" -w '%{http_code}' -c "$work/cookies" "$base/api/v1/login" \
  -H 'Content-Type: application/json' \
  -d "{\"username\":\"$SAMBA_USER1\",\"password\":\"$SAMBA_PASS1\"}")
[ "$code" = 200 ] || fail "login: $code $(cat "$work/login.json")"
list=$(curl -s -b "$work/cookies" "$base/api/v1/fs/fixture/public/")
echo "$list" | grep -q '"name":"hello.txt"' || fail "listing: $list"
curl -s -b "$work/cookies" -o "$work/hello.txt" "$base/api/v1/fs/fixture/public/hello.txt"
cmp -s "$work/hello.txt" "$SAMBA_SHARE_PUBLIC/hello.txt" || fail "download differs"
head -c 3000000 /dev/urandom >"$work/up.bin"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$work/cookies" -H 'X-Requested-With: t' \
  -T "$work/up.bin" "$base/api/v1/fs/fixture/public/deb-test-upload.bin")
[ "$code" = 201 ] || fail "upload: $code"
cmp -s "$work/up.bin" "$SAMBA_SHARE_PUBLIC/deb-test-upload.bin" || fail "uploaded bytes differ"
code=$(curl -s -o /dev/null -w '%{http_code}' -u "$SAMBA_USER2:$SAMBA_PASS2" \
  "$base/api/v1/fs/fixture/public/deb-test-upload.bin")
[ "$code" = 200 ] || fail "Basic download: $code"

echo "== smbgatectl (installed) under the same bounding set"
out=$(/usr/sbin/smbgatectl -s "$work/ctl/control.sock" exec "$SAMBA_USER1" -- \
  cat /shares/fixture/public/hello.txt) || fail "smbgatectl exec: $out"
[ "$out" = "$(cat "$SAMBA_SHARE_PUBLIC/hello.txt")" ] || fail "exec read: $out"
out=$(/usr/sbin/smbgatectl -s "$work/ctl/control.sock" sessions --json)
echo "$out" | python3 -c '
import json, sys
s = {x["user"]: x for x in json.load(sys.stdin)["sessions"]}
sys.exit(0 if s[sys.argv[1]]["mounted"] == "yes" else 1)' "$SAMBA_USER1" ||
  fail "smbgatectl sessions after exec: $out"
/usr/sbin/smbgatectl -s "$work/ctl/control.sock" kill --user "$SAMBA_USER1" >/dev/null ||
  fail "smbgatectl kill"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$work/cookies" "$base/api/v1/fs/")
[ "$code" = 401 ] || fail "after kill: $code"

echo "== the log"
grep -q 'event=login ' "$log" || fail "no login line"
grep -q 'event=audit .*op=upload .*result=ok' "$log" || fail "no audit line of the upload"
! grep -q -e "$SAMBA_PASS1" -e "$SAMBA_PASS2" "$log" || fail "a password in the log"
# libmicrohttpd's own warnings go through the gateway's logger, none at start
! grep -q 'MHD_OPTION' "$log" || fail "libmicrohttpd warned about its options: $(grep MHD_OPTION "$log")"
rm -f "$SAMBA_SHARE_PUBLIC/deb-test-upload.bin"

[ -z "${DEB_TEST_LOG:-}" ] || cp "$log" "$DEB_TEST_LOG"
kill -TERM "$gw_pid"
wait "$gw_pid" || fail "smbgate did not stop cleanly"
gw_pid=
# The spawner and the sandboxes' PID 1 carry the gateway's command line.
for p in /proc/[0-9]*; do
  if grep -qaF -- "$conf" "$p/cmdline" 2>/dev/null; then fail "process ${p#/proc/} left after stop"; fi
done
echo "deb-test: installed daemon OK"
