#!/usr/bin/env bats
# cm-predict --horizon and --backtest: forecasts of several steps from a
# history.  Step 1 is the ordinary forecast; step k is a one-step forecast
# on the history with steps 1..k-1 written in by hand; an exact series is
# reproduced; summer time, series (--by), a future file, --future-fill,
# gaps and --fill-history; backtest scores against awk over --forecasts;
# and every bad input of cm-predict(1) FORECASTS.  Models are ridge ones,
# trained in a moment with SOURCE_DATE_EPOCH=1.
load helpers

bats_require_minimum_version 1.5.0

YEAR="$DATA/bike-2011.csv"
CLEAN=(--time dteday,hr --drop instant,casual,registered)

# lin.cmm: a ridge model of the year's hourly counts with lags of 1, 24 and
# 168 hours and a day's mean.
bike_linear() {
    quiet cm-clean "${CLEAN[@]}" -o y.cmt "$YEAR"
    quiet cm-features -y cnt -L cnt:1h,24h,168h -R cnt:mean:24h -o yf.cmt y.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o lin.cmm yf.cmt
}

# The column of the CSV on stdin named NAME, header left out: col NAME
col() {
    awk -F, -v n="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i
        if (!c) { print "no column " n >"/dev/stderr"; exit 1 }; next } { print $c }'
}

assert_fails() {
    assert_exit cm-predict "$@"
}

@test "the model records its step; --horizon prints H rows of time, step and the forecast, in the training zone" {
    bike_linear
    cm-cat --info lin.cmm | grep -qx '  step=1h'
    run --separate-stderr cm-predict -m lin.cmm --horizon 6 --future-fill last --fill-history linear "$YEAR"
    assert_success
    [ -z "$stderr" ]
    [ "${lines[0]}" = time,step,cnt_pred ]
    [ "${#lines[@]}" -eq 7 ]
    printf '%s\n' "${lines[@]:1}" | cut -d, -f1,2 | diff -u - <(for h in 0 1 2 3 4 5; do
        printf '2012-01-01T%02d:00:00Z,%d\n' "$h" $((h + 1)); done)
    # a span of the step counts the same; JSON one object a line
    cm-predict -m lin.cmm -H 6h --future-fill last --fill-history linear "$YEAR" >h.csv
    printf '%s\n' "${lines[@]}" | cmp - h.csv
    cm-predict -m lin.cmm -H 2 -f json --future-fill last "$YEAR" | head -1 |
        grep -qE '^\{"time":"2012-01-01T00:00:00Z","step":1,"cnt_pred":-?[0-9.]+(e[-+][0-9]+)?\}$'
}

@test "--fill-history: a gap of centuries (a typo in a year) is refused with its two times, at once" {
    bike_linear
    { head -200 "$YEAR"; sed -n 201p "$YEAR" | sed 's/^\([^,]*\),2011-/\1,6011-/'; } >typo.csv
    grep -q ',6011-' typo.csv
    assert_fails 1 "cm-predict: typo.csv: fill-history: the gap from 2011-01-09T13:00:00Z to 6011-01-09T14:00:00Z is more than 1048576 steps, too long to fill" \
        -m lin.cmm --horizon 3 --future-fill last --fill-history linear typo.csv
}

@test "step 1 is the ordinary forecast of the row of that time, bit for bit, from CSV and streams alike" {
    bike_linear
    # origins inside the year: the rows after them give the covariates
    cm-predict -m lin.cmm "$YEAR" 2>/dev/null >all.csv
    for o in 2011-06-15T08:00 2011-10-01T23:00 2011-12-31T20:00; do
        got=$(cm-predict -m lin.cmm -H 1 --origin "$o" "$YEAR" | sed -n 2p)
        t=$(echo "$got" | cut -d, -f1)
        want=$(awk -F, -v t="$t" '$1 == t { print $2 }' all.csv)
        [ -n "$want" ] && [ "$(echo "$got" | cut -d, -f3)" = "$want" ] || {
            echo "from $o: $got, the row's forecast $want" >&2
            return 1
        }
    done
    # the history as a cm-clean stream or a cm-features stream: the same
    cm-predict -m lin.cmm -H 24 --origin 2011-10-01T23:00 "$YEAR" >csv.out
    cm-predict -m lin.cmm -H 24 --origin 2011-10-01T23:00 y.cmt | cmp - csv.out
    cm-predict -m lin.cmm -H 24 --origin 2011-10-01T23:00 yf.cmt | cmp - csv.out
}

@test "step k is a one-step forecast on the history with the forecasts of steps 1..k-1 written in" {
    bike_linear
    head -1 "$YEAR" >hist.csv
    awk -F, 'NR > 1 && $2 >= "2011-12-01"' "$YEAR" >>hist.csv
    cm-predict -m lin.cmm -H 3 --future-fill last --fill-history last hist.csv >three.csv
    p1=$(sed -n 2p three.csv | cut -d, -f3) p2=$(sed -n 3p three.csv | cut -d, -f3)
    p3=$(sed -n 4p three.csv | cut -d, -f3)
    # the last row again, at the next hours, with the forecasts as cnt
    last=$(tail -1 hist.csv)
    row() { echo "$last" | awk -F, -v OFS=, -v h="$1" -v c="$2" '{ $2 = "2012-01-01"; $6 = h; $17 = c; print }'; }
    { cat hist.csv; row 0 "$p1"; } >h1.csv
    { cat h1.csv; row 1 "$p2"; } >h2.csv
    [ "$(cm-predict -m lin.cmm -H 1 --future-fill last --fill-history last h1.csv | sed -n 2p | cut -d, -f3)" = "$p2" ]
    [ "$(cm-predict -m lin.cmm -H 1 --future-fill last --fill-history last h2.csv | sed -n 2p | cut -d, -f3)" = "$p3" ]
}

@test "a series that is an exact function of the hour and its own lags is forecast exactly" {
    # y = 3 + 0.5 * hour + 0.8 * y 1h before; 12 days
    awk 'BEGIN { print "t,y"; y = 10
        for (i = 0; i < 288; i++) { h = i % 24; y = 3 + 0.5 * h + 0.8 * y
            printf "2026-04-%02d %02d:00,%.12f\n", 1 + int(i / 24), h, y } }' >exact.csv
    head -241 exact.csv >train.csv
    quiet cm-clean -o e.cmt train.csv
    quiet cm-features -y y --time-features hour -L y:1h -o ef.cmt e.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --l2 0 --valid 0 -o e.cmm ef.cmt
    cm-predict -m e.cmm -H 48 train.csv >f.csv
    paste -d, <(sed 1d f.csv | cut -d, -f3) <(sed -n 242,289p exact.csv | cut -d, -f2) |
        awk -F, '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 * $2) { print NR ": " $0; bad = 1 } } END { exit bad }'
}

# direct.csv: an hourly series of 12 days, d.cmt its features (hour, lags
# 1h and 2h), d.cmm a direct ridge model of 4 steps.
direct_model() {
    awk 'BEGIN { print "t,v"; s = 7
        for (i = 0; i < 288; i++) { s = (s * 16807) % 2147483647
            printf "2026-04-%02d %02d:00,%d\n", 1 + int(i / 24), i % 24, 40 + 3 * (i % 24) + s % 11 } }' >direct.csv
    quiet cm-clean -o d0.cmt direct.csv
    quiet cm-features -y v --time-features hour -L v:1h,2h -o d.cmt d0.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --valid 0 -H 4 -o d.cmm d.cmt
}

@test "cm-train --horizon: a direct model; its step k is the ridge fit of the target k - 1 steps after the features' row" {
    direct_model
    cm-cat --info d.cmm >info
    grep -qx 'format: cmm 2.0' info
    grep -qx '  horizon=4' info
    # the last 3 rows lack a target ahead, and the first 2 have no lags
    grep -qx '  rows=283' info
    grep -qx '  rows_without_ahead=3' info
    cm-predict -m d.cmm -H 4 direct.csv >f.csv
    [ "$(cut -d, -f1,2 f.csv | tr '\n' ' ')" = "t,step 2026-04-13T00:00:00Z,1 2026-04-13T01:00:00Z,2 2026-04-13T02:00:00Z,3 2026-04-13T03:00:00Z,4 " ]
    # by hand: for each k, an ordinary ridge model of v k - 1 rows later,
    # on the rows that have all 4, asked about the row after the last
    cm-cat d.cmt >d.csv
    local last hour
    last=$(tail -1 direct.csv | cut -d, -f2)
    prev=$(tail -2 direct.csv | head -1 | cut -d, -f2)
    for k in 1 2 3 4; do
        awk -F, -v k="$k" 'NR == 1 { print $0 ",ahead"; next } { row[NR] = $0; v[NR] = $NF }
            END { for (i = 2; i <= NR - 3; i++) print row[i] "," v[i + k - 1] }' d.csv >s.csv
        quiet cm-clean -o s.cmt s.csv
        SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear --valid 0 -y ahead --features hour,v_lag1h,v_lag2h -o s.cmm s.cmt
        want=$(cm-predict -m s.cmm t=2026-04-13T00:00 hour=0 v_lag1h="$last" v_lag2h="$prev")
        got=$(sed -n "$((k + 1))p" f.csv | cut -d, -f3)
        awk -v a="$got" -v b="$want" -v k="$k" 'BEGIN { d = a - b; if (d < 0) d = -d
            if (d > 1e-6 * (b < 0 ? -b : b)) { print "step " k ": " a " against " b; exit 1 } }'
    done
}

@test "a direct model: no more steps than it has, its own step; not with --stream; a horizon of whole steps" {
    direct_model
    assert_fails 2 "cm-predict: horizon: 5 steps, but the model is a direct one of 4 (cm-train --horizon): train one of 5, or one without --horizon to forecast step by step
Try 'cm-predict --help' for more information." -m d.cmm -H 5 direct.csv
    assert_fails 2 "cm-predict: step: a direct model's outputs are steps of 1h, its own
Try 'cm-predict --help' for more information." -m d.cmm -H 2 --step 2h direct.csv
    # fewer steps: the first of them
    cm-predict -m d.cmm -H 2 direct.csv | cmp - <(head -3 <(cm-predict -m d.cmm -H 4 direct.csv))
    # ordinary prediction gives step 1
    cm-predict -m d.cmm --backtest -H 4 --windows 3 direct.csv >bt.csv
    grep -qx '4,3,.*' bt.csv
    assert_exit cm-train 2 "cm-train: horizon: a direct model's rows need the targets ahead of them, which --stream does not hold" \
        -q -m linear -H 4 --stream d.cmt -o x.cmm
    assert_exit cm-train 2 "cm-train: horizon: '90m' is not a whole number of steps of 1h (1 to 100000)" \
        -q -m linear -H 90m d.cmt -o x.cmm
    run --separate-stderr cm-train -q -m linear -H 2x d.cmt -o x.cmm
    [ "$status" -eq 2 ]
    [[ $stderr == "cm-train: --horizon: '2x' is not a number of steps or a span such as 24h"* ]]
    [ ! -e x.cmm ]
    # a file of a later major version is refused by its version (a reader of 1.x
    # refuses a direct model's 2.0 the same way)
    cp d.cmm v5.cmm
    printf '\005' | dd of=v5.cmm bs=1 seek=8 conv=notrunc 2>/dev/null
    assert_fails 1 "cm-predict: v5.cmm: format version 5.0 (or a damaged header), this build reads versions 1.x to 4.x (cm $CM_VERSION)" -m v5.cmm -H 2 direct.csv
}

@test "across the change to summer time an hourly forecast stays on the hour, in the model's zone" {
    awk 'BEGIN { print "time,load"; s = 5
        for (d = 20; d <= 28; d++) for (h = 0; h < 24; h++) {
            s = (s * 16807) % 2147483647
            printf "2026-03-%02d %02d:00,%d\n", d, h, 50 + 20 * (h > 7 && h < 20) + s % 9 } }' >ber.csv
    quiet cm-clean --tz Europe/Berlin -o b.cmt ber.csv
    quiet cm-features -y load -L load:1h,24h -o bf.cmt b.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o b.cmm bf.cmt
    cm-cat --info b.cmm | grep -qx '  step=1h'
    cm-predict -m b.cmm -H 6 ber.csv | cut -d, -f1,2 >got
    printf '%s\n' time,step 2026-03-29T00:00:00+01:00,1 2026-03-29T01:00:00+01:00,2 \
        2026-03-29T03:00:00+02:00,3 2026-03-29T04:00:00+02:00,4 2026-03-29T05:00:00+02:00,5 \
        2026-03-29T06:00:00+02:00,6 | diff -u - got
}

@test "a daily series in a zone with summer time steps a local day, and the model records 1d" {
    awk 'BEGIN { print "day,x"; for (i = 0; i < 120; i++) { d = 1 + i
        m = d <= 31 ? 1 : d <= 59 ? 2 : d <= 90 ? 3 : 4; dd = d - (m == 1 ? 0 : m == 2 ? 31 : m == 3 ? 59 : 90)
        printf "2026-%02d-%02d 06:00,%d\n", m, dd, 100 + i % 7 } }' >daily.csv
    quiet cm-clean --tz Europe/Berlin -o d.cmt daily.csv
    # lags by rows: a lag of 1d is 24 hours, not a local day
    quiet cm-features -y x --time-features dow -L x:1,7 -o df.cmt d.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o d.cmm df.cmt
    cm-cat --info d.cmm | grep -qx '  step=1d'
    head -88 daily.csv >to-mar.csv
    cm-predict -m d.cmm -H 3 to-mar.csv | cut -d, -f1 | sed 1d >got
    printf '%s\n' 2026-03-29T06:00:00+02:00 2026-03-30T06:00:00+02:00 2026-03-31T06:00:00+02:00 | diff -u - got
}

@test "series (--by) are forecast each from its own history, in the order they first appear; --id names them" {
    awk 'BEGIN { print "t,sensor,v"; split("north,south", S, ",")
        for (i = 0; i < 200; i++) for (k = 1; k <= 2; k++)
            printf "2026-05-%02d %02d:00,%s,%d\n", 1 + int(i / 24), i % 24, S[k], (k == 1 ? 10 : 1000) + i % 24 }' >two.csv
    quiet cm-clean --key sensor -o t.cmt two.csv
    quiet cm-features -y v --by sensor --time-features hour -L v:1h,24h -o tf.cmt t.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o t.cmm tf.cmt
    cm-predict -m t.cmm -H 3 --id sensor two.csv >f.csv
    [ "$(head -1 f.csv)" = t,sensor,step,v_pred ]
    cut -d, -f2,3 f.csv | sed 1d | diff -u <(printf '%s\n' north,1 north,2 north,3 south,1 south,2 south,3) -
    # each series alone gives its own forecasts, to the last digit
    { head -1 two.csv; grep ',south,' two.csv; } >south.csv
    cm-predict -m t.cmm -H 3 --id sensor south.csv | sed 1d | cmp - <(sed -n '5,7p' f.csv)
    # the levels are each sensor's
    awk -F, 'NR > 1 && ($2 == "north" ? $4 > 100 : $4 < 900) { bad = 1 } END { exit bad }' f.csv
    # a direct model finds each row's targets ahead in its own series, the
    # sensor an input or not (--drop keeps it as the rows' id)
    for drop in "" "--drop sensor"; do
        # shellcheck disable=SC2086
        quiet cm-features -y v --by sensor $drop --time-features hour -L v:1h,24h -o td.cmt t.cmt
        SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -H 3 -o td.cmm td.cmt
        cm-cat --info td.cmm | grep -qx '  rows_without_ahead=4'
        cm-cat --info td.cmm | grep -qx '  step=1h'
        cm-predict -m td.cmm -H 3 --id sensor two.csv >d.csv
        awk -F, 'NR > 1 && ($2 == "north" ? $4 > 100 : $4 < 900) { bad = 1 } END { exit bad }' d.csv
    done
    cm-cat --info td.cmt | grep -qx '  2 sensor cat id categories=2'
}

@test "a yearly panel: the model records 1y, and --origin and --from take a year alone" {
    grep -e '^state' -e ',total,' "$DATA/population.csv" | grep -v '^USA,' >states.csv
    quiet cm-clean --sort --time year --drop ages -o p.cmt states.csv
    quiet cm-features -y population --by state/region --time-features none -L population:1,2 -o pf.cmt p.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o p.cmm pf.cmt
    cm-cat --info p.cmm | grep -qx '  step=1y'
    cm-predict -m p.cmm -H 5y --origin 2010 --id state/region states.csv >o.csv
    [ "$(sed -n 2p o.csv | cut -d, -f1-3)" = 2011-01-01T00:00:00Z,AL,1 ]
    [ "$(sed -n 6p o.csv | cut -d, -f1-3)" = 2015-01-01T00:00:00Z,AL,5 ]
    # a year as a date says the same
    cm-predict -m p.cmm -H 5 --origin 2010-01-01 --id state/region states.csv | cmp - o.csv
    # two origins, 2007 and 2008, of 5 years for each of the 52 series
    cm-predict -m p.cmm --backtest -H 5 --every 1 --from 2007 states.csv >bt.csv
    grep -qx '1,104,.*' bt.csv
    grep -qx 'all,520,.*' bt.csv
}

@test "--future gives the covariates of the future times: the backtest's forecast from that origin" {
    bike_linear
    o=2011-11-15T11:00
    head -1 "$YEAR" >hist.csv
    awk -F, '$2 < "2011-11-15" || ($2 == "2011-11-15" && $6 <= 11)' "$YEAR" | sed 1d >>hist.csv
    { head -1 "$YEAR" | cut -d, -f1-16; awk -F, '($2 == "2011-11-15" && $6 > 11) || $2 == "2011-11-16"' "$YEAR" | cut -d, -f1-16; } >future.csv
    cm-predict -m lin.cmm -H 24 --future future.csv hist.csv >f.csv
    cm-predict -m lin.cmm --backtest -H 24 --from "$o" --windows 1 --forecasts bt.csv "$YEAR" >/dev/null
    diff -u <(cut -d, -f3 f.csv | sed 1d) <(cut -d, -f4 bt.csv | sed 1d)
    # the future file lacking an hour: said, with the hour
    awk -F, 'NR == 1 || $6 != 15' future.csv >holey.csv
    assert_fails 1 "cm-predict: holey.csv: no row at 2011-11-15T15:00:00Z, whose covariates the model needs" -m lin.cmm -H 24 --future holey.csv hist.csv
    # without a future file, the covariates the model needs are named
    assert_fails 2 "cm-predict: the model needs future values of season, yr, mnth, holiday, weekday, workingday, weathersit, temp, atemp, hum, windspeed, from 2011-11-15T12:00:00Z on: give them with --future FILE, or carry the last ones with --future-fill last" -m lin.cmm -H 24 hist.csv
    # --future-fill last: the last row's covariates, and -v says so
    run --separate-stderr cm-predict -v -m lin.cmm -H 24 --future-fill last hist.csv
    assert_success
    printf '%s\n' "$stderr" | grep -qx 'cm-predict: covariates at future times: the last row'"'"'s, carried'
}

@test "bad future files: a series the history lacks, a repeated time, another zone (named by the future file)" {
    awk 'BEGIN { print "t,sensor,v,temp"; split("north,south", S, ",")
        for (i = 0; i < 100; i++) for (k = 1; k <= 2; k++)
            printf "2026-05-%02d %02d:00,%s,%d,%d\n", 1 + int(i / 24), i % 24, S[k], 10 * k + i % 24, i % 7 }' >two.csv
    quiet cm-clean --key sensor -o t.cmt two.csv
    quiet cm-features -y v --by sensor --time-features hour -L v:1h,24h -o tf.cmt t.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o t.cmm tf.cmt
    printf 't,sensor,v,temp\n2026-05-05 04:00,north,,3\n2026-05-05 04:00,west,,3\n' >west.csv
    assert_fails 1 "cm-predict: west.csv: rows in series 'west' from 2026-05-05T04:00:00Z, a series the history lacks" -m t.cmm -H 2 --future west.csv two.csv
    printf 't,sensor,v,temp\n2026-05-05 04:00,north,,3\n2026-05-05 04:00,north,,4\n' >twice.csv
    assert_fails 1 "cm-predict: twice.csv: the time 2026-05-05T04:00:00Z repeats in series 'north'" -m t.cmm -H 2 --future twice.csv two.csv
    printf 't,sensor,v,temp\n2026-05-05 06:00,north,1,3\n2026-05-05 07:00,north,1,4\n' >berlin.csv
    quiet cm-clean --tz Europe/Berlin --key sensor -o berlin.cmt berlin.csv
    assert_fails 1 "cm-predict: berlin.cmt: times in Europe/Berlin, the history's in UTC: clean both the same way" -m t.cmm -H 2 --future berlin.cmt two.csv
    # a good one: the covariate of each future hour, its forecast
    printf 't,sensor,v,temp\n2026-05-05 04:00,north,,3\n2026-05-05 05:00,north,,4\n2026-05-05 04:00,south,,3\n2026-05-05 05:00,south,,4\n' >good.csv
    cm-predict -m t.cmm -H 2 --id sensor --future good.csv two.csv | cut -d, -f1-3 >got
    printf '%s\n' t,sensor,step 2026-05-05T04:00:00Z,north,1 2026-05-05T05:00:00Z,north,2 \
        2026-05-05T04:00:00Z,south,1 2026-05-05T05:00:00Z,south,2 | diff -u - got
}

@test "a gap in the history empties the steps that reach it, counted; --fill-history fills it" {
    bike_linear
    # the year ends with an hour missing on December 25th, inside the
    # last week: the lag of 168 hours of step 5 reaches it
    run --separate-stderr cm-predict -m lin.cmm -H 8 --future-fill last "$YEAR"
    assert_success
    [ "$(printf '%s\n' "${lines[@]:1}" | cut -d, -f3 | grep -c .)" -eq 4 ]
    [ "$stderr" = "cm-predict: 4 of 8 forecasts empty: 3 missing cnt_lag1h, 1 missing cnt_lag168h" ]
    for how in linear last; do
        run --separate-stderr cm-predict -v -m lin.cmm -H 8 --future-fill last --fill-history $how "$YEAR"
        [ "$(printf '%s\n' "${lines[@]:1}" | cut -d, -f3 | grep -c .)" -eq 8 ]
        printf '%s\n' "$stderr" | grep -qE '^cm-predict: [0-9]+ values of the history filled \(--fill-history\)$'
    done
}

@test "a forecast from the end of a long history keeps its look-back alone: the forecasts of its last rows, a gap across the cut filled alike" {
    bike_linear
    # the year three times over (2011 to 2013: 25,935 rows, past the
    # 16,384 at which the history is first trimmed), and eight hours cut
    # out where the last forecasts' look-back of 168 hours begins, so
    # that the gap filled runs across the oldest row kept
    awk -F, -v OFS=, 'NR == 1 { print; next } { r[++n] = $0 }
        END { for (k = 0; k < 3; k++) for (i = 1; i <= n; i++) {
                  split(r[i], f, ","); f[2] = (substr(f[2], 1, 4) + k) substr(f[2], 5)
                  line = f[1]; for (j = 2; j <= 17; j++) line = line "," f[j]; print line } }' \
        "$YEAR" >long.csv
    last=$(wc -l <long.csv)
    sed -i "$((last - 170)),$((last - 163))d" long.csv
    cm-predict -m lin.cmm -H 24 --future-fill last --fill-history linear long.csv >all.csv
    { head -1 long.csv; tail -n 1000 long.csv; } >tail.csv
    cm-predict -m lin.cmm -H 24 --future-fill last --fill-history linear tail.csv | cmp - all.csv
    [ "$(wc -l <all.csv)" -eq 25 ]
}

@test "--backtest: the table by step equals awk over --forecasts; csv, tsv, json; the covariates said" {
    bike_linear
    cm-predict -q -m lin.cmm --backtest -H 6 --every 5 --windows 40 --forecasts fc.csv "$YEAR" >bt.csv
    [ "$(sed -n 1p bt.csv)" = "# future covariates: actual (the input's own rows)" ]
    [ "$(sed -n 2p bt.csv)" = step,n,mae,rmse,mape ]
    [ "$(wc -l <bt.csv)" -eq 9 ]
    [ "$(head -1 fc.csv)" = origin,time,step,cnt_pred,cnt ]
    [ "$(sed 1d fc.csv | wc -l)" -eq 240 ]
    awk -F, 'NR > 1 && $4 != "" && $5 != "" { s = $3; e = $4 - $5; n[s]++; ae[s] += (e < 0 ? -e : e); se[s] += e * e
            if ($5 != 0) { ap[s] += (e < 0 ? -e : e) / ($5 < 0 ? -$5 : $5); na[s]++ } }
        END { for (s = 1; s <= 6; s++) printf "%d,%d,%.10g,%.10g,%.10g\n", s, n[s], ae[s] / n[s], sqrt(se[s] / n[s]), 100 * ap[s] / na[s] }' fc.csv >want
    awk -F, -v OFS=, 'NR > 2 && $1 != "all" { printf "%d,%d,%.10g,%.10g,%.10g\n", $1, $2, $3, $4, $5 }' bt.csv | diff -u want -
    # origins 5 hours apart, the last with 6 hours left before the end
    [ "$(sed 1d fc.csv | cut -d, -f1 | uniq | tail -1)" = 2011-12-31T17:00:00Z ]
    [ "$(sed 1d fc.csv | cut -d, -f1 | uniq | tail -2 | head -1)" = 2011-12-31T12:00:00Z ]
    cm-predict -q -m lin.cmm --backtest -H 6 --every 5 --windows 40 -f tsv "$YEAR" | tr '\t' , | cmp - bt.csv
    cm-predict -q -m lin.cmm --backtest -H 6 --every 5 --windows 40 -f json "$YEAR" >bt.json
    grep -q '^{"future":"actual (the input'"'"'s own rows)","steps":\[{"step":1,"n":' bt.json
    grep -q '{"step":"all","n":' bt.json
    cm-predict -q -m lin.cmm --backtest -H 6 --windows 3 --future-fill last "$YEAR" | head -1 |
        grep -qx '# future covariates: last (carried from each origin)'
    # --from: the first origin, every horizon
    cm-predict -q -m lin.cmm --backtest -H 4 --from 2011-12-30T00:00 --windows 0 --forecasts f2.csv "$YEAR" >/dev/null
    [ "$(sed 1d f2.csv | cut -d, -f1 | uniq | head -1)" = 2011-12-30T00:00:00Z ]
    [ "$(sed 1d f2.csv | cut -d, -f1 | uniq | sed -n 2p)" = 2011-12-30T04:00:00Z ]
    [ "$(sed 1d f2.csv | cut -d, -f1 | uniq | wc -l)" -eq 11 ]
}

@test "bad forecasts: a short history, no step, repeated or unsorted times, horizons, options alone (one line, exit 1 or 2)" {
    bike_linear
    head -101 "$YEAR" >short.csv
    assert_fails 1 "cm-predict: short.csv: the history is shorter than the look-back: 168 steps of 1h needed before the first forecast, and 105 there (cnt_lag168h reaches back to 2010-12-29T09:00:00Z, and the history starts at 2011-01-01T00:00:00Z)" -m lin.cmm -H 3 --future-fill last short.csv
    { head -1 "$YEAR"; sed -n '2,400p' "$YEAR"; sed -n 400p "$YEAR"; } >dup.csv
    assert_fails 1 "cm-predict: dup.csv: the history repeats the time 2011-01-18T14:00:00Z: the model's recipe keeps both (remove them with cm-clean --dedupe first|last)" -m lin.cmm -H 3 --future-fill last dup.csv
    { head -1 "$YEAR"; sed -n '2,400p' "$YEAR"; sed -n 300p "$YEAR"; } >unsorted.csv
    assert_fails 1 "cm-predict: unsorted.csv: the history is not in time order at 2011-01-13T21:00:00Z: the model's recipe does not sort it (sort it with cm-clean --sort)" -m lin.cmm -H 3 --future-fill last unsorted.csv
    for h in 0 -1 100001 x 1x; do
        run --separate-stderr cm-predict -m lin.cmm -H "$h" "$YEAR"
        [ "$status" -eq 2 ]
        [ -z "$output" ]
    done
    assert_fails 2 "cm-predict: --horizon: '90m' is not a whole number of steps of 1h (1 to 100000)
Try 'cm-predict --help' for more information." -m lin.cmm -H 90m "$YEAR"
    assert_fails 2 "cm-predict: --backtest goes with --horizon
Try 'cm-predict --help' for more information." -m lin.cmm --backtest "$YEAR"
    assert_fails 2 "cm-predict: --every goes with --backtest
Try 'cm-predict --help' for more information." -m lin.cmm -H 3 --every 2 "$YEAR"
    assert_fails 2 "cm-predict: --horizon forecasts from a history file, not with --eval (--backtest scores forecasts)
Try 'cm-predict --help' for more information." -m lin.cmm -H 3 --eval "$YEAR"
    # irregular times: no step, and what was found
    awk 'BEGIN { print "t,v"; t = 0; for (i = 0; i < 60; i++) { t += (i % 3 + 1) * 3600; printf "%d,%d\n", 1700000000 + t, i } }' >irr.csv
    quiet cm-clean --time t -o i.cmt irr.csv
    quiet cm-features -y v --time-features none -L v:1 -o if.cmt i.cmt
    SOURCE_DATE_EPOCH=1 quiet cm-train -q -m linear -o i.cmm if.cmt
    cm-cat --info i.cmm | grep -q '^  step_unknown=no regular step: of 58 differences between consecutive times, '
    run --separate-stderr cm-predict -m i.cmm -H 3 irr.csv
    [ "$status" -eq 2 ]
    [[ $stderr == "cm-predict: the model records no step between its rows (no regular step: of 58 differences"*"): give one with --step"* ]]
    # --step gives it
    cm-predict -m i.cmm -H 2 --step 1h irr.csv | sed -n 3p | grep -q ',2,'
}
