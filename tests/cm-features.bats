#!/usr/bin/env bats
# cm-features: the reference matrix (golden file, and pandas when present),
# the target, calendar parts (local time, ISO weeks, cyclic pairs),
# holidays, lags by time and by rows, rolling windows, differences, series
# (--by), column choice, errors, the recipe, output and report, and a long
# stream in bounded memory.  Inputs are small CSVs written in the test and
# passed through cm-clean; anything large is generated in the temp dir.
load helpers

bats_require_minimum_version 1.5.0

SHARED="$TOP/../shared"

# ---- helpers -----------------------------------------------------------------

# in.cmt from a CSV file: stream CSV [cm-clean options...]
stream() {
    local csv=$1
    shift
    cm-clean "$@" "$csv" >in.cmt 2>clean.err </dev/null || {
        echo "cm-clean $* $csv failed:" >&2
        cat clean.err >&2
        return 1
    }
}

# cm-features ARGS on in.cmt, printed as CSV.  Fails when cm-features fails
# or prints anything (it is silent on success without -v).
feat() {
    local st=0
    cm-features "$@" in.cmt >feat.cmt 2>feat.err </dev/null || st=$?
    if [ "$st" -ne 0 ] || [ -s feat.err ]; then
        echo "cm-features $* in.cmt: status $st, stderr:" >&2
        cat feat.err >&2
        return 1
    fi
    cm-cat feat.cmt
}

# Expected CSV on stdin; the arguments are cm-features' (input in.cmt).
assert_feat() {
    cat >want.csv
    feat "$@" >got.csv || return 1
    diff -u want.csv got.csv
}

# Exact status and exact stderr; nothing on stdout for a usage error (a
# data error may leave a partial stream, as in a pipe).
# assert_fails STATUS MESSAGE ARGS...
assert_fails() {
    assert_exit cm-features "$@"
}

# The bike pipeline of the reference: CSV -> our feature matrix as CSV.
bike_features() {
    cm-clean --time dteday,hr --drop instant,casual,registered "$1" |
        cm-features -y cnt -L cnt:1h,2h,24h,168h | cm-cat
}

# Minute data from $2 (epoch seconds) on, $1 rows: t (epoch), x = row index.
minutes() {
    awk -v n="$1" -v s="$2" 'BEGIN { print "t,x"; for (i = 0; i < n; i++) printf "%.0f,%d\n", s + 60 * i, i }'
}

# ---- the reference ------------------------------------------------------------

@test "bike-2011-01: our matrix equals the committed reference (make-features.py --lag-mode time)" {
    bike_features "$DATA/bike-2011-01.csv" >ours.csv
    [ "$(sed -n 1p ours.csv)" = 'time,season,yr,mnth,holiday,weekday,workingday,weathersit,temp,atemp,hum,windspeed,hour,dow,month,doy,weekend,cnt_lag1h,cnt_lag2h,cnt_lag24h,cnt_lag168h,cnt' ]
    run awk -F, -f "$TOP/tests/compare-features.awk" "$DATA/golden/bike-2011-01-features.csv" ours.csv
    assert_success
    assert_output 'compared 17 columns over 447 rows: 0 differences'
    # The comparison can fail: one value changed is one difference.
    sed '5s/,\([0-9]*\)$/,9999/' ours.csv >bad.csv
    run awk -F, -f "$TOP/tests/compare-features.awk" "$DATA/golden/bike-2011-01-features.csv" bad.csv
    assert_failure 1
    assert_line 'compared 17 columns over 447 rows: 1 differences'
}

# The golden file is the time, seq_* and cnt columns of `peer-seq.py bike
# testdata/bike-2011-01.csv --model gru --epochs 0 --export-windows W.csv`
# (../shared/bench): the rows with 24 whole hours before them, in order.
@test "--sequence: the rows and windows of peer-seq.py --export-windows (golden file, bike-2011-01)" {
    cm-clean --time dteday,hr --drop instant,casual,registered,mnth,weekday -t season=cat \
        -t weathersit=cat "$DATA/bike-2011-01.csv" |
        cm-features -y cnt -L cnt:1h,2h,24h,168h --sequence cnt,temp,atemp,hum,windspeed:24:1h |
        cm-cat >ours.csv
    # step-major, oldest first: every column of step 24, then of 23, ...
    [ "$(head -1 ours.csv | tr , '\n' | grep '^seq_' | head -6 | tr '\n' ' ')" = \
      'seq_cnt_24 seq_temp_24 seq_atemp_24 seq_hum_24 seq_windspeed_24 seq_cnt_23 ' ]
    run awk -F, -f "$TOP/tests/compare-features.awk" "$DATA/golden/bike-2011-01-windows.csv" ours.csv
    assert_success
    assert_output 'compared 122 columns over 222 rows: 0 differences'
    # one value of one window changed is one difference
    awk -F, -v OFS=, 'NR == 9 { $30 = $30 + 1 } 1' ours.csv >bad.csv
    run awk -F, -f "$TOP/tests/compare-features.awk" "$DATA/golden/bike-2011-01-windows.csv" bad.csv
    assert_failure 1
    assert_line 'compared 122 columns over 222 rows: 1 differences'
}

@test "--sequence: each bad setting is a usage error of one line" {
    printf 'time,x,c\n2020-01-01T00:00:00Z,1,a\n2020-01-01T01:00:00Z,2,b\n' >seq.csv
    stream seq.csv -t c=cat
    assert_fails 2 "cm-features: sequence 'x:0:1h': the length must be 1 to 10000 steps" --sequence x:0:1h in.cmt
    assert_fails 2 "cm-features: sequence 'x:10001:1h': the length must be 1 to 10000 steps" --sequence x:10001:1h in.cmt
    assert_fails 2 "cm-features: sequence 'x:2:24': the span must be a duration (1h, 1d) or months (1mo, 1y)" --sequence x:2:24 in.cmt
    assert_fails 2 "cm-features: sequence 'x,x:2:1h': 'x' twice" --sequence x,x:2:1h in.cmt
    assert_fails 2 "cm-features: sequence 'x:2': expected COL[,COL...]:W:SPAN" --sequence x:2 in.cmt
    assert_fails 2 "cm-features: in.cmt: sequence: column 'c' is a category, not a number" --sequence x,c:2:1h in.cmt
    printf 'x,y\n1,2\n' >plain.csv
    stream plain.csv
    assert_fails 2 "cm-features: in.cmt: sequence 'x:2:1h': a window needs a time column" --sequence x:2:1h in.cmt
}

@test "bike: our matrix equals make-features.py run now (pandas), the January file and the full data" {
    local py=/usr/bin/python3 mf="$SHARED/bench/make-features.py"
    [ -f "$mf" ] || skip "no $mf"
    "$py" -c 'import pandas' 2>/dev/null || skip "$py cannot import pandas"
    "$py" "$mf" bike "$DATA/bike-2011-01.csv" --lag-mode time -o ref.csv 2>/dev/null
    bike_features "$DATA/bike-2011-01.csv" >ours.csv
    run awk -F, -f "$TOP/tests/compare-features.awk" ref.csv ours.csv
    assert_success
    assert_output 'compared 17 columns over 447 rows: 0 differences'
    local full="$SHARED/data/bike_sharing_hour.csv"
    [ -f "$full" ] || skip "no $full (the January file matched)"
    "$py" "$mf" bike "$full" --lag-mode time -o full-ref.csv 2>/dev/null
    bike_features "$full" >full-ours.csv
    run awk -F, -f "$TOP/tests/compare-features.awk" full-ref.csv full-ours.csv
    assert_success
    assert_output 'compared 17 columns over 16837 rows: 0 differences'
}

# ---- target ------------------------------------------------------------------

@test "--target: role target, moved last; a category, a missing column are usage errors" {
    printf '%s\n' 't,y,s,x' '2026-01-01 00:00,1,a,10' '2026-01-01 01:00,2,b,20' >in.csv
    stream in.csv -T t
    assert_feat -y y --time-features hour <<'EOF'
t,s,x,hour,y
2026-01-01T00:00:00Z,a,10,0,1
2026-01-01T01:00:00Z,b,20,1,2
EOF
    cm-cat --info feat.cmt | sed -n '/^columns:/,/^recipe:/p' >got
    cat >want <<'EOF'
columns: 5
  1 t time time tz=UTC
  2 s cat feature categories=2
  3 x f64 feature
  4 hour f64 feature
  5 y f64 target
recipe: 2 steps
EOF
    diff -u want got
    # Without a target every column stays a feature, in place.
    feat --time-features none >got.csv
    [ "$(sed -n 1p got.csv)" = 't,y,s,x' ]
    cm-cat --info feat.cmt | grep -qx '  2 y f64 feature'
    assert_fails 2 "cm-features: in.cmt: target: column 's' is a category; cm forecasts numbers" -y s in.cmt
    assert_fails 2 "cm-features: in.cmt: target: no column 'z' (the columns are 't', 'y', 's', 'x')" -y z in.cmt
}

@test "--target on the time column is a usage error (the time is not a number to forecast)" {
    printf '%s\n' 't,x' '2026-01-01 00:00,1' '2026-01-01 01:00,2' >in.csv
    stream in.csv -T t
    run --separate-stderr bash -c 'exec cm-features -y t in.cmt >stdout.bin'
    echo "status $status, stderr: $stderr" >&2
    [ "$status" -eq 2 ]
    [[ "$stderr" == "cm-features: in.cmt: target: column 't' "* ]]
}

# ---- calendar ------------------------------------------------------------------

@test "calendar: the default parts, every part with known answers (ISO weeks, leap day), none" {
    # 2021-01-03 is a Sunday in ISO week 53 of 2020; 2021-01-04 a Monday in
    # week 1; 2024-02-29 is day 60; 2024-12-30 (Monday) is in week 1 of
    # 2025; 2024-12-31 is day 366; 2026-12-31 and 2027-01-01 are in week 53.
    printf '%s\n' 't,x' '2021-01-03 10:07,1' '2021-01-04 00:00,2' '2024-02-29 23:59,3' \
        '2024-12-30 12:00,4' '2024-12-31 06:30,5' '2026-12-31 18:30,6' '2027-01-01 00:00,7' >in.csv
    stream in.csv -T t
    assert_feat <<'EOF'
t,x,hour,dow,month,doy,weekend
2021-01-03T10:07:00Z,1,10,6,1,3,1
2021-01-04T00:00:00Z,2,0,0,1,4,0
2024-02-29T23:59:00Z,3,23,3,2,60,0
2024-12-30T12:00:00Z,4,12,0,12,365,0
2024-12-31T06:30:00Z,5,6,1,12,366,0
2026-12-31T18:30:00Z,6,18,3,12,365,0
2027-01-01T00:00:00Z,7,0,4,1,1,0
EOF
    assert_feat --time-features hour,minute,dow,dom,month,doy,week,year,weekend <<'EOF'
t,x,hour,minute,dow,dom,month,doy,week,year,weekend
2021-01-03T10:07:00Z,1,10,7,6,3,1,3,53,2021,1
2021-01-04T00:00:00Z,2,0,0,0,4,1,4,1,2021,0
2024-02-29T23:59:00Z,3,23,59,3,29,2,60,9,2024,0
2024-12-30T12:00:00Z,4,12,0,0,30,12,365,1,2024,0
2024-12-31T06:30:00Z,5,6,30,1,31,12,366,1,2024,0
2026-12-31T18:30:00Z,6,18,30,3,31,12,365,53,2026,0
2027-01-01T00:00:00Z,7,0,0,4,1,1,1,53,2027,0
EOF
    # The order given is the order of the columns.
    assert_feat --time-features week,dom <<'EOF'
t,x,week,dom
2021-01-03T10:07:00Z,1,53,3
2021-01-04T00:00:00Z,2,1,4
2024-02-29T23:59:00Z,3,9,29
2024-12-30T12:00:00Z,4,1,30
2024-12-31T06:30:00Z,5,1,31
2026-12-31T18:30:00Z,6,53,31
2027-01-01T00:00:00Z,7,53,1
EOF
    feat --time-features none >got.csv
    cm-cat in.cmt | diff -u - got.csv
    assert_fails 2 "cm-features: time-features: 'fortnight' is not one of hour, minute, dow, dom, month, doy, week, year, weekend" \
        --time-features hour,fortnight in.cmt
}

@test "calendar: parts in the stream's local time (cm-clean --tz Europe/Berlin), across DST" {
    # 00:30Z on 2026-03-29 is 01:30 CET, 01:30Z is 03:30 CEST (the clocks
    # went forward); Sunday 2026-07-05 23:30Z is Monday 01:30 local;
    # 2026-12-31 23:30Z is 00:30 on 2027-01-01 local.
    printf '%s\n' 't,x' '2026-03-29 00:30:00Z,1' '2026-03-29 01:30:00Z,2' \
        '2026-07-05 23:30:00Z,3' '2026-12-31 23:30:00Z,4' >in.csv
    stream in.csv -T t --tz Europe/Berlin
    assert_feat --time-features hour,minute,dow,dom,month,doy,week,year,weekend <<'EOF'
t,x,hour,minute,dow,dom,month,doy,week,year,weekend
2026-03-29T00:30:00Z,1,1,30,6,29,3,88,13,2026,1
2026-03-29T01:30:00Z,2,3,30,6,29,3,88,13,2026,1
2026-07-05T23:30:00Z,3,1,30,0,6,7,187,28,2026,0
2026-12-31T23:30:00Z,4,0,30,4,1,1,1,53,2027,0
EOF
    # The same instants in a UTC stream.
    stream in.csv -T t
    assert_feat --time-features hour,dow,dom,month,doy,week,year,weekend <<'EOF'
t,x,hour,dow,dom,month,doy,week,year,weekend
2026-03-29T00:30:00Z,1,0,6,29,3,88,13,2026,1
2026-03-29T01:30:00Z,2,1,6,29,3,88,13,2026,1
2026-07-05T23:30:00Z,3,23,6,5,7,186,27,2026,1
2026-12-31T23:30:00Z,4,23,3,31,12,365,53,2026,0
EOF
}

@test "--cyclic: sin/cos of each periodic part (not year, weekend), hour 6 is sin 1 cos 0" {
    # 2024-04-01 06:15 Monday, April (30 days), week 14 of 52, day 92 of 366;
    # 2024-12-31 18:45 Tuesday, day 366, week 1 of 2025 (52 weeks).
    printf '%s\n' 't,x' '2024-04-01 06:15,1' '2024-12-31 18:45,2' >in.csv
    stream in.csv -T t
    feat --cyclic --time-features hour,minute,dow,dom,month,doy,week,year,weekend >got.csv
    [ "$(sed -n 1p got.csv)" = 't,x,hour,hour_sin,hour_cos,minute,minute_sin,minute_cos,dow,dow_sin,dow_cos,dom,dom_sin,dom_cos,month,month_sin,month_cos,doy,doy_sin,doy_cos,week,week_sin,week_cos,year,weekend' ]
    # hour 6: sin 1, cos 0, within 1e-12.
    awk -F, 'NR == 2 { d = $4 - 1; e = $5; if (d < 0) d = -d; if (e < 0) e = -e
                       if ($3 != 6 || d > 1e-12 || e > 1e-12) { print "hour 6: " $3, $4, $5; exit 1 } }' got.csv
    # Every pair is sin/cos of 2 pi (value - first) / period.
    awk -F, 'function chk(v, first, period, s, c,   a, ds, dc) {
                 a = 2 * 3.141592653589793 * (v - first) / period
                 ds = s - sin(a); dc = c - cos(a)
                 if (ds < 0) ds = -ds; if (dc < 0) dc = -dc
                 if (ds > 1e-12 || dc > 1e-12) { printf "row %d: %s %s %s\n", NR, v, s, c; bad = 1 } }
             NR == 2 { mdays = 30; ydays = 366; yweeks = 52 }
             NR == 3 { mdays = 31; ydays = 366; yweeks = 52 }
             NR > 1 { chk($3, 0, 24, $4, $5); chk($6, 0, 60, $7, $8); chk($9, 0, 7, $10, $11)
                      chk($12, 1, mdays, $13, $14); chk($15, 1, 12, $16, $17)
                      chk($18, 1, ydays, $19, $20); chk($21, 1, yweeks, $22, $23) }
             END { exit bad }' got.csv
    cut -d, -f1-3,6,9,12,15,18,21,24,25 got.csv >parts.csv
    cat >want.csv <<'EOF'
t,x,hour,minute,dow,dom,month,doy,week,year,weekend
2024-04-01T06:15:00Z,1,6,15,0,1,4,92,14,2024,0
2024-12-31T18:45:00Z,2,18,45,1,31,12,366,1,2024,0
EOF
    diff -u want.csv parts.csv
    # The default parts with --cyclic.
    feat --cyclic >got.csv
    [ "$(sed -n 1p got.csv)" = 't,x,hour,hour_sin,hour_cos,dow,dow_sin,dow_cos,month,month_sin,month_cos,doy,doy_sin,doy_cos,weekend' ]
}

# ---- holidays ---------------------------------------------------------------------

@test "--holidays FILE: dates, # comments, blank lines; is_holiday by the local date" {
    printf '%s\n' '# public holidays' '2026-01-01' '' '  2026-12-25   # Christmas' '2026-07-05' >hol.txt
    printf '%s\n' 't,x' '2025-12-31 22:30:00Z,1' '2025-12-31 23:30:00Z,2' '2026-01-01 22:30:00Z,3' \
        '2026-01-01 23:30:00Z,4' '2026-07-04 21:00:00Z,5' '2026-07-04 22:30:00Z,6' \
        '2026-12-25 12:00:00Z,7' >in.csv
    stream in.csv -T t --tz Europe/Berlin
    assert_feat --time-features dom --holidays hol.txt <<'EOF'
t,x,dom,is_holiday
2025-12-31T22:30:00Z,1,31,0
2025-12-31T23:30:00Z,2,1,1
2026-01-01T22:30:00Z,3,1,1
2026-01-01T23:30:00Z,4,2,0
2026-07-04T21:00:00Z,5,4,0
2026-07-04T22:30:00Z,6,5,1
2026-12-25T12:00:00Z,7,25,1
EOF
    stream in.csv -T t
    assert_feat --time-features dom --holidays hol.txt <<'EOF'
t,x,dom,is_holiday
2025-12-31T22:30:00Z,1,31,0
2025-12-31T23:30:00Z,2,31,0
2026-01-01T22:30:00Z,3,1,1
2026-01-01T23:30:00Z,4,1,1
2026-07-04T21:00:00Z,5,4,0
2026-07-04T22:30:00Z,6,4,0
2026-12-25T12:00:00Z,7,25,1
EOF
    printf '%s\n' '2026-01-01' '2026-13-01' >bad.txt
    assert_fails 2 "cm-features: holidays: '2026-13-01' is not a date (YYYY-MM-DD)" \
        --holidays bad.txt in.cmt
    printf '%s\n' '2026-01-01 12:00' >bad.txt
    assert_fails 2 "cm-features: holidays: '2026-01-01 12:00' is not a date (YYYY-MM-DD)" \
        --holidays bad.txt in.cmt
    assert_fails 1 "cm-features: nofile.txt: No such file or directory" --holidays nofile.txt in.cmt
}

@test "--holidays and --holiday-col without a time column are usage errors (no date to look up)" {
    # Without a time every row would be on one "day" (1970-01-01): a name
    # on any row would make every row a holiday, and --holiday-col would
    # hold the whole stream in memory waiting for the day to end.
    printf '%s\n' '1970-01-01' >hol.txt
    printf '%s\n' 'id,hol,x' '1,None,10' '2,Fest,20' '3,None,30' >in.csv
    stream in.csv
    run --separate-stderr bash -c 'exec cm-features --time-features none --holidays hol.txt in.cmt >stdout.bin'
    local st1=$status err1=$stderr
    run --separate-stderr bash -c 'exec cm-features --time-features none --holiday-col hol in.cmt >stdout.bin'
    local st2=$status err2=$stderr
    printf '%s\n' "--holidays: status $st1, stderr: $err1" "--holiday-col: status $st2, stderr: $err2" >&2
    [ "$st1" -eq 2 ]
    [[ "$err1" == *"time column"* ]]
    [ "$st2" -eq 2 ]
    [[ "$err2" == *"time column"* ]]
}

@test "--holiday-col: a name on one row makes the whole local day a holiday; --holiday-none" {
    printf '%s\n' 't,hol,x' '2026-01-01 00:00,ordinary,1' '2026-01-01 12:00,New Year,2' \
        '2026-01-01 23:00,ordinary,3' '2026-01-02 00:00,ordinary,4' '2026-01-02 05:00,,5' \
        '2026-01-03 01:00,ordinary,6' '2026-01-03 02:00,Festival,7' >in.csv
    stream in.csv -T t -m keep
    assert_feat --time-features none --holiday-col hol --holiday-none ordinary <<'EOF'
t,hol,x,is_holiday
2026-01-01T00:00:00Z,ordinary,1,1
2026-01-01T12:00:00Z,New Year,2,1
2026-01-01T23:00:00Z,ordinary,3,1
2026-01-02T00:00:00Z,ordinary,4,0
2026-01-02T05:00:00Z,,5,0
2026-01-03T01:00:00Z,ordinary,6,1
2026-01-03T02:00:00Z,Festival,7,1
EOF
    # With a holiday file as well: either makes a holiday.
    printf '%s\n' '2026-01-02' >hol.txt
    feat --time-features none --holiday-col hol --holiday-none ordinary --holidays hol.txt |
        cut -d, -f4 | paste -sd' ' >got
    [ "$(cat got)" = 'is_holiday 1 1 1 1 1 1 1' ]
    # The default ordinary value is None: here 'ordinary' is a holiday's
    # name too, and the missing name on Jan 2 does not undo the day.
    feat --time-features none --holiday-col hol | cut -d, -f4 | paste -sd' ' >got
    [ "$(cat got)" = 'is_holiday 1 1 1 1 1 1 1' ]
    printf '%s\n' 't,hol,x' '2026-01-01 10:00,None,1' '2026-01-02 10:00,None,2' \
        '2026-01-02 11:00,Epiphany,3' '2026-01-03 10:00,None,4' >none.csv
    stream none.csv -T t
    assert_feat --time-features none --holiday-col hol <<'EOF'
t,hol,x,is_holiday
2026-01-01T10:00:00Z,None,1,0
2026-01-02T10:00:00Z,None,2,1
2026-01-02T11:00:00Z,Epiphany,3,1
2026-01-03T10:00:00Z,None,4,0
EOF
    # The local day of a Berlin stream: 23:30Z on Dec 31 is already Jan 1.
    printf '%s\n' 't,hol,x' '2025-12-31 22:30:00Z,ordinary,1' '2025-12-31 23:30:00Z,ordinary,2' \
        '2026-01-01 11:00:00Z,New Year,3' '2026-01-01 22:30:00Z,ordinary,4' \
        '2026-01-01 23:30:00Z,ordinary,5' >berlin.csv
    stream berlin.csv -T t --tz Europe/Berlin
    assert_feat --time-features none --holiday-col hol --holiday-none ordinary <<'EOF'
t,hol,x,is_holiday
2025-12-31T22:30:00Z,ordinary,1,0
2025-12-31T23:30:00Z,ordinary,2,1
2026-01-01T11:00:00Z,New Year,3,1
2026-01-01T22:30:00Z,ordinary,4,1
2026-01-01T23:30:00Z,ordinary,5,0
EOF
    stream in.csv -T t
    assert_fails 2 "cm-features: in.cmt: holiday-col: column 'x' is not a category" --holiday-col x in.cmt
    assert_fails 2 "cm-features: in.cmt: holiday-col: no column 'h' (the columns are 't', 'hol', 'x')" \
        --holiday-col h in.cmt
}

@test "--holiday-col spreads the day across 4096-row batches, and over a day longer than a batch" {
    # 6000 minutes from 2026-01-01; the name is on row 4300 (Jan 3 23:40),
    # after the batch boundary at row 4096, and Jan 3 began at row 2880.
    awk 'BEGIN { print "t,hol,x"; s = 1767225600
                 for (i = 0; i < 6000; i++) printf "%.0f,%s,%d\n", s + 60 * i, i == 4300 ? "Fest" : "ordinary", i }' >m.csv
    stream m.csv -T t --time-format %s
    feat --time-features none --holiday-col hol --holiday-none ordinary |
        awk -F, 'NR > 1 { n[substr($1, 1, 10) " " $4]++ } END { for (k in n) print k, n[k] }' | sort >got
    cat >want <<'EOF'
2026-01-01 0 1440
2026-01-02 0 1440
2026-01-03 1 1440
2026-01-04 0 1440
2026-01-05 0 240
EOF
    diff -u want got
    # 10-second rows: 8640 in the first day, the name on its last row.
    awk 'BEGIN { print "t,hol,x"; s = 1767225600
                 for (i = 0; i < 9000; i++) printf "%.0f,%s,%d\n", s + 10 * i, i == 8639 ? "Fest" : "ordinary", i }' >s.csv
    stream s.csv -T t --time-format %s
    feat --time-features none --holiday-col hol --holiday-none ordinary |
        awk -F, 'NR > 1 { n[substr($1, 1, 10) " " $4]++ } END { for (k in n) print k, n[k] }' | sort >got
    printf '%s\n' '2026-01-01 1 8640' '2026-01-02 0 360' >want
    diff -u want got
}

# ---- lags --------------------------------------------------------------------------

@test "lags by time: exactly t - span, missing over a gap (dropped, or kept empty)" {
    printf '%s\n' 't,x' '2026-01-01 00:00,1' '2026-01-01 01:00,2' '2026-01-01 02:00,4' \
        '2026-01-01 04:00,8' '2026-01-01 05:00,' '2026-01-01 06:00,32' >in.csv
    stream in.csv -T t -m keep
    assert_feat --time-features none -L x:1h,2h --keep-incomplete <<'EOF'
t,x,x_lag1h,x_lag2h
2026-01-01T00:00:00Z,1,,
2026-01-01T01:00:00Z,2,1,
2026-01-01T02:00:00Z,4,2,1
2026-01-01T04:00:00Z,8,,4
2026-01-01T05:00:00Z,,8,
2026-01-01T06:00:00Z,32,,8
EOF
    # Rows with a missing lag are dropped; a missing value of the row
    # itself (not derived) does not drop it.
    assert_feat --time-features none -L x:1h <<'EOF'
t,x,x_lag1h
2026-01-01T01:00:00Z,2,1
2026-01-01T02:00:00Z,4,2
2026-01-01T05:00:00Z,,8
EOF
    assert_feat -q --time-features none -L x:1h,2h <<'EOF'
t,x,x_lag1h,x_lag2h
2026-01-01T02:00:00Z,4,2,1
EOF
    # Row lags count rows, across the gap.
    assert_feat --time-features none -L x:1,2 <<'EOF'
t,x,x_lag1,x_lag2
2026-01-01T02:00:00Z,4,2,1
2026-01-01T04:00:00Z,8,4,2
2026-01-01T05:00:00Z,,8,4
EOF
    # -L repeats.
    assert_feat --time-features none -L x:1h -L x:1 --keep-incomplete <<'EOF'
t,x,x_lag1h,x_lag1
2026-01-01T00:00:00Z,1,,
2026-01-01T01:00:00Z,2,1,1
2026-01-01T02:00:00Z,4,2,2
2026-01-01T04:00:00Z,8,,4
2026-01-01T05:00:00Z,,8,8
2026-01-01T06:00:00Z,32,,
EOF
}

@test "lags by time: durations s m h d w; repeated times use the last row at that time" {
    printf '%s\n' 't,x' '2026-01-01 00:00:00,1' '2026-01-01 00:00:00,2' '2026-01-01 00:00:30,3' \
        '2026-01-01 00:01:00,4' '2026-01-01 01:00:00,5' '2026-01-02 00:00:00,6' \
        '2026-01-08 00:00:00,7' >in.csv
    stream in.csv -T t
    assert_feat --time-features none -L x:30s,1m,1h,1d,1w --keep-incomplete <<'EOF'
t,x,x_lag30s,x_lag1m,x_lag1h,x_lag1d,x_lag1w
2026-01-01T00:00:00Z,1,,,,,
2026-01-01T00:00:00Z,2,,,,,
2026-01-01T00:00:30Z,3,2,,,,
2026-01-01T00:01:00Z,4,3,2,,,
2026-01-01T01:00:00Z,5,,,2,,
2026-01-02T00:00:00Z,6,,,,2,
2026-01-08T00:00:00Z,7,,,,,2
EOF
    # Units in any case.
    feat --time-features none -L x:30S,1M,1H,1D,1W --keep-incomplete >upper.csv
    sed 1d upper.csv >upper.rows
    sed 1d got.csv | diff -u - upper.rows
    [ "$(sed -n 1p upper.csv)" = 't,x,x_lag30S,x_lag1M,x_lag1H,x_lag1D,x_lag1W' ]
    # The same spans written otherwise; a plain number is rows.
    assert_feat --time-features none -L x:60s,24h,7d,2 --keep-incomplete <<'EOF'
t,x,x_lag60s,x_lag24h,x_lag7d,x_lag2
2026-01-01T00:00:00Z,1,,,,
2026-01-01T00:00:00Z,2,,,,
2026-01-01T00:00:30Z,3,,,,1
2026-01-01T00:01:00Z,4,2,,,2
2026-01-01T01:00:00Z,5,,,,3
2026-01-02T00:00:00Z,6,,2,,4
2026-01-08T00:00:00Z,7,,,2,5
EOF
    assert_fails 2 "cm-features: lag 'x:5q': '5q' is not a duration (90s 15m 1h 7d 1w), months (1mo 1y) or a number of rows" \
        -L x:5q in.cmt
    assert_fails 2 "cm-features: lag 'x:0': '0' is not a duration (90s 15m 1h 7d 1w), months (1mo 1y) or a number of rows" \
        -L x:0 in.cmt
    assert_fails 2 "cm-features: lag 'x': expected COL:SPAN[,SPAN...]" -L x in.cmt
    assert_fails 2 "cm-features: in.cmt: lag: no column 'y' (the columns are 't', 'x')" -L y:1h in.cmt
}

@test "lags of months and years: the same date of the calendar, across leap years and short months" {
    printf '%s\n' 't:time:time|x:f64' '2011-03-01T00:00:00Z|1' '2012-02-29T00:00:00Z|2' \
        '2012-03-01T00:00:00Z|3' '2012-03-31T00:00:00Z|4' '2012-04-30T00:00:00Z|5' \
        '2013-03-01T00:00:00Z|6' |
        cmt-gen text -d '|' >in.cmt
    # 1y before 2012-03-01 is 2011-03-01 (366 days), before 2013-03-01 is
    # 2012-03-01 (365 days); 1mo before 2012-04-30 is 2012-03-30 (none:
    # missing), before 2012-03-31 is 2012-02-29 (the last day of February)
    assert_feat --time-features none -L x:1y,1mo,365d --keep-incomplete <<'EOF'
t,x,x_lag1y,x_lag1mo,x_lag365d
2011-03-01T00:00:00Z,1,,,
2012-02-29T00:00:00Z,2,,,1
2012-03-01T00:00:00Z,3,1,,
2012-03-31T00:00:00Z,4,,2,
2012-04-30T00:00:00Z,5,,,
2013-03-01T00:00:00Z,6,3,,3
EOF
}

@test "f32 and i64 columns are looked back on as numbers" {
    printf '%s\n' 't:time:time|x:f32|n:i64' '2026-01-01T00:00:00Z|1.5|10' \
        '2026-01-01T01:00:00Z|2.5|-20' '2026-01-01T02:00:00Z|4.25|40' |
        cmt-gen text -d '|' >in.cmt
    assert_feat --time-features none -L x:1h -L n:1 --diff n:1h <<'EOF'
t,x,n,x_lag1h,n_lag1,n_diff1h
2026-01-01T01:00:00Z,2.5,-20,1.5,10,-30
2026-01-01T02:00:00Z,4.25,40,2.5,-20,60
EOF
}

@test "no time column: durations are a usage error, row lags, windows and differences work" {
    printf '%s\n' 'id,x' '1,10' '2,20' '3,40' >in.csv
    stream in.csv
    assert_feat --time-features none -L x:1 --diff x:2 -R x:mean:2 --keep-incomplete <<'EOF'
id,x,x_lag1,x_diff2,x_mean2
1,10,,,
2,20,10,,10
3,40,20,30,15
EOF
    assert_fails 2 "cm-features: in.cmt: lag 'x:1h': durations need a time column (give a number of rows instead)" \
        --time-features none -L x:1h in.cmt
    assert_fails 2 "cm-features: in.cmt: rolling 'x:mean:2h': durations need a time column (give a number of rows instead)" \
        --time-features none -R x:mean:2h in.cmt
    assert_fails 2 "cm-features: in.cmt: diff 'x:1d': durations need a time column (give a number of rows instead)" \
        --time-features none --diff x:1d in.cmt
    assert_fails 2 "cm-features: in.cmt: time features need a time column" --time-features hour in.cmt
}

@test "no time column: the default calendar parts are simply left out" {
    # cm-features(1): "When the stream has a time column and
    # --time-features is not given, the step also holds the default" (and
    # the code checks for the time column there): the default is meant to
    # apply only with a time column.  Not asking for calendar parts should
    # not be an error.
    printf '%s\n' 'id,x' '1,10' '2,20' '3,40' >in.csv
    stream in.csv
    assert_feat -L x:1 <<'EOF'
id,x,x_lag1
2,20,10
3,40,20
EOF
}

# ---- rolling windows ------------------------------------------------------------

@test "rolling by time: mean std min max sum count over [t - W, t), the row itself left out" {
    # 03:00 is missing; 05:00 -> 08:00 is a gap of exactly the window.
    printf '%s\n' 't,x' '2026-01-01 00:00,2' '2026-01-01 01:00,4' '2026-01-01 02:00,6' \
        '2026-01-01 03:00,' '2026-01-01 04:00,10' '2026-01-01 05:00,12' '2026-01-01 08:00,1' >in.csv
    stream in.csv -T t -m keep
    assert_feat --time-features none -R x:mean,std,min,max,sum,count:3h --keep-incomplete <<'EOF'
t,x,x_mean3h,x_std3h,x_min3h,x_max3h,x_sum3h,x_count3h
2026-01-01T00:00:00Z,2,,,,,,0
2026-01-01T01:00:00Z,4,2,,2,2,2,1
2026-01-01T02:00:00Z,6,3,1.4142135623730951,2,4,6,2
2026-01-01T03:00:00Z,,4,2,2,6,12,3
2026-01-01T04:00:00Z,10,5,1.4142135623730951,4,6,10,2
2026-01-01T05:00:00Z,12,8,2.8284271247461903,6,10,16,2
2026-01-01T08:00:00Z,1,12,,12,12,12,1
EOF
    # Without --keep-incomplete the rows whose std is missing go.
    assert_feat --time-features none -R x:std,count:3h <<'EOF'
t,x,x_std3h,x_count3h
2026-01-01T02:00:00Z,6,1.4142135623730951,2
2026-01-01T03:00:00Z,,2,3
2026-01-01T04:00:00Z,10,1.4142135623730951,2
2026-01-01T05:00:00Z,12,2.8284271247461903,2
EOF
    # --min-count: fewer values make the statistic missing; count is a count.
    assert_feat --time-features none -R x:mean,count:3h --min-count 2 --keep-incomplete <<'EOF'
t,x,x_mean3h,x_count3h
2026-01-01T00:00:00Z,2,,0
2026-01-01T01:00:00Z,4,,1
2026-01-01T02:00:00Z,6,3,2
2026-01-01T03:00:00Z,,4,3
2026-01-01T04:00:00Z,10,5,2
2026-01-01T05:00:00Z,12,8,2
2026-01-01T08:00:00Z,1,,1
EOF
    assert_feat -q --time-features none -R x:sum:3h --min-count 3 <<'EOF'
t,x,x_sum3h
2026-01-01T03:00:00Z,,12
EOF
    assert_fails 2 "cm-features: --min-count: '0' is not a positive whole number
Try 'cm-features --help' for more information." --min-count 0 in.cmt
    assert_fails 2 "cm-features: rolling 'x:median:3h': 'median' is not one of mean, std, min, max, sum, count" \
        -R x:median:3h in.cmt
    assert_fails 2 "cm-features: rolling 'x:mean': expected COL:STAT[,STAT...]:SPAN" -R x:mean in.cmt
}

@test "rolling by rows: the last N rows whatever their times, missing values skipped" {
    printf '%s\n' 't,x' '2026-01-01 00:00,2' '2026-01-01 01:00,4' '2026-01-01 02:00,6' \
        '2026-01-01 03:00,' '2026-01-01 04:00,10' '2026-01-01 05:00,12' '2026-01-01 08:00,1' >in.csv
    stream in.csv -T t -m keep
    assert_feat --time-features none -R x:sum,count,max:2 --keep-incomplete <<'EOF'
t,x,x_sum2,x_count2,x_max2
2026-01-01T00:00:00Z,2,,0,
2026-01-01T01:00:00Z,4,2,1,2
2026-01-01T02:00:00Z,6,6,2,4
2026-01-01T03:00:00Z,,10,2,6
2026-01-01T04:00:00Z,10,6,1,6
2026-01-01T05:00:00Z,12,10,1,10
2026-01-01T08:00:00Z,1,22,2,12
EOF
    assert_feat -q --time-features none -R x:mean,std:3 --min-count 3 <<'EOF'
t,x,x_mean3,x_std3
2026-01-01T03:00:00Z,,4,2
EOF
}

# ---- differences ------------------------------------------------------------------

@test "--diff by time and by rows: the value minus the value span earlier" {
    printf '%s\n' 't,x' '2026-01-01 00:00,1' '2026-01-01 01:00,3' '2026-01-01 02:00,7' \
        '2026-01-01 04:00,15' '2026-01-01 05:00,' '2026-01-01 06:00,63' >in.csv
    stream in.csv -T t -m keep
    assert_feat --time-features none --diff x:1h,2h,1 --keep-incomplete <<'EOF'
t,x,x_diff1h,x_diff2h,x_diff1
2026-01-01T00:00:00Z,1,,,
2026-01-01T01:00:00Z,3,2,,2
2026-01-01T02:00:00Z,7,4,6,4
2026-01-01T04:00:00Z,15,,8,8
2026-01-01T05:00:00Z,,,,
2026-01-01T06:00:00Z,63,,48,
EOF
    assert_feat -q --time-features none --diff x:1h <<'EOF'
t,x,x_diff1h
2026-01-01T01:00:00Z,3,2
2026-01-01T02:00:00Z,7,4
EOF
    assert_feat --time-features none --diff x:2 <<'EOF'
t,x,x_diff2
2026-01-01T02:00:00Z,7,6
2026-01-01T04:00:00Z,15,12
2026-01-01T06:00:00Z,63,48
EOF
}

# ---- series ------------------------------------------------------------------------

@test "--by: lags, windows and differences stay within each series (interleaved sensors)" {
    printf '%s\n' 't,s,x' '2026-01-01 00:00,a,1' '2026-01-01 00:00,b,100' '2026-01-01 01:00,a,2' \
        '2026-01-01 01:00,b,200' '2026-01-01 02:00,b,300' '2026-01-01 03:00,a,4' '2026-01-01 03:00,b,400' >in.csv
    stream in.csv -T t
    assert_feat --time-features none -b s -L x:1h,1 -R x:sum,count:2h --diff x:1h --keep-incomplete <<'EOF'
t,s,x,x_lag1h,x_lag1,x_sum2h,x_count2h,x_diff1h
2026-01-01T00:00:00Z,a,1,,,,0,
2026-01-01T00:00:00Z,b,100,,,,0,
2026-01-01T01:00:00Z,a,2,1,1,1,1,1
2026-01-01T01:00:00Z,b,200,100,100,100,1,100
2026-01-01T02:00:00Z,b,300,200,200,300,2,100
2026-01-01T03:00:00Z,a,4,,2,2,1,
2026-01-01T03:00:00Z,b,400,300,300,500,2,100
EOF
    # Without --by the rows are one series.
    assert_feat --time-features none -L x:1 <<'EOF'
t,s,x,x_lag1
2026-01-01T00:00:00Z,b,100,1
2026-01-01T01:00:00Z,a,2,100
2026-01-01T01:00:00Z,b,200,2
2026-01-01T02:00:00Z,b,300,200
2026-01-01T03:00:00Z,a,4,300
2026-01-01T03:00:00Z,b,400,4
EOF
    assert_fails 2 "cm-features: in.cmt: by: column 'x' is not a category" -b x in.cmt
    assert_fails 2 "cm-features: in.cmt: by: no column 'q' (the columns are 't', 's', 'x')" -b q in.cmt
}

@test "--by: series sorted one after the other; new sensors in later one-row batches" {
    # Each series in time order is enough with --by, not without.
    printf '%s\n' 't,s,x' '2026-01-01 00:00,a,1' '2026-01-01 01:00,a,2' '2026-01-01 00:00,b,3' \
        '2026-01-01 01:00,b,4' >in.csv
    stream in.csv -T t
    assert_feat --time-features none -b s -L x:1h <<'EOF'
t,s,x,x_lag1h
2026-01-01T01:00:00Z,a,2,1
2026-01-01T01:00:00Z,b,4,3
EOF
    assert_fails 1 "cm-features: in.cmt: row 3: time 2026-01-01T00:00:00Z comes after 2026-01-01T01:00:00Z: the rows are not in time order (sort them with cm-clean --sort)" \
        --time-features none -L x:1h in.cmt
    printf '%s\n' 't,s,x' '2026-01-01 00:00,a,1' '2026-01-01 01:00,a,2' '2026-01-01 00:00,b,3' \
        '2026-01-01 00:30,a,5' >un.csv
    stream un.csv -T t
    assert_fails 1 "cm-features: in.cmt: row 4: time 2026-01-01T00:30:00Z comes after 2026-01-01T01:00:00Z in series 'a': the rows are not in time order (sort them with cm-clean --sort)" \
        --time-features none -b s -L x:1h in.cmt
    # One row a batch: the dictionary of s grows from batch to batch.
    printf '%s\n' 't:time:time|s:cat|x:f64' '2026-01-01T00:00:00Z|a|1' '2026-01-01T00:00:00Z|b|2' \
        '2026-01-01T01:00:00Z|c|3' '2026-01-01T01:00:00Z|a|4' '2026-01-01T02:00:00Z|b|5' \
        '2026-01-01T02:00:00Z|c|6' | cmt-gen text -d '|' --batch 1 >in.cmt
    assert_feat --time-features none -b s -L x:1 <<'EOF'
t,s,x,x_lag1
2026-01-01T01:00:00Z,a,4,1
2026-01-01T02:00:00Z,b,5,2
2026-01-01T02:00:00Z,c,6,3
EOF
}

# ---- columns ------------------------------------------------------------------------

@test "--drop and --keep choose input columns (the time and the target stay); unknown names and clashes" {
    printf '%s\n' 't,a,b,c' '2026-01-01 00:00,1,2,3' '2026-01-01 01:00,4,5,6' >in.csv
    stream in.csv -T t
    assert_feat --time-features none --drop a,c <<'EOF'
t,b
2026-01-01T00:00:00Z,2
2026-01-01T01:00:00Z,5
EOF
    assert_feat --time-features none --keep c <<'EOF'
t,c
2026-01-01T00:00:00Z,3
2026-01-01T01:00:00Z,6
EOF
    # The time column stays: naming it in --drop is a usage error.
    assert_fails 2 "cm-features: in.cmt: drop: 't' is the time column; it stays" \
        --time-features none --drop t,b in.cmt
    assert_feat --time-features none --keep c -y a <<'EOF'
t,c,a
2026-01-01T00:00:00Z,3,1
2026-01-01T01:00:00Z,6,4
EOF
    assert_feat --time-features none --drop a -y a <<'EOF'
t,b,c,a
2026-01-01T00:00:00Z,2,3,1
2026-01-01T01:00:00Z,5,6,4
EOF
    # --drop applies after --keep.
    assert_feat --time-features none --keep a,b --drop b <<'EOF'
t,a
2026-01-01T00:00:00Z,1
2026-01-01T01:00:00Z,4
EOF
    # A dropped column can still be looked back on.
    assert_feat --time-features none --drop b -L b:1 <<'EOF'
t,a,c,b_lag1
2026-01-01T01:00:00Z,4,6,2
EOF
    assert_fails 2 "cm-features: in.cmt: drop: no column 'zz' (the columns are 't', 'a', 'b', 'c')" --drop a,zz in.cmt
    assert_fails 2 "cm-features: in.cmt: keep: no column 'zz' (the columns are 't', 'a', 'b', 'c')" --keep zz in.cmt
    # A derived name taken by an input column.
    printf '%s\n' 't,a,hour,a_lag1' '2026-01-01 00:00,1,2,3' '2026-01-01 01:00,4,5,6' >clash.csv
    stream clash.csv -T t
    assert_fails 2 "cm-features: in.cmt: the derived column 'hour' exists already as an input column; drop or rename it" in.cmt
    assert_fails 2 "cm-features: in.cmt: the derived column 'a_lag1' exists already as an input column; drop or rename it" \
        --time-features none -L a:1 in.cmt
    # Dropped, the names are free.
    assert_feat --drop hour,a_lag1 --time-features hour -L a:1 <<'EOF'
t,a,hour,a_lag1
2026-01-01T01:00:00Z,4,1,1
EOF
}

# ---- errors -------------------------------------------------------------------------

@test "errors: unsorted time, lag on a category or the time, bad input streams" {
    printf '%s\n' 't,s,x' '2026-01-01 00:00,a,1' '2026-01-01 02:00,b,2' '2026-01-01 01:00,a,3' >un.csv
    stream un.csv -T t
    assert_fails 1 "cm-features: in.cmt: row 3: time 2026-01-01T01:00:00Z comes after 2026-01-01T02:00:00Z: the rows are not in time order (sort them with cm-clean --sort)" \
        in.cmt
    assert_fails 2 "cm-features: in.cmt: lag: column 's' is a category, not a number" -L s:1h in.cmt
    assert_fails 2 "cm-features: in.cmt: rolling: column 's' is a category, not a number" -R s:mean:1h in.cmt
    assert_fails 2 "cm-features: in.cmt: diff: column 't' is a time, not a number" --diff t:1 in.cmt
    # Not a stream, a cut stream, nothing.
    assert_fails 1 "cm-features: un.csv: input looks like text (CSV?), not a cm stream; convert it with cm-clean" un.csv
    size=$(wc -c <in.cmt)
    head -c $((size - 3)) in.cmt >cut.cmt
    assert_fails 1 "cm-features: cut.cmt: truncated stream (message cut short)" cut.cmt
    head -c 100 in.cmt >cut.cmt
    assert_fails 1 "cm-features: cut.cmt: truncated stream (message cut short)" cut.cmt
    : >empty.cmt
    assert_fails 1 "cm-features: empty.cmt: empty input, not a cm stream" empty.cmt
    assert_fails 2 "cm-features: unrecognized option '--bogus'
Try 'cm-features --help' for more information." --bogus in.cmt
}

@test "--max-history: a look-back longer than it allows is a data error with a clear message" {
    minutes 200 1767225600 >m.csv
    stream m.csv -T t --time-format %s
    local msg="cm-features: in.cmt: a lag or window reaches back more than 100 rows of one series (raise --max-history)"
    assert_fails 1 "$msg" --time-features none -R x:sum:2h --max-history 100 in.cmt
    assert_fails 1 "$msg" --time-features none -L x:150 --max-history 100 in.cmt
    # Raised, the same work is done.
    feat --time-features none -R x:sum:2h --max-history 200 >got.csv
    [ "$(sed -n '$p' got.csv)" = '2026-01-01T03:19:00Z,199,16620' ]   # 79 + ... + 198
    feat -q --time-features none -L x:150 --max-history 1000 >got.csv
    [ "$(sed -n '$p' got.csv)" = '2026-01-01T03:19:00Z,199,49' ]
    [ "$(wc -l <got.csv)" -eq 51 ]
    assert_fails 2 "cm-features: --max-history: '0' is not a positive whole number
Try 'cm-features --help' for more information." --max-history 0 in.cmt
    assert_fails 2 "cm-features: --max-history: '-1' is not a positive whole number
Try 'cm-features --help' for more information." --max-history -1 in.cmt
    assert_fails 2 "cm-features: --max-history: 'lots' is not a positive whole number
Try 'cm-features --help' for more information." --max-history lots in.cmt
}

@test "--max-history N holds a look-back of exactly N rows (cm-features(1), Memory)" {
    minutes 200 1767225600 >m.csv
    stream m.csv -T t --time-format %s
    local msg="cm-features: in.cmt: a lag or window reaches back more than %s rows of one series (raise --max-history)"
    feat --time-features none -L x:100 -R x:count:100 --max-history 100 >got.csv
    [ "$(sed -n '$p' got.csv)" = '2026-01-01T03:19:00Z,199,99,100' ]
    assert_fails 1 "$(printf "$msg" 99)" --time-features none -L x:100 --max-history 99 in.cmt
    assert_fails 1 "$(printf "$msg" 99)" --time-features none -R x:count:100 --max-history 99 in.cmt
    # 2h of minutes: the 120 rows in [t - 2h, t).
    feat --time-features none -R x:sum:2h --max-history 120 >got.csv
    [ "$(sed -n '$p' got.csv)" = '2026-01-01T03:19:00Z,199,16620' ]
    assert_fails 1 "$(printf "$msg" 119)" --time-features none -R x:sum:2h --max-history 119 in.cmt
}

# ---- recipe, output, report ----------------------------------------------------------

@test "recipe: the clean step, then a features step with the settings" {
    printf '%s\n' 't,s,x' '2026-01-01 00:00,a,1' '2026-01-01 01:00,a,2' >in.csv
    stream in.csv -T t
    printf '%s\n' '2026-01-01' >hol.txt
    feat -y x -L x:1h,2 -L x:1d -R x:mean,std:3h -b s --min-count 2 --keep-incomplete \
        --holidays hol.txt --drop s --max-history 5000 >/dev/null
    cm-cat --info feat.cmt | sed -n '/^recipe:/,$p' >got
    cat >want <<'EOF'
recipe: 2 steps
  1 clean
    time=t
    delimiter=,
    tz=UTC
    type.t=time
    type.s=cat
    type.x=num
  2 features
    target=x
    lag.1=x:1h,2
    lag.2=x:1d
    rolling.1=x:mean,std:3h
    by=s
    min-count=2
    keep-incomplete=yes
    holidays=2026-01-01
    drop=s
    max-history=5000
    time-features=hour,dow,month,doy,weekend
EOF
    diff -u want got
    feat --time-features dow --cyclic >/dev/null
    cm-cat --info feat.cmt | sed -n '/^  2 features/,$p' >got
    printf '%s\n' '  2 features' '    time-features=dow' '    cyclic=yes' >want
    diff -u want got
    # A second pass adds a second features step.
    mv feat.cmt in.cmt
    feat --time-features none >/dev/null
    cm-cat --info feat.cmt | grep -c '^  [0-9] features$' >n
    [ "$(cat n)" -eq 2 ]
}

@test "-o replaces the file only when complete; -v reports rows, silent otherwise; --help, --version" {
    printf '%s\n' 't,x' '2026-01-01 00:00,2' '2026-01-01 01:00,4' '2026-01-01 02:00,6' \
        '2026-01-01 03:00,' '2026-01-01 04:00,10' '2026-01-01 05:00,12' '2026-01-01 08:00,1' >in.csv
    stream in.csv -T t -m keep
    mkdir o
    echo old >o/out.cmt
    run --separate-stderr cm-features --time-features none -L x:1h -R x:mean:2 -o o/out.cmt in.cmt
    assert_success
    [ -z "$output" ]
    [ -z "$stderr" ]
    run cm-cat o/out.cmt
    assert_output "t,x,x_lag1h,x_mean2
2026-01-01T01:00:00Z,4,2,2
2026-01-01T02:00:00Z,6,4,3
2026-01-01T03:00:00Z,,6,5
2026-01-01T05:00:00Z,12,10,10"
    [ "$(ls -A o)" = out.cmt ]
    # A failure leaves the old file and no temporary one.
    cp o/out.cmt before.cmt
    printf '%s\n' 't,x' '2026-01-01 01:00,1' '2026-01-01 00:00,2' >un.csv
    cm-clean -T t un.csv >un.cmt
    run --separate-stderr cm-features -o o/out.cmt un.cmt
    assert_failure 1
    [ -z "$output" ]
    [ "$stderr" = "cm-features: un.cmt: row 2: time 2026-01-01T00:00:00Z comes after 2026-01-01T01:00:00Z: the rows are not in time order (sort them with cm-clean --sort)" ]
    cmp o/out.cmt before.cmt
    [ "$(ls -A o)" = out.cmt ]
    # -v: rows read, written, dropped, and by which column.
    run --separate-stderr cm-features -v --time-features none -L x:1h -R x:mean:2 in.cmt -o v.cmt
    assert_success
    [ "$stderr" = "rows read: 7
rows written: 4
rows dropped: 3 (a derived value missing), 0 (no time)
  x_lag1h: missing in 3 dropped rows
  x_mean2: missing in 1 dropped rows" ]
    run --separate-stderr cm-features -v --time-features none -L x:1h --keep-incomplete in.cmt -o v.cmt
    assert_success
    [ "$stderr" = "rows read: 7
rows written: 7
rows dropped: 0 (a derived value missing), 0 (no time)" ]
    run --separate-stderr cm-features --help
    assert_success
    [ -z "$stderr" ]
    [ "${lines[0]}" = 'Usage: cm-features [OPTION]... [FILE]' ]
    [ "${lines[-1]}" = 'See cm-features(1).' ]
    run --separate-stderr cm-features -V
    assert_success
    [ "$output" = "cm-features (cm) $CM_VERSION" ]
    assert_fails 2 "cm-features: one input at most (got 2)
Try 'cm-features --help' for more information." a.cmt b.cmt
}

# ---- a long stream -------------------------------------------------------------------

@test "300000 minute rows through 24h windows: exact values on every row, peak RSS under 50 MB" {
    [ -x /usr/bin/time ] || skip "no /usr/bin/time to measure the peak RSS"
    minutes 300000 1767225600 >big.csv
    cm-clean -T t --time-format %s -o big.cmt big.csv
    /usr/bin/time -f %M -o rss cm-features --time-features none -R x:mean,max,count:24h -o f.cmt big.cmt
    # x is the row number i: the window holds rows max(0, i-1440) .. i-1.
    cm-cat f.cmt | awk -F, '
        NR == 1 { if ($0 != "t,x,x_mean24h,x_max24h,x_count24h") { print "header " $0; bad++ }; next }
        { i = $2; lo = i < 1440 ? 0 : i - 1440; n++
          if ($3 != (lo + i - 1) / 2 || $4 != i - 1 || $5 != i - lo) { if (bad++ < 5) print "row " i ": " $0 } }
        END { if (n != 299999) { print n " rows"; bad++ }; exit bad > 0 }'
    echo "peak RSS $(cat rss) kB" >&2
    [ "$(cat rss)" -lt 51200 ]
    # A reader that goes away early is not an error.
    run --separate-stderr bash -c 'cm-features --time-features none -L x:1 big.cmt | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}"'
    assert_output 0
    [ -z "$stderr" ]
}

@test "a derived column asked for twice says so; a diff of the target is refused" {
    printf '%s\n' 't,x,y' '2026-01-01 00:00,1,5' '2026-01-01 01:00,2,6' >in.csv
    cm-clean -T t in.csv >in.cmt
    assert_fails 2 "cm-features: in.cmt: the derived column 'x_lag1' is asked for twice" \
        --time-features none -L x:1 -L x:1 in.cmt
    assert_fails 2 "cm-features: in.cmt: diff 'x:1': a difference of the target uses the value to be forecast; lag it instead" \
        --time-features none -y x --diff x:1 in.cmt
}

@test "without a time column row lags keep bounded history and the default calendar stays out" {
    awk 'BEGIN { print "id,x"; for (i = 1; i <= 50; i++) print i "," i * 10 }' >nt.csv
    cm-clean nt.csv >nt.cmt
    run --separate-stderr bash -c 'cm-features -L x:1 --max-history 5 nt.cmt | cm-cat | tail -n 2'
    assert_success
    [ "$output" = $'49,490,480\n50,500,490' ]
}

@test "most rows dropped: one warning line with the main reason (not with -q); every row dropped: exit 1 and no stream" {
    awk 'BEGIN { print "t,x"; for (i = 0; i < 10; i++) printf "2026-01-01 %02d:00,%d\n", i, i }' >ten.csv
    cmt ten.csv in.cmt
    run --separate-stderr cm-features --time-features none -L x:6h -o six.cmt in.cmt
    assert_success
    [ "$stderr" = "cm-features: in.cmt: 6 of 10 rows dropped: a derived value missing, most often 'x_lag6h' (6 rows; a lag or window without history: --keep-incomplete keeps such rows)" ]
    [ "$(cm-cat six.cmt | wc -l)" -eq 5 ]
    run --separate-stderr cm-features -q --time-features none -L x:6h -o six.cmt in.cmt
    assert_success
    [ -z "$stderr" ]
    # half is not most: no word
    run --separate-stderr cm-features --time-features none -L x:5h -o five.cmt in.cmt
    [ -z "$stderr" ]
    assert_fails 1 "cm-features: in.cmt: every row was dropped: a derived value missing, most often 'x_lag10h' (10 rows; a lag or window without history: --keep-incomplete keeps such rows)" --time-features none -L x:10h -o none.cmt in.cmt
    [ ! -e none.cmt ]
    cm-cat -f cmt --head 0 -o zero.cmt in.cmt
    assert_fails 1 "cm-features: zero.cmt: no rows in the input" --time-features none zero.cmt
}
