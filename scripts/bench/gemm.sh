#!/bin/sh
# GFLOP/s of the matrix products and of a 512->512 dense layer on 1 and
# 2 threads, against the peak of as many cores: one core's fp32 FMAs, measured.
set -eu
B=${B:-build}
"$B/bench/gemm-bench"
