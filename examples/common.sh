# common.sh - sourced by the examples: the binaries on PATH (BIN, else
# bin/), the working directory d (the first argument, else
# build/examples), and `step`, which shows a command, then runs it.
set -eu
PATH="${BIN:-bin}:$PATH"
d=${1:-build/examples}
mkdir -p "$d"

step() {
    printf '$ %s\n' "$1"
    eval "$1"
}
