#!/bin/sh
# setup-deps.sh - install what onebox's build and test suite need on Debian 12.
#
# Run as root.  Installs only the missing Debian packages (one `apt-get
# update` first when anything is missing), creates the unprivileged system
# user `onebox` the services run as, and installs the PAM service file
# (packaging/pam.d/onebox -> /etc/pam.d/onebox) when it is not there yet.
# Safe to run again: it does nothing when everything is in place.
#
# Then it checks every capability the build, `make check`, `make fuzz` and
# packaging/demo.sh use (compilers, libraries, sanitizer and libFuzzer
# runtimes, swaks TLS, the Python modules, the client programs) and fails,
# naming each missing piece, before any test runs.
set -eu

cd "$(dirname "$0")/.."

# swaks only Recommends libnet-ssleay-perl (its STARTTLS); clang 14 only
# Recommends libclang-rt-14-dev (the libFuzzer and sanitizer runtimes).
PKGS="build-essential clang libclang-rt-14-dev llvm pkg-config libssl-dev
libsqlite3-dev libcrypt-dev libpam0g-dev libidn2-dev libmicrohttpd-dev libunbound-dev libcmocka-dev python3
python3-pytest python3-dnslib python3-aiosmtpd python3-selenium chromium chromium-driver libxml2-utils swaks libnet-ssleay-perl openssl curl fetchmail procps
iproute2 passwd util-linux coreutils"

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-deps.sh: not root; checking only (install what is listed as missing by hand)" >&2
fi

# The imapflow test client (installed by the test from the npm registry)
# needs node and npm: Debian's, unless the machine has them already (e.g.
# a NodeSource nodejs, which bundles npm and conflicts with Debian's npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	PKGS="$PKGS nodejs npm"
fi

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "setup-deps.sh: missing Debian packages:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing
else
	echo "setup-deps.sh: all Debian packages present"
fi

# "localhost" must be a name the machine knows without DNS: chromedriver
# and Chromium's DevTools reach each other by it, and a test must never
# ask the machine's resolver.  A minimal Debian (debootstrap, mmdebstrap,
# many container images) has no /etc/hosts; the installer writes one.
if [ "$(id -u)" -eq 0 ] && ! grep -qs '^[[:space:]]*127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts; then
	echo "setup-deps.sh: adding localhost to /etc/hosts"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >> /etc/hosts
fi

sh tests/check-env.sh

[ "$(id -u)" -eq 0 ] || exit 0

# The unprivileged user the services run as (config key `user`).
if ! getent passwd onebox >/dev/null; then
	echo "setup-deps.sh: creating system user onebox"
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin onebox
fi

# PAM service for users of `--system` domains.
if [ ! -e /etc/pam.d/onebox ]; then
	if [ -f packaging/pam.d/onebox ]; then
		echo "setup-deps.sh: installing /etc/pam.d/onebox"
		install -m 644 packaging/pam.d/onebox /etc/pam.d/onebox
	else
		echo "setup-deps.sh: packaging/pam.d/onebox not found; PAM tests will use PAM's 'other' service" >&2
	fi
fi
exit 0
