#!/usr/bin/env bash
# The Open311 façade read by an unmodified client from PyPI: starts a fresh demo service,
# posts a request as FixMyStreet and `three` post it (form fields, `attribute[...]`, api_key =
# the demo integration's token), then has the `georeport` client (pinned, installed into a venv
# under target/ on first use) read the services, a service definition, the request list and the
# request, in JSON and in XML.
#
#   .ci/open311.sh [PATH_TO_HOTLINE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

GEOREPORT_VERSION=0.3.1
DEMO_PASSWORD=demo-pass-2026

target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$root/$target ;; esac
venv=$target/open311-venv
bin=${1:-$target/debug/hotline}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac

step() { printf '\n==> %s\n' "$*"; }

step "georeport $GEOREPORT_VERSION in $venv"
installed=""
if [ -x "$venv/bin/python" ]; then
    installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("georeport"))' 2>/dev/null || true)
fi
if [ "$installed" != "$GEOREPORT_VERSION" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "georeport==$GEOREPORT_VERSION"
fi
echo "georeport $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("georeport"))')"

source "$root/.ci/lib/service.sh"
start_service "$bin" "$DEMO_PASSWORD"

step "the unmodified client against $base/open311/v2"
token=$(curl -sf -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"username\": \"platform\", \"password\": \"$DEMO_PASSWORD\"}" | jq -er .access_token)
OPEN311_ROOT="$base/open311/v2" OPEN311_API_KEY="$token" "$venv/bin/python" "$root/.ci/open311_client.py"
