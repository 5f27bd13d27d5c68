#!/bin/sh
# Stream throughput: a 10,000,000 x 10 f32 sensor-like stream written and
# read at deflate levels 0, 1 and 6, with libdeflate (the default build)
# and zlib, in the default column layout and in byte-shuffled layout; then
# cm-cat's peak memory on 1M and 10M rows (must not grow with rows).
# MB/s are of raw column data (rows x cols x 4 bytes).
. "$(dirname "$0")/common.sh"
ROWS=${ROWS:-10000000}
COLS=${COLS:-10}

# A second build of the same bench against zlib, for comparison.
make --no-print-directory -s B="$B/zlib" DEFLATE=zlib "$B/zlib/bench/cmt-bench" >/dev/null

printf '%-11s %-5s %-8s %9s %9s %6s\n' engine level layout 'write MB/s' 'read MB/s' ratio
for engine in libdeflate zlib; do
    bench="$B/bench/cmt-bench"
    [ "$engine" = zlib ] && bench="$B/zlib/bench/cmt-bench"
    for level in 0 1 6; do
        for layout in 0 2; do
            "$bench" "$tmp/s.cmt" "$ROWS" "$COLS" "$level" "$layout" |
                awk -v e="$engine" '{printf "%-11s %-5s %-8s %9s %9s %6s\n", e, $1, $2, $3, $4, $5}'
        done
    done
done

# The default stream, at two sizes, through the real binary.
"$B/bench/cmt-bench" "$tmp/big.cmt" "$ROWS" "$COLS" 1 >/dev/null
"$B/bench/cmt-bench" "$tmp/small.cmt" $((ROWS / 10)) "$COLS" 1 >/dev/null
for f in small big; do
    rows=$("$BIN/cm-cat" --info "$tmp/$f.cmt" | sed -n 's/^rows: //p')
    mem=$( { /usr/bin/time -f '%M' "$BIN/cm-cat" --info "$tmp/$f.cmt" >/dev/null; } 2>&1 )
    csv=$( { /usr/bin/time -f '%e' "$BIN/cm-cat" "$tmp/$f.cmt" >/dev/null; } 2>&1 )
    echo "cm-cat on $rows rows: peak RSS of --info ${mem} KiB; CSV output ${csv} s"
done
