#!/usr/bin/env bats
# cm-train: ridge recovering an exact linear relation, an MLP learning a
# curve, every activation, loss, optimizer and schedule, determinism, the
# split, early stopping, the model file as cm-cat --info shows it, the
# history, bad data, bad options, atomic output and damaged model files.
# The data are small CSVs written here (with a fixed integer generator, so
# that every awk gives the same rows) and the January bike file.
load helpers

bats_require_minimum_version 1.5.0

# ---- helpers -----------------------------------------------------------------

# A finite decimal number, as cm_fmt_f64 writes them.
is_number() {
    [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$ ]] || {
        echo "not a finite number: '$1'" >&2
        return 1
    }
}

# The files of the test directory but the helpers' logs (and those of bats'
# run --separate-stderr), one a line.
files() {
    ls -A | grep -vx -e clean.err -e train.err -e train.out -e stdout.bin -e 'separate-stderr-.*' | LC_ALL=C sort
}

# Exact status and exact stderr, nothing on stdout, and no model file (nor
# a temporary one) left in the directory.
# assert_fails STATUS MESSAGE ARGS...
assert_fails() {
    local before after
    before=$(files)
    assert_exit cm-train "$@" || return 1
    after=$(files)
    if [ -s stdout.bin ]; then
        echo "cm-train ${*:3}: $(wc -c <stdout.bin) bytes on stdout" >&2
        return 1
    fi
    if [ "$before" != "$after" ]; then
        echo "cm-train ${*:3}: the directory changed:" >&2
        diff <(echo "$before") <(echo "$after") >&2
        return 1
    fi
}

# Numbers from a Park-Miller generator: the same rows with mawk and gawk.
# y = 3a - 2b + 5 exactly, in hundredths: linear.csv N
linear_csv() {
    awk -v n="$1" 'BEGIN { s = 12345; print "a,b,y"
        for (i = 0; i < n; i++) {
            s = (s * 16807) % 2147483647; A = s % 1000
            s = (s * 16807) % 2147483647; B = s % 1000
            printf "%.2f,%.2f,%.2f\n", A / 100, B / 100, (3 * A - 2 * B + 500) / 100 } }'
}

# y = a * a for a in [-2, 2]: square_csv N
square_csv() {
    awk -v n="$1" 'BEGIN { s = 777; print "a,y"
        for (i = 0; i < n; i++) {
            s = (s * 16807) % 2147483647; A = s % 401 - 200
            printf "%.2f,%.4f\n", A / 100, A * A / 10000 } }'
}

# The January bike features: time, 17 numbers, cnt as the target.
bike() {
    cm-clean -T dteday,hr --drop instant,casual,registered "$DATA/bike-2011-01.csv" |
        cm-features -y cnt -L cnt:1h,24h >feat.cmt
}

# ---- ridge ---------------------------------------------------------------------

@test "linear --l2 0 recovers y = 3a - 2b + 5: held-out RMSE below 1e-6, R2 1" {
    linear_csv 200 >lin.csv
    cmt lin.csv lin.cmt
    train -m linear -y y --l2 0 lin.cmt -o lin.cmm
    [ "$(meta lin.cmm kind)" = linear ]
    [ "$(meta lin.cmm l2)" = 0 ]
    [ "$(meta lin.cmm valid_rows)" = 40 ]
    rmse=$(meta lin.cmm valid_rmse) mae=$(meta lin.cmm valid_mae) r2=$(meta lin.cmm valid_r2)
    is_number "$rmse" && is_number "$mae" && is_number "$r2"
    check 'r < 1e-6 && m <= r && r2 > 0.999999999' r="$rmse" m="$mae" r2="$r2"
    # A tiny penalty barely changes it; the default (1) shrinks it visibly.
    train -m linear -y y --l2 1e-9 lin.cmt -o tiny.cmm
    check 'r < 1e-6' r="$(meta tiny.cmm valid_rmse)"
    train -m linear -y y lin.cmt -o dflt.cmm
    check 'r > 1e-3' r="$(meta dflt.cmm valid_rmse)"
    # The test can fail: one row off the line and the fit is no longer exact.
    sed '50s/,[^,]*$/,99/' lin.csv >off.csv
    cmt off.csv off.cmt
    train -m linear -y y --l2 0 off.cmt -o off.cmm
    check 'r > 1e-3' r="$(meta off.cmm valid_rmse)"
}

@test "linear with a category (one-hot) and --l2 1 fits y = 2a + offset(colour)" {
    awk 'BEGIN { s = 99; print "a,c,y"; split("red green blue", C, " ")
        off["red"] = 0; off["green"] = 4; off["blue"] = -3
        for (i = 0; i < 200; i++) {
            s = (s * 16807) % 2147483647; A = s % 1000
            s = (s * 16807) % 2147483647; c = C[1 + s % 3]
            printf "%.2f,%s,%.2f\n", A / 100, c, (2 * A) / 100 + off[c] } }' >cat.csv
    cmt cat.csv cat.cmt
    train -m linear -y y --l2 1 cat.cmt -o cat.cmm
    cm-cat --info cat.cmm | sed -n '1,6p' >got
    {
        echo 'format: cmm 1.1'
        echo 'kind: linear'
        cm-cat --info cat.cmm | grep '^target: y (mean '
        echo 'inputs: 2 columns, 5 values'
        cm-cat --info cat.cmm | grep '^  a: number, mean '
        echo '  c: category, 3 known + unseen'
    } >want
    diff -u want got
    # Ridge shrinks a little: close, not exact.
    check 'r2 > 0.999 && r < 0.2' r2="$(meta cat.cmm valid_r2)" r="$(meta cat.cmm valid_rmse)"
    # Without the colour the fit is much worse.
    train -m linear -y y --features a cat.cmt -o a.cmm
    check 'r > 1' r="$(meta a.cmm valid_rmse)"
}

@test "linear --l2 0 with a category or a constant input: no unique solution (exit 1, no file)" {
    printf '%s\n' a,c,k,y 1,x,5,2 2,y,5,4 3,x,5,6 4,y,5,8 5,x,5,10 >c.csv
    cmt c.csv c.cmt
    msg="cm-train: c.cmt: the inputs are collinear and --l2 is 0: no unique solution (use --l2 above 0)"
    assert_fails 1 "$msg" -m linear -y y --l2 0 --valid 0 c.cmt -o m.cmm
    assert_fails 1 "$msg" -m linear -y y --l2 0 --valid 0 --features a,k c.cmt -o m.cmm
    # Each is fine alone with a penalty, or without the culprit.
    train -m linear -y y --l2 0 --valid 0 --features a c.cmt -o m.cmm
    check 'r < 1e-6' r="$(meta m.cmm train_rmse)"
    train -m linear -y y --l2 0.5 --valid 0 c.cmt -o m.cmm
}

# ---- mlp -------------------------------------------------------------------------

@test "mlp learns y = a*a (held-out R2 above 0.99) where a line cannot (R2 near 0)" {
    square_csv 300 >sq.csv
    cmt sq.csv sq.cmt
    train -y y --lr 0.01 --epochs 20 sq.cmt -o mlp.cmm
    [ "$(meta mlp.cmm kind)" = mlp ]
    [ "$(meta mlp.cmm layers)" = 64,64 ]
    [ "$(meta mlp.cmm activation)" = relu ]
    [ "$(meta mlp.cmm epochs_run)" = 20 ]
    check 'r2 > 0.99' r2="$(meta mlp.cmm valid_r2)"
    check 'r < 0.05' r="$(meta mlp.cmm valid_rmse)"
    train -m linear -y y sq.cmt -o line.cmm
    check 'r2 < 0.1' r2="$(meta line.cmm valid_r2)"
    # Few epochs at the default rate are not enough: the bar can be missed.
    train -y y --layers 4 --epochs 1 sq.cmt -o weak.cmm
    check 'r2 < 0.9' r2="$(meta weak.cmm valid_r2)"
}

@test "every activation, loss, optimizer, schedule and dropout runs, with finite metrics of its own" {
    square_csv 200 >sq.csv
    cmt sq.csv sq.cmt
    base=(-y y --layers 8 --epochs 4 --lr 0.01)
    train "${base[@]}" sq.cmt -o default.cmm
    ref=$(meta default.cmm valid_rmse)
    is_number "$ref"
    local o i=0
    for o in "--activation tanh" "--activation sigmoid" "--activation gelu" \
        "--loss mae" "--loss huber" "--loss huber --huber-delta 0.1" \
        "--optimizer sgd" "--optimizer momentum" "--optimizer momentum --momentum 0.5" \
        "--schedule step --step-size 1 --gamma 0.5" "--schedule cosine" \
        "--dropout 0.2" "--weight-decay 0.1" "--batch 7" \
        "--beta1 0.5 --beta2 0.9 --eps 1e-6"; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        train "${base[@]}" $o sq.cmt -o v$i.cmm
        for k in valid_mae valid_rmse valid_mape valid_r2; do
            is_number "$(meta v$i.cmm $k)" || { echo "$o: $k" >&2; return 1; }
        done
        [ "$(meta v$i.cmm valid_rmse)" != "$ref" ] || { echo "$o: same model as the default" >&2; return 1; }
    done
    [ "$(meta v1.cmm activation)" = tanh ]
    [ "$(meta v2.cmm activation)" = sigmoid ]
    [ "$(meta v3.cmm activation)" = gelu ]
    [ "$(meta v5.cmm loss)" = huber ]
    # The defaults named are the defaults: the same metrics.
    for o in "--activation relu" "--loss mse" "--optimizer adam" "--schedule constant" \
        "--dropout 0" "--huber-delta 1" "--batch 32"; do
        # shellcheck disable=SC2086
        train "${base[@]}" $o sq.cmt -o same.cmm
        [ "$(meta same.cmm valid_rmse)" = "$ref" ] || { echo "$o changed the model" >&2; return 1; }
    done
}

@test "bad values of the model and training options are usage errors (exit 2, one line)" {
    square_csv 20 >sq.csv
    cmt sq.csv sq.cmt
    assert_fails 2 "cm-train: --activation: 'swish' is not relu, tanh, sigmoid or gelu
Try 'cm-train --help' for more information." \
        -y y --activation swish sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --loss: 'l1' is not mse, mae or huber
Try 'cm-train --help' for more information." \
        -y y --loss l1 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --optimizer: 'rmsprop' is not sgd, momentum or adam
Try 'cm-train --help' for more information." \
        -y y --optimizer rmsprop sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --schedule: 'linear' is not constant, step or cosine
Try 'cm-train --help' for more information." \
        -y y --schedule linear sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --model: 'tree' is not linear, mlp, gbdt, gru, lstm or cnn
Try 'cm-train --help' for more information." \
        -y y -m tree sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --dropout: '1' is not a number from 0 to 0.95
Try 'cm-train --help' for more information." \
        -y y --dropout 1 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --dropout: '-0.1' is not a number from 0 to 0.95
Try 'cm-train --help' for more information." \
        -y y --dropout -0.1 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --lr: '0' is not a number from 1e-12 to 1000
Try 'cm-train --help' for more information." \
        -y y --lr 0 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --lr: 'nan' is not a number from 1e-12 to 1000
Try 'cm-train --help' for more information." \
        -y y --lr nan sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --valid: '0.95' is not a number from 0 to 0.9
Try 'cm-train --help' for more information." \
        -y y --valid 0.95 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --epochs: '1.5' is not a whole number from 1 to 1000000
Try 'cm-train --help' for more information." \
        -y y --epochs 1.5 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --seed: '-1' is not a whole number below 2^64
Try 'cm-train --help' for more information." \
        -y y --seed -1 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --seed: '18446744073709551616' is not a whole number below 2^64
Try 'cm-train --help' for more information." -y y --seed 18446744073709551616 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --layers: '8,,8' is not a list of widths such as 64,64
Try 'cm-train --help' for more information." \
        -y y --layers 8,,8 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --layers: '0' is not a list of widths such as 64,64
Try 'cm-train --help' for more information." \
        -y y --layers 0 sq.cmt -o m.cmm
    local opt
    for opt in "--huber-delta 0" "--gamma 2" "--momentum 1.5" "--step-size 0" "--batch 0" \
        "--epochs 0" "--patience x" "--l2 -1" "--beta1 1" "--eps 0" "--weight-decay -1"; do
        # shellcheck disable=SC2086
        run --separate-stderr cm-train -y y $opt sq.cmt -o m.cmm
        local name=${opt%% *}
        [ "$status" -eq 2 ] && [[ $stderr == "cm-train: $name: '"*$'\n'"Try 'cm-train --help' for more information." ]] || {
            echo "$opt: status $status, stderr: $stderr" >&2
            return 1
        }
    done
    [ ! -e m.cmm ]
}

# ---- determinism -------------------------------------------------------------------

@test "same seed, command line and SOURCE_DATE_EPOCH: the same bytes; another seed: another model" {
    square_csv 200 >sq.csv
    cmt sq.csv sq.cmt
    export SOURCE_DATE_EPOCH=1700000000
    args=(-y y --layers 8,8 --epochs 3 --dropout 0.1 sq.cmt -o m.cmm)
    train "${args[@]}" && mv m.cmm first.cmm
    train "${args[@]}" && mv m.cmm second.cmm
    cmp first.cmm second.cmm
    [ "$(meta first.cmm created)" = 2023-11-14T22:13:20Z ]
    train "${args[@]}" --seed 2
    run cmp -s first.cmm m.cmm
    assert_failure
    # Not only the recorded seed and argv: the weights and metrics differ.
    [ "$(meta m.cmm seed)" = 2 ]
    [ "$(meta first.cmm seed)" = 1 ]
    [ "$(meta m.cmm valid_rmse)" != "$(meta first.cmm valid_rmse)" ]
    # A linear model too.
    train -m linear -y y sq.cmt -o l.cmm && mv l.cmm l1.cmm
    train -m linear -y y sq.cmt -o l.cmm
    cmp l1.cmm l.cmm
}

@test "without SOURCE_DATE_EPOCH created is the time of training; a bad one is a usage error" {
    square_csv 20 >sq.csv
    cmt sq.csv sq.cmt
    unset SOURCE_DATE_EPOCH
    before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    train -m linear -y y sq.cmt -o m.cmm
    after=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    created=$(meta m.cmm created)
    [[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
    [[ ! $created < $before ]]
    [[ ! $created > $after ]]
    SOURCE_DATE_EPOCH=0 train -m linear -y y sq.cmt -o m.cmm
    [ "$(meta m.cmm created)" = 1970-01-01T00:00:00Z ]
    SOURCE_DATE_EPOCH=abc run --separate-stderr cm-train -m linear -y y sq.cmt -o m2.cmm
    [ "$status" -eq 2 ]
    [ "$stderr" = "cm-train: SOURCE_DATE_EPOCH='abc' is not a number of seconds
Try 'cm-train --help' for more information." ]
    [ ! -e m2.cmm ]
}

# ---- the split and early stopping -------------------------------------------------------

@test "--valid: the last n * frac rows, to the nearest (halves to even), are held out, and the scaling comes from the others" {
    # x = 1..100, y = 2x + 1 on the first 80 rows and 100 more on the last
    # 20: fitted on the first 80 alone, the held-out error is exactly 100.
    awk 'BEGIN { print "x,y"; for (i = 1; i <= 100; i++) printf "%d,%d\n", i, 2 * i + 1 + (i > 80 ? 100 : 0) }' >idx.csv
    cmt idx.csv idx.cmt
    train -m linear -y y --l2 0 idx.cmt -o m.cmm
    [ "$(meta m.cmm rows)" = 100 ]
    [ "$(meta m.cmm train_rows)" = 80 ]
    [ "$(meta m.cmm valid_rows)" = 20 ]
    check 'm > 99.999 && m < 100.001' m="$(meta m.cmm valid_mae)"
    # The mean and population sd of 1..80, and of 3, 5, ... 161.
    cm-cat --info m.cmm | grep -x '  x: number, mean 40.5, sd 23.092206477510977, seen 1 to 80'
    cm-cat --info m.cmm | grep -x 'target: y (mean 82, sd 46.184412955021955)'
    local v n want
    # Python's round(), as peers hold out test rows: 3.5 is 4 and 2.5 is 2
    for v in 0.25:100:25 0.3:100:30 0.5:7:4 0.5:5:2 0.9:10:9 0.1:9:1 0.1:4:0 0.333:100:33; do
        IFS=: read -r frac n want <<<"$v"
        head -n $((n + 1)) idx.csv >n.csv
        cmt n.csv n.cmt
        train -m linear -y y --valid "$frac" n.cmt -o n.cmm
        [ "$(meta n.cmm valid_rows)" = "$want" ] && [ "$(meta n.cmm train_rows)" = $((n - want)) ] || {
            echo "--valid $frac of $n: valid_rows $(meta n.cmm valid_rows), want $want" >&2
            return 1
        }
    done
}

@test "--valid 0.29 of 100 rows holds out 29 rows, not 28 (100 * 0.29 is 28.999999999999996 in binary)" {
    awk 'BEGIN { print "x,y"; for (i = 1; i <= 100; i++) printf "%d,%d\n", i, 2 * i + 1 }' >idx.csv
    cmt idx.csv idx.cmt
    local v frac want
    for v in 0.29:29 0.57:57 0.58:58; do
        IFS=: read -r frac want <<<"$v"
        train -m linear -y y --valid "$frac" idx.cmt -o m.cmm
        [ "$(meta m.cmm valid_rows)" = "$want" ] || {
            echo "--valid $frac of 100 rows: valid_rows $(meta m.cmm valid_rows), want $want" >&2
            return 1
        }
    done
}

@test "--valid 0: train_* metrics and no valid_* ones; the best epoch by the training loss" {
    square_csv 100 >sq.csv
    cmt sq.csv sq.cmt
    train -y y --layers 8 --epochs 3 --valid 0 sq.cmt -o m.cmm
    cm-cat --info m.cmm | grep -E '^  (train|valid)_' | sed 's/=.*//' >got
    printf '  %s\n' train_rows valid_rows train_mae train_rmse train_mape train_r2 >want
    diff -u want got
    [ "$(meta m.cmm train_rows)" = 100 ]
    [ "$(meta m.cmm valid_rows)" = 0 ]
    [ "$(meta m.cmm valid)" = 0 ]
    [ "$(meta m.cmm best_epoch)" = 3 ]
    # With the default 0.2, valid_* and no train_* metrics.
    train -y y --layers 8 --epochs 3 sq.cmt -o v.cmm
    cm-cat --info v.cmm | grep -E '^  (train|valid)_' | sed 's/=.*//' >got
    printf '  %s\n' train_rows valid_rows valid_mae valid_rmse valid_mape valid_r2 >want
    diff -u want got
}

@test "--patience stops early, keeps the best epoch's weights and records best_epoch" {
    square_csv 300 >sq.csv
    cmt sq.csv sq.cmt
    train -y y --layers 8 --epochs 200 --lr 0.05 --patience 3 --history h.csv sq.cmt -o m.cmm
    run=$(meta m.cmm epochs_run) best=$(meta m.cmm best_epoch)
    [ "$(meta m.cmm epochs)" = 200 ]
    [ "$(meta m.cmm patience)" = 3 ]
    check 'r < 200 && b >= 1 && r == b + 3' r="$run" b="$best"
    [ "$(wc -l <h.csv)" -eq $((run + 1)) ]
    # The best epoch has the lowest validation loss of the history, and the
    # file holds its weights: its validation MSE is valid_rmse squared.
    min=$(awk -F, 'NR > 1 && (m == "" || $3 < m) { m = $3; e = $1 } END { print e }' h.csv)
    [ "$min" = "$best" ]
    loss=$(awk -F, -v e="$best" '$1 == e { print $3 }' h.csv)
    check 'r * r / l > 0.9999 && r * r / l < 1.0001' r="$(meta m.cmm valid_rmse)" l="$loss"
    # Without --patience every epoch runs.
    train -y y --layers 8 --epochs 30 --lr 0.05 sq.cmt -o all.cmm
    [ "$(meta all.cmm epochs_run)" = 30 ]
}

# ---- the model file -------------------------------------------------------------------------

@test "cm-cat --info: kind, layers, target, inputs with their scaling, metadata, the recipe of the stream" {
    bike
    SOURCE_DATE_EPOCH=1796000000 train --layers 8,4 --epochs 2 --seed 7 feat.cmt -o m.cmm
    cm-cat --info m.cmm >info
    sed -n '1,3p' info >got
    printf '%s\n' 'format: cmm 1.1' 'kind: mlp' 'layers: 18 8 4 1' >want
    diff -u want got
    # The target of cm-features -y, without -y; its scaling and that of
    # every input from the training rows (the first 482 of 602) alone.
    grep -x 'inputs: 18 columns, 18 values' info
    cm-cat feat.cmt | awk -F, -v n=482 '
        NR == 1 { for (i = 2; i <= NF; i++) name[i] = $i; next }
        NR - 1 <= n { for (i = 2; i <= NF; i++) { s[i] += $i; q[i] += $i * $i
                                                  if (NR == 2 || $i < lo[i]) lo[i] = $i
                                                  if (NR == 2 || $i > hi[i]) hi[i] = $i } }
        END { for (i = 2; i <= NF; i++) {
                  m = s[i] / n; sd = sqrt(q[i] / n - m * m); if (sd < 1e-9) sd = 1
                  printf "%s %.17g %.17g %.17g %.17g\n", name[i], m, sd, lo[i], hi[i] } }' >want.scale
    # the inputs' scaling and the range training saw; the target's scaling
    sed -n -e 's/^  \([a-z_0-9]*\): number, mean \(.*\), sd \(.*\), seen \(.*\) to \(.*\)$/\1 \2 \3 \4 \5/p' \
        info >got.scale
    sed -n -e 's/^target: \([a-z_0-9]*\) (mean \(.*\), sd \(.*\))$/\1 \2 \3/p' info >got.target
    [ "$(wc -l <got.scale)" -eq 18 ]
    awk 'NR == FNR { m[$1] = $2; s[$1] = $3; lo[$1] = $4; hi[$1] = $5; next }
         !($1 in m) { print "missing", $1; bad = 1; next }
         { d = $2 - m[$1]; e = $3 - s[$1]; if (d < 0) d = -d; if (e < 0) e = -e
           a = $2 < 0 ? -$2 : $2
           if (d > 1e-9 * (1 + a) || e > 1e-9 * $3) { print $1, $2, $3, m[$1], s[$1]; bad = 1 }
           if (NF == 5 && ($4 != lo[$1] || $5 != hi[$1])) { print $1, "seen", $4, $5, "not", lo[$1], hi[$1]; bad = 1 } }
         END { exit bad }' want.scale got.scale
    awk 'NR == FNR { m[$1] = $2; s[$1] = $3; next }
         { d = $2 - m[$1]; e = $3 - s[$1]; if (d < 0) d = -d; if (e < 0) e = -e
           if (d > 1e-9 * (1 + $2) || e > 1e-9 * $3) { print $0, m[$1], s[$1]; bad = 1 } }
         END { exit bad }' want.scale got.target
    [ "$(wc -l <got.target)" -eq 1 ]
    grep -x 'target: cnt (mean 58.08091286307054, sd 48.46254155981081)' info
    # Constant over January: mean as it is, sd 1.
    grep -x '  season: number, mean 1, sd 1, seen 1 to 1' info
    grep -x '  yr: number, mean 0, sd 1, seen 0 to 0' info
    # The metadata, in the documented order.
    sed -n '/^metadata:/,/^recipe:/p' info | sed 's/=.*//' >got
    printf '%s\n' metadata: '  kind' '  cm_version' '  target' '  epochs' '  seed' '  argv' \
        '  layers' '  activation' '  epochs_run' '  best_epoch' '  rows' '  train_rows' '  valid_rows' \
        '  step' '  time_min' '  time_max' '  created' '  valid_mae' '  valid_rmse' '  valid_mape' \
        '  valid_r2' 'recipe: 2 steps' >want
    diff -u want got
    for kv in kind=mlp target=cnt layers=8,4 epochs=2 seed=7 activation=relu epochs_run=2 \
        rows=602 train_rows=482 valid_rows=120 time_min=2011-01-02T00:00:00Z \
        time_max=2011-01-31T23:00:00Z created=2026-11-30T00:53:20Z \
        "argv=cm-train --layers 8,4 --epochs 2 --seed 7 -o m.cmm feat.cmt"; do
        grep -qxF "  $kv" info || { echo "no '$kv' in:" >&2; cat info >&2; return 1; }
    done
    [ "$(meta m.cmm cm_version)" = "$CM_VERSION" ]
    # The recipe is the stream's, unchanged: clean, then features.
    diff -u <(cm-cat --info feat.cmt | sed -n '/^recipe:/,$p') <(sed -n '/^recipe:/,$p' info)
    grep -x '  1 clean' info
    grep -x '  2 features' info
    grep -x '    lag.1=cnt:1h,24h' info
}

@test "--features picks the inputs (in stream order); -y overrides the stream's target" {
    bike
    train -m linear --features hum,temp,cnt_lag1h feat.cmt -o m.cmm
    cm-cat --info m.cmm | sed -n '/^inputs:/,/^metadata:/p' | sed 's/, mean.*//' >got
    printf '%s\n' 'inputs: 3 columns, 3 values' '  temp: number' '  hum: number' \
        '  cnt_lag1h: number' 'metadata:' >want
    diff -u want got
    [ "$(meta m.cmm features)" = hum,temp,cnt_lag1h ]
    # Another target: the stream's target (role target) is then no input.
    train -m linear -y temp feat.cmt -o t.cmm
    [ "$(meta t.cmm target)" = temp ]
    cm-cat --info t.cmm | grep -x 'inputs: 17 columns, 17 values'
    run grep -E '^  (temp|cnt|time):' <(cm-cat --info t.cmm)
    assert_failure
}

@test "an unknown --target or --features column, a time or no input left: usage errors" {
    bike
    assert_fails 2 "cm-train: target: no column 'nope' (the columns are 'time', 'season', 'yr', 'mnth', 'holiday', 'weekday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', ...)" -y nope feat.cmt -o m.cmm
    assert_fails 2 "cm-train: features: no column 'nope' (the columns are 'time', 'season', 'yr', 'mnth', 'holiday', 'weekday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', ...)" --features temp,nope feat.cmt -o m.cmm
    assert_fails 2 "cm-train: features: no column '' (the columns are 'time', 'season', 'yr', 'mnth', 'holiday', 'weekday', 'workingday', 'weathersit', 'temp', 'atemp', 'hum', 'windspeed', 'hour', 'dow', 'month', 'doy', 'weekend', 'cnt_lag1h', ...)" --features temp,,hum feat.cmt -o m.cmm
    assert_fails 2 "cm-train: features: 'time' is a time; derive its parts with cm-features" \
        --features temp,time feat.cmt -o m.cmm
    assert_fails 2 "cm-train: target: column 'time' is not a number" -y time feat.cmt -o m.cmm
    assert_fails 2 "cm-train: no feature columns to learn from" --features cnt feat.cmt -o m.cmm
}

@test "--history: the header and one row per epoch; an empty valid_loss without held-out rows" {
    square_csv 100 >sq.csv
    cmt sq.csv sq.cmt
    train -y y --layers 4 --epochs 5 --history h.csv sq.cmt -o m.cmm
    [ "$(sed -n 1p h.csv)" = epoch,train_loss,valid_loss,samples_per_s ]
    [ "$(wc -l <h.csv)" -eq 6 ]
    awk -F, 'NR > 1 && !(NF == 4 && $1 == NR - 1 && $2 > 0 && $3 > 0 && $4 > 0) { print "bad line " NR ": " $0; bad = 1 }
             END { exit bad }' h.csv
    train -y y --layers 4 --epochs 3 --valid 0 --history h0.csv sq.cmt -o m.cmm
    [ "$(wc -l <h0.csv)" -eq 4 ]
    awk -F, 'NR > 1 && !(NF == 4 && $1 == NR - 1 && $2 > 0 && $3 == "" && $4 > 0) { print "bad line " NR ": " $0; bad = 1 }
             END { exit bad }' h0.csv
    # With the MAE loss the history is in the target's units: the best
    # epoch's validation loss is the model's valid_mae.
    train -y y --layers 4 --epochs 5 --loss mae --history hm.csv sq.cmt -o mae.cmm
    loss=$(awk -F, -v e="$(meta mae.cmm best_epoch)" '$1 == e { print $3 }' hm.csv)
    check 'm / l > 0.9999 && m / l < 1.0001' m="$(meta mae.cmm valid_mae)" l="$loss"
    # A linear model has no epochs: the header alone.
    train -m linear -y y --history hl.csv sq.cmt -o l.cmm
    [ "$(cat hl.csv)" = epoch,train_loss,valid_loss,samples_per_s ]
}

# ---- bad input ------------------------------------------------------------------------------

@test "no target: usage error; a missing target or input value: exit 1 naming row and column" {
    square_csv 20 >sq.csv
    cmt sq.csv sq.cmt
    assert_fails 2 "cm-train: no target: name one with --target (or mark it with cm-features --target)" \
        sq.cmt -o m.cmm
    printf '%s\n' a,y 1,2 2, 3,6 4,8 5,10 >miss.csv
    cmt miss.csv miss.cmt -m keep
    assert_fails 1 "cm-train: miss.cmt: row 2: column 'y' is missing (--skip-missing leaves such rows out)" \
        -y y miss.cmt -o m.cmm
    printf '%s\n' a,y 1,2 2,4 3,6 ,8 5,10 >missa.csv
    cmt missa.csv missa.cmt -m keep
    run --separate-stderr bash -c 'cm-train -y y -o m.cmm <missa.cmt'
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-train: (stdin): row 4: column 'a' is missing (--skip-missing leaves such rows out)" ]
    [ ! -e m.cmm ]
    # --skip-missing leaves the row out and says so.
    train -m linear -y y --l2 0 --skip-missing miss.cmt -o m.cmm
    [ "$(meta m.cmm skip-missing)" = yes ]
    [ "$(meta m.cmm skipped_rows)" = 1 ]
    [ "$(meta m.cmm rows)" = 4 ]
    # 4 x 0.2 = 0.8 rows held out: 1, to the nearest
    [ "$(meta m.cmm valid_rows)" = 1 ]
    check 'r < 1e-6' r="$(meta m.cmm train_rmse)"
    # Without skipped rows there is no skipped_rows.
    train -m linear -y y sq.cmt -o s.cmm
    [ -z "$(meta s.cmm skipped_rows)" ]
    # More skipped than kept: the model stands, and a line says so.
    awk 'BEGIN { print "a,y"; for (i = 1; i <= 9; i++) printf "%d,%s\n", i, (i > 3 ? "" : 2 * i) }' >most.csv
    cmt most.csv most.cmt -m keep
    run --separate-stderr cm-train -m linear -y y --skip-missing -o most.cmm most.cmt
    assert_success
    [ "$stderr" = "cm-train: most.cmt: 6 of 9 rows skipped for a missing value (--skip-missing): the model learned from 3" ]
    run --separate-stderr cm-train -q -m linear -y y --skip-missing -o most.cmm most.cmt
    [ -z "$stderr" ]
    # All rows skipped.
    printf '%s\n' a,y 1, 2, >allmiss.csv
    cmt allmiss.csv allmiss.cmt -m keep
    assert_fails 1 "cm-train: allmiss.cmt: no rows to learn from (all were skipped for missing values)" \
        -y y --skip-missing allmiss.cmt -o m2.cmm
}

@test "zero rows: exit 1; one row: fine (nothing to hold out); constant columns: sd 1" {
    printf '%s\n' a,y 1,2 >one.csv
    cmt one.csv one.cmt
    cm-cat -f cmt --head 0 -o zero.cmt one.cmt
    assert_fails 1 "cm-train: zero.cmt: no rows to learn from" -y y zero.cmt -o m.cmm
    train -y y --valid 0 --layers 2 --epochs 2 one.cmt -o one.cmm
    [ "$(meta one.cmm rows)" = 1 ]
    [ "$(meta one.cmm train_rows)" = 1 ]
    cm-cat --info one.cmm | grep -x 'target: y (mean 2, sd 1)'
    cm-cat --info one.cmm | grep -x '  a: number, mean 1, sd 1, seen 1 to 1'
    is_number "$(meta one.cmm train_mae)"
    train -m linear -y y one.cmt -o one-l.cmm
    [ "$(meta one-l.cmm valid_rows)" = 0 ]
    check 'm < 1e-9' m="$(meta one-l.cmm train_mae)"
    # A constant input and a constant target.
    awk 'BEGIN { print "a,c,y"; for (i = 1; i <= 50; i++) printf "%d,5,7\n", i }' >const.csv
    cmt const.csv const.cmt
    train -y y --layers 4 --epochs 2 const.cmt -o k.cmm
    cm-cat --info k.cmm | grep -x 'target: y (mean 7, sd 1)'
    cm-cat --info k.cmm | grep -x '  c: number, mean 5, sd 1, seen 5 to 5'
    is_number "$(meta k.cmm valid_mae)"
    # R2 is undefined for a constant target: absent.
    [ -z "$(meta k.cmm valid_r2)" ]
    train -m linear -y y const.cmt -o kl.cmm
    [ "$(meta kl.cmm valid_mae)" = 0 ]
}

@test "NaN or infinity in an input or the target: exit 1 naming the row" {
    printf '%s\n' 'a:f64,y:f64:target' 1,2 nan,3 3,4 | cmt-gen text >nan.cmt
    assert_fails 1 "cm-train: nan.cmt: row 2: column 'a' is nan; inputs must be finite numbers" \
        nan.cmt -o m.cmm
    printf '%s\n' 'a:f32,y:f64:target' 1,2 2,3 inf,4 | cmt-gen text >inf.cmt
    assert_fails 1 "cm-train: inf.cmt: row 3: column 'a' is inf; inputs must be finite numbers" \
        --skip-missing inf.cmt -o m.cmm
    printf '%s\n' 'a:f64,y:f64:target' 1,2 2,-inf 3,4 | cmt-gen text >tinf.cmt
    assert_fails 1 "cm-train: tinf.cmt: row 2: the target is -inf" tinf.cmt -o m.cmm
}

@test "a diverging --lr: exit 1 'diverged', no model file, and an old model at -o is kept" {
    square_csv 100 >sq.csv
    cmt sq.csv sq.cmt
    run --separate-stderr cm-train -y y --optimizer sgd --lr 50 --history h.csv sq.cmt -o m.cmm
    [ "$status" -eq 1 ]
    [[ $stderr =~ ^cm-train:\ sq\.cmt:\ training\ diverged\ in\ epoch\ [0-9]+\ \(loss\ [^\)]+\):\ lower\ --lr$ ]]
    [ "$(files)" = "$(printf '%s\n' sq.cmt sq.csv)" ]
    train -y y --layers 4 --epochs 1 sq.cmt -o m.cmm
    cp m.cmm old.cmm
    run --separate-stderr cm-train -y y --optimizer sgd --lr 50 sq.cmt -o m.cmm
    [ "$status" -eq 1 ]
    [[ $stderr == *diverged* ]]
    cmp old.cmm m.cmm
    [ "$(files)" = "$(printf '%s\n' m.cmm old.cmm sq.cmt sq.csv)" ]
}

@test "-o in a missing directory fails at once, before training; no -o is a usage error" {
    square_csv 100 >sq.csv
    cmt sq.csv sq.cmt
    # A million epochs would take minutes: the error must come first.
    run --separate-stderr timeout 10 cm-train -y y --epochs 1000000 sq.cmt -o nodir/m.cmm
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-train: nodir/m.cmm: No such file or directory" ]
    [ "$(files)" = "$(printf '%s\n' sq.cmt sq.csv)" ]
    assert_fails 2 "cm-train: no model file: give one with -o MODEL.cmm
Try 'cm-train --help' for more information." -y y sq.cmt
    assert_fails 2 "cm-train: one input at most (got 2)
Try 'cm-train --help' for more information." -y y sq.cmt sq.cmt -o m.cmm
}

@test "--history in a missing directory fails before training and leaves no temporary model file" {
    square_csv 100 >sq.csv
    cmt sq.csv sq.cmt
    run --separate-stderr timeout 10 cm-train -y y --epochs 1000000 sq.cmt -o m.cmm --history nodir/h.csv
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-train: nodir/h.csv: No such file or directory" ]
    # Nothing is left behind: neither the model nor its temporary file.
    got=$(files)
    [ "$got" = "$(printf '%s\n' sq.cmt sq.csv)" ] || {
        printf 'left in the directory:\n%s\n' "$got" >&2
        return 1
    }
}

@test "-o - writes the model to standard output" {
    square_csv 50 >sq.csv
    cmt sq.csv sq.cmt
    cm-train -m linear -y y -o - sq.cmt >out.cmm 2>err
    [ ! -s err ]
    [ "$(meta out.cmm kind)" = linear ]
    [ "$(meta out.cmm argv)" = "cm-train -m linear -y y -o - sq.cmt" ]
}

@test "a CSV, a model file, an empty or a truncated stream as input: exit 1, one clear line" {
    square_csv 300 >sq.csv
    cmt sq.csv sq.cmt
    assert_fails 1 "cm-train: sq.csv: input looks like text (CSV?), not a cm stream; convert it with cm-clean" \
        -y y sq.csv -o m.cmm
    train -m linear -y y sq.cmt -o model.cmm
    assert_fails 1 "cm-train: model.cmm: input is a cm model file, not a cm stream" \
        -y y model.cmm -o m.cmm
    : >empty.cmt
    assert_fails 1 "cm-train: empty.cmt: empty input, not a cm stream" -y y empty.cmt -o m.cmm
    assert_fails 1 "cm-train: nofile.cmt: No such file or directory" -y y nofile.cmt -o m.cmm
    local size n
    size=$(stat -c %s sq.cmt)
    for ((n = 1; n < size; n += size / 23 + 1)); do
        head -c "$n" sq.cmt >cut.cmt
        run --separate-stderr cm-train -y y cut.cmt -o m.cmm
        [ "$status" -eq 1 ] && [[ $stderr == "cm-train: cut.cmt: truncated stream ("*")" ]] &&
            [[ $stderr != *$'\n'* ]] && [ ! -e m.cmm ] || {
            echo "cut at $n of $size: status $status, stderr: $stderr" >&2
            return 1
        }
    done
    # Cut just before the end marker: every row is there, yet it is refused.
    head -c $((size - 36)) sq.cmt >cut.cmt
    assert_fails 1 "cm-train: cut.cmt: truncated stream (no end marker)" -y y cut.cmt -o m.cmm
}

# ---- damaged model files -----------------------------------------------------------------------

# For every FILE.N in the directory: cm-cat --info exits 1 with one line
# 'cm-cat: FILE.N: ...' and nothing on stdout.  Lists every offending N.
check_models_fail() {
    local prefix=$1 size=$2 i rc bad=() errl
    for ((i = 0; i < size; i++)); do
        [ -e "$prefix.$i" ] || continue
        rc=0
        cm-cat --info "$prefix.$i" >out 2>err || rc=$?
        mapfile -t errl <err
        if ((rc != 1)) || ((${#errl[@]} != 1)) || [ -s out ] ||
            [[ ${errl[0]} != "cm-cat: $prefix.$i: "?* ]]; then
            bad+=("$i:rc=$rc:${errl[*]}")
        fi
    done
    if ((${#bad[@]})); then
        printf 'offending offset: %s\n' "${bad[@]}" >&2
        return 1
    fi
}

@test "a model file cut at every offset: cm-cat --info exits 1 with one line" {
    printf '%s\n' a,c,y 1,x,2 2,y,4 3,x,6 4,z,8 5,x,10 >c.csv
    cmt c.csv c.cmt
    train -y y --layers 3 --epochs 2 c.cmt -o mlp.cmm
    train -m linear -y y c.cmt -o lin.cmm
    local f size
    for f in mlp lin; do
        size=$(stat -c %s $f.cmm)
        perl -e 'local $/; open my $f, "<:raw", $ARGV[0] or die; my $d = <$f>;
                 for my $i (0 .. length($d) - 1) {
                     open my $o, ">:raw", "$ARGV[1].$i" or die; print $o substr($d, 0, $i);
                 }' $f.cmm cut-$f
        check_models_fail cut-$f "$size"
    done
    # The messages: those of the container, with "model file".
    run --separate-stderr cm-cat --info cut-lin.40
    [ "$stderr" = "cm-cat: cut-lin.40: truncated model file (message cut short)" ]
    run --separate-stderr cm-cat --info cut-lin.16
    [ "$stderr" = "cm-cat: cut-lin.16: truncated model file (no end marker)" ]
}

@test "a model file with any byte flipped: cm-cat --info exits 1 with one line" {
    printf '%s\n' a,c,y 1,x,2 2,y,4 3,x,6 4,z,8 5,x,10 >c.csv
    cmt c.csv c.cmt
    train -y y --layers 3 --epochs 2 c.cmt -o mlp.cmm
    local size
    size=$(stat -c %s mlp.cmm)
    perl -e 'local $/; open my $f, "<:raw", $ARGV[0] or die; my $d = <$f>;
             for my $i (0 .. length($d) - 1) {
                 my $e = $d; substr($e, $i, 1) = chr(ord(substr($e, $i, 1)) ^ 0xff);
                 open my $o, ">:raw", "flip.$i" or die; print $o $e;
             }' mlp.cmm
    check_models_fail flip "$size"
    # Data after the end marker, and a stream where a model is expected.
    { cat mlp.cmm; printf x; } >tail.cmm
    run --separate-stderr cm-cat --info tail.cmm
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-cat: tail.cmm: corrupt model file: data after the end marker" ]
}

# ---- messages --------------------------------------------------------------------------------------

@test "-v: 'trained in' and the validation line (4 digits of the metadata); silent without -v" {
    square_csv 200 >sq.csv
    cmt sq.csv sq.cmt
    run --separate-stderr cm-train -v -y y --layers 8 --epochs 3 sq.cmt -o m.cmm
    assert_success
    [ -z "$output" ]
    mapfile -t lines <<<"$stderr"
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[0]} =~ ^cm-train:\ trained\ in\ [0-9]+\.[0-9]{2}\ s\ \([0-9]+\ samples/s\)$ ]]
    want=$(printf 'cm-train: validation on %s rows: MAE %.4g  RMSE %.4g  MAPE %.4g%%  R2 %.4g' \
        "$(meta m.cmm valid_rows)" "$(meta m.cmm valid_mae)" "$(meta m.cmm valid_rmse)" \
        "$(meta m.cmm valid_mape)" "$(meta m.cmm valid_r2)")
    [ "${lines[1]}" = "$want" ]
    [[ ${lines[1]} == "cm-train: validation on 40 rows: MAE "* ]]
    # A linear model: no time line.
    run --separate-stderr cm-train -v -m linear -y y sq.cmt -o l.cmm
    assert_success
    [[ $stderr =~ ^cm-train:\ validation\ on\ 40\ rows:\ MAE\ [^\ ]+\ \ RMSE\ [^\ ]+\ \ MAPE\ [^\ ]+%\ \ R2\ [^\ ]+$ ]]
    # -q wins over -v; without -v (stderr not a terminal) nothing at all.
    run --separate-stderr cm-train -q -v -y y --layers 8 --epochs 3 sq.cmt -o m.cmm
    assert_success
    [ -z "$output" ]
    [ -z "$stderr" ]
    run --separate-stderr cm-train -y y --layers 8 --epochs 3 sq.cmt -o m.cmm
    assert_success
    [ -z "$output" ]
    [ -z "$stderr" ]
}

@test "-v with --valid 0 summarizes the training rows" {
    square_csv 100 >sq.csv
    cmt sq.csv sq.cmt
    run --separate-stderr cm-train -v -m linear -y y --valid 0 sq.cmt -o m.cmm
    assert_success
    want=$(printf 'cm-train: training on %s rows: MAE %.4g  RMSE %.4g  MAPE %.4g%%  R2 %.4g' \
        100 "$(meta m.cmm train_mae)" "$(meta m.cmm train_rmse)" \
        "$(meta m.cmm train_mape)" "$(meta m.cmm train_r2)")
    [ "$stderr" = "$want" ]
}

# ---- --stream ---------------------------------------------------------------------

# cm-cat --info of MODEL without the lines that name the command line.
# (the creation time too: two trainings may straddle a second)
info_sans_argv() {
    cm-cat --info "$1" | grep -v -e '^  argv=' -e '^  stream=' -e '^  buffer-size=' \
        -e '^  created='
}

# 3000 rows of y = 2a - b + offset(colour) + noise, with a missing a in
# every 97th row: categories, skipped rows and several chunks at -S 64K.
mixed_csv() {
    awk 'BEGIN { s = 4242; print "a,b,c,y"; split("red green blue grey", C, " ")
        off["red"] = 0; off["green"] = 4; off["blue"] = -3; off["grey"] = 1
        for (i = 0; i < 3000; i++) {
            s = (s * 16807) % 2147483647; A = s % 1000
            s = (s * 16807) % 2147483647; B = s % 1000
            s = (s * 16807) % 2147483647; c = C[1 + s % 4]
            s = (s * 16807) % 2147483647; e = s % 100 - 50
            a = i % 97 == 5 ? "" : sprintf("%.2f", A / 100)
            printf "%s,%.2f,%s,%.2f\n", a, B / 100, c, (2 * A - B + e) / 100 + off[c] } }'
}

@test "--stream with room for every row: the model of training in memory, to the last bit" {
    mixed_csv >mixed.csv
    cmt mixed.csv mixed.cmt -m keep
    for m in mlp linear; do
        train -m "$m" -y y --skip-missing --epochs 3 mixed.cmt -o mem.cmm
        train -m "$m" -y y --skip-missing --epochs 3 --stream mixed.cmt -o str.cmm
        diff -u <(info_sans_argv mem.cmm) <(info_sans_argv str.cmm)
        # the weights, through every forecast they make
        cmp <(cm-predict -m mem.cmm mixed.cmt) <(cm-predict -m str.cmm mixed.cmt)
        [ "$(meta str.cmm stream)" = yes ]
        [ "$(meta str.cmm skipped_rows)" = "$(grep -c '^,' mixed.csv)" ]
        is_number "$(meta str.cmm valid_rmse)"
    done
}

@test "--stream -S 64K: ridge and the scaling are exact in chunks; the MLP still learns, deterministically" {
    mixed_csv >mixed.csv
    cmt mixed.csv mixed.cmt -m keep
    # Ridge sums its Gram matrix in row order whatever the chunks.
    train -m linear -y y --skip-missing mixed.cmt -o mem.cmm
    train -m linear -y y --skip-missing --stream -S 64K mixed.cmt -o str.cmm
    diff -u <(info_sans_argv mem.cmm) <(info_sans_argv str.cmm)
    [ "$(meta str.cmm buffer-size)" = 65536 ]
    # The MLP shuffles within chunks: another descent, the same scaling.
    train -y y --skip-missing --epochs 20 mixed.cmt -o mem.cmm
    for i in 1 2; do
        SOURCE_DATE_EPOCH=7 train -y y --skip-missing --epochs 20 --stream -S 64K mixed.cmt -o s.cmm
        mv s.cmm s$i.cmm
    done
    cmp s1.cmm s2.cmm
    diff -u <(info_sans_argv mem.cmm | grep -e 'mean ' -e 'known') \
            <(info_sans_argv s1.cmm | grep -e 'mean ' -e 'known')
    check 'r2 > 0.99' r2="$(meta s1.cmm valid_r2)"
    [ "$(meta s1.cmm valid_rmse)" != "$(meta mem.cmm valid_rmse)" ]
}

@test "--stream: a pipe, a buffer below one batch and a bad size are refused before training" {
    square_csv 200 >sq.csv
    cmt sq.csv sq.cmt
    run --separate-stderr bash -c 'cat sq.cmt | cm-train -y y --stream -o m.cmm'
    [ "$status" -eq 2 ]
    [ "$stderr" = "cm-train: the input cannot be read twice: give a file, not a pipe" ]
    [ ! -e m.cmm ]
    # From a redirected file it works: standard input can seek.
    run --separate-stderr bash -c 'cm-train -y y --stream -o m.cmm <sq.cmt'
    [ "$status" -eq 0 ]
    [ -s m.cmm ]
    rm m.cmm
    assert_fails 2 "cm-train: buffer-size: too small for one batch of 32 rows of 24 bytes" \
        -y y --stream -S 100 sq.cmt -o m.cmm
    assert_fails 2 "cm-train: --buffer-size: 'lots' is not a size like 256M
Try 'cm-train --help' for more information." \
        -y y --stream -S lots sq.cmt -o m.cmm
}

@test "-j 1 and -j 2: the same model to the last bit, with products large enough to be split" {
    bike
    for j in 1 2; do
        SOURCE_DATE_EPOCH=7 train -j "$j" --layers 512,512 --batch 256 --epochs 1 feat.cmt -o j.cmm
        mv j.cmm "j$j.cmm"
    done
    # argv differs; everything else, and every forecast, must not
    diff <(info_sans_argv j1.cmm) <(info_sans_argv j2.cmm)
    cm-predict -m j1.cmm feat.cmt >p1.csv
    cm-predict -m j2.cmm feat.cmt >p2.csv
    cmp p1.csv p2.csv
    [ "$(wc -l <p1.csv)" -gt 100 ]
    assert_fails 2 "cm-train: --threads: 'many' is not a whole number from 1 to 256
Try 'cm-train --help' for more information." -j many feat.cmt -o m.cmm
}

# ---- --valid-from ----------------------------------------------------------------

@test "--valid-from TIME: the rows at or after TIME held out, as awk counts them, in every form of TIME, in memory and with --stream" {
    bike
    cm-cat feat.cmt >feat.csv
    local n v t
    n=$(awk 'NR > 1' feat.csv | wc -l)
    v=$(awk -F, 'NR > 1 && $1 >= "2011-01-25"' feat.csv | wc -l)
    [ "$n" -eq 602 ]
    check 'v > 0 && v < n' v="$v" n="$n"
    for t in 2011-01-25 '2011-01-25 00:00' 2011-01-25T00:00:00Z 2011-01-25T01:00+01:00 \
        '2011-01-24 19:00:00-05:00'; do
        train -m linear --valid-from "$t" feat.cmt -o m.cmm
        [ "$(meta m.cmm rows)" = "$n" ]
        [ "$(meta m.cmm valid_rows)" = "$v" ] || {
            echo "--valid-from '$t': valid_rows $(meta m.cmm valid_rows), awk counts $v" >&2
            return 1
        }
        [ "$(meta m.cmm train_rows)" = $((n - v)) ]
        [ "$(meta m.cmm valid-from)" = "$t" ]
        [ -z "$(meta m.cmm valid)" ]
        is_number "$(meta m.cmm valid_rmse)"
    done
    # Within a day, to the second: 13:00 counts the hour of 13:00 in.
    v=$(awk -F, 'NR > 1 && $1 >= "2011-01-25T13:00:00Z"' feat.csv | wc -l)
    train -m linear --valid-from 2011-01-25T13:00 feat.cmt -o m.cmm
    [ "$(meta m.cmm valid_rows)" = "$v" ]
    [ "$(meta m.cmm train_rows)" = $((n - v)) ]
    v=$(awk -F, 'NR > 1 && $1 >= "2011-01-25T13:00:01Z"' feat.csv | wc -l)
    train -m linear --valid-from 2011-01-25T13:00:01 feat.cmt -o m.cmm
    [ "$(meta m.cmm valid_rows)" = "$v" ]
    # --stream in chunks (-S 64K: 256 rows): the same rows held out, and
    # for ridge the very same model as in memory.
    train -m linear --valid-from 2011-01-25 feat.cmt -o mem.cmm
    train -m linear --valid-from 2011-01-25 --stream -S 64K feat.cmt -o str.cmm
    diff -u <(info_sans_argv mem.cmm) <(info_sans_argv str.cmm)
    [ "$(meta str.cmm valid-from)" = 2011-01-25 ]
    train --layers 8 --epochs 2 --valid-from 2011-01-25 --stream -S 64K feat.cmt -o s.cmm
    [ "$(meta s.cmm valid_rows)" = "$(meta mem.cmm valid_rows)" ]
    [ "$(meta s.cmm train_rows)" = "$(meta mem.cmm train_rows)" ]
}

@test "--valid-from: a TIME without an offset is a wall-clock time of the stream's zone (its tz metadata)" {
    cm-clean -T dteday,hr --tz America/New_York --drop instant,casual,registered \
        "$DATA/bike-2011-01.csv" 2>/dev/null | cm-features -y cnt -L cnt:1h,24h >ny.cmt
    cm-cat --info ny.cmt | grep -q 'tz=America/New_York'
    local n v utc
    n=$(cm-cat ny.cmt | awk 'NR > 1' | wc -l)
    # midnight in New York is 05:00 UTC in January
    v=$(cm-cat ny.cmt | awk -F, 'NR > 1 && $1 >= "2011-01-25T05:00:00Z"' | wc -l)
    utc=$(cm-cat ny.cmt | awk -F, 'NR > 1 && $1 >= "2011-01-25T00:00:00Z"' | wc -l)
    [ "$v" -lt "$utc" ]
    train -m linear --valid-from 2011-01-25 ny.cmt -o m.cmm
    [ "$(meta m.cmm valid_rows)" = "$v" ]
    [ "$(meta m.cmm train_rows)" = $((n - v)) ]
    # with an offset, the instant it names
    train -m linear --valid-from 2011-01-25T00:00Z ny.cmt -o z.cmm
    [ "$(meta z.cmm valid_rows)" = "$utc" ]
}

@test "--valid-from at the row where --valid FRAC cuts: the very same model, mlp and linear" {
    bike
    local n=602 v t kind
    # the default --valid 0.2 holds out floor(602 * 0.2) = 120 rows: from
    # the time of row 483 on (one row an hour, in time order)
    v=120
    t=$(cm-cat feat.cmt | awk -F, 'NR > 1 { print $1 }' | sed -n "$((n - v + 1))p")
    for kind in "--layers 8,4 --epochs 3" "-m linear" "--layers 8 --epochs 20 --patience 2"; do
        # shellcheck disable=SC2086
        SOURCE_DATE_EPOCH=9 train $kind feat.cmt -o frac.cmm
        # shellcheck disable=SC2086
        SOURCE_DATE_EPOCH=9 train $kind --valid-from "$t" feat.cmt -o from.cmm
        [ "$(meta from.cmm valid_rows)" = "$v" ]
        [ "$(meta frac.cmm valid_rows)" = "$v" ]
        diff -u <(cm-cat --info frac.cmm | grep -v -e '^  argv=') \
            <(cm-cat --info from.cmm | grep -v -e '^  argv=' -e '^  valid-from=')
        cmp <(cm-predict -m frac.cmm feat.cmt) <(cm-predict -m from.cmm feat.cmt)
    done
    # And --valid 0.2 given: the same again.  An hour later, another model.
    SOURCE_DATE_EPOCH=9 train -m linear --valid 0.2 feat.cmt -o frac.cmm
    SOURCE_DATE_EPOCH=9 train -m linear --valid-from "$t" feat.cmt -o from.cmm
    diff -u <(cm-cat --info frac.cmm | grep -v -e '^  argv=' -e '^  valid=') \
        <(cm-cat --info from.cmm | grep -v -e '^  argv=' -e '^  valid-from=')
    t=$(cm-cat feat.cmt | awk -F, 'NR > 1 { print $1 }' | sed -n "$((n - v + 2))p")
    SOURCE_DATE_EPOCH=9 train -m linear --valid-from "$t" feat.cmt -o later.cmm
    [ "$(meta later.cmm valid_rows)" = $((v - 1)) ]
    [ "$(meta later.cmm valid_rmse)" != "$(meta frac.cmm valid_rmse)" ]
}

@test "--valid-from: with --valid, a bad TIME, no time column (exit 2); rows out of order about it, nothing on a side, a row without a time (exit 1)" {
    printf '%s\n' t,x,y 2011-01-01T00:00,1,3 2011-01-01T01:00,2,5 2011-01-01T03:00,3,7 \
        2011-01-01T02:00,4,9 2011-01-01T04:00,5,11 >o.csv
    cmt o.csv o.cmt --time t
    assert_fails 2 "cm-train: valid and valid-from both choose the rows held out: give one of them" \
        -m linear -y y --valid 0.2 --valid-from 2011-01-01T02:00 o.cmt -o m.cmm
    assert_fails 2 "cm-train: valid and valid-from both choose the rows held out: give one of them" \
        -m linear -y y --valid-from 2011-01-01T02:00 --valid 0 o.cmt -o m.cmm
    local bad
    for bad in yesterday 01/25/2011 20111 1293840000 2011-13-01 '2011-01-01T25:00' ''; do
        assert_fails 2 "cm-train: --valid-from: '$bad' is not an ISO 8601 time or date such as 2011-12-01
Try 'cm-train --help' for more information." -m linear -y y --valid-from "$bad" o.cmt -o m.cmm
    done
    printf '%s\n' x,y 1,3 2,5 3,7 >n.csv
    cmt n.csv n.cmt
    assert_fails 2 "cm-train: valid-from: the stream has no time column to compare with (--valid FRAC holds out the last rows instead)" \
        -m linear -y y --valid-from 2011-01-01 n.cmt -o m.cmm
    # 02:00 comes after 03:00: fine from 02:00 on (both held out), not from 03:00
    train -m linear -y y --valid-from 2011-01-01T02:00 o.cmt -o m.cmm
    [ "$(meta m.cmm train_rows)" = 2 ]
    [ "$(meta m.cmm valid_rows)" = 3 ]
    rm m.cmm
    local msg="cm-train: o.cmt: row 4 (2011-01-01T02:00:00Z) is before valid-from '2011-01-01T03:00' (2011-01-01T03:00:00Z) but comes after row 3 (2011-01-01T03:00:00Z): the rows are not in time order; sort them with cm-clean --sort"
    assert_fails 1 "$msg" -m linear -y y --valid-from 2011-01-01T03:00 o.cmt -o m.cmm
    assert_fails 1 "$msg" -m linear -y y --valid-from 2011-01-01T03:00 --stream o.cmt -o m.cmm
    # sorted as the message says, it works
    cmt o.csv sorted.cmt --time t --sort
    train -m linear -y y --valid-from 2011-01-01T03:00 sorted.cmt -o s.cmm
    [ "$(meta s.cmm train_rows)" = 3 ]
    [ "$(meta s.cmm valid_rows)" = 2 ]
    train -m linear -y y --valid-from 2011-01-01T04:00 sorted.cmt -o s.cmm
    [ "$(meta s.cmm valid_rows)" = 1 ]
    rm s.cmm
    assert_fails 1 "cm-train: sorted.cmt: valid-from '2011-01-01T04:00:01Z' (2011-01-01T04:00:01Z): no row is at or after it, none is left to validate on (the rows run from 2011-01-01T00:00:00Z to 2011-01-01T04:00:00Z)" \
        -m linear -y y --valid-from 2011-01-01T04:00:01Z sorted.cmt -o m.cmm
    assert_fails 1 "cm-train: sorted.cmt: valid-from '2011-01-01' (2011-01-01T00:00:00Z): every row is at or after it, none is left to train on (the rows run from 2011-01-01T00:00:00Z to 2011-01-01T04:00:00Z)" \
        -m linear -y y --valid-from 2011-01-01 sorted.cmt -o m.cmm
    assert_fails 1 "cm-train: sorted.cmt: valid-from '2010-12-31 23:00+00:00' (2010-12-31T23:00:00Z): every row is at or after it, none is left to train on (the rows run from 2011-01-01T00:00:00Z to 2011-01-01T04:00:00Z)" \
        -m linear -y y --valid-from '2010-12-31 23:00+00:00' --stream sorted.cmt -o m.cmm
    printf '%s\n' 't:time:time,a:f64,y:f64:target' 2011-01-01T00:00:00Z,1,2 ,2,3 \
        2011-01-01T02:00:00Z,3,4 2011-01-01T03:00:00Z,4,5 | cmt-gen text >nt.cmt
    assert_fails 1 "cm-train: nt.cmt: row 2 has no time to compare with valid-from '2011-01-01T02:00:00Z' (2011-01-01T02:00:00Z)" \
        -m linear --valid-from 2011-01-01T02:00:00Z nt.cmt -o m.cmm
}
