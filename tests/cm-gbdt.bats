#!/usr/bin/env bats
# cm-train -m gbdt: boosted trees grown by XGBoost, kept and walked by
# cm's own code.  Every training checks each row against XGBoost's own
# prediction; here: the trees as cm-cat shows them, missing inputs, early
# stopping, determinism, the export read back by Python's xgboost (when
# it is installed), forecasts, cm-tune, and bad settings (the server:
# cm-serve.bats).
load helpers

bats_require_minimum_version 1.5.0

YEAR="$DATA/bike-2011.csv"
CLEAN=(--time dteday,hr --drop instant,casual,registered -t season=cat -t weathersit=cat)

# f.cmt: the year's hourly counts with lags, rows whose lags reach before
# the first hour kept with those lags missing
features() {
    quiet cm-clean "${CLEAN[@]}" -o y.cmt "$YEAR"
    quiet cm-features -y cnt -L cnt:1h,24h,168h --keep-incomplete -o f.cmt y.cmt
}

@test "gbdt: XGBoost's defaults; cm-cat --info shows trees, depth and the inputs of most gain; nothing scaled" {
    features
    SOURCE_DATE_EPOCH=1 train -m gbdt -o g.cmm f.cmt
    cm-cat --info g.cmm >info
    grep -qx 'format: cmm 3.0' info
    grep -qx 'kind: gbdt' info
    grep -qE '^trees: 100, [0-9]+ leaves, deepest 6, base score 0.5$' info
    # cnt an hour ago splits most: the first of the ten inputs by gain
    [ "$(sed -n '/^gain:/{n;p}' info | cut -d: -f1)" = "  cnt_lag1h" ]
    [ "$(sed -n '/^gain:/,/^target/p' info | grep -c '%$')" -eq 10 ]
    grep -qx 'target: cnt (not scaled)' info
    grep -qx '  temp: number, seen 0.02 to 0.96' info
    [ "$(meta g.cmm rounds_run)" = 100 ]
    [ "$(meta g.cmm trees_kept)" = 100 ]
    # rows with a lag missing trained too: none skipped
    [ -z "$(meta g.cmm skipped_rows)" ]
    [ "$(meta g.cmm rows)" = "$(($(wc -l <"$YEAR") - 1))" ]
}

@test "a missing input takes the trees' default way: a forecast, not an empty one" {
    features
    SOURCE_DATE_EPOCH=1 train -m gbdt -o g.cmm f.cmt
    row=(dteday=2011-12-31 hr=17 season=1 yr=0 mnth=12 holiday=0 weekday=6 workingday=0
         weathersit=1 temp=0.3 atemp=0.3 hum=0.5 windspeed=0.1 cnt_lag1h=200 cnt_lag24h=180)
    run --separate-stderr cm-predict -m g.cmm "${row[@]}"
    assert_success
    [[ $output =~ ^[0-9]+\.[0-9]+$ ]]
    # the same row with the lag of a week given: another leaf somewhere
    with=$(cm-predict -m g.cmm "${row[@]}" cnt_lag168h=150)
    [ "$with" != "$output" ]
    # a linear model has no default way: it says which input is missing
    SOURCE_DATE_EPOCH=1 train -m linear --skip-missing -o l.cmm f.cmt
    run --separate-stderr cm-predict -m l.cmm "${row[@]}"
    [ "$status" -eq 1 ]
    [[ $stderr == *cnt_lag168h* ]]
}

@test "--patience: the rounds after the best are dropped; --history has a row per round" {
    features
    SOURCE_DATE_EPOCH=1 train -m gbdt --trees 300 --eta 0.5 --patience 3 --history h.csv -o g.cmm f.cmt
    run=$(meta g.cmm rounds_run) best=$(meta g.cmm best_round)
    [ "$best" -lt 300 ]
    [ "$run" -eq $((best + 3)) ]
    [ "$(meta g.cmm trees_kept)" = "$best" ]
    [ "$(sed 1d h.csv | wc -l)" -eq "$run" ]
    # the best round's validation loss is the least in the history
    least=$(sed 1d h.csv | sort -t, -k3,3g | head -1 | cut -d, -f1)
    [ "$least" = "$best" ]
    # and the model's validation RMSE is its square root (mse)
    loss=$(awk -F, -v b="$best" 'NR > 1 && $1 == b { print $3 }' h.csv)
    check 'r * r - l < 1e-6 * l && l - r * r < 1e-6 * l' r="$(meta g.cmm valid_rmse)" l="$loss"
}

@test "the same seed and data give the same bytes; -j 2 the same forecasts; subsample draws by the seed" {
    features
    # the metadata records the command line: the same one, in two places
    mkdir a b
    for d in a b; do
        (cd $d && SOURCE_DATE_EPOCH=1 train -m gbdt -j 1 --subsample 0.8 --colsample 0.7 \
            --seed 5 -o g.cmm ../f.cmt)
    done
    cmp a/g.cmm b/g.cmm
    # -j 2 (recorded in the command line): every forecast the same
    SOURCE_DATE_EPOCH=1 train -m gbdt -j 2 --subsample 0.8 --colsample 0.7 --seed 5 -o g2.cmm f.cmt
    cm-predict -m a/g.cmm y.cmt >p1
    cm-predict -m g2.cmm y.cmt | cmp - p1
    SOURCE_DATE_EPOCH=1 train -m gbdt -j 1 --subsample 0.8 --colsample 0.7 --seed 6 -o other.cmm f.cmt
    if cm-predict -m other.cmm y.cmt | cmp -s - p1; then
        echo "seed 6 forecast what seed 5 did" >&2
        return 1
    fi
}

@test "cm-cat --export xgboost: XGBoost's JSON with the inputs' names; Python's xgboost predicts what cm does" {
    features
    SOURCE_DATE_EPOCH=1 train -m gbdt --trees 30 -o g.cmm f.cmt
    cm-cat --export xgboost g.cmm >g.json
    grep -q '"feature_names":\["season=1","season=2","season=3","season=4","season=(unseen)","yr"' g.json
    grep -q '"num_trees":"30"' g.json
    assert_exit cm-cat 1 "cm-cat: l.cmm: a linear model has no trees to export (only gbdt models do)" \
        --export xgboost "$(SOURCE_DATE_EPOCH=1 train -m linear --skip-missing -o l.cmm f.cmt; echo l.cmm)"
    assert_exit cm-cat 2 "cm-cat: --export: f.cmt is a stream, not a model file
Try 'cm-cat --help' for more information." --export xgboost f.cmt
    if ! /usr/bin/python3 -c 'import xgboost, numpy' 2>/dev/null; then
        skip "Python's xgboost is not installed (python3-xgboost)"
    fi
    # the model's input vectors, written by cm's encoder: the rows of the
    # stream with each category one-hot and NaN where missing
    cm-cat f.cmt >f.csv
    cm-predict -m g.cmm f.cmt | cut -d, -f2 >cm.csv
    [ "$(head -1 cm.csv)" = cnt_pred ]
    /usr/bin/python3 - g.json f.csv cm.csv <<'PY'
import csv, math, sys
import numpy as np, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))
X = np.full((len(rows), len(b.feature_names)), np.nan, dtype=np.float32)
for j, name in enumerate(b.feature_names):
    col, _, val = name.partition("=")
    for i, r in enumerate(rows):
        v = r[col]
        if not val:
            X[i, j] = float(v) if v != "" else np.nan
        elif v == "":
            X[i, j] = np.nan
        else:
            X[i, j] = 1.0 if v == val else 0.0
p = b.predict(xgb.DMatrix(X, feature_names=b.feature_names, missing=np.nan))
got = [float(l) for l in open(sys.argv[3]).read().split()[1:]]
bad = [i for i in range(len(rows)) if np.float32(got[i]) != p[i]]
assert len(got) == len(rows) == len(p), (len(got), len(rows), len(p))
assert not bad, f"{len(bad)} rows differ, first {bad[0]}: cm {got[bad[0]]} xgboost {p[bad[0]]}"
assert np.isnan(X).any(), "no missing input was checked"
PY
}

@test "forecasts: step 1 is the ordinary forecast; a backtest; only cm-train and cm-tune link XGBoost" {
    features
    SOURCE_DATE_EPOCH=1 train -m gbdt --trees 40 -o g.cmm f.cmt
    cm-predict -m g.cmm "$YEAR" 2>/dev/null >all.csv
    got=$(cm-predict -m g.cmm -H 1 --origin 2011-10-01T23:00 "$YEAR" | sed -n 2p)
    want=$(awk -F, -v t="${got%%,*}" '$1 == t { print $2 }' all.csv)
    [ -n "$want" ]
    [ "${got##*,}" = "$want" ]
    run --separate-stderr cm-predict -q -m g.cmm --backtest -H 6 --windows 20 "$YEAR"
    assert_success
    [ "${lines[1]}" = step,n,mae,rmse,mape ]
    [ "${lines[8]%%,*}" = all ]
    # ldd: predicting and serving never load XGBoost
    [ "$(ldd "$(command -v cm-predict)" | grep -c xgboost)" -eq 0 ]
    [ "$(ldd "$(command -v cm-serve)" | grep -c xgboost)" -eq 0 ]
    ldd "$(command -v cm-train)" | grep -q xgboost
    ldd "$(command -v cm-tune)" | grep -q xgboost
}

@test "cm-predict -j: batches split among threads give the same output as one thread" {
    features
    SOURCE_DATE_EPOCH=1 train -m gbdt -o g.cmm f.cmt
    SOURCE_DATE_EPOCH=1 train -m mlp --epochs 1 --skip-missing -o m.cmm f.cmt
    for m in g m; do
        cm-predict -j 1 -m $m.cmm "$YEAR" >one.csv 2>/dev/null
        cm-predict -j 4 -m $m.cmm "$YEAR" 2>/dev/null | cmp - one.csv
        cm-predict -j 3 -m $m.cmm y.cmt 2>/dev/null | cmp - one.csv
    done
    [ "$(sed 1d one.csv | wc -l)" -eq "$(($(wc -l <"$YEAR") - 1))" ]
}

@test "cm-tune searches gbdt settings; the best trial's model is a gbdt" {
    features
    run --separate-stderr cm-tune -q -m gbdt --grid 'depth=2,4 eta=0.1,0.3' --trees 20 --folds 2 \
        --results res.tsv -o best.cmm f.cmt
    assert_success
    [ "$(sed 1d res.tsv | cut -f2,3 | sort | tr '\t\n' ', ')" = "2,0.1 2,0.3 4,0.1 4,0.3 " ]
    [ "${lines[0]}" = "depth=4" ]
    [ "$(meta best.cmm kind)" = gbdt ]
    [ "$(meta best.cmm trees)" = 20 ]
}

@test "bad gbdt settings and data: one line each, before any training" {
    features
    assert_exit cm-train 2 "cm-train: --trees: '0' is not a whole number from 1 to 100000
Try 'cm-train --help' for more information." -m gbdt --trees 0 -o g.cmm f.cmt
    assert_exit cm-train 2 "cm-train: --depth: '21' is not a whole number from 1 to 20
Try 'cm-train --help' for more information." -m gbdt --depth 21 -o g.cmm f.cmt
    assert_exit cm-train 2 "cm-train: --eta: '0' is not a number from 1e-06 to 1
Try 'cm-train --help' for more information." -m gbdt --eta 0 -o g.cmm f.cmt
    assert_exit cm-train 2 "cm-train: horizon: a direct model is linear, mlp or a sequence model; gbdt forecasts several steps recursively (cm-predict --horizon)" \
        -m gbdt -H 3 -o g.cmm f.cmt
    assert_exit cm-train 2 "cm-train: stream: gbdt trains on rows held in memory" \
        -m gbdt --stream -o g.cmm f.cmt
    # a target with missing values: the rows said, as for every kind
    printf '%s\n' a,y 1,2 2, 3,6 4,8 5,10 >miss.csv
    cmt miss.csv miss.cmt -m keep
    assert_exit cm-train 1 "cm-train: miss.cmt: row 2: column 'y' is missing (--skip-missing leaves such rows out)" \
        -m gbdt -y y -o g.cmm miss.cmt
    [ ! -e g.cmm ]
    # no rows left at all
    printf '%s\n' a,y 1, >none.csv
    cmt none.csv none.cmt -m keep
    assert_exit cm-train 1 "cm-train: none.cmt: no rows to learn from (all were skipped for missing values)" \
        -m gbdt -y y --skip-missing -o g.cmm none.cmt
}
