#!/usr/bin/env bash
# What a ticket costs on disk, on both backends: a synthetic hotline (the demo county's units and
# categories, `hotline generate`: every ticket through its lifecycle, with its events, replies,
# callbacks and urges) is written into a scratch SQLite file and a scratch PostgreSQL database,
# and each table's rows and indexes are divided by the tickets.
#
#   scripts/bytes-per-ticket.sh [--months 3] [--per-month 20000] [POSTGRES_URL]
#
# Uses the release build (cargo build --release --bin hotline), psql and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
months=3 per_month=20000 server=postgres://postgres@127.0.0.1:5432/postgres
while [ $# -gt 0 ]; do
    case $1 in
        --months) months=$2; shift 2 ;;
        --per-month) per_month=$2; shift 2 ;;
        postgres*) server=$1; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/hotline
[ -x "$bin" ] || { echo "build first: cargo build --release --bin hotline" >&2; exit 1; }
work=$(mktemp -d)
database="hotline_size_$$"
trap 'psql "$server" -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1; rm -rf "$work"' EXIT
export HOTLINE_STORAGE_DIR=$work/storage RUST_LOG=warn HOTLINE_JWT_SECRET=size-measurement-secret-0123456789abcdef

fill() { # DATABASE_URL
    DATABASE_URL=$1 "$bin" demo --password demo-pass-2026 >/dev/null 2>&1
    DATABASE_URL=$1 "$bin" generate --from 2026-01 --months "$months" --per-month "$per_month" --seed 7 >/dev/null
}

echo "== SQLite: $months months of $per_month tickets"
fill "sqlite://$work/size.db"
python3 - "$work/size.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("VACUUM")
tickets = c.execute("SELECT count(*) FROM tickets").fetchone()[0]
owner = dict(c.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table','index')").fetchall())
sizes = {}
for name, size in c.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
    table = owner.get(name, name)
    kind = "rows" if name == table else "indexes"
    sizes.setdefault(table, {"rows": 0, "indexes": 0})[kind] += size
total = sum(s["rows"] + s["indexes"] for s in sizes.values())
print(f"tickets: {tickets}, file: {total / 2**20:.1f} MiB, {total / tickets:.0f} bytes per ticket")
for table, s in sorted(sizes.items(), key=lambda kv: -(kv[1]["rows"] + kv[1]["indexes"]))[:12]:
    print(f"  {table:28} rows {s['rows'] / tickets:7.0f} B  indexes {s['indexes'] / tickets:7.0f} B")
PY

echo "== PostgreSQL: $months months of $per_month tickets"
psql "$server" -qc "CREATE DATABASE \"$database\"" >/dev/null
url="${server%/*}/$database"
fill "$url"
psql "$url" -qc "VACUUM ANALYZE" >/dev/null
psql "$url" -At -F ' ' <<'SQL' | python3 -c '
import sys
lines = [l.split() for l in sys.stdin if l.strip()]
tickets = int(lines[0][0]); rows = lines[1:]
total = sum(int(r[1]) + int(r[2]) for r in rows)
print(f"tickets: {tickets}, database: {total / 2**20:.1f} MiB, {total / tickets:.0f} bytes per ticket")
for name, heap, index in sorted(rows, key=lambda r: -(int(r[1]) + int(r[2])))[:12]:
    print(f"  {name:28} rows {int(heap) / tickets:7.0f} B  indexes {int(index) / tickets:7.0f} B")
'
SELECT count(*) FROM tickets;
-- A partitioned table's months count as the table.
SELECT COALESCE(p.relname, c.relname), sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
WHERE c.relkind = 'r' AND n.nspname = 'public' GROUP BY 1;
SQL
