#!/usr/bin/env bash
# Browser tests: pages of the service driven through a real headless Chromium.
#
#   .ci/browser.sh [PATH_TO_HOTLINE_BINARY] [POSTGRES_URL]
#
# (binary by default ${CARGO_TARGET_DIR:-target}/debug/hotline). Every test runs on SQLite;
# given a PostgreSQL server, the call-to-closed-ticket flow (tests/browser/test_flow.py) runs
# again on a scratch database there.
#
# Builds nothing: give it a binary. Installs what it needs when it is missing, pinned, into
# places it reuses: Debian's chromium, chromium-driver and a Chinese font (apt), and Selenium in
# a venv under target/. Never lets a tool download a browser of its own: the driver is the
# system's /usr/bin/chromedriver, the browser /usr/bin/chromium. Starts a fresh demo service
# (.ci/lib/service.sh) and runs every tests/browser/test_*.py against it. Screenshots and
# printed PDFs: target/browser/. Under CI=true a missing browser that cannot be installed fails
# the run; elsewhere it is skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SELENIUM_VERSION=4.50.0
DEMO_PASSWORD=demo-pass-2026

target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$root/$target ;; esac
venv=$target/browser-venv
bin=${1:-$target/debug/hotline}
postgres=${2:-}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
out=$target/browser

step() { printf '\n==> %s\n' "$*"; }

step "chromium, chromium-driver and fonts-wqy-zenhei (Debian)"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qi 'wqy' || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    if ! { $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
        || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }; }; then
        if [ "${CI:-}" = "true" ]; then
            echo "could not install ${missing[*]}: failing (CI=true)" >&2
            exit 1
        fi
        echo "WARNING: could not install ${missing[*]}; the browser tests were SKIPPED" >&2
        exit 0
    fi
fi
/usr/bin/chromium --version

step "selenium $SELENIUM_VERSION in $venv"
installed=""
if [ -x "$venv/bin/python" ]; then
    installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("selenium"))' 2>/dev/null || true)
fi
if [ "$installed" != "$SELENIUM_VERSION" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"
fi
echo "selenium $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("selenium"))')"

source "$root/.ci/lib/service.sh"
rm -rf "$out"
mkdir -p "$out"

# One service per backend, each in its own shell so that its exit trap stops it.
run_on() { # LABEL PATTERN SCREENSHOTS_DIR [POSTGRES_URL]
    (
        mkdir -p "$3"
        start_service "$bin" "$DEMO_PASSWORD" "${4:-}"
        step "browser tests on $1: $2 (screenshots in $3)"
        # The driver given by path: Selenium Manager stays out and downloads nothing.
        BASE_URL=$base DEMO_PASSWORD=$DEMO_PASSWORD ADMIN_PASSWORD=$admin_password BROWSER_OUT=$3 \
            "$venv/bin/python" -m unittest discover -v -s "$root/tests/browser" -p "$2"
    )
}

run_on SQLite 'test_*.py' "$out"
if [ -n "$postgres" ]; then
    run_on PostgreSQL 'test_flow.py' "$out/postgres" "$postgres"
fi
