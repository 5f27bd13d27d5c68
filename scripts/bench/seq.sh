#!/bin/sh
# cm-train -m gru|lstm|cnn against ../shared/bench/peer-seq.py (PyTorch)
# on the bike data: the same rows and windows (W 24; the target and the
# weather each step), hidden 64 or 32 filters, batch 32, 10 epochs, Adam
# 1e-3, the last 20% of the rows held out and scored.  Training samples/s
# (the fit alone, 2 threads each) as a ratio; test RMSE over seeds 1-3 on
# both sides; one 24-step forecast from a raw history, the whole process;
# cm's GFLOP/s on one thread against one core's peak; and cm's sequence
# models beside its mlp and linear at equal epochs, one step and a
# 24-step backtest.
. "$(dirname "$0")/common.sh"
peers_blas
RUNS=${RUNS:-10}
peer="$shared/bench/peer-seq.py"
raw="$shared/data/bike_sharing_hour.csv"
need "$peer" "$raw"
$PY -c 'import torch, pandas' 2>/dev/null ||
    { echo "seq.sh: the peer needs python3-torch and -pandas; skipped"; exit 0; }
EPOCHS=${EPOCHS:-10}
SEEDS=${SEEDS:-1 2 3}
$PY -c 'import threadpoolctl, torch; print("peer BLAS:", ", ".join(sorted({p["internal_api"] for p in threadpoolctl.threadpool_info()})))' 2>/dev/null || true

"$BIN/cm-clean" -q --time dteday,hr --drop instant,casual,registered,mnth,weekday \
    -t season=cat -t weathersit=cat "$raw" |
    "$BIN/cm-features" -q -y cnt -L cnt:1h,2h,24h,168h --keep-incomplete -o "$tmp/bike.cmt"
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
cm() { # cm KIND SEED ARGS...: samples/s and the held-out RMSE
    kind=$1 seed=$2; shift 2
    "$BIN/cm-train" -v -m "$kind" --skip-missing --window 24 --batch 32 --epochs "$EPOCHS" \
        --lr 0.001 --seed "$seed" -j 2 "$@" "$tmp/bike.cmt" -o "$tmp/$kind.cmm" 2>"$tmp/err" ||
        { cat "$tmp/err"; exit 1; }
    sps=$(sed -n 's/.*trained in .* (\([0-9.]*\) samples\/s).*/\1/p' "$tmp/err")
    rmse=$("$BIN/cm-cat" --info "$tmp/$kind.cmm" | sed -n 's/^  valid_rmse=//p')
    rows=$("$BIN/cm-cat" --info "$tmp/$kind.cmm" | sed -n 's/^  train_rows=//p')
    echo "cm $kind seed=$seed rows_train=$rows samples_per_s=$sps test_rmse=$rmse"
}
peer() { # peer KIND SEED ARGS...
    kind=$1 seed=$2; shift 2
    out=$($PY "$peer" bike "$raw" --model "$kind" --window 24 --batch 32 --epochs "$EPOCHS" \
        --lr 0.001 --seed "$seed" --threads 2 "$@" 2>/dev/null) || { echo "peer $kind failed"; return; }
    echo "peer $kind seed=$seed rows_train=$(echo "$out" | kv rows_train)" \
        "samples_per_s=$(echo "$out" | kv samples_per_s) test_rmse=$(echo "$out" | kv test_rmse)"
}
for kind in gru lstm cnn; do
    for seed in $SEEDS; do
        cm "$kind" "$seed"
        peer "$kind" "$seed"
    done
done | tee "$tmp/runs"
awk '{ split($5, s, "="); split($6, r, "="); k = $1 " " $2
       n[k]++; sps[k, n[k]] = s[2]; rm[k, n[k]] = r[2]; lo[k] = n[k] == 1 || r[2] < lo[k] ? r[2] : lo[k]
       hi[k] = n[k] == 1 || r[2] > hi[k] ? r[2] : hi[k]; sum[k] += r[2] }
     function med(k,   i, j, t, a) { for (i = 1; i <= n[k]; i++) a[i] = sps[k, i]
         for (i = 1; i <= n[k]; i++) for (j = i + 1; j <= n[k]; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
         return a[int((n[k] + 1) / 2)] }
     END { printf "%-5s %14s %14s %8s   %-22s %-22s %s\n", "model", "cm samples/s", "torch samples/s", "ratio",
               "cm rmse (min-max)", "torch rmse (min-max)", "mean ratio"
           split("gru lstm cnn", ks, " ")
           for (i = 1; i <= 3; i++) { c = "cm " ks[i]; p = "peer " ks[i]
               if (!n[c] || !n[p]) continue
               printf "%-5s %14.0f %14.0f %7.1fx   %.2f (%.2f-%.2f)    %.2f (%.2f-%.2f)    %.3f\n", ks[i], med(c), med(p),
                   (med(p) > 0 ? med(c) / med(p) : 0), sum[c] / n[c], lo[c], hi[c], sum[p] / n[p], lo[p], hi[p],
                   (sum[c] / n[c]) / (sum[p] / n[p]) } }' "$tmp/runs"

# One thread, batch 32: samples/s of 2 epochs, and the multiply-adds
# of a sample's step (the layers at every step they compute, and the
# head; forward, and twice that backward) as GFLOP/s, against one core's
# fp32 peak as gemm-bench measures it (chains of FMAs).  A convolution
# computes only the steps the layer above sees (lib/nn/conv.c): 1, 3, 6
# and 12 of the 24, from the top down.
peak=$("$B/bench/gemm-bench" --peak)
for kind in gru lstm cnn; do
    "$BIN/cm-train" -v -m "$kind" --skip-missing --epochs 2 -j 1 "$tmp/bike.cmt" -o "$tmp/j1.cmm" 2>"$tmp/err" ||
        { cat "$tmp/err"; exit 1; }
    sps=$(sed -n 's/.*trained in .* (\([0-9.]*\) samples\/s).*/\1/p' "$tmp/err")
    cur=$("$BIN/cm-cat" --info "$tmp/j1.cmm" | sed -n 's/^head: [0-9]* + \([0-9]*\) current.*/\1/p')
    awk -v k="$kind" -v sps="$sps" -v cur="$cur" -v peak="$peak" 'BEGIN {
        W = 24; C = 5; H = 64; F = 32; K = 3
        if (k == "gru") f = W * 3 * H * (C + H); else if (k == "lstm") f = W * 4 * H * (C + H)
        else { # the steps each layer computes, from the top: the last, then those it sees
            split("1 2 4 8", d, " "); delete need; need[W - 1] = 1; f = 0
            for (l = 4; l >= 1; l--) {
                ns = 0; delete below
                for (t in need) { ns++; for (j = 0; j < K; j++) if (t - j * d[l] >= 0) below[t - j * d[l]] = 1 }
                f += ns * F * K * (l == 1 ? C : F)
                delete need; for (t in below) need[t] = 1
            }
        }
        width = k == "cnn" ? F : H
        f = 3 * 2 * (f + (width + cur) * 64 + 64)
        printf "%-4s one thread: %.0f samples/s x %.2f MFLOP = %.1f GFLOP/s, %.1f%% of one core (%.1f GFLOP/s)\n",
            k, sps, f / 1e6, sps * f / 1e9, 100 * sps * f / 1e9 / peak, peak }'
done

# One 24-step forecast from a raw history of the last 400 hours, the
# whole process, median of RUNS.
{ head -1 "$raw"; tail -400 "$raw"; } >"$tmp/recent.csv"
for kind in gru lstm cnn; do
    t=$(median "$BIN/cm-predict" -q -m "$tmp/$kind.cmm" --horizon 24 --future-fill last "$tmp/recent.csv")
    echo "ad-hoc 24-step forecast, $kind, whole process: $(echo "$t" | awk '{ printf "%.1f ms", $1 * 1000 }')"
done

# Beside the mlp and linear at equal epochs, all held out from the same
# time (the first of the gru's held-out rows: the mlp and linear get it
# as --valid-from), each scored on the rows it forecasts from that time
# on: one step ahead (cm-predict --eval), and a 24-step backtest from
# every hour (--backtest --every 1h, the RMSE over all steps).
n=$("$BIN/cm-cat" --info "$tmp/gru.cmm" | sed -n 's/^  valid_rows=//p')
start=$("$BIN/cm-predict" -q -m "$tmp/gru.cmm" "$raw" | grep -v ',,' |
    awk -F, -v n="$n" '{ t[NR] = $1 } END { print t[NR - n + 1] }')
"$BIN/cm-train" -q -m mlp --skip-missing --epochs "$EPOCHS" --valid-from "$start" "$tmp/bike.cmt" -o "$tmp/mlp.cmm"
"$BIN/cm-train" -q -m linear --skip-missing --valid-from "$start" "$tmp/bike.cmt" -o "$tmp/linear.cmm"
echo "held out from $start: rows, 1-step RMSE, 24-step backtest RMSE (all steps)"
for kind in linear mlp gru lstm cnn; do
    "$BIN/cm-predict" -q -m "$tmp/$kind.cmm" --eval --from "$start" "$raw" >"$tmp/eval"
    bt=$("$BIN/cm-predict" -q -m "$tmp/$kind.cmm" --backtest --horizon 24 --every 1h --windows 0 --from "$start" "$raw" |
        sed -n 's/^all,[0-9]*,[^,]*,\([^,]*\),.*/\1/p')
    printf "%-7s %6d %9.2f %9.2f\n" "$kind" "$(sed -n 's/^rows=//p' "$tmp/eval")" \
        "$(sed -n 's/^rmse=//p' "$tmp/eval")" "$bt"
done
