#!/bin/sh
# GFLOP/s of the matrix products and of a 512->512 dense layer (one
# thread), against the nominal peak of one core from /proc/cpuinfo.
set -eu
B=${B:-build}
"$B/bench/gemm-bench"
