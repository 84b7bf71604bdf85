#!/usr/bin/env bash
# Runs the README's walkthrough, word for word, against a freshly started service: on a new
# SQLite file by default, or on a new database of the PostgreSQL server given as the first
# argument (e.g. postgres://postgres@127.0.0.1:5432/postgres). Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cargo build --quiet --bin hotline
bin="${CARGO_TARGET_DIR:-$root/target}/debug/hotline"
work=$(mktemp -d)
server_pid=""
scratch_db=""
cleanup() {
    if [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; then
        # A graceful stop finishes requests in flight; past its own timeout, stop waiting.
        for _ in $(seq 1 75); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$server_pid" 2>/dev/null && echo "the service ignored SIGTERM for 15 s" >&2
    fi
    if [ -n "$scratch_db" ]; then
        psql "$1" -qc "DROP DATABASE IF EXISTS \"$scratch_db\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap 'cleanup "${1:-}"' EXIT

cd "$work"
export HOTLINE_BIND=127.0.0.1:0 HOTLINE_LOG_FORMAT=json RUST_LOG=info
if [ -n "${1:-}" ]; then
    scratch_db="hotline_walkthrough_$$"
    psql "$1" -qc "CREATE DATABASE \"$scratch_db\"" >/dev/null
    export DATABASE_URL="${1%/*}/$scratch_db"
    export HOTLINE_JWT_SECRET="walkthrough-secret-with-at-least-32-bytes"
fi

"$bin" demo --password demo-pass-2026 >demo.log 2>&1
"$bin" serve >server.log 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(grep -o '"port":[0-9]*' server.log | head -n 1 | cut -d: -f2 || true)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat server.log; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "the service did not start"; cat server.log; exit 1; }
export HOTLINE="http://127.0.0.1:$port"

# The shell block between the walkthrough markers of the README.
awk '/<!-- walkthrough -->/{on=1; next} /<!-- \/walkthrough -->/{on=0} on && !/^```/' "$root/README.md" >walkthrough.sh
# Twice on the same database: the session must hold however often an office tries it.
for run in 1 2; do
    if ! bash -euo pipefail walkthrough.sh >walkthrough.out 2>&1; then
        echo "the README walkthrough failed (run $run):"
        cat walkthrough.out
        echo "--- service log"
        tail -n 20 server.log
        exit 1
    fi
done
if [ -n "$scratch_db" ]; then backend=postgres; else backend=sqlite; fi
echo "README walkthrough: ok on $backend, twice"
