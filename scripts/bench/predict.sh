#!/bin/sh
# cm-predict against ../shared/bench/peer-predict.py (a PyTorch model
# loaded by Python): the whole-process latency of one ad-hoc prediction
# (median of RUNS, hyperfine when installed), both models trained on the
# reference bike features; then batch throughput on those features
# repeated to SIZE_MB of CSV (raw CSV in, the recipe replayed, CSV out),
# with peak memory at a tenth of the size to show it does not grow.
. "$(dirname "$0")/common.sh"
peers_blas
SIZE_MB=${SIZE_MB:-1000}
RUNS=${RUNS:-50}
peer="$shared/bench/peer-predict.py"
train="$shared/bench/peer-train.py"
csv="$shared/data/features/bike.csv"
need "$peer" "$csv"

"$BIN/cm-clean" -q "$csv" | "$BIN/cm-train" -q -y cnt -o "$tmp/m.cmm"
# One row of the features as NAME=VALUE, the target left out.
args=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i }
    NR == 2000 { for (i = 1; i <= NF; i++) if (h[i] != "cnt") printf "%s=%s ", h[i], $i }' "$csv")
echo "cm-predict: $("$BIN/cm-predict" -m "$tmp/m.cmm" $args)"
have_torch=0
if $PY -c 'import torch' 2>/dev/null; then
    have_torch=1
    $PY "$train" "$csv" --target cnt --model torch-mlp --save "$tmp/m.pt" >/dev/null 2>&1
    echo "peer-predict: $($PY "$peer" -m "$tmp/m.pt" $args)"
fi
cm=$(median "$BIN/cm-predict" -m "$tmp/m.cmm" $args)
echo "cm-predict ad hoc: median $cm s over $RUNS runs"
if [ $have_torch = 1 ]; then
    py=$(median $PY "$peer" -m "$tmp/m.pt" $args)
    echo "peer-predict ad hoc: median $py s over $RUNS runs"
    awk -v a="$py" -v b="$cm" 'BEGIN { printf "cm-predict / peer-predict: %.0fx faster\n", a / b }'
fi

# Batch: the features repeated to SIZE_MB, and a tenth of it.
repeat "$csv" "$tmp/big.csv" "$SIZE_MB"
repeat "$csv" "$tmp/small.csv" $((SIZE_MB / 10))
for f in big small; do
    rows=$(($(wc -l < "$tmp/$f.csv") - 1))
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$BIN/cm-predict" -q -m "$tmp/m.cmm" \
        "$tmp/$f.csv" -o "$tmp/out.csv"
    read -r secs kib < "$tmp/time"
    echo "cm-predict batch $f: $rows rows, $(wc -c < "$tmp/$f.csv") bytes in $secs s" \
        "($(awk -v r="$rows" -v s="$secs" 'BEGIN { printf "%.0f", r / s }') rows/s), peak RSS $kib KiB"
done
