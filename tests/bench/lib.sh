# shellcheck shell=bash disable=SC2034 # the variables are the callers'
# tests/bench/lib.sh - what run.sh and ui-run.sh share (sourced, not run).
#
# bench_parse SCRIPT ARGS...: --build-dir DIR sets build_dir, --no-install
# sets install=0, --smoke sets smoke=1 (and is passed on), -h/--help prints
# SCRIPT's opening comment; every other argument is kept in pass (for the
# benchmark itself).
# bench_binaries NAME: smbgate and worker from build_dir, built first (release,
# in build-bench/ of the tree) when no --build-dir was given; NAME: the
# caller's, in messages.

here=$(dirname -- "$(realpath -- "${BASH_SOURCE[1]}")")
root=$(realpath -- "$here/../..")

bench_parse() {
	local script=$1
	shift
	build_dir="" install=1 smoke=0
	pass=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--build-dir)
			build_dir=$(realpath -- "$2")
			shift 2
			;;
		--no-install)
			install=0
			shift
			;;
		--smoke)
			smoke=1
			pass+=("$1")
			shift
			;;
		-h | --help)
			sed -n '2,/^set -e/p' "$script" | sed -e '$d' -e 's/^# \{0,1\}//'
			exit 0
			;;
		*)
			pass+=("$1")
			shift
			;;
		esac
	done
}

bench_binaries() {
	if [ -z "$build_dir" ]; then
		build_dir="$root/build-bench"
		echo "$1: building smbgate (release) in $build_dir" >&2
		"$root/packaging/build.sh" "$build_dir" --buildtype=release
	fi
	smbgate="$build_dir/gateway/smbgate"
	worker="$build_dir/sandbox/smbgate-worker"
	for b in "$smbgate" "$worker"; do
		[ -x "$b" ] || {
			echo "$1: $b not found (build first)" >&2
			exit 1
		}
	done
}
