#!/bin/bash
# tests/bench/fuse-cat.sh - reading one file through the sandbox's FUSE
# mount (sandbox/fuse/) beside smbclient, in the same run. For the record,
# not a timed test: prints each run and min-max.
#
#   tests/bench/fuse-cat.sh [--size-mib N] [--runs N] [--build-dir DIR]
#
# Starts a private Samba server (tests/fixtures/with-samba.sh), writes an
# N MiB file (default 1024) from /dev/urandom into its public share, mounts
# alice's file system with tests/integration/fuse-run (a user+mount
# namespace, as the test does) and alternates, --runs times (default 3):
#   cat MOUNT/public/bench-big.bin > /dev/null
#   smbclient //127.0.0.1/public --client-protection=off \
#             -c 'iosize 8388608; get bench-big.bin /dev/null'
# (no signing, no encryption: the wire of the mount's libsmbclient context and
# of tests/bench/bench.py's smbclient; 8 MiB reads: with its default iosize,
# 64512 bytes, smbclient took about 4 times as long here).
# The bytes of one cat are checked against the file (SHA-256). Needs root.
set -euo pipefail

here=$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")
root=$(realpath -- "$here/../..")
size=1024 runs=3 build="$root/build"
while [ $# -gt 0 ]; do
	case "$1" in
	--size-mib) size=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--build-dir) build=$(realpath -- "$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "fuse-cat.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
runner="$build/tests/integration/fuse-run"
[ -x "$runner" ] || { echo "fuse-cat.sh: $runner missing (packaging/build.sh build)" >&2; exit 1; }

if [ -z "${SMBGATE_FIXTURE_ENV:-}" ]; then
	exec "$root/tests/fixtures/with-samba.sh" "$0" --size-mib "$size" --runs "$runs" \
		--build-dir "$build"
fi

work=$(mktemp -d /tmp/smbgate-fuse-bench.XXXXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir "$work/mnt"
chown 65534:65534 "$work/mnt"
big="$SAMBA_SHARE_PUBLIC/bench-big.bin"
head -c "$((size << 20))" /dev/urandom >"$big"
chmod 0644 "$big"
want=$(sha256sum "$big" | cut -d' ' -f1)
echo "fuse-cat: $size MiB, $runs runs; load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2

cat >"$work/inner.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
f="$SMBGATE_FUSE_MNT/public/bench-big.bin"
got=$(sha256sum "$f" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || { echo "fuse-cat: FAIL: the bytes differ" >&2; exit 1; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
for i in $(seq "$RUNS"); do
	fuse=$(t cat "$f")
	smb=$(t smbclient //127.0.0.1/public -p "$SAMBA_PORT" -s "$SAMBA_CLIENT_CONF" \
		-U "alice%$SAMBA_PASS1" --client-protection=off -c 'iosize 8388608; get bench-big.bin /dev/null')
	echo "run $i: cat $fuse s, smbclient get $smb s" >&2
	echo "$fuse $smb"
done
EOF
chmod 755 "$work/inner.sh"
WANT=$want RUNS=$runs "$runner" alice "$work/mnt" -- "$work/inner.sh" >"$work/out" 2>&1 || {
	cat "$work/out" >&2
	exit 1
}
grep -v '^fuse-run' "$work/out" | grep -v '^[0-9.]* [0-9.]*$' >&2 || true
grep '^[0-9.]* [0-9.]*$' "$work/out" | awk -v mib="$size" '
	{ f[NR] = $1; s[NR] = $2 }
	END {
		fmin = fmax = f[1]; smin = smax = s[1]
		for (i = 2; i <= NR; i++) {
			if (f[i] < fmin) fmin = f[i]; if (f[i] > fmax) fmax = f[i]
			if (s[i] < smin) smin = s[i]; if (s[i] > smax) smax = s[i]
		}
		printf "cat through the mount:  %.2f-%.2f s (%.0f-%.0f MB/s)\n", fmin, fmax,
			mib * 1.048576 / fmax, mib * 1.048576 / fmin
		printf "smbclient get:          %.2f-%.2f s (%.0f-%.0f MB/s)\n", smin, smax,
			mib * 1.048576 / smax, mib * 1.048576 / smin
	}'
rm -f "$big"
