#!/usr/bin/env bash
# hak report --html: one self-contained page (charts as inline SVG with captions) that headless
# Chromium opens and whose DOM holds the charts.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROMIUM ]] || skip "chromium is not installed (scripts/install-deps.sh installs it)"

DB=$WORK/run.db
make_db "$DB" hakmem glibc
"$HAK" report "$DB" --html "$WORK/report.html" >"$WORK/report.md" 2>"$WORK/report.err" || {
    cat "$WORK/report.err"
    fail "hak report --html exited non-zero"
}
[[ $(grep -c '<svg' "$WORK/report.html") -ge 6 ]] ||
    fail "the page does not hold the six battle charts as inline SVG"
grep -q '<?xml\|<!DOCTYPE svg' "$WORK/report.html" && fail "an SVG's XML prologue is left in the page"
grep -q '<figcaption>Throughput against peak Rss in battle' "$WORK/report.html" ||
    fail "the trade-off chart has no caption saying what it shows"
grep -q '<figcaption>[^<]*\.png' "$WORK/report.html" && fail "a caption is a file name"
grep -q 'src="http\|src="file\|href="http' "$WORK/report.html" && fail "the page is not self-contained"

profile=$(mktemp -d "$WORK/chromium.XXXXXX")
timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$profile" \
    --dump-dom "file://$WORK/report.html" >"$WORK/dom.html" 2>"$WORK/chromium.err" || {
    tail -5 "$WORK/chromium.err"
    fail "chromium could not open the page"
}
imgs=$(grep -o '<svg' "$WORK/dom.html" | wc -l)
echo "chromium DOM: $imgs charts"
[[ $imgs -ge 6 ]] || fail "chromium's DOM holds $imgs charts, expected 6 or more"
grep -q "hakmem: overhead by phase" "$WORK/dom.html" || fail "chromium's DOM lacks the overhead table"

# The charts decode: a screenshot of the page is a real image.
timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$profile" --window-size=1200,3000 \
    --screenshot="$WORK/shot.png" "file://$WORK/report.html" >/dev/null 2>&1 ||
    fail "chromium could not take a screenshot of the page"
png_ok "$WORK/shot.png" || fail "the screenshot is not a valid PNG"
echo PASS
