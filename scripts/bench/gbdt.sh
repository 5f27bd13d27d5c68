#!/bin/sh
# cm-train -m gbdt against XGBoost and scikit-learn's HistGradientBoosting
# (../shared/bench/peer-train.py --model xgb, hgb) on the reference bike
# matrix (../shared/data/features/bike.csv), the last 20% held out, 2
# threads on both sides:
#   1. training: the whole cm-train process against the peer's fit alone
#      (its train_seconds), medians;
#   2. held-out RMSE at the defaults (the peer's target left unscaled, as
#      cm's is) and with cm-tune's best settings, searched on the training
#      rows only;
#   3. one ad-hoc forecast of a 500-tree, depth-6 model, whole process;
#   4. batch: cm-predict's whole process (a cm stream in, CSV out; and
#      with --eval, scores out instead of text) against XGBoost's
#      inplace_predict of the same rows, already in memory, on 2 threads,
#      with the same trees (cm-cat --export xgboost);
#   5. cm-serve: requests/s for a gbdt model against the MLP's, the same
#      request (wrk, through ../shared/bench/bench-serve.sh).
. "$(dirname "$0")/common.sh"
peers_blas
RUNS=${RUNS:-10}
DUR=${DUR:-10s}
peer="$shared/bench/peer-train.py"
csv="$shared/data/features/bike.csv"
need "$peer" "$csv"
$PY -c 'import xgboost, sklearn, numpy' 2>/dev/null ||
    { echo "gbdt.sh: the peers need python3-xgboost and -sklearn; skipped"; exit 0; }
$PY -c 'import threadpoolctl, numpy; print("peer BLAS:", ", ".join(sorted({p["internal_api"] for p in threadpoolctl.threadpool_info()})))' 2>/dev/null || true

"$BIN/cm-clean" -q "$csv" -o "$tmp/bike.cmt"
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
meta() { "$BIN/cm-cat" --info "$1" | sed -n "s/^  $2=//p"; }

# 1 and 2: training time and the RMSE at the defaults
ct=$(median "$BIN/cm-train" -q -m gbdt -j 2 -y cnt "$tmp/bike.cmt" -o "$tmp/g.cmm")
"$BIN/cm-train" -q -m gbdt -j 2 -y cnt "$tmp/bike.cmt" -o "$tmp/g.cmm"
: > "$tmp/xgb.t"
for i in 1 2 3 4 5; do
    $PY "$peer" "$csv" --target cnt --model xgb --target-scale none --threads 2 2>/dev/null > "$tmp/xgb.line"
    kv train_seconds < "$tmp/xgb.line" >> "$tmp/xgb.t"
done
$PY "$peer" "$csv" --target cnt --model hgb --threads 2 2>/dev/null > "$tmp/hgb.line"
xt=$(sort -g "$tmp/xgb.t" | sed -n 3p)
awk -v c="$ct" -v p="$xt" 'BEGIN { printf "training: cm-train whole process %.3f s, XGBoost fit alone %.3f s: cm %.2fx the peer'"'"'s time (goal <= 1.2x)\n", c, p, c / p }'
echo "held-out RMSE at the defaults: cm $(meta "$tmp/g.cmm" valid_rmse), XGBoost $(kv test_rmse < "$tmp/xgb.line"), HistGradientBoosting $(kv test_rmse < "$tmp/hgb.line")"

# 2. cm-tune on the training rows alone; the best model scored on the rest
n=$(($(wc -l < "$csv") - 1))
ntr=$((n - n / 5))
"$BIN/cm-cat" -n "$ntr" -f cmt "$tmp/bike.cmt" > "$tmp/train.cmt"
{ head -1 "$csv"; tail -n "$((n - ntr))" "$csv"; } > "$tmp/test.csv"
GRID='depth=4,6,8 eta=0.03,0.1 min-child-weight=1,10'
"$BIN/cm-tune" -q -m gbdt -j 2 -y cnt --trees 400 --grid "$GRID" -o "$tmp/best.cmm" \
    "$tmp/train.cmt" > "$tmp/best.txt"
tuned=$("$BIN/cm-predict" -m "$tmp/best.cmm" --eval "$tmp/test.csv" | sed -n 's/^rmse=//p')
echo "held-out RMSE with cm-tune's best ($(tr '\n' ' ' < "$tmp/best.txt")trees=400, grid $GRID): $tuned"

# 3. one ad-hoc forecast of 500 trees of depth 6
"$BIN/cm-train" -q -m gbdt --trees 500 -y cnt "$tmp/bike.cmt" -o "$tmp/g500.cmm"
args=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i }
    NR == 2000 { for (i = 1; i <= NF; i++) if (h[i] != "cnt") printf "%s=%s ", h[i], $i }' "$csv")
# shellcheck disable=SC2086
adhoc=$(RUNS=50 median "$BIN/cm-predict" -m "$tmp/g500.cmm" $args)
awk -v a="$adhoc" 'BEGIN { printf "ad hoc, 500 trees of depth 6: cm-predict whole process %.2f ms (goal <= 5 ms)\n", a * 1000 }'

# 4. batch: the matrix 50 times over
repeat "$csv" "$tmp/big.csv" 60
"$BIN/cm-clean" -q "$tmp/big.csv" -o "$tmp/big.cmt"
rows=$(($(wc -l < "$tmp/big.csv") - 1))
"$BIN/cm-cat" --export xgboost "$tmp/g.cmm" > "$tmp/g.json"
for j in 1 2; do
    s=$(RUNS=3 median "$BIN/cm-predict" -j $j -q -m "$tmp/g.cmm" "$tmp/big.cmt" -o "$tmp/out.csv")
    echo "$j $s CSV-out" >> "$tmp/cm.batch"
    s=$(RUNS=3 median "$BIN/cm-predict" -j $j --eval -m "$tmp/g.cmm" "$tmp/big.cmt")
    echo "$j $s --eval" >> "$tmp/cm.batch"
done
$PY - "$tmp/g.json" "$tmp/big.csv" "$tmp/out.csv" > "$tmp/xgb.batch" <<'PYEOF'
import sys, time, numpy as np, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
b.set_param({"nthread": 2})
names = open(sys.argv[2]).readline().strip().split(",")
cols = [names.index(f) for f in b.feature_names]
X = np.ascontiguousarray(np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, usecols=cols,
                                    dtype=np.float64).astype(np.float32))
b.inplace_predict(X[:1000])
t = []
for _ in range(5):
    t0 = time.perf_counter()
    p = b.inplace_predict(X)
    t.append(time.perf_counter() - t0)
cm = np.loadtxt(sys.argv[3], delimiter=",", skiprows=1, usecols=0)
print(sorted(t)[2], int(np.sum(cm.astype(np.float32) != p)))
PYEOF
read -r xs differ < "$tmp/xgb.batch"
while read -r j s how; do
    awk -v j="$j" -v s="$s" -v x="$xs" -v r="$rows" -v how="$how" 'BEGIN {
        printf "batch, %d rows: cm-predict -j %d whole process (stream in, %s) %.0f rows/s; XGBoost inplace_predict alone, 2 threads, %.0f rows/s: cm %.2fx\n",
            r, j, how, r / s, r / x, x / s }'
done < "$tmp/cm.batch"
echo "batch: forecasts that differ from XGBoost's (as float32): $differ of $rows"

# 5. cm-serve: a gbdt model against the MLP, the same request
if command -v wrk >/dev/null; then
    "$BIN/cm-train" -q -y cnt "$tmp/bike.cmt" -o "$tmp/mlp.cmm"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i }
        NR == 2000 { s = "{"; for (i = 1; i <= NF; i++) if (h[i] != "cnt")
            s = s (s == "{" ? "" : ",") "\"" h[i] "\":" $i; print s "}" }' "$csv" > "$tmp/body.json"
    # taken in turns, so that the machine's moods fall on both alike
    for i in 1 2 3 4 5; do
        for k in mlp g; do
            bash "$shared/bench/bench-serve.sh" --port 8095 --path /v1/models/$k/predict \
                --body "$tmp/body.json" -d "$DUR" -- "$BIN/cm-serve" -q -p 8095 -t 2 \
                -m "$tmp/$k.cmm" 2>/dev/null | kv requests_per_sec >> "$tmp/$k.rps"
        done
    done
    awk -v m="$(sort -g "$tmp/mlp.rps" | sed -n 3p)" -v g="$(sort -g "$tmp/g.rps" | sed -n 3p)" \
        'BEGIN { printf "cm-serve, medians of 5 in turns: gbdt %.0f requests/s, mlp %.0f: gbdt %+.1f%% (goal within 10%%)\n", g, m, (g / m - 1) * 100 }'
else
    echo "gbdt.sh: wrk missing; cm-serve not measured"
fi
