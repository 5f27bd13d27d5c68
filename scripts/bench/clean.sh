#!/bin/sh
# cm-clean against pandas (../shared/bench/peer-clean-pandas.py) on the
# same work: parse, drop rows with missing values, build the time from
# dteday + hr, encode categories, write zlib-compressed binary.  The input
# is the bundled-with-shared bike data repeated to SIZE_MB (default 1000).
# Peak memory of cm-clean at a tenth of the size shows it does not grow.
. "$(dirname "$0")/common.sh"
peers_blas
SIZE_MB=${SIZE_MB:-1000}
peer="$shared/bench/peer-clean-pandas.py"
src="$shared/data/bike_sharing_hour.csv"
need "$peer" "$src"

repeat "$src" "$tmp/big.csv" "$SIZE_MB"
repeat "$src" "$tmp/small.csv" $((SIZE_MB / 10))
bytes=$(wc -c < "$tmp/big.csv")

measure() { # measure NAME CMD... -> "NAME seconds maxrss_kb"
    name=$1; shift
    /usr/bin/time -f "$name %e %M" "$@" 2>&1 >/dev/null | tail -1
}
echo "input: $bytes bytes, $(($(wc -l < "$tmp/big.csv") - 1)) rows"
cm=$(measure cm-clean "$BIN/cm-clean" --time dteday,hr "$tmp/big.csv" -o "$tmp/out.cmt")
small=$(measure cm-clean-small "$BIN/cm-clean" --time dteday,hr "$tmp/small.csv" -o "$tmp/out2.cmt")
if $PY -c 'import pandas' 2>/dev/null; then
    pd=$(measure pandas $PY "$peer" "$tmp/big.csv" --time dteday --time-hour hr -o "$tmp/out.npz")
else
    pd="pandas - -"
    echo "(pandas missing for $PY: apt-get install python3-pandas)"
fi
echo "$cm"; echo "$small"; echo "$pd"
echo "$cm $pd $small" | awk -v b="$bytes" '{
    printf "cm-clean %.1f MB/s, peak %.1f MiB (%.1f MiB at a tenth of the input)\n", b / $2 / 1e6, $3 / 1024, $9 / 1024
    if ($5 != "-") {
        printf "pandas   %.1f MB/s, peak %.1f MiB\n", b / $5 / 1e6, $6 / 1024
        printf "ratios: cm-clean is %.1fx faster, uses 1/%.0f of the memory\n", $5 / $2, $6 / $3
    }}'
echo "sizes: cm stream $(wc -c < "$tmp/out.cmt") bytes; pandas npz $(wc -c < "$tmp/out.npz" 2>/dev/null || echo -) bytes"
