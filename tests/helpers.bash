# Shared setup for the bats files: binaries come from $CM_BIN (set by
# scripts/run-tests; defaults to the tree's bin/), test-only tools from
# $CM_TOOLS, and every test gets a scratch directory of its own.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
CM_BIN="${CM_BIN:-$TOP/bin}"
CM_TOOLS="${CM_TOOLS:-$TOP/build/tests}"
PATH="$CM_BIN:$CM_TOOLS:$PATH"
DATA="$TOP/testdata"

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
}

# Runs PROG ARGS... with no input and checks its exact exit status and
# exact stderr; a usage error (2) must also leave stdout empty.  Leaves
# the output in stdout.bin for further checks (or sends it to the file
# $TO, such as /dev/full).
# assert_exit PROG STATUS MESSAGE ARGS...
assert_exit() {
    local prog=$1 want_status=$2 want_msg=$3 to=${TO:-stdout.bin}
    shift 3
    run --separate-stderr bash -c 'exec "$1" "${@:2}" >"$0" </dev/null' "$to" "$prog" "$@"
    if [ "$status" -ne "$want_status" ] || [ "$stderr" != "$want_msg" ]; then
        printf '%s %s >%s\n  status %s (want %s)\n  stderr: %s\n  want:   %s\n' \
            "$prog" "$*" "$to" "$status" "$want_status" "$stderr" "$want_msg" >&2
        return 1
    fi
    if [ "$want_status" -eq 2 ] && [ "$to" = stdout.bin ] && [ -s stdout.bin ]; then
        echo "$prog $*: a usage error, yet $(wc -c <stdout.bin) bytes on stdout" >&2
        return 1
    fi
}

# Fails unless awk finds the condition true: check 'a < 1e-6' a=VALUE...
check() {
    local cond=$1
    shift
    local args=() kv
    for kv in "$@"; do args+=(-v "$kv"); done
    awk "${args[@]}" "BEGIN { exit !($cond) }" || {
        echo "check failed: $cond with $*" >&2
        return 1
    }
}

# OUT.cmt from the CSV IN: cmt IN OUT [cm-clean options...]
cmt() {
    local csv=$1 out=$2
    shift 2
    cm-clean "$@" "$csv" >"$out" 2>clean.err </dev/null || {
        echo "cm-clean $* $csv failed:" >&2
        cat clean.err >&2
        return 1
    }
}

# cm-train ARGS; fails when cm-train fails or prints anything (without -v
# and with stderr not a terminal it is silent).
train() {
    local st=0
    cm-train "$@" >train.out 2>train.err </dev/null || st=$?
    if [ "$st" -ne 0 ] || [ -s train.err ] || [ -s train.out ]; then
        echo "cm-train $*: status $st, stdout $(wc -c <train.out) bytes, stderr:" >&2
        cat train.err >&2
        return 1
    fi
}

# Runs a command quietly; fails with its stderr when it fails.
quiet() {
    "$@" 2>quiet.err </dev/null || {
        echo "$* failed:" >&2
        cat quiet.err >&2
        return 1
    }
}

# The value of metadata KEY of MODEL (empty when absent).
meta() {
    cm-cat --info "$1" | sed -n "s/^  $2=//p"
}

# The version the sources declare, for --version and cm_version checks.
CM_VERSION=$(sed -n 's/^#define CM_VERSION_STRING "\(.*\)"$/\1/p' "$TOP/lib/common/cm_common.h")
