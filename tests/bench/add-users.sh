#!/bin/bash
# add-users.sh COUNT PASSWORD - add users bench001..benchCOUNT to a running
# Samba fixture (tests/fixtures/samba-fixture.sh), the way the fixture adds
# alice and bob: an nss_wrapper passwd entry (uid 62001...) in the fixture's
# own etc/passwd, then `smbpasswd -a` against the fixture's tdbsam passdb.
# Nothing outside $SAMBA_DIR is touched. Needs SAMBA_DIR (given by
# with-samba.sh). Idempotent: users that exist already are skipped.
#
# The gateway allows 8 sessions per (user, server), so N concurrent sessions
# need ceil(N / 8) users. The new users are not in the `public` share's
# `valid users`; they can list the shares and the `readonly` share.
set -euo pipefail

count=${1:?usage: add-users.sh COUNT PASSWORD}
pass=${2:?usage: add-users.sh COUNT PASSWORD}
D=${SAMBA_DIR:?SAMBA_DIR not set: run under tests/fixtures/with-samba.sh}
GID=${SAMBA_GID:-61000}

nss_so=""
for p in /usr/lib/x86_64-linux-gnu/libnss_wrapper.so /usr/lib/*/libnss_wrapper.so \
	/usr/lib64/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
	if [ -e "$p" ]; then
		nss_so=$p
		break
	fi
done
[ -n "$nss_so" ] || {
	echo "add-users: libnss_wrapper.so not found" >&2
	exit 1
}

# The passwd file is replaced in one rename (smbd reads it through
# nss_wrapper at any time; an append could be seen half-written), then
# smbpasswd -s adds each user ("password\npassword\n" on stdin) to tdbsam,
# which the running smbd shares.
new=()
for ((i = 1; i <= count; i++)); do
	u=$(printf 'bench%03d' "$i")
	grep -q "^$u:" "$D/etc/passwd" && continue
	new+=("$u")
done
[ ${#new[@]} -gt 0 ] || exit 0
cp "$D/etc/passwd" "$D/etc/passwd.new"
for u in "${new[@]}"; do
	i=$((10#${u#bench}))
	printf '%s:x:%d:%d:Bench user:%s/home/%s:/bin/false\n' "$u" $((62000 + i)) "$GID" "$D" "$u" \
		>>"$D/etc/passwd.new"
done
mv "$D/etc/passwd.new" "$D/etc/passwd"
for u in "${new[@]}"; do
	printf '%s\n%s\n' "$pass" "$pass" |
		env LD_PRELOAD="$nss_so" NSS_WRAPPER_PASSWD="$D/etc/passwd" \
			NSS_WRAPPER_GROUP="$D/etc/group" NSS_WRAPPER_HOSTS="$D/etc/hosts" \
			/usr/bin/smbpasswd -c "$D/etc/smb.conf" -s -a "$u" >>"$D/log/bench-users.out" 2>&1
done
