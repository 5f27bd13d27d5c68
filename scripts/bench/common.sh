# common.sh - the start of every benchmark script, sourced, not run:
#   B BIN     the build directory and the binaries (make bench sets them)
#   PY        the Python of the peers, Debian's, with its packages
#   shared    ../shared beside the checkout: peers in bench/, data in data/
#   tmp       a scratch directory, removed at the end however it ends
#   need FILE...   skips the benchmark (exit 0) unless every FILE exists
set -eu
B=${B:-build}
BIN=${BIN:-bin}
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
shared="$here/../../../shared"
bench=$(basename "$0" .sh)
need() {
    for f; do
        [ -e "$f" ] || { echo "$bench.sh: $f missing; skipped"; exit 0; }
    done
}
tmp=${TMPDIR:-/tmp}/cm-bench-$bench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
