#!/usr/bin/env bats
# cm-tune: the folds (time and shuffled) checked fold by fold against
# cm-train and cm-predict --eval on the same rows, the ranking, worker
# processes, shards and their merge, resuming a results file, random
# draws, the model of -o, --gap, failing trials and bad input.  The data
# are small CSVs written here (with a fixed integer generator, so that
# every awk gives the same rows) and the January bike file.
load helpers

bats_require_minimum_version 1.5.0

# ---- helpers -----------------------------------------------------------------

# cm-tune ARGS; the best settings in best.out.  Fails when cm-tune fails
# or writes anything on stderr (without -v and with stderr not a terminal
# it is silent).
tune() {
    local st=0
    cm-tune "$@" >best.out 2>tune.err </dev/null || st=$?
    if [ "$st" -ne 0 ] || [ -s tune.err ]; then
        echo "cm-tune $*: status $st, stderr:" >&2
        cat tune.err >&2
        return 1
    fi
}

# The metric NAME of cm-predict --eval -m MODEL DATA.
evalm() {
    cm-predict -q --eval -m "$1" "$2" | sed -n "s/^$3=//p"
}

# A and B equal to 1e-9 relative: close A B
close() {
    check 'a - b <= 1e-9 * (a < 0 ? -a : a) + 1e-12 && b - a <= 1e-9 * (a < 0 ? -a : a) + 1e-12' \
        a="$1" b="$2" || {
        echo "not close: $1 and $2 ${3:+($3)}" >&2
        return 1
    }
}

# The column NAME of the line of trial T of the results file F.
field() {
    awk -F'\t' -v name="$2" -v t="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        $1 == t { print $c }' "$1"
}

# A results file without its seconds column, the lines sorted by trial.
sans_seconds() {
    awk -F'\t' -v OFS='\t' '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i }
        { out = ""; for (i = 1; i <= NF; i++) if (i != s) out = out (i > 1 ? OFS : "") $i
          print (NR == 1 ? 0 : $1), out }' "$1" | sort -n -k1,1 | cut -f2-
}

# The best line of a results file as NAME=VALUE lines, computed here: the
# lowest mean (the highest with HIGHER=1), ties to the lower trial.
# awk_best FILE HIGHER
awk_best() {
    awk -F'\t' -v hi="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) { name[i] = $i
                      if ($i ~ /_fold1$/ && !f) f = i; if ($i ~ /_mean$/) m = i }
                  next }
        $m == "nan" { next }
        b == "" || (hi ? $m + 0 > bv : $m + 0 < bv) || ($m + 0 == bv && $1 + 0 < bt) {
            b = $0; bv = $m + 0; bt = $1 + 0 }
        END { split(b, F, "\t"); for (i = 2; i < f; i++) print name[i] "=" F[i] }' "$1"
}

# Noisy y = 3a - 2b + 5 + i/100, one row an hour from 2024-01-01T00:00Z:
# noisy_csv N (columns t,a,b,y)
noisy_csv() {
    awk -v n="$1" 'BEGIN { s = 4711; print "t,a,b,y"
        for (i = 0; i < n; i++) {
            s = (s * 16807) % 2147483647; A = s % 1000
            s = (s * 16807) % 2147483647; B = s % 1000
            s = (s * 16807) % 2147483647; E = s % 200 - 100
            printf "2024-01-%02dT%02d:00:00Z,%.2f,%.2f,%.2f\n", 1 + int(i / 24), i % 24,
                A / 100, B / 100, (3 * A - 2 * B + 500 + E + i) / 100 } }'
}

# Rows FROM..TO (1-based, header not counted) of the CSV IN, with its header.
rows() {
    { head -n 1 "$1"; sed -n "$(($2 + 1)),$(($3 + 1))p" "$1"; }
}

# The January bike features: time, 17 numbers, cnt as the target.
bike() {
    cm-clean -T dteday,hr --drop instant,casual,registered "$DATA/bike-2011-01.csv" |
        cm-features -y cnt -L cnt:1h,24h >feat.cmt
}

# cm-cat --info of MODEL without the command line and the time of training.
info_sans_argv() {
    cm-cat --info "$1" | grep -v -e '^  argv=' -e '^  created='
}

# ---- the folds ---------------------------------------------------------------------

@test "--cv time, k=2 on 62 rows: each fold is cm-train on the rows before its block, scored on the block" {
    noisy_csv 62 >n.csv
    cmt n.csv n.cmt -T t
    tune -j 1 -m linear -y y -k 2 --cv time --grid 'l2=0.5,5' --results r.tsv n.cmt
    head -n 1 r.tsv | cut -f1-5 >got
    printf 'trial\tl2\trmse_fold1\trmse_fold2\trmse_mean\n' >want
    diff -u want got
    [ "$(wc -l <r.tsv)" -eq 3 ]
    # k + 1 blocks of floor(62 / 3) = 20 rows, the first taking the
    # remainder: fold 1 trains on rows 1-22 and validates on 23-42, fold 2
    # trains on 1-42 and validates on 43-62.  The scaling of each fit comes
    # from its training rows alone, as cm-train's does from its input.
    local n=62 k=2 size=$((62 / 3)) f l2 trial
    for f in 1 2; do
        local start=$((n - (k - f + 1) * size))
        rows n.csv 1 "$start" >tr$f.csv
        rows n.csv $((start + 1)) $((start + size)) >va$f.csv
        cmt tr$f.csv tr$f.cmt -T t
        trial=0
        for l2 in 0.5 5; do
            trial=$((trial + 1))
            train -m linear -y y --l2 "$l2" --valid 0 tr$f.cmt -o m.cmm
            [ "$(meta m.cmm train_rows)" = "$start" ]
            close "$(field r.tsv rmse_fold$f $trial)" "$(evalm m.cmm va$f.csv rmse)" "fold $f l2 $l2"
        done
    done
    [ "$start" -eq 42 ]
    # The mean and (population) sd of the folds.
    awk -F'\t' 'NR > 1 { m = ($3 + $4) / 2; d = $3 - m; printf "%.17g %.17g %s %s\n", m, (d < 0 ? -d : d), $5, $6 }' r.tsv |
        while read -r m s gm gs; do close "$gm" "$m" mean || exit 1; close "$gs" "$s" std || exit 1; done
    # The metric chosen is the one in the columns: MAE of fold 2, trial 2.
    tune -j 1 -m linear -y y -k 2 --metric mae --grid 'l2=0.5,5' --results mae.tsv n.cmt
    train -m linear -y y --l2 5 --valid 0 tr2.cmt -o m.cmm
    close "$(field mae.tsv mae_fold2 2)" "$(evalm m.cmm va2.csv mae)"
    # A fixed --valid holds out the last part of each fold's training rows.
    tune -j 1 -m linear -y y -k 2 --valid 0.25 --grid 'l2=0.5' --results v.tsv n.cmt
    train -m linear -y y --l2 0.5 --valid 0.25 tr1.cmt -o m.cmm
    [ "$(meta m.cmm train_rows)" = 16 ]  # 22 - 5.5 held out, rounded to 6
    close "$(field v.tsv rmse_fold1 1)" "$(evalm m.cmm va1.csv rmse)"
    [ "$(field v.tsv rmse_fold1 1)" != "$(field r.tsv rmse_fold1 1)" ]
    # An MLP too: each fold's fit is cm-train's, to the last digit.
    tune -j 1 -y y -k 2 --layers 8 --epochs 2 --lr 0.01 --grid 'activation=relu,tanh' --results mlp.tsv n.cmt
    train -y y --layers 8 --epochs 2 --lr 0.01 --activation tanh --valid 0 tr1.cmt -o mlp.cmm
    close "$(field mlp.tsv rmse_fold1 2)" "$(evalm mlp.cmm va1.csv rmse)"
    # The test can fail: the scores of fold 1 are not those of fold 2.
    [ "$(field r.tsv rmse_fold1 1)" != "$(field r.tsv rmse_fold2 1)" ]
}

@test "--cv kfold with k = rows is leave-one-out: the fold scores are cm-train's errors on each left-out row" {
    noisy_csv 7 | cut -d, -f2- >s.csv
    cmt s.csv s.cmt
    # No time column: kfold by default.
    tune -j 1 -m linear -y y -k 7 --metric mae --grid 'l2=0.5' --results r.tsv s.cmt
    local i
    for i in 1 2 3 4 5 6 7; do
        { head -n 1 s.csv; sed -n "2,8p" s.csv | sed "${i}d"; } >tr.csv
        rows s.csv "$i" "$i" >va.csv
        cmt tr.csv tr.cmt
        train -m linear -y y --l2 0.5 --valid 0 tr.cmt -o m.cmm
        evalm m.cmm va.csv mae
    done | sort -g >want
    awk -F'\t' 'NR == 2 { for (i = 3; i <= 9; i++) print $i }' r.tsv | sort -g >got
    [ "$(wc -l <want)" -eq 7 ]
    [ "$(wc -l <got)" -eq 7 ]
    paste want got | while read -r w g; do close "$g" "$w" || exit 1; done
    # Another seed shuffles the folds, not what they hold.
    tune -j 1 -m linear -y y -k 7 --metric mae --seed 5 --grid 'l2=0.5' --results r5.tsv s.cmt
    awk -F'\t' 'NR == 2 { for (i = 3; i <= 9; i++) print $i }' r5.tsv | sort -g >got5
    paste want got5 | while read -r w g; do close "$g" "$w" || exit 1; done
    close "$(field r5.tsv mae_mean 1)" "$(field r.tsv mae_mean 1)"
}

@test "--cv: time by default with a time column, kfold without; kfold's folds follow --seed" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    cut -d, -f2- n.csv >nt.csv
    cmt nt.csv nt.cmt
    local g='l2=0.1,1'
    tune -j 1 -m linear -y y -k 3 --grid "$g" --results dflt.tsv n.cmt
    tune -j 1 -m linear -y y -k 3 --grid "$g" --cv time --results time.tsv n.cmt
    tune -j 1 -m linear -y y -k 3 --grid "$g" --cv kfold --results kfold.tsv n.cmt
    diff <(sans_seconds dflt.tsv) <(sans_seconds time.tsv)
    # The stream from standard input, a pipe or -, and --space for --grid.
    cat n.cmt | cm-tune -j 1 -m linear -y y -k 3 --space "$g" --results pipe.tsv >/dev/null
    diff <(sans_seconds dflt.tsv) <(sans_seconds pipe.tsv)
    cm-tune -j 1 -m linear -y y -k 3 --grid "$g" --results dash.tsv - <n.cmt >/dev/null
    diff <(sans_seconds dflt.tsv) <(sans_seconds dash.tsv)
    run ! diff -q <(cut -f3-7 dflt.tsv) <(cut -f3-7 kfold.tsv)
    tune -j 1 -m linear -y y -k 3 --grid "$g" --results dflt-nt.tsv nt.cmt
    tune -j 1 -m linear -y y -k 3 --grid "$g" --cv kfold --results kfold-nt.tsv nt.cmt
    diff <(sans_seconds dflt-nt.tsv) <(sans_seconds kfold-nt.tsv)
    # Same rows, same values: the shuffled folds of n.cmt and of nt.cmt agree.
    diff <(cut -f1-7 kfold.tsv) <(cut -f1-7 kfold-nt.tsv)
    # --seed shuffles otherwise: other fold scores (ridge itself has no seed).
    tune -j 1 -m linear -y y -k 3 --grid "$g" --seed 2 --results seed2.tsv nt.cmt
    run ! diff -q <(cut -f3-5 kfold-nt.tsv) <(cut -f3-5 seed2.tsv)
}

@test "--gap: the training rows end that long before each block (hand-computed); too long a gap is refused" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    tune -j 1 -m linear -y y -k 2 --grid 'l2=0.5' --results nogap.tsv n.cmt
    tune -j 1 -m linear -y y -k 2 --gap 90m --grid 'l2=0.5' --results gap.tsv n.cmt
    # Blocks of 20 rows: fold 1 validates rows 21-40 (from 20:00 on the 1st),
    # fold 2 rows 41-60 (16:00 on the 2nd).  90 minutes before them: the
    # training rows stop at 18:00 (row 19) and 14:00 (row 39).
    local f last
    for f in 1:19:21 2:39:41; do
        IFS=: read -r f last first <<<"$f"
        rows n.csv 1 "$last" >tr.csv
        rows n.csv "$first" $((first + 19)) >va.csv
        cmt tr.csv tr.cmt -T t
        train -m linear -y y --l2 0.5 --valid 0 tr.cmt -o m.cmm
        close "$(field gap.tsv rmse_fold$f 1)" "$(evalm m.cmm va.csv rmse)" "fold $f"
        [ "$(field gap.tsv rmse_fold$f 1)" != "$(field nogap.tsv rmse_fold$f 1)" ]
    done
    # 19.5 hours leaves fold 1 one row (midnight); 20.5 hours none.
    tune -j 1 -m linear -y y -k 2 --gap 1170m --grid 'l2=0.5' --results one.tsv n.cmt
    rows n.csv 1 1 >tr.csv
    rows n.csv 21 40 >va.csv
    cmt tr.csv tr.cmt -T t
    train -m linear -y y --l2 0.5 --valid 0 tr.cmt -o m.cmm
    close "$(field one.tsv rmse_fold1 1)" "$(evalm m.cmm va.csv rmse)"
    # (a usage error, as cm-tune(1) says)
    assert_exit cm-tune 2 "cm-tune: fold 1 has no training rows: the gap is longer than the time before it" \
        -m linear -y y -k 2 --gap 1230m --grid 'l2=0.5' --results no.tsv n.cmt
    [ ! -e no.tsv ]
    # A gap needs time folds, and a time column.
    assert_exit cm-tune 2 "cm-tune: gap: only for time-series folds (--cv time)" \
        -m linear -y y -k 2 --cv kfold --gap 2h --grid 'l2=0.5' n.cmt
    cut -d, -f2- n.csv >nt.csv
    cmt nt.csv nt.cmt
    assert_exit cm-tune 2 "cm-tune: gap: the data have no time column" \
        -m linear -y y -k 2 --cv time --gap 2h --grid 'l2=0.5' nt.cmt
    assert_exit cm-tune 2 "cm-tune: --gap: '2x' is not a duration like 2h
Try 'cm-tune --help' for more information." -m linear -y y --gap 2x --grid 'l2=0.5' n.cmt
}

# ---- the ranking ---------------------------------------------------------------------

@test "the best printed is the line of the lowest mean (highest for r2), ties to the lower trial" {
    bike
    local m hi
    for m in rmse mae mape r2; do
        hi=0
        [ "$m" = r2 ] && hi=1
        tune -j 1 -k 2 --epochs 2 --metric "$m" --grid 'lr=0.001,0.03 layers=8|16,8' --results $m.tsv feat.cmt
        [ "$(wc -l <$m.tsv)" -eq 5 ]
        head -n 1 $m.tsv | grep -q "	${m}_mean	${m}_std	seconds	data	setup	fixed	error\$"
        awk_best $m.tsv $hi >want
        [ "$(wc -l <want)" -eq 2 ]
        diff -u want best.out || { echo "metric $m" >&2; return 1; }
    done
    # Not vacuous: the lowest r2 is another trial than the highest.
    [ "$(awk_best r2.tsv 1)" != "$(awk_best r2.tsv 0)" ]
    # Every trial the same score (lr plays no part in ridge): trial 1, with
    # one worker or two.
    for j in 1 2; do
        tune -j $j -m linear -k 3 --grid 'lr=0.1,0.01,0.001' --results tie$j.tsv feat.cmt
        [ "$(cut -f6 tie$j.tsv | sort -u | wc -l)" -eq 2 ]
        [ "$(cat best.out)" = lr=0.1 ]
    done
    tune --merge tie2.tsv
    [ "$(cat best.out)" = lr=0.1 ]
}

@test "-j 1 and -j 2: the same results but for the seconds, the same best" {
    bike
    local g='lr=0.001,0.01 layers=8|16 activation=relu,tanh'
    tune -j 1 -k 3 --epochs 2 --grid "$g" --results j1.tsv feat.cmt
    mv best.out best1.out
    tune -j 2 -k 3 --epochs 2 --grid "$g" --results j2.tsv feat.cmt
    diff best1.out best.out
    [ "$(wc -l <j1.tsv)" -eq 9 ]
    diff <(sans_seconds j1.tsv) <(sans_seconds j2.tsv)
    # The grid in odometer order, the last setting fastest.
    cut -f1-4 j1.tsv | tail -n +2 | head -n 3 >got
    printf '1\t0.001\t8\trelu\n2\t0.001\t8\ttanh\n3\t0.001\t16\trelu\n' >want
    diff -u want got
    # seconds: a duration.
    awk -F'\t' 'FNR > 1 && !($10 ~ /^[0-9]+\.[0-9][0-9][0-9]$/) { exit 1 }' j1.tsv j2.tsv
    # Not a vacuous comparison: the trials differ among themselves.
    [ "$(cut -f8 j1.tsv | sort -u | wc -l)" -eq 9 ]
}

# ---- shards, merge ----------------------------------------------------------------------

@test "--shard 1/2 and 2/2 (GNU parallel when there is one) merge to the best and the model of one run" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    export SOURCE_DATE_EPOCH=1700000000
    local g='lr=0.001,0.01,0.1 activation=relu,tanh'
    local a=(-m mlp -y y -k 2 --layers 8 --epochs 2 --grid "$g")
    tune -j 1 "${a[@]}" --results all.tsv -o all.cmm n.cmt
    mv best.out all.out
    if command -v parallel >/dev/null; then
        parallel --will-cite cm-tune -j 1 -m mlp -y y -k 2 --layers 8 --epochs 2 --grid "'$g'" \
            --shard {}/2 --results s{}.tsv n.cmt '>' s{}.out ::: 1 2
    else
        for i in 1 2; do
            tune -j 1 "${a[@]}" --shard $i/2 --results s$i.tsv n.cmt
            mv best.out s$i.out
        done
    fi
    # Shard 1 has the trials 1, 3, 5; shard 2 the others.
    [ "$(tail -n +2 s1.tsv | cut -f1 | sort -n | paste -sd,)" = 1,3,5 ]
    [ "$(tail -n +2 s2.tsv | cut -f1 | sort -n | paste -sd,)" = 2,4,6 ]
    # Each prints the best of its own trials.
    diff <(awk_best s1.tsv 0) s1.out
    diff <(awk_best s2.tsv 0) s2.out
    # Together, the lines of the one run.
    diff <(sans_seconds all.tsv) <({ cat s1.tsv; tail -n +2 s2.tsv; } >both.tsv && sans_seconds both.tsv)
    tune --merge s1.tsv s2.tsv
    diff all.out best.out
    tune --merge s2.tsv s1.tsv -o merged.cmm --data n.cmt
    diff all.out best.out
    diff <(info_sans_argv all.cmm) <(info_sans_argv merged.cmm)
    [ "$(meta merged.cmm valid)" = 0 ]
    # Three shards too.
    for i in 1 2 3; do tune -j 1 "${a[@]}" --shard $i/3 --results t$i.tsv n.cmt; done
    tune --merge t1.tsv t2.tsv t3.tsv
    diff all.out best.out
}

@test "--merge refuses shards of another grid, other folds or other data, and -o onto other data" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    local a=(-j 1 -m linear -y y -k 2)
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,10' --shard 1/2 --results s1.tsv n.cmt
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,100' --shard 2/2 --results other.tsv n.cmt
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,10' --shard 2/2 --results s2.tsv n.cmt
    setup=$(field s1.tsv setup 1) osetup=$(field other.tsv setup 2) data=$(field s1.tsv data 1)
    [ "$setup" != "$osetup" ]
    assert_exit cm-tune 1 "cm-tune: trial 2: results of other data or of another search (data $data, setup $osetup; $data and $setup before)" \
        --merge s1.tsv other.tsv
    [ ! -s stdout.bin ]
    tune -j 1 -m linear -y y -k 3 --grid 'l2=0.01,0.1,1,10' --shard 2/2 --results k3.tsv n.cmt
    assert_exit cm-tune 1 "cm-tune: k3.tsv: other columns than the other results (another search?)" \
        --merge s1.tsv k3.tsv
    # Other data: one target value changed.
    sed '30s/,[^,]*$/,99/' n.csv >n2.csv
    cmt n2.csv n2.cmt -T t
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,10' --shard 2/2 --results d2.tsv n2.cmt
    run --separate-stderr cm-tune --merge s1.tsv d2.tsv
    [ "$status" -eq 1 ]
    [[ $stderr == "cm-tune: trial 2: results of other data or of another search (data "* ]]
    # -o onto data other than the search's: refused, no model.
    tune --merge s1.tsv s2.tsv
    want=$(cat best.out)
    assert_exit cm-tune 1 "cm-tune: n2.cmt: not the data of the search (data $(field d2.tsv data 2), the results say $data)" \
        --merge s1.tsv s2.tsv -o m.cmm --data n2.cmt
    [ ! -e m.cmm ]
    [ "$(ls -A | grep -c cmm)" -eq 0 ]
    # The good data: the model, with the best settings.
    tune --merge s1.tsv s2.tsv -o m.cmm --data n.cmt
    [ "$(cat best.out)" = "$want" ]
    [ "$(meta m.cmm l2)" = "${want#l2=}" ]
    # Not results files.
    printf 'a,b\n1,2\n' >x.tsv
    : >e.tsv
    assert_exit cm-tune 1 "cm-tune: x.tsv: not a cm-tune results file" --merge x.tsv
    assert_exit cm-tune 1 "cm-tune: e.tsv: empty, not a results file" --merge e.tsv
    assert_exit cm-tune 1 "cm-tune: nope.tsv: No such file or directory" --merge s1.tsv nope.tsv
}

@test "--merge -o with a target whose name has a space: the model of the single run" {
    noisy_csv 60 | sed '1s/,y$/,my y/' >sp.csv
    cmt sp.csv sp.cmt -T t
    export SOURCE_DATE_EPOCH=1700000000
    local a=(-j 1 -m linear -y 'my y' -k 2 --grid 'l2=0.1,1,10')
    tune "${a[@]}" -o one.cmm sp.cmt
    mv best.out one.out
    for i in 1 2; do tune "${a[@]}" --shard $i/2 --results s$i.tsv sp.cmt; done
    # a space inside a value is written %20, as spaces separate the settings
    [[ $(field s1.tsv fixed 1) == *"target=my%20y"* ]]
    tune --merge s1.tsv s2.tsv -o merged.cmm --data sp.cmt
    diff one.out best.out
    diff <(info_sans_argv one.cmm) <(info_sans_argv merged.cmm)
}

# ---- resume --------------------------------------------------------------------------------

@test "--resume: a file cut mid-line is completed to the uninterrupted one; a complete one is left alone" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    local a=(-j 1 -y y -k 2 --layers 8 --epochs 2 --grid 'lr=0.001,0.01,0.1 activation=relu,tanh')
    tune "${a[@]}" --results full.tsv n.cmt
    mv best.out full.out
    [ "$(wc -l <full.tsv)" -eq 7 ]
    # Two trials and half of the third's line, as a crash leaves them.
    { head -n 3 full.tsv; sed -n 4p full.tsv | head -c 30; } >part.tsv
    cp part.tsv part0.tsv
    # Without --resume an existing file is refused, untouched.
    assert_exit cm-tune 1 "cm-tune: part.tsv exists: --resume to go on with it, or give another file" \
        "${a[@]}" --results part.tsv n.cmt
    cmp part0.tsv part.tsv
    tune "${a[@]}" --results part.tsv --resume n.cmt
    diff full.out best.out
    diff <(sans_seconds full.tsv) <(sans_seconds part.tsv)
    # The two whole lines were kept as they were, seconds included.
    diff <(head -n 3 full.tsv) <(head -n 3 part.tsv)
    # Complete: nothing to run, the file unchanged, the same best.
    cp part.tsv done.tsv
    tune "${a[@]}" --results part.tsv --resume -j 2 n.cmt
    cmp done.tsv part.tsv
    diff full.out best.out
    # --resume with no file yet starts one.
    tune "${a[@]}" --results new.tsv --resume n.cmt
    diff <(sans_seconds full.tsv) <(sans_seconds new.tsv)
    # An empty file, or a header cut short (killed in its first write):
    # the search begins again in it.
    : >empty.tsv
    tune "${a[@]}" --results empty.tsv --resume n.cmt
    diff <(sans_seconds full.tsv) <(sans_seconds empty.tsv)
    head -c 20 full.tsv >torn.tsv
    tune "${a[@]}" --results torn.tsv --resume n.cmt
    diff <(sans_seconds full.tsv) <(sans_seconds torn.tsv)
    # A whole header of another search is still refused.
    { head -n 1 full.tsv | sed 's/lr/eta/'; } >other.tsv
    run --separate-stderr cm-tune "${a[@]}" --results other.tsv --resume n.cmt
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the results of another search"* ]]
}

@test "--resume refuses the results of other data, another grid, folds, metric or fixed settings, leaving the file as it was" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    sed '30s/,[^,]*$/,99/' n.csv >n2.csv
    cmt n2.csv n2.cmt -T t
    local a=(-j 1 -m linear -y y -k 2)
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,10' --results full.tsv n.cmt
    { head -n 3 full.tsv; sed -n 4p full.tsv | head -c 25; } >r.tsv
    cp r.tsv r0.tsv
    data=$(field full.tsv data 1)
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,10' --results d2.tsv n2.cmt
    data2=$(field d2.tsv data 1)
    [ "$data" != "$data2" ]
    assert_exit cm-tune 1 "cm-tune: r.tsv: results of other data (fingerprint $data, these data $data2): give another --results file" \
        "${a[@]}" --grid 'l2=0.01,0.1,1,10' --results r.tsv --resume n2.cmt
    cmp r0.tsv r.tsv
    # Another search: exit 1, one line naming the file, the file as it was
    # (its cut last line too).
    local other args
    # Each case: options separated by '#'.
    for other in "--grid#l2=0.01,0.1,1,100" "-k#3#--grid#l2=0.01,0.1,1,10" \
        "--metric#mae#--grid#l2=0.01,0.1,1,10" "--epochs#3#--grid#l2=0.01,0.1,1,10" \
        "--cv#kfold#--grid#l2=0.01,0.1,1,10" "--gap#2h#--grid#l2=0.01,0.1,1,10" \
        "--grid#lr=0.01,0.1" "--grid#l2=0.01,0.1,1,10 lr=0.1"; do
        IFS='#' read -ra args <<<"$other"
        run --separate-stderr cm-tune "${a[@]}" "${args[@]}" --results r.tsv --resume n.cmt
        [ "$status" -eq 1 ] && [[ $stderr == "cm-tune: r.tsv: "*"another search"* ]] &&
            [[ $stderr != *$'\n'* ]] && [ -z "$output" ] || {
            echo "$other: status $status, stdout '$output', stderr '$stderr'" >&2
            return 1
        }
        cmp r0.tsv r.tsv || { echo "$other changed the file" >&2; return 1; }
    done
    # The right search still completes it.
    tune "${a[@]}" --grid 'l2=0.01,0.1,1,10' --results r.tsv --resume n.cmt
    diff <(sans_seconds full.tsv) <(sans_seconds r.tsv)
}

@test "--resume of a header-only file (a crash in the first trial) refuses other folds or another metric" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    tune -j 1 -m linear -y y -k 2 --grid 'l2=0.01,1' --results k2.tsv n.cmt
    head -n 1 k2.tsv >h.tsv
    cp h.tsv h0.tsv
    # Lines of 3 folds under a header of 2 would make the file unreadable.
    run --separate-stderr cm-tune -j 1 -m linear -y y -k 3 --grid 'l2=0.01,1' --results h.tsv --resume n.cmt
    [ "$status" -eq 1 ] && [[ $stderr == "cm-tune: h.tsv: "* ]] || {
        echo "-k 3 onto a -k 2 header: status $status, stderr '$stderr'; the file now:" >&2
        cat h.tsv >&2
        return 1
    }
    cmp h0.tsv h.tsv
    # MAE scores under rmse_* columns would be ranked as RMSE by --merge.
    run --separate-stderr cm-tune -j 1 -m linear -y y -k 2 --metric mae --grid 'l2=0.01,1' --results h.tsv --resume n.cmt
    [ "$status" -eq 1 ] && [[ $stderr == "cm-tune: h.tsv: "* ]] || {
        echo "--metric mae onto an rmse header: status $status, stderr '$stderr'; the file now:" >&2
        cat h.tsv >&2
        return 1
    }
    cmp h0.tsv h.tsv
}

@test "--resume and --merge: the same fixed settings in another order are the same search" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    tune -j 1 -m linear -y y --l2 1 -k 2 --grid 'seed=1,2,3' --results full.tsv n.cmt
    head -n 2 full.tsv >r.tsv
    # -y before -m, --valid 0 said (it is cm-tune's default): the same settings.
    tune -j 1 -y y --valid 0 -m linear --l2 1 -k 2 --grid 'seed=1,2,3' --results r.tsv --resume n.cmt
    diff <(sans_seconds full.tsv) <(sans_seconds r.tsv)
    tune -j 1 -y y -m linear --l2 1 -k 2 --grid 'seed=1,2,3' --shard 2/2 --results s2.tsv n.cmt
    head -n 1 s2.tsv >s1.tsv
    sed -n '2p;4p' full.tsv >>s1.tsv
    tune --merge s1.tsv s2.tsv
}

@test "--resume of a random search with repeated draws completes it to the uninterrupted file" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    # Four combinations, eight draws: some draws repeat others.
    local a=(-j 1 -m linear -y y -k 2 --random 8 --grid 'epochs=1:2 activation=relu,tanh')
    tune "${a[@]}" --results full.tsv n.cmt
    [ "$(wc -l <full.tsv)" -eq 9 ]
    [ "$(tail -n +2 full.tsv | cut -f2,3 | sort -u | wc -l)" -lt 8 ]
    { head -n 3 full.tsv; sed -n 4p full.tsv | head -c 10; } >r.tsv
    tune "${a[@]}" --results r.tsv --resume n.cmt
    diff <(sans_seconds full.tsv) <(sans_seconds r.tsv)
}

# ---- random draws ------------------------------------------------------------------------------

@test "--random N: N draws within the ranges (log, whole, real, choices); same seed same draws, another seed others" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    local g='lr=1e-4:1e-1:log dropout=0:0.5 epochs=1:3 activation=relu,tanh'
    tune -j 2 -m linear -y y -k 2 --random 30 --grid "$g" --results r1.tsv n.cmt
    [ "$(wc -l <r1.tsv)" -eq 31 ]
    [ "$(head -n 1 r1.tsv | cut -f1-5)" = "$(printf 'trial\tlr\tdropout\tepochs\tactivation')" ]
    [ "$(tail -n +2 r1.tsv | cut -f1 | sort -n | paste -sd' ')" = "$(seq 1 30 | paste -sd' ')" ]
    awk -F'\t' 'NR > 1 {
        if (!($2 >= 1e-4 && $2 <= 1e-1)) { print "lr", $2; bad = 1 }
        if (!($3 >= 0 && $3 <= 0.5) || $3 ~ /^[01]$/) { print "dropout", $3; bad = 1 }
        if ($4 !~ /^[123]$/) { print "epochs", $4; bad = 1 }
        if ($5 != "relu" && $5 != "tanh") { print "activation", $5; bad = 1 }
        lr[NR] = log($2) / log(10); e[$4]++; a[$5]++; if ($2 < 0.00316) low++ }
        END { if (!(e[1] && e[2] && e[3] && a["relu"] && a["tanh"])) { print "a value never drawn"; bad = 1 }
              # log-uniform: about half of the draws below 10^-2.5
              if (low < 5 || low > 25) { print "lr below 10^-2.5:", low; bad = 1 }
              exit bad }' r1.tsv
    # The best printed is one of the draws.
    awk_best r1.tsv 0 >want
    diff want best.out
    # Same seed, same draws (-j 1 or 2); another seed, others.
    tune -j 1 -m linear -y y -k 2 --random 30 --grid "$g" --results r2.tsv n.cmt
    diff <(sans_seconds r1.tsv) <(sans_seconds r2.tsv)
    tune -j 1 -m linear -y y -k 2 --random 30 --seed 9 --grid "$g" --results r9.tsv n.cmt
    [ "$(tail -n +2 r9.tsv | cut -f2-3 | sort | comm -12 - <(tail -n +2 r1.tsv | cut -f2-3 | sort) | wc -l)" -eq 0 ]
    # The first draws of 30 are those of 5.
    tune -j 1 -m linear -y y -k 2 --random 5 --grid "$g" --results r5.tsv n.cmt
    diff <(tail -n +2 r5.tsv | cut -f1-5) <(tail -n +2 r1.tsv | sort -n | head -n 5 | cut -f1-5)
}

@test "--random: a log range with whole ends draws whole numbers spread on the log scale" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    tune -j 1 -m linear -y y -k 2 --random 40 --grid 'batch=1:10000:log' --results r.tsv n.cmt
    # Log-uniform on [1, 10000]: half the draws below 100 (a uniform draw
    # would give 1 in 100).
    awk -F'\t' 'NR > 1 { if ($2 !~ /^[0-9]+$/ || $2 < 1 || $2 > 10000) { print "out:", $2; bad = 1 }
                         if ($2 < 100) low++ }
                END { if (low < 10) { print low + 0, "of 40 draws below 100"; bad = 1 }; exit bad }' r.tsv
}

@test "--random 0 is a usage error, not a grid search" {
    noisy_csv 30 >n.csv
    cmt n.csv n.cmt -T t
    run --separate-stderr cm-tune -m linear -y y -k 2 --random 0 --grid 'l2=0.1,1' n.cmt
    [ "$status" -eq 2 ] && [ -z "$output" ] && [[ $stderr == *random* ]] || {
        echo "status $status, stdout '$output', stderr '$stderr'" >&2
        return 1
    }
}

# ---- -o --------------------------------------------------------------------------------------

@test "-o: the model of cm-train with the best settings on every row (valid=0), the old one kept on failure" {
    bike
    export SOURCE_DATE_EPOCH=1700000000
    tune -j 2 -k 2 --epochs 2 --layers 8 --grid 'lr=0.001,0.01 activation=relu,tanh' --results r.tsv -o best.cmm feat.cmt
    awk_best r.tsv 0 >want
    diff want best.out
    lr=$(sed -n 's/^lr=//p' best.out) act=$(sed -n 's/^activation=//p' best.out)
    [ "$(meta best.cmm lr)" = "$lr" ]
    [ "$(meta best.cmm activation)" = "$act" ]
    [ "$(meta best.cmm valid)" = 0 ]
    [ "$(meta best.cmm valid_rows)" = 0 ]
    [ "$(meta best.cmm train_rows)" = 602 ]
    [ "$(meta best.cmm epochs)" = 2 ]
    [[ $(meta best.cmm argv) == "cm-tune -j 2 -k 2 "* ]]
    train --epochs 2 --layers 8 --lr "$lr" --activation "$act" --valid 0 feat.cmt -o ref.cmm
    diff <(info_sans_argv ref.cmm) <(info_sans_argv best.cmm)
    cmp <(cm-predict -m ref.cmm feat.cmt) <(cm-predict -m best.cmm feat.cmt)
    # Ridge too, with a fixed --valid passed through.
    tune -j 1 -m linear -k 2 --valid 0.25 --grid 'l2=0.1,10' -o lin.cmm feat.cmt
    train -m linear --valid 0.25 --"$(cat best.out)" feat.cmt -o lref.cmm
    diff <(info_sans_argv lref.cmm) <(info_sans_argv lin.cmm)
    # Every trial diverges: exit 1, and the model at -o is the old one.
    cp best.cmm old.cmm
    before=$(ls -A | grep -v separate-stderr)
    run --separate-stderr cm-tune -j 1 -k 2 --layers 8 --epochs 3 --optimizer sgd --grid 'lr=50,100' -o best.cmm feat.cmt
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ $stderr == *$'\n'"cm-tune: no trial gave a score" ]]
    cmp old.cmm best.cmm
    run --separate-stderr cm-tune -j 1 -k 2 --layers 8 --epochs 3 --optimizer sgd --grid 'lr=50' -o new.cmm feat.cmt
    [ "$status" -eq 1 ]
    [ ! -e new.cmm ]
    # Nothing else left behind either (no temporary file).
    [ "$(ls -A | grep -v separate-stderr)" = "$before" ]
}

@test "-o in a missing directory fails at once, before the search (as cm-train's does)" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    assert_exit cm-tune 1 "cm-tune: nodir/m.cmm: No such file or directory" \
        -j 1 -m linear -y y -k 2 --grid 'l2=0.1,1' -o nodir/m.cmm n.cmt
    [ ! -s stdout.bin ]
}

@test "-o: a search stopped by SIGTERM leaves neither the model nor a temporary file behind" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    # A million epochs: the search is still running when it is stopped.
    cm-tune -j 1 -y y -k 2 --layers 8 --epochs 1000000 --grid 'lr=0.01' --results r.tsv \
        -o m.cmm n.cmt </dev/null >/dev/null 2>&1 &
    local pid=$! i
    for ((i = 0; i < 100; i++)); do
        [ -s r.tsv ] && break
        sleep 0.05
    done
    kill -TERM "$pid"
    wait "$pid" || true
    [ -s r.tsv ]
    got=$(ls -A | grep -vx clean.err | LC_ALL=C sort | paste -sd' ')
    [ "$got" = "n.cmt n.csv r.tsv" ] || {
        echo "left in the directory: $got" >&2
        return 1
    }
}

# ---- failing trials, messages -------------------------------------------------------------

@test "a diverging trial: nan scores and its error in the file, a warning, and the others still ranked" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    run --separate-stderr cm-tune -j 2 -y y -k 2 --layers 8 --epochs 3 --optimizer sgd --grid 'lr=0.001,50' --results r.tsv n.cmt
    [ "$status" -eq 0 ]
    [ "$output" = lr=0.001 ]
    [[ $stderr =~ ^cm-tune:\ trial\ 2:\ fold\ [12]:\ training\ diverged\ in\ epoch\ [0-9]+\ \(loss\ [^\)]+\):\ lower\ --lr$ ]]
    [ "$(field r.tsv rmse_mean 2)" = nan ]
    [[ $(field r.tsv error 2) == "fold "?": training diverged in epoch "* ]]
    [ -z "$(field r.tsv error 1)" ]
    is_num=$(field r.tsv rmse_mean 1)
    check 'm > 0' m="$is_num"
}

@test "stdout has only the best NAME=VALUE lines; -v adds one summary line of the best trial's mean and sd" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    local a=(-j 1 -m linear -y y -k 3 --grid 'l2=0.01,1,100 lr=0.1,0.2')
    run --separate-stderr cm-tune "${a[@]}" --results r.tsv n.cmt
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "$(awk_best r.tsv 0)" ]
    [ "${#lines[@]}" -eq 2 ]
    rm r.tsv
    run --separate-stderr cm-tune -v "${a[@]}" --results r.tsv n.cmt
    [ "$output" = "$(awk_best r.tsv 0)" ]
    t=$(awk -F'\t' -v l2="$(sed -n 's/^l2=//p' <<<"$output")" -v lr="$(sed -n 's/^lr=//p' <<<"$output")" \
        '$2 == l2 && $3 == lr { print $1 }' r.tsv)
    want=$(printf 'cm-tune: best trial %s: rmse %.6g (sd %.3g over folds)' "$t" \
        "$(field r.tsv rmse_mean "$t")" "$(field r.tsv rmse_std "$t")")
    [ "$stderr" = "$want" ]
    # -q leaves the summary of -v.
    run --separate-stderr cm-tune -q -v "${a[@]}" n.cmt
    [ "$stderr" = "$want" ]
    # The same summary from a merge and from a resumed, complete file.
    run --separate-stderr cm-tune -v --merge r.tsv
    [ "$stderr" = "$want" ] || { echo "merge -v: '$stderr', want '$want'" >&2; return 1; }
    run --separate-stderr cm-tune -v "${a[@]}" --results r.tsv --resume n.cmt
    [ "$stderr" = "$want" ] || { echo "resume -v: '$stderr', want '$want'" >&2; return 1; }
}

@test "a shard without trials: a warning, exit 0 and a header for --merge; with -o, exit 1" {
    noisy_csv 60 >n.csv
    cmt n.csv n.cmt -T t
    local a=(-j 1 -m linear -y y -k 2 --grid 'l2=0.1,1,10')
    tune "${a[@]}" --results all.tsv n.cmt
    mv best.out all.out
    for i in 1 2 3; do tune "${a[@]}" --shard $i/4 --results s$i.tsv n.cmt; done
    run --separate-stderr cm-tune "${a[@]}" --shard 4/4 --results s4.tsv n.cmt
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$stderr" = "cm-tune: no trial of shard 4/4 gave a score" ]
    [ "$(wc -l <s4.tsv)" -eq 1 ]
    cmp <(head -n 1 all.tsv) s4.tsv
    tune --merge s1.tsv s2.tsv s3.tsv s4.tsv
    diff all.out best.out
    assert_exit cm-tune 1 "cm-tune: no trial gave a score" "${a[@]}" --shard 4/4 -o m.cmm n.cmt
    [ ! -e m.cmm ]
}

# ---- bad input -----------------------------------------------------------------------------

@test "--cv time on rows out of time order: exit 1 naming the row; --cv kfold takes them" {
    noisy_csv 30 >n.csv
    # Rows 10 and 11 swapped: row 11 is earlier than row 10.
    awk 'NR == 11 { keep = $0; next } NR == 12 { print; print keep; next } 1' n.csv >u.csv
    cmt u.csv u.cmt -T t
    assert_exit cm-tune 1 "cm-tune: u.cmt: row 11 is earlier than the row before it: time-series folds need the rows in time order (cm-clean --sort, or --cv kfold)" \
        -m linear -y y -k 2 --grid 'l2=1' u.cmt
    tune -j 1 -m linear -y y -k 2 --cv kfold --grid 'l2=1' u.cmt
    [ "$(cat best.out)" = l2=1 ]
}

@test "bad grids: one line naming the problem (the trial for a bad value), before any row is read" {
    # nofile.cmt does not exist: every message comes before the data are opened.
    assert_exit cm-tune 2 "cm-tune: an empty search: give NAME=VALUES,..." --grid '' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: an empty search: give NAME=VALUES,..." --grid '  ' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: trial 1 (bogus=1): unknown setting 'bogus'" --grid 'bogus=1' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: trial 3 (lr=x activation=relu): lr: 'x' is not a number from 1e-12 to 1000" \
        --grid 'lr=0.01,x activation=relu,tanh' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: trial 2 (layers=8,,8): layers: '8,,8' is not a list of widths such as 64,64" \
        --grid 'layers=8|8,,8' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: trial 2 (dropout=1): dropout: '1' is not a number from 0 to 0.95" \
        --grid 'dropout=0,1' nofile.cmt
    for s in target features skip-missing; do
        assert_exit cm-tune 2 "cm-tune: $s: not a setting to search (it chooses the data or the machine, not the model)" \
            --grid "lr=0.1 $s=a" nofile.cmt
    done
    assert_exit cm-tune 2 "cm-tune: 'lr=' is not NAME=VALUES" --grid 'lr=' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: 'lr' is not NAME=VALUES" --grid 'lr' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: lr: an empty value" --grid 'lr=0.1,,0.2' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: lr: searched twice" --grid 'lr=0.1 lr=0.2' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: lr: '0.1:0.01' is not a range LOW:HIGH or LOW:HIGH:log with LOW < HIGH" \
        --random 2 --grid 'lr=0.1:0.01' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: lr: '0:1:log' is not a range LOW:HIGH or LOW:HIGH:log with LOW < HIGH" \
        --random 2 --grid 'lr=0:1:log' nofile.cmt
    assert_exit cm-tune 2 "cm-tune: a grid of 2000000 trials is too many (at most a million)" \
        --grid "$(for p in a b c d e f; do printf '%s=1,2,3,4,5,6,7,8,9,10 ' $p; done)g=1,2" nofile.cmt
    assert_exit cm-tune 2 "cm-tune: --random: '2000000' is not a whole number from 1 to 1000000
Try 'cm-tune --help' for more information." --random 2000000 --grid 'lr=0.1:1' nofile.cmt
    # A fixed setting cm-train would refuse, too, as an option.
    assert_exit cm-tune 2 "cm-tune: --epochs: '0' is not a whole number from 1 to 1000000
Try 'cm-tune --help' for more information." --epochs 0 --grid 'lr=0.1' nofile.cmt
}

@test "bad options and data: exit 2 with --help's hint, fewer rows than folds exit 1" {
    noisy_csv 5 >few.csv
    cmt few.csv few.cmt -T t
    local g=(-m linear -y y --grid 'l2=1')
    assert_exit cm-tune 1 "cm-tune: few.cmt: 5 rows are fewer than 6 folds need" "${g[@]}" few.cmt
    assert_exit cm-tune 1 "cm-tune: few.cmt: 5 rows are fewer than 6 folds need" "${g[@]}" --cv kfold -k 6 few.cmt
    # Exactly enough: time folds need k + 1 rows, shuffled ones k.
    tune -j 1 "${g[@]}" -k 4 few.cmt
    tune -j 1 "${g[@]}" -k 5 --cv kfold few.cmt
    local try="Try 'cm-tune --help' for more information."
    for s in 0/2 3/2 1/0 1 a/b 1/2x /2 1/ -1/2; do
        assert_exit cm-tune 2 "cm-tune: --shard: '$s' is not I/N with 1 <= I <= N
$try" "${g[@]}" --shard "$s" few.cmt
    done
    assert_exit cm-tune 2 "cm-tune: --resume needs --results FILE
$try" "${g[@]}" --resume few.cmt
    assert_exit cm-tune 2 "cm-tune: --folds: '1' is not a whole number from 2 to 100
$try" "${g[@]}" -k 1 few.cmt
    assert_exit cm-tune 2 "cm-tune: --folds: '101' is not a whole number from 2 to 100
$try" "${g[@]}" -k 101 few.cmt
    assert_exit cm-tune 2 "cm-tune: --metric: 'rmsle' is not mae, rmse, mape or r2
$try" "${g[@]}" --metric rmsle few.cmt
    assert_exit cm-tune 2 "cm-tune: --cv: 'loo' is not kfold or time
$try" "${g[@]}" --cv loo few.cmt
    assert_exit cm-tune 2 "cm-tune: --jobs: '0' is not a whole number from 1 to 256
$try" "${g[@]}" -j 0 few.cmt
    assert_exit cm-tune 2 "cm-tune: nothing to search: give --grid 'NAME=VALUE,... ...'
$try" -m linear -y y few.cmt
    assert_exit cm-tune 2 "cm-tune: one input at most (got 2)
$try" "${g[@]}" few.cmt few.cmt
    assert_exit cm-tune 2 "cm-tune: --data is for --merge -o; give the stream as FILE
$try" "${g[@]}" --data few.cmt few.cmt
    assert_exit cm-tune 2 "cm-tune: --merge: give the results files to merge
$try" --merge
    assert_exit cm-tune 2 "cm-tune: --merge -o: give the data to retrain on with --data FILE
$try" --merge -o m.cmm x.tsv
    assert_exit cm-tune 1 "cm-tune: nodir/r.tsv: No such file or directory" "${g[@]}" -k 2 --results nodir/r.tsv few.cmt
    assert_exit cm-tune 2 "cm-tune: -o -: the best settings go to standard output; give a file
$try" "${g[@]}" -k 2 -o - few.cmt
    assert_exit cm-tune 2 "cm-tune: target: no column 'nope' (the columns are 't', 'a', 'b', 'y')" -m linear -y nope -k 2 --grid 'l2=1' few.cmt
    assert_exit cm-tune 2 "cm-tune: target: column 't' is not a number" -m linear -y t -k 2 --grid 'l2=1' few.cmt
    assert_exit cm-tune 1 "cm-tune: few.csv: input looks like text (CSV?), not a cm stream; convert it with cm-clean" \
        "${g[@]}" few.csv
    [ ! -e m.cmm ]
}

@test "--help: --valid once, with cm-tune's default 0 (never cm-train's 0.2), the one a search and its model use" {
    run --separate-stderr cm-tune --help
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    printf '%s\n' "$output" >help.txt
    [ "$(grep -c -e '--valid' help.txt)" = 1 ]
    # the entry: its line and the lines that go on under it
    awk '/^  (-., |    )--/ { on = /--valid=/ } on' help.txt >entry.txt
    [ "$(wc -l <entry.txt)" -ge 1 ]
    grep -q '(default 0)$' entry.txt
    ! grep -q '0\.2' entry.txt || false
    ! grep -i 'valid' help.txt | grep -q '0\.2' || false
    local dflt
    dflt=$(tr '\n' ' ' <entry.txt | sed -n 's/.*(default \([^)]*\)) *$/\1/p')
    [ "$dflt" = 0 ]
    # what the search uses: its fixed settings, and the model of -o
    noisy_csv 62 >n.csv
    cmt n.csv n.cmt -T t
    tune -j 1 -m linear -y y -k 2 --grid 'l2=0.5,5' --results r.tsv -o best.cmm n.cmt
    [[ " $(field r.tsv fixed 1) " == *" valid=$dflt "* ]]
    [[ " $(field r.tsv fixed 2) " == *" valid=$dflt "* ]]
    [ "$(meta best.cmm valid)" = "$dflt" ]
    [ "$(meta best.cmm valid_rows)" = 0 ]
    # and cm-train's own help keeps its own
    cm-train --help | grep -A1 -e '--valid=' | grep -q '(default 0.2)$'
}

@test "--valid-from is refused with the reason (the folds choose the rows scored), and cannot be searched" {
    noisy_csv 62 >n.csv
    cmt n.csv n.cmt -T t
    local why="cm-tune: --valid-from: cm-tune's folds choose the rows each trial is scored on; --valid FRAC holds out the last of each fold's training rows instead
Try 'cm-tune --help' for more information."
    assert_exit cm-tune 2 "$why" -m linear -y y -k 2 --grid 'l2=0.5,5' --valid-from 2024-01-02 n.cmt
    assert_exit cm-tune 2 "$why" -m linear -y y -k 2 --grid 'l2=0.5,5' --valid-from=2024-01-02 n.cmt
    assert_exit cm-tune 2 "$why" --valid-from 2024-01-02 -m linear -y y -k 2 --grid 'l2=0.5,5' -o m.cmm n.cmt
    [ ! -e m.cmm ]
    assert_exit cm-tune 2 "cm-tune: valid-from: not a setting to search (it chooses the data or the machine, not the model)" \
        -m linear -y y -k 2 --grid 'valid-from=2024-01-02,2024-01-03' n.cmt
    # not an option of cm-tune's --help, but one of cm-train's
    run --separate-stderr cm-tune --help
    [ "$status" -eq 0 ]
    [[ $output != *--valid-from* ]]
    cm-train --help | grep -q -e '--valid-from=TIME'
    # an operand after -- is no option
    assert_exit cm-tune 1 "cm-tune: --valid-from: No such file or directory" \
        -m linear -y y -k 2 --grid 'l2=0.5,5' -- --valid-from
}

# An hourly series with a daily shape and noise: NAME.csv of N hours.
hourly_csv() {
    awk -v n="$1" 'BEGIN { s = 99; print "t,y"
        for (i = 0; i < n; i++) { s = (s * 16807) % 2147483647
            printf "2024-01-%02dT%02d:00:00Z,%.2f\n", 1 + int(i / 24), i % 24,
                50 + 10 * (i % 24 >= 8 && i % 24 < 20) + (s % 500) / 100 } }'
}

@test "--horizon: each fold is scored by cm-predict --backtest of its fit over its block; --direct trains direct models" {
    hourly_csv 100 >h.csv
    cm-clean -q h.csv | cm-features -q -y y --time-features hour -L y:1h,2h -o f.cmt
    tune -j 1 -m linear -k 2 --grid 'l2=0.5,50' --horizon 3 --results r.tsv f.cmt
    cm-cat f.cmt >f.csv
    # 98 rows with both lags, 3 blocks of 32: fold f trains on the rows
    # before its block, and forecasts 3 hours from every origin from the
    # hour before the block to the last whose 3 hours end in it
    local n=98 k=2 size=32 f l2 trial first last from
    for f in 1 2; do
        local start=$((n - (k - f + 1) * size))
        first=$(sed -n "$((start + 2))p" f.csv | cut -d, -f1)
        last=$(sed -n "$((start + size + 1))p" f.csv | cut -d, -f1)
        from=$(date -u -d "$first - 1 hour" +%FT%TZ)
        awk -F, -v last="$last" 'NR == 1 || $1 <= last' h.csv >hist$f.csv
        trial=0
        for l2 in 0.5 50; do
            trial=$((trial + 1))
            cm-clean -q --until "$first" h.csv | cm-features -q -y y --time-features hour -L y:1h,2h |
                cm-train -q -m linear --l2 "$l2" --valid 0 -o m.cmm
            [ "$(meta m.cmm train_rows)" = "$start" ]
            want=$(cm-predict -q -m m.cmm --backtest -H 3 --every 1 --windows 0 --from "$from" hist$f.csv |
                sed -n 's/^all,[0-9]*,[^,]*,\([^,]*\),.*/\1/p')
            close "$(field r.tsv rmse_fold$f $trial)" "$want" "fold $f l2 $l2"
        done
    done
    # one-step scores are others
    tune -j 1 -m linear -k 2 --grid 'l2=0.5,50' --results one.tsv f.cmt
    [ "$(field one.tsv rmse_fold1 1)" != "$(field r.tsv rmse_fold1 1)" ]
    # --direct: direct fits of 3 steps, the model of -o one too
    tune -j 1 -m linear -k 2 --grid 'l2=0.5,50' --horizon 3 --direct --results d.tsv -o d.cmm f.cmt
    [ "$(meta d.cmm horizon)" = 3 ]
    grep -q 'horizon=3' d.tsv
    [ "$(field d.tsv rmse_fold1 1)" != "$(field r.tsv rmse_fold1 1)" ]
    # a search by backtest is not resumed from one by one step
    run --separate-stderr cm-tune -j 1 -m linear -k 2 --grid 'l2=0.5,50' --horizon 3 --results one.tsv --resume f.cmt
    [ "$status" -eq 1 ]
    [[ $stderr == *"results of another search setup"* ]]
}

@test "--horizon: not with kfold folds or r2; --direct needs it; a horizon of whole steps" {
    hourly_csv 100 >h.csv
    cm-clean -q h.csv | cm-features -q -y y --time-features hour -L y:1h,2h -o f.cmt
    assert_exit cm-tune 2 "cm-tune: --horizon forecasts from each fold's past: not with --cv kfold
Try 'cm-tune --help' for more information." -m linear --grid 'l2=1' --horizon 3 --cv kfold f.cmt
    assert_exit cm-tune 2 "cm-tune: --horizon scores by mae, rmse or mape: r2 is not one of a backtest
Try 'cm-tune --help' for more information." -m linear --grid 'l2=1' --horizon 3 --metric r2 f.cmt
    assert_exit cm-tune 2 "cm-tune: --direct trains models of the --horizon: give it
Try 'cm-tune --help' for more information." -m linear --grid 'l2=1' --direct f.cmt
    run --separate-stderr cm-tune -m linear --grid 'l2=1' --horizon 3x f.cmt
    [ "$status" -eq 2 ]
    [[ $stderr == "cm-tune: --horizon: '3x' is not a number of steps or a span such as 24h"* ]]
    # 90 minutes are no whole number of hours: each fold says so
    run --separate-stderr cm-tune -j 1 -m linear --grid 'l2=1' --horizon 90m f.cmt
    [ "$status" -eq 1 ]
    [[ $stderr == *"horizon: '90m' is not a whole number of steps of 1h (1 to 100000)"* ]]
}
