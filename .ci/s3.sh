# Starts a real S3-compatible server (moto, pinned, from PyPI) for the evidence-store tests and
# stops it when the calling shell exits. Sourced, not run:
#
#   source .ci/s3.sh
#   start_s3          # sets and exports TEST_S3_ENDPOINT (http://127.0.0.1:PORT)
#
# moto is installed on first use into a venv under the target directory and reused after.

MOTO_VERSION=5.2.5
s3_pid=""

stop_s3() {
    [ -z "$s3_pid" ] || kill "$s3_pid" 2>/dev/null || true
}

start_s3() {
    local root target venv installed port
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    target=${CARGO_TARGET_DIR:-target}
    case $target in /*) ;; *) target=$root/$target ;; esac
    venv=$target/s3-venv
    installed=""
    if [ -x "$venv/bin/python" ]; then
        installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)
    fi
    if [ "$installed" != "$MOTO_VERSION" ]; then
        echo "installing moto $MOTO_VERSION into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    fi
    port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$target/moto.log" 2>&1 &
    s3_pid=$!
    if declare -F on_exit >/dev/null; then on_exit stop_s3; else trap stop_s3 EXIT; fi
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
            export TEST_S3_ENDPOINT="http://127.0.0.1:$port"
            echo "S3-compatible server (moto $MOTO_VERSION) at $TEST_S3_ENDPOINT"
            return 0
        fi
        kill -0 "$s3_pid" 2>/dev/null || break
        sleep 0.2
    done
    echo "moto_server did not start:" >&2
    cat "$target/moto.log" >&2
    return 1
}
