#!/bin/sh
# demo.sh - install what is missing, build onebox, and start a ready-to-try
# server in the foreground on unprivileged loopback ports.
#
#   sh packaging/demo.sh            (as root on Debian 12)
#
# The demo's config and data live in ./demo/ (or /var/tmp/onebox-demo when
# the checkout is not reachable by the unprivileged `onebox` user, e.g.
# under /root).  Stop it with Ctrl-C; run it again and it keeps its mail.
set -eu
cd "$(dirname "$0")/.."

sh tests/setup-deps.sh >/dev/null
[ -f Makefile ] && [ -f config.mk ] || sh ./configure >/dev/null
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

base="$PWD/demo"
if [ "$(id -u)" -eq 0 ] && ! runuser -u onebox -- test -x "$PWD" 2>/dev/null; then
	base=/var/tmp/onebox-demo
fi
mkdir -p "$base"
chmod 755 "$base"
conf="$base/onebox.conf"
if [ ! -f "$conf" ]; then
	cat > "$conf" <<EOC
# onebox demo configuration (see doc/config.md)
hostname = mail.demo.test
data_dir = $base/data
user = onebox
log_level = info
smtp_listen = 127.0.0.1:2525
submission_listen = 127.0.0.1:2587
submissions_listen = 127.0.0.1:2465
pop3_listen = 127.0.0.1:2110
pop3s_listen = 127.0.0.1:2995
imap_listen = 127.0.0.1:2143
imaps_listen = 127.0.0.1:2993
http_listen = 127.0.0.1:2080
https_listen = 127.0.0.1:2443
EOC
fi
# a demo made before the web side: keep it off ports 80/443 (the defaults)
grep -q '^http_listen' "$conf" || printf 'http_listen = 127.0.0.1:2080\nhttps_listen = 127.0.0.1:2443\n' >> "$conf"

ob="./build/onebox -c $conf"
$ob domain list 2>/dev/null | grep -q '^demo.test' || $ob domain add demo.test >/dev/null
pw_file="$base/alice.password"
if ! $ob user list demo.test 2>/dev/null | grep -q '^alice@demo.test'; then
	head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$pw_file"
	$ob user add alice@demo.test < "$pw_file" >/dev/null
	chmod 600 "$pw_file"
fi
pw=$(cat "$pw_file")
admin_pw_file="$base/admin.password"
if ! $ob admin list 2>/dev/null | grep -qx admin; then
	head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$admin_pw_file"
	$ob admin add admin < "$admin_pw_file" >/dev/null
	chmod 600 "$admin_pw_file"
fi
admin_pw=$(cat "$admin_pw_file")

cat <<EOM

onebox demo: domain demo.test, user alice@demo.test, password: $pw
  config: $conf

Admin page: https://127.0.0.1:2443/admin/   admin: admin   password: $admin_pw
  (a self-signed certificate: the browser warns once)
Thunderbird autoconfig, as a mail program asks it:
  curl 'http://127.0.0.1:2080/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice@demo.test'

Send a first mail (in another terminal):
  swaks --server 127.0.0.1:2525 --from you@example.org --to alice@demo.test
Submit with authentication, as a mail program would:
  swaks --server 127.0.0.1:2587 --tls --auth PLAIN --auth-user alice@demo.test \\
        --auth-password '$pw' --from alice@demo.test --to alice@demo.test
Read it:
  curl -k --ssl-reqd pop3://127.0.0.1:2110/1 -u 'alice@demo.test:$pw'
  curl -k imaps://127.0.0.1:2993/ -u 'alice@demo.test:$pw' -X NAMESPACE
  (or an IMAP client: server 127.0.0.1, port 2143 with STARTTLS or 2993 with SSL/TLS)
  ls $base/data/mail/demo.test/alice/new/ $base/data/mail/demo.test/alice/cur/
Add a user:
  echo 'their-password' | ./build/onebox -c $conf user add bob@demo.test

Starting oneboxd (Ctrl-C stops it)...
EOM
exec ./build/oneboxd -c "$conf"
