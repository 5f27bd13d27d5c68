#!/bin/sh
# cm-predict --horizon and --backtest against ../shared/bench/peer-forecast.py
# (recursive forecasts on make-features.py's features, every window of a
# backtest advanced together through numpy, as mlforecast does it).
#
# Both sides use the same features: on bike the calendar parts, the
# weather, the day flags, season and weathersit one-hot, and cnt 1, 2, 24
# and 168 hours back; on the population panel (a series per state and age
# group) the state and age group one-hot, the year, and the population 1
# and 2 years back.  Both train once on the rows up to the first origin
# and backtest every origin after it (bike: 24 steps from 3,458 origins;
# population: 5 years from its 3).
#   1. per-step RMSE, cm's linear against the peer's ridge (the same exact
#      solution on the same rows: a check of the recursion itself) and
#      cm's mlp against the peer's torch-mlp;
#   2. the whole cm-predict --backtest process against the peer's reading
#      plus backtest (its load_seconds + backtest_seconds), and against its
#      backtest alone; medians;
#   3. peak memory against the number of origins;
#   4. one 24-step forecast from a raw CSV history, the whole process,
#      against the peer's --mode forecast whole process;
#   5. direct models (cm-train --horizon) against recursive ones, per step.
. "$(dirname "$0")/common.sh"
peers_blas
RUNS=${RUNS:-10}
peer="$shared/bench/peer-forecast.py"
bike="$shared/data/bike_sharing_hour.csv"
pop="$shared/data/us_state_population.csv"
need "$peer" "$bike" "$pop"
$PY -c 'import numpy, sklearn, torch' 2>/dev/null ||
    { echo "forecast.sh: the peer needs python3-numpy, -sklearn and -torch; skipped"; exit 0; }

# kv KEY FILE: the value of KEY in a file's line of key=value pairs
kv() { tr ' ' '\n' < "$2" | sed -n "s/^$1=//p"; }
# peer NAME ARGS...: the peer's key=value line to $tmp/NAME.line, its
# table of steps to $tmp/NAME.steps
peer() {
    name=$1; shift
    $PY "$peer" "$@" > "$tmp/$name.line" 2>"$tmp/$name.err" || { cat "$tmp/$name.err"; exit 1; }
    grep -E '^(step|[0-9]+|all),' "$tmp/$name.err" > "$tmp/$name.steps"
}
# rmse LABEL CM PEER [LINES]: the RMSE of each by step, and how far
# apart; LINES picks lines of that table (sed: '1,3p;7p'; default all)
rmse() {
    echo "$1"
    grep -v '^#' "$2" | awk -F, 'FNR == 1 { f++; next } f == 1 { c[$1] = $4; o[++n] = $1 }
        f == 2 { p[$1] = $4 }
        END { printf "  step  %12s %12s  cm/peer-1\n", "cm rmse", "peer rmse"
              for (i = 1; i <= n; i++) { s = o[i]
                  printf "  %-4s  %12.3f %12.3f  %+8.3f%%\n", s, c[s], p[s], (c[s] / p[s] - 1) * 100 } }' \
        - "$3" | sed -n "${4:-1,\$p}"
}
# same_n CM PEER: whether both forecast and scored the same slots per step
same_n() {
    grep -v '^#' "$1" | cut -d, -f1,2 > "$tmp/n.cm"
    cut -d, -f1,2 "$2" > "$tmp/n.peer"
    if cmp -s "$tmp/n.cm" "$tmp/n.peer"; then
        echo "  n per step: the same on both sides"
    else
        echo "  n per step DIFFERS: cm $(tr '\n' ' ' < "$tmp/n.cm"); peer $(tr '\n' ' ' < "$tmp/n.peer")"
    fi
}
# strategies LABEL LINES NAME=TABLE...: each table's RMSE by step, side by
# side (LINES as for rmse)
strategies() {
    label=$1 lines=$2
    shift 2
    echo "$label"
    for nt; do
        grep -v '^#' "${nt#*=}" | cut -d, -f1,4 | sed "1s/.*/step,${nt%%=*}/" > "$tmp/col.${nt%%=*}"
    done
    first=1
    for nt; do
        if [ $first = 1 ]; then cp "$tmp/col.${nt%%=*}" "$tmp/side"; first=0
        else cut -d, -f2 "$tmp/col.${nt%%=*}" | paste -d, "$tmp/side" - > "$tmp/side2"; mv "$tmp/side2" "$tmp/side"
        fi
    done
    awk -F, '{ printf "  %-5s", $1; for (i = 2; i <= NF; i++) printf (NR == 1 ? " %12s" : " %12.3f"), $i; print "" }' \
        "$tmp/side" | sed -n "$lines"
}
# median3 FILE: the median of the three numbers in FILE
median3() { sort -g "$1" | sed -n 2p; }

# ---- bike: 24 hours ahead from every origin ------------------------------------------
peer ridge bike "$bike" --model ridge --every 1 --windows 0
peer torch bike "$bike" --model torch-mlp --every 1 --windows 0
o0=$(kv first_origin "$tmp/ridge.line")
echo "bike: $(kv origins "$tmp/ridge.line") origins from $o0, 24 steps each"

CLEAN="--time dteday,hr --drop instant,casual,registered,mnth,weekday -t season=cat -t weathersit=cat"
FEAT="-y cnt -L cnt:1h,2h,24h,168h"
BT="--backtest --horizon 24 --every 1h --windows 0 --from $o0"
# the rows up to the first origin, which is observed
# shellcheck disable=SC2086
"$BIN/cm-clean" -q $CLEAN --until "$(date -u -d "${o0}Z + 1 second" +%FT%TZ)" "$bike" | "$BIN/cm-features" -q $FEAT -o "$tmp/bike.cmt"
"$BIN/cm-train" -q -m linear --valid 0 "$tmp/bike.cmt" -o "$tmp/lin.cmm"
"$BIN/cm-train" -q -m mlp --valid 0 --seed 1 "$tmp/bike.cmt" -o "$tmp/mlp.cmm"
for k in lin mlp; do
    # shellcheck disable=SC2086
    "$BIN/cm-predict" -q -m "$tmp/$k.cmm" $BT "$bike" > "$tmp/$k.steps"
done
rmse "bike, cm linear against the peer's ridge:" "$tmp/lin.steps" "$tmp/ridge.steps" '1,3p;7p;13p;25,26p'
same_n "$tmp/lin.steps" "$tmp/ridge.steps"
rmse "bike, cm mlp against the peer's torch-mlp:" "$tmp/mlp.steps" "$tmp/torch.steps" '1,3p;7p;13p;25,26p'

# 2. the whole process against the peer's reading and backtest
for k in lin mlp; do
    # shellcheck disable=SC2086
    median "$BIN/cm-predict" -q -m "$tmp/$k.cmm" $BT "$bike" > "$tmp/$k.time"
done
for m in ridge torch; do
    : > "$tmp/$m.lb"
    : > "$tmp/$m.b"
    for i in 1 2 3; do
        [ $i = 1 ] || peer "$m" bike "$bike" --model "$([ $m = torch ] && echo torch-mlp || echo ridge)" \
            --every 1 --windows 0
        awk -v l="$(kv load_seconds "$tmp/$m.line")" -v b="$(kv backtest_seconds "$tmp/$m.line")" \
            'BEGIN { print l + b }' >> "$tmp/$m.lb"
        kv backtest_seconds "$tmp/$m.line" >> "$tmp/$m.b"
    done
done
for pair in lin:ridge mlp:torch; do
    k=${pair%:*} m=${pair#*:}
    awk -v k="$k" -v m="$m" -v c="$(cat "$tmp/$k.time")" -v lb="$(median3 "$tmp/$m.lb")" \
        -v b="$(median3 "$tmp/$m.b")" 'BEGIN {
        printf "bike backtest, %s: cm-predict whole process %.1f ms; peer %s reading + backtest %.1f ms (cm %.2fx faster), its backtest alone %.1f ms (%.2fx)\n",
            k, c * 1000, m, lb * 1000, lb / c, b * 1000, b / c }'
done

# 3. memory against the number of origins
for w in 10 100 1000 0; do
    /usr/bin/time -f '%M' -o "$tmp/rss" "$BIN/cm-predict" -q -m "$tmp/lin.cmm" --backtest \
        --horizon 24 --every 1h --windows $w --from "$o0" -o /dev/null "$bike"
    awk -v w="$w" '{ printf "bike backtest peak memory, %s origins: %.1f MiB\n",
        w == 0 ? "all" : w, $1 / 1024 }' "$tmp/rss"
done

# 4. one forecast from the 15 days before a day whose 168 hours back are
# whole (bike's file ends with gaps on 2012-12-24 and -25); the peer reads
# its file to that day and trains, as its --mode forecast does
awk -F, 'NR == 1 || ($2 >= "2012-12-09" && $2 <= "2012-12-23")' "$bike" > "$tmp/recent.csv"
awk -F, 'NR == 1 || $2 <= "2012-12-23"' "$bike" > "$tmp/upto.csv"
# shellcheck disable=SC2086
"$BIN/cm-clean" -q $CLEAN "$tmp/upto.csv" | "$BIN/cm-features" -q $FEAT |
    "$BIN/cm-train" -q -m linear --valid 0 -o "$tmp/all.cmm"
FC="-q -m $tmp/all.cmm --horizon 24 --future-fill last $tmp/recent.csv"
# shellcheck disable=SC2086
"$BIN/cm-predict" $FC > "$tmp/cm.fc"
$PY "$peer" bike "$tmp/upto.csv" --model ridge --mode forecast 2>/dev/null > "$tmp/peer.fc"
paste -d, "$tmp/cm.fc" "$tmp/peer.fc" | awk -F, 'NR > 1 { d = $3 - $6; d = d < 0 ? -d : d; m = d > m ? d : m }
    END { printf "one forecast of 24 hours: cm and the peer (ridge, all rows) differ by %.4f at most\n", m }'
# shellcheck disable=SC2086
c=$(RUNS=50 median "$BIN/cm-predict" $FC)
p=$(RUNS=5 median $PY "$peer" bike "$tmp/upto.csv" --model ridge --mode forecast 2>/dev/null)
awk -v c="$c" -v p="$p" 'BEGIN { printf "one forecast, whole process: cm-predict %.2f ms, peer --mode forecast %.0f ms (%.0fx)\n",
    c * 1000, p * 1000, p / c }'

# ---- population: 5 years ahead per state and age group ------------------------------
# cm's series: a column of the two (dropped as an input); its time: a copy
# of the year, which stays an input as the peer's does
awk -F, -v OFS=, 'NR == 1 { print $0, "series", "t"; next } $1 != "USA" { print $0, $1 "/" $2, $3 }' \
    "$pop" > "$tmp/pop.csv"
peer pridge population "$pop" --model ridge --horizon 5 --every 1 --windows 0 --train-frac 0.7
peer ptorch population "$pop" --model torch-mlp --horizon 5 --every 1 --windows 0 --train-frac 0.7
p0=$(kv first_origin "$tmp/pridge.line")
echo "population: $(kv origins "$tmp/pridge.line") origins from $p0, $(kv series "$tmp/pridge.line") series, 5 years each"
"$BIN/cm-clean" -q --sort --time t --until "$((p0 + 1))" "$tmp/pop.csv" |
    "$BIN/cm-features" -q -y population --by series --drop series --time-features none \
        -L population:1,2 -o "$tmp/pop.cmt"
"$BIN/cm-train" -q -m linear --valid 0 "$tmp/pop.cmt" -o "$tmp/plin.cmm"
"$BIN/cm-train" -q -m mlp --valid 0 --seed 1 "$tmp/pop.cmt" -o "$tmp/pmlp.cmm"
for k in plin pmlp; do
    "$BIN/cm-predict" -q -m "$tmp/$k.cmm" --backtest --horizon 5 --every 1 --windows 0 \
        --from "$p0" "$tmp/pop.csv" > "$tmp/$k.steps"
done
rmse "population, cm linear against the peer's ridge:" "$tmp/plin.steps" "$tmp/pridge.steps"
same_n "$tmp/plin.steps" "$tmp/pridge.steps"
rmse "population, cm mlp against the peer's torch-mlp:" "$tmp/pmlp.steps" "$tmp/ptorch.steps"

# 5. direct models against recursive ones, the same rows and origins
"$BIN/cm-train" -q -m linear --valid 0 -H 24 "$tmp/bike.cmt" -o "$tmp/dlin.cmm"
"$BIN/cm-train" -q -m mlp --valid 0 --seed 1 -H 24 "$tmp/bike.cmt" -o "$tmp/dmlp.cmm"
for k in dlin dmlp; do
    # shellcheck disable=SC2086
    "$BIN/cm-predict" -q -m "$tmp/$k.cmm" $BT "$bike" > "$tmp/$k.steps"
done
strategies "bike, RMSE by step, recursive (rec) and direct (dir) models:" '1,3p;7p;13p;19p;25,26p' \
    rec-linear="$tmp/lin.steps" dir-linear="$tmp/dlin.steps" rec-mlp="$tmp/mlp.steps" \
    dir-mlp="$tmp/dmlp.steps"
"$BIN/cm-train" -q -m linear --valid 0 -H 5 "$tmp/pop.cmt" -o "$tmp/pdlin.cmm"
"$BIN/cm-train" -q -m mlp --valid 0 --seed 1 -H 5 "$tmp/pop.cmt" -o "$tmp/pdmlp.cmm"
for k in pdlin pdmlp; do
    "$BIN/cm-predict" -q -m "$tmp/$k.cmm" --backtest --horizon 5 --every 1 --windows 0 \
        --from "$p0" "$tmp/pop.csv" > "$tmp/$k.steps"
done
strategies "population, RMSE by step, recursive (rec) and direct (dir) models:" '1,$p' \
    rec-linear="$tmp/plin.steps" dir-linear="$tmp/pdlin.steps" rec-mlp="$tmp/pmlp.steps" \
    dir-mlp="$tmp/pdmlp.steps"
