#!/bin/sh
# cm-serve's live history (issue 19), driven by wrk on the same 2 cores:
# observations posted one row a request and 100 rows a request, with
# --sync every and --sync interval (the journal on this disk); 24-step
# forecasts from the history held of 100 series; then a mixed run of both
# for LONG, the server's RSS at 10 s and at the end.  The model: linear,
# cnt lags of 1 h and 24 h, two stations of the January bike file (--by
# station).  Each wrk thread posts 100 series of its own, as a city's 100
# sensors would: a row of each in turn, an hour after its row before.
. "$(dirname "$0")/common.sh"
DUR=${DUR:-10s}
LONG=${LONG:-60s}
command -v wrk >/dev/null || { echo "live.sh: wrk missing; skipped"; exit 0; }
data="$here/../../testdata/bike-2011-01.csv"
need "$data"

awk -F, -v OFS=, 'NR == 1 { print "station," $0; next }
    { print "A," $0; $17 = $17 * 2; print "B," $0 }' "$data" >"$tmp/two.csv"
"$BIN/cm-clean" -q --time dteday,hr --key station --drop instant,casual,registered "$tmp/two.csv" |
    "$BIN/cm-features" -y cnt -L cnt:1h,24h --by station |
    "$BIN/cm-train" -q -m linear -o "$tmp/s.cmm"

# A row of station S at hour k after 2011-02-01 (Lua, for wrk).
cat >"$tmp/row.lua" <<'LUA'
function row(s, k)
  local t = 1296518400 + k * 3600
  return string.format('{"station":"%s","dteday":"%s","hr":%d,"season":1,"yr":0,"mnth":2,' ..
    '"holiday":0,"weekday":2,"workingday":1,"weathersit":1,"temp":0.22,"atemp":0.2,' ..
    '"hum":0.6,"windspeed":0.1,"cnt":%d}', s, os.date("!%Y-%m-%d", t),
    tonumber(os.date("!%H", t)), 20 + k % 200)
end
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
LUA
# per: rows a request; the k-th row of a thread is series k % 100's row
# of hour k / 100, so a request held up behind others still finds its
# series' history a few hours back, never past the look-back of 24
ingest_lua() {
    cat "$tmp/row.lua"
    cat <<LUA
local k = 0
function request()
  local rows = {}
  for i = 1, $1 do rows[i] = row("T" .. id .. "-" .. k % 100, math.floor(k / 100)); k = k + 1 end
  local body = $([ "$1" = 1 ] && echo 'rows[1]' || echo '"[" .. table.concat(rows, ",") .. "]"')
  return wrk.format("POST", "/v1/models/s/observations",
                    {["Content-Type"] = "application/json"}, body)
end
LUA
}
cat >"$tmp/forecast.lua" <<'LUA'
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", "/v1/models/s/forecast?horizon=24&future=last&series=S" .. (n % 100))
end
LUA

port=8095
start() { # start ARGS...: a fresh server, its state in $tmp/state
    rm -rf "$tmp/state"
    mkdir "$tmp/state"
    port=$((port + 1))
    "$BIN/cm-serve" -q -p $port -t 2 -m "$tmp/s.cmm" --state "$tmp/state" "$@" &
    pid=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return
        sleep 0.2
    done
}
stop() {
    kill -TERM $pid
    wait $pid || true
}
# wrk's figures: requests/s, p50, p99, and the answers not 2xx
measure() { # measure LABEL ROWS LUA
    wrk -t2 -c16 -d"$DUR" --latency -s "$3" "http://127.0.0.1:$port" >"$tmp/wrk" 2>&1
    awk -v label="$1" -v rows="$2" '
        /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { bad = $NF }
        END { printf "%s: %.0f requests/s, %.0f rows/s, p50 %s, p99 %s, %d not 2xx\n",
                  label, rps, rps * rows, p50, p99, bad }' "$tmp/wrk"
}

for sync in every interval; do
    for per in 1 100; do
        ingest_lua $per >"$tmp/ingest$per.lua"
        start --sync $sync
        measure "observations, $per row(s) a request, --sync $sync" $per "$tmp/ingest$per.lua"
        stop
    done
done

# 100 series of 48 hours each, then forecasts of 24 steps, a series each
"$PY" - "$tmp/hist.json" <<'PY'
import json, sys, time
rows = []
for s in range(100):
    for k in range(48):
        t = 1296518400 + k * 3600
        rows.append({"station": "S%d" % s, "dteday": time.strftime("%Y-%m-%d", time.gmtime(t)),
                     "hr": time.gmtime(t).tm_hour, "season": 1, "yr": 0, "mnth": 2,
                     "holiday": 0, "weekday": 2, "workingday": 1, "weathersit": 1,
                     "temp": 0.22, "atemp": 0.2, "hum": 0.6, "windspeed": 0.1,
                     "cnt": 20 + (k * 7 + s) % 200})
json.dump(rows, open(sys.argv[1], "w"))
PY
start --sync interval --max-batch 10000
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @"$tmp/hist.json" \
    "http://127.0.0.1:$port/v1/models/s/observations"
measure "forecasts of 24 steps, 100 series held" 1 "$tmp/forecast.lua"

# Mixed, for LONG: one wrk posting rows, one asking forecasts
ingest_lua 1 >"$tmp/ingest1.lua"
wrk -t1 -c8 -d"$LONG" -s "$tmp/ingest1.lua" "http://127.0.0.1:$port" >/dev/null 2>&1 &
w1=$!
wrk -t1 -c8 -d"$LONG" -s "$tmp/forecast.lua" "http://127.0.0.1:$port" >/dev/null 2>&1 &
w2=$!
sleep 10
early=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
wait $w1 $w2
late=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
echo "mixed run: RSS ${early} KiB after 10 s, ${late} KiB after $LONG"
stop
