#!/usr/bin/env bats
# cm-serve under stress (issue 17), each scenario of tests/serve/stress.py
# against a server on a free loopback port, bounded in time: 1,000
# connections at once, slow clients, malformed requests, smuggling,
# bodies, batches and headers at and over their limits, 10,000 requests
# on one connection, and a short mixed load.  Each fails when a
# well-formed request fails, a bad one is not answered as documented or
# cut within --timeout, or the server is gone.  make soak runs the load
# for ten minutes with reloads (scripts/soak).
load helpers
load serve

bats_require_minimum_version 1.5.0

STRESS="$TOP/tests/serve/stress.py"

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    quiet cm-clean --time dteday,hr --drop instant,casual,registered \
        "$DATA/bike-2011-01.csv" -o clean.cmt
    quiet cm-features -y cnt -L cnt:1h,24h clean.cmt -o f.cmt
    quiet cm-train -q -m linear f.cmt -o bike.cmm
    # one row of raw fields, and its lags
    cat >row.json <<'JSON'
{"dteday":"2011-01-05","hr":10,"season":1,"yr":0,"mnth":1,"holiday":0,"weekday":3,
 "workingday":1,"weathersit":1,"temp":0.2,"atemp":0.2,"hum":0.5,"windspeed":0.1,
 "cnt_lag1h":50,"cnt_lag24h":60}
JSON
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    SERVE_PID= PORT= URL=
    BG_PIDS=()
    # 1,100 connections: the thousand at once must all be taken
    serve -m "$BATS_FILE_TMPDIR/bike.cmm" --timeout 2 --max-connections 1100 \
        --max-body 64K --max-batch 100 --max-header 16K
}

stress() { # stress SCENARIO [N]: its line of figures on fd 3 (bats' TAP)
    run --separate-stderr "$PY" "$STRESS" "$PORT" "$@" --row "$BATS_FILE_TMPDIR/row.json" \
        --timeout 2 --max-body 65536 --max-batch 100 --max-header 16384 --pid "$SERVE_PID"
    sed 's/^/# /' <<<"$output" >&3
    [ "$status" -eq 0 ] || {
        echo "$output" >&2
        echo "$stderr" >&2
        return 1
    }
}

@test "1,000 connections at once: every request answered 200" {
    stress conns 1000
}

@test "slow clients, a byte a second: cut within --timeout, while other requests go on" {
    stress slow 10
    # the server counts what it cut
    metrics=$(curl -s "$URL/metrics")
    n=$(sed -n 's/^cm_connections_cut_total //p' <<<"$metrics")
    [ "$n" -ge 10 ]
}

@test "malformed request lines, headers and framing: the documented code, or cut in time" {
    stress malformed
}

@test "smuggling (Content-Length with chunked, two lengths, unknown codings): 400 or 501, and the connection closed" {
    stress smuggle
}

@test "bodies and batches at and one over their limits, headers under and over theirs" {
    stress limits
}

@test "10,000 requests on one keep-alive connection" {
    stress keepalive 10000
}

@test "a mixed load for 5 s: no well-formed request fails, the bad ones get 400" {
    stress load 5
}
