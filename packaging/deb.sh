#!/bin/bash
# Builds the Debian package smbgate_VERSION_ARCH.deb with Debian's own tools
# (dpkg-buildpackage, debhelper driving meson) from a clean tree: the
# committed HEAD (git archive), plus packaging/debian/ as debian/.
#   packaging/deb.sh [OUTDIR]     default OUTDIR: build-deb/ in the checkout
# Prints the .deb's path on its last line. Uncommitted changes are not in
# the package (a warning says so).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n "s/^  version : '\([^']*\)',\$/\1/p" "$root/meson.build")
deb_version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
if [ "$version" != "$deb_version" ]; then
  echo "deb.sh: meson.build says $version, packaging/debian/changelog says $deb_version" >&2
  exit 1
fi
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "deb.sh: warning: uncommitted changes are not packaged (building HEAD)" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/smbgate-$version
mkdir "$src"
git -C "$root" archive --format=tar HEAD | tar -x -C "$src"
cp -a "$src/packaging/debian" "$src/debian"
(cd "$src" && dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1) || {
  tail -n 60 "$tmp/build.log" >&2
  echo "deb.sh: dpkg-buildpackage failed" >&2
  exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=smbgate_${version}_${arch}.deb
mv "$tmp/$deb" "$out/"
rm -f "$tmp"/*.buildinfo "$tmp"/*.changes "$tmp"/*.ddeb "$tmp"/*-dbgsym_*.deb
echo "$out/$deb"
