#!/bin/sh
# cm-train against PyTorch and scikit-learn (../shared/bench/peer-train.py)
# on the same numeric matrix: the reference bike features
# (../shared/data/features/bike.csv), the last 20% held out, MLP 64,64 ReLU,
# Adam lr 1e-3, MSE, batch 32, 10 epochs; then 512,512 at batch 256 for
# GFLOP/s.  Samples/s count training rows x epochs over the fit alone;
# GFLOP/s count 6 x the multiply-adds of a sample's forward pass, against
# the fp32 peak of one core as gemm-bench measures it, times the threads.
. "$(dirname "$0")/common.sh"
peers_blas
peer="$shared/bench/peer-train.py"
csv="$shared/data/features/bike.csv"
need "$peer" "$csv"

"$BIN/cm-clean" -q "$csv" -o "$tmp/bike.cmt"
cm() { # cm LABEL ARGS...: one line like the peer's
    label=$1; shift
    "$BIN/cm-train" -v "$@" "$tmp/bike.cmt" -o "$tmp/m.cmm" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    sps=$(sed -n 's/.*trained in .* (\([0-9.]*\) samples\/s).*/\1/p' "$tmp/err")
    rmse=$("$BIN/cm-cat" --info "$tmp/m.cmm" | sed -n 's/^  valid_rmse=//p')
    echo "$label samples_per_second=$sps test_rmse=$rmse"
}
peer() { # peer LABEL ARGS...
    label=$1; shift
    out=$($PY "$peer" "$csv" --target cnt "$@" 2>/dev/null) || { echo "$label failed"; return; }
    sps=$(echo "$out" | tr ' ' '\n' | sed -n 's/^samples_per_second=//p')
    rmse=$(echo "$out" | tr ' ' '\n' | sed -n 's/^test_rmse=//p')
    echo "$label samples_per_second=$sps test_rmse=$rmse"
}
MLP="--layers 64,64 --lr 0.001 --batch 32 --epochs 10"
{
    cm cm-train -y cnt -j 1 $MLP --valid 0.2
    peer torch-mlp --model torch-mlp --threads 2 $MLP
    peer sklearn-mlp --model sklearn-mlp --threads 2 $MLP
    cm cm-linear -y cnt -m linear --valid 0.2
    peer ridge --model ridge
} | tee "$tmp/small"
in=$(($(head -1 "$csv" | tr ',' '\n' | wc -l) - 1))
peak=$("$B/bench/gemm-bench" --peak)
awk -v in_="$in" -v peak="$peak" '{ split($2, a, "="); s[$1] = a[2] } END {
    if (s["torch-mlp"] > 0) printf "cm-train / torch-mlp: %.1fx samples/s\n", s["cm-train"] / s["torch-mlp"]
    if (s["sklearn-mlp"] > 0) printf "cm-train / sklearn-mlp: %.1fx samples/s\n", s["cm-train"] / s["sklearn-mlp"]
    g = s["cm-train"] * 6 * (in_ * 64 + 64 * 64 + 64) / 1e9
    printf "cm-train 64,64 batch 32, one thread: %.1f GFLOP/s, %.0f%% of one core (%.1f GFLOP/s)\n",
        g, 100 * g / peak, peak }' "$tmp/small"

BIG="--layers 512,512 --lr 0.001 --batch 256 --epochs 4"
{
    for round in 1 2 3; do # alternated: each meets the same load
        cm cm-train-512-1thread -y cnt -j 1 $BIG --valid 0.2
        cm cm-train-512-2threads -y cnt -j 2 $BIG --valid 0.2
    done
    peer torch-mlp-512 --model torch-mlp --threads 2 $BIG
} | tee "$tmp/big"
# FLOPs per sample: forward 2*(in*512 + 512*512 + 512), backward twice that.
awk -v in_="$in" -v peak="$peak" '{ split($2, a, "="); f = 6 * (in_ * 512 + 512 * 512 + 512)
    cores = $1 ~ /2threads|torch/ ? 2 : 1
    printf "%s: %.1f GFLOP/s, %.0f%% of %d core%s\n", $1, a[2] * f / 1e9,
        100 * a[2] * f / 1e9 / (cores * peak), cores, (cores > 1 ? "s" : "") }' "$tmp/big"

# --stream: the bike features repeated to 2 million rows, trained in
# memory and streamed from the file with a 32 MiB buffer.  Peak RSS
# from /usr/bin/time, which is part of Debian's base system.
reps=${REPS:-120}
{
    head -1 "$csv"
    i=0
    while [ $i -lt "$reps" ]; do tail -n +2 "$csv"; i=$((i + 1)); done
} | "$BIN/cm-clean" -q -o "$tmp/big.cmt"
rss() { # rss LABEL ARGS...
    label=$1; shift
    /usr/bin/time -f '%M %e' -o "$tmp/time" "$BIN/cm-train" -v -y cnt --epochs 2 "$@" \
        "$tmp/big.cmt" -o "$tmp/s.cmm" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    sps=$(sed -n 's/.*trained in .* (\([0-9.]*\) samples\/s).*/\1/p' "$tmp/err")
    rmse=$("$BIN/cm-cat" --info "$tmp/s.cmm" | sed -n 's/^  valid_rmse=//p')
    read -r kib secs < "$tmp/time"
    echo "$label rows=$((reps * 17211)) peak_rss_kib=$kib seconds=$secs samples_per_second=$sps valid_rmse=$rmse"
}
{
    rss in-memory
    rss stream-32M --stream -S 32M
} | tee "$tmp/stream"
awk '{ for (i = 2; i <= NF; i++) { split($i, a, "="); v[$1, a[1]] = a[2] } }
    END { printf "stream / in-memory: %.2fx peak memory, %.2fx samples/s\n",
        v["stream-32M", "peak_rss_kib"] / v["in-memory", "peak_rss_kib"],
        v["stream-32M", "samples_per_second"] / v["in-memory", "samples_per_second"] }' "$tmp/stream"
