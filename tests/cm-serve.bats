#!/usr/bin/env bats
# cm-serve: every endpoint and status code (content types, the Allow and
# WWW-Authenticate headers, errors naming their field), the served
# forecasts against cm-predict NAME=VALUE for the same fields (one object
# and a batch, a bad item among good ones), the descriptions against the
# training data and cm-cat --info, /metrics against the requests made,
# SIGHUP reloads under concurrent requests (every answer model A's or
# model B's, none failed), a broken model file refused while the old one
# serves, --watch, --token-file, draining on SIGTERM, bad usage and the -v
# access log.  The models are linear ones on the January bike file, A and
# B differing only in --l2; each server listens on a free port (-p 0),
# runs in the background and is stopped by its PID in teardown.
load helpers

bats_require_minimum_version 1.5.0

# ---- helpers -----------------------------------------------------------------

BIKE="$DATA/bike-2011-01.csv"
CLEAN=(--time dteday,hr --drop instant,casual,registered)
FEAT=(-y cnt -L cnt:1h,24h)
# Rows of the bike file the forecasts are checked on (times as cm-cat
# prints them): a weekday, a holiday (MLK day), a weekend afternoon.
TIMES=(2011-01-05T10:00:00Z 2011-01-17T08:00:00Z 2011-01-29T15:00:00Z)

# The models, once for the file: a.cmm and b.cmm (linear, the second with
# --l2 100: other forecasts), c.cmm with weathersit a category; feat.csv
# and featc.csv the features streams they were trained on, as CSV.
setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    cm-clean "${CLEAN[@]}" -o clean.cmt "$BIKE" 2>prep.err &&
        cm-features "${FEAT[@]}" -o f.cmt clean.cmt 2>>prep.err &&
        cm-clean "${CLEAN[@]}" -t weathersit=cat -o cleanc.cmt "$BIKE" 2>>prep.err &&
        cm-features "${FEAT[@]}" -o fc.cmt cleanc.cmt 2>>prep.err &&
        SOURCE_DATE_EPOCH=1 cm-train -q -m linear -o a.cmm f.cmt 2>>prep.err &&
        SOURCE_DATE_EPOCH=1 cm-train -q -m linear --l2 100 -o b.cmm f.cmt 2>>prep.err &&
        SOURCE_DATE_EPOCH=1 cm-train -q -m linear -o c.cmm fc.cmt 2>>prep.err &&
        cm-cat f.cmt >feat.csv 2>>prep.err && cm-cat fc.cmt >featc.csv 2>>prep.err || {
        echo "making the models failed:" >&2
        cat prep.err >&2
        return 1
    }
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    cp "$BATS_FILE_TMPDIR"/{a,b,c}.cmm "$BATS_FILE_TMPDIR"/feat{,c}.csv . || return 1
    SERVE_PID= PORT= URL=
    BG_PIDS=()
}

# Stops what the test started, by PID: the request loops, then the server
# (SIGTERM, then SIGKILL when it has not ended in 5 s).
teardown() {
    local p i
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$SERVE_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$SERVE_PID" 2>/dev/null
        wait "$SERVE_PID" 2>/dev/null
    fi
    return 0
}

# Starts `cm-serve ARGS -p 0` in the background, its stderr in serve.err,
# and waits for its line `listening on http://127.0.0.1:PORT (N models)`;
# sets SERVE_PID, PORT and URL.
serve() {
    cm-serve "$@" -p 0 </dev/null >serve.out 2>serve.err 3>&- &
    SERVE_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        PORT=$(sed -n 's|^cm-serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\) ([0-9]* models*)$|\1|p' serve.err)
        [ -n "$PORT" ] && break
        if ! kill -0 "$SERVE_PID" 2>/dev/null; then
            echo "cm-serve $* ended before listening:" >&2
            cat serve.err >&2
            return 1
        fi
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        echo "cm-serve $*: no listening line in 10 s:" >&2
        cat serve.err >&2
        return 1
    fi
    URL=http://127.0.0.1:$PORT
}

# http METHOD PATH [curl options...]: the status in $code, the body in
# resp.body, the headers in resp.hdr.  Fails when curl does.
http() {
    local method=$1 path=$2
    shift 2
    rm -f resp.body resp.hdr
    code=$(curl -s -S -o resp.body -D resp.hdr -w '%{http_code}' -X "$method" "$@" \
        "$URL$path" 2>curl.err) || {
        echo "curl -X $method $* $URL$path failed: $(cat curl.err)" >&2
        return 1
    }
}

# POST FILE (JSON) to PATH: post PATH FILE [curl options...]
post() {
    local path=$1 file=$2
    shift 2
    http POST "$path" -H 'Content-Type: application/json' --data-binary "@$file" "$@"
}

# Fails unless the last status is WANT: status_is WANT
status_is() {
    [ "$code" = "$1" ] || {
        echo "status $code, want $1; body: $(head -c 500 resp.body)" >&2
        return 1
    }
}

# The value of header NAME of the last response (no CR).
header() {
    awk -v n="$1" 'BEGIN { n = tolower(n) } { sub(/\r$/, "") }
        tolower(substr($0, 1, length(n) + 1)) == n ":" { v = substr($0, length(n) + 2)
            sub(/^[ \t]+/, "", v); print v }' resp.hdr
}

# The Python expression EXPR of the JSON document d in FILE: a string as
# it is, anything else as JSON.  js FILE EXPR
js() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))' "$1" "$2"
}

# A and B the same number to 1e-12 relative (or the same text): same A B [WHAT]
same() {
    [ "$1" = "$2" ] && [ -n "$1" ] && return 0
    check 'a != "" && b != "" && (a - b) ^ 2 <= (1e-12 * a) ^ 2 + 1e-300' a="$1" b="$2" || {
        echo "not the same: $1 and $2 ${3:+($3)}" >&2
        return 1
    }
}

# The NAME=VALUE lines of the row of the bike file at time T (as cm-cat
# prints it): the raw fields of the CSV (instant, casual and registered
# left out) and the lags from FEATCSV.  row_args T [FEATCSV]
row_args() {
    local day=${1%%T*} hour=${1#*T}
    hour=$((10#${hour%%:*}))
    awk -F, -v d="$day" -v h="$hour" 'NR == 1 { split($0, H, ","); next }
        $2 == d && $6 == h { n++; for (i = 1; i <= NF; i++)
            if (H[i] != "instant" && H[i] != "casual" && H[i] != "registered") print H[i] "=" $i }
        END { if (n != 1) { print "rows at " d " " h ": " n >"/dev/stderr"; exit 1 } }' "$BIKE" ||
        return 1
    awk -F, -v t="$1" 'NR == 1 { split($0, H, ","); next }
        $1 == t { n++; for (i = 1; i <= NF; i++) if (H[i] ~ /^cnt_lag/) print H[i] "=" $i }
        END { if (n != 1) { print "features rows at " t ": " n >"/dev/stderr"; exit 1 } }' \
        "${2:-feat.csv}"
}

# NAME=VALUE lines on stdin as a JSON object: a value that is a JSON number
# as it is, any other as a string (with -s every value a string).
to_json() {
    awk -v strings="${1:-}" 'BEGIN { printf "{" }
        { i = index($0, "="); name = substr($0, 1, i - 1); val = substr($0, i + 1)
          if (strings == "" && val ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) v = val
          else { gsub(/["\\]/, "\\\\&", val); v = "\"" val "\"" }
          printf "%s\"%s\":%s", (NR > 1 ? "," : ""), name, v }
        END { print "}" }'
}

# rowK.args and rowK.json (K from 1) for the rows at TIMES, and in predK_M
# cm-predict's forecast of model M.cmm for each, for each M given.
# rows M...
rows() {
    local k=0 t m
    for t in "${TIMES[@]}"; do
        k=$((k + 1))
        row_args "$t" >"row$k.args" || return 1
        to_json <"row$k.args" >"row$k.json"
        for m in "$@"; do
            local -a args
            mapfile -t args <"row$k.args"
            cm-predict -m "$m.cmm" "${args[@]}" >"pred${k}_$m" 2>pred.err </dev/null || {
                echo "cm-predict -m $m.cmm ${args[*]} failed: $(cat pred.err)" >&2
                return 1
            }
            [ "$(wc -l <"pred${k}_$m")" -eq 1 ] || return 1
        done
    done
}

# The value of the sample NAME (with its labels, as printed) in metrics.txt
# (empty when absent).
metric() {
    awk -v n="$1" '$1 == n { print $2 }' metrics.txt
}

# Fetches /metrics into metrics.txt.
get_metrics() {
    http GET /metrics "$@" && status_is 200 && cp resp.body metrics.txt
}

# Waits up to 10 s for a line of serve.err holding TEXT; a second argument:
# for that many such lines.
wait_log() {
    local i want=${2:-1}
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -cF -- "$1" serve.err)" -ge "$want" ] && return 0
        sleep 0.05
    done
    echo "no line '$1' (x$want) in serve.err:" >&2
    cat serve.err >&2
    return 1
}

# The served forecast for rowK.json (or FILE) by model NAME, checked 200.
served() {
    post "/v1/models/$1/predict" "$2" && status_is 200 && js resp.body 'd["prediction"]'
}

# ---- endpoints and status codes --------------------------------------------------

@test "GET /healthz, /v1/models, /v1/models/NAME: 200, JSON, names, targets, versions" {
    serve -m a.cmm -m bb=b.cmm -m c.cmm
    grep -qx "cm-serve: listening on http://127.0.0.1:$PORT (3 models)" serve.err

    http GET /healthz
    status_is 200
    [ "$(header Content-Type)" = application/json ]
    [ "$(js resp.body 'd')" = '{"status": "ok"}' ]
    http HEAD /healthz
    status_is 200

    http GET /v1/models
    status_is 200
    [ "$(header Content-Type)" = application/json ]
    [ "$(js resp.body '" ".join(m["name"] for m in d["models"])')" = "a bb c" ]
    [ "$(js resp.body '" ".join(m["target"] for m in d["models"])')" = "cnt cnt cnt" ]
    [ "$(js resp.body '" ".join(str(m["version"]) for m in d["models"])')" = "1 1 1" ]
    local i m
    for i in 0 1 2; do
        m=$(js resp.body "d['models'][$i]['name']")
        [ "$m" = bb ] && m=b
        [ "$(js resp.body "d['models'][$i]['trained_at']")" = \
          "$(cm-cat --info "$m.cmm" | sed -n 's/^  created=//p')" ]
    done

    # One model: its raw fields with their types (the CSV's columns less
    # those dropped; the time ones "time"), the inputs derived from them,
    # its metadata as cm-cat --info lists it.
    http GET /v1/models/a
    status_is 200
    [ "$(header Content-Type)" = application/json ]
    [ "$(js resp.body 'd["name"] + " " + d["target"] + " " + str(d["version"])')" = "a cnt 1" ]
    head -1 "$BIKE" | tr , '\n' | grep -vxE 'instant|casual|registered' |
        awk '{ print $0, ($0 == "dteday" || $0 == "hr" ? "time" : "number") }' | sort >want.fields
    js resp.body '"\n".join(f["name"] + " " + f["type"] for f in d["fields"])' | sort >got.fields
    diff want.fields got.fields
    [ "$(js resp.body '[f for f in d["fields"] if "categories" in f]')" = "[]" ]
    cm-cat --info a.cmm | sed -n '/^inputs:/,/^metadata:/s/^  \([^:]*\): .*/\1/p' |
        grep -vxFf <(cut -d' ' -f1 want.fields) >want.derived
    js resp.body '"\n".join(d["derived_inputs"])' >got.derived
    diff want.derived got.derived
    [ "$(wc -l <got.derived)" -eq 7 ]
    cm-cat --info a.cmm | sed -n '/^metadata:/,/^recipe:/s/^  //p' >want.meta
    js resp.body '"\n".join(k + "=" + v for k, v in d["metadata"].items())' >got.meta
    diff want.meta got.meta
    [ "$(js resp.body 'd["trained_at"] == d["metadata"]["created"]')" = true ]

    # A category: the values weathersit takes in the training rows (the
    # first train_rows of the features stream; the rest validated).
    http GET /v1/models/c
    status_is 200
    local ntrain
    ntrain=$(cm-cat --info c.cmm | sed -n 's/^  train_rows=//p')
    awk -F, -v n="$ntrain" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "weathersit") c = i; next }
        NR <= n + 1 { print $c }' featc.csv | sort -u >want.cats
    js resp.body '"\n".join([f for f in d["fields"] if f["name"] == "weathersit"][0]["categories"])' |
        sort >got.cats
    diff want.cats got.cats
    [ "$(js resp.body '[f["type"] for f in d["fields"] if f["name"] == "weathersit"][0]')" = category ]
}

@test "404 for an unknown path or model, 405 with Allow for a wrong method" {
    serve -m a.cmm
    rows
    local p
    for p in /nope / /v1 /v1/models/ /v1/models/a/ /v1/models/a/predictx /healthz/x /v1/models/a/predict/x; do
        http GET "$p"
        status_is 404
        [ "$(header Content-Type)" = application/json ]
        [ "$(js resp.body 'd["error"]')" = "no such path" ]
    done
    http GET /v1/models/zz
    status_is 404
    [ "$(js resp.body 'd["error"]')" = "no such model" ]
    post /v1/models/zz/predict row1.json
    status_is 404
    [ "$(header Content-Type)" = application/json ]
    [ "$(js resp.body 'd["error"]')" = "no such model" ]

    http GET /v1/models/a/predict
    status_is 405
    [ "$(header Allow)" = POST ]
    [ "$(header Content-Type)" = application/json ]
    [ -n "$(js resp.body 'd["error"]')" ]
    http PUT /v1/models/a/predict --data-binary @row1.json
    status_is 405
    [ "$(header Allow)" = POST ]
    for p in /healthz /metrics /v1/models /v1/models/a; do
        post "$p" row1.json
        status_is 405
        [ "$(header Allow)" = GET ]
        http DELETE "$p"
        status_is 405
        [ "$(header Allow)" = GET ]
    done
}

