#!/usr/bin/env bats
# man-examples.bats - the EXAMPLES sections of the manual pages, run as
# tests, so that every example shown is what the programs really print.
#
# The convention, for every man/*.1:
#
#   - Inside the EXAMPLES section (from `.SH EXAMPLES` to the next `.SH`),
#     an example is a block between `.EX` and `.EE`, or between `.nf` and
#     `.fi`, whose first line starts with `$ ` (dollar, space).
#   - The rest of that first line is a shell command.  It is run with
#     `bash -o pipefail -c`, standard input /dev/null, in a fresh temporary
#     directory holding a copy of the files of testdata/ (so an example
#     names `bike-2011-01.csv`, not `testdata/bike-2011-01.csv`), with the
#     binaries under test (bin/, or $CM_BIN) first on PATH, CM_ZLEVEL
#     unset and LC_ALL=C.  A command whose line ends with a backslash goes
#     on over the next line of the block.
#   - The lines after the command, up to the end of the block, are exactly
#     its expected standard output: every line, each ended by a newline,
#     nothing more (no lines: the command must print nothing).  Standard
#     error is not compared.  The command must exit with status 0; show a
#     failure with something like `... || echo "exit $?"`.
#   - The block is read as groff source and un-escaped before it is run or
#     compared: \- becomes -, \e and \\ and \(rs a backslash, \& and \fB,
#     \fI, \fR, \fP nothing, \(aq ' and \(dq " and \(ga ` and \(ti ~ and
#     \(ha ^, "\ " and \~ a space.  Any other escape, and any request line
#     other than a comment (.\" ...) inside the block, is an error: write
#     \&. for an output line that begins with a dot.
#   - Blocks whose first line does not start with `$ ` (prose, a command
#     without output that cannot run here) are not run.
#
# There is one test per page; it runs all of the page's examples and
# reports every mismatch with the command, the expected and the actual
# output.  A page without any runnable example fails, and so does a page
# that has no test below (add one line for it).
load helpers

# Prints the runnable examples of a man page as lines of the form
#   E <line>    an example starts; <line> is where, in the page
#   C <text>    a line of its command (several when continued)
#   O <text>    a line of its expected output
#   X <text>    something in the page the convention does not allow
extract_examples() {
    awk '
    function unesc(s, where,   out, i, c, n, t) {
        out = ""
        i = 1
        n = length(s)
        while (i <= n) {
            c = substr(s, i, 1)
            if (c != "\\") { out = out c; i++; continue }
            c = substr(s, i + 1, 1)
            if (c == "-") out = out "-"
            else if (c == "e" || c == "\\") out = out "\\"
            else if (c == "&") out = out ""
            else if (c == " " || c == "~") out = out " "
            else if (c == "f" && substr(s, i + 2, 1) ~ /^[BIRP]$/) { i += 3; continue }
            else if (c == "(") {
                t = substr(s, i + 2, 2)
                if (t == "rs") out = out "\\"
                else if (t == "aq") out = out "\047"
                else if (t == "dq") out = out "\""
                else if (t == "ga") out = out "`"
                else if (t == "ti") out = out "~"
                else if (t == "ha") out = out "^"
                else { bad = bad sep "unsupported escape \\(" t " at line " where; sep = "; " }
                i += 4
                continue
            } else {
                bad = bad sep "unsupported escape \\" c " at line " where
                sep = "; "
            }
            i += 2
        }
        return out
    }
    function flush(   k, cmd, first) {
        if (!nblk) return
        first = unesc(blk[1], at[1])
        if (substr(first, 1, 2) != "$ ") { nblk = 0; bad = sep = ""; return }
        print "E " at[1]
        cmd = substr(first, 3)
        k = 2
        print "C " cmd
        while (cmd ~ /\\$/ && k <= nblk) {
            cmd = unesc(blk[k], at[k])
            print "C " cmd
            k++
        }
        for (; k <= nblk; k++) {
            if (blk[k] ~ /^[.\047]/) {
                if (blk[k] ~ /^[.\047][ \t]*\\"/) continue
                bad = bad sep "request inside an example at line " at[k]
                sep = "; "
                continue
            }
            print "O " unesc(blk[k], at[k])
        }
        if (bad != "") print "X " bad
        bad = sep = ""
        nblk = 0
    }
    /^\.SH/ {
        if (inblk) { print "X unterminated example block at line " start; inblk = 0 }
        t = $0
        sub(/^\.SH[ \t]*/, "", t)
        gsub(/"/, "", t)
        sub(/[ \t]+$/, "", t)
        inex = (t == "EXAMPLES")
        next
    }
    !inex { next }
    !inblk && /^\.(EX|nf)[ \t]*$/ {
        inblk = 1
        endreq = $0 ~ /^\.EX/ ? "EE" : "fi"
        start = NR
        nblk = 0
        next
    }
    inblk && ($0 ~ ("^\\." endreq "[ \t]*$")) { inblk = 0; flush(); next }
    inblk { blk[++nblk] = $0; at[nblk] = NR; next }
    END { if (inblk) print "X unterminated example block at line " start }
    ' "$1"
}

# Prints a file indented, saying so when its last line has no newline.
quote() {
    awk '{ print "  | " $0 }' "$1"
    if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then
        echo "  (no newline at the end)"
    fi
}

# Runs every example of man/$1; prints a report and fails on any mismatch.
check_page() {
    local name=$1 page="$TOP/man/$1" n=0 failed=0 line kind text where="" cmd=""
    local -a exp=()
    local report="$BATS_TEST_TMPDIR/report"
    : >"$report"
    [ -f "$page" ] || { echo "no such page: man/$1"; return 1; }

    run_one() {
        [ -n "$where" ] || return 0
        n=$((n + 1))
        local dir="$BATS_TEST_TMPDIR/ex$n" out="$BATS_TEST_TMPDIR/ex$n.out"
        local err="$BATS_TEST_TMPDIR/ex$n.err" want="$BATS_TEST_TMPDIR/ex$n.want"
        local status=0
        mkdir "$dir" && cp -R "$DATA"/. "$dir"/ || return 1
        if ((${#exp[@]})); then printf '%s\n' "${exp[@]}" >"$want"; else : >"$want"; fi
        (cd "$dir" && env -u CM_ZLEVEL LC_ALL=C bash -o pipefail -c "$cmd" \
            </dev/null >"$out" 2>"$err") || status=$?
        if [ "$status" -ne 0 ] || ! cmp -s "$want" "$out"; then
            failed=$((failed + 1))
            {
                echo "man/$name:$where: example failed"
                printf '  $ %s\n' "$cmd"
                [ "$status" -eq 0 ] || echo "  exit status $status"
                echo "  --- expected"
                quote "$want"
                echo "  --- got"
                quote "$out"
                if [ -s "$err" ]; then
                    echo "  --- standard error"
                    quote "$err"
                fi
                echo
            } >>"$report"
        fi
        where=""
    }

    while IFS= read -r line; do
        kind=${line:0:1} text=${line:2}
        case $kind in
        E) run_one; where=$text cmd="" exp=() ;;
        C) if [ -n "$cmd" ]; then cmd+=$'\n'"$text"; else cmd=$text; fi ;;
        O) exp+=("$text") ;;
        X) failed=$((failed + 1)); echo "man/$name: $text" >>"$report" ;;
        esac
    done < <(extract_examples "$page")
    run_one

    if [ "$n" -eq 0 ]; then
        cat "$report"
        echo "man/$name: no runnable example in its EXAMPLES section"
        return 1
    fi
    if [ "$failed" -ne 0 ]; then
        cat "$report"
        echo "man/$name: $failed problems in $n examples"
        return 1
    fi
}

@test "man/cm-cat.1 examples" {
    check_page cm-cat.1
}

@test "man/cm-clean.1 examples" {
    check_page cm-clean.1
}

@test "man/cm-features.1 examples" {
    check_page cm-features.1
}

@test "man/cm-plot.1 examples" {
    check_page cm-plot.1
}

@test "man/cm-predict.1 examples" {
    check_page cm-predict.1
}

@test "man/cm-serve.1 examples" {
    check_page cm-serve.1
}

@test "man/cm-train.1 examples" {
    check_page cm-train.1
}

@test "man/cm-tune.1 examples" {
    check_page cm-tune.1
}

@test "every man/*.1 page has an examples test here" {
    local missing=0 f
    for f in "$TOP"/man/*.1; do
        f=${f##*/}
        if ! grep -q "^    check_page $f\$" "$BATS_TEST_FILENAME"; then
            echo "man/$f has no test in tests/man-examples.bats"
            missing=1
        fi
    done
    [ "$missing" -eq 0 ]
}
