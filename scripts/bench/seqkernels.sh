#!/bin/sh
# The sequence models' layers, forward and backward on the bike shapes,
# in GFLOP/s against one core's peak: cm's (build/bench/seq-bench) and,
# when oneDNN is installed (Debian's libdnnl-dev), oneDNN's LSTM, LBR GRU
# and dilated convolutions beside them, on one thread each.  oneDNN is no
# dependency of cm: it is linked into this measurement alone.
. "$(dirname "$0")/common.sh"
if [ -e /usr/include/oneapi/dnnl/dnnl.h ]; then
    ${CC:-cc} -O2 -std=c11 -DWITH_DNNL -I"$here/../../lib" "$here/seq-bench.c" "$B/libcm.a" \
        -ldnnl -lm -lpthread -o "$tmp/seq-bench"
    OMP_NUM_THREADS=1 "$tmp/seq-bench"
else
    echo "seqkernels.sh: no oneDNN (libdnnl-dev): cm's layers alone"
    "$B/bench/seq-bench"
fi
