#!/bin/sh
# cm-features throughput: 4 lags, 2 rolling windows and the calendar parts
# on the bike data repeated to SIZE_MB of CSV (default 1000), each copy
# moved two years later so time keeps increasing.  Peak memory at a tenth
# of the rows shows it does not grow.  The pandas reference feature builder
# (../shared/bench/make-features.py, lags only) runs on the plain bike data
# as a side-by-side ratio.
. "$(dirname "$0")/common.sh"
peers_blas
SIZE_MB=${SIZE_MB:-1000}
src="$shared/data/bike_sharing_hour.csv"
ref="$shared/bench/make-features.py"
need "$src"

FEAT="-y cnt -L cnt:1h,2h,24h,168h -R cnt:mean,std:24h -R temp:mean,max:168h"
run() { # run NAME CSV -> "NAME seconds maxrss_kb rows"
    "$BIN/cm-clean" -q --time t --drop instant,dteday,hr,casual,registered "$2" -o "$tmp/in.cmt"
    rows=$("$BIN/cm-cat" --info "$tmp/in.cmt" | sed -n 's/^rows: //p')
    # shellcheck disable=SC2086
    /usr/bin/time -o "$tmp/t" -f "%e %M" "$BIN/cm-features" -q $FEAT "$tmp/in.cmt" -o "$tmp/out.cmt"
    echo "$1 $(cat "$tmp/t") $rows"
}
series "$src" "$tmp/big.csv" "$SIZE_MB"
big=$(run big "$tmp/big.csv")
series "$src" "$tmp/small.csv" $((SIZE_MB / 10))
small=$(run small "$tmp/small.csv")
echo "$big" | awk '{ printf "cm-features on %d rows: %.2f s, %.2f million rows/s, peak %.1f MiB\n", $4, $2, $4 / $2 / 1e6, $3 / 1024 }'
echo "$small" | awk '{ printf "cm-features on %d rows: %.2f s, peak %.1f MiB\n", $4, $2, $3 / 1024 }'

# Side by side with the pandas reference on the plain bike data (its lags).
if [ -f "$ref" ] && $PY -c 'import pandas' 2>/dev/null; then
    /usr/bin/time -o "$tmp/tp" -f "%e %M" $PY "$ref" bike "$src" --lag-mode time -o "$tmp/ref.csv" 2>/dev/null
    /usr/bin/time -o "$tmp/tc" -f "%e %M" sh -c "'$BIN/cm-clean' -q --time dteday,hr --drop instant,casual,registered '$src' | '$BIN/cm-features' -q -y cnt -L cnt:1h,2h,24h,168h | '$BIN/cm-cat' > '$tmp/ours.csv'"
    awk -v p="$(cat "$tmp/tp")" -v c="$(cat "$tmp/tc")" 'BEGIN { split(p, a, " "); split(c, b, " ");
        printf "bike (17,379 rows), reference features: pandas %.2f s, cm-clean|cm-features|cm-cat %.2f s (%.1fx)\n", a[1], b[1], a[1] / b[1] }'
fi
