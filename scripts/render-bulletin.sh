#!/usr/bin/env bash
# Renders a month's printable bulletin to PNG through headless Chromium, to look at: a demo
# county on a fresh SQLite file, four generated months (the month and the three it is compared
# with, a typhoon day included), the HTML bulletin, and a full-page screenshot of it.
#
#   scripts/render-bulletin.sh [YYYY-MM] [OUT.png]     (default: last month, bulletin-YYYY-MM.png)
#
# Needs chromium (or google-chrome) on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

month=${1:-$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)}
out=$(realpath -m "${2:-bulletin-$month.png}")
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 1; }

cargo build --quiet --bin hotline
bin="${CARGO_TARGET_DIR:-$root/target}/debug/hotline"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/hotline.db" HOTLINE_STORAGE_DIR="$work/storage"

from=$(date -d "$month-01 -3 month" +%Y-%m)
"$bin" demo --password render-pass-2026 >/dev/null
"$bin" generate --from "$from" --months 4 --per-month 3000 --seed 7 --surge "$month-15:4" | tail -1
"$bin" report --period "$month" --format html --out "$work/bulletin.html"

# Tall enough for the whole bulletin; Chromium crops to the window.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1000,5200 --screenshot="$out" "file://$work/bulletin.html" 2>/dev/null
echo "$out"
