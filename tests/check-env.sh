#!/bin/sh
# check-env.sh - verify that this machine can build onebox and run its tests.
#
# Checks capabilities, not package names: each line below is something the
# build, `make check`, `make check-sanitize`, `make fuzz` or packaging/demo.sh
# actually does.  Prints one line per missing capability with the Debian
# package that provides it and exits 1 when any is missing; exits 0 (quietly
# but for a summary line) otherwise.  tests/setup-deps.sh runs it after
# installing; run it alone with `sh tests/check-env.sh`.
set -u

PY=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0

# check WHAT PACKAGE COMMAND...: run COMMAND quietly, report WHAT if it fails
check() {
	what=$1 pkg=$2
	shift 2
	if ! "$@" >"$tmp/out" 2>&1; then
		echo "check-env: MISSING: $what (Debian package: $pkg)" >&2
		sed 's/^/check-env:     /' "$tmp/out" | head -5 >&2
		failed=1
	fi
}

has() {
	command -v "$1"
}

# cc_link FLAGS...: compile and link a tiny program (source in $tmp/t.c)
cc_link() {
	"$CC" "$tmp/t.c" -o "$tmp/t" "$@" && "$tmp/t"
}

libs_test() {
	cat > "$tmp/t.c" <<'EOF'
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <crypt.h>
#include <idn2.h>
#include <openssl/ssl.h>
#include <security/pam_appl.h>
#include <sqlite3.h>
#include <unbound.h>
int
main(void)
{
	return OPENSSL_init_ssl(0, NULL) != 1 || sqlite3_libversion_number() <= 0 ||
	    crypt_gensalt_ra("$y$", 0, NULL, 0) == NULL || pam_strerror(NULL, 0) == NULL ||
	    idn2_check_version(NULL) == NULL || ub_version() == NULL || _test_free == NULL;
}
EOF
	mods="openssl sqlite3 libxcrypt pam libidn2 libmicrohttpd cmocka"
	pkg-config --exists $mods || return 1
	# shellcheck disable=SC2046
	# libunbound without pkg-config: see ./configure
	cc_link $(pkg-config --cflags --libs $mods) -lunbound
}

san_test() {
	printf 'int main(void) { return 0; }\n' > "$tmp/t.c"
	cc_link -fsanitize=address,undefined -fno-omit-frame-pointer
}

fuzz_test() {
	cat > "$tmp/f.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }
EOF
	clang -fsanitize=fuzzer,address,undefined "$tmp/f.c" -o "$tmp/f" &&
	    "$tmp/f" -runs=10 2>&1
}

check "C compiler ($CC)" build-essential has "$CC"
check make build-essential has make
check pkg-config pkg-config has pkg-config
check "openssl, sqlite3, libxcrypt, pam, libidn2, libmicrohttpd, libunbound, cmocka headers and libraries (pkg-config)" \
	"libssl-dev libsqlite3-dev libcrypt-dev libpam0g-dev libidn2-dev libmicrohttpd-dev libunbound-dev libcmocka-dev" libs_test
check "ASan + UBSan runtime for $CC (make check-sanitize)" build-essential san_test
check "clang -fsanitize=fuzzer (make fuzz)" "clang libclang-rt-14-dev" fuzz_test
check "llvm-symbolizer (readable sanitizer and fuzzer stacks)" llvm has llvm-symbolizer
check "$PY with pytest, dnslib and aiosmtpd" "python3-pytest python3-dnslib python3-aiosmtpd" \
	"$PY" -c 'import pytest, dnslib, aiosmtpd, poplib, smtplib, sqlite3, ssl'
check "openssl command" openssl openssl version
check "xmllint (autoconfig and Autodiscover answers)" libxml2-utils has xmllint
check "$PY with selenium (browser tests)" python3-selenium "$PY" -c 'import selenium.webdriver'
check "chromium starts headless (browser tests)" chromium sh -c \
	'timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom about:blank | grep -q "<html"'
check "chromedriver (browser tests)" chromium-driver chromedriver --version
check "localhost in /etc/hosts (chromedriver, without DNS)" "an /etc/hosts line '127.0.0.1 localhost'" \
	grep -qs '^[[:space:]]*127\.0\.0\.1[[:space:]].*\blocalhost\b' /etc/hosts
check "node and npm (the imapflow IMAP client test)" "nodejs npm" sh -c 'command -v node && command -v npm'
check "swaks" swaks swaks --version
check "Net::SSLeay (swaks --tls)" libnet-ssleay-perl perl -MNet::SSLeay -e1
check "curl with pop3 and pop3s" curl sh -c 'curl --version | grep -q "pop3s"'
check "fetchmail" fetchmail fetchmail --version
check "useradd, userdel, chpasswd (PAM tests)" passwd sh -c \
	'command -v useradd && command -v userdel && command -v chpasswd'
check "runuser (packaging/demo.sh)" util-linux has runuser
check "base64 (packaging/demo.sh)" coreutils has base64

if [ "$failed" -ne 0 ]; then
	echo "check-env: this machine cannot build or test onebox; install the packages named above" >&2
	exit 1
fi
echo "check-env: build, test, fuzz and demo tools all present"
