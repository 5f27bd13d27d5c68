#!/bin/sh
# ab.sh OLD_BIN [NEW_BIN]: the same work timed with two builds of cm, in
# turns, for a change that must not slow anything down: cm-clean,
# cm-features, cm-train (mlp and linear), cm-predict (batch and one row),
# cm-cat and cm-tune on the bike data repeated to SIZE_MB of CSV.  Prints
# the best of RUNS times of each and new/old.  Not part of make bench
# (there is no peer); run it by hand against a build of the base commit.
. "$(dirname "$0")/common.sh"
old=$(cd "$1" && pwd)
new=$(cd "${2:-$BIN}" && pwd)
SIZE_MB=${SIZE_MB:-100}
RUNS=${RUNS:-3}
src="$shared/data/bike_sharing_hour.csv"
ref="$shared/data/features/bike.csv"
need "$src" "$ref"
series "$src" "$tmp/big.csv" "$SIZE_MB"
"$new/cm-clean" -q --time dteday,hr --drop instant,casual,registered "$src" -o "$tmp/bike.cmt"
"$new/cm-features" -q -y cnt -L cnt:1h,24h,168h -R cnt:mean:24h "$tmp/bike.cmt" -o "$tmp/feat.cmt"
"$new/cm-clean" -q "$ref" -o "$tmp/ref.cmt"
"$new/cm-train" -q --epochs 2 "$tmp/feat.cmt" -o "$tmp/m.cmm"
"$new/cm-train" -q --epochs 2 -y cnt "$tmp/ref.cmt" -o "$tmp/r.cmm"
repeat "$ref" "$tmp/refbig.csv" "$SIZE_MB"

best() { # best BIN CMD...: the least wall time of RUNS runs, in seconds
    b=$1; shift
    t=
    for _ in $(seq "$RUNS"); do
        s=$(date +%s.%N)
        "$b/$@" >/dev/null 2>&1 </dev/null
        e=$(date +%s.%N)
        t=$(echo "$s $e ${t:-1e9}" | awk '{ d = $2 - $1; print d < $3 ? d : $3 }')
    done
    echo "$t"
}
row="dteday=2011-12-31 hr=17 season=1 yr=0 mnth=12 holiday=0 weekday=6 workingday=0 weathersit=1 temp=0.24 atemp=0.23 hum=0.56 windspeed=0.19 cnt_lag1h=141 cnt_lag24h=62 cnt_lag168h=108 cnt_mean24h=91"
printf '%-16s %9s %9s %7s\n' work old_s new_s new/old
while read -r name cmd; do
    # shellcheck disable=SC2086
    a=$(best "$old" $cmd) b=$(best "$new" $cmd)
    printf '%-16s %9.3f %9.3f %7.3f\n' "$name" "$a" "$b" "$(echo "$a $b" | awk '{ print $2 / $1 }')"
done <<LIST
clean            cm-clean --time t --drop instant,dteday,hr,casual,registered $tmp/big.csv -o $tmp/o.cmt
features         cm-features -y cnt -L cnt:1h,2h,24h,168h -R cnt:mean,std:24h $tmp/o.cmt -o $tmp/f.cmt
cat              cm-cat $tmp/f.cmt
train-mlp        cm-train -j 1 --epochs 5 -y cnt $tmp/ref.cmt -o $tmp/a.cmm
train-linear     cm-train -m linear -y cnt $tmp/ref.cmt -o $tmp/b.cmm
tune             cm-tune -j 2 --grid lr=0.001,0.01 --epochs 2 -y cnt $tmp/ref.cmt
predict-batch    cm-predict -m $tmp/r.cmm $tmp/refbig.csv
predict-row      cm-predict -m $tmp/m.cmm $row
LIST
