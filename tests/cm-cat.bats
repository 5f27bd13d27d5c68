#!/usr/bin/env bats
# cm-cat: text formats, re-encoding, options, atomic output, foreign and
# damaged input, closed pipes, terminals.  Streams are made with the
# test-only cmt-gen; every fixture is generated in the test's temp dir.
load helpers

bats_require_minimum_version 1.5.0

T=$'\t'
VERSION=$CM_VERSION

# ---- fixtures ----------------------------------------------------------------

# Every dtype and role the header can name, metadata, a recipe, column
# metadata, missing values, NaN/inf/-inf, numbers needing the shortest
# round-trip form, times before 1970, and categories with commas, quotes,
# leading/trailing spaces, a tab, a backslash and UTF-8.  Default --batch 4:
# 9 rows make three batches, the dictionary grows in each.
typed_file() {
    printf '%s\n' \
        '#meta source=station_7 units=metric' \
        '#step impute method=linear max_gap=3' \
        '#step clip lo=-40 hi=60' \
        't:time:time|a:f32|b:f64|n:i64:target|weather, sky:cat' \
        '#colmeta t tz=UTC' \
        '2026-01-01T00:00:00Z|0.1|0.1|42|Clear' \
        '2026-01-01T01:00:00Z|||-7|' \
        '2026-01-01T02:00:00Z|nan|nan|0|Mist, light' \
        '2026-01-01T03:00:00Z|inf|inf|9223372036854775807|Drizzle "fine"' \
        '2026-01-01T04:00:00Z|-inf|-inf|-9223372036854775808| padded ' \
        '2026-01-01T05:00:00Z|16777216|1e300|1|Zürich ☀' \
        "2026-01-01T06:00:00Z|3.4028235e+38|0.30000000000000004|2|tab${T}back\\slash" \
        '1969-12-31T23:59:59Z|-0|1e-7|-1|Clear' \
        '|1.5|-123456.789||Clear' >typed.txt
}

typed_stream() {
    typed_file
    cmt-gen text -d '|' <typed.txt >typed.cmt
}

expected_csv() {
    printf '%s\n' \
        't,a,b,n,"weather, sky"' \
        '2026-01-01T00:00:00Z,0.1,0.1,42,Clear' \
        '2026-01-01T01:00:00Z,,,-7,' \
        '2026-01-01T02:00:00Z,nan,nan,0,"Mist, light"' \
        '2026-01-01T03:00:00Z,inf,inf,9223372036854775807,"Drizzle ""fine"""' \
        '2026-01-01T04:00:00Z,-inf,-inf,-9223372036854775808," padded "' \
        '2026-01-01T05:00:00Z,16777216,1e+300,1,Zürich ☀' \
        "2026-01-01T06:00:00Z,3.4028235e+38,0.30000000000000004,2,tab${T}back\\slash" \
        '1969-12-31T23:59:59Z,-0,1e-07,-1,Clear' \
        ',1.5,-123456.789,,Clear'
}

expected_tsv() {
    printf '%s\n' \
        "t${T}a${T}b${T}n${T}weather, sky" \
        "2026-01-01T00:00:00Z${T}0.1${T}0.1${T}42${T}Clear" \
        "2026-01-01T01:00:00Z${T}${T}${T}-7${T}" \
        "2026-01-01T02:00:00Z${T}nan${T}nan${T}0${T}Mist, light" \
        "2026-01-01T03:00:00Z${T}inf${T}inf${T}9223372036854775807${T}Drizzle \"fine\"" \
        "2026-01-01T04:00:00Z${T}-inf${T}-inf${T}-9223372036854775808${T} padded " \
        "2026-01-01T05:00:00Z${T}16777216${T}1e+300${T}1${T}Zürich ☀" \
        "2026-01-01T06:00:00Z${T}3.4028235e+38${T}0.30000000000000004${T}2${T}tab\\tback\\\\slash" \
        "1969-12-31T23:59:59Z${T}-0${T}1e-07${T}-1${T}Clear" \
        "${T}1.5${T}-123456.789${T}${T}Clear"
}

expected_json() {
    printf '%s\n' \
        '{"t":"2026-01-01T00:00:00Z","a":0.1,"b":0.1,"n":42,"weather, sky":"Clear"}' \
        '{"t":"2026-01-01T01:00:00Z","a":null,"b":null,"n":-7,"weather, sky":null}' \
        '{"t":"2026-01-01T02:00:00Z","a":"nan","b":"nan","n":0,"weather, sky":"Mist, light"}' \
        '{"t":"2026-01-01T03:00:00Z","a":"inf","b":"inf","n":9223372036854775807,"weather, sky":"Drizzle \"fine\""}' \
        '{"t":"2026-01-01T04:00:00Z","a":"-inf","b":"-inf","n":-9223372036854775808,"weather, sky":" padded "}' \
        '{"t":"2026-01-01T05:00:00Z","a":16777216,"b":1e+300,"n":1,"weather, sky":"Zürich ☀"}' \
        '{"t":"2026-01-01T06:00:00Z","a":3.4028235e+38,"b":0.30000000000000004,"n":2,"weather, sky":"tab\u0009back\\slash"}' \
        '{"t":"1969-12-31T23:59:59Z","a":-0,"b":1e-07,"n":-1,"weather, sky":"Clear"}' \
        '{"t":null,"a":1.5,"b":-123456.789,"n":null,"weather, sky":"Clear"}'
}

# A small stream (~360 bytes) with a cat column and two batches, for the
# byte-by-byte corruption tests.
small_stream() {
    printf '%s\n' \
        't:time|x:f32|n:i64|w:cat' \
        '2026-01-01T00:00:00Z|1.5|1|a' \
        '2026-01-01T01:00:00Z|2.5|2|b, c' \
        '2026-01-01T02:00:00Z||3|a' \
        '2026-01-01T03:00:00Z|4|4|d' |
        cmt-gen text -d '|' --batch 2 >small.cmt
    cm-cat small.cmt >small.csv
}

# Reads a whole file into the named variable without forking.
slurp() {
    local -n _dst=$1
    _dst=
    IFS= read -r -d '' _dst <"$2" || true
}

# ---- round trip through text ------------------------------------------------

@test "csv: every dtype, missing values, specials, quoting, UTF-8, shortest numbers" {
    typed_stream
    run --separate-stderr cm-cat typed.cmt
    assert_success
    [ -z "$stderr" ]
    cm-cat typed.cmt >got.csv
    expected_csv >want.csv
    diff -u want.csv got.csv
    cm-cat -f csv typed.cmt | cmp - want.csv
}

@test "tsv: tabs and backslashes escaped, nothing quoted" {
    typed_stream
    cm-cat -f tsv typed.cmt >got.tsv
    expected_tsv >want.tsv
    diff -u want.tsv got.tsv
}

@test "json: one object a line, null for missing, nan/inf as strings, times as strings" {
    typed_stream
    cm-cat -f json typed.cmt >got.json
    expected_json >want.json
    diff -u want.json got.json
}

@test "--no-header drops the header line of csv and tsv, json is unchanged" {
    typed_stream
    cm-cat --no-header typed.cmt >got.csv
    expected_csv | tail -n +2 >want.csv
    diff -u want.csv got.csv
    cm-cat --no-header -f tsv typed.cmt >got.tsv
    expected_tsv | tail -n +2 >want.tsv
    diff -u want.tsv got.tsv
    cm-cat --no-header -f json typed.cmt >got.json
    expected_json >want.json
    diff -u want.json got.json
}

# ---- re-encoding --------------------------------------------------------------

@test "-f cmt re-encodes to a stream with the same text, at levels 0 1 6 9" {
    typed_stream
    expected_csv >want.csv
    for l in 0 1 6 9; do
        cm-cat -f cmt -l "$l" typed.cmt >"l$l.cmt"
        cm-cat "l$l.cmt" | cmp - want.csv
        cm-cat -f json "l$l.cmt" | cmp - <(expected_json)
        cm-cat --level="$l" --format=cmt typed.cmt | cmp - "l$l.cmt"
    done
    # Re-encoding keeps the metadata, recipe and column metadata.
    diff <(cm-cat -i typed.cmt | grep -v '^bytes:') <(cm-cat -i l0.cmt | grep -v '^bytes:')
    # The default (no -l, no CM_ZLEVEL) is level 1.
    env -u CM_ZLEVEL cm-cat -f cmt typed.cmt | cmp - l1.cmt
}

@test "-l changes the compression: level 0 is larger than 9, same content" {
    cmt-gen gen --rows 3000 --batch 1000 >g.cmt
    cm-cat g.cmt >want.csv
    cm-cat -f cmt -l 0 g.cmt >l0.cmt
    cm-cat -f cmt -l 9 g.cmt >l9.cmt
    s0=$(stat -c %s l0.cmt)
    s9=$(stat -c %s l9.cmt)
    [ "$s0" -gt "$s9" ]
    cm-cat l0.cmt | cmp - want.csv
    cm-cat l9.cmt | cmp - want.csv
}

@test "CM_ZLEVEL sets the level, -l overrides it" {
    typed_stream
    expected_csv >want.csv
    for l in 0 1 6 9; do
        cm-cat -f cmt -l "$l" typed.cmt >"l$l.cmt"
        CM_ZLEVEL=$l cm-cat -f cmt typed.cmt >"e$l.cmt"
        cmp "e$l.cmt" "l$l.cmt"
        cm-cat "e$l.cmt" | cmp - want.csv
    done
    CM_ZLEVEL=9 cm-cat -f cmt -l 0 typed.cmt | cmp - l0.cmt
    # An empty CM_ZLEVEL is the default.
    CM_ZLEVEL= cm-cat -f cmt typed.cmt | cmp - l1.cmt
}

@test "--level 10 and --level x are usage errors (exit 2, Try line)" {
    typed_stream
    run --separate-stderr cm-cat -f cmt --level 10 typed.cmt
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: --level: '10' is not a whole number from 0 to 9
Try 'cm-cat --help' for more information." ]
    run --separate-stderr cm-cat -f cmt -l x typed.cmt
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: --level: 'x' is not a whole number from 0 to 9
Try 'cm-cat --help' for more information." ]
}

@test "CM_ZLEVEL=x and CM_ZLEVEL=10 are usage errors with -f cmt, no output file left" {
    typed_stream
    for bad in x 10 -1; do
        run --separate-stderr env CM_ZLEVEL="$bad" cm-cat -f cmt typed.cmt
        [ "$status" -eq 2 ]
        [ "$stderr" = "cm-cat: CM_ZLEVEL='$bad': expected a level from 0 to 9" ]
    done
    mkdir out
    run --separate-stderr env CM_ZLEVEL=x cm-cat -f cmt -o out/x.cmt typed.cmt
    [ "$status" -eq 2 ]
    [ "$stderr" = "cm-cat: CM_ZLEVEL='x': expected a level from 0 to 9" ]
    [ -z "$(ls -A out)" ]
    # Text output does not compress, so CM_ZLEVEL is not consulted.
    CM_ZLEVEL=x cm-cat typed.cmt | cmp - <(expected_csv)
}

# ---- shapes -----------------------------------------------------------------

@test "0 rows: header only" {
    printf 't:time:time|x:f32|w:cat\n' | cmt-gen text -d '|' >empty.cmt
    run --separate-stderr cm-cat empty.cmt
    assert_success
    [ "$output" = "t,x,w" ]
    [ -z "$stderr" ]
    run cm-cat -f json empty.cmt
    assert_success
    assert_output ''
    run cm-cat --no-header empty.cmt
    assert_success
    assert_output ''
    run cm-cat -i empty.cmt
    assert_success
    assert_line 'rows: 0'
    assert_line 'batches: 0'
    assert_line '  3 w cat feature categories=0'
    cm-cat -f cmt empty.cmt >copy.cmt
    run cm-cat copy.cmt
    assert_success
    assert_output "t,x,w"
}

@test "1 row" {
    printf 't:time:time|x:f64|w:cat\n2026-01-01T00:00:00Z|2.5|only\n' |
        cmt-gen text -d '|' >one.cmt
    run cm-cat one.cmt
    assert_success
    assert_output "t,x,w
2026-01-01T00:00:00Z,2.5,only"
    run cm-cat -f json one.cmt
    assert_output '{"t":"2026-01-01T00:00:00Z","x":2.5,"w":"only"}'
    run cm-cat -i one.cmt
    assert_line 'rows: 1'
    assert_line 'batches: 1'
}

@test "200 columns" {
    cmt-gen gen --rows 3 --cols f32x200 >wide.cmt
    cm-cat wide.cmt >wide.csv
    [ "$(wc -l <wide.csv)" -eq 4 ]
    [ "$(awk -F, '{print NF}' wide.csv | sort -u)" = 200 ]
    [ "$(head -n 1 wide.csv | cut -d, -f1)" = f32_1 ]
    [ "$(head -n 1 wide.csv | cut -d, -f200)" = f32_200 ]
    run cm-cat -i wide.cmt
    assert_success
    assert_line 'columns: 200'
    assert_line '  200 f32_200 f32 feature'
    cm-cat -f cmt wide.cmt | cm-cat | cmp - wide.csv
    cm-cat -f tsv wide.cmt | tr '\t' , | cmp - wide.csv
}

@test "many batches, categories that first appear in later batches" {
    cmt-gen gen --rows 5000 --batch 512 >many.cmt
    cm-cat many.cmt >many.csv
    [ "$(tail -n +2 many.csv | wc -l)" -eq 5000 ]
    # weather is the last column; a quoted value may hold a comma.
    distinct=$(tail -n +2 many.csv | cut -d, -f5- | sort -u | wc -l)
    first=$(sed -n '2,513p' many.csv | cut -d, -f5- | sort -u | wc -l)
    [ "$first" -lt "$distinct" ]
    run cm-cat -i many.cmt
    assert_success
    assert_line 'rows: 5000'
    assert_line 'batches: 10'
    assert_line "  5 weather cat feature categories=$distinct"
    cm-cat -f cmt many.cmt | cm-cat | cmp - many.csv
    [ "$(cm-cat -f json many.cmt | wc -l)" -eq 5000 ]
}

@test "1,000,000 rows round trip" {
    cmt-gen gen --rows 1000000 --cols t:time,x:f32 >m.cmt
    [ "$(cm-cat m.cmt | wc -l)" -eq 1000001 ]
    cm-cat m.cmt >direct.csv
    cm-cat -f cmt m.cmt | cm-cat >via.csv
    cmp direct.csv via.csv
    [ "$(head -n 2 direct.csv)" = "t,x
2026-01-01T00:00:00Z,16.25" ]
    [ "$(tail -n 1 direct.csv | cut -d, -f1)" = 2140-01-30T15:00:00Z ]
}

# ---- --head and --info ----------------------------------------------------------

@test "--head 0, 1, across a batch boundary, more than the rows" {
    typed_stream
    expected_csv >all.csv
    run cm-cat --head 0 typed.cmt
    assert_success
    assert_output 't,a,b,n,"weather, sky"'
    cm-cat -n 1 typed.cmt | cmp - <(head -n 2 all.csv)
    cm-cat --head=5 typed.cmt | cmp - <(head -n 6 all.csv)
    cm-cat --head 9 typed.cmt | cmp - all.csv
    cm-cat --head 1000 typed.cmt | cmp - all.csv
    cm-cat --head 2 -f json typed.cmt | cmp - <(expected_json | head -n 2)
    run cm-cat -f json --head 0 typed.cmt
    assert_success
    assert_output ''
}

@test "--head with -f cmt writes a valid stream of N rows" {
    typed_stream
    expected_csv >all.csv
    for n in 0 1 5 9 50; do
        cm-cat -f cmt --head "$n" typed.cmt >"h$n.cmt"
        cm-cat "h$n.cmt" | cmp - <(head -n $((n + 1)) all.csv)
    done
    run cm-cat -i h5.cmt
    assert_success
    assert_line 'rows: 5'
    assert_line 'batches: 2'
    run cm-cat -i h0.cmt
    assert_line 'rows: 0'
    assert_line 'batches: 0'
}

@test "--head with a bad count is a usage error" {
    typed_stream
    for bad in -1 1x '' x; do
        run --separate-stderr cm-cat --head "$bad" typed.cmt
        [ "$status" -eq 2 ]
        [ "$stderr" = "cm-cat: --head: '$bad' is not a whole number
Try 'cm-cat --help' for more information." ]
    done
}

@test "--info: format, rows, batches, metadata, columns with dtype/role, categories, col meta, recipe" {
    typed_stream
    run --separate-stderr cm-cat --info typed.cmt
    assert_success
    [ -z "$stderr" ]
    [[ "${lines[3]}" =~ ^bytes:\ [0-9]+\ decoded,\ [0-9]+\ stored\ \(ratio\ [0-9]+\.[0-9][0-9]\)$ ]]
    got=$(printf '%s\n' "${lines[@]}" | grep -v '^bytes: ')
    [ "$got" = "format: cmt 1.0
rows: 9
batches: 3
metadata:
  source=station_7
  units=metric
columns: 5
  1 t time time tz=UTC
  2 a f32 feature
  3 b f64 feature
  4 n i64 target
  5 weather, sky cat feature categories=6
recipe: 2 steps
  1 impute
    method=linear
    max_gap=3
  2 clip
    lo=-40
    hi=60" ]
    cm-cat -i - <typed.cmt | cmp - <(cm-cat -i typed.cmt)
}

@test "--info with no metadata and no recipe, and its usage conflicts" {
    cmt-gen gen --rows 10 --cols 'a:f32,b:i64:weight,c:i64:id' >g.cmt
    run cm-cat -i g.cmt
    assert_success
    assert_line 'metadata:'
    assert_line '  producer=cmt-gen'
    assert_line '  2 b i64 weight'
    assert_line '  3 c i64 id'
    assert_line 'recipe: 0 steps'
    for extra in '-f cmt' '-n 3'; do
        # shellcheck disable=SC2086
        run --separate-stderr cm-cat -i $extra g.cmt
        [ "$status" -eq 2 ]
        [ "$stderr" = "cm-cat: --info does not combine with --format=cmt or --head
Try 'cm-cat --help' for more information." ]
    done
}

@test "--info says nothing about a stream it could not read to the end" {
    small_stream
    size=$(stat -c %s small.cmt)
    head -c $((size - 1)) small.cmt >cut.cmt
    run --separate-stderr cm-cat -i cut.cmt
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: cut.cmt: truncated stream (message cut short)" ]
}

# ---- input and output ---------------------------------------------------------

@test "stdin with no argument and with '-'" {
    typed_stream
    expected_csv >want.csv
    cm-cat <typed.cmt | cmp - want.csv
    cm-cat - <typed.cmt | cmp - want.csv
    cat typed.cmt | cm-cat -f json | cmp - <(expected_json)
    cat typed.cmt | cm-cat -f cmt - | cm-cat | cmp - want.csv
}

@test "-o FILE writes the whole output there and nothing to stdout" {
    typed_stream
    umask 022
    run --separate-stderr cm-cat -o out.csv typed.cmt
    assert_success
    [ -z "$output" ]
    [ -z "$stderr" ]
    expected_csv | cmp - out.csv
    [ "$(stat -c %a out.csv)" = 644 ]
    cm-cat --output=out.json -f json typed.cmt
    expected_json | cmp - out.json
    cm-cat -o out.cmt -f cmt typed.cmt
    cm-cat out.cmt | cmp - out.csv
    mkdir sub
    cm-cat -o sub/x.tsv -f tsv - <typed.cmt
    expected_tsv | cmp - sub/x.tsv
    # No temporary files are left behind.
    [ "$(ls -A | grep -c '^\.')" -eq 0 ]
    [ -z "$(ls -A sub | grep -v '^x\.tsv$')" ]
}

@test "-o replaces an existing file on success and keeps its mode" {
    typed_stream
    echo old >out.csv
    chmod 640 out.csv
    cm-cat -o out.csv typed.cmt
    expected_csv | cmp - out.csv
    [ "$(stat -c %a out.csv)" = 640 ]
}

@test "-o keeps the old file when the input is corrupt, and leaves no temp file" {
    small_stream
    size=$(stat -c %s small.cmt)
    # Damaged in the second batch: the output is opened, then abandoned.
    head -c $((size - 40)) small.cmt >cut.cmt
    echo old >out.csv
    for fmt in csv json cmt; do
        run --separate-stderr cm-cat -f "$fmt" -o out.csv cut.cmt
        [ "$status" -eq 1 ]
        [ -z "$output" ]
        [ "$stderr" = "cm-cat: cut.cmt: truncated stream (message cut short)" ]
        [ "$(cat out.csv)" = old ]
        [ -z "$(ls -A | grep '^\.out\.csv\.')" ]
    done
    # Damaged header: refused before any output is opened.
    printf 'x' | dd of=cut.cmt bs=1 seek=3 conv=notrunc 2>/dev/null
    run -1 cm-cat -o out.csv cut.cmt
    [ "$(cat out.csv)" = old ]
    # A new name does not appear at all.
    run -1 cm-cat -o new.csv <(head -c $((size - 40)) small.cmt)
    [ ! -e new.csv ]
    [ -z "$(ls -A | grep '^\.new\.csv\.')" ]
}

@test "-o into a missing directory is an error (exit 1) naming the file" {
    typed_stream
    run --separate-stderr cm-cat -o nodir/x.csv typed.cmt
    [ "$status" -eq 1 ]
    [[ "$stderr" == "cm-cat: "*"nodir/x.csv"*"No such file or directory" ]]
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

# ---- foreign input and usage errors -------------------------------------------

@test "nonexistent file: exit 1, message names the file" {
    run --separate-stderr cm-cat nope.cmt
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: nope.cmt: No such file or directory" ]
}

@test "empty input: file and stdin" {
    : >empty.cmt
    run --separate-stderr cm-cat empty.cmt
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: empty.cmt: empty input, not a cm stream" ]
    run --separate-stderr bash -c 'exec cm-cat </dev/null'
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: (stdin): empty input, not a cm stream" ]
    run --separate-stderr bash -c 'exec cm-cat - </dev/null'
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: (stdin): empty input, not a cm stream" ]
}

@test "CSV text input: says it looks like text, points to cm-clean" {
    typed_stream
    expected_csv >data.csv
    run --separate-stderr cm-cat data.csv
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: data.csv: input looks like text (CSV?), not a cm stream; convert it with cm-clean" ]
    run --separate-stderr cm-cat <data.csv
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: (stdin): input looks like text (CSV?), not a cm stream; convert it with cm-clean" ]
    # Short text is text too.
    printf 'a,b\n' >short.csv
    run --separate-stderr cm-cat short.csv
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: short.csv: input looks like text (CSV?), not a cm stream; convert it with cm-clean" ]
}

@test "gzip input: says so and suggests zcat" {
    typed_stream
    gzip -c typed.cmt >typed.cmt.gz
    run --separate-stderr cm-cat typed.cmt.gz
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: typed.cmt.gz: input is gzip data, not a cm stream (decompress it with zcat first)" ]
    zcat typed.cmt.gz | cm-cat | cmp - <(expected_csv)
}

@test "a model file (\\x89CMM) is named as such" {
    printf '\x89CMM\r\n\x1a\n\x01\x00\x00\x00\x00\x00\x00\x00rest' >model.cmm
    run --separate-stderr cm-cat model.cmm
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: model.cmm: input is a cm model file, not a cm stream" ]
}

@test "other binary input: bad magic; a cut magic: truncated" {
    printf '\x00\x01\x02\x03\xfe\xff\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19' >bin.dat
    run --separate-stderr cm-cat bin.dat
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: bin.dat: not a cm stream (bad magic number)" ]
    printf '\x89CMT\r' >cut.cmt
    run --separate-stderr cm-cat cut.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: cut.cmt: truncated stream (5 bytes, header incomplete)" ]
}

@test "unknown option: exit 2 and a Try line" {
    run --separate-stderr cm-cat --bogus x.cmt
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 2 ]
    [[ "${stderr_lines[0]}" == "cm-cat: "*"bogus"* ]]
    [ "${stderr_lines[1]}" = "Try 'cm-cat --help' for more information." ]
    run --separate-stderr cm-cat -z
    [ "$status" -eq 2 ]
    [[ "${stderr_lines[0]}" == "cm-cat: "*"z"* ]]
    [ "${stderr_lines[1]}" = "Try 'cm-cat --help' for more information." ]
}

@test "bad --format: exit 2 and a Try line" {
    run --separate-stderr cm-cat --format xml x.cmt
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: --format: 'xml' is not csv, tsv, json, cmt, npy or npz
Try 'cm-cat --help' for more information." ]
    run --separate-stderr cm-cat -f CSV x.cmt
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "cm-cat: --format: 'CSV' is not csv, tsv, json, cmt, npy or npz" ]
    run --separate-stderr cm-cat -f
    [ "$status" -eq 2 ]
    [ "${stderr_lines[1]}" = "Try 'cm-cat --help' for more information." ]
}

@test "two input files: exit 2, even before looking at them" {
    typed_stream
    run --separate-stderr cm-cat typed.cmt typed.cmt
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: one input at most (got 2)
Try 'cm-cat --help' for more information." ]
    run --separate-stderr cm-cat nope1 nope2 nope3
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "cm-cat: one input at most (got 3)" ]
}

# ---- damaged streams ----------------------------------------------------------

@test "small corruption fixture is 150-400 bytes with a cat column and 2 batches" {
    small_stream
    size=$(stat -c %s small.cmt)
    [ "$size" -ge 150 ]
    [ "$size" -le 400 ]
    run cm-cat -i small.cmt
    assert_line 'batches: 2'
    assert_line '  4 w cat feature categories=3'
}

# Writes cut.N (the first N bytes) for every N in [0, size).
make_cuts() {
    perl -e 'local $/; open my $f, "<:raw", $ARGV[0] or die; my $d = <$f>;
             for my $i (0 .. length($d) - 1) {
                 open my $o, ">:raw", "cut.$i" or die; print $o substr($d, 0, $i);
             }' small.cmt
}

# Writes flip.N (byte N xor 0xff) for every N in [0, size).
make_flips() {
    perl -e 'local $/; open my $f, "<:raw", $ARGV[0] or die; my $d = <$f>;
             for my $i (0 .. length($d) - 1) {
                 my $e = $d; substr($e, $i, 1) = chr(ord(substr($e, $i, 1)) ^ 0xff);
                 open my $o, ">:raw", "flip.$i" or die; print $o $e;
             }' small.cmt
}

# For every FILE.N, N in [0, size): exit status exactly 1 and exactly one
# stderr line 'cm-cat: FILE.N: message'.  Lists every offending N.
check_all_fail() {
    local prefix=$1 size=$2 i rc bad=() errl
    for ((i = 0; i < size; i++)); do
        rc=0
        cm-cat "$prefix.$i" >out 2>err || rc=$?
        mapfile -t errl <err
        if ((rc != 1)) || ((${#errl[@]} != 1)) ||
            [[ ${errl[0]} != "cm-cat: $prefix.$i: "?* ]]; then
            bad+=("$i:rc=$rc:${errl[*]}")
        fi
    done
    if ((${#bad[@]})); then
        printf 'offending offset: %s\n' "${bad[@]}" >&2
        return 1
    fi
}

# For every FILE.N: stdout is not the complete output of the good stream.
check_none_complete() {
    local prefix=$1 size=$2 i good got bad=()
    slurp good small.csv
    for ((i = 0; i < size; i++)); do
        cm-cat "$prefix.$i" >out 2>/dev/null || true
        slurp got out
        [[ $got == "$good" ]] && bad+=("$i")
    done
    if ((${#bad[@]})); then
        echo "stream size $size; complete CSV printed for offsets: ${bad[*]}" >&2
        return 1
    fi
}

@test "truncated at every byte offset: exit 1 and one 'cm-cat: FILE: ' line" {
    small_stream
    size=$(stat -c %s small.cmt)
    make_cuts
    check_all_fail cut "$size"
}

@test "truncated at every byte offset: the output never looks complete" {
    small_stream
    size=$(stat -c %s small.cmt)
    make_cuts
    check_none_complete cut "$size"
}

@test "every byte flipped: exit 1 and one 'cm-cat: FILE: ' line" {
    small_stream
    size=$(stat -c %s small.cmt)
    make_flips
    check_all_fail flip "$size"
}

@test "every byte flipped: the output never looks complete" {
    small_stream
    size=$(stat -c %s small.cmt)
    make_flips
    check_none_complete flip "$size"
}

@test "truncated or flipped stream re-encoded with -f cmt fails too" {
    small_stream
    size=$(stat -c %s small.cmt)
    head -c $((size - 1)) small.cmt >cut.cmt
    run --separate-stderr cm-cat -f cmt cut.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: cut.cmt: truncated stream (message cut short)" ]
    perl -e 'local $/; my $d = <STDIN>; substr($d, 100, 1) ^= "\xff"; print $d' \
        <small.cmt >flip.cmt
    run --separate-stderr cm-cat -f cmt -o out.cmt flip.cmt
    [ "$status" -eq 1 ]
    [[ "$stderr" == "cm-cat: flip.cmt: corrupt stream: "* ]]
    [ ! -e out.cmt ]
}

@test "a trailing garbage byte, or a second stream appended, is an error" {
    small_stream
    { cat small.cmt; printf 'x'; } >tail.cmt
    run --separate-stderr cm-cat tail.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: tail.cmt: corrupt stream: data after the end marker" ]
    { cat small.cmt; printf '\0'; } >tail0.cmt
    run --separate-stderr cm-cat tail0.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: tail0.cmt: corrupt stream: data after the end marker" ]
    cat small.cmt small.cmt >two.cmt
    run --separate-stderr cm-cat two.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: two.cmt: corrupt stream: data after the end marker" ]
}

@test "another major version: the message names both versions" {
    small_stream
    # Major 2 with a header CRC that matches: a genuine newer stream.
    perl -MCompress::Zlib -e 'local $/; my $d = <STDIN>;
        substr($d, 8, 2) = "\x02\x00";
        substr($d, 12, 4) = pack("V", crc32(substr($d, 0, 12)));
        print $d' <small.cmt >v2.cmt
    run --separate-stderr cm-cat v2.cmt
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-cat: v2.cmt: format version 2.0, this build reads version 1.x (cm $VERSION)" ]
    # Only bytes 8-9 patched: still names both versions.
    perl -e 'local $/; my $d = <STDIN>; substr($d, 8, 2) = "\x07\x00"; print $d' \
        <small.cmt >v7.cmt
    run --separate-stderr cm-cat v7.cmt
    [ "$status" -eq 1 ]
    [[ "$stderr" == "cm-cat: v7.cmt: format version 7.0"*", this build reads version 1.x (cm $VERSION)" ]]
}

# ---- pipes, help, version, terminals ------------------------------------------

@test "a closed pipe ends cm-cat quietly with status 0" {
    cmt-gen gen --rows 200000 >big.cmt
    for fmt in csv json; do
        run bash -c "set -o pipefail; cm-cat -f $fmt big.cmt 2>err | head -n 1"
        assert_success
        [ "${#lines[@]}" -eq 1 ]
        [ ! -s err ]
    done
    [ "$output" = '{"t":"2026-01-01T00:00:00Z","temp":16.25,"flow":909.2417860427374,"count":-55,"weather":"Clear"}' ]
}

@test "a closed pipe after -f cmt also ends cm-cat quietly with status 0" {
    cmt-gen gen --rows 200000 >big.cmt
    run bash -c 'set -o pipefail; cm-cat -f cmt big.cmt 2>err | head -c 100 >/dev/null'
    [ ! -s err ] || cat err >&2
    assert_success
    [ ! -s err ]
}

@test "--help prints usage to stdout, exit 0" {
    for opt in --help -h; do
        run --separate-stderr cm-cat "$opt"
        assert_success
        [ -z "$stderr" ]
        [ "${lines[0]}" = "Usage: cm-cat [OPTION]... [FILE]" ]
        assert_line --partial '--format=FMT'
        assert_line --partial '--head=N'
        assert_line --partial '--output=FILE'
        assert_line 'Exit status: 0 success, 1 bad or unreadable input, 2 usage error.'
    done
}

@test "--version prints 'cm-cat (cm) VERSION', exit 0" {
    [ -n "$VERSION" ]
    for opt in --version -V; do
        run --separate-stderr cm-cat "$opt"
        assert_success
        [ -z "$stderr" ]
        [ "$output" = "cm-cat (cm) $VERSION" ]
    done
}

@test "binary output to a terminal is refused (exit 2), -F and -o are fine" {
    if ! command -v script >/dev/null 2>&1 || ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
        skip "script (util-linux) with -e is not available"
    fi
    typed_stream
    # -e: script's own status is the command's.
    run script -qec 'cm-cat -f cmt typed.cmt' /dev/null </dev/null
    [ "$status" -eq 2 ]
    assert_output --partial "cm-cat: refusing to write binary data to a terminal (redirect it, use -o FILE, or force with -F)"
    assert_output --partial "Try 'cm-cat --help' for more information."
    run script -qec 'cm-cat -f cmt -o x.cmt typed.cmt' /dev/null </dev/null
    assert_success
    cm-cat x.cmt | cmp - <(expected_csv)
    run script -qec 'cm-cat -F -f cmt typed.cmt' /dev/null </dev/null
    assert_success
    # Text to a terminal is fine.
    run script -qec 'cm-cat --head 1 typed.cmt' /dev/null </dev/null
    assert_success
    assert_output --partial '2026-01-01T00:00:00Z,0.1,0.1,42,Clear'
}

@test "-f npy and -f npz: NumPy reads them, every value as the CSV has it; times, categories, missing values" {
    printf '%s\n' t,a,c,b '2026-01-01 00:00,1.5,x,7' '2026-01-01 01:00,,y,8' \
        '2026-01-01 02:00,-2,x,' '2026-01-01 03:00,1e300,,9' >m.csv
    cm-clean -q --time t -t c=cat -m keep -o m.cmt m.csv
    cm-cat -f npy m.cmt -o m.npy
    cm-cat -f npz m.cmt >m.npz
    # the header of a .npy: magic, version 1.0, a multiple of 64 bytes
    [ "$(head -c 8 m.npy | od -An -c | tr -d ' ')" = '223NUMPY001\0' ]
    [ $(( $(od -An -tu2 -j8 -N2 m.npy) % 64 )) -eq 54 ]
    # a stream without a number column: nothing for a matrix
    printf '%s\n' t,c '2026-01-01,x' >n.csv
    cm-clean -q --time t -t c=cat -o n.cmt n.csv
    assert_exit cm-cat 1 "cm-cat: n.cmt: no number columns for a .npy matrix (-f npz writes times and categories too)" \
        -f npy n.cmt -o n.npy
    [ ! -e n.npy ]
    assert_exit cm-cat 2 "cm-cat: --info does not combine with --format=cmt or --head
Try 'cm-cat --help' for more information." -f npz --info m.cmt
    if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
        skip "Python's numpy is not installed (python3-numpy)"
    fi
    cm-cat m.cmt >m.out.csv
    /usr/bin/python3 - m.npy m.npz m.out.csv <<'PY'
import csv, math, sys
import numpy as np
a = np.load(sys.argv[1])
z = np.load(sys.argv[2])
rows = list(csv.DictReader(open(sys.argv[3])))
assert a.dtype == np.float64 and a.shape == (4, 2), (a.dtype, a.shape)
assert sorted(z.files) == ["a", "b", "c", "c_categories", "t"], z.files
def num(s):
    return math.nan if s == "" else float(s)
for i, r in enumerate(rows):
    for j, name in enumerate(["a", "b"]):
        want = num(r[name])
        for got in (a[i, j], z[name][i]):
            assert (math.isnan(want) and math.isnan(got)) or got == want, (i, name, got, want)
    assert str(z["t"][i]) + "Z" == r["t"], (z["t"][i], r["t"])
    code = z["c"][i]
    assert (code == -1) == (r["c"] == ""), (code, r["c"])
    if code >= 0:
        assert z["c_categories"][code] == r["c"], (z["c_categories"][code], r["c"])
assert z["t"].dtype == np.dtype("datetime64[s]") and z["c"].dtype == np.int32
PY
}
