#!/bin/sh
# GFLOP/s of the matrix products and of a 512->512 dense layer on 1 and
# 2 threads, against the nominal peak of as many cores from /proc/cpuinfo.
set -eu
B=${B:-build}
"$B/bench/gemm-bench"
