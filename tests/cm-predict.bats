#!/usr/bin/env bats
# cm-predict: the same forecast from raw CSV, a cm-clean stream, a
# cm-features stream and NAME=VALUE arguments (an MLP and a ridge model,
# a category input, a local time zone); one output row per input row in
# input order, with the reasons for the empty ones counted; --eval against
# an awk computation; csv, tsv, json, --id and -o; damaged models and bad
# input; --info; categories the model never saw.  The data are the January
# bike file and small CSVs derived from it here; models are trained with
# SOURCE_DATE_EPOCH=1 and few epochs, so that every test runs in a moment.
load helpers

bats_require_minimum_version 1.5.0

# ---- helpers -----------------------------------------------------------------

BIKE="$DATA/bike-2011-01.csv"
CLEAN=(-T dteday,hr --drop instant,casual,registered -t weathersit=cat)
FEAT=(-y cnt -L cnt:1h,24h -R cnt:mean:24h)

# clean.cmt and feat.cmt from CSV (default the January bike file), then
# OUT.cmm trained on feat.cmt with the cm-train options given.
# bike_model OUT.cmm [CSV [cm-train options...]]
bike_model() {
    local out=$1 csv=${2:-$BIKE}
    shift $(($# < 2 ? $# : 2))
    quiet cm-clean "${CLEAN[@]}" -o clean.cmt "$csv"
    quiet cm-features "${FEAT[@]}" -o feat.cmt clean.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q "$@" -o "$out" feat.cmt
}

# cm-predict ARGS with stdout in pred.out, stderr in pred.err; fails unless
# it exits 0.
predict() {
    local st=0
    cm-predict "$@" >pred.out 2>pred.err </dev/null || st=$?
    if [ "$st" -ne 0 ]; then
        echo "cm-predict $*: status $st, stderr:" >&2
        cat pred.err >&2
        return 1
    fi
}

# The column of the CSV on stdin named NAME, header left out: col NAME
col() {
    awk -F, -v n="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i
        if (!c) { print "no column " n >"/dev/stderr"; exit 1 }; next } { print $c }'
}

# The NAME=VALUE arguments for the row at time T (as cm-cat prints it) of
# the bike CSV: every raw field of its row in CSV (the skipped instant,
# casual and registered left out) and, from the features stream as CSV,
# the lags and the rolling mean, which one row cannot have.
# adhoc_args CSV FEATCSV T
adhoc_args() {
    local day=${3%%T*} hour=${3#*T}
    hour=$((10#${hour%%:*}))
    awk -F, -v d="$day" -v h="$hour" 'NR == 1 { split($0, H, ","); next }
        $2 == d && $6 == h { n++; for (i = 1; i <= NF; i++)
            if (H[i] != "instant" && H[i] != "casual" && H[i] != "registered") print H[i] "=" $i }
        END { if (n != 1) { print "rows at " d " " h ": " n >"/dev/stderr"; exit 1 } }' "$1" || return 1
    awk -F, -v t="$3" 'NR == 1 { split($0, H, ","); next }
        $1 == t { n++; for (i = 1; i <= NF; i++) if (H[i] ~ /^cnt_(lag|mean)/) print H[i] "=" $i }
        END { if (n != 1) { print "features rows at " t ": " n >"/dev/stderr"; exit 1 } }' "$2"
}

# The time cm-predict prints for a bike CSV row, from dteday and hr (empty
# without a date), one a line, header left out: bike_times CSV
bike_times() {
    awk -F, 'NR > 1 { if ($2 == "") print ""; else printf "%sT%02d:00:00Z\n", $2, $6 }' "$1"
}

# The January file with cells emptied: blank CSV ROW:FIELD... (ROW counts
# data rows from 1, FIELD is the column number).
blank() {
    local csv=$1
    shift
    awk -F, -v OFS=, -v spec="$*" 'BEGIN { n = split(spec, S, " ")
        for (i = 1; i <= n; i++) { split(S[i], p, ":"); cut[p[1] + 1, p[2]] = 1 } }
        { for (f = 1; f <= NF; f++) if ((NR, f) in cut) $f = "" ; print }' "$csv"
}

# The files of the test directory but the logs of the helpers and of bats.
files() {
    ls -A | grep -vx -e quiet.err -e pred.err -e pred.out -e stdout.bin -e 'separate-stderr-.*' |
        LC_ALL=C sort
}

# Those files with a checksum of each, one a line.
snapshot() {
    local f
    files | while read -r f; do printf '%s %s\n' "$f" "$(cksum <"$f")"; done
}

# Exact status and stderr, nothing on stdout and no file made or changed.
# assert_fails STATUS MESSAGE ARGS...
assert_fails() {
    local before after
    before=$(snapshot)
    assert_exit cm-predict "$@" || return 1
    if [ -s stdout.bin ]; then
        echo "cm-predict ${*:3}: $(wc -c <stdout.bin) bytes on stdout" >&2
        return 1
    fi
    after=$(snapshot)
    if [ "$before" != "$after" ]; then
        echo "cm-predict ${*:3}: the directory changed:" >&2
        diff <(echo "$before") <(echo "$after") >&2
        return 1
    fi
}

# Sets byte OFFSET of FILE to its complement: flip FILE OFFSET
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# ---- one forecast, four ways ---------------------------------------------------

@test "raw CSV, cm-clean stream, cm-features stream and NAME=VALUE: the same forecasts, bit for bit (mlp and linear, a category input)" {
    local kind
    for kind in "--layers 8,4 --epochs 3" "-m linear"; do
        # shellcheck disable=SC2086
        bike_model m.cmm "$BIKE" $kind
        cm-cat --info m.cmm | grep -qx '  weathersit: category, [0-9]* known + unseen'
        predict -m m.cmm "$BIKE" && mv pred.out csv.out
        predict -m m.cmm clean.cmt && mv pred.out clean.out
        cm-clean "${CLEAN[@]}" "$BIKE" | cm-predict -m m.cmm - >stdin.out 2>/dev/null
        predict -m m.cmm feat.cmt && mv pred.out feat.out
        [ "$(head -1 csv.out)" = time,cnt_pred,cnt ]
        # Every row of the January file has a time and every value: cm-clean
        # kept them all, and the two outputs are the same file.
        [ "$(wc -l <csv.out)" -eq "$(wc -l <"$BIKE")" ]
        cmp csv.out clean.out
        cmp csv.out stdin.out
        # The features stream has the rows with a full history, each forecast.
        [ "$(wc -l <feat.out)" -eq $(($(cm-cat feat.cmt | wc -l))) ]
        awk -F, 'NR == 1 || $2 != ""' csv.out >forecast.out
        [ "$(wc -l <forecast.out)" -gt 500 ]
        cmp forecast.out feat.out
        ! col cnt_pred <feat.out | grep -qvE '^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$' || false
        # One row at a time from the command line: the first rows with a
        # history, the rainiest (weathersit 4), one in the middle, the last.
        cm-cat feat.cmt >feat.csv
        local t times
        times=$(sed -n '2p;3p;300p;$p' feat.csv | cut -d, -f1; awk -F, 'NR == 1 { for (i = 1; i <= NF; i++)
            if ($i == "weathersit") c = i } NR > 1 && $c == 4 { print $1 }' feat.csv)
        [ "$(echo "$times" | wc -l)" -eq 5 ]
        for t in $times; do
            mapfile -t args < <(adhoc_args "$BIKE" feat.csv "$t")
            [ "${#args[@]}" -eq 17 ]
            got=$(cm-predict -m m.cmm "${args[@]}")
            want=$(awk -F, -v t="$t" '$1 == t { print $2 }' csv.out)
            [ -n "$want" ] && [ "$got" = "$want" ] || {
                echo "$kind at $t: $got from the arguments, $want from CSV (${args[*]})" >&2
                return 1
            }
        done
        # The test can fail: another value of one field, another forecast.
        mapfile -t args < <(adhoc_args "$BIKE" feat.csv "$t")
        other=$(cm-predict -m m.cmm "${args[@]/#temp=*/temp=0.9}")
        [ "$other" != "$want" ]
    done
}

@test "a model in Europe/Berlin: times in its zone across the DST change, the hour in local time, the same forecasts every way" {
    # Hourly local times over the spring change (02:00 on 29 March does
    # not exist), the load a function of the local hour.
    awk 'BEGIN { print "time,x,load"; s = 5
        for (d = 27; d <= 30; d++) for (h = 0; h < 24; h++) { if (d == 29 && h == 2) continue
            s = (s * 16807) % 2147483647
            printf "2026-03-%02d %02d:00,%d,%d\n", d, h, s % 10, 2 * h + s % 7 } }' >ber.csv
    quiet cm-clean --tz Europe/Berlin -o ber-clean.cmt ber.csv
    quiet cm-features -y load -L load:1h -o ber.cmt ber-clean.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o ber.cmm ber.cmt
    predict -m ber.cmm ber.csv && mv pred.out csv.out
    predict -m ber.cmm ber-clean.cmt && mv pred.out clean.out
    predict -m ber.cmm ber.cmt && mv pred.out feat.out
    cmp csv.out clean.out
    awk -F, 'NR == 1 || $2 != ""' csv.out | cmp - feat.out
    # The input's local times, with the offset of the day.
    awk -F, 'NR > 1 { sub(/ /, "T", $1); print $1 ":00" ($1 < "2026-03-29T03" ? "+01:00" : "+02:00") }' ber.csv >want
    col time <csv.out | diff -u want -
    # The hour the model saw is the local one.
    cm-cat ber.cmt | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "hour") c = i; next }
        { h = substr($1, 12, 2) + 0; if ($c != (h + (substr($1, 1, 10) < "2026-03-29" || $1 < "2026-03-29T01" ? 1 : 2)) % 24) bad++ }
        END { exit bad > 0 }'
    # A row from the command line in local time.
    local t
    for t in 2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00 2026-03-30T23:00:00+02:00; do
        local naive=${t%:00+*} lag x load
        naive=${naive/T/ }
        IFS=, read -r _ x load < <(grep "^$naive," ber.csv)
        lag=$(awk -F, -v n="$naive" '$1 == n { print p } { p = $3 }' ber.csv)
        got=$(cm-predict -m ber.cmm time="$naive" x="$x" load="$load" load_lag1h="$lag")
        want=$(awk -F, -v t="$t" '$1 == t { print $2 }' csv.out)
        [ -n "$want" ] && [ "$got" = "$want" ] || {
            echo "at $t: $got from the arguments, $want from CSV" >&2
            return 1
        }
    done
}

# ---- every row out, in order -------------------------------------------------------

@test "one output row per input row, in input order, with missing values, no history and no time; the reasons add up" {
    bike_model m.cmm "$BIKE" --layers 8 --epochs 2
    # Data rows 3 and 40-41 and 70 lose temp (row 3 has no history either),
    # row 50 its date, row 80 its count; the first 100 rows.
    head -101 "$BIKE" >head.csv
    blank head.csv 3:11 40:11 41:11 70:11 50:2 80:17 >in.csv
    predict -m m.cmm in.csv
    [ "$(wc -l <pred.out)" -eq 101 ]
    [ "$(head -1 pred.out)" = time,cnt_pred,cnt ]
    bike_times in.csv | diff -u - <(col time <pred.out)
    # The actual values are the input's, the row without a time's too.
    awk -F, 'NR > 1 { print $17 }' in.csv | diff -u - <(col cnt <pred.out)
    # No forecast where temp is missing, nor without a time.
    paste -d, <(awk -F, 'NR > 1 { print ($11 == "" || $2 == "") }' in.csv) <(col cnt_pred <pred.out) |
        awk -F, '$1 == 1 && $2 != "" { bad++ } END { exit bad > 0 }'
    # The first 24 rows lack a lag of a day: no forecast for any of them.
    [ "$(col cnt_pred <pred.out | sed -n '1,24p' | grep -c .)" -eq 0 ]
    # The reasons: N of M, the parts summing to N, N the empty forecasts.
    empty=$(col cnt_pred <pred.out | grep -c '^$')
    [ "$(wc -l <pred.err)" -eq 1 ]
    line=$(cat pred.err)
    [[ $line =~ ^cm-predict:\ ([0-9]+)\ of\ ([0-9]+)\ rows\ without\ a\ forecast:\ (.*)$ ]]
    n=${BASH_REMATCH[1]} rows=${BASH_REMATCH[2]} parts=${BASH_REMATCH[3]}
    [ "$rows" -eq 100 ]
    [ "$n" -eq "$empty" ]
    sum=$(echo "$parts" | tr , '\n' | awk '{ s += $1 } END { print s }')
    [ "$sum" -eq "$n" ]
    # Each reason: temp on the four rows that lack it (cleaning leaves them
    # out, as cm-clean does), the time on one.
    [[ ", $parts" == *", 4 missing temp, "* ]]
    [[ ", $parts" == *", 1 without a time" ]]
    # The hour after a row left out has no lag of an hour, as in the pipe.
    [ -z "$(col cnt_pred <pred.out | sed -n 71p)" ]
    # -v adds the totals; -q says nothing.
    predict -v -m m.cmm in.csv
    grep -qx "cm-predict: 100 rows, $((100 - n)) forecast" pred.err
    predict -q -m m.cmm in.csv
    [ ! -s pred.err ]
    predict -q -v -m m.cmm in.csv
    [ ! -s pred.err ]
    # JSON: one object a line as well.
    predict -f json -m m.cmm in.csv
    [ "$(wc -l <pred.out)" -eq 100 ]
}

@test "cm streams: one output row per stream row, the incomplete ones of cm-features --keep-incomplete too" {
    bike_model m.cmm "$BIKE" -m linear
    quiet cm-features "${FEAT[@]}" --keep-incomplete -o all.cmt clean.cmt
    predict -m m.cmm all.cmt
    cm-cat all.cmt >all.csv
    [ "$(wc -l <pred.out)" -eq "$(wc -l <all.csv)" ]
    col time <all.csv | diff -u - <(col time <pred.out)
    col cnt <all.csv | diff -u - <(col cnt <pred.out)
    # The same rows as from the CSV: all of them, with the same forecasts.
    cm-predict -m m.cmm "$BIKE" 2>csv.err | cmp - pred.out
    cmp csv.err pred.err
    grep -q '^cm-predict: [0-9]* of 688 rows without a forecast: [0-9]* missing cnt_lag1h' pred.err
    # cm-clean: its rows, in order.
    predict -m m.cmm clean.cmt
    cm-cat clean.cmt | col time | diff -u - <(col time <pred.out)
}

@test "a model without lags: rows in any order in input order, each repeated time forecast once (a recipe with --sort --dedupe)" {
    # Days in a random order, some twice; y = 2x + 1.
    awk 'BEGIN { print "t,x,y"; s = 3
        for (i = 0; i < 40; i++) { s = (s * 16807) % 2147483647
            printf "2026-01-%02d 12:00,%d,%d\n", 1 + s % 30, i, 2 * i + 1 } }' >un.csv
    [ "$(cut -d, -f1 un.csv | sort | uniq -d | wc -l)" -gt 3 ]
    quiet cm-clean --sort --dedupe last -o un.cmt un.csv
    [ "$(cm-cat un.cmt | wc -l)" -lt 40 ]
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -y y --valid 0 -o un.cmm un.cmt
    predict -m un.cmm --id x un.csv
    dups=$(( 40 - $(cm-cat un.cmt | sed 1d | wc -l) ))
    [ "$(cat pred.err)" = "cm-predict: $dups of 40 rows without a forecast: $dups repeating a time the recipe's dedupe keeps once" ]
    [ "$(head -1 pred.out)" = t,x,y_pred,y ]
    [ "$(wc -l <pred.out)" -eq 41 ]
    awk -F, 'NR > 1 { sub(/ /, "T", $1); print $1 ":00Z," $2 }' un.csv | diff -u - <(sed 1d pred.out | cut -d, -f1,2)
    # dedupe last: the last row of each time is forecast, the others not
    awk -F, 'NR > 1 { last[$1] = NR } END { for (t in last) print last[t] }' un.csv | sort -n >kept
    awk -F, 'NR > 1 && $3 != "" { print NR }' pred.out | diff -u kept -
    # The sorted, deduplicated stream: the same forecast for each x it kept.
    cm-predict -m un.cmm --id x un.cmt >sorted.out
    [ "$(wc -l <sorted.out)" -eq "$(cm-cat un.cmt | wc -l)" ]
    awk -F, 'NR == FNR { if (FNR > 1) { p[$2] = $3; rows++ }; next } FNR > 1 && ($2 in p) { n++; if (p[$2] != $3) bad++ }
        END { exit !(n == rows && bad == 0) }' sorted.out pred.out
}

@test "series (--by): lags within each series of an interleaved input, the same forecasts every way, the gaps counted" {
    # Three sensors an hour apart over 60 hours, a few readings missing.
    awk 'BEGIN { print "t,sensor,x,v"; s = 11
        for (h = 0; h < 60; h++) for (k = 1; k <= 3; k++) { s = (s * 16807) % 2147483647
            if (s % 9 == 0) continue
            printf "2026-01-%02d %02d:00,S%d,%d,%d\n", 1 + int(h / 24), h % 24, k, s % 13, 10 * k + h % 5 + s % 3 } }' >ser.csv
    quiet cm-clean -k sensor -o ser-clean.cmt ser.csv
    quiet cm-features -y v -b sensor -L v:1h,2h -R v:mean:3h -o ser.cmt ser-clean.cmt
    # every row trained, the Saturday's too: no weekend unseen
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --valid 0 -o ser.cmm ser.cmt
    predict -m ser.cmm --id sensor ser.csv && mv pred.out csv.out && mv pred.err csv.err
    predict -m ser.cmm --id sensor ser-clean.cmt
    cmp csv.out pred.out
    cmp csv.err pred.err
    predict -m ser.cmm --id sensor ser.cmt
    awk -F, 'NR == 1 || $3 != ""' csv.out | cmp - pred.out
    awk -F, 'NR > 1 { sub(/ /, "T", $1); print $1 ":00Z," $2 }' ser.csv | diff -u - <(sed 1d csv.out | cut -d, -f1,2)
    # No forecast exactly where the sensor has no reading an hour or two
    # before, counted under the first lag missing.
    awk -F, 'NR > 1 { h = (substr($1, 9, 2) - 1) * 24 + substr($1, 12, 2); seen[$2, h] = 1; k[NR] = $2; t[NR] = h }
        END { for (i = 2; i <= NR; i++) { a = (k[i], t[i] - 1) in seen; b = (k[i], t[i] - 2) in seen
                print (a && b) ? "yes" : "no"; if (!a) l1++; else if (!b) l2++ }
            printf "cm-predict: %d of %d rows without a forecast: %d missing v_lag1h, %d missing v_lag2h\n",
                l1 + l2, NR - 1, l1, l2 >"want.err" }' ser.csv >want
    col v_pred <csv.out | sed 's/^..*/yes/; s/^$/no/' | diff -u want -
    diff -u want.err csv.err
    # One row by its fields: the sensor, its time, x, v and the lags.
    cm-cat ser.cmt >feat.csv
    local line t sensor x v lag1 lag2 mean
    for line in 2 40 $(wc -l <feat.csv); do
        IFS=, read -r t sensor x _ _ _ _ _ lag1 lag2 mean v < <(sed -n "${line}p" feat.csv)
        [ "$(sed -n 1p feat.csv)" = t,sensor,x,hour,dow,month,doy,weekend,v_lag1h,v_lag2h,v_mean3h,v ]
        naive=${t%:00Z}
        got=$(cm-predict -m ser.cmm t="${naive/T/ }" sensor="$sensor" x="$x" v="$v" \
            v_lag1h="$lag1" v_lag2h="$lag2" v_mean3h="$mean")
        [ "$got" = "$(awk -F, -v t="$t" -v s="$sensor" '$1 == t && $2 == s { print $3 }' csv.out)" ]
    done
}

# ---- --eval -----------------------------------------------------------------------

@test "--eval: rows, MAE, RMSE, MAPE (non-zero actuals), R2 as awk computes them from the forecasts" {
    bike_model m.cmm "$BIKE" --layers 8 --epochs 2
    # Zero counts (left out of MAPE only), a missing count and missing
    # temps (left out altogether).
    awk -F, -v OFS=, 'NR % 37 == 0 { $17 = 0 } NR == 300 { $17 = "" } NR == 200 || NR == 201 { $11 = "" } 1' \
        "$BIKE" >in.csv
    [ "$(awk -F, '$17 == "0"' in.csv | wc -l)" -gt 10 ]
    predict -m m.cmm in.csv && mv pred.out rows.csv
    predict -q --eval -m m.cmm in.csv
    [ ! -s pred.err ]
    sed 's/=.*//' pred.out | tr '\n' ' ' | grep -qx 'rows mae rmse mape r2 '
    awk -F, 'NR > 1 && $2 != "" && $3 != "" { n++; y[n] = $3; d = $2 - $3; ae += (d < 0 ? -d : d)
            se += d * d; sy += $3; if ($3 != 0) { ape += (d < 0 ? -d : d) / ($3 < 0 ? -$3 : $3); nz++ } }
        END { m = sy / n; for (i = 1; i <= n; i++) st += (y[i] - m) ^ 2
            printf "rows=%d\nmae=%.17g\nrmse=%.17g\nmape=%.17g\nr2=%.17g\n", n, ae / n, sqrt(se / n), 100 * ape / nz, 1 - se / st }' \
        rows.csv >want
    [ "$(sed -n 1p want)" = "$(sed -n 1p pred.out)" ]
    [ "$(sed -n 's/^rows=//p' want)" -lt 600 ]
    [ "$(sed -n 's/^rows=//p' want)" -gt 500 ]
    local k
    for k in mae rmse mape r2; do
        check 'g == w || (g - w) ^ 2 <= (1e-9 * w) ^ 2' \
            g="$(sed -n "s/^$k=//p" pred.out)" w="$(sed -n "s/^$k=//p" want)" || {
            echo "$k: $(grep "^$k=" pred.out), awk $(grep "^$k=" want)" >&2
            return 1
        }
    done
    # JSON: the same numbers in one object.
    predict -q --eval -f json -m m.cmm in.csv
    want_json=$(cm-predict -q --eval -m m.cmm in.csv | sed 's/^\([a-z0-9]*\)=\(.*\)$/"\1":\2/' | paste -sd, | sed 's/^/{/; s/$/}/')
    [ "$(cat pred.out)" = "$want_json" ]
    # The features stream has the forecast rows of the original file: the
    # same evaluation as its CSV, to the last digit.
    diff <(cm-predict -q --eval -m m.cmm "$BIKE") <(cm-predict -q --eval -m m.cmm feat.cmt)
    # The test can fail: another model, other numbers.
    bike_model l.cmm "$BIKE" -m linear
    run cmp -s <(cm-predict -q --eval -m l.cmm in.csv) pred.out
    assert_failure
    # What cannot be computed is nan (null in JSON): MAPE with every actual
    # value 0, R2 with all the same (a model without lags: y from x).
    printf 'x,y\n1,3\n2,5\n3,7\n4,9\n5,12\n' >xy.csv
    quiet cm-clean -o xy.cmt xy.csv
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -y y --valid 0 -o xy.cmm xy.cmt
    printf 'x,y\n1,0\n2,0\n3,\n' >zero.csv
    predict --eval -m xy.cmm zero.csv
    [ "$(sed -n '1p;4p;5p' pred.out | paste -sd' ')" = "rows=2 mape=nan r2=nan" ]
    predict --eval -f json -m xy.cmm zero.csv
    [[ $(cat pred.out) =~ ^\{\"rows\":2,\"mae\":[0-9.]+,\"rmse\":[0-9.]+,\"mape\":null,\"r2\":null\}$ ]]
    printf 'x,y\n1,5\n2,5\n' >same.csv
    predict --eval -m xy.cmm same.csv
    [[ $(sed -n 4p pred.out) =~ ^mape=[0-9] ]]
    [ "$(sed -n 5p pred.out)" = r2=nan ]
    printf 'x,y\n' >none.csv
    predict --eval -f json -m xy.cmm none.csv
    [ "$(cat pred.out)" = '{"rows":0,"mae":null,"rmse":null,"mape":null,"r2":null}' ]
    # Nothing to evaluate against: an error, no numbers.
    cut -d, -f1-16 in.csv >nocnt.csv
    assert_fails 1 "cm-predict: nocnt.csv: no column 'cnt' to evaluate against" --eval -m m.cmm nocnt.csv
}

# ---- output ------------------------------------------------------------------------

@test "csv, tsv and json (null for missing), --id, -o replaced only when complete" {
    bike_model m.cmm "$BIKE" --layers 8 --epochs 2
    head -61 "$BIKE" >head.csv
    blank head.csv 30:11 40:2 45:17 >in.csv
    predict -m m.cmm --id season,weathersit in.csv && mv pred.out out.csv
    [ "$(head -1 out.csv)" = time,season,weathersit,cnt_pred,cnt ]
    [ "$(wc -l <out.csv)" -eq 61 ]
    awk -F, 'NR > 1 { print $3 "," $10 }' in.csv | diff -u - <(cut -d, -f2,3 out.csv | sed 1d)
    # Without --id: the same forecasts.
    predict -m m.cmm in.csv
    cut -d, -f1,4,5 out.csv | cmp - pred.out
    # TSV: the same with tabs.
    predict -m m.cmm -f tsv --id season,weathersit in.csv
    tr '\t' , <pred.out | cmp - out.csv
    grep -q $'\t' pred.out
    # JSON: one object a line, the keys in order, null for what is missing;
    # the category a string, the numbers numbers.
    predict -m m.cmm --format=json --id season,weathersit in.csv
    [ "$(wc -l <pred.out)" -eq 60 ]
    num='-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?'
    ! grep -vE "^\{\"time\":(\"[-0-9T:Z]+\"|null),\"season\":($num|null),\"weathersit\":(\"[0-9]\"|null),\"cnt_pred\":($num|null),\"cnt\":($num|null)\}$" pred.out || false
    sed -E 's/"[a-z_]+"://g; s/^\{//; s/\}$//; s/null//g; s/"//g' pred.out | cmp - <(sed 1d out.csv)
    grep -q '"cnt_pred":null' pred.out
    # the row without a time keeps the fields it had
    grep -qE '"time":null,"season":1,"weathersit":"?[0-9]"?,"cnt_pred":null,"cnt":[0-9]+}' pred.out
    # An input without the target: no actual column.
    cut -d, -f1-16 in.csv >nocnt.csv
    predict -q -m m.cmm nocnt.csv
    [ "$(head -1 pred.out)" = time,cnt_pred ]
    [ "$(wc -l <pred.out)" -eq 61 ]
    # -o: the same bytes, nothing else left behind.
    before=$(files)
    predict -m m.cmm --id season,weathersit -o file.csv in.csv
    [ ! -s pred.out ]
    cmp file.csv out.csv
    [ "$(files)" = "$(printf '%s\n' "$before" file.csv | LC_ALL=C sort)" ]
    predict -m m.cmm --eval -o eval.txt in.csv
    grep -q '^rows=' eval.txt
    # - is standard input, -- ends the options, long options abbreviate.
    cm-predict --mod=m.cmm --id=season,weathersit - <in.csv 2>/dev/null | cmp - out.csv
    cm-predict --id season,weathersit -m m.cmm -- in.csv 2>/dev/null | cmp - out.csv
    # A forecast for one row goes to standard output, -o or not.
    mapfile -t args < <(head -1 "$BIKE" | tr , '\n' | paste -d= - <(sed -n 30p "$BIKE" | tr , '\n') |
        grep -v -e '^instant=' -e '^casual=' -e '^registered=')
    n=$(cm-predict -m m.cmm -o one.txt "${args[@]}" cnt_lag1h=1 cnt_lag24h=2 cnt_mean24h=3)
    [[ $n =~ ^-?[0-9] ]]
    [ ! -e one.txt ]
    # A reader that goes away early: status 0 all the same.
    run bash -c 'cm-predict -q -m m.cmm "$0" | head -1; exit "${PIPESTATUS[0]}"' "$DATA/bike-2011.csv"
    [ "$status" -eq 0 ]
    [ "$output" = time,cnt_pred,cnt ]
    # A failure late in a long input: no file, and an existing one kept.
    # (the year: its 8,000th line comes after several batches of output)
    awk -F, -v OFS=, 'NR == 8000 { $11 = "zzz" } 1' "$DATA/bike-2011.csv" >late.csv
    rm -f file.csv eval.txt
    assert_fails 1 "cm-predict: late.csv:8000: column 'temp': 'zzz' is not a number" -m m.cmm -o file.csv late.csv
    [ ! -e file.csv ]
    echo keep >old.csv
    assert_fails 1 "cm-predict: late.csv:8000: column 'temp': 'zzz' is not a number" -m m.cmm -o old.csv late.csv
    [ "$(cat old.csv)" = keep ]
    assert_fails 2 "cm-predict: --id: no column 'instant' (the columns are 'time', 'season', 'yr', 'mnth', 'holiday', 'weekday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', ...)" -m m.cmm --id instant -o old.csv in.csv
    [ "$(cat old.csv)" = keep ]
    assert_fails 1 "cm-predict: late.csv:8000: column 'temp': 'zzz' is not a number" -m m.cmm --eval -o old.csv late.csv
    [ "$(cat old.csv)" = keep ]
}

# ---- bad input ----------------------------------------------------------------------

@test "damaged model files: truncated, a byte flipped, not a model at all (exit 1, one line, no output)" {
    bike_model m.cmm "$BIKE" --layers 8 --epochs 1
    head -41 "$BIKE" >in.csv
    local size off n
    size=$(stat -c %s m.cmm)
    head -c 10 m.cmm >t.cmm
    assert_fails 1 "cm-predict: t.cmm: truncated model file (header incomplete)" -m t.cmm in.csv
    : >t.cmm
    assert_fails 1 "cm-predict: t.cmm: empty input, not a cm model file" -m t.cmm in.csv
    for n in 16 20 100 $((size / 2)) $((size - 30)) $((size - 1)); do
        head -c "$n" m.cmm >t.cmm
        run --separate-stderr cm-predict -m t.cmm in.csv
        [ "$status" -eq 1 ] && [ -z "$output" ] && [[ $stderr == "cm-predict: t.cmm: truncated model file ("*")" ]] || {
            echo "cut to $n bytes: status $status, stderr $stderr" >&2
            return 1
        }
    done
    for off in 0 9 10 13 17 40 $((size / 3)) $((size / 2)) $((2 * size / 3)) $((size - 10)) $((size - 1)); do
        cp m.cmm x.cmm
        flip x.cmm "$off"
        ! cmp -s x.cmm m.cmm || false
        run --separate-stderr cm-predict -m x.cmm in.csv
        [ "$status" -eq 1 ] && [ -z "$output" ] && [[ $stderr == "cm-predict: x.cmm: "* ]] &&
            [[ $stderr == *"model file"* ]] && [[ $stderr != *$'\n'* ]] || {
            echo "byte $off flipped: status $status, stdout ${#output} bytes, stderr $stderr" >&2
            return 1
        }
    done
    assert_fails 1 "cm-predict: in.csv: input looks like text (CSV?), not a cm model file" -m in.csv in.csv
    assert_fails 1 "cm-predict: feat.cmt: input is a cm stream, not a cm model file" -m feat.cmt in.csv
    assert_fails 1 "cm-predict: none.cmm: No such file or directory" -m none.cmm in.csv
    # The intact model works on that input.
    predict -m m.cmm in.csv
}

@test "bad input: a stream without a feature, bad values, bad times, bad options (one clear line, exit 1 or 2)" {
    bike_model m.cmm "$BIKE" --layers 8 --epochs 1
    # Streams made another way lack what the model reads; the message names it.
    quiet cm-features -y cnt -L cnt:1h -R cnt:mean:24h -o nolag.cmt clean.cmt
    assert_fails 1 "cm-predict: nolag.cmt: the input has no column 'cnt_lag24h', which the model needs" \
        -m m.cmm nolag.cmt
    quiet cm-features "${FEAT[@]}" --drop temp -o notemp.cmt clean.cmt
    assert_fails 1 "cm-predict: notemp.cmt: the input has no column 'temp', which the model needs" \
        -m m.cmm notemp.cmt
    quiet cm-clean -T dteday,hr --drop instant,casual,registered -o num.cmt "$BIKE"
    assert_fails 1 "cm-predict: num.cmt: column 'weathersit' is f64 in the input but a category in the model" \
        -m m.cmm num.cmt
    cut -d, -f1-10,12- "$BIKE" >notemp.csv
    assert_fails 1 "cm-predict: notemp.csv:1: no column 'temp', which the model needs" -m m.cmm notemp.csv
    # A bad cell or time in a CSV names the line and column.
    awk -F, -v OFS=, 'NR == 40 { $2 = "2011-13-45" } 1' "$BIKE" >badtime.csv
    run --separate-stderr cm-predict -m m.cmm badtime.csv
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-predict: badtime.csv:40: column 'dteday': '2011-13-45 15' is not a time" ]
    # Rows out of time order.
    (head -1 "$BIKE"; sed -n '2,11p' "$BIKE" | sed '4{h;d};5G') >swap.csv
    assert_fails 1 "cm-predict: swap.csv: row 5: time 2011-01-01T03:00:00Z comes after 2011-01-01T04:00:00Z: the rows are not in time order (sort them with cm-clean --sort)" \
        -m m.cmm swap.csv
    # One row from the command line.
    local row=(dteday=2011-01-02 hr=4 season=1 yr=0 mnth=1 holiday=0 weekday=0 workingday=0
        weathersit=2 atemp=0.4545 hum=0.94 windspeed=0.194 cnt_lag1h=6 cnt_lag24h=1 cnt_mean24h=38.875)
    out=$(cm-predict -m m.cmm "${row[@]}" temp=0.46)
    [[ $out =~ ^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$ ]]
    assert_fails 1 "cm-predict: temp: 'warm' is not a number" -m m.cmm "${row[@]}" temp=warm
    assert_fails 1 "cm-predict: dteday: 'notadate 4' is not a time" -m m.cmm "${row[@]/dteday=*/dteday=notadate}" temp=0.46
    assert_fails 1 "cm-predict: missing inputs: temp (give them as NAME=VALUE)" -m m.cmm "${row[@]}" temp=
    assert_fails 1 "cm-predict: missing inputs: temp (give them as NAME=VALUE)" -m m.cmm "${row[@]}"
    assert_fails 1 "cm-predict: missing inputs: cnt_lag1h, cnt_lag24h, cnt_mean24h (give them as NAME=VALUE)" \
        -m m.cmm "${row[@]:0:12}" temp=0.46
    assert_fails 2 "cm-predict: foo: not a field of the model's input (see --info)
Try 'cm-predict --help' for more information." -m m.cmm "${row[@]}" temp=0.46 foo=1
    assert_fails 2 "cm-predict: instant: not a field of the model's input (see --info)
Try 'cm-predict --help' for more information." -m m.cmm "${row[@]}" temp=0.46 instant=29
    # Options.
    head -30 "$BIKE" >in.csv
    assert_fails 2 "cm-predict: no model: give one with -m MODEL.cmm
Try 'cm-predict --help' for more information." in.csv
    assert_fails 2 "cm-predict: give either an input file or NAME=VALUE fields, not both
Try 'cm-predict --help' for more information." -m m.cmm in.csv temp=0.4
    assert_fails 2 "cm-predict: give either an input file or NAME=VALUE fields, not both
Try 'cm-predict --help' for more information." -m m.cmm temp=0.4 in.csv
    assert_fails 2 "cm-predict: --format: 'xml' is not csv, tsv or json
Try 'cm-predict --help' for more information." -m m.cmm --format xml in.csv
    assert_fails 2 "cm-predict: --format: 'xml' is not csv, tsv or json
Try 'cm-predict --help' for more information." -m m.cmm -f xml "${row[@]}" temp=0.46
    assert_fails 2 "cm-predict: --eval and --id read a file, not NAME=VALUE fields
Try 'cm-predict --help' for more information." -m m.cmm --eval "${row[@]}" temp=0.46
    assert_fails 2 "cm-predict: --eval and --id read a file, not NAME=VALUE fields
Try 'cm-predict --help' for more information." -m m.cmm --id season "${row[@]}" temp=0.46
    assert_fails 2 "cm-predict: --info takes no input: only -m MODEL.cmm
Try 'cm-predict --help' for more information." -m m.cmm --info "${row[@]}" temp=0.46
    assert_fails 2 "cm-predict: one input at most (got 2)
Try 'cm-predict --help' for more information." -m m.cmm in.csv in.csv
    assert_fails 2 "cm-predict: --id: no column 'nope' (the columns are 'time', 'season', 'yr', 'mnth', 'holiday', 'weekday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', ...)" -m m.cmm --id nope in.csv
    assert_fails 1 "cm-predict: none.csv: No such file or directory" -m m.cmm none.csv
    : >empty.csv
    assert_fails 1 "cm-predict: empty.csv: empty input: no header line" -m m.cmm empty.csv
    assert_fails 1 "cm-predict: m.cmm: input is a cm model file, not a cm stream" -m m.cmm m.cmm
    gzip -c in.csv | head -c 100 >cut.csv.gz
    assert_fails 1 "cm-predict: cut.csv.gz: truncated gzip input" -m m.cmm cut.csv.gz
}

@test "a value that is not a number is bad data (exit 1), for a raw field and for a derived input alike" {
    bike_model m.cmm "$BIKE" -m linear
    local row=(dteday=2011-01-02 hr=4 season=1 yr=0 mnth=1 holiday=0 weekday=0 workingday=0
        weathersit=2 temp=0.46 atemp=0.4545 hum=0.94 windspeed=0.194 cnt_lag24h=1 cnt_mean24h=38.875)
    cm-predict -m m.cmm "${row[@]}" cnt_lag1h=6 >/dev/null
    # EXIT STATUS in cm-predict(1): a field that does not fit its type.
    assert_fails 1 "cm-predict: temp: 'warm' is not a number" -m m.cmm "${row[@]/#temp=*/temp=warm}" cnt_lag1h=6
    assert_fails 1 "cm-predict: cnt_lag1h: 'x' is not a number" -m m.cmm "${row[@]}" cnt_lag1h=x
}

@test "NAME=VALUE without the time (hr left out): the message does not call the fields given missing" {
    bike_model m.cmm "$BIKE" -m linear
    local row=(dteday=2011-01-02 season=1 yr=0 mnth=1 holiday=0 weekday=0 workingday=0
        weathersit=2 temp=0.46 atemp=0.4545 hum=0.94 windspeed=0.194 cnt_lag1h=6 cnt_lag24h=1 cnt_mean24h=38.875)
    run --separate-stderr cm-predict -m m.cmm "${row[@]}"
    [ "$status" -eq 1 ] && [ -z "$output" ] || {
        echo "status $status, stdout $output" >&2
        return 1
    }
    # One line naming what is missing: the hour or the time, not temp or
    # the lags that were given.
    [[ $stderr != *$'\n'* ]] && [[ $stderr == *hr* || $stderr == *time* ]] &&
        [[ $stderr != *season* ]] && [[ $stderr != *temp* ]] && [[ $stderr != *cnt_lag1h* ]] || {
        echo "stderr: $stderr" >&2
        return 1
    }
}

@test "NAME=VALUE naming a field twice: the message names the field, not line 1 of a CSV the user never saw" {
    bike_model m.cmm "$BIKE" -m linear
    local row=(dteday=2011-01-02 hr=4 season=1 yr=0 mnth=1 holiday=0 weekday=0 workingday=0
        weathersit=2 atemp=0.4545 hum=0.94 windspeed=0.194 cnt_lag1h=6 cnt_lag24h=1 cnt_mean24h=38.875)
    run --separate-stderr cm-predict -m m.cmm "${row[@]}" temp=0.4 temp=0.5
    [ "$status" -ne 0 ]
    [ -z "$output" ]
    [[ $stderr == "cm-predict: "*temp* ]] && [[ $stderr != "cm-predict: 1: "* ]] || {
        echo "status $status, stderr: $stderr" >&2
        return 1
    }
}

@test "a CSV with a header and no rows: the header alone, the same as with rows (the actual cnt column included)" {
    bike_model m.cmm "$BIKE" -m linear
    head -1 "$BIKE" >hdr.csv
    head -2 "$BIKE" >one.csv
    predict -m m.cmm --id season one.csv
    [ "$(head -1 pred.out)" = time,season,cnt_pred,cnt ]
    [ "$(wc -l <pred.out)" -eq 2 ]
    predict -m m.cmm --id season hdr.csv
    [ "$(cat pred.err)" = "cm-predict: hdr.csv: no rows to forecast" ]
    [ "$(cat pred.out)" = time,season,cnt_pred,cnt ] || {
        echo "header alone: $(cat pred.out); with a row: time,season,cnt_pred,cnt" >&2
        return 1
    }
}

# ---- --info, --help, --version --------------------------------------------------------------

@test "--info: the target, every raw field with its type, the zone, the derived inputs, the metadata" {
    # --valid 0: the model knows every weathersit of January.
    bike_model m.cmm "$BIKE" --layers 8 --epochs 1 --valid 0
    predict -m m.cmm --info
    [ ! -s pred.err ]
    cm-predict --info -m m.cmm >info
    cmp info pred.out
    sed -n 1p info | grep -qx 'target: cnt'
    # The fields: the CSV's columns but the skipped ones, the two parts of
    # the time as time, weathersit a category, the rest numbers.
    sed -n '/^fields:$/,/^[^ ]/p' info | sed -n 's/^  \([^:]*\): \([a-z]*\).*/\1 \2/p' | LC_ALL=C sort >got
    head -1 "$BIKE" | tr , '\n' | grep -vx -e instant -e casual -e registered |
        awk '{ print $1, ($1 == "dteday" || $1 == "hr" ? "time" : $1 == "weathersit" ? "category" : "number") }' |
        LC_ALL=C sort >want
    diff -u want got
    # In the order of the recipe's clean step.
    diff -u <(cm-cat --info m.cmm | sed -n 's/^    type\.\([^=]*\)=\(num\|cat\|time\)$/\1/p') \
        <(sed -n '/^fields:$/,/^[^ ]/s/^  \([^:]*\): .*/\1/p' info)
    grep -qx '  weathersit: category, 4 known + unseen' <(cm-cat --info m.cmm)
    grep -qx '  weathersit: category (1, 2, 3, 4); needed: an input' info
    # What each field is for: the target only for its lags and --eval.
    grep -qx '  dteday: time; needed: the time' info
    grep -qx '  cnt: number; the target: for its lags and windows, and --eval' info
    grep -qx 'time zone: UTC' info
    # The derived inputs: the model's inputs (cm-cat --info) that are not
    # raw fields, in the model's order.
    want=$(cm-cat --info m.cmm | sed -n '/^inputs:/,/^metadata:/s/^  \([^:]*\): .*/\1/p' |
        grep -vxF -f <(head -1 "$BIKE" | tr , '\n') | paste -sd, | sed 's/,/, /g')
    [ "$want" = "hour, dow, month, doy, weekend, cnt_lag1h, cnt_lag24h, cnt_mean24h" ]
    grep -qx "derived inputs: $want" info
    # The metadata: cm-cat's, line for line.
    diff -u <(cm-cat --info m.cmm | sed -n '/^metadata:$/,/^recipe:/p' | sed '$d') <(sed -n '/^metadata:$/,$p' info)
    # Every part is there in order.
    grep -n -e '^target:' -e '^fields:' -e '^time zone:' -e '^derived inputs:' -e '^metadata:' info |
        cut -d: -f2 | paste -sd' ' | grep -qx 'target fields time zone derived inputs metadata'
    # -o
    predict -m m.cmm --info -o info2
    cmp info info2
}

@test "--info lists as known the categories the model knows (cm-cat --info's count)" {
    # The default hold-out puts the one weathersit 4 of January after the
    # training rows: the model never saw it, and says so when it meets it.
    # cm-predict(1): "followed by the categories the model knows".
    bike_model m.cmm "$BIKE" --layers 8 --epochs 1
    known=$(cm-cat --info m.cmm | sed -n 's/^  weathersit: category, \([0-9]*\) known + unseen$/\1/p')
    listed=$(cm-predict -m m.cmm --info | sed -n 's/^  weathersit: category (\(.*\));.*$/\1/p' | tr , '\n' | wc -l)
    predict -m m.cmm "$BIKE"
    grep -qx 'cm-predict: 1 category the model never saw (its unseen slot)' pred.err
    [ "$known" -eq "$listed" ] || {
        echo "cm-cat --info: $known known; cm-predict --info lists $listed:" >&2
        cm-predict -m m.cmm --info | grep '^  weathersit' >&2
        return 1
    }
}

@test "--help and --version exit 0 on stdout" {
    run --separate-stderr cm-predict --help
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ ${lines[0]} == "Usage: cm-predict -m MODEL.cmm [OPTION]... [FILE]" ]]
    local o
    for o in --model --format --id --eval --info --output --quiet --verbose --help --version; do
        [[ $output == *"$o"* ]] || { echo "--help does not mention $o" >&2; return 1; }
    done
    run --separate-stderr cm-predict -h
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Usage: cm-predict "* ]]
    run --separate-stderr cm-predict --version
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "cm-predict (cm) $CM_VERSION" ]
    [[ $output =~ ^cm-predict\ \(cm\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run --separate-stderr cm-predict -V
    [ "$status" -eq 0 ]
    [[ $output == "cm-predict (cm) "* ]]
    # An unknown option: a usage error.
    assert_exit cm-predict 2 "cm-predict: unrecognized option '--bogus'
Try 'cm-predict --help' for more information." --bogus
}

# ---- categories the model never saw -------------------------------------------------------

@test "a category the model never saw: a forecast all the same, counted on stderr, the other rows unchanged" {
    # --valid 0: every weathersit of January is known.
    bike_model m.cmm "$BIKE" -m linear --valid 0
    grep -qx '  weathersit: category, 4 known + unseen' <(cm-cat --info m.cmm)
    predict -m m.cmm "$BIKE" && mv pred.out orig.csv
    ! grep -q 'never saw' pred.err || false
    # Three rows with a history get weathersit 7.
    awk -F, -v OFS=, 'NR == 101 || NR == 201 || NR == 301 { $10 = 7 } 1' "$BIKE" >seven.csv
    predict -m m.cmm seven.csv
    grep -qx 'cm-predict: 3 categories the model never saw (its unseen slot)' pred.err
    [ "$(wc -l <pred.out)" -eq "$(wc -l <orig.csv)" ]
    paste -d, <(col cnt_pred <orig.csv) <(col cnt_pred <pred.out) | awk -F, -v OFS=, '{ print NR, $1 != $2, $2 }' >cmp.txt
    # Those rows are forecast, and differently; every other row is as before.
    [ "$(awk -F, '$2 == 1 { print $1 }' cmp.txt | paste -sd,)" = 100,200,300 ]
    [ "$(awk -F, '$2 == 1 && $3 != ""' cmp.txt | wc -l)" -eq 3 ]
    # The same from a cm-clean stream of that CSV, and from one row.
    quiet cm-clean "${CLEAN[@]}" -o seven.cmt seven.csv
    cm-predict -m m.cmm seven.cmt 2>/dev/null | cmp - pred.out
    quiet cm-features "${FEAT[@]}" -o seven-feat.cmt seven.cmt
    cm-cat seven-feat.cmt >feat.csv
    t=$(awk -F, 'NR == 201 { printf "%sT%02d:00:00Z", $2, $6 }' seven.csv)
    mapfile -t args < <(adhoc_args seven.csv feat.csv "$t")
    printf '%s\n' "${args[@]}" | grep -qx weathersit=7
    run --separate-stderr cm-predict -m m.cmm "${args[@]}"
    # One row: the forecast alone, the doubt on stderr (cm-predict(1)).
    [ "$status" -eq 0 ]
    [ "$stderr" = "cm-predict: weathersit: '7' was not seen in training (known: 1, 2, 3, 4)" ]
    [ "$output" = "$(awk -F, -v t="$t" '$1 == t { print $2 }' pred.out)" ]
}

# ---- the replay sees the series training saw ------------------------------------

# An hourly count exported once per weather condition: 1 to 3 rows an hour,
# the same count and temperature on each, over 8 days: hours.csv.
repeated_hours() {
    awk 'BEGIN { print "time,cond,temp,count"; s = 11; split("clear,rain,fog", C, ",")
        for (d = 1; d <= 8; d++) for (h = 0; h < 24; h++) {
            s = (s * 16807) % 2147483647; k = 1 + s % 3
            s = (s * 16807) % 2147483647; c = 50 + 40 * (h >= 7 && h <= 19) + s % 30
            for (i = 1; i <= k; i++)
                printf "2026-05-%02d %02d:00,%s,%d,%d\n", d, h, C[1 + (s + i) % 3], 10 + h % 7, c } }' >hours.csv
}

@test "repeated hours (dedupe first): raw CSV, the pipeline and NAME=VALUE give the same forecasts; --eval scores each hour once" {
    repeated_hours
    [ "$(cut -d, -f1 hours.csv | uniq -d | wc -l)" -gt 50 ]
    quiet cm-clean --dedupe first -o h.cmt hours.csv
    quiet cm-features -y count -L count:1h,24h -R count:mean:24h -o hf.cmt h.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --valid 0 -o h.cmm hf.cmt
    # Raw CSV: a row for every input row, in input order.
    predict -m h.cmm hours.csv && mv pred.out raw.out && mv pred.err raw.err
    [ "$(wc -l <raw.out)" -eq "$(wc -l <hours.csv)" ]
    awk -F, 'NR > 1 { sub(/ /, "T", $1); print $1 ":00Z" }' hours.csv | diff -u - <(col time <raw.out)
    # The pipeline: a row for every hour kept.
    cm-clean --dedupe first hours.csv | cm-predict -m h.cmm 2>pipe.err >pipe.out
    [ "$(wc -l <pipe.out)" -eq $((8 * 24 + 1)) ]
    # The first row of each hour is the pipeline's row, to the last digit;
    # the repeats have no forecast.
    awk -F, 'NR > 1 && $1 != prev { print } { prev = $1 }' raw.out | diff -u <(sed 1d pipe.out) -
    awk -F, 'NR > 1 && $1 == prev && $2 != "" { bad++ } { prev = $1 } END { exit bad > 0 }' raw.out
    repeats=$(( $(wc -l <hours.csv) - 1 - 8 * 24 ))
    grep -q " $repeats repeating a time the recipe's dedupe keeps once" raw.err
    # The day's mean is over 24 hours, not 24 rows: the features' value.
    cm-cat hf.cmt >hf.csv
    t=$(sed -n 100p hf.csv | cut -d, -f1)
    awk -F, -v t="$t" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "count") c = i; next }
        { v[NR] = $c; if ($1 == t) at = NR }
        END { for (i = at - 24; i < at; i++) s += v[i]; print s / 24 }' hf.csv >want
    col count_mean24h <hf.csv | sed -n 99p | awk '{ print $1 + 0 }' | diff -u want -
    # NAME=VALUE for three of the hours: the same number.
    for n in 30 90 160; do
        IFS=, read -r t cond temp < <(sed -n "${n}p" hf.csv | cut -d, -f1-3)
        local args=() c
        for c in count_lag1h count_lag24h count_mean24h; do
            args+=("$c=$(col "$c" <hf.csv | sed -n "$((n - 1))p")")
        done
        naive=${t%:00Z}
        got=$(cm-predict -m h.cmm time="${naive/T/ }" cond="$cond" temp="$temp" "${args[@]}")
        want=$(awk -F, -v t="$t" '$1 == t { print $2 }' pipe.out)
        [ -n "$want" ] && [ "$got" = "$want" ] || { echo "at $t: $got, pipeline $want" >&2; return 1; }
    done
    # --eval: each kept hour once, as from the pipeline.
    cm-predict -q -m h.cmm --eval hours.csv >raw.eval
    cm-clean --dedupe first hours.csv | cm-predict -q -m h.cmm --eval >pipe.eval
    cmp raw.eval pipe.eval
    grep -qx "rows=$(awk -F, 'NR > 1 && $2 != ""' pipe.out | wc -l)" raw.eval
}

@test "a recipe that sorts: shuffled raw rows come back in input order, each with the sorted pipeline's forecast" {
    repeated_hours
    { head -1 hours.csv; sed 1d hours.csv | awk 'BEGIN { s = 7 } { s = (s * 16807) % 2147483647; print s "\t" $0 }' |
        sort -n | cut -f2-; } >shuf.csv
    quiet cm-clean --sort --dedupe first -o s.cmt shuf.csv
    quiet cm-features -y count -L count:1h,24h -o sf.cmt s.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --valid 0 -o s.cmm sf.cmt
    predict -m s.cmm --id cond shuf.csv
    [ "$(wc -l <pred.out)" -eq "$(wc -l <shuf.csv)" ]
    awk -F, 'NR > 1 { sub(/ /, "T", $1); print $1 ":00Z," $2 }' shuf.csv | diff -u - <(sed 1d pred.out | cut -d, -f1,2)
    cm-clean --sort --dedupe first shuf.csv | cm-predict -m s.cmm --id cond 2>/dev/null >pipe.out
    # Every forecast of the shuffled rows is the pipeline's for that hour,
    # and every hour the pipeline forecast has one.
    awk -F, 'NR > 1 && $3 != ""' pred.out | sort | diff -u <(awk -F, 'NR > 1 && $3 != ""' pipe.out | sort) -
}

# ---- answers at the terminal say what is wrong ------------------------------------

# Wind direction and temperature to a load: wind.csv, wind.cmm (ridge).
wind_model() {
    awk 'BEGIN { print "t,cbwd,temp,load"; split("NE,NW,SE,cv", W, ","); s = 5
        for (i = 0; i < 200; i++) { s = (s * 16807) % 2147483647
            w = W[1 + s % 4]; tp = (s % 1001) / 100
            printf "2026-02-%02d %02d:00,%s,%s,%s\n", 1 + int(i / 24), i % 24, w, tp, 2 * tp + (w == "NW" ? 5 : 0) } }' >wind.csv
    quiet cm-clean --range temp=-5:40 -o wind.cmt wind.csv
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -y load --valid 0 -o wind.cmm wind.cmt
}

@test "NAME=VALUE: a value outside the training --range, inf or 1e400 is named as such, not as a missing input" {
    wind_model
    assert_fails 1 "cm-predict: temp: 50 is outside the range -5:40 that training used" \
        -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp=50
    assert_fails 1 "cm-predict: temp: 'inf' is not a finite number" -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp=inf
    assert_fails 1 "cm-predict: temp: '1e400' is not a finite number" -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp=1e400
    # an empty value, or a marker, is still a missing input
    assert_fails 1 "cm-predict: missing inputs: temp (give them as NAME=VALUE)" -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp=NA
}

@test "an unseen category is forecast from the unseen slot and said on stderr, naming a known one that differs in case; --strict: exit 1" {
    wind_model
    run --separate-stderr cm-predict -m wind.cmm t='2026-03-01 10:00' cbwd=nw temp=4
    assert_success
    [ "$stderr" = "cm-predict: cbwd: 'nw' was not seen in training (known: NE, NW, SE, cv; 'NW' differs only in case)" ]
    check 'x == x + 0' x="$output"
    run --separate-stderr cm-predict -m wind.cmm t='2026-03-01 10:00' cbwd=SW temp=4
    [ "$stderr" = "cm-predict: cbwd: 'SW' was not seen in training (known: NE, NW, SE, cv)" ]
    run --separate-stderr cm-predict --strict -m wind.cmm t='2026-03-01 10:00' cbwd=SW temp=4
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "${stderr##*$'\n'}" = "cm-predict: no forecast under --strict" ]
    # a known one: nothing on stderr
    run --separate-stderr cm-predict --strict -m wind.cmm t='2026-03-01 10:00' cbwd=NW temp=4
    assert_success
    [ -z "$stderr" ]
}

@test "an input far outside what training saw (beyond min/max by more than their span): a warning with the range; --strict exit 1, in a batch too" {
    wind_model
    cm-cat --info wind.cmm | grep -qx '  temp: number, mean [0-9.]*, sd [0-9.]*, seen 0[.0-9]* to [0-9.]*'
    read -r lo hi < <(awk -F, 'NR > 1 { if (!n++ || $3 < lo) lo = $3; if ($3 > hi) hi = $3 } END { print lo + 0, hi + 0 }' wind.csv)
    far=$(awk -v l="$lo" -v h="$hi" 'BEGIN { print h + (h - l) + 1 }')
    run --separate-stderr cm-predict -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp="$far"
    assert_success
    [ "$stderr" = "cm-predict: temp: $far is far outside the $lo to $hi that training saw" ]
    # just inside: no word
    near=$(awk -v l="$lo" -v h="$hi" 'BEGIN { print h + (h - l) - 1 }')
    run --separate-stderr cm-predict -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp="$near"
    [ -z "$stderr" ]
    assert_fails 1 "cm-predict: temp: $far is far outside the $lo to $hi that training saw
cm-predict: no forecast under --strict" --strict -m wind.cmm t='2026-03-01 10:00' cbwd=NE temp="$far"
    # A batch counts them; --strict writes nothing and exits 1.
    { cat wind.csv; echo "2026-03-01 10:00,NE,$far,"; echo "2026-03-01 11:00,NE,1,"; } >new.csv
    predict -m wind.cmm new.csv
    grep -qx "cm-predict: 1 row has an input far outside what training saw (the first: temp, seen $lo to $hi)" pred.err
    run --separate-stderr cm-predict --strict -m wind.cmm -o strict.csv new.csv
    [ "$status" -eq 1 ]
    [ "${stderr##*$'\n'}" = "cm-predict: new.csv: doubtful forecasts under --strict: nothing written" ]
    [ ! -e strict.csv ]
}

@test "any stage of the pipe: a cleaned stream or CSV without the target forecasts with a model that has no lags of it; with lags, says what is missing" {
    quiet cm-clean "${CLEAN[@]}" -o clean.cmt "$BIKE"
    quiet cm-features -y cnt -o nolag.cmt clean.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --valid 0 -o nolag.cmm nolag.cmt
    grep -qx '  cnt: number; the target: for --eval only' <(cm-predict -m nolag.cmm --info)
    cut -d, -f1-16 "$BIKE" >nocnt.csv
    quiet cm-clean "${CLEAN[@]}" --drop instant,casual,registered,cnt -o nocnt.cmt "$BIKE"
    predict -m nolag.cmm nocnt.cmt && mv pred.out stream.out
    [ ! -s pred.err ]
    predict -m nolag.cmm nocnt.csv && mv pred.out csv.out
    cmp stream.out csv.out
    [ "$(head -1 csv.out)" = time,cnt_pred ]
    # the forecasts of the rows with the target, to the last digit
    predict -m nolag.cmm "$BIKE"
    cut -d, -f1,2 pred.out | cmp - csv.out
    # A model with a lag of the target: every row lacks it, and says so.
    bike_model lag.cmm "$BIKE" -m linear
    predict -m lag.cmm nocnt.cmt
    grep -q "^cm-predict: 688 of 688 rows without a forecast: 688 missing cnt_lag1h" pred.err
}

@test "--info lists as derived a calendar part named as a raw part of the time (hour, month)" {
    awk 'BEGIN { print "year,month,day,hour,x,y"
        for (i = 0; i < 100; i++) printf "2026,1,%d,%d,%d,%d\n", 1 + int(i / 24), i % 24, i % 7, 2 * (i % 7) + i % 24 }' >parts.csv
    quiet cm-clean --time year,month,day,hour -o parts.cmt parts.csv
    quiet cm-features -y y --time-features hour,month -o pf.cmt parts.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o parts.cmm pf.cmt
    cm-predict -m parts.cmm --info >info
    grep -qx 'derived inputs: hour, month' info
    grep -qx '  hour: number; needed: the time' info || grep -qx '  hour: time; needed: the time' info
}

@test "a model with a --derive input: raw CSV, the pipeline and NAME=VALUE compute it the same way" {
    awk 'BEGIN { print "t,north,south,K,load"; s = 3
        for (i = 0; i < 120; i++) { s = (s * 16807) % 2147483647; n = s % 50; s = (s * 16807) % 2147483647; k = 270 + s % 20
            printf "2026-03-%02d %02d:00,%d,%d,%d,%s\n", 1 + int(i / 24), i % 24, n, s % 40, k, 3 * (n + s % 40) + (k - 273.15) } }' >d.csv
    quiet cm-clean --derive 'total=north + south' --derive 'C=K - 273.15' --drop north,south,K -o d.cmt d.csv
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -y load --valid 0 -o d.cmm d.cmt
    cm-cat --info d.cmm | grep -q '^  total: number'
    predict -m d.cmm d.csv && mv pred.out raw.out
    predict -m d.cmm d.cmt
    cmp raw.out pred.out
    IFS=, read -r t n s k _ < <(sed -n 50p d.csv)
    got=$(cm-predict -m d.cmm t="$t" north="$n" south="$s" K="$k")
    want=$(sed -n 50p raw.out | cut -d, -f2)
    [ "$got" = "$want" ]
}

# ---- --eval --from ---------------------------------------------------------------

# The --eval lines of the forecasts in CSV (time, pred, actual) at or
# after time FROM, as awk computes them: eval_from CSV FROM
eval_from() {
    awk -F, -v from="$2" 'NR > 1 && $1 >= from && $2 != "" && $3 != "" {
            n++; y[n] = $3; d = $2 - $3; ae += (d < 0 ? -d : d)
            se += d * d; sy += $3; if ($3 != 0) { ape += (d < 0 ? -d : d) / ($3 < 0 ? -$3 : $3); nz++ } }
        END { m = sy / n; for (i = 1; i <= n; i++) st += (y[i] - m) ^ 2
            printf "rows=%d\nmae=%.17g\nrmse=%.17g\nmape=%.17g\nr2=%.17g\n", n, ae / n, sqrt(se / n), 100 * ape / nz, 1 - se / st }' "$1"
}

# The --eval lines GOT against WANT: rows exactly, the metrics to 1e-9.
same_eval() {
    [ "$(sed -n 1p "$2")" = "$(sed -n 1p "$1")" ] || {
        echo "$(sed -n 1p "$1"), awk $(sed -n 1p "$2")" >&2
        return 1
    }
    local k
    for k in mae rmse mape r2; do
        check 'g == w || (g - w) ^ 2 <= (1e-9 * w) ^ 2' \
            g="$(sed -n "s/^$k=//p" "$1")" w="$(sed -n "s/^$k=//p" "$2")" || {
            echo "$k: $(grep "^$k=" "$1"), awk $(grep "^$k=" "$2")" >&2
            return 1
        }
    done
}

@test "--eval --from TIME: the rows from TIME on, as awk scores the forecasts printed from TIME on; the rows before are history" {
    bike_model m.cmm "$BIKE" --layers 8 --epochs 2
    predict -m m.cmm "$BIKE" && mv pred.out rows.csv
    predict -q --eval -m m.cmm "$BIKE" && mv pred.out all.eval
    predict -q --eval --from 2011-01-20 -m m.cmm "$BIKE" && mv pred.out from.eval
    [ ! -s pred.err ]
    eval_from rows.csv 2011-01-20 >want
    same_eval from.eval want
    local n all
    n=$(sed -n 's/^rows=//p' from.eval)
    all=$(sed -n 's/^rows=//p' all.eval)
    check 'n > 200 && n < all - 200' n="$n" all="$all"
    # Every form of the same instant, and the stream of the features.
    local t
    for t in '2011-01-20 00:00' 2011-01-20T00:00:00Z 2011-01-20T01:00+01:00 '2011-01-19 19:00-05'; do
        predict -q --eval --from "$t" -m m.cmm "$BIKE"
        cmp pred.out from.eval || { echo "--from '$t'" >&2; return 1; }
    done
    predict -q --eval --from 2011-01-20 -m m.cmm feat.cmt
    cmp pred.out from.eval
    # To the second: from 13:00:01 the hour of 13:00 is out.
    predict -q --eval --from 2011-01-20T13:00 -m m.cmm "$BIKE"
    eval_from rows.csv 2011-01-20T13:00:00Z >want
    same_eval pred.out want
    predict -q --eval --from 2011-01-20T13:00:01 -m m.cmm "$BIKE"
    eval_from rows.csv 2011-01-20T13:00:01Z >want
    same_eval pred.out want
    # The rows before TIME give the lags: cut there, the file scores fewer
    # rows (its first day lacks the 24h lag), and other numbers.
    awk -F, 'NR == 1 || $2 >= "2011-01-20"' "$BIKE" >late.csv
    predict -q --eval -m m.cmm late.csv
    check 'c < n' c="$(sed -n 's/^rows=//p' pred.out)" n="$n"
    # JSON: the same numbers in one object.
    predict -q --eval -f json --from 2011-01-20 -m m.cmm "$BIKE"
    [ "$(cat pred.out)" = "$(sed 's/^\([a-z0-9]*\)=\(.*\)$/"\1":\2/' from.eval | paste -sd, | sed 's/^/{/; s/$/}/')" ]
}

@test "--eval --from: a TIME without an offset is a wall-clock time of the model's zone" {
    awk 'BEGIN { print "t,x,y"; for (i = 0; i < 48; i++)
        printf "2011-01-%02d %02d:00,%d,%d\n", 1 + int(i / 24), i % 24, i % 7, 2 * (i % 7) + (i % 5) }' >z.csv
    quiet cm-clean --time t --tz America/New_York -o z.cmt z.csv
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -y y --valid 0 -o z.cmm z.cmt
    predict -m z.cmm z.csv && mv pred.out rows.csv
    [ "$(sed -n 2p rows.csv | cut -d, -f1)" = 2011-01-01T00:00:00-05:00 ]
    predict -q --eval --from '2011-01-02 03:00' -m z.cmm z.csv
    eval_from rows.csv 2011-01-02T03:00:00-05:00 >want
    same_eval pred.out want
    [ "$(sed -n 1p pred.out)" = rows=21 ]
    # with an offset, the instant it names: 03:00Z is 22:00 the day before
    predict -q --eval --from 2011-01-02T03:00Z -m z.cmm z.csv
    eval_from rows.csv 2011-01-01T22:00:00-05:00 >want
    same_eval pred.out want
    [ "$(sed -n 1p pred.out)" = rows=26 ]
}

@test "--from: without --eval, a bad TIME, a model without a time column (exit 2); no row from TIME on says so (exit 0)" {
    bike_model m.cmm "$BIKE" -m linear
    assert_fails 2 "cm-predict: --from chooses the rows --eval scores or the first origin of --backtest: give one of them too
Try 'cm-predict --help' for more information." -m m.cmm --from 2011-01-20 "$BIKE"
    local bad
    for bad in tomorrow 01/20/2011 20111 2011-01-32; do
        assert_fails 2 "cm-predict: --from: '$bad' is not an ISO 8601 time or date such as 2011-12-01
Try 'cm-predict --help' for more information." -m m.cmm --eval --from "$bad" "$BIKE"
    done
    printf 'x,y\n1,3\n2,5\n3,7\n4,9\n5,12\n' >xy.csv
    quiet cm-clean -o xy.cmt xy.csv
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -y y --valid 0 -o xy.cmm xy.cmt
    assert_fails 2 "cm-predict: --from: xy.cmm was trained on rows without a time column
Try 'cm-predict --help' for more information." -m xy.cmm --eval --from 2011-01-20 xy.csv
    head -100 "$BIKE" >in.csv
    predict --eval --from 2011-02-01 -m m.cmm in.csv
    [ "$(paste -sd' ' pred.out)" = "rows=0 mae=nan rmse=nan mape=nan r2=nan" ]
    grep -qx "cm-predict: in.csv: no row to score: none at or after 2011-02-01 has both a forecast and an actual value" pred.err
    predict -q --eval --from 2011-02-01 -m m.cmm in.csv
    [ ! -s pred.err ]
}
