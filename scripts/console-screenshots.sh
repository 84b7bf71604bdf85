#!/usr/bin/env bash
# Every console screen rendered to PNG, at a desk (1366×768) and on a phone (390×844), as its
# people see it: a debug build of the service, a fresh demo county, and the browser tests
# (tests/browser/) walking each role through its screens and a call from intake to the closed
# ticket. The PNGs are left in ${CARGO_TARGET_DIR:-target}/browser/ to look at.
#
#   scripts/console-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin hotline
.ci/browser.sh "${CARGO_TARGET_DIR:-target}/debug/hotline"
ls "${CARGO_TARGET_DIR:-target}/browser/"console-*.png
