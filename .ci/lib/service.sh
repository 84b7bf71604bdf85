# Starts a fresh service for a test that drives it from outside, and stops it on exit.
# Sourced, not run:
#
#   source .ci/lib/service.sh
#   start_service BIN DEMO_PASSWORD [POSTGRES_URL]   # sets: base (http://host:port), admin_password, work
#
# The service runs `hotline demo --password DEMO_PASSWORD` and then `hotline serve` on a
# SQLite file in a temporary work dir (or, given a PostgreSQL server's URL, on a scratch
# database created there and dropped on exit), whatever the caller's environment says, on
# ${SERVICE_BIND:-127.0.0.1:0} (0: any free port, read back from the log). The work dir and
# the process go when the calling shell exits.

service_pid=""
work=""
scratch_server=""
scratch_db=""

stop_service() {
    if [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null; then
        for _ in $(seq 1 75); do
            kill -0 "$service_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$service_pid" 2>/dev/null || true
    fi
    [ -z "$work" ] || rm -rf "$work"
    if [ -n "$scratch_db" ]; then
        psql "$scratch_server" -qc "DROP DATABASE IF EXISTS \"$scratch_db\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}

start_service() { # BIN DEMO_PASSWORD [POSTGRES_URL]
    local bin=$1 demo_password=$2 postgres=${3:-} bind=${SERVICE_BIND:-127.0.0.1:0} port
    [ -x "$bin" ] || { echo "no hotline binary at $bin (build it first: cargo build)" >&2; return 1; }
    work=$(mktemp -d)
    trap stop_service EXIT
    printf '\n==> fresh service from %s on %s (work dir %s)\n' "$bin" "$bind" "$work"
    unset DATABASE_URL HOTLINE_JWT_SECRET HOTLINE_STORAGE_DIR HOTLINE_TOKEN_TTL_SECONDS
    export DATABASE_URL="sqlite://$work/hotline.db" HOTLINE_STORAGE_DIR="$work/storage"
    if [ -n "$postgres" ]; then
        scratch_server=$postgres
        scratch_db="hotline_service_$$_$RANDOM"
        psql "$postgres" -qc "CREATE DATABASE \"$scratch_db\"" >/dev/null
        DATABASE_URL="${postgres%/*}/$scratch_db"
        # Instances on PostgreSQL share one signing secret; a scratch service has its own.
        export HOTLINE_JWT_SECRET="scratch-service-secret-$RANDOM-$RANDOM-$RANDOM-$RANDOM"
    fi
    export HOTLINE_BIND=$bind HOTLINE_LOG_FORMAT=json RUST_LOG=${RUST_LOG:-info}
    (cd "$work" && "$bin" demo --password "$demo_password") >"$work/demo.log" 2>&1 \
        || { cat "$work/demo.log"; return 1; }
    admin_password=$(grep -o 'One-time password: [A-Za-z0-9]*' "$work/demo.log" | head -n 1 | cut -d' ' -f3 || true)
    [ -n "$admin_password" ] || { echo "demo printed no one-time admin password:"; cat "$work/demo.log"; return 1; }

    (cd "$work" && exec "$bin" serve) >"$work/server.log" 2>&1 &
    service_pid=$!
    port=${bind##*:}
    if [ "$port" = 0 ]; then
        port=""
        for _ in $(seq 1 100); do
            port=$(grep -o '"port":[0-9]*' "$work/server.log" | head -n 1 | cut -d: -f2 || true)
            [ -n "$port" ] && break
            kill -0 "$service_pid" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$port" ] || { echo "the service did not start:"; cat "$work/server.log"; return 1; }
    fi
    base="http://${bind%:*}:$port"
    for _ in $(seq 1 100); do
        curl -sf "$base/readyz" >/dev/null 2>&1 && break
        kill -0 "$service_pid" 2>/dev/null || { echo "the service exited:"; cat "$work/server.log"; return 1; }
        sleep 0.1
    done
    curl -sf "$base/readyz" >/dev/null || { echo "the service is not ready:"; tail -n 20 "$work/server.log"; return 1; }
    echo "ready at $base"
}
