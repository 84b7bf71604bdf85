# Starts a real streaming replica of the local PostgreSQL server for the read-replica tests, and
# stops it when the calling shell exits. Sourced, not run:
#
#   source .ci/replica.sh
#   start_replica PRIMARY_URL   # sets and exports TEST_REPLICA_SERVER_URL and TEST_REPLICA_CONTROL
#
# The replica is `pg_basebackup -R` of the primary into a scratch directory, started by the
# local installation's own `pg_ctl` on a free port, as the `postgres` user when run as root.
# TEST_REPLICA_CONTROL names a script that stops (`stop`, immediately, as a crash would) and
# starts (`start`) it again, so that a test can take it away and bring it back. The primary must
# accept replication connections from 127.0.0.1; when its pg_hba.conf does not, a trust line for
# them is added and the configuration reloaded.

replica_dir=""
replica_ctl=""

stop_replica() {
    [ -z "$replica_ctl" ] || "$replica_ctl" stop >/dev/null 2>&1 || true
    [ -z "$replica_dir" ] || rm -rf "$replica_dir"
}

start_replica() { # PRIMARY_URL
    local primary=$1 bin hba port as_postgres=()
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bin/pg_ctl" ] || { echo "no PostgreSQL installation under /usr/lib/postgresql" >&2; return 1; }
    [ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
    hba=$(psql "$primary" -Atc 'SHOW hba_file')
    if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        echo "allowing replication connections from 127.0.0.1 in $hba"
        printf '\n# streaming replicas on this machine (the read-replica tests)\nhost replication all 127.0.0.1/32 trust\n' >>"$hba"
        psql "$primary" -qAtc 'SELECT pg_reload_conf()' >/dev/null
    fi
    replica_dir=$(mktemp -d /tmp/hotline-replica.XXXXXX)
    if declare -F on_exit >/dev/null; then on_exit stop_replica; else trap stop_replica EXIT; fi
    chmod 755 "$replica_dir"
    mkdir "$replica_dir/data"
    [ "$(id -u)" = 0 ] && chown postgres "$replica_dir" "$replica_dir/data"
    chmod 700 "$replica_dir/data"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${as_postgres[@]}" "$bin/pg_basebackup" -d "$primary" -D "$replica_dir/data" -R -X stream -c fast
    # Debian keeps a cluster's configuration outside its data directory: the copy gets its own.
    printf "hot_standby = on\nlisten_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = %s\n" \
        "$port" "$replica_dir" "$(psql "$primary" -Atc 'SHOW max_connections')" | "${as_postgres[@]}" tee "$replica_dir/data/postgresql.conf" >/dev/null
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' \
        | "${as_postgres[@]}" tee "$replica_dir/data/pg_hba.conf" >/dev/null
    replica_ctl=$replica_dir/control
    cat >"$replica_ctl" <<CONTROL
#!/usr/bin/env bash
# stop: immediately, as a crash would; start: again, waiting until it accepts connections.
case \$1 in
    stop) ${as_postgres[*]} "$bin/pg_ctl" -D "$replica_dir/data" -m immediate -w stop ;;
    start) ${as_postgres[*]} "$bin/pg_ctl" -D "$replica_dir/data" -l "$replica_dir/log" -w start ;;
    *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CONTROL
    chmod 755 "$replica_ctl"
    "$replica_ctl" start >/dev/null || { cat "$replica_dir/log" >&2; return 1; }
    export TEST_REPLICA_SERVER_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export TEST_REPLICA_CONTROL=$replica_ctl
    echo "streaming replica at $TEST_REPLICA_SERVER_URL ($replica_dir)"
}
