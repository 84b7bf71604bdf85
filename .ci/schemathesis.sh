#!/usr/bin/env bash
# Property-based contract test of openapi.yaml against a running service, with Schemathesis.
#
#   .ci/schemathesis.sh [PATH_TO_HOTLINE_BINARY]     (default: ${CARGO_TARGET_DIR:-target}/debug/hotline)
#
# Builds nothing: give it a binary. It starts that binary on a fresh SQLite database in a
# temporary directory (`hotline demo --password demo-pass-2026`, then `hotline serve`), gets
# tokens for three roles (agent, renshe = unit handler, admin after changing its one-time
# password) and runs `schemathesis run` once per token: all four phases, a fixed seed, about
# 100 s each (settings in .ci/schemathesis.toml). Reports: target/schemathesis/<role>/.
# Exit code: 0 when every run passed, else the largest exit code of the runs
# (1 failures found, 2 configuration/schema error, 130 interrupted); other errors exit 1 or more.
#
# Environment: ST_HOTLINE_BIND (default 127.0.0.1:0, any free port),
# ST_ROLES (default "agent renshe admin").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SCHEMATHESIS_VERSION=4.32.5
DEMO_PASSWORD=demo-pass-2026

target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$root/$target ;; esac
venv=$target/ci-venv
bin=${1:-$target/debug/hotline}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
bind=${ST_HOTLINE_BIND:-127.0.0.1:0}
roles=${ST_ROLES:-agent renshe admin}
out=$target/schemathesis
config=$root/.ci/schemathesis.toml

step() { printf '\n==> %s\n' "$*"; }

# --- Schemathesis, pinned, in its own venv -------------------------------------------------
step "schemathesis $SCHEMATHESIS_VERSION in $venv"
installed=""
if [ -x "$venv/bin/python" ]; then
    installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
fi
if [ "$installed" != "$SCHEMATHESIS_VERSION" ]; then
    echo "installing (found: ${installed:-none})"
    started=$SECONDS
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
    echo "installed in $((SECONDS - started)) s"
else
    echo "already installed"
fi
st=$venv/bin/schemathesis

# --- A fresh service -------------------------------------------------------------------------
source "$root/.ci/lib/service.sh"
SERVICE_BIND=$bind start_service "$bin" "$DEMO_PASSWORD"

token_for() { # username password
    curl -sf -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
        -d "$(jq -cn --arg u "$1" --arg p "$2" '{username: $u, password: $p}')" | jq -er .access_token
}

step "tokens"
declare -A tokens
for role in $roles; do
    case $role in
        admin)
            first=$(token_for admin "$admin_password")
            new_admin_password="ci-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
            # The answer carries a new token; the one-time password's token stops working.
            tokens[admin]=$(curl -sf -X POST "$base/api/v1/auth/password" \
                -H "authorization: Bearer $first" -H 'content-type: application/json' \
                -d "$(jq -cn --arg c "$admin_password" --arg n "$new_admin_password" \
                    '{current_password: $c, new_password: $n}')" | jq -er .access_token)
            ;;
        *) tokens[$role]=$(token_for "$role" "$DEMO_PASSWORD") ;;
    esac
    echo "$role: ok"
done

# --- One run per role --------------------------------------------------------------------------
overall=0
passed=0
failed=0
summary=""
for role in $roles; do
    dir=$out/$role
    rm -rf "$dir"
    mkdir -p "$dir"
    cmd=("$st" --config-file "$config" run "$root/openapi.yaml")
    step "${cmd[*]}   (role $role, reports in $dir)"
    started=$SECONDS
    # Run inside the report dir: anything schemathesis writes relative to its cwd stays there.
    set +e
    (cd "$dir" && ST_BASE_URL="$base" ST_TOKEN="${tokens[$role]}" ST_REPORT_DIR="$dir" "${cmd[@]}") \
        2>&1 | tee "$dir/output.txt"
    rc=${PIPESTATUS[0]}
    set -e
    took=$((SECONDS - started))
    summary+=$(printf '%-8s exit %-3s %4s s  %s' "$role" "$rc" "$took" "$dir")$'\n'
    if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    [ "$rc" -gt "$overall" ] && overall=$rc
    kill -0 "$service_pid" 2>/dev/null || { echo "the service died during the $role run:"; tail -n 40 "$work/server.log"; exit 1; }
done
cp "$work/server.log" "$out/server.log"

step "summary"
printf '%s' "$summary"
echo "schemathesis: $passed passed, $failed failed"
exit "$overall"
