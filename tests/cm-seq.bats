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
    # 238 rows with a window of 21: 47.6 held out is 48, as Python's round()
    # gives peer-seq.py (floor would give 47); a window as a span
    cm-train -q -m gru --skip-missing --window 21h --epochs 1 --hidden 4 bike.cmt -o w21.cmm
    [ "$(meta w21.cmm window)" = 21 ]
    [ "$(meta w21.cmm train_rows)" = 190 ]
    [ "$(meta w21.cmm valid_rows)" = 48 ]
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

@test "gru, lstm, cnn: the same bits for any -j and the same seed; another seed, another model" {
    bike "$DATA/bike-2011-01.csv"
    # wide enough, a batch large enough, that -j 2 splits the products
    for m in gru lstm cnn; do
        set -- -m $m --skip-missing --epochs 1 --hidden 256 --filters 256 --batch 256 --valid 0
        cm-train -q "$@" --seed 3 -j 1 bike.cmt -o a.cmm
        cm-train -q "$@" --seed 3 -j 2 bike.cmt -o b.cmm
        cm-train -q "$@" --seed 4 -j 2 bike.cmt -o c.cmm
        cm-predict -q -m a.cmm bike.cmt >a.out
        cm-predict -q -m b.cmm bike.cmt >b.out
        cm-predict -q -m c.cmm bike.cmt >c.out
        cmp a.out b.out
        run cmp -s a.out c.out
        assert_failure
    done
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

@test "gru: a history shorter than the window says how many steps it needs, and how far back" {
    # no lags: the window is the whole look-back
    cm-clean "${CLEAN[@]}" "$DATA/bike-2011-01.csv" | cm-features -y cnt >nolag.cmt
    cm-train -q -m gru --epochs 1 --hidden 4 nolag.cmt -o nolag.cmm
    head -11 "$DATA/bike-2011-01.csv" >short.csv
    assert_exit cm-predict 1 "cm-predict: short.csv: the history is shorter than the look-back: 24 steps of 1h needed before the first forecast, and 10 there (seq_cnt_24 reaches back to 2010-12-31T10:00:00Z, and the history starts at 2011-01-01T00:00:00Z)" \
        -m nolag.cmm --horizon 2 --future-fill last short.csv
    bike "$DATA/bike-2011-01.csv"
    cm-train -q -m gru --skip-missing --epochs 1 --hidden 4 bike.cmt -o gru.cmm
    run --separate-stderr cm-predict -m gru.cmm "$DATA/bike-2011-01.csv"
    assert_success
    [[ "$stderr" == *"without a whole window (the 24 steps before)"* ]]
}

@test "a yearly panel: a window of calendar years in each series, replayed by forecasts" {
    grep -e '^state' -e ',total,' "$DATA/population.csv" | grep -v '^USA,' >states.csv
    quiet cm-clean --sort --time year --drop ages -o p.cmt states.csv
    cm-features -q -y population --by state/region --time-features none -o pf.cmt p.cmt
    cm-train -q -m gru --window 3 --hidden 8 --epochs 2 pf.cmt -o pg.cmm
    cm-cat --info pg.cmm | grep -qx '  step=1y'
    cm-cat --info pg.cmm | grep -qx '    sequence=population:3:12mo'
    # the first 3 years of each of the 52 series lack a window, no other
    # year does: leap years are years too
    [ "$(meta pg.cmm rows_without_window)" = 156 ]
    # the forecast of 2013 from 2012 is the prediction of the 2013 rows
    cm-predict -q -m pg.cmm states.csv | grep '^2013' | cut -d, -f2 >rows.out
    cm-predict -m pg.cmm -H 1 --origin 2012 states.csv | sed 1d | cut -d, -f3 >fc.out
    [ "$(wc -l <rows.out)" -eq 52 ]
    cmp rows.out fc.out
    # a history of two years is a year short, said in years
    grep -e '^state' -e '^AL,total,201[23]' states.csv >al.csv
    assert_exit cm-predict 1 "cm-predict: al.csv: the history is shorter than the look-back: 3 steps of 1y needed before the first forecast, and 2 there (seq_population_3 reaches back to 2011-01-01T00:00:00Z, and the history starts at 2012-01-01T00:00:00Z)" \
        -m pg.cmm -H 1 al.csv
}

@test "sequence models: bad input gets one line and its exit status" {
    bike "$DATA/bike-2011-01.csv"
    assert_exit cm-train 1 "cm-train: bike.cmt: window: 2000 steps of 1h reach further back than the data goes (2011-01-01T00:00:00Z to 2011-01-31T23:00:00Z)" \
        -m gru --skip-missing --window 2000 bike.cmt -o m.cmm
    # shorter than the data, but longer than any stretch of it without a gap
    assert_exit cm-train 1 "cm-train: bike.cmt: no rows to learn from: none of the 688 rows has a whole window of 300 steps of 1h before it (a gap or a missing value in each); a shorter --window keeps more" \
        -m gru --skip-missing --window 300 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: window: '20000' is not a whole number of steps of 1h (1 to 10000)" \
        -m gru --skip-missing --window 20000 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: window: '90m' is not a whole number of steps of 1h (1 to 10000)" \
        -m gru --skip-missing --window 90m bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: sequence: column 'cnt' twice" \
        -m gru --skip-missing --sequence cnt,temp,cnt bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: sequence: column 'weathersit' is a category, not a number" \
        -m lstm --skip-missing --sequence cnt,weathersit bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: sequence: no column 'rain' (the columns are 'time', 'season', 'yr', 'holiday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', 'cnt_lag2h', ...)" \
        -m lstm --skip-missing --sequence cnt,rain bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: --dilations: '1,0' is not 1 to 16 whole numbers from 1 to 65536, such as 1,2,4,8
Try 'cm-train --help' for more information." \
        -m cnn --dilations 1,0 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: layers: a sequence model's head has one hidden layer ('64,32' is several)" \
        -m gru --layers 64,32 bike.cmt -o m.cmm
    assert_exit cm-train 2 "cm-train: activation: a sequence model's head is relu ('tanh' is not)" \
        -m cnn --activation tanh bike.cmt -o m.cmm
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
