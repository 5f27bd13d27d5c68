# cm-serve in the background for a bats file (cm-serve.bats,
# cm-serve-live.bats, serve-stress.bats): serve starts it on a free port,
# teardown stops it and the request loops a test started (their PIDs in
# BG_PIDS); http and post ask it, js reads its JSON answers.

# JSON is read by Python (the system one when there: it starts faster)
PY=$(command -v /usr/bin/python3 || command -v python3)

# Stops what the test started, by PID: the request loops, then the server
# (SIGTERM, then SIGKILL when it has not ended in 5 s).
teardown() {
    local p i
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    BG_PIDS=()
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$SERVE_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    SERVE_PID=
    return 0
}

# Starts `cm-serve ARGS -p 0` in the background, its stderr in serve.err,
# and waits for its line `listening on http://127.0.0.1:PORT (N models)`;
# sets SERVE_PID, PORT and URL.
serve() {
    : >serve.err # before the background job: it may open it later
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
    local how=(-X "$method")
    [ "$method" = HEAD ] && how=(-I)
    code=$(curl -s -S -o resp.body -D resp.hdr -w '%{http_code}' "${how[@]}" "$@" \
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
    "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))' "$1" "$2"
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

# The forecast in resp.body is cm-predict's of model M from CSV (default
# hist.csv), H steps, the last row's covariates carried: row for row, the
# same times and steps, the same doubles (read back, to the last bit), no
# forecast where cm-predict has none; want.csv keeps cm-predict's.
# same_forecast M H [CSV]
same_forecast() {
    cm-predict -m "$1" -H "$2" --future-fill last "${3:-hist.csv}" | sed 1d >want.csv
    js resp.body '"\n".join(f["time"] + "," + str(f["step"]) + "," + ("" if f["prediction"] is None else repr(f["prediction"])) for f in d["forecast"])' >got.csv
    [ -s want.csv ] && [ "$(wc -l <got.csv)" -eq "$(wc -l <want.csv)" ]
    paste -d, want.csv got.csv | awk -F, '$1 != $4 || $2 != $5 || ($3 == "") != ($6 == "") || ($3 != "" && $3 + 0 != $6 + 0) { print; bad = 1 } END { exit bad }'
}
