#!/usr/bin/env bats
# Sequence models (cm-train -m gru|lstm|cnn): the rows chosen and held
# out as peer-seq.py chooses them (its windows: cm-features.bats), the model's replay on raw CSV and on a stream,
# forecasts and backtests through windows, the same bits for any -j and
# the same seed, and each bad input's one line.
load helpers

bats_require_minimum_version 1.5.0

CLEAN=(--time dteday,hr --drop instant,casual,registered,mnth,weekday -t season=cat -t weathersit=cat)
SEQ=cnt,temp,atemp,hum,windspeed

# The bike pipeline up to the training stream: bike.cmt from $1, its rows
# with a missing lag kept (their readings are history for the windows).
bike() {
    cm-clean "${CLEAN[@]}" "$1" | cm-features -y cnt -L cnt:1h,2h,24h,168h --keep-incomplete >bike.cmt
}

# The value of key $2 in model $1's metadata.
meta() {
    cm-cat --info "$1" | sed -n "s/^  $2=//p"
}

@test "gru: trains on the rows peer-seq.py keeps and holds out the same last 20%" {
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m gru --skip-missing --window 24 --epochs 1 bike.cmt -o gru.cmm
    [ "$(meta gru.cmm train_rows)" = 178 ]
    [ "$(meta gru.cmm valid_rows)" = 44 ]
    [ "$(meta gru.cmm window)" = 24 ]
    [ "$(meta gru.cmm parameters)" = 19265 ]
    # the default sequence: the target and the weather, not the flags
    cm-cat --info gru.cmm | grep -q "sequence=$SEQ:24:3600s"
    # the rows before the first whole window, counted
    [ "$(meta gru.cmm rows_without_window)" -gt 0 ]
}

@test "gru, lstm, cnn: the model's forecasts are the same from the raw CSV and from the stream" {
    bike "$DATA/bike-2011-01.csv"
    for m in gru lstm cnn; do
        cm-train -q -m $m --skip-missing --epochs 2 --hidden 16 --filters 8 bike.cmt -o $m.cmm
        cm-predict -q -m $m.cmm "$DATA/bike-2011-01.csv" >csv.out
        cm-predict -q -m $m.cmm bike.cmt >stream.out
        [ "$(grep -c ',[0-9.e-]*,' csv.out)" -ge 222 ]
        diff <(cut -d, -f1,2 csv.out | grep -v ',$') <(cut -d, -f1,2 stream.out | grep -v ',$')
    done
}

@test "gru: the metric cm-train measured on its held-out rows is cm-predict --eval's on them, from raw CSV" {
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m gru --skip-missing --epochs 2 bike.cmt -o gru.cmm
    # the held-out rows are the last 44 trained rows: from the 45th last on
    cm-predict -q -m gru.cmm "$DATA/bike-2011-01.csv" | grep -v ',,' | tail -44 | head -1 >first
    from=$(cut -d, -f1 first)
    run cm-predict -q -m gru.cmm --eval --from "$from" "$DATA/bike-2011-01.csv"
    assert_success
    assert_line rows=44
    check 'a - b < 1e-9 && b - a < 1e-9' a="$(echo "$output" | sed -n 's/^rmse=//p')" \
        b="$(meta gru.cmm valid_rmse)"
}

@test "gru: the same bits for any -j and the same seed; another seed, another model" {
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m gru --skip-missing --epochs 2 --seed 3 -j 1 bike.cmt -o a.cmm
    cm-train -q -m gru --skip-missing --epochs 2 --seed 3 -j 2 bike.cmt -o b.cmm
    cm-train -q -m gru --skip-missing --epochs 2 --seed 4 -j 2 bike.cmt -o c.cmm
    cm-predict -q -m a.cmm bike.cmt >a.out
    cm-predict -q -m b.cmm bike.cmt >b.out
    cm-predict -q -m c.cmm bike.cmt >c.out
    cmp a.out b.out
    run cmp -s a.out c.out
    assert_failure
}

@test "cnn, lstm: dropout in the head, patience, stacked layers and a direct model train" {
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m lstm --skip-missing --epochs 3 --rnn-layers 2 --hidden 8 --dropout 0.2 \
        --patience 1 bike.cmt -o lstm.cmm
    [ "$(meta lstm.cmm rnn_layers)" = 2 ]
    cm-train -q -m cnn --skip-missing --epochs 2 --filters 4 --kernel 2 --dilations 1,3 \
        -H 6 bike.cmt -o cnn.cmm
    [ "$(meta cnn.cmm dilations)" = 1,3 ]
    [ "$(meta cnn.cmm horizon)" = 6 ]
    cm-cat --info cnn.cmm | grep -q '^format: cmm 4.0'
}

@test "gru: --horizon 24 forecasts from a raw history, the forecasts entering later windows" {
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m gru --skip-missing --epochs 2 --hidden 8 bike.cmt -o gru.cmm
    # the last 300 hours of 2011: a gap 168 hours back leaves a step without
    # its lag, and every later window without that step's forecast
    { head -1 "$DATA/bike-2011.csv"; tail -300 "$DATA/bike-2011.csv"; } >recent.csv
    run --separate-stderr cm-predict -m gru.cmm --horizon 24 --future-fill last recent.csv
    assert_success
    [[ $stderr == *"forecasts empty: 19 without a whole window (the 24 steps before), 1 missing cnt_lag168h" ]]
    # the gaps filled, each step's window holds the forecasts of the steps before
    run --separate-stderr cm-predict -m gru.cmm --horizon 24 --future-fill last \
        --fill-history linear recent.csv
    assert_success
    [ -z "$stderr" ]
    [ "${#lines[@]}" -eq 25 ]
    assert_line --index 0 'time,step,cnt_pred'
    # each step's forecast is there: the windows of steps 2..24 hold forecasts
    [ "$(printf '%s\n' "${lines[@]}" | grep -c ',[0-9][0-9]*,[0-9.e-]*$')" -eq 24 ]
    run cm-predict -q -m gru.cmm --backtest --horizon 6 --from 2011-01-25 "$DATA/bike-2011-01.csv"
    assert_success
    assert_line --index 1 'step,n,mae,rmse,mape'
    assert_line --regexp '^all,[1-9][0-9]*,'
}

@test "gru: a history shorter than the window says how far back it must reach" {
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m gru --skip-missing --epochs 1 --hidden 4 bike.cmt -o gru.cmm
    head -11 "$DATA/bike-2011-01.csv" >short.csv
    run cm-predict -m gru.cmm --horizon 2 --future-fill last short.csv
    assert_failure 1
    assert_output --partial 'needs rows from'
    run --separate-stderr cm-predict -m gru.cmm "$DATA/bike-2011-01.csv"
    assert_success
    [[ "$stderr" == *"without a whole window (the 24 steps before)"* ]]
}

@test "sequence models: bad input gets one line and its exit status" {
    bike "$DATA/bike-2011-01.csv"
    assert_exit cm-train 1 "cm-train: bike.cmt: window: 2000 steps of 1h reach further back than the data goes (688 rows)" \
        -m gru --skip-missing --window 2000 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: window: 20000 steps is over the most a model takes, 10000" \
        -m gru --skip-missing --window 20000 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: sequence: column 'weathersit' is a category, not a number" \
        -m lstm --skip-missing --sequence cnt,weathersit bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: sequence: no column 'rain' (the columns are 'time', 'season', 'yr', 'holiday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', 'cnt_lag2h', ...)" \
        -m lstm --skip-missing --sequence cnt,rain bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: --dilations: '1,0' is not positive whole numbers such as 1,2,4,8
Try 'cm-train --help' for more information." \
        -m cnn --dilations 1,0 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: layers: a sequence model's head has one hidden layer ('64,32' is several)" \
        -m gru --layers 64,32 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: stream: a sequence model trains on rows held in memory, whose windows it builds" \
        -m gru --stream bike.cmt -o m.cmm
    printf 'x,y\n1,2\n3,4\n5,6\n' >plain.csv
    cm-clean plain.csv | cm-features -y y --time-features none >plain.cmt
    assert_exit cm-train 2 "cm-train: window: a sequence model needs a time column (cm-clean --time)" \
        -m gru plain.cmt -o m.cmm
}

@test "cm-tune: a search among gru, lstm and cnn on the rows with windows; mixed with mlp, that trial fails" {
    bike "$DATA/bike-2011-01.csv"
    cm-tune -q -m gru --skip-missing --epochs 1 --grid 'hidden=4,8 model=gru,lstm' -k 2 -j 1 \
        --results r.tsv bike.cmt -o best.cmm
    [ "$(grep -vc '^#' r.tsv)" -ge 4 ]
    kind=$(meta best.cmm kind)
    [[ $kind == gru || $kind == lstm ]]
    [ "$(meta best.cmm window)" = 24 ]
    run --separate-stderr cm-tune -m gru --skip-missing --epochs 1 --grid 'model=gru,mlp' -k 2 -j 1 \
        bike.cmt -o mixed.cmm
    [[ $stderr == *"model: gru, lstm and cnn read windows that mlp does not: search sequence models and the other kinds in separate runs"* ]]
}
