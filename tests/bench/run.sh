#!/bin/bash
# tests/bench/run.sh - smbgate's benchmark, side by side with smbclient and
# rclone serve http, against a private Samba server (tests/fixtures/).
#
#   tests/bench/run.sh [--smoke] [--build-dir DIR] [--no-install] [BENCH OPTIONS]
#
#   --smoke            tiny sizes (16 MiB, 200 entries, 5 logins, 5 sessions,
#                      a search tree of 400 entries),
#                      under a minute; checks that every figure exists and the
#                      gateway's bytes are right, asserts no timing
#   --build-dir DIR    use the smbgate binaries of this meson build directory
#                      (default: build and use $root/build-bench,
#                      --buildtype=release)
#   --no-install       do not apt-get install rclone when it is missing
#                      (the full run installs it; --smoke never does)
# Options passed on to bench.py (defaults of the full run):
#   --size-mib 1024 --runs 5 --entries 10000 --list-runs 5 --logins 50
#   --sessions "50 200 1000" --parallel 4 --no-rclone
#   --search-entries 20000 --search-folders 500
#   --skip transfer,enc,dav,parallel,https,list,login,sessions,zip,search (dav:
#   WebDAV GET/PUT, which run with transfer skipped too, and PROPFIND)
#   --json FILE
#   --mounts off|login
#   --smb-socket handoff|relay (the gateway's [sandbox] smb_socket; default handoff)
#   --prestart N (the gateway's [sandbox] prestart; default: its own, 1)
#   --keep (leave the work folder: the gateways' logs, each request's ms)
#   --server-timeout S (the servers' timeout; default: the gateway's, 30 s)
# Needs root (the Samba fixture and the gateway's sandboxes), samba, smbclient,
# libnss-wrapper, curl, python3, openssl and haproxy (the HTTPS rows). Prints the table on stdout, progress on stderr.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")/lib.sh"
bench_parse "${BASH_SOURCE[0]}" "$@"

[ "$(id -u)" -eq 0 ] || {
	echo "run.sh: must run as root (Samba fixture, sandboxes)" >&2
	exit 1
}
for t in curl smbclient python3 openssl haproxy; do
	command -v "$t" >/dev/null || {
		echo "run.sh: $t not found" >&2
		exit 1
	}
done

if ! command -v rclone >/dev/null; then
	if [ "$smoke" -eq 0 ] && [ "$install" -eq 1 ]; then
		if apt-cache policy rclone 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			echo "run.sh: installing Debian's rclone" >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q rclone >&2 ||
				echo "run.sh: apt-get install rclone failed: rclone column n/a" >&2
		else
			echo "run.sh: no rclone package in this Debian: rclone column n/a" >&2
		fi
	else
		echo "run.sh: rclone not installed: rclone column n/a" >&2
	fi
fi

bench_binaries run.sh

py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
exec "$root/tests/fixtures/with-samba.sh" "$py" "$here/bench.py" \
	--smbgate "$smbgate" --worker "$worker" "${pass[@]}"
