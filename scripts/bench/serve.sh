#!/bin/sh
# cm-serve against Flask (the development server) and gunicorn with 2
# workers (../shared/bench/peer-serve-flask.py), driven by wrk through
# ../shared/bench/bench-serve.sh: one prediction per request, 32
# connections, wrk sharing the 2 cores.  Both models are MLP 64,64 on the
# reference bike features.  Then cm-serve's memory over a 60 s run.
# Needs wrk, python3-flask and python3-gunicorn (not in install-deps:
# only this benchmark uses them).
. "$(dirname "$0")/common.sh"
peers_blas
DUR=${DUR:-10s}
LONG=${LONG:-60s}
peers="$shared/bench"
csv="$shared/data/features/bike.csv"
command -v wrk >/dev/null || { echo "serve.sh: wrk missing; skipped"; exit 0; }
need "$peers/bench-serve.sh" "$csv"

"$BIN/cm-clean" -q "$csv" | "$BIN/cm-train" -q -y cnt -o "$tmp/m.cmm"
# One row of the features as a JSON object, the target left out.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i }
    NR == 2000 { s = "{"; for (i = 1; i <= NF; i++) if (h[i] != "cnt")
        s = s (s == "{" ? "" : ",") "\"" h[i] "\":" $i; print s "}" }' "$csv" > "$tmp/body.json"
run() { # run LABEL PORT PATH CMD...
    label=$1 port=$2 path=$3
    shift 3
    out=$(bash "$peers/bench-serve.sh" --port "$port" --path "$path" --body "$tmp/body.json" \
        -d "$DUR" -- "$@" 2>"$tmp/err") || { echo "$label failed:"; cat "$tmp/err"; return; }
    echo "$label $out"
}
{
    run cm-serve 8091 /v1/models/m/predict "$BIN/cm-serve" -q -p 8091 -t 2 -m "$tmp/m.cmm"
    if $PY -c 'import flask, gunicorn, torch' 2>/dev/null; then
        $PY "$peers/peer-train.py" "$csv" --target cnt --model torch-mlp \
            --save "$tmp/m.pt" >/dev/null 2>&1
        run flask-dev 8092 /predict $PY "$peers/peer-serve-flask.py" -m "$tmp/m.pt" \
            --port 8092 --server dev
        run gunicorn-2 8093 /predict $PY "$peers/peer-serve-flask.py" -m "$tmp/m.pt" \
            --port 8093 --server gunicorn --workers 2
    else
        echo "serve.sh: flask, gunicorn or torch missing; the peers skipped"
    fi
} | tee "$tmp/all"
awk '{ for (i = 2; i <= NF; i++) { split($i, a, "="); v[$1, a[1]] = a[2] } n[$1] = 1 }
    END { for (p in n) if (p != "cm-serve" && v[p, "requests_per_sec"] > 0)
        printf "cm-serve / %s: %.1fx requests/s\n", p,
            v["cm-serve", "requests_per_sec"] / v[p, "requests_per_sec"] }' "$tmp/all"

# Memory: resident size at 10 s and at the end of a long run.
"$BIN/cm-serve" -q -p 8094 -t 2 -m "$tmp/m.cmm" & pid=$!
sleep 1
wrk -t2 -c32 -d"$LONG" -s /dev/stdin http://127.0.0.1:8094/v1/models/m/predict >/dev/null <<LUA &
wrk.method = "POST"
wrk.body = [[$(cat "$tmp/body.json")]]
wrk.headers["Content-Type"] = "application/json"
LUA
wp=$!
sleep 10
early=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
wait $wp
late=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
kill -TERM $pid
wait $pid || true
echo "cm-serve RSS: ${early} KiB after 10 s, ${late} KiB after $LONG"
