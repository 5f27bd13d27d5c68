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
