#!/usr/bin/env bats
# The test files themselves: bash does not stop a test at a failing
# `! cmd`, nor at a failing first half of `[ a ] && [ b ]` (only the
# last command of a list counts under set -e), so such a line would
# check nothing.  Write `! cmd || false`, and one [ ] per line.
load helpers

@test "no check in a .bats file that bash would not stop at" {
    awk 'FNR == 1 { inside = 0 }
        /^@test / { inside = 1 } /^}/ { inside = 0 }
        !inside { next }
        /^[ \t]*! / && !/\|\| *false *$/ { print FILENAME ":" FNR ": " $0; bad = 1 }
        /\]\]? && (\[|!)/ && !/\|\|/ && !/&& *$/ && !/^[ \t]*(if|while|elif) / &&
            !/&& return/ { print FILENAME ":" FNR ": " $0; bad = 1 }
        END { exit bad }' "$TOP"/tests/*.bats
}
