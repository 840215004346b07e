#!/bin/bash
# HTTPS: with tls_certificate/tls_key set, smbgate serves TLS only, the session
# cookie is Secure, and files come through intact.
#   test-tls.sh SMBGATE WORKER   (under tests/fixtures/with-samba.sh)
set -euo pipefail
smbgate=$1
worker=$2
. "$SMBGATE_FIXTURE_ENV"
for cmd in openssl curl python3; do
  command -v "$cmd" >/dev/null || { echo "FAIL: $cmd is missing" >&2; exit 1; }
done

dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "---- gateway log" >&2
  cat "$dir/log" >&2 || true
  exit 1
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
  -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/smbgate.conf" <<CONF
[gateway]
listen = 127.0.0.1:$port
tls_certificate = $dir/cert.pem
tls_key = $dir/key.pem
[server fixture]
host = $SAMBA_HOST
port = $SAMBA_PORT
workgroup = $SAMBA_WORKGROUP
CONF
"$smbgate" -c "$dir/smbgate.conf" --worker "$worker" 2>"$dir/log" &
pid=$!
url=https://127.0.0.1:$port
for _ in $(seq 100); do
  curl -s --cacert "$dir/cert.pem" "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# Login over TLS: 200 and a Secure, HttpOnly, SameSite=Strict cookie.
headers=$(curl -s --cacert "$dir/cert.pem" -D - -o "$dir/login.json" "$url/api/v1/login" \
  -H 'Content-Type: application/json' -d "{\"username\":\"$SAMBA_USER1\",\"password\":\"$SAMBA_PASS1\"}")
grep -q '^HTTP/1.1 200' <<<"$headers" || fail "login: $headers"
grep -qi '^Set-Cookie: smbgate_session=[A-Za-z0-9_-]\{43\}; HttpOnly; SameSite=Strict; Path=/; Secure' <<<"$headers" ||
  fail "cookie not Secure: $headers"

# A file, byte for byte, with the certificate verified.
curl -s --fail --cacert "$dir/cert.pem" -u "$SAMBA_USER1:$SAMBA_PASS1" -o "$dir/big.bin" \
  "$url/api/v1/fs/fixture/public/big.bin" || fail "download over TLS"
cmp "$dir/big.bin" "$SAMBA_SHARE_PUBLIC/big.bin" || fail "big.bin differs"

# Plain HTTP on the TLS port gets no HTTP answer.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)
[ "$code" = 000 ] || fail "plain HTTP answered $code"

kill "$pid"
wait "$pid" || fail "smbgate exited with $? on SIGTERM"
pid=
echo "tls: 4 passed, 0 failed"
