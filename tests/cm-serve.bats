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

load serve

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
    # a number input's range in training, as cm-cat --info says it
    seen=$(cm-cat --info a.cmm | sed -n 's/^  temp: number, .*, seen \(.*\) to \(.*\)$/[\1, \2]/p')
    [ -n "$seen" ]
    [ "$(js resp.body '[f["seen"] for f in d["fields"] if f["name"] == "temp"][0]')" = "$seen" ]
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

@test "400 naming the field: bad values, unknown fields, missing inputs; bad JSON" {
    serve -m a.cmm
    rows
    local body field good
    good=$(cat row1.json)
    # Each body (a row with one thing wrong) and the field its error names.
    while IFS='|' read -r body field; do
        printf '%s\n' "$body" >bad.json
        post /v1/models/a/predict bad.json
        status_is 400
        [ "$(header Content-Type)" = application/json ]
        [ -n "$(js resp.body 'd["error"]')" ]
        [ "$(js resp.body 'd.get("field", "(none)")')" = "$field" ] || {
            echo "$body: field $(js resp.body 'd.get("field", "(none)")'), want $field" >&2
            echo "  $(cat resp.body)" >&2
            return 1
        }
    done <<EOT
${good%\}},"nosuch":1}|nosuch
$(sed 's/"temp":[^,]*/"temp":"warm"/' row1.json)|temp
$(sed 's/"hum":[^,]*/"hum":true/' row1.json)|hum
$(sed 's/"windspeed":[^,]*/"windspeed":[1]/' row1.json)|windspeed
$(sed 's/"atemp":[^,]*/"atemp":{}/' row1.json)|atemp
$(sed 's/"dteday":[^,]*/"dteday":"yesterday"/' row1.json)|dteday
$(sed 's/,"cnt_lag24h":[^,}]*//' row1.json)|cnt_lag24h
$(sed 's/"cnt_lag24h":[^,}]*/"cnt_lag24h":null/' row1.json)|cnt_lag24h
$(sed 's/"cnt_lag1h":[^,}]*/"cnt_lag1h":null/' row1.json)|cnt_lag1h
{"temp":|(none)
5|(none)
"row"|(none)
|(none)
${good%\}},"temp":0.5}|(none)
EOT
    # the error says which: the field's value, or what is missing
    sed 's/"temp":[^,]*/"temp":"warm"/' row1.json >bad.json
    post /v1/models/a/predict bad.json
    [[ "$(js resp.body 'd["error"]')" == *temp*warm* ]]
    sed 's/,"cnt_lag24h":[^,}]*//' row1.json >bad.json
    post /v1/models/a/predict bad.json
    [ "$(js resp.body 'd["error"]')" = "missing inputs: cnt_lag24h" ]
}

@test "400 for a bad value of a derived input (a lag) names that input" {
    serve -m a.cmm
    rows
    sed 's/"cnt_lag1h":[^,}]*/"cnt_lag1h":"many"/' row1.json >bad.json
    post /v1/models/a/predict bad.json
    status_is 400
    [[ "$(js resp.body 'd["error"]')" == *cnt_lag1h* ]]
    [ "$(js resp.body 'd.get("field", "(none)")')" = cnt_lag1h ]
}

@test "400 for a row lacking its time names a time field of the model" {
    serve -m a.cmm
    rows
    http GET /v1/models/a
    js resp.body '"\n".join(f["name"] for f in d["fields"] if f["type"] == "time")' >timefields
    [ "$(wc -l <timefields)" -eq 2 ]
    local f wrong=0
    for f in $(cat timefields); do
        sed "s/\"$f\":[^,]*,//" row1.json >bad.json
        ! grep -q "\"$f\"" bad.json || false
        post /v1/models/a/predict bad.json
        status_is 400
        grep -qxF -- "$(js resp.body 'd.get("field", "(none)")')" timefields || {
            echo "without $f: $(cat resp.body)" >&2
            wrong=$((wrong + 1))
        }
    done
    # nothing at all: the error says what is missing, naming a field
    echo '{}' >empty.json
    post /v1/models/a/predict empty.json
    status_is 400
    [[ "$(js resp.body 'd["error"]')" == "missing inputs"* ]] &&
        [ "$(js resp.body 'd.get("field", "(none)")')" != "(none)" ] || {
        echo "{}: $(cat resp.body)" >&2
        wrong=$((wrong + 1))
    }
    [ "$wrong" -eq 0 ]
}

@test "400 for an unknown field gives its name back whole (a colon in it, 80 characters)" {
    serve -m a.cmm
    rows
    local good name long
    good=$(cat row1.json)
    long=$(printf 'k%.0s' {1..80})
    local wrong=0
    for name in 'we:ird' 'a: b' "$long"; do
        printf '%s,"%s":1}\n' "${good%\}}" "$name" >bad.json
        post /v1/models/a/predict bad.json
        status_is 400
        [ "$(js resp.body 'd.get("field", "(none)")')" = "$name" ] || {
            echo "unknown field '$name': $(cat resp.body)" >&2
            wrong=$((wrong + 1))
        }
    done
    [ "$wrong" -eq 0 ]
}

@test "413 for a body over --max-body (with and without Content-Length), a batch over --max-batch" {
    serve -m a.cmm --max-body 1K --max-batch 2
    rows
    local row
    row=$(cat row1.json)
    # a body of exactly 1024 bytes is taken, 1025 is not
    { printf '%s' "${row%\}}"; printf ',"x":"'; head -c 2000 /dev/zero | tr '\0' x; } |
        head -c 1022 >exact.json
    printf '"}' >>exact.json
    [ "$(wc -c <exact.json)" -eq 1024 ]
    post /v1/models/a/predict exact.json
    status_is 400 # read whole: its field x is unknown
    [ "$(js resp.body 'd["field"]')" = x ]
    { head -c 1021 exact.json; printf 'xx"}'; } >over.json
    [ "$(wc -c <over.json)" -eq 1025 ]
    post /v1/models/a/predict over.json
    status_is 413
    [ "$(header Content-Type)" = application/json ]
    [ -n "$(js resp.body 'd["error"]')" ]
    post /v1/models/a/predict over.json -H 'Transfer-Encoding: chunked'
    status_is 413
    head -c 100000 /dev/zero | tr '\0' ' ' >big.json
    post /v1/models/a/predict big.json
    status_is 413
    # and the server still serves
    post /v1/models/a/predict row1.json
    status_is 200

    echo "[$row,$row]" >two.json
    post /v1/models/a/predict two.json
    status_is 200
    [ "$(js resp.body 'len(d["predictions"])')" = 2 ]
    echo "[$row,$row,$row]" >three.json
    post /v1/models/a/predict three.json
    status_is 413
    [ "$(header Content-Type)" = application/json ]
    [[ "$(js resp.body 'd["error"]')" == *3* ]]
}

# ---- forecasts -----------------------------------------------------------------

@test "a served forecast equals cm-predict NAME=VALUE for the same fields (numbers or strings)" {
    serve -m a.cmm -m bb=b.cmm
    rows a b
    local k got
    for k in 1 2 3; do
        got=$(served a "row$k.json")
        same "$got" "$(cat "pred${k}_a")" "row $k, model a"
        got=$(served bb "row$k.json")
        same "$got" "$(cat "pred${k}_b")" "row $k, model b"
        # the raw text of the values, every one a JSON string
        to_json -s <"row$k.args" >"srow$k.json"
        ! grep -q ':[0-9]' "srow$k.json" || false
        got=$(served a "srow$k.json")
        same "$got" "$(cat "pred${k}_a")" "row $k as strings"
        # the fields in another order, and one null (a field the model
        # can do without: the target)
        tac "row$k.args" | grep -v '^cnt=' | to_json >"rrow$k.json"
        sed 's/}$/,"cnt":null}/' "rrow$k.json" >"nrow$k.json"
        got=$(served a "nrow$k.json")
        same "$got" "$(cat "pred${k}_a")" "row $k reordered"
    done
    # the answer: {"prediction": x} and a newline, x with its 17 digits
    served a row1.json >/dev/null
    grep -qE '^\{"prediction":-?[0-9.]+(e[-+]?[0-9]+)?\}$' resp.body
    [ "$(tail -c 1 resp.body | od -An -c | tr -d ' ')" = '\n' ]
    # A and B differ (else the reload tests below would prove nothing)
    ! same "$(cat pred1_a)" "$(cat pred1_b)" 2>/dev/null || false
    # A lag must be given: one request does not lend its lags to the next
    served a row2.json >/dev/null
    sed 's/,"cnt_lag1h":[^,}]*//' row1.json >nolag.json
    post /v1/models/a/predict nolag.json
    status_is 400
    [ "$(js resp.body 'd["field"]')" = cnt_lag1h ]
    same "$(served a row1.json)" "$(cat pred1_a)" "after other requests"
}

@test "a gbdt model served: cm-predict's forecasts; a missing lag takes the trees' way, not a 400" {
    SOURCE_DATE_EPOCH=1 cm-train -q -m gbdt --trees 30 -o g.cmm "$BATS_FILE_TMPDIR/f.cmt"
    serve -m g.cmm
    rows g
    local k
    for k in 1 2 3; do
        same "$(served g "row$k.json")" "$(cat "pred${k}_g")" "row $k"
    done
    # without the lag of an hour: a forecast all the same, cm-predict's
    sed 's/,"cnt_lag1h":[^,}]*//' row1.json >nolag.json
    mapfile -t args < <(grep -v '^cnt_lag1h=' row1.args)
    same "$(served g nolag.json)" "$(cm-predict -m g.cmm "${args[@]}")" "row 1 without its lag"
    if [ "$(served g nolag.json)" = "$(cat pred1_g)" ]; then
        echo "the lag made no difference: the test shows nothing" >&2
        return 1
    fi
}

@test "a batch: one forecast per item in order, a bad item's error without harm to the others" {
    serve -m a.cmm
    rows a
    sed 's/"temp":[^,]*/"temp":"warm"/' row2.json >bad.json
    { echo '['; cat row1.json; echo ,; cat bad.json; echo ,; cat row3.json; echo ', 7, {"nosuch":1},';
      cat row2.json; echo ']'; } >batch.json
    post /v1/models/a/predict batch.json
    status_is 200
    [ "$(header Content-Type)" = application/json ]
    [ "$(js resp.body 'list(d)')" = '["predictions"]' ]
    [ "$(js resp.body 'len(d["predictions"])')" = 6 ]
    same "$(js resp.body 'd["predictions"][0]')" "$(cat pred1_a)" "item 0"
    [ "$(js resp.body 'd["predictions"][1]["field"]')" = temp ]
    [[ "$(js resp.body 'd["predictions"][1]["error"]')" == *warm* ]]
    same "$(js resp.body 'd["predictions"][2]')" "$(cat pred3_a)" "item 2"
    [ -n "$(js resp.body 'd["predictions"][3]["error"]')" ]
    [ "$(js resp.body 'd["predictions"][4]["field"]')" = nosuch ]
    same "$(js resp.body 'd["predictions"][5]')" "$(cat pred2_a)" "item 5"
    echo '[]' >empty.json
    post /v1/models/a/predict empty.json
    status_is 200
    [ "$(js resp.body 'd')" = '{"predictions": []}' ]
}

# ---- /metrics ------------------------------------------------------------------

@test "/metrics: Prometheus text counting the requests made, by endpoint and code" {
    serve -m a.cmm
    rows
    echo '{"temp":' >bad.json
    local i
    for i in 1 2 3; do post /v1/models/a/predict row1.json; done
    post /v1/models/a/predict bad.json
    post /v1/models/zz/predict row1.json
    http GET /v1/models/a/predict
    http GET /v1/models
    http GET /v1/models/a
    http GET /v1/models/a
    http GET /healthz
    http GET /nope
    http GET /nope2
    get_metrics
    [ "$(header Content-Type)" = "text/plain; version=0.0.4" ]
    # (the metrics request itself is counted when it ends: not yet)
    # sample         value
    while read -r name want; do
        [ "$(metric "$name")" = "$want" ] || {
            echo "$name: $(metric "$name"), want $want" >&2
            cat metrics.txt >&2
            return 1
        }
    done <<'EOT'
cm_requests_total{endpoint="predict",code="200"} 3
cm_requests_total{endpoint="predict",code="400"} 1
cm_requests_total{endpoint="predict",code="404"} 1
cm_requests_total{endpoint="predict",code="405"} 1
cm_requests_total{endpoint="models",code="200"} 1
cm_requests_total{endpoint="model",code="200"} 2
cm_requests_total{endpoint="healthz",code="200"} 1
cm_requests_total{endpoint="other",code="404"} 2
cm_request_seconds_count 12
cm_request_seconds_bucket{le="+Inf"} 12
cm_model_reloads_total 0
cm_model_reload_failures_total 0
cm_model_version{model="a"} 1
EOT
    # the counters sum to the histogram's count; the buckets grow with le;
    # every sample has its # TYPE
    awk '/^cm_requests_total/ { s += $2 } END { exit s != 12 }' metrics.txt
    awk '/^cm_request_seconds_bucket/ { if ($2 < last) exit 1; last = $2; n++ } END { exit n < 2 }' metrics.txt
    for name in cm_requests_total cm_request_seconds cm_model_reloads_total \
        cm_model_reload_failures_total cm_model_version; do
        grep -q "^# TYPE $name " metrics.txt
    done
    check 's > 0 && s < 10' s="$(metric cm_request_seconds_sum)"
    # the metrics request is counted by the next
    get_metrics
    [ "$(metric 'cm_requests_total{endpoint="metrics",code="200"}')" = 1 ]
}

# ---- reloads ---------------------------------------------------------------------

# Predicts row1.json with model m, 10 requests a curl (one connection),
# until the file stop exists: each answer's body line and status line
# appended to OUT.  hammer OUT
hammer() {
    local urls=() i
    for ((i = 0; i < 10; i++)); do urls+=("$URL/v1/models/m/predict"); done
    while [ ! -e stop ]; do
        curl -s -H 'Content-Type: application/json' --data-binary @row1.json \
            -w '%{http_code}\n' "${urls[@]}" >>"$1" || echo "curl failed: $?" >>"$1"
    done
}

# Checks the answers in the files: every status 200, every body one of the
# two forecasts (as numbers, to 1e-12).  Prints the count of each.
# answers A B FILE...
answers() {
    "$PY" - "$@" <<'PY'
import json, sys
want = [float(sys.argv[1]), float(sys.argv[2])]
seen, bad = [0, 0], []
for name in sys.argv[3:]:
    for line in open(name):
        line = line.rstrip("\n")
        if len(line) == 3 and line.isdigit():
            if line != "200":
                bad.append("status " + line)
            continue
        try:
            x = json.loads(line)["prediction"]
        except Exception:
            bad.append("answer " + line)
            continue
        for i in 0, 1:
            if abs(x - want[i]) <= 1e-12 * abs(want[i]):
                seen[i] += 1
                break
        else:
            bad.append("forecast %r" % x)
codes = sum(1 for name in sys.argv[3:] for line in open(name) if len(line) == 4 and line[:3].isdigit())
if codes != sum(seen) + len(bad):
    bad.append("%d statuses for %d answers" % (codes, sum(seen) + len(bad)))
print(seen[0], seen[1])
if bad:
    print("bad answers:", len(bad), bad[:10], file=sys.stderr)
    sys.exit(1)
PY
}

@test "SIGHUP x20 under concurrent requests: every answer 200 and model A's or B's; version 21" {
    rows a b
    cp a.cmm m.cmm
    serve -m m.cmm -t 4
    same "$(served m row1.json)" "$(cat pred1_a)"
    hammer l1.out 3>&- &
    BG_PIDS+=($!)
    hammer l2.out 3>&- &
    BG_PIDS+=($!)
    local i src
    for ((i = 1; i <= 20; i++)); do
        if ((i % 2)); then src=b.cmm; else src=a.cmm; fi
        cp "$src" m.cmm.new && mv m.cmm.new m.cmm
        sleep 0.05
        kill -HUP "$SERVE_PID"
        wait_log "cm-serve: m: reloaded (version $((i + 1)))"
    done
    sleep 0.1
    touch stop
    wait "${BG_PIDS[@]}"
    BG_PIDS=()
    run answers "$(cat pred1_a)" "$(cat pred1_b)" l1.out l2.out
    echo "$output"
    [ "$status" -eq 0 ]
    local na nb
    read -r na nb <<<"${lines[0]}"
    # both versions answered, and enough requests went through the reloads
    [ "$na" -gt 0 ]
    [ "$nb" -gt 0 ]
    [ $((na + nb)) -ge 100 ]
    # the last file was a.cmm
    same "$(served m row1.json)" "$(cat pred1_a)"
    get_metrics
    [ "$(metric 'cm_model_version{model="m"}')" = 21 ]
    [ "$(metric cm_model_reloads_total)" = 20 ]
    [ "$(metric cm_model_reload_failures_total)" = 0 ]
    [ "$(grep -c 'reloaded (version' serve.err)" -eq 20 ]
    ! grep -q refused serve.err || false
    http GET /v1/models/m
    [ "$(js resp.body 'd["version"]')" = 21 ]
    # the process survived it all
    kill -0 "$SERVE_PID"
}

@test "SIGHUP with a broken model file: refused with a line, the old model keeps serving" {
    rows a b
    cp a.cmm m.cmm
    serve -m m.cmm
    head -c $(($(wc -c <a.cmm) / 2)) a.cmm >m.cmm.new
    mv m.cmm.new m.cmm
    kill -HUP "$SERVE_PID"
    wait_log "reload refused"
    [ "$(grep -c 'reload refused' serve.err)" -eq 1 ]
    grep -q '^cm-serve: m: reload refused, the loaded version keeps serving: m\.cmm: .' serve.err
    same "$(served m row1.json)" "$(cat pred1_a)" "after the broken file"
    get_metrics
    [ "$(metric cm_model_reload_failures_total)" = 1 ]
    [ "$(metric 'cm_model_version{model="m"}')" = 1 ]
    # a file that is gone: refused too
    rm m.cmm
    kill -HUP "$SERVE_PID"
    wait_log "reload refused" 2
    grep -q '^cm-serve: m: reload refused, .*m\.cmm.*No such file' serve.err
    same "$(served m row1.json)" "$(cat pred1_a)" "after the missing file"
    # then a good one (B) is taken
    cp b.cmm m.cmm
    kill -HUP "$SERVE_PID"
    wait_log "cm-serve: m: reloaded (version 2)"
    same "$(served m row1.json)" "$(cat pred1_b)" "after the good file"
    get_metrics
    [ "$(metric cm_model_reload_failures_total)" = 2 ]
    [ "$(metric 'cm_model_version{model="m"}')" = 2 ]
}

@test "--watch 1: a replaced file (newer mtime) is taken without SIGHUP; an unchanged one is not read again" {
    rows a b
    cp a.cmm m.cmm
    touch -d '-1 hour' m.cmm
    serve -m m.cmm --watch 1
    same "$(served m row1.json)" "$(cat pred1_a)"
    cp b.cmm m.cmm.new && mv m.cmm.new m.cmm
    local i got
    for ((i = 0; i < 50; i++)); do
        got=$(served m row1.json)
        same "$got" "$(cat pred1_b)" 2>/dev/null && break
        same "$got" "$(cat pred1_a)" # nothing else meanwhile
        sleep 0.1
    done
    same "$got" "$(cat pred1_b)" "5 s after the file changed"
    grep -qx 'cm-serve: m: reloaded (version 2)' serve.err
    sleep 2.2
    get_metrics
    [ "$(metric 'cm_model_version{model="m"}')" = 2 ]
    [ "$(metric cm_model_reloads_total)" = 1 ]
}

@test "--watch 1: a broken file is refused once, not again every second while unchanged" {
    rows a
    cp a.cmm m.cmm
    touch -d '-1 hour' m.cmm
    serve -m m.cmm --watch 1
    head -c 700 a.cmm >m.cmm.new
    mv m.cmm.new m.cmm
    wait_log "reload refused"
    sleep 3.2
    same "$(served m row1.json)" "$(cat pred1_a)"
    get_metrics
    [ "$(grep -c 'reload refused' serve.err)" -eq 1 ] || {
        echo "$(grep -c 'reload refused' serve.err) refusals of one unchanged file in 3 s:" >&2
        cat serve.err >&2
        return 1
    }
    [ "$(metric cm_model_reload_failures_total)" = 1 ]
}

# ---- access ----------------------------------------------------------------------

@test "--token-file: 401 without or with a wrong token, 200 with it; /healthz open" {
    rows a
    printf 's3cret-token\nsecond line\n' >tok
    serve -m a.cmm --token-file tok
    local p
    for p in /v1/models /v1/models/a /metrics; do
        http GET "$p"
        status_is 401
        [ "$(header WWW-Authenticate)" = Bearer ]
        [ "$(header Content-Type)" = application/json ]
        [ -n "$(js resp.body 'd["error"]')" ]
        for bad in 'Bearer wrong' 'Bearer s3cret-toke' 'Bearer s3cret-token2' 's3cret-token' \
            'Basic s3cret-token' 'Bearer  s3cret-token' 'Bearer second line'; do
            http GET "$p" -H "Authorization: $bad"
            status_is 401
        done
        http GET "$p" -H 'Authorization: Bearer s3cret-token'
        status_is 200
    done
    post /v1/models/a/predict row1.json
    status_is 401
    post /v1/models/a/predict row1.json -H 'Authorization: Bearer nope'
    status_is 401
    post /v1/models/a/predict row1.json -H 'Authorization: Bearer s3cret-token'
    status_is 200
    same "$(js resp.body 'd["prediction"]')" "$(cat pred1_a)"
    http GET /healthz
    status_is 200
    # a token file with CRLF ends: the token without the CR
    printf 'crlf-token\r\n' >tok2
    teardown
    serve -m a.cmm --token-file tok2
    http GET /v1/models -H 'Authorization: Bearer crlf-token'
    status_is 200
}

# ---- stopping --------------------------------------------------------------------

@test "SIGTERM: a request in flight is answered, exit status 0, the port is closed" {
    rows a
    serve -m a.cmm
    # a request whose body comes in two parts, SIGTERM in between
    local len half st=0
    len=$(wc -c <row1.json)
    half=$((len / 2))
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'POST /v1/models/a/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
        "$len" >&5
    head -c "$half" row1.json >&5
    sleep 0.3
    kill -TERM "$SERVE_PID"
    sleep 0.3
    kill -0 "$SERVE_PID" # draining: still there
    tail -c +$((half + 1)) row1.json >&5
    timeout 10 cat <&5 >slow.out
    exec 5<&-
    st=0
    wait "$SERVE_PID" || st=$?
    SERVE_PID=
    [ "$st" -eq 0 ]
    head -1 slow.out | grep -q '^HTTP/1.1 200 ' || {
        echo "the request in flight: $(cat slow.out)" >&2
        return 1
    }
    tail -1 slow.out >slow.json
    same "$(js slow.json 'd["prediction"]')" "$(cat pred1_a)"
    # closed: connection refused
    st=0
    curl -s -o /dev/null "$URL/healthz" || st=$?
    [ "$st" -eq 7 ]
    # SIGINT too ends it with 0
    serve -m a.cmm
    kill -INT "$SERVE_PID"
    st=0
    wait "$SERVE_PID" || st=$?
    SERVE_PID=
    [ "$st" -eq 0 ]
    [ "$(wc -l <serve.err)" -eq 1 ]
}

@test "SIGTERM: while a request drains, no new connection is taken" {
    rows a
    serve -m a.cmm
    local len st=0
    len=$(wc -c <row1.json)
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'POST /v1/models/a/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n{' \
        "$len" >&5
    sleep 0.3
    kill -TERM "$SERVE_PID"
    sleep 0.3
    kill -0 "$SERVE_PID"
    curl -s -m 5 -o /dev/null "$URL/healthz" || st=$?
    tail -c +2 row1.json >&5
    timeout 10 cat <&5 >slow.out
    exec 5<&-
    [ "$st" -eq 7 ] || {
        echo "a connection made after SIGTERM, while a request drained: curl status $st (7: refused)" >&2
        return 1
    }
}

# ---- usage -----------------------------------------------------------------------

# cm-serve started under `ulimit ULIMIT-ARGS` with --max-connections
# 1000: the soft limit of open files it listens with in $soft, and what
# it said before its listening line in lim.err.
serve_limited() { # serve_limited ULIMIT-ARGS...
    : >serve.err
    bash -c 'ulimit "$@" && exec cm-serve -m a.cmm -p 0 --max-connections 1000' _ "$@" \
        </dev/null 2>serve.err 3>&- &
    local pid=$! i
    for ((i = 0; i < 200; i++)); do
        grep -q 'listening on' serve.err && break
        sleep 0.05
    done
    soft=$(awk '/^Max open files/ { print $4 }' /proc/$pid/limits)
    kill "$pid" 2>/dev/null
    wait "$pid" || true
    grep -v 'listening on' serve.err >lim.err || true
}

@test "--max-connections 1000: the open-file limit raised to fit it; a warning when the hard limit is lower" {
    [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 1064 ] || skip "a hard limit of open files under 1064"
    serve_limited -Sn 256
    [ "$soft" = 1064 ]
    [ ! -s lim.err ]
    serve_limited -n 256
    [ "$soft" = 256 ]
    [ "$(cat lim.err)" = "cm-serve: --max-connections 1000: only 256 open files allowed (ulimit -Hn)" ]
}

@test "bad usage: no model, a missing or broken file, a bad name, a bad port, a port in use" {
    local try="Try 'cm-serve --help' for more information."
    assert_exit cm-serve 2 "cm-serve: no model: give one with -m [NAME=]MODEL.cmm
$try"
    assert_exit cm-serve 2 "cm-serve: no model: give one with -m [NAME=]MODEL.cmm
$try" -p 0
    assert_exit cm-serve 1 "cm-serve: nope.cmm: cannot open: No such file or directory" \
        -m a.cmm -m nope.cmm -p 0
    head -c 700 a.cmm >broken.cmm
    run --separate-stderr cm-serve -m broken.cmm -p 0 </dev/null
    [ "$status" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "cm-serve: broken.cmm: "* ]]
    assert_exit cm-serve 2 "cm-serve: --model: 'a b' is not a name of letters, digits, '_', '-', '.'
$try" -m 'a b=a.cmm' -p 0
    assert_exit cm-serve 2 "cm-serve: --model: 'a/b' is not a name of letters, digits, '_', '-', '.'
$try" -m 'a/b=a.cmm' -p 0
    assert_exit cm-serve 2 "cm-serve: --model: '' is not a name of letters, digits, '_', '-', '.'
$try" -m '=a.cmm' -p 0
    assert_exit cm-serve 2 "cm-serve: model 'a' given twice" -m a.cmm -m a=b.cmm -p 0
    assert_exit cm-serve 2 "cm-serve: --port: '65536' is not a whole number from 0 to 65535
$try" -m a.cmm -p 65536
    assert_exit cm-serve 2 "cm-serve: --port: 'http' is not a whole number from 0 to 65535
$try" -m a.cmm -p http
    assert_exit cm-serve 2 "cm-serve: --port: '-1' is not a whole number from 0 to 65535
$try" -m a.cmm -p -1
    assert_exit cm-serve 2 "cm-serve: unexpected argument 'a.cmm' (models go with -m)
$try" a.cmm
    assert_exit cm-serve 1 "cm-serve: nope: No such file or directory" -m a.cmm --token-file nope -p 0
    : >tok
    assert_exit cm-serve 1 "cm-serve: tok: no token on its first line" -m a.cmm --token-file tok -p 0
    # a port in use: another server has it
    serve -m a.cmm
    assert_exit cm-serve 1 "cm-serve: cannot listen on 127.0.0.1 port $PORT (in use?)" -m a.cmm -p "$PORT"
    # the first one still serves
    http GET /healthz
    status_is 200
}

# ---- -v ------------------------------------------------------------------------

@test "-v: one access log line per request: endpoint, status, milliseconds" {
    rows
    serve -m a.cmm -v
    echo '{"temp":' >bad.json
    post /v1/models/a/predict row1.json
    post /v1/models/a/predict bad.json
    http GET /v1/models
    http GET /v1/models/zz
    http GET /healthz
    http GET /metrics
    http GET /nope
    http DELETE /healthz
    local want='predict 200
predict 400
models 200
model 404
healthz 200
metrics 200
other 404
healthz 405'
    wait_log ' ms' 8
    sleep 0.2
    sed 1d serve.err >log
    [ "$(wc -l <log)" -eq 8 ]
    grep -vxE 'cm-serve: [a-z]+ [0-9]{3} [0-9]+\.[0-9]{3} ms' log && return 1
    [ "$(cut -d' ' -f2,3 log)" = "$want" ]
    # without -v: only the listening line
    teardown
    serve -m a.cmm
    http GET /healthz
    post /v1/models/a/predict row1.json
    sleep 0.2
    [ "$(wc -l <serve.err)" -eq 1 ]
    # -q: not even that
    teardown
    cm-serve -q -m a.cmm -p 0 </dev/null >q.out 2>q.err 3>&- &
    SERVE_PID=$!
    sleep 0.5
    kill -0 "$SERVE_PID"
    [ ! -s q.err ]
    [ ! -s q.out ]
}

# ---- the two 401s ----------------------------------------------------------------

@test "--token-file: 401 'a bearer token is needed' without one, 'the bearer token is wrong' with another, telling nothing of the right one" {
    rows a
    printf 's3cret-token\n' >tok
    serve -m a.cmm --token-file tok
    local needed='{"error":"a bearer token is needed"}' wrong='{"error":"the bearer token is wrong"}'
    local p bad
    for p in /v1/models /v1/models/a /metrics; do
        # no token: no header, another scheme, no scheme, an empty one
        http GET "$p"
        status_is 401
        [ "$(cat resp.body)" = "$needed" ]
        [ "$(header WWW-Authenticate)" = Bearer ]
        for bad in 'Basic s3cret-token' 's3cret-token' 'bearer s3cret-token' 'Bearer' \
            'Bearers3cret-token'; do
            http GET "$p" -H "Authorization: $bad"
            status_is 401
            [ "$(cat resp.body)" = "$needed" ] || {
                echo "Authorization: $bad: $(cat resp.body)" >&2
                return 1
            }
            [ "$(header WWW-Authenticate)" = Bearer ]
        done
        # another token, near the right one or far from it: the same answer
        for bad in 'Bearer wrong' 'Bearer s3cret-toke' 'Bearer s3cret-token2' \
            'Bearer S3CRET-TOKEN' 'Bearer s3cret-tokeN' 'Bearer  s3cret-token' \
            "Bearer $(printf 'x%.0s' {1..300})"; do
            http GET "$p" -H "Authorization: $bad"
            status_is 401
            [ "$(cat resp.body)" = "$wrong" ] || {
                echo "Authorization: $bad: $(cat resp.body)" >&2
                return 1
            }
            [ "$(header WWW-Authenticate)" = 'Bearer error="invalid_token"' ]
            [ "$(header Content-Type)" = application/json ]
        done
        http GET "$p" -H 'Authorization: Bearer s3cret-token'
        status_is 200
        [ -z "$(header WWW-Authenticate)" ]
    done
    post /v1/models/a/predict row1.json
    status_is 401
    [ "$(cat resp.body)" = "$needed" ]
    post /v1/models/a/predict row1.json -H 'Authorization: Bearer nope'
    status_is 401
    [ "$(cat resp.body)" = "$wrong" ]
    post /v1/models/a/predict row1.json -H 'Authorization: Bearer s3cret-token'
    status_is 200
    same "$(js resp.body 'd["prediction"]')" "$(cat pred1_a)"
    # both count as 401s
    http GET /metrics -H 'Authorization: Bearer s3cret-token'
    grep -qx 'cm_requests_total{endpoint="predict",code="401"} 2' resp.body
}

# hist.csv, the last N rows of the bike file, and req.json, a forecast
# request of H steps from them in the raw field form, the last row's
# covariates carried: forecast_request N H
forecast_request() {
    { head -1 "$BIKE"; tail -"$1" "$BIKE"; } >hist.csv
    python3 - hist.csv "$2" >req.json <<'PY'
import csv, json, sys
rows = [{k: v for k, v in r.items() if k not in ("instant", "casual", "registered")}
        for r in csv.DictReader(open(sys.argv[1]))]
print(json.dumps({"history": rows, "horizon": int(sys.argv[2]), "future_fill": "last"}))
PY
}

@test "a sequence model (gru): /forecast builds the windows from the request's history, cm-predict --horizon's numbers" {
    cm-features -y cnt -L cnt:1h,24h --keep-incomplete -o k.cmt "$BATS_FILE_TMPDIR/clean.cmt"
    cm-train -q -m gru --skip-missing --epochs 1 --hidden 8 -o g.cmm k.cmt
    serve -m g=g.cmm
    forecast_request 100 6
    post /v1/models/g/forecast req.json
    status_is 200
    same_forecast g.cmm 6
    # every step forecast: the windows were whole
    [ "$(grep -c ',[0-9][0-9.e-]*$' want.csv)" -eq 6 ]
}

@test "POST /v1/models/NAME/forecast: the history and horizon of a request give cm-predict --horizon's numbers; bad requests 400, too long a horizon 413" {
    serve -m a.cmm --max-horizon 48
    # the last 400 rows of January as a history, in the raw field form
    forecast_request 400 24
    post /v1/models/a/forecast req.json
    status_is 200
    same_forecast a.cmm 24
    # future rows instead of carrying the last: the same as --future
    python3 - hist.csv >req2.json <<'PY'
import csv, json, sys
rows = [{k: v for k, v in r.items() if k not in ("instant", "casual", "registered")}
        for r in csv.DictReader(open(sys.argv[1]))]
fut = [dict(r, dteday="2011-02-01", hr=str(h), cnt=None) for h, r in enumerate([rows[-1]] * 3)]
print(json.dumps({"history": rows, "future": fut, "horizon": 3}))
PY
    post /v1/models/a/forecast req2.json
    status_is 200
    [ "$(js resp.body 'len(d["forecast"])')" = 3 ]
    # future rows at one hour twice: 400, the fault the future's
    python3 - req2.json >req3.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["future"][1]["hr"] = d["future"][0]["hr"]
print(json.dumps(d))
PY
    post /v1/models/a/forecast req3.json
    status_is 400
    [ "$(js resp.body 'd["field"]')" = future ]
    [ "$(js resp.body 'd["error"]')" = "future: the time 2011-02-01T00:00:00Z repeats" ]
    printf '{"history": [], "horizon": 49}' >long.json
    post /v1/models/a/forecast long.json
    status_is 413
    [ "$(js resp.body 'd["field"]')" = horizon ]
    printf '{"history": [{"dteday": "2011-01-31", "hr": 23, "temp": "warm"}], "horizon": 3}' >bad.json
    post /v1/models/a/forecast bad.json
    status_is 400
    [ "$(js resp.body 'd["field"]')" = temp ]
    printf '{"history": [{"dteday": "2011-01-31", "hr": 23, "cnt": 10}], "horizon": 3, "future_fill": "last"}' >short.json
    post /v1/models/a/forecast short.json
    status_is 400
    js resp.body 'd["error"]' | grep -q '^the history is shorter than the look-back: 24 steps of 1h needed before the first forecast, and [0-9]* there (cnt_lag24h reaches back to '
    # without "history": the history held (cm-serve-live.bats), none here
    printf '{"horizon": 3}' >nohist.json
    post /v1/models/a/forecast nohist.json
    status_is 409
    [ "$(js resp.body 'd["error"]')" = "no history held: post rows to /observations first" ]
    http GET /v1/models/a/forecast
    status_is 400
    [ "$(js resp.body 'd["error"]')" = "horizon=H: a whole number of steps, from 1" ]
    http DELETE /v1/models/a/forecast
    status_is 405
    [ "$(header Allow)" = "GET, POST" ]
}
