#!/usr/bin/env bash
# Several instances of the service behind HAProxy on one PostgreSQL database, under registration
# load, one of them killed (SIGKILL) a third of the way through and started again; then the
# checks a province would make after such a morning:
#
#   - every registration the load generator saw acknowledged (201) is in the database;
#   - no rung of the urge ladder fired twice (every instance runs the ladder each second, on a
#     month and a half of generated tickets with urges due);
#   - every event reached a webhook receiver, each under one webhook-id, none twice;
#   - the clients saw no more failures than requests were in flight on the killed instance;
#
# and what it cost: registrations per second, p50/p99, each instance's resident memory.
#
#   scripts/cluster.sh [--instances 3] [--seconds 30] [--clients 32] [--no-kill] [POSTGRES_URL]
#
# POSTGRES_URL is a server (default postgres://postgres@127.0.0.1:5432/postgres) where a scratch
# database is created and dropped afterwards. Needs the release build of the service and of the
# load generator (`cargo build --release --bin hotline && cargo bench --bench cluster --no-run`),
# HAProxy (installed from Debian's packages when missing), curl, jq, psql and python3.
# docker-compose.yml runs the same shape: three instances of the image behind HAProxy.
set -euo pipefail
cd "$(dirname "$0")/.."

instances=3 seconds=30 clients=32 kill=yes server=postgres://postgres@127.0.0.1:5432/postgres
while [ $# -gt 0 ]; do
    case $1 in
        --instances) instances=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --no-kill) kill=no; shift ;;
        postgres*) server=$1; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

target=${CARGO_TARGET_DIR:-target}
bin=$PWD/$target/release/hotline
case $target in /*) bin=$target/release/hotline ;; esac
loadgen=$(find "$(dirname "$bin")/deps" -maxdepth 1 -type f -executable -name 'cluster-*' -printf '%T@ %p\n' 2>/dev/null \
    | sort -n | tail -n 1 | cut -d' ' -f2)
[ -x "$bin" ] && [ -n "$loadgen" ] || {
    echo "build first: cargo build --release --bin hotline && cargo bench --bench cluster --no-run" >&2
    exit 1
}
if ! command -v haproxy >/dev/null; then
    echo "installing HAProxy from Debian's packages"
    apt-get install -y -qq haproxy >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
step() { printf '\n==> %s\n' "$*"; }

work=$(mktemp -d)
database="hotline_cluster_$$"
pids=() ports=() others=()
cleanup() {
    for pid in "${pids[@]}" "${others[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$server" -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

psql "$server" -qc "CREATE DATABASE \"$database\"" >/dev/null
url="${server%/*}/$database"
export DATABASE_URL=$url
export HOTLINE_JWT_SECRET="cluster-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export HOTLINE_STORAGE_DIR=$work/storage HOTLINE_LOG_FORMAT=json RUST_LOG=warn
export HOTLINE_LADDER_INTERVAL_SECONDS=1 HOTLINE_WEBHOOK_INTERVAL_MS=200
export HOTLINE_WEBHOOK_ALLOWED_TARGETS=127.0.0.1 HOTLINE_TRUSTED_PROXIES=127.0.0.1
"$bin" demo --password demo-pass-2026 >"$work/demo.log" 2>&1
admin_password=$(grep -o 'One-time password: [A-Za-z0-9]*' "$work/demo.log" | head -n 1 | cut -d' ' -f3)
# Last month and this one so far, with tickets still open whose urges are due: the instances'
# first ladder passes, all at once, compete for the same rungs.
"$bin" generate --from "$(date -d "$(date +%Y-%m-15) -1 month" +%Y-%m)" --months 2 --per-month 3000 \
    --seed 3 >"$work/generate.log" 2>&1

start_instance() { # INDEX
    local i=$1
    HOTLINE_BIND=127.0.0.1:${ports[$i]} "$bin" serve >>"$work/instance-$i.log" 2>&1 &
    pids[$i]=$!
    for _ in $(seq 1 100); do
        curl -fs -o /dev/null "http://127.0.0.1:${ports[$i]}/healthz" && return 0
        sleep 0.1
    done
    echo "instance $i did not start:" >&2
    tail -n 20 "$work/instance-$i.log" >&2
    return 1
}

step "$instances instance(s) of $bin on $database, behind HAProxy"
for i in $(seq 1 "$instances"); do
    ports[$i]=$(free_port)
    start_instance "$i"
done
balancer=$(free_port)
{
    printf 'global\n    maxconn 4096\n\ndefaults\n    mode http\n'
    printf '    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n'
    # A request is tried again elsewhere only when it never reached an instance: a POST that
    # did may have been committed, and must not be sent twice.
    printf '    retries 3\n    option redispatch\n    retry-on conn-failure\n\n'
    printf 'frontend hotline\n    bind 127.0.0.1:%s\n    default_backend instances\n\n' "$balancer"
    printf 'backend instances\n    balance roundrobin\n    option httpchk GET /healthz\n'
    for i in $(seq 1 "$instances"); do
        printf '    server i%s 127.0.0.1:%s check inter 500 fall 2 rise 2\n' "$i" "${ports[$i]}"
    done
} >"$work/haproxy.cfg"
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
others+=($!)
base=http://127.0.0.1:$balancer
for _ in $(seq 1 50); do curl -fs -o /dev/null "$base/healthz" && break; sleep 0.1; done

token_for() { # username password
    curl -sf -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
        -d "$(jq -cn --arg u "$1" --arg p "$2" '{username: $u, password: $p}')" | jq -er .access_token
}
agent=$(token_for agent demo-pass-2026)
first=$(token_for admin "$admin_password")
admin=$(curl -sf -X POST "$base/api/v1/auth/password" -H "authorization: Bearer $first" \
    -H 'content-type: application/json' \
    -d "$(jq -cn --arg c "$admin_password" '{current_password: $c, new_password: "cluster-admin-pass-2026"}')" \
    | jq -er .access_token)

# A webhook receiver that notes every delivery's webhook-id.
receiver_port=$(free_port)
cat >"$work/receiver.py" <<'PY'
import http.server, sys
log = open(sys.argv[2], "a", buffering=1)
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        log.write(self.headers.get("webhook-id", "") + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
PY
python3 "$work/receiver.py" "$receiver_port" "$work/received.txt" &
others+=($!)
curl -sf -o /dev/null -X POST "$base/api/v1/webhooks" -H "authorization: Bearer $admin" \
    -H 'content-type: application/json' \
    -d "{\"url\": \"http://127.0.0.1:$receiver_port/hook\", \"description\": \"cluster check\"}"

# CPU seconds used so far by every process of a name (PostgreSQL's backends come and go).
cpu_of() { # NAME
    local ticks total=0 pid
    ticks=$(getconf CLK_TCK)
    for pid in $(pgrep -x "$1"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "scale=1; $total / $ticks" | bc
}
postgres_before=$(cpu_of postgres)
hotline_before=$(cpu_of hotline)

step "registering for ${seconds}s at $clients connections through HAProxy"
"$loadgen" --address "127.0.0.1:$balancer" --token "$agent" --seconds "$seconds" \
    --clients "$clients" --out "$work/acknowledged.txt" >"$work/load.txt" 2>&1 &
load=$!
if [ "$kill" = yes ] && [ "$instances" -gt 1 ]; then
    sleep $((seconds / 3))
    echo "kill -9 instance 2 (pid ${pids[2]}) at $((seconds / 3))s"
    kill -9 "${pids[2]}"
    sleep 3
    echo "instance 2 started again"
    start_instance 2
fi
wait "$load"
cat "$work/load.txt"
echo "CPU seconds during the run: instances $(echo "$(cpu_of hotline) - $hotline_before" | bc)," \
    "PostgreSQL $(echo "$(cpu_of postgres) - $postgres_before" | bc)," \
    "HAProxy $(cpu_of haproxy), load generator and receiver not counted; $(nproc) cores × ${seconds}s = $(( $(nproc) * seconds ))"

step "memory of each instance (resident now / peak)"
for i in $(seq 1 "$instances"); do
    awk -v i="$i" '/^VmRSS/ {rss=$2} /^VmHWM/ {hwm=$2} END {printf "instance %s: %d MiB / %d MiB\n", i, rss/1024, hwm/1024}' \
        "/proc/${pids[$i]}/status"
done

step "checks"
acknowledged=$(wc -l <"$work/acknowledged.txt")
lost=$(psql "$url" -Atq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE acknowledged (id text);
\copy acknowledged FROM '$work/acknowledged.txt'
SELECT count(*) FROM acknowledged a WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id::text = a.id);
SQL
)
echo "acknowledged tickets: $acknowledged, missing from the database: $lost"
rungs=$(psql "$url" -Atc "SELECT count(*) FROM ladder_rungs")
twice=$(psql "$url" -Atc "SELECT count(*) FROM (SELECT subject_id, timer, rung FROM ladder_rungs GROUP BY 1, 2, 3 HAVING count(*) > 1) AS d")
echo "ladder rungs fired: $rungs, fired twice: $twice"
for _ in $(seq 1 600); do
    pending=$(psql "$url" -Atc "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")
    [ "$pending" = 0 ] && break
    sleep 0.1
done
deliveries=$(psql "$url" -Atc "SELECT count(*) FROM webhook_deliveries")
received=$(grep -c . "$work/received.txt" || true)
distinct=$(sort -u "$work/received.txt" | grep -c . || true)
echo "webhook deliveries: $deliveries, pending: $pending, received: $received, distinct webhook-ids: $distinct"
failed=$(grep -o '^failed: [0-9]*' "$work/load.txt" | cut -d' ' -f2)

status=0
[ "$lost" = 0 ] || { echo "FAIL: acknowledged tickets are missing" >&2; status=1; }
[ "$twice" = 0 ] || { echo "FAIL: a ladder rung fired twice" >&2; status=1; }
[ "$pending" = 0 ] && [ "$distinct" = "$deliveries" ] || { echo "FAIL: events not delivered" >&2; status=1; }
[ "$received" = "$distinct" ] || echo "note: $((received - distinct)) deliveries repeated (sent, then the sender died before noting it)"
if [ "$kill" = yes ] && [ "$instances" -gt 1 ] && [ "${failed:-0}" -gt "$clients" ]; then
    echo "FAIL: $failed requests failed, more than the $clients that can be in flight" >&2
    status=1
fi
[ "$status" = 0 ] && echo "all checks passed"
exit "$status"
