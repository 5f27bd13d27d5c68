#!/usr/bin/env bats
# cm-serve's live history (issue 19): rows posted to /observations, then
# GET /forecast from them, against cm-predict --horizon on the same rows
# to the last bit; late and repeated rows by the recipe's --dedupe; kill -9
# and a restart at 20 random moments, the forecasts unchanged; a torn
# journal tail cut; a reload keeping the history, or starting a fresh one
# for other raw fields; the ingest token; the limits; /series, DELETE and
# /metrics.  Models: linear ones on the January bike file (a: no --dedupe,
# b: --l2 100, last: --dedupe last, first: --dedupe first, cat: weathersit a
# category), and s: two stations A and B (B counting twice A), --by.
load helpers
load serve
bats_require_minimum_version 1.5.0

BIKE="$DATA/bike-2011-01.csv"
CLEAN=(--time dteday,hr --drop instant,casual,registered)
FEAT=(-y cnt -L cnt:1h,24h)

setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    awk -F, -v OFS=, 'NR == 1 { print "station," $0; next }
        { print "A," $0; $17 = $17 * 2; print "B," $0 }' "$BIKE" >two.csv
    {
        cm-clean "${CLEAN[@]}" -o c.cmt "$BIKE" && cm-features "${FEAT[@]}" -o f.cmt c.cmt &&
            cm-train -q -m linear -o a.cmm f.cmt &&
            cm-train -q -m linear --l2 100 -o b.cmm f.cmt &&
            for d in first last; do
                cm-clean "${CLEAN[@]}" --dedupe $d -o c$d.cmt "$BIKE" &&
                    cm-features "${FEAT[@]}" -o f$d.cmt c$d.cmt &&
                    cm-train -q -m linear -o $d.cmm f$d.cmt || exit 1
            done &&
            cm-clean "${CLEAN[@]}" -t weathersit=cat -o cc.cmt "$BIKE" &&
            cm-features "${FEAT[@]}" -o fc.cmt cc.cmt && cm-train -q -m linear -o cat.cmm fc.cmt &&
            cm-clean "${CLEAN[@]}" --key station -o cs.cmt two.csv &&
            cm-features "${FEAT[@]}" --by station -o fs.cmt cs.cmt &&
            cm-train -q -m linear -o s.cmm fs.cmt
    } 2>prep.err || {
        echo "making the models failed:" >&2
        cat prep.err >&2
        return 1
    }
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    cp "$BATS_FILE_TMPDIR"/*.cmm "$BATS_FILE_TMPDIR/two.csv" . || return 1
    SERVE_PID= PORT= URL=
    BG_PIDS=()
}

# The CSV rows of FILE (raw, instant, casual and registered left out) as
# a JSON array of objects, or with -1 one object per line: rows_json FILE
rows_json() {
    local one=0
    [ "$1" = -1 ] && one=1 && shift
    "$PY" - "$1" "$one" <<'PY'
import csv, json, sys
rows = [{k: v for k, v in r.items() if k not in ("instant", "casual", "registered")}
        for r in csv.DictReader(open(sys.argv[1]))]
if sys.argv[2] == "1":
    for r in rows:
        print(json.dumps(r))
else:
    print(json.dumps(rows))
PY
}

# The last N rows of the bike file (header first) into hist.csv.
last_rows() {
    { head -1 "$BIKE"; tail -"$1" "$BIKE"; } >hist.csv
}

# POST every line of FILE (a JSON object each) to model M's
# /observations, one request each, each answered 200: post_each M FILE
post_each() {
    local line
    while IFS= read -r line; do
        printf '%s' "$line" >one.json
        post "/v1/models/$1/observations" one.json && status_is 200 || return 1
    done <"$2"
}

@test "rows posted to /observations, then GET /forecast: cm-predict --horizon's numbers on the same rows, to the last bit" {
    serve -m a.cmm
    last_rows 48
    rows_json hist.csv >obs.json
    post /v1/models/a/observations obs.json
    status_is 200
    [ "$(js resp.body 'd')" = '{"accepted": 48, "late": 0, "duplicate": 0, "rejected": []}' ]
    http GET '/v1/models/a/forecast?horizon=24&future=last'
    status_is 200
    same_forecast a.cmm 24
    # one row a request, as a sensor posts: the same history, the same
    # forecast; the look-back of 24 h and the last row are what is kept
    teardown
    serve -m a.cmm
    rows_json -1 hist.csv >each.json
    post_each a each.json
    http GET /v1/models/a/series
    status_is 200
    [ "$(js resp.body 'd')" = '{"series": [{"series": null, "rows": 25, "first": "2011-01-30T23:00:00Z", "last": "2011-01-31T23:00:00Z", "forecast": true}]}' ]
    http GET '/v1/models/a/forecast?horizon=24&future=last'
    status_is 200
    same_forecast a.cmm 24
    # POST without "history": the history held, the future rows given
    printf '{"horizon": 3, "future_fill": "last"}' >req.json
    post /v1/models/a/forecast req.json
    status_is 200
    same_forecast a.cmm 3
}

@test "series by --by: each forecast from its own rows; series=ID asks one; DELETE drops one" {
    serve -m s.cmm
    { head -1 two.csv; tail -100 two.csv; } >h2.csv
    rows_json h2.csv >obs.json
    post /v1/models/s/observations obs.json
    status_is 200
    [ "$(js resp.body 'd["accepted"]')" = 100 ]
    http GET '/v1/models/s/forecast?horizon=6&future=last'
    status_is 200
    same_forecast s.cmm 6 h2.csv
    [ "$(js resp.body '",".join(f["station"] for f in d["forecast"])')" = A,A,A,A,A,A,B,B,B,B,B,B ]
    http GET '/v1/models/s/forecast?horizon=6&future=last&series=B'
    status_is 200
    { head -1 two.csv; tail -100 two.csv | grep '^B,'; } >hb.csv
    same_forecast s.cmm 6 hb.csv
    http GET /v1/models/s/series
    [ "$(js resp.body '[(s["series"], s["rows"]) for s in d["series"]]')" = '[["A", 25], ["B", 25]]' ]
    http DELETE '/v1/models/s/series?series=A'
    status_is 200
    http GET '/v1/models/s/forecast?horizon=6&series=A'
    status_is 404
    [ "$(js resp.body 'd')" = '{"error": "no such series", "field": "series"}' ]
    http DELETE '/v1/models/s/series?series=A'
    status_is 404
    http GET /v1/models/s/series
    [ "$(js resp.body '[s["series"] for s in d["series"]]')" = '["B"]' ]
}

@test "too short a history: 409 with the steps missing; none at all: 409" {
    serve -m a.cmm
    http GET '/v1/models/a/forecast?horizon=2'
    status_is 409
    [ "$(js resp.body 'd["error"]')" = "no history held: post rows to /observations first" ]
    last_rows 10
    rows_json hist.csv >obs.json
    post /v1/models/a/observations obs.json
    http GET '/v1/models/a/forecast?horizon=2'
    status_is 409
    [ "$(js resp.body 'd["error"]')" = "the history: 14 steps of history missing (24 needed)" ]
    http GET /v1/models/a/series
    [ "$(js resp.body '(d["series"][0]["forecast"], d["series"][0]["missing_steps"])')" = '[false, 14]' ]
    # the one series of a model without --by: dropped without series=
    http DELETE /v1/models/a/series
    status_is 200
    [ "$(js resp.body 'd')" = '{"dropped": null}' ]
    http GET /v1/models/a/series
    [ "$(js resp.body 'd')" = '{"series": []}' ]
}

@test "late rows take their place in time; rows of a time held follow --dedupe: last replaces, first keeps, none refuses" {
    last_rows 30
    rows_json -1 hist.csv >each.json
    # the rows in another order: the 28th before the 27th
    { sed -n 1,26p each.json; sed -n 28p each.json; sed -n 27p each.json; sed -n '29,$p' each.json; } >shuffled.json
    serve -m a.cmm
    post_each a shuffled.json
    http GET '/v1/models/a/forecast?horizon=4&future=last'
    status_is 200
    same_forecast a.cmm 4
    get_metrics
    [ "$(metric 'cm_observations_total{model="a",outcome="late"}')" = 1 ]
    [ "$(metric 'cm_observations_total{model="a",outcome="accepted"}')" = 30 ]
    # the last row again with another count
    tail -1 each.json | sed 's/"cnt": "[0-9]*"/"cnt": "999"/' >again.json
    grep -q '"cnt": "999"' again.json
    post /v1/models/a/observations again.json
    status_is 400
    [ "$(js resp.body 'd["rejected"][0]["error"]')" = "the time 2011-01-31T23:00:00Z is held already, and the model's recipe keeps both rows of a time (cm-clean --dedupe first|last would choose)" ]
    teardown
    for d in last first; do
        serve -m $d.cmm
        post_each $d each.json
        post /v1/models/$d/observations again.json
        status_is 200
        [ "$(js resp.body '(d["accepted"], d["duplicate"])')" = "$([ $d = last ] && echo '[1, 1]' || echo '[0, 1]')" ]
        http GET "/v1/models/$d/forecast?horizon=3&future=last"
        status_is 200
        if [ $d = last ]; then
            sed '$s/,[0-9]*$/,999/' hist.csv >want-hist.csv
        else
            cp hist.csv want-hist.csv
        fi
        same_forecast $d.cmm 3 want-hist.csv
        teardown
    done
}

@test "a row before the history kept (--keep) is refused, a row of another series is not" {
    serve -m a.cmm --keep 30
    last_rows 40
    rows_json -1 hist.csv >each.json
    tail -1 each.json >newest.json
    post_each a newest.json
    printf '%s' "$(head -1 each.json)" >old.json
    post /v1/models/a/observations old.json
    status_is 400
    [ "$(js resp.body 'd["rejected"][0]["error"]')" = "2011-01-30T08:00:00Z is before the history kept (--keep)" ]
    # within 30 steps: a late row, taken
    printf '%s' "$(sed -n 20p each.json)" >late.json
    post /v1/models/a/observations late.json
    status_is 200
    [ "$(js resp.body '(d["accepted"], d["late"])')" = '[1, 1]' ]
}

@test "kill -9 after N acknowledged posts, at 20 random N, then a restart: the same history and forecasts" {
    last_rows 40
    rows_json -1 hist.csv >each.json
    for round in $(seq 20); do
        n=$((26 + RANDOM % 15))
        sync=$([ $((round % 2)) = 0 ] && echo every || echo interval)
        rm -rf state && mkdir state
        serve -m a.cmm --state state --sync $sync
        post_each a <(head -$n each.json)
        http GET '/v1/models/a/forecast?horizon=6&future=last'
        status_is 200
        cp resp.body before.json
        http GET /v1/models/a/series
        cp resp.body series-before.json
        kill -9 "$SERVE_PID"
        wait "$SERVE_PID" || true
        SERVE_PID=
        serve -m a.cmm --state state --sync $sync
        http GET '/v1/models/a/forecast?horizon=6&future=last'
        status_is 200
        cmp before.json resp.body || { echo "round $round: $n rows, --sync $sync" >&2; false; }
        # and the forecast is cm-predict's of those rows
        { head -1 "$BIKE"; tail -40 "$BIKE" | head -$n; } >h.csv
        same_forecast a.cmm 6 h.csv
        http GET /v1/models/a/series
        cmp series-before.json resp.body
        [ -z "$(grep -v 'listening on' serve.err)" ]
        teardown
    done
}

@test "a journal whose tail was torn: cut at the last whole record, said once, and appended to after" {
    last_rows 30
    rows_json -1 hist.csv >each.json
    mkdir state
    serve -m a.cmm --state state
    post_each a each.json
    teardown
    size=$(stat -c %s state/a.journal)
    # half of the last record gone, as a crash in mid-write leaves it
    truncate -s $((size - 40)) state/a.journal
    serve -m a.cmm --state state
    grep -E "^cm-serve: a: state/a.journal: the last [0-9]+ bytes are not whole records \(a write torn by a crash\?\): cut at byte [0-9]+$" serve.err
    http GET /v1/models/a/series
    [ "$(js resp.body 'd["series"][0]["rows"]')" = 25 ]
    [ "$(js resp.body 'd["series"][0]["last"]')" = 2011-01-31T22:00:00Z ]
    printf '%s' "$(tail -1 each.json)" >last.json
    post /v1/models/a/observations last.json
    status_is 200
    teardown
    serve -m a.cmm --state state
    [ "$(grep -c "not whole records" serve.err)" = 0 ]
    http GET '/v1/models/a/forecast?horizon=5&future=last'
    same_forecast a.cmm 5
    # another file in the journal's place: kept aside, the history empty
    teardown
    printf 'not a journal' >state/a.journal
    serve -m a.cmm --state state
    grep -E "^cm-serve: a: state/a.journal: not a journal: moved to state/a.journal.[0-9]+, the history starts empty$" serve.err
    [ "$(cat state/a.journal.*)" = "not a journal" ]
    http GET /v1/models/a/series
    [ "$(js resp.body 'd')" = '{"series": []}' ]
}

@test "a journal grown past twice its size and 1 MiB is rewritten from the history held: smaller, and the same after a restart" {
    mkdir state
    serve -m a.cmm --state state
    # 16 requests of 1000 hourly rows from 2011-01-01 on: 1.3 MB
    "$PY" - <<'PY'
import json, time
for r in range(16):
    rows = []
    for k in range(r * 1000, (r + 1) * 1000):
        t = time.gmtime(1293840000 + k * 3600)
        rows.append({"dteday": time.strftime("%Y-%m-%d", t), "hr": t.tm_hour, "season": 1,
                     "yr": 0, "mnth": t.tm_mon, "holiday": 0, "weekday": t.tm_wday,
                     "workingday": 1, "weathersit": 1, "temp": 0.3, "atemp": 0.3,
                     "hum": 0.5, "windspeed": 0.1, "cnt": k % 300})
    json.dump(rows, open("obs%d.json" % r, "w"))
PY
    for r in $(seq 0 15); do
        post /v1/models/a/observations obs$r.json
        status_is 200
    done
    # the tick (once a second) rewrites it: 25 rows' worth, not 16,000
    for _ in $(seq 50); do
        [ "$(stat -c %s state/a.journal)" -lt 100000 ] && break
        sleep 0.1
    done
    [ "$(stat -c %s state/a.journal)" -lt 100000 ]
    http GET '/v1/models/a/forecast?horizon=3&future=last'
    status_is 200
    cp resp.body before.json
    teardown
    serve -m a.cmm --state state
    http GET '/v1/models/a/forecast?horizon=3&future=last'
    cmp before.json resp.body
    http GET /v1/models/a/series
    [ "$(js resp.body '(d["series"][0]["rows"], d["series"][0]["last"])')" = "[25, \"$(date -u -d @$((1293840000 + 15999 * 3600)) +%FT%TZ)\"]" ]
}

@test "rows of four series posted at once, one a request, while forecasts are asked: none lost, each series' forecast cm-predict's" {
    serve -m s.cmm --sync interval
    # S1..S4: the station A rows of the last 40 hours, counts times 1..4
    for k in 1 2 3 4; do
        { head -1 two.csv; tail -80 two.csv | grep '^A,' | awk -F, -v OFS=, -v k=$k '{ $1 = "S" k; $18 = $18 * k; print }'; } >s$k.csv
        rows_json -1 s$k.csv >s$k.json
    done
    for k in 1 2 3 4; do
        ( # a directory each: http's files are its own
            set +e
            mkdir p$k && cd p$k && post_each s ../s$k.json >../post$k.log 2>&1
            echo $? >../post$k.rc
        ) &
        BG_PIDS+=($!)
    done
    # forecasts meanwhile: each answered 200 or 409 (too short yet)
    for _ in $(seq 30); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/s/forecast?horizon=2&future=last")
        [ "$code" = 200 ] || [ "$code" = 409 ] || { echo "forecast: $code" >&2; false; }
    done
    for p in "${BG_PIDS[@]}"; do wait "$p"; done
    BG_PIDS=()
    for k in 1 2 3 4; do
        [ "$(cat post$k.rc)" = 0 ] || { cat post$k.log >&2; false; }
        http GET "/v1/models/s/forecast?horizon=4&future=last&series=S$k"
        status_is 200
        same_forecast s.cmm 4 s$k.csv
    done
    get_metrics
    [ "$(metric 'cm_observations_total{model="s",outcome="accepted"}')" = 160 ]
}

@test "a reload keeps the history for the same raw fields; other fields start a fresh one, the old journal kept aside" {
    last_rows 30
    rows_json hist.csv >obs.json
    mkdir state
    cp a.cmm m.cmm
    serve -m m=m.cmm --state state
    post /v1/models/m/observations obs.json
    status_is 200
    cp b.cmm m.cmm
    kill -HUP "$SERVE_PID"
    wait_log "m: reloaded (version 2)"
    http GET '/v1/models/m/forecast?horizon=4&future=last'
    status_is 200
    same_forecast b.cmm 4
    # weathersit a category now: not the same fields
    cp cat.cmm m.cmm
    kill -HUP "$SERVE_PID"
    wait_log "m: reloaded (version 3)"
    grep -E "^cm-serve: m: a fresh history: the new version reads other raw fields; state/m.journal: written for other raw fields than the model reads: moved to state/m.journal.[0-9]+, the history starts empty$" serve.err
    http GET /v1/models/m/series
    [ "$(js resp.body 'd')" = '{"series": []}' ]
    ls state/m.journal.* >/dev/null
}

@test "--ingest-token-file: that token posts observations and is refused (403) everywhere else; --token-file's goes everywhere" {
    echo s3cret >t.txt
    echo sensor >i.txt
    serve -m a.cmm --token-file t.txt --ingest-token-file i.txt
    last_rows 30
    rows_json hist.csv >obs.json
    post /v1/models/a/observations obs.json
    status_is 401
    post /v1/models/a/observations obs.json -H 'Authorization: Bearer sensor'
    status_is 200
    for p in '/v1/models/a/forecast?horizon=1&future=last' /v1/models/a/series /v1/models/a /v1/models /metrics; do
        http GET "$p" -H 'Authorization: Bearer sensor'
        status_is 403
        [ "$(js resp.body 'd["error"]')" = "the ingest token posts observations only" ]
        http GET "$p" -H 'Authorization: Bearer s3cret'
        status_is 200
    done
    post /v1/models/a/predict obs.json -H 'Authorization: Bearer sensor'
    status_is 403
    http GET '/v1/models/a/forecast?horizon=1' -H 'Authorization: Bearer wrong'
    status_is 401
    # the ingest token alone: observations need it, the rest is open
    teardown
    serve -m a.cmm --ingest-token-file i.txt
    post /v1/models/a/observations obs.json
    status_is 401
    http GET /v1/models/a/series
    status_is 200
}

@test "limits: --max-batch rows (413), --max-series (429, the rows of held series taken), --max-body (413)" {
    serve -m s.cmm --max-batch 50 --max-series 1 --max-body 64K
    { head -1 two.csv; tail -60 two.csv; } >h.csv
    rows_json h.csv >obs.json
    post /v1/models/s/observations obs.json
    status_is 413
    [ "$(js resp.body 'd["error"]')" = "a batch of 60 rows: at most 50" ]
    { head -1 two.csv; tail -40 two.csv; } >h.csv
    rows_json h.csv >obs.json
    post /v1/models/s/observations obs.json
    status_is 429
    [ "$(js resp.body '(d["accepted"], len(d["rejected"]))')" = '[20, 20]' ]
    [ "$(js resp.body 'd["rejected"][0]["error"]')" = "series 'B' is new, and the server holds as many as --max-series allows" ]
    head -c 70000 /dev/zero | tr '\0' ' ' >big.json
    post /v1/models/s/observations big.json
    status_is 413
}

@test "bad observations: each refused with its index, error and field; the good ones taken; bad queries 400" {
    serve -m a.cmm
    printf '[{"dteday": "2011-01-31", "hr": 1, "temp": "warm", "cnt": 3}, 7, {"dteday": "2011-01-31", "hr": 2, "cnt": 5}, {"hr": 3}, {"bogus": 1}]' >bad.json
    post /v1/models/a/observations bad.json
    status_is 200
    [ "$(js resp.body '(d["accepted"], [r["index"] for r in d["rejected"]])')" = '[1, [0, 1, 3, 4]]' ]
    [ "$(js resp.body 'd["rejected"][0]["field"]')" = temp ]
    [ "$(js resp.body 'd["rejected"][1]["error"]')" = "not an object of fields" ]
    [ "$(js resp.body 'd["rejected"][3]["field"]')" = bogus ]
    printf '"text"' >str.json
    post /v1/models/a/observations str.json
    status_is 400
    printf '{' >broken.json
    post /v1/models/a/observations broken.json
    status_is 400
    for q in '' '?horizon=0' '?horizon=x' '?horizon=2&future=next'; do
        http GET "/v1/models/a/forecast$q"
        status_is 400
    done
    http GET '/v1/models/a/forecast?horizon=100000'
    status_is 413
    http PUT /v1/models/a/observations
    status_is 405
    [ "$(header Allow)" = POST ]
    http POST /v1/models/a/series
    status_is 405
    [ "$(header Allow)" = "GET, DELETE" ]
    http GET /v1/models/nope/series
    status_is 404
}

@test "/metrics: rows by outcome, series held, journal bytes, fsync and forecast histograms" {
    mkdir state
    serve -m a.cmm --state state
    last_rows 30
    rows_json hist.csv >obs.json
    post /v1/models/a/observations obs.json
    post /v1/models/a/observations obs.json
    http GET '/v1/models/a/forecast?horizon=2&future=last'
    status_is 200
    get_metrics
    [ "$(metric 'cm_observations_total{model="a",outcome="accepted"}')" = 30 ]
    [ "$(metric 'cm_observations_total{model="a",outcome="rejected"}')" = 30 ]
    [ "$(metric 'cm_series_held{model="a"}')" = 1 ]
    [ "$(metric 'cm_journal_bytes{model="a"}')" = "$(stat -c %s state/a.journal)" ]
    [ "$(metric cm_journal_fsync_seconds_count)" -ge 1 ]
    [ "$(metric cm_forecast_seconds_count)" = 1 ]
}

@test "--state that is no directory, --sync and --keep that are no such things: exit 1 or 2 with one line" {
    run -1 --separate-stderr cm-serve -m a.cmm --state nowhere
    [ "$stderr" = "cm-serve: --state nowhere: No such file or directory" ]
    touch afile
    run -1 --separate-stderr cm-serve -m a.cmm --state afile
    [ "$stderr" = "cm-serve: --state afile: not a directory" ]
    run -2 cm-serve -m a.cmm --sync sometimes
    run -2 cm-serve -m a.cmm --keep soon
    # a span that is no whole number of the model's steps
    run -2 --separate-stderr cm-serve -m a.cmm --keep 30m
    [ "$stderr" = "cm-serve: --keep: '30m' is not a whole number of steps of 1h (1 to 100000)" ]
}
