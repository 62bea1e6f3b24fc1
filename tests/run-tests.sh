#!/bin/bash
# run-tests.sh - install what is missing, build, and run the whole test suite:
# C unit tests and protocol tests (make check), then the same again built with
# AddressSanitizer and UBSan (make check-sanitize).  Exits non-zero on any
# failure.  Used by .ci/run; run it as root on a fresh Debian 12 machine:
#
#   bash tests/run-tests.sh
#
# Extra arguments for pytest go in PYTEST_ARGS, e.g.
#   PYTEST_ARGS='-m "not slow"' bash tests/run-tests.sh
set -euo pipefail

cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
sh tests/setup-deps.sh

step "configure"
sh ./configure

JOBS=$(nproc 2>/dev/null || echo 2)
step "make -j$JOBS"
make -j"$JOBS"

step "make check"
make check ${PYTEST_ARGS:+PYTEST_ARGS="$PYTEST_ARGS"}

step "make check-sanitize (ASan + UBSan)"
make check-sanitize ${PYTEST_ARGS:+PYTEST_ARGS="$PYTEST_ARGS"}

step "all tests passed"
