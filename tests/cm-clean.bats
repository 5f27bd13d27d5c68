#!/usr/bin/env bats
# cm-clean: CSV parsing, type inference, times and zones, missing values,
# ranges and categories, sorting (in memory and spilled), duplicates, the
# report and the recipe, atomic output, bad input, and a property test of
# the default drop policy.  Small hand-made inputs are in testdata/messy/;
# anything large or binary is generated in the test's temp dir.
load helpers

bats_require_minimum_version 1.5.0

M="$DATA/messy"
CR=$'\r'

# ---- helpers -----------------------------------------------------------------

# The cleaned stream as CSV text on stdout.  Fails when cm-clean fails or
# prints anything (it is silent on success without -v).
cleaned() {
    cm-clean "$@" >out.cmt 2>clean.err </dev/null || {
        echo "cm-clean $* failed:" >&2
        cat clean.err >&2
        return 1
    }
    if [ -s clean.err ]; then
        echo "cm-clean $* printed on stderr:" >&2
        cat clean.err >&2
        return 1
    fi
    cm-cat out.cmt
}

# Expected CSV on stdin; the arguments are cm-clean's.
assert_clean() {
    cat >want.csv
    cleaned "$@" >got.csv
    diff -u want.csv got.csv
}

# Exact status and exact stderr (one line unless given more); nothing on
# stdout for a usage error (a data error may leave a partial stream, as in
# a pipe).  assert_fails STATUS MESSAGE ARGS...
assert_fails() {
    assert_exit cm-clean "$@"
}

# ---- parsing -------------------------------------------------------------------

@test "header, quoted delimiter and newline, doubled quotes, CRLF, BOM, '   10' is a number" {
    # quoted-crlf-bom.csv: a UTF-8 BOM, CRLF line ends, a CRLF inside quotes.
    printf '%s\n' 'id,name,val' '1,"a, b",10' "2,\"line1${CR}" 'line2",10' \
        '3,"say ""hi""",7' >want.csv
    cleaned "$M/quoted-crlf-bom.csv" >got.csv
    diff -u want.csv got.csv
    # The header's first name is 'id', not a BOM-prefixed one; val is a number.
    cm-cat --info out.cmt >info
    grep -qx '  1 id f64 feature' info
    grep -qx '  3 val f64 feature' info
    grep -qx '    type.val=num' info
}

@test "--no-header names the columns col1 col2 ...; line numbers count the first line" {
    printf '%s\n' '2026-01-01 00:00,1,a' '2026-01-01 01:00,2,b' >nh.csv
    assert_clean --no-header nh.csv <<'EOF'
col1,col2,col3
2026-01-01T00:00:00Z,1,a
2026-01-01T01:00:00Z,2,b
EOF
    # With a header, an empty name becomes colN too.
    printf '%s\n' 'a, ,"",d' '1,2,3,4' >empty-names.csv
    assert_clean empty-names.csv <<'EOF'
a,col2,col3,d
1,2,3,4
EOF
    printf '%s\n' '2026-01-01 00:00,1,a' '2026-01-01 01:00,x,b' >nh2.csv
    assert_fails 1 "cm-clean: nh2.csv:2: column 'col2': 'x' is not a number" \
        --no-header --sample 1 nh2.csv
}

@test "the delimiter is guessed among , ; tab | and recorded in the recipe" {
    for d in ',' ';' $'\t' '|'; do
        printf 'a%sb%sc\n1%s"x, y"%s2\n3%sz%s4\n' "$d" "$d" "$d" "$d" "$d" "$d" >in.csv
        assert_clean in.csv <<'EOF'
a,b,c
1,"x, y",2
3,z,4
EOF
        want=$d
        [ "$d" = $'\t' ] && want=tab
        cm-cat --info out.cmt | grep -qx "    delimiter=$want"
    done
}

@test "-d gives the delimiter instead of the guess" {
    printf '%s\n' 'a,b|c' '1,2|3' >in.csv
    assert_clean -d '|' in.csv <<'EOF'
"a,b",c
"1,2",3
EOF
    printf '%s\n' 'a;b' '1;2' >semi.csv
    assert_clean -d , semi.csv <<'EOF'
a;b
1;2
EOF
    printf 'a\tb\n1\t2\n' >tab.csv
    assert_clean -d tab tab.csv <<'EOF'
a,b
1,2
EOF
    assert_fails 2 "cm-clean: --delimiter: 'x' is not one of , ; tab | auto
Try 'cm-clean --help' for more information." -d x in.csv
}

@test "--decimal , reads 2,5 in a semicolon file; without it the column is text" {
    printf '%s\n' 'a;b' '1;2,5' '2;-3,75' >s.csv
    assert_clean --decimal , s.csv <<'EOF'
a,b
1,2.5
2,-3.75
EOF
    cm-cat --info out.cmt | grep -qx '  2 b f64 feature'
    assert_clean s.csv <<'EOF'
a,b
1,"2,5"
2,"-3,75"
EOF
    cm-cat --info out.cmt | grep -qx '  2 b cat feature categories=2'
    assert_fails 2 "cm-clean: the decimal mark cannot be the delimiter" --decimal , -d , s.csv
}

@test "messages name the physical line, counting newlines inside quotes" {
    assert_fails 1 "cm-clean: $M/linenos.csv:7: column 'temp': 'abc' is not a number" \
        -t temp=num "$M/linenos.csv"
    # Without a type the column is text and every row is kept.
    assert_clean "$M/linenos.csv" <<'EOF'
station,temp,note
s1,1.5,plain
s2,2.5,"two
lines"
s3,3.5,"three
lines, with a comma"
s4,abc,after
s5,5.5,last
EOF
}

# ---- types ---------------------------------------------------------------------

@test "inference: numbers, categories, times; 007 and zip codes stay categorical" {
    printf '%s\n' 't,code,zip,n,z,w' \
        '2026-01-01 00:00,007,02134,1,0.5,Clear' \
        '2026-01-01 01:00,012,10001,-2,0,Rain' >in.csv
    assert_clean in.csv <<'EOF'
t,code,zip,n,z,w
2026-01-01T00:00:00Z,007,02134,1,0.5,Clear
2026-01-01T01:00:00Z,012,10001,-2,0,Rain
EOF
    cm-cat --info out.cmt | sed -n '/^columns:/,/^recipe:/p' >got
    cat >want <<'EOF'
columns: 6
  1 t time time tz=UTC
  2 code cat feature categories=2
  3 zip cat feature categories=2
  4 n f64 feature
  5 z f64 feature
  6 w cat feature categories=2
recipe: 1 steps
EOF
    diff -u want got
}

@test "--type COL=num|cat|time|skip overrides inference" {
    printf '%s\n' 'code,zip,n,when' '007,02134,1,2026-01-01' '08,10001,2,2026-01-02' >in.csv
    assert_clean -t code=num -t n=cat -t zip=skip --type when=time in.csv <<'EOF'
code,n,when
7,1,2026-01-01T00:00:00Z
8,2,2026-01-02T00:00:00Z
EOF
    cm-cat --info out.cmt | sed -n '/^columns:/,/^recipe:/p' >got
    # Without --time, the first time column (typed or inferred) is the rows' time.
    printf '%s\n' 'columns: 3' '  1 code f64 feature' '  2 n cat feature categories=2' \
        '  3 when time time tz=UTC' 'recipe: 1 steps' >want
    diff -u want got
    assert_fails 1 "cm-clean: in.csv:2: column 'code': '007' is not a time" -t code=time in.csv
    assert_fails 2 "cm-clean: --type: 'bogus' is not num, cat, time or skip
Try 'cm-clean --help' for more information." \
        -t code=bogus in.csv
    assert_fails 2 "cm-clean: in.csv: type: no column 'nope' (the columns are 'code', 'zip', 'n', 'when')" \
        -t nope=num in.csv
}

@test "a value against its type after the sample (--sample 2) is a bad value with its line" {
    assert_fails 1 "cm-clean: $M/linenos.csv:7: column 'temp': 'abc' is not a number" \
        --sample 2 "$M/linenos.csv"
    printf '%s\n' 't,v' '2026-01-01 00:00,1' '2026-01-01 01:00,2' 'soon,3' >t.csv
    assert_fails 1 "cm-clean: t.csv:4: column 't': 'soon' is not a time" --sample 2 t.csv
    assert_fails 2 "cm-clean: --sample: '0' is not a positive whole number
Try 'cm-clean --help' for more information." --sample 0 t.csv
}

# ---- time ----------------------------------------------------------------------

@test "--time reads ISO 8601 (T or space, seconds or not, Z, offsets, dates) and US AM/PM" {
    want() {
        printf '%s\n' 't,v'
        for i in 1 2 3 4 5 6; do echo "2026-03-01T10:00:00Z,$i"; done
        printf '%s\n' '2026-03-01T00:00:00Z,7' '2026-03-01T10:00:00Z,8' \
            '2026-03-01T13:30:00Z,9' '2026-03-01T00:00:00Z,10' '2026-03-01T12:15:00Z,11'
    }
    want | assert_clean -q --time t "$M/times.csv"
    # The same without --time: the column is found to be the time.
    want | assert_clean -q "$M/times.csv"
    cm-cat --info out.cmt | grep -qx '  1 t time time tz=UTC'
}

@test "--time reads epoch seconds; without --time they are numbers" {
    printf '%s\n' 't,v' '1772359200,1' '1772362800,2' >e.csv
    assert_clean --time t e.csv <<'EOF'
t,v
2026-03-01T10:00:00Z,1
2026-03-01T11:00:00Z,2
EOF
    assert_clean e.csv <<'EOF'
t,v
1772359200,1
1772362800,2
EOF
    # An epoch is an instant: a zone does not move it.
    assert_clean --time t --tz Europe/Berlin e.csv <<'EOF'
t,v
2026-03-01T10:00:00Z,1
2026-03-01T11:00:00Z,2
EOF
}

@test "--time-format reads the forms the guesser does not" {
    printf '%s\n' 'when,v' '01.03.2026 10h05,1' '31.12.2025 23h59,2' >f.csv
    assert_fails 1 "cm-clean: f.csv:2: column 'when': '01.03.2026 10h05' is not a time" --time when f.csv
    assert_clean --time when --time-format '%d.%m.%Y %Hh%M' f.csv <<'EOF'
when,v
2026-03-01T10:05:00Z,1
2025-12-31T23:59:00Z,2
EOF
    cm-cat --info out.cmt | grep -qx '    time-format=%d.%m.%Y %Hh%M'
    printf '%s\n' 't,v' '1772359200,1' >e.csv
    assert_clean -T t --time-format '%s' e.csv <<'EOF'
t,v
2026-03-01T10:00:00Z,1
EOF
    printf '%s\n' 't,v' '03/01/2026 01:30:00 PM,1' >p.csv
    assert_clean -T t --time-format '%m/%d/%Y %I:%M:%S %p' p.csv <<'EOF'
t,v
2026-03-01T13:30:00Z,1
EOF
    assert_fails 2 "cm-clean: time format '%Q': unknown directive '%Q'" --time-format '%Q' p.csv
}

@test "--time year,month,day,hour composes numeric parts into one time column" {
    printf '%s\n' 'year,month,day,hour,v' '2026,3,1,0,1' '2026,3,1,23,2' '2024,2,29,5,3' >p.csv
    assert_clean --time year,month,day,hour p.csv <<'EOF'
time,v
2026-03-01T00:00:00Z,1
2026-03-01T23:00:00Z,2
2024-02-29T05:00:00Z,3
EOF
    printf '%s\n' 'year,month,day,hour,v' '2026,2,30,0,1' >bad.csv
    assert_fails 1 "cm-clean: bad.csv:2: column 'year': '2026 2 30 0' is not a valid date and time" \
        --time year,month,day,hour bad.csv
}

@test "--time Date,Time --time-format '%d/%m/%Y %H.%M.%S' (air quality style)" {
    assert_clean --time Date,Time --time-format '%d/%m/%Y %H.%M.%S' --decimal , \
        "$M/airquality.csv" <<'EOF'
time,CO(GT),T,RH
2004-03-10T18:00:00Z,2.5,13.5,48.9
2004-03-10T19:00:00Z,-200,13.5,47.7
2004-03-10T20:00:00Z,2,-200,54
2004-03-10T21:00:00Z,2,11.5,60
EOF
}

@test "--tz Europe/Berlin turns naive times to UTC across both DST changes" {
    assert_clean --tz Europe/Berlin "$M/berlin-dst.csv" <<'EOF'
time,load
2026-03-28T23:00:00Z,10
2026-03-29T00:00:00Z,11
2026-03-29T01:00:00Z,13
2026-03-29T02:00:00Z,14
2026-10-24T23:00:00Z,20
2026-10-25T00:00:00Z,21
2026-10-25T02:00:00Z,22
EOF
    cm-cat --info out.cmt >info
    grep -qx '  1 time time time tz=Europe/Berlin' info
    grep -qx '    tz=Europe/Berlin' info
    # Offsets in the text win over the zone; a local time in the spring gap
    # moves forward, an ambiguous one takes the earlier instant.
    printf '%s\n' 't,v' '2026-03-29T12:00:00+00:00,1' '2026-03-29 02:30,2' '2026-10-25 02:30,3' >g.csv
    assert_clean --tz Europe/Berlin g.csv <<'EOF'
t,v
2026-03-29T12:00:00Z,1
2026-03-29T01:30:00Z,2
2026-10-25T00:30:00Z,3
EOF
    assert_fails 2 "cm-clean: unknown time zone 'Mars/Olympus'" --tz Mars/Olympus g.csv
}

@test "bike data: --time dteday,hr gives 688 hourly UTC rows" {
    cleaned --time dteday,hr "$DATA/bike-2011-01.csv" >got.csv
    [ "$(wc -l <got.csv)" -eq 689 ]
    [ "$(sed -n 1p got.csv)" = 'instant,time,season,yr,mnth,holiday,weekday,workingday,weathersit,temp,atemp,hum,windspeed,casual,registered,cnt' ]
    [ "$(sed -n 2p got.csv)" = '1,2011-01-01T00:00:00Z,1,0,1,0,6,0,1,0.24,0.2879,0.81,0,3,13,16' ]
    [ "$(sed -n 3p got.csv)" = '2,2011-01-01T01:00:00Z,1,0,1,0,6,0,1,0.22,0.2727,0.8,0,8,32,40' ]
    [ "$(tail -n 1 got.csv)" = '688,2011-01-31T23:00:00Z,1,0,1,0,1,1,2,0.16,0.197,0.64,0.0896,2,15,17' ]
    # Every time on the hour, strictly increasing, and the hour is hr's.
    tail -n +2 got.csv | cut -d, -f2 >times
    [ "$(grep -cv '^2011-01-[0-3][0-9]T[0-2][0-9]:00:00Z$' times)" -eq 0 ]
    sort -c -u times
    paste -d, <(tail -n +2 "$DATA/bike-2011-01.csv" | cut -d, -f2,6) times |
        awk -F, '{ if (sprintf("%sT%02d:00:00Z", $1, $2) != $3) { print "line " NR ": " $0; bad = 1 } } END { exit bad }'
}

# ---- missing values -------------------------------------------------------------

@test "default missing markers: empty NA N/A NaN nan null NULL - (trimmed); -5 is a number" {
    printf '%s\n' 'id,a' '1,' '2,NA' '3,N/A' '4,NaN' '5,nan' '6,null' '7,NULL' '8,-' \
        '9,5' '10, NA ' '11,-5' >m.csv
    assert_clean -q m.csv <<'EOF'
id,a
9,5
11,-5
EOF
    assert_clean --missing keep m.csv <<'EOF'
id,a
1,
2,
3,
4,
5,
6,
7,
8,
9,5
10,
11,-5
EOF
    cm-cat --info out.cmt | grep -qx '  2 a f64 feature'
}

@test "--na -200 matches -200 and -200.0, and -200,0 with --decimal ," {
    printf '%s\n' 'id,a' '1,-200' '2,-200.0' '3,-200.5' '4,7' >n.csv
    assert_clean n.csv <<'EOF'
id,a
1,-200
2,-200
3,-200.5
4,7
EOF
    assert_clean --na -200 -m keep n.csv <<'EOF'
id,a
1,
2,
3,-200.5
4,7
EOF
    assert_clean --na=-999,-200 n.csv <<'EOF'
id,a
3,-200.5
4,7
EOF
    printf '%s\n' 'id;a' '1;-200,0' '2;-200' '3;-200,5' >c.csv
    assert_clean --decimal , --na -200 -m keep c.csv <<'EOF'
id,a
1,
2,
3,-200.5
EOF
    # The air quality file: -200 and -200,0 are gone, rows with them dropped.
    assert_clean --time Date,Time --time-format '%d/%m/%Y %H.%M.%S' --decimal , --na -200 \
        "$M/airquality.csv" <<'EOF'
time,CO(GT),T,RH
2004-03-10T18:00:00Z,2.5,13.5,48.9
2004-03-10T21:00:00Z,2,11.5,60
EOF
}

@test "--missing drop (default) and keep" {
    want_drop='t,a,b,w
2026-01-01T00:00:00Z,10,1,x'
    assert_clean -q "$M/gaps.csv" <<<"$want_drop"
    assert_clean -q -m drop "$M/gaps.csv" <<<"$want_drop"
    assert_clean --missing=keep "$M/gaps.csv" <<'EOF'
t,a,b,w
2026-01-01T00:00:00Z,10,1,x
2026-01-01T01:00:00Z,,2,
2026-01-01T02:00:00Z,20,,y
2026-01-01T03:00:00Z,,4,
2026-01-01T05:00:00Z,,5,z
2026-01-01T06:00:00Z,40,,
2026-01-01T07:00:00Z,,,
EOF
    assert_fails 2 "cm-clean: --missing: 'bogus' is not drop, keep, ffill, interpolate, zero or value:X
Try 'cm-clean --help' for more information." \
        -m bogus "$M/gaps.csv"
}

@test "--missing ffill carries the last value forward, numbers and categories" {
    assert_clean -m ffill "$M/gaps.csv" <<'EOF'
t,a,b,w
2026-01-01T00:00:00Z,10,1,x
2026-01-01T01:00:00Z,10,2,x
2026-01-01T02:00:00Z,20,2,y
2026-01-01T03:00:00Z,20,4,y
2026-01-01T05:00:00Z,20,5,z
2026-01-01T06:00:00Z,40,5,z
2026-01-01T07:00:00Z,40,5,z
EOF
}

@test "--missing interpolate is linear in time, uneven spacing too; no value after: dropped" {
    # a: 10 at 00:00, 20 at 02:00 -> 15 at 01:00; 20 at 02:00, 40 at 06:00
    # -> 25 at 03:00 and 35 at 05:00.  Categories are forward-filled.
    assert_clean -m interpolate "$M/gaps.csv" <<'EOF'
t,a,b,w
2026-01-01T00:00:00Z,10,1,x
2026-01-01T01:00:00Z,15,2,x
2026-01-01T02:00:00Z,20,3,y
2026-01-01T03:00:00Z,25,4,y
2026-01-01T05:00:00Z,35,5,z
EOF
    # Without a time column, by row.
    printf '%s\n' 'v' '10' 'NA' 'NA' '40' >r.csv
    assert_clean -m interpolate r.csv <<'EOF'
v
10
20
30
40
EOF
    # In UTC: 01:00 and 03:00 in Berlin on the day of the spring change
    # are one hour apart.
    printf '%s\n' 't,v' '2026-03-29 01:00,10' '2026-03-29 03:00,' '2026-03-29 04:00,30' >b.csv
    assert_clean --tz Europe/Berlin -m interpolate b.csv <<'EOF'
t,v
2026-03-29T00:00:00Z,10
2026-03-29T01:00:00Z,20
2026-03-29T02:00:00Z,30
EOF
    assert_clean -m interpolate "$M/airquality.csv" --time Date,Time \
        --time-format '%d/%m/%Y %H.%M.%S' --decimal , --na -200 <<'EOF'
time,CO(GT),T,RH
2004-03-10T18:00:00Z,2.5,13.5,48.9
2004-03-10T19:00:00Z,2.25,13.5,47.7
2004-03-10T20:00:00Z,2,12.5,54
2004-03-10T21:00:00Z,2,11.5,60
EOF
}

@test "--missing COL=POLICY per column, the rest by the default" {
    assert_clean -q -m a=interpolate -m b=ffill "$M/gaps.csv" <<'EOF'
t,a,b,w
2026-01-01T00:00:00Z,10,1,x
2026-01-01T02:00:00Z,20,2,y
2026-01-01T05:00:00Z,35,5,z
EOF
    assert_clean -m interpolate -m b=keep --missing w=keep "$M/gaps.csv" <<'EOF'
t,a,b,w
2026-01-01T00:00:00Z,10,1,x
2026-01-01T01:00:00Z,15,2,
2026-01-01T02:00:00Z,20,,y
2026-01-01T03:00:00Z,25,4,
2026-01-01T05:00:00Z,35,5,z
2026-01-01T06:00:00Z,40,,
EOF
    assert_fails 2 "cm-clean: $M/gaps.csv: column 'w': only numbers can be interpolated" \
        -m w=interpolate "$M/gaps.csv"
    assert_fails 2 "cm-clean: --missing: 'bogus' is not drop, keep, ffill, interpolate, zero or value:X
Try 'cm-clean --help' for more information." \
        -m a=bogus "$M/gaps.csv"
}

@test "--max-gap: a gap longer than allowed is not filled, and the row is dropped" {
    # a: 10 at 00:00, missing at 01:00, 20 at 02:00 (a 2h gap), missing at
    # 03:00 and 11:00, 50 at 12:00 (a 10h gap), missing at 13:00.
    printf '%s\n' 't,a' '2026-01-01 00:00,10' '2026-01-01 01:00,' '2026-01-01 02:00,20' \
        '2026-01-01 03:00,' '2026-01-01 11:00,' '2026-01-01 12:00,50' '2026-01-01 13:00,' >g.csv
    assert_clean -m interpolate g.csv <<'EOF'
t,a
2026-01-01T00:00:00Z,10
2026-01-01T01:00:00Z,15
2026-01-01T02:00:00Z,20
2026-01-01T03:00:00Z,23
2026-01-01T11:00:00Z,47
2026-01-01T12:00:00Z,50
EOF
    assert_clean -m interpolate --max-gap 2h g.csv <<'EOF'
t,a
2026-01-01T00:00:00Z,10
2026-01-01T01:00:00Z,15
2026-01-01T02:00:00Z,20
2026-01-01T12:00:00Z,50
EOF
    assert_clean -m ffill --max-gap 2h g.csv <<'EOF'
t,a
2026-01-01T00:00:00Z,10
2026-01-01T01:00:00Z,10
2026-01-01T02:00:00Z,20
2026-01-01T03:00:00Z,20
2026-01-01T12:00:00Z,50
2026-01-01T13:00:00Z,50
EOF
    assert_fails 2 "cm-clean: --max-gap: '2x' is not a duration like 2h
Try 'cm-clean --help' for more information." --max-gap 2x g.csv
}

@test "--max-gap does not change type inference (the sample size)" {
    printf '%s\n' 't,a' '2026-01-01 00:00,5' '2026-01-01 01:00,abc' >s.csv
    assert_clean -m ffill --max-gap 1 s.csv <<'EOF'
t,a
2026-01-01T00:00:00Z,5
2026-01-01T01:00:00Z,abc
EOF
    cm-cat --info out.cmt | grep -qx '    max-gap=1'
}

@test "population.csv: 20 NaN populations dropped by default, 2524 of 2544 rows kept" {
    cleaned "$DATA/population.csv" >got.csv
    [ "$(wc -l <got.csv)" -eq 2525 ]
    [ "$(head -n 1 got.csv)" = 'state/region,ages,year,population' ]
    cm-cat --info out.cmt | grep -qx '  1 state/region cat feature categories=53'
    cleaned -m keep "$DATA/population.csv" >keep.csv
    [ "$(wc -l <keep.csv)" -eq 2545 ]
    [ "$(grep -c ',$' keep.csv)" -eq 20 ]
    # The kept rows are exactly the input rows without NaN.
    tail -n +2 "$DATA/population.csv" | grep -v ',NaN$' | cmp - <(tail -n +2 got.csv)
}

# ---- ranges and categories -------------------------------------------------------

@test "--range makes readings outside missing, then the policy applies" {
    assert_clean --range temp=-40:60 -m keep "$M/weather.csv" <<'EOF'
time,temp,sky
2026-01-01T00:00:00Z,10,Sky is Clear
2026-01-01T01:00:00Z,," sky is clear "
2026-01-01T02:00:00Z,30,SKY IS CLEAR
2026-01-01T03:00:00Z,,Rain
2026-01-01T04:00:00Z,-40," rain"
EOF
    assert_clean --range temp=-40:60 "$M/weather.csv" <<'EOF'
time,temp,sky
2026-01-01T00:00:00Z,10,Sky is Clear
2026-01-01T02:00:00Z,30,SKY IS CLEAR
2026-01-01T04:00:00Z,-40," rain"
EOF
    assert_clean --range temp=-40:60 -m interpolate "$M/weather.csv" <<'EOF'
time,temp,sky
2026-01-01T00:00:00Z,10,Sky is Clear
2026-01-01T01:00:00Z,20," sky is clear "
2026-01-01T02:00:00Z,30,SKY IS CLEAR
2026-01-01T03:00:00Z,-5,Rain
2026-01-01T04:00:00Z,-40," rain"
EOF
    assert_fails 2 "cm-clean: --range: '60:-40' is not MIN:MAX with MIN <= MAX
Try 'cm-clean --help' for more information." \
        --range temp=60:-40 "$M/weather.csv"
}

@test "--lower COL|all folds case and trims: 'Sky is Clear' and ' sky is clear ' are one category" {
    for l in sky all; do
        assert_clean --lower "$l" "$M/weather.csv" <<'EOF'
time,temp,sky
2026-01-01T00:00:00Z,10,sky is clear
2026-01-01T01:00:00Z,999,sky is clear
2026-01-01T02:00:00Z,30,sky is clear
2026-01-01T03:00:00Z,-50,rain
2026-01-01T04:00:00Z,-40,rain
EOF
        cm-cat --info out.cmt | grep -qx '  3 sky cat feature categories=2'
    done
    cleaned "$M/weather.csv" >/dev/null
    cm-cat --info out.cmt | grep -qx '  3 sky cat feature categories=5'
    assert_fails 2 "cm-clean: $M/weather.csv: lower: no column 'nope' (the columns are 'time', 'temp', 'sky')" \
        --lower nope "$M/weather.csv"
}

# ---- rows ----------------------------------------------------------------------

@test "--sort orders by time, stable for equal times" {
    assert_clean -q --sort "$M/sensors.csv" <<'EOF'
t,sensor,v
2026-01-01T00:00:00Z,A,2
2026-01-01T00:00:00Z,B,5
2026-01-01T01:00:00Z,A,4
2026-01-01T02:00:00Z,A,1
2026-01-01T02:00:00Z,B,3
2026-01-01T02:00:00Z,A,6
EOF
    # Without --sort the file's order stays.
    assert_clean "$M/sensors.csv" <<'EOF'
t,sensor,v
2026-01-01T02:00:00Z,A,1
2026-01-01T00:00:00Z,A,2
2026-01-01T02:00:00Z,B,3
2026-01-01T01:00:00Z,A,4
2026-01-01T00:00:00Z,B,5
2026-01-01T02:00:00Z,A,6
EOF
}

@test "--dedupe first|last: one row per time, or per time and --key" {
    assert_clean -T t -s --dedupe first "$M/sensors.csv" <<'EOF'
t,sensor,v
2026-01-01T00:00:00Z,A,2
2026-01-01T01:00:00Z,A,4
2026-01-01T02:00:00Z,A,1
EOF
    assert_clean -T t -s --dedupe last "$M/sensors.csv" <<'EOF'
t,sensor,v
2026-01-01T00:00:00Z,B,5
2026-01-01T01:00:00Z,A,4
2026-01-01T02:00:00Z,A,6
EOF
    assert_clean -T t -s --dedupe first -k sensor "$M/sensors.csv" <<'EOF'
t,sensor,v
2026-01-01T00:00:00Z,A,2
2026-01-01T00:00:00Z,B,5
2026-01-01T01:00:00Z,A,4
2026-01-01T02:00:00Z,A,1
2026-01-01T02:00:00Z,B,3
EOF
    assert_clean -T t -s --dedupe last --key sensor "$M/sensors.csv" <<'EOF'
t,sensor,v
2026-01-01T00:00:00Z,A,2
2026-01-01T00:00:00Z,B,5
2026-01-01T01:00:00Z,A,4
2026-01-01T02:00:00Z,B,3
2026-01-01T02:00:00Z,A,6
EOF
    cm-cat --info out.cmt | grep -qx '  2 sensor cat id categories=2'
    # Input already in order needs no --sort.
    printf '%s\n' 't,v' '2026-01-01 00:00,1' '2026-01-01 00:00,2' '2026-01-01 01:00,3' >o.csv
    assert_clean -T t --dedupe last o.csv <<'EOF'
t,v
2026-01-01T00:00:00Z,2
2026-01-01T01:00:00Z,3
EOF
}

@test "--dedupe on unsorted input without --sort is an error that mentions --sort" {
    for d in first last; do
        assert_fails 1 "cm-clean: $M/sensors.csv:3: rows are not in time order (2026-01-01T00:00:00Z after 2026-01-01T02:00:00Z): add --sort to remove duplicates" \
            -T t --dedupe "$d" "$M/sensors.csv"
    done
    assert_fails 2 "cm-clean: --dedupe: 'middle' is not first, last or no
Try 'cm-clean --help' for more information." \
        -T t --dedupe middle "$M/sensors.csv"
    assert_fails 2 "cm-clean: $M/sensors.csv: key: no column 'station' (the columns are 't', 'sensor', 'v')" \
        -T t -s --dedupe first -k station "$M/sensors.csv"
}

@test "--missing with --key fills within each series" {
    printf '%s\n' 't,s,v' '2026-01-01 00:00,A,10' '2026-01-01 00:00,B,100' '2026-01-01 01:00,A,' \
        '2026-01-01 01:00,B,' '2026-01-01 02:00,A,30' '2026-01-01 03:00,B,400' >k.csv
    assert_clean -k s -m interpolate k.csv <<'EOF'
t,s,v
2026-01-01T00:00:00Z,A,10
2026-01-01T00:00:00Z,B,100
2026-01-01T01:00:00Z,A,20
2026-01-01T01:00:00Z,B,200
2026-01-01T02:00:00Z,A,30
2026-01-01T03:00:00Z,B,400
EOF
    assert_clean -k s -m ffill k.csv <<'EOF'
t,s,v
2026-01-01T00:00:00Z,A,10
2026-01-01T00:00:00Z,B,100
2026-01-01T01:00:00Z,A,10
2026-01-01T01:00:00Z,B,100
2026-01-01T02:00:00Z,A,30
2026-01-01T03:00:00Z,B,400
EOF
}

@test "--columns and --drop choose the columns; the --time column cannot be dropped" {
    assert_clean -c v "$M/sensors.csv" <<'EOF'
v
1
2
3
4
5
6
EOF
    assert_clean -T t --columns v "$M/sensors.csv" <<'EOF'
t,v
2026-01-01T02:00:00Z,1
2026-01-01T00:00:00Z,2
2026-01-01T02:00:00Z,3
2026-01-01T01:00:00Z,4
2026-01-01T00:00:00Z,5
2026-01-01T02:00:00Z,6
EOF
    cm-cat --info out.cmt | grep -qx '    type.sensor=skip'
    assert_clean --drop t,sensor "$M/sensors.csv" <<'EOF'
v
1
2
3
4
5
6
EOF
    assert_clean --drop sensor -c t,sensor,v "$M/sensors.csv" <<'EOF'
t,v
2026-01-01T02:00:00Z,1
2026-01-01T00:00:00Z,2
2026-01-01T02:00:00Z,3
2026-01-01T01:00:00Z,4
2026-01-01T00:00:00Z,5
2026-01-01T02:00:00Z,6
EOF
    # A --time column cannot be dropped: that is a usage error.
    assert_fails 2 "cm-clean: $M/sensors.csv: column 't' makes up the time (--time) and cannot be dropped" \
        -T t --drop t,sensor "$M/sensors.csv"
    assert_fails 2 "cm-clean: $M/sensors.csv: columns: no column 'nope' (the columns are 't', 'sensor', 'v')" \
        -c nope "$M/sensors.csv"
    assert_fails 2 "cm-clean: $M/sensors.csv: drop: no column 'nope' (the columns are 't', 'sensor', 'v')" \
        --drop nope "$M/sensors.csv"
    assert_fails 2 "cm-clean: $M/sensors.csv: no columns left to write" \
        --drop t,sensor,v "$M/sensors.csv"
}

@test "--bad-rows fail (default) stops at the first bad row; skip counts them (-v)" {
    printf '%s\n' 't,v,w' '2026-01-01 00:00,1,a' '2026-01-01 01:00,2' '2026-01-01 02:00,x,b' \
        '2026-01-01 03:00,4,c' '2026-01-01 04:00,5,d,e' 'not a time,6,f' '2026-01-01 06:00,7,g' >bad.csv
    assert_fails 1 "cm-clean: bad.csv:3: expected 3 fields, found 2" --sample 1 bad.csv
    assert_fails 1 "cm-clean: bad.csv:3: expected 3 fields, found 2" --sample 1 --bad-rows fail bad.csv
    run --separate-stderr cm-clean --sample 1 --bad-rows skip -v -o out.cmt bad.csv
    assert_success
    cat >want <<'EOF'
cm-clean: bad.csv: 4 of 7 rows dropped: 4 unreadable (bad-rows skip), the first at line 3: expected 3 fields, found 2
rows read: 7
rows written: 3
rows dropped: 4 bad, 0 missing time, 0 duplicate, 0 missing values
  bad row: line 3: expected 3 fields, found 2
  bad row: line 4: column 'v': 'x' is not a number
  bad row: line 6: expected 3 fields, found 4
  bad row: line 7: column 't': 'not a time' is not a time
time range: 2026-01-01T00:00:00Z to 2026-01-01T06:00:00Z
EOF
    diff -u want <(printf '%s\n' "$stderr" | sed -n 1,9p)
    cm-cat out.cmt >got.csv
    printf '%s\n' 't,v,w' '2026-01-01T00:00:00Z,1,a' '2026-01-01T03:00:00Z,4,c' \
        '2026-01-01T06:00:00Z,7,g' | diff -u - got.csv
    assert_fails 2 "cm-clean: --bad-rows: 'maybe' is not fail or skip
Try 'cm-clean --help' for more information." --bad-rows maybe bad.csv
}

@test "-S 1M --sort spills runs to disk and gives the same output as in memory and as sort(1)" {
    # 100000 rows at random hours of 20 days, many equal times; seq is the
    # row's place in the file, to see that equal times keep their order.
    # (Below 1 MiB the buffer is raised to 1 MiB, so 1K would not spill.)
    awk 'BEGIN {
        srand(1); print "t,seq,v"
        for (i = 0; i < 100000; i++)
            printf "2026-01-%02dT%02d:00:00Z,%d,%d\n", 1 + int(rand() * 20), int(rand() * 24), i, int(rand() * 1000) - 500
    }' >big.csv
    { head -n 1 big.csv; tail -n +2 big.csv | LC_ALL=C sort -s -t, -k1,1; } >want.csv
    cleaned -q --sort big.csv >mem.csv
    diff -u want.csv mem.csv
    mkdir spill
    run --separate-stderr cm-clean --sort -S 1K --tmpdir spill -v -o out.cmt big.csv
    assert_success
    cm-cat out.cmt >spilled.csv
    cmp want.csv spilled.csv
    # Ascending times, and ascending seq within one time.
    tail -n +2 spilled.csv | awk -F, 'NR > 1 && ($1 < t || ($1 == t && $2 <= s)) { bad = 1 } { t = $1; s = $2 } END { exit bad }'
    [ "$(wc -l <spilled.csv)" -eq 100001 ]
    # Runs were spilled, and removed.
    runs=$(printf '%s\n' "$stderr" | sed -n 's/^sort: \([0-9]*\) runs spilled to disk$/\1/p')
    [ -n "$runs" ]
    [ "$runs" -ge 2 ]
    [ -z "$(ls -A spill)" ]
    # The same with duplicates removed on the way out of the merge.
    cleaned -T t --sort --dedupe last big.csv >m.csv
    cleaned -T t --sort -S 1K --dedupe last big.csv >s.csv
    cmp m.csv s.csv
    [ "$(wc -l <s.csv)" -eq "$(tail -n +2 big.csv | cut -d, -f1 | sort -u | wc -l | awk '{ print $1 + 1 }')" ]
    assert_fails 2 "cm-clean: --buffer-size: 'lots' is not a size like 256M
Try 'cm-clean --help' for more information." -S lots big.csv
}

@test "40000 rows (several batches): drop, ffill, interpolate, skipped bad rows match awk references" {
    # t: one row a minute; v = 2 * minute, sometimes empty or NA, and 'bad'
    # in a few rows after the sample; w: a, b or c, sometimes NA.
    awk 'BEGIN {
        srand(7); print "t,v,w"
        for (i = 0; i < 40000; i++) {
            t = sprintf("2026-01-%02dT%02d:%02d:00Z", 1 + int(i / 1440), int(i % 1440 / 60), i % 60)
            r = rand(); v = r < 0.05 ? "" : r < 0.07 ? "NA" : 2 * i
            if (i % 6997 == 1500) v = "bad"
            r = rand(); w = r < 0.03 ? "NA" : substr("abc", 1 + int(rand() * 3), 1)
            print t "," v "," w
        }
    }' >big.csv
    cleaned --bad-rows skip big.csv >got.csv
    awk -F, 'NR == 1 { print; next } $2 == "bad" { next }
        $2 == "" || $2 == "NA" || $3 == "NA" { next } { print }' big.csv | cmp - got.csv
    [ "$(wc -l <got.csv)" -gt 30000 ]
    cleaned --bad-rows skip -m ffill big.csv >got.csv
    awk -F, 'NR == 1 { print; next } $2 == "bad" { next }
        { if ($2 == "" || $2 == "NA") { if (lv == "") next; $2 = lv } else lv = $2
          if ($3 == "NA") { if (lw == "") next; $3 = lw } else lw = $3
          print $1 "," $2 "," $3 }' big.csv | cmp - got.csv
    # Interpolated in time, v is 2 * minute again (compared to 1e-6).
    cleaned --bad-rows skip -m interpolate big.csv |
        awk -F, 'NR == 1 { print; next } { printf "%s,%.6f,%s\n", $1, $2, $3 }' >got.csv
    awk -F, 'NR == 1 { print; next } $2 == "bad" { next }
        { split($1, a, /[-T:]/); i = (a[3] - 1) * 1440 + a[4] * 60 + a[5]
          if ($3 == "NA") { if (lw == "") next; $3 = lw } else lw = $3
          row[++n] = sprintf("%s,%.6f,%s", $1, 2 * i, $3); miss[n] = $2 == "" || $2 == "NA" }
        END { for (k = 1; k <= n; k++) if (!miss[k]) { if (!first) first = k; last = k }
              for (k = first; k <= last; k++) print row[k] }' big.csv | cmp - got.csv
    [ "$(wc -l <got.csv)" -gt 39000 ]
}

# ---- report and recipe -------------------------------------------------------------

@test "-v prints the summary on stderr; without -v cm-clean is silent" {
    run --separate-stderr cm-clean -m keep -o out.cmt "$M/gaps.csv"
    assert_success
    [ -z "$output" ]
    [ -z "$stderr" ]
    run --separate-stderr cm-clean -v -o out.cmt --range a=0:15 "$M/gaps.csv"
    assert_success
    [ -z "$output" ]
    cat >want <<EOF
cm-clean: $M/gaps.csv: 6 of 7 rows dropped: 6 missing a value, most often 'a' (6 rows; -v says more)
rows read: 7
rows written: 1
rows dropped: 0 bad, 0 missing time, 0 duplicate, 6 missing values
time range: 2026-01-01T00:00:00Z to 2026-01-01T07:00:00Z
columns:
  t: time
  a: num, missing in 6 dropped rows, 2 out of range
  b: num, missing in 3 dropped rows
  w: cat, missing in 4 dropped rows, 3 categories
EOF
    diff -u want <(printf '%s\n' "$stderr")
    run --separate-stderr cm-clean -v --tz Europe/Berlin -o out.cmt "$M/berlin-dst.csv"
    assert_success
    printf '%s\n' "$stderr" | grep -qx 'local times: 1 ambiguous (earlier taken), 0 in a gap (moved forward)'
    printf '%s\n' 't,v' '2026-01-01 00:00,1' ',2' 'NA,3' '2026-01-01 03:00,4' >mt.csv
    run --separate-stderr cm-clean -v -o out.cmt mt.csv
    assert_success
    printf '%s\n' "$stderr" | grep -qx 'rows dropped: 0 bad, 2 missing time, 0 duplicate, 0 missing values'
}

@test "--report FILE.json is valid JSON with the right counts" {
    run --separate-stderr cm-clean -m ffill -m a=interpolate --range b=0:4.5 --report rep.json \
        -o out.cmt "$M/gaps.csv"
    assert_success
    [ -z "$stderr" ]
    python3 -m json.tool rep.json >/dev/null
    python3 - rep.json >got <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("rows_read", "rows_written", "bad_rows", "missing_time", "duplicates",
          "dropped_missing", "time_min", "time_max", "tz", "tz_ambiguous", "tz_gap"):
    print(k, r[k])
for c in r["columns"]:
    print(c["name"], c["type"], c["dropped_missing"], c["out_of_range"], c["filled"],
          c.get("categories"))
print(r["bad_row_notes"])
EOF
    cat >want <<'EOF'
rows_read 7
rows_written 6
bad_rows 0
missing_time 0
duplicates 0
dropped_missing 1
time_min 2026-01-01T00:00:00Z
time_max 2026-01-01T07:00:00Z
tz UTC
tz_ambiguous 0
tz_gap 0
t time 0 0 0 None
a num 1 0 3 None
b num 0 1 4 None
w cat 0 0 4 3
[]
EOF
    diff -u want got
    # With skipped bad rows and a zone.
    printf '%s\n' 't,v' '2026-10-25 02:30,1' '2026-10-25 03:00' '2026-03-29 02:30,3' >z.csv
    cm-clean --sample 1 --tz Europe/Berlin --bad-rows skip --report rep2.json z.csv >/dev/null
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["rows_read"], r["rows_written"], r["bad_rows"], r["bad_row_notes"], r["tz"], r["tz_ambiguous"], r["tz_gap"], r["time_min"], r["time_max"])' rep2.json >got
    echo "3 2 1 ['line 3: expected 2 fields, found 1'] Europe/Berlin 1 1 2026-03-29T01:30:00Z 2026-10-25T00:30:00Z" | diff -u - got
}

@test "a value cut short in a message keeps whole UTF-8 characters (stderr, -v, --report)" {
    # 39 x's and an é (2 bytes): messages quote the first 40 bytes.
    printf '%s\n' 't,v' '2026-01-01 00:00,1' "2026-01-01 01:00,$(printf 'x%.0s' {1..39})é" >cut.csv
    utf8() { python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")'; }
    run --separate-stderr bash -c 'cm-clean --sample 1 cut.csv >/dev/null'
    [ "$status" -eq 1 ]
    [[ "$stderr" == "cm-clean: cut.csv:3: column 'v': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"* ]]
    printf '%s' "$stderr" | utf8
    cleaned --sample 1 --bad-rows skip --report rep.json cut.csv >got.csv
    printf '%s\n' t,v 2026-01-01T00:00:00Z,1 | diff -u - got.csv
    python3 -m json.tool rep.json >/dev/null
    [ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["bad_rows"])' rep.json)" = 1 ]
    cm-clean --sample 1 --bad-rows skip -v -o out.cmt cut.csv 2>err
    utf8 <err
}

@test "--report stays valid JSON when a skipped row holds invalid UTF-8" {
    cleaned --bad-rows skip --report rep.json "$M/bad-utf8.csv" >got.csv
    printf '%s\n' id,name 1,ok | diff -u - got.csv
    python3 -m json.tool rep.json >/dev/null
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["rows_read"], r["rows_written"], r["bad_rows"], len(r["bad_row_notes"]))' rep.json >got
    echo '2 1 1 1' | diff -u - got
}

@test "the recipe holds a 'clean' step: every setting, type.COL for every input column, time and tz" {
    cleaned --time dteday,hr -m interpolate --drop instant "$DATA/bike-2011-01.csv" >/dev/null
    cm-cat --info out.cmt | sed -n '/^recipe:/,$p' >got
    cat >want <<'EOF'
recipe: 1 steps
  1 clean
    time=dteday,hr
    missing=interpolate
    drop=instant
    delimiter=,
    tz=UTC
    type.instant=skip
    type.dteday=time
    type.season=num
    type.yr=num
    type.mnth=num
    type.hr=time
    type.holiday=num
    type.weekday=num
    type.workingday=num
    type.weathersit=num
    type.temp=num
    type.atemp=num
    type.hum=num
    type.windspeed=num
    type.casual=num
    type.registered=num
    type.cnt=num
EOF
    diff -u want got
    cleaned --tz Europe/Berlin --lower sky --range temp=-40:60 "$M/weather.csv" >/dev/null
    cm-cat --info out.cmt | sed -n '/^recipe:/,$p' >got
    printf '%s\n' 'recipe: 1 steps' '  1 clean' '    tz=Europe/Berlin' '    lower=sky' \
        '    range.temp=-40:60' '    delimiter=,' '    time=time' '    type.time=time' \
        '    type.temp=num' '    type.sky=cat' | diff -u - got
}

# ---- output --------------------------------------------------------------------

@test "-o FILE: replaced only on success; on failure the old file stays" {
    mkdir o
    echo old >o/out.cmt
    run --separate-stderr cm-clean -o o/out.cmt "$M/linenos.csv" -t temp=num
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: $M/linenos.csv:7: column 'temp': 'abc' is not a number" ]
    [ "$(cat o/out.cmt)" = old ]
    [ "$(ls -A o)" = out.cmt ]
    run --separate-stderr cm-clean -o o/out.cmt "$M/sensors.csv"
    assert_success
    [ -z "$output" ]
    [ -z "$stderr" ]
    [ "$(ls -A o)" = out.cmt ]
    [ "$(cm-cat --head 1 o/out.cmt)" = 't,sensor,v
2026-01-01T02:00:00Z,A,1' ]
}

@test "binary output to a terminal is refused (exit 2), -F and -o are fine" {
    if ! command -v script >/dev/null 2>&1 || ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
        skip "script (util-linux) with -e is not available"
    fi
    cp "$M/sensors.csv" s.csv
    run script -qec 'cm-clean s.csv' /dev/null </dev/null
    [ "$status" -eq 2 ]
    [ "$output" = "cm-clean: refusing to write binary data to a terminal (redirect it, use -o FILE, or force with -F)${CR}
Try 'cm-clean --help' for more information.${CR}" ]
    run script -qec 'cm-clean -o x.cmt s.csv' /dev/null </dev/null
    assert_success
    [ -z "$output" ]
    cm-cat x.cmt | diff - <(cm-clean s.csv | cm-cat)
    run script -qec 'cm-clean -F s.csv' /dev/null </dev/null
    assert_success
    [[ "$output" == *CMT* ]]
}

@test "--help, --version, unknown options and two inputs" {
    run --separate-stderr cm-clean --help
    assert_success
    [ -z "$stderr" ]
    [ "${lines[0]}" = 'Usage: cm-clean [OPTION]... [FILE]' ]
    [ "${lines[-1]}" = 'See cm-clean(1).' ]
    run --separate-stderr cm-clean -V
    assert_success
    [ "$output" = "cm-clean (cm) $CM_VERSION" ]
    assert_fails 2 "cm-clean: unrecognized option '--bogus'
Try 'cm-clean --help' for more information." --bogus
    assert_fails 2 "cm-clean: one input at most (got 2)
Try 'cm-clean --help' for more information." a.csv b.csv
    assert_fails 1 "cm-clean: nofile.csv: No such file or directory" nofile.csv
}

# ---- bad input -----------------------------------------------------------------

@test "unterminated quote: the message names the line the record began on" {
    printf '%s\n' 'a,b' '1,x' '2,"abc' '3,y' '4,z' >uq.csv
    assert_fails 1 "cm-clean: uq.csv:3: unterminated quoted field (the record begins here)" uq.csv
    printf '%s\n' 'a,b' '1,x' '2,ab"c' >mq.csv
    assert_fails 1 "cm-clean: mq.csv:3: malformed CSV: a quote inside an unquoted field, or text after a closing quote" mq.csv
}

@test "ragged rows: expected N fields, found M, after the sample and inside it" {
    printf '%s\n' 'a,b,c' '1,2,3' '4,5,6,7' >long.csv
    assert_fails 1 "cm-clean: long.csv:3: expected 3 fields, found 4" long.csv
    printf '%s\n' 'a,b,c' '1,2,3' '4,5' '6,7,8' >short.csv
    assert_fails 1 "cm-clean: short.csv:3: expected 3 fields, found 2" --sample 1 short.csv
    # The short row inside the type-inference sample (the default 1000 rows).
    assert_fails 1 "cm-clean: short.csv:3: expected 3 fields, found 2" short.csv
    printf '%s\n' 'a,b,c' '1,2,3' '4' '6,7,8' >one.csv
    assert_fails 1 "cm-clean: one.csv:3: expected 3 fields, found 1" one.csv
}

@test "invalid UTF-8 in a category, a NUL byte" {
    # The bad byte is shown escaped, so the message itself stays UTF-8.
    assert_fails 1 "cm-clean: $M/bad-utf8.csv:3: column 'name': 'caf\\xE9' is not valid UTF-8" \
        "$M/bad-utf8.csv"
    printf 'a,b\n1,x\n2,a\0b\n' >nul.csv
    assert_fails 1 "cm-clean: nul.csv:3: NUL byte in the input (binary data?)" nul.csv
    printf 'a,caf\xe9\n1,2\n' >hdr.csv
    assert_fails 1 "cm-clean: hdr.csv:1: column 2: the name is not valid UTF-8" hdr.csv
}

@test "a field over 1 MiB is refused, quoted or not, with or without newlines" {
    { printf 'a,b\n1,'; head -c 2000000 /dev/zero | tr '\0' x; printf '\n2,y\n'; } >plain.csv
    { printf 'a,b\n1,"'; head -c 2000000 /dev/zero | tr '\0' x; printf '"\n'; } >quoted.csv
    { printf 'a,b\n1,2\n3,"'; head -c 2000000 /dev/zero | tr '\0' '\n'; printf '"\n'; } >lines.csv
    for f in plain quoted; do
        assert_fails 1 "cm-clean: $f.csv:2: a field longer than 1048576 bytes" "$f.csv"
    done
    assert_fails 1 "cm-clean: lines.csv:3: a field longer than 1048576 bytes" lines.csv
    # An unterminated quote at the end of a big file is caught the same way.
    { printf 'a,b\n1,"'; head -c 2000000 /dev/zero | tr '\0' x; } >open.csv
    run --separate-stderr timeout 120 bash -c 'cm-clean open.csv >/dev/null' # a hang guard
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: open.csv:2: a field longer than 1048576 bytes" ]
}

@test "empty input is an error; so is a header alone: no rows is no answer" {
    : >empty.csv
    assert_fails 1 "cm-clean: empty.csv: empty input: no header line" empty.csv
    run --separate-stderr bash -c 'cm-clean </dev/null'
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: (stdin): empty input: no header line" ]
    printf 'a,b\n' >ho.csv
    assert_fails 1 "cm-clean: ho.csv: no data rows after the header" -o ho.cmt ho.csv
    [ ! -e ho.cmt ]
}

@test "duplicate column names" {
    printf '%s\n' 'a,b,a' '1,2,3' >dup.csv
    assert_fails 1 "cm-clean: dup.csv:1: duplicate column name 'a'" dup.csv
    printf '%s\n' 'a, a' '1,2' >dup2.csv
    assert_fails 1 "cm-clean: dup2.csv:1: duplicate column name 'a'" dup2.csv
}

@test "a --time column that does not exist: exit 2, the columns listed" {
    assert_fails 2 "cm-clean: $M/sensors.csv: time: no column 'time' (the columns are 't', 'sensor', 'v')" \
        --time time "$M/sensors.csv"
    assert_fails 2 "cm-clean: $M/sensors.csv: time: no column 'hour' (the columns are 't', 'sensor', 'v')" \
        --time t,hour "$M/sensors.csv"
    assert_fails 2 "cm-clean: $M/sensors.csv: column 'sensor' is both --time and cat" \
        --time sensor -t sensor=cat "$M/sensors.csv"
}

@test "a cm stream or gzip data as input is named in the error" {
    cm-clean "$M/sensors.csv" >s.cmt
    assert_fails 1 "cm-clean: s.cmt: input is a cm stream, not CSV (read it with cm-cat)" s.cmt
    run --separate-stderr bash -c 'cm-clean <s.cmt'
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: (stdin): input is a cm stream, not CSV (read it with cm-cat)" ]
    gzip -c s.cmt >s.cmt.gz
    assert_fails 1 "cm-clean: s.cmt.gz: input is a cm stream, not CSV (read it with cm-cat)" s.cmt.gz
}

# ---- property ------------------------------------------------------------------

@test "property: 200 random CSVs, --missing drop keeps exactly the rows with no missing cell" {
    mkdir p
    # 3-5 numeric columns, 15-25 rows, about one cell in ten empty or NA.
    awk 'BEGIN {
        for (f = 1; f <= 200; f++) {
            srand(f)
            nc = 3 + int(rand() * 3); nr = 15 + int(rand() * 11)
            file = sprintf("p/%03d.csv", f)
            line = "c1"
            for (j = 2; j <= nc; j++) line = line ",c" j
            print line >file
            for (i = 0; i < nr; i++) {
                line = ""
                for (j = 1; j <= nc; j++) {
                    r = rand()
                    v = r < 0.06 ? "" : r < 0.1 ? "NA" : (int(rand() * 4000) - 2000) / 4
                    line = line (j > 1 ? "," : "") v
                }
                print line >file
            }
            close(file)
        }
    }'
    [ "$(ls p | wc -l)" -eq 200 ]
    for f in p/*.csv; do
        echo "# $f"
        cm-clean "$f" >x.cmt
        cm-cat x.cmt
    done >got.csv
    # The reference: a row is kept when none of its cells is empty or NA.
    for f in p/*.csv; do
        echo "# $f"
        awk -F, 'NR == 1 { print; next } { for (j = 1; j <= NF; j++) if ($j == "" || $j == "NA") next; print }' "$f"
    done >want.csv
    diff -u want.csv got.csv
    # Not a vacuous comparison: rows were dropped, and many were kept.
    [ "$(grep -vc '^[#c]' want.csv)" -gt 2000 ]
    [ "$(cat p/*.csv | grep -c -e ',,' -e ',$' -e '^,' -e 'NA')" -gt 500 ]
}

@test "settings that cannot apply are usage errors, not silently ignored" {
    printf '%s\n' 't,station,v,w' '2026-01-01 00:00,A,1,x' '2026-01-01 01:00,B,2,y' >s.csv
    assert_fails 2 "cm-clean: s.csv: range: column 'w' is not a number column" --range w=0:1 s.csv
    assert_fails 2 "cm-clean: s.csv: key: column 'station' is not written as a category (dropped, or --type other than cat)" \
        --key station --drop station s.csv
    assert_fails 2 "cm-clean: s.csv: key: column 'station' is not written as a category (dropped, or --type other than cat)" \
        --key station -t station=num s.csv
    printf '%s\n' 'a,b' '1,2' >nt.csv
    assert_fails 2 "cm-clean: nt.csv: sort needs a time column (--time)" --sort nt.csv
    assert_fails 2 "cm-clean: nt.csv: dedupe needs a time column (--time)" --dedupe first nt.csv
}

@test "--decimal , never guesses the comma as the delimiter" {
    printf '%s\n' 'a;b' '1,5;2,25' '3;4,75' >dc.csv
    assert_clean --decimal , dc.csv <<'OUT'
a,b
1.5,2.25
3,4.75
OUT
}

@test "%b takes a month's three letters or its whole name, nothing else" {
    printf '%s\n' 't,v' '28 Nov 2026,1' '1 December 2026,2' >m.csv
    assert_clean -T t --time-format '%d %b %Y' m.csv <<'OUT'
t,v
2026-11-28T00:00:00Z,1
2026-12-01T00:00:00Z,2
OUT
    printf '%s\n' 't,v' '28 Novxyz 2026,1' >bad.csv
    assert_fails 1 "cm-clean: bad.csv:2: column 't': '28 Novxyz 2026' is not a time" \
        -T t --time-format '%d %b %Y' bad.csv
}

@test "records ended by a bare CR, in a small file and past the 64 KiB read size" {
    printf 'time,c,y\n2024-01-01,a,2\r2024-01-02,"p\nq",4\n' >mixed.csv
    run --separate-stderr bash -c 'cm-clean --type c=cat mixed.csv | cm-cat'
    assert_success
    [ "$output" = $'time,c,y\n2024-01-01T00:00:00Z,a,2\n2024-01-02T00:00:00Z,"p\nq",4' ]
    awk 'BEGIN { printf "t,i,v\r"; for (i = 0; i < 10000; i++) printf "%d,%d,y%d\r", 1700000000 + i * 60, i, 2 * i }' >cr.csv
    run --separate-stderr bash -c 'cm-clean -T t cr.csv | cm-cat | tail -n 1'
    assert_success
    [ "$output" = "2023-11-21T20:52:20Z,9999,y19998" ]
    [ "$(cm-clean -T t cr.csv | cm-cat | wc -l)" -eq 10001 ]
}

# ---- empty answers --------------------------------------------------------------

@test "every row dropped: exit 1 naming the columns empty in all rows, no stream; most dropped: a warning (not with -q)" {
    # A weather export whose flag columns are empty where nothing was seen.
    awk 'BEGIN { print "DATE,TMAX,WT01,WT03"; for (d = 1; d <= 9; d++) printf "2026-01-%02d,%d,,\n", d, d }' >w.csv
    assert_fails 1 "cm-clean: w.csv: every row was dropped: columns 'WT01', 'WT03' are empty in all 9 rows (use --drop WT01,WT03, or --missing COL=zero for each)" -o w.cmt w.csv
    [ ! -e w.cmt ]
    awk 'BEGIN { print "DATE,TMAX,WT01"; for (d = 1; d <= 9; d++) printf "2026-01-%02d,%d,\n", d, d }' >w1.csv
    assert_fails 1 "cm-clean: w1.csv: every row was dropped: column 'WT01' is empty in all 9 rows (use --drop WT01 or --missing WT01=zero)" w1.csv
    # The fix the message offers works.
    assert_clean --missing WT01=zero w1.csv < <(awk 'BEGIN { print "DATE,TMAX,WT01"; for (d = 1; d <= 9; d++) printf "2026-01-%02dT00:00:00Z,%d,0\n", d, d }')
    assert_clean --drop WT01 w1.csv < <(awk 'BEGIN { print "DATE,TMAX"; for (d = 1; d <= 9; d++) printf "2026-01-%02dT00:00:00Z,%d\n", d, d }')
    # Most rows (not all): the output and one line on stderr; -q none.
    awk 'BEGIN { print "DATE,TMAX,WT01"; for (d = 1; d <= 9; d++) printf "2026-01-%02d,%d,%s\n", d, d, (d > 6 ? 1 : "") }' >w3.csv
    run --separate-stderr cm-clean -o w3.cmt w3.csv
    assert_success
    [ "$stderr" = "cm-clean: w3.csv: 6 of 9 rows dropped: 6 missing a value, most often 'WT01' (6 rows; -v says more)" ]
    [ "$(cm-cat w3.cmt | wc -l)" -eq 4 ]
    run --separate-stderr cm-clean -q -o w3.cmt w3.csv
    [ -z "$stderr" ]
    # Rows without a time, and unreadable rows skipped, are reasons too.
    printf '%s\n' t,v ,1 ,2 2026-01-01,3 >nt.csv
    run --separate-stderr cm-clean -o nt.cmt -T t nt.csv
    [ "$stderr" = "cm-clean: nt.csv: 2 of 3 rows dropped: 2 without a time (column 't' empty)" ]
    printf '%s\n' t,v 2026-01-01,x 2026-01-02,y >bad.csv
    assert_fails 1 "cm-clean: bad.csv: every row was dropped: 2 unreadable (bad-rows skip), the first at line 2: column 'v': 'x' is not a number" --type v=num --bad-rows skip bad.csv
    # Repeated times merged by --dedupe are asked for: no warning.
    printf '%s\n' t,v 2026-01-01,1 2026-01-01,2 2026-01-01,3 >dup.csv
    run --separate-stderr cm-clean --dedupe first -o dup.cmt dup.csv
    assert_success
    [ -z "$stderr" ]
}

@test "unnamed columns empty in the sample (trailing separators) are left out, with a -v note; named ones stay" {
    printf '%s\n' 'Date;Time;CO;T;;' '10/03/2004;18.00.00;2,6;13,6;;' '10/03/2004;19.00.00;2;13,3;;' >semi.csv
    assert_clean --decimal , --time Date,Time --time-format '%d/%m/%Y %H.%M.%S' semi.csv <<'EOF2'
time,CO,T
2004-03-10T18:00:00Z,2.6,13.6
2004-03-10T19:00:00Z,2,13.3
EOF2
    run --separate-stderr cm-clean -v --decimal , --time Date,Time --time-format '%d/%m/%Y %H.%M.%S' -o s.cmt semi.csv
    printf '%s\n' "$stderr" | grep -qx '  col5: skip (no name, empty in the sample)'
    printf '%s\n' "$stderr" | grep -qx '  col6: skip (no name, empty in the sample)'
    cm-cat --info s.cmt | grep -q 'type.col5=skip'
    # A named empty column is the user's: it stays, and empties the output.
    printf '%s\n' 'Date;Time;CO;X' '10/03/2004;18.00.00;2,6;' >named.csv
    assert_fails 1 "cm-clean: named.csv: every row was dropped: column 'X' is empty in all 1 rows (use --drop X or --missing X=zero)" --decimal , --time Date,Time --time-format '%d/%m/%Y %H.%M.%S' named.csv
}

@test "--missing zero and value:X fill a constant, numbers and categories, after markers and ranges" {
    printf '%s\n' t,a,flag,c 2026-01-01,1,,x 2026-01-02,500,,NA 2026-01-03,,1,y >k.csv
    assert_clean --range a=0:100 -m flag=zero -m c=value:none -m a=value:-1 k.csv <<'EOF2'
t,a,flag,c
2026-01-01T00:00:00Z,1,0,x
2026-01-02T00:00:00Z,-1,0,none
2026-01-03T00:00:00Z,-1,1,y
EOF2
    # zero for everything: numbers get 0; a category cannot (its rows drop)
    assert_clean -q --missing zero k.csv <<'EOF2'
t,a,flag,c
2026-01-01T00:00:00Z,1,0,x
2026-01-03T00:00:00Z,0,1,y
EOF2
    # recorded in the recipe, as every policy
    cm-clean -m flag=zero -m c=value:none -o k.cmt k.csv
    cm-cat --info k.cmt | grep -qx '    missing.flag=zero'
    cm-cat --info k.cmt | grep -qx '    missing.c=value:none'
    assert_fails 2 "cm-clean: k.csv: missing: column 'c': a category: fill it with value:X, not zero" -m c=zero k.csv
    assert_fails 2 "cm-clean: k.csv: missing: column 'a': 'abc' is not a number" -m a=value:abc k.csv
    assert_fails 2 "cm-clean: --missing: 'value:' is not drop, keep, ffill, interpolate, zero or value:X
Try 'cm-clean --help' for more information." -m value: k.csv
}

# ---- gzip input ------------------------------------------------------------------

@test "gzip input, known by its first bytes: the very same stream as the plain CSV, file or stdin" {
    export SOURCE_DATE_EPOCH=0
    local args=(-T dteday,hr --drop instant,casual,registered)
    # The whole year: several 64 KiB reads, compressed and not.
    cp "$DATA/bike-2011.csv" in.csv
    cm-clean "${args[@]}" in.csv >plain.cmt
    cm-clean "${args[@]}" <in.csv >plain-stdin.cmt
    gzip -c in.csv >in.csv.gz
    mv in.csv.gz in.csv # the name says CSV: the content decides
    run --separate-stderr cm-clean "${args[@]}" -o gz.cmt in.csv
    assert_success
    [ -z "$stderr" ]
    cmp plain.cmt gz.cmt
    cm-clean "${args[@]}" <in.csv | cmp - plain-stdin.cmt
    [ "$(cm-cat gz.cmt | wc -l)" -eq 8646 ]
}

@test "gzip members one after another (cat a.gz b.gz) read as one input" {
    export SOURCE_DATE_EPOCH=0
    local csv="$DATA/bike-2011.csv"
    cm-clean -T dteday,hr <"$csv" >plain.cmt
    head -n 4000 "$csv" | gzip >a.gz
    : | gzip >empty.gz
    tail -n +4001 "$csv" | gzip -1 >b.gz
    cat a.gz empty.gz b.gz | cm-clean -T dteday,hr | cmp - plain.cmt
}

@test "a truncated or corrupt gzip input is an error that says so, and -o writes nothing" {
    gzip -c "$DATA/bike-2011.csv" >b.csv.gz
    local size
    size=$(stat -c %s b.csv.gz)
    for n in 2 20 $((size / 2)) $((size - 1)); do
        head -c "$n" b.csv.gz >cut.csv.gz
        assert_fails 1 "cm-clean: cut.csv.gz: truncated gzip input" -T dteday,hr -o out.cmt cut.csv.gz
        [ ! -e out.cmt ]
    done
    run --separate-stderr bash -c 'head -c 5000 b.csv.gz | cm-clean -T dteday,hr >/dev/null'
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: (stdin): truncated gzip input" ]
    # The CRC-32 in the trailer, then bytes after the end that are no member.
    cp b.csv.gz crc.csv.gz
    printf '\0\0\0\0' | dd of=crc.csv.gz bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
    assert_fails 1 "cm-clean: crc.csv.gz: corrupt gzip input: incorrect data check" \
        -T dteday,hr -o out.cmt crc.csv.gz
    [ ! -e out.cmt ]
    { cat b.csv.gz; echo junk; } >junk.csv.gz
    assert_fails 1 "cm-clean: junk.csv.gz: corrupt gzip input: bytes after the end that are not gzip data" \
        -T dteday,hr junk.csv.gz
    # Compressed twice is not CSV.
    gzip -c b.csv.gz >twice.gz
    assert_fails 1 "cm-clean: twice.gz: input is gzip data compressed twice, not CSV" twice.gz
}

@test "cm-predict reads a .csv.gz through the cleaner: the same forecasts as from the CSV" {
    export SOURCE_DATE_EPOCH=1
    local csv="$DATA/bike-2011-01.csv"
    cm-clean -T dteday,hr --drop instant,casual,registered "$csv" |
        cm-features -y cnt -L cnt:1h,24h |
        cm-train -q -m linear -o m.cmm
    head -n 300 "$csv" >in.csv
    gzip -c in.csv >in.csv.gz
    cm-predict -q -m m.cmm in.csv >plain.out
    [ "$(wc -l <plain.out)" -eq 300 ]
    grep -q '[0-9]' plain.out
    cm-predict -q -m m.cmm in.csv.gz | cmp - plain.out
    cm-predict -q -m m.cmm <in.csv.gz | cmp - plain.out
    head -c 2000 in.csv.gz >cut.csv.gz
    run --separate-stderr cm-predict -q -m m.cmm cut.csv.gz
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-predict: cut.csv.gz: truncated gzip input" ]
}

# ---- derived columns ----------------------------------------------------------------

@test "--derive NAME=EXPR: sums, Kelvin to Celsius, functions, derives of derives; missing in, missing out; errors name the position" {
    printf '%s\n' 't,in,out,K' '2026-01-01 00:00,10,5,280' '2026-01-01 01:00,7,,290' '2026-01-01 02:00,3,4,0.5' >d.csv
    assert_clean -m keep --derive 'total=in + out' --derive 'C=K - 273.15' --derive 'F=C * 1.8 + 32' \
        --derive 'r=max(in, out, 6) / abs(-2)' --derive 'l=log(K)' d.csv <<'EOF2'
t,in,out,K,total,C,F,r,l
2026-01-01T00:00:00Z,10,5,280,15,6.850000000000023,44.33000000000004,5,5.634789603169249
2026-01-01T01:00:00Z,7,,290,,16.850000000000023,62.33000000000004,,5.66988092298052
2026-01-01T02:00:00Z,3,4,0.5,7,-272.65,-458.77,3,-0.6931471805599453
EOF2
    # a missing result drops the row under the default policy, like any value
    assert_clean --derive 'total=in + out' -m out=keep d.csv <<'EOF2'
t,in,out,K,total
2026-01-01T00:00:00Z,10,5,280,15
2026-01-01T02:00:00Z,3,4,0.5,7
EOF2
    # recorded in the recipe
    cm-clean --derive 'total=in + out' -m keep -o d.cmt d.csv
    cm-cat --info d.cmt | grep -qxF '    derive.1=total=in + out'
    # quoted names: a header with spaces and parentheses
    printf '%s\n' 't,CO(GT),Wind Speed' '2026-01-01 00:00,2,3' >q.csv
    assert_clean --derive 'x="CO(GT)" * `Wind Speed`' q.csv <<'EOF2'
t,CO(GT),Wind Speed,x
2026-01-01T00:00:00Z,2,3,6
EOF2
    assert_fails 2 "cm-clean: derive 'x': at 9: expected a number, a column or '(' after 'max(in,'" --derive 'x=max(in, ' d.csv
    assert_fails 2 "cm-clean: derive 'x': at 1: unknown function 'sqrt' (known: abs, min, max, log, exp)" --derive 'x=sqrt(in)' d.csv
    assert_fails 2 "cm-clean: d.csv: derive 'x': no column 'nope' (the columns are 't', 'in', 'out', 'K')" --derive 'x=nope * 2' d.csv
    assert_fails 2 "cm-clean: d.csv: derive 'in': the column exists already" --derive 'in=out' d.csv
    assert_fails 2 "cm-clean: derive 'x': given twice" --derive 'x=in' --derive 'x=out' d.csv
    assert_fails 2 "cm-clean: --derive: '=in' is not NAME=EXPR
Try 'cm-clean --help' for more information." --derive '=in' d.csv
}

# ---- windows of time, repeated times ---------------------------------------------------

@test "--from and --until keep from <= time < until, in --tz for a naive time; not replayed by a model" {
    awk 'BEGIN { print "t,v"; for (h = 0; h < 48; h++) printf "2026-03-%02d %02d:00,%d\n", 28 + int(h / 24), h % 24, h }' >w.csv
    cleaned --from 2026-03-28T06:00 --until '2026-03-29 01:00' w.csv >got.csv
    [ "$(sed 1d got.csv | wc -l)" -eq 19 ]
    [ "$(sed -n 2p got.csv)" = 2026-03-28T06:00:00Z,6 ]
    [ "$(tail -1 got.csv)" = 2026-03-29T00:00:00Z,24 ]
    # an offset counts; a naive time is in --tz (Berlin is UTC+1 in March)
    [ "$(cleaned --from 2026-03-29T00:00+01:00 w.csv | sed -n 2p)" = 2026-03-28T23:00:00Z,23 ]
    sed 's/ \([0-9][0-9]:00\),/T\1:00Z,/' w.csv >wz.csv
    [ "$(cleaned --tz Europe/Berlin --from 2026-03-29 wz.csv | sed -n 2p)" = 2026-03-28T23:00:00Z,23 ]
    # -v counts them; the window is the user's choice: no warning
    run --separate-stderr cm-clean -v --until 2026-03-28T03:00 -o x.cmt w.csv
    assert_success
    printf '%s\n' "$stderr" | grep -qx 'rows dropped: 0 bad, 0 missing time, 0 duplicate, 0 missing values, 45 outside --from/--until'
    [ "$(printf '%s\n' "$stderr" | grep -c '^cm-clean:')" -eq 0 ]
    assert_fails 1 "cm-clean: w.csv: every row was dropped: 48 outside --from/--until" --from 2027-01-01 w.csv
    assert_fails 2 "cm-clean: from 2026-03-29 is not before until 2026-03-28" --from 2026-03-29 --until 2026-03-28 w.csv
    assert_fails 2 "cm-clean: --from: 'soon' is not an ISO 8601 time or date such as 2011-12-01
Try 'cm-clean --help' for more information." --from soon w.csv
    # recorded, but a model forecasts rows outside its training window
    cm-clean --until 2026-03-29 -o tr.cmt w.csv
    cm-cat --info tr.cmt | grep -qx '    until=2026-03-29'
    cm-features -y v -L v:1h -o trf.cmt tr.cmt
    cm-train -q -m linear --valid 0 -o tr.cmm trf.cmt
    [ "$(cm-predict -q -m tr.cmm w.csv | sed 1d | cut -d, -f2 | grep -c .)" -eq 47 ]
}

@test "times repeated row after row without --dedupe or --key: one warning with the count and the first; none with either" {
    printf '%s\n' t,v '2026-01-01 00:00,1' '2026-01-01 01:00,2' '2026-01-01 01:00,3' '2026-01-01 01:00,4' \
        '2026-01-01 02:00,5' '2026-01-01 02:00,6' >rep.csv
    run --separate-stderr cm-clean -o rep.cmt rep.csv
    assert_success
    [ "$stderr" = "cm-clean: rep.csv: 3 rows repeat the time of the row before them (the first: 2026-01-01T01:00:00Z): lags and windows over them are rarely what is meant (--dedupe first|last, or --key COL for series)" ]
    [ "$(cm-cat rep.cmt | wc -l)" -eq 7 ]
    run --separate-stderr cm-clean --dedupe last -o rep.cmt rep.csv
    [ -z "$stderr" ]
    printf '%s\n' t,k,v '2026-01-01 00:00,a,1' '2026-01-01 00:00,b,2' >key.csv
    run --separate-stderr cm-clean --key k -o key.cmt key.csv
    [ -z "$stderr" ]
    run --separate-stderr cm-clean -q -o rep.cmt rep.csv
    [ -z "$stderr" ]
    # in --report too
    cm-clean -q --report rep.json -o rep.cmt rep.csv
    grep -q '"repeated_times":3' rep.json
}

@test "a time column found by its values whose name holds commas (tab-delimited): the name taken whole" {
    printf 'when, local,v\tx\n2026-01-01 00:00\t1\n2026-01-01 01:00\t2\n' >tabs.csv
    cm-clean -q tabs.csv -o tabs.cmt
    [ "$(cm-cat tabs.cmt | head -2 | tr '\n' '|')" = '"when, local,v",x|2026-01-01T00:00:00Z,1|' ]
}
