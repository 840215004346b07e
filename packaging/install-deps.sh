#!/bin/bash
# Installs the Debian packages of packaging/debian-packages.txt that are not
# installed yet. Idempotent: when everything is there it only checks.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/debian-packages.txt" | grep -v '^$')

missing=()
for entry in "${wanted[@]}"; do
  # "PKG:CMD" means: install PKG only when no CMD is on the PATH (npm comes
  # with some Node.js builds and is a separate Debian package otherwise).
  pkg=${entry%%:*}
  if [ "$pkg" != "$entry" ]; then
    command -v "${entry#*:}" >/dev/null 2>&1 && continue
  fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or install them with apt-get" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged Samba daemons where an init system runs; the
# demo and the tests start their own smbd and need none of them.
