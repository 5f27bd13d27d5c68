#!/usr/bin/env bats
# man-options.bats - the OPTIONS sections of the manual pages against the
# options the programs declare, as their --help shows them, so that no
# page documents an option that is gone, or misses one that was added.
#
# The convention, for every man/cm-X.1 and its program cm-X:
#
#   - The OPTIONS section runs from `.SH OPTIONS` to the next `.SH` (its
#     `.SS` subsections included).  Every option is an item of it: a `.TP`
#     line, then the item's tag line, which names the option, such as
#       .BR \-d ", " \-\-delimiter=\fIC\fR
#       .BI \-\-decimal= C
#       .B \-\-no\-header
#     Only tag lines count: an option named in a paragraph is not
#     documented by it.  A tag that names no option is an error (write a
#     list of values with .IP or .RS, not .TP, inside OPTIONS).
#   - In a tag, read as groff with its font escapes (\fB, \fI, ...) taken
#     for spaces and \- for -, a long option is `--NAME`, NAME made of
#     letters, digits and dashes (so it ends at `=`, a space, a font
#     escape or a quote), and a short one `-X` that is neither preceded
#     nor followed by a letter, digit or dash.  The short options of a tag
#     belong to its one long option.  An option may have several items
#     (one per form of its argument); they must agree.
#   - In `cm-X --help`, an option is a line that begins with two spaces
#     and `-X, --NAME`, or with six spaces and `--NAME`.
#   - The page must document every option of --help (-h, --help and -V,
#     --version included), no other, and each with the short letter that
#     --help gives it (or none when --help gives none).
#
# There is one test per page; it reports, for its page, the options
# documented but not in --help, those in --help but not documented, and
# the short letters that differ.  Every man/*.1 needs a program and a
# test below, and every program a page.
load helpers

# The options that the tags of the OPTIONS section of a man page name,
# as lines of the form
#   L <line> <name> <letter>   --name, its short letter or - for none
#   X <line> <text>            something the convention does not allow
man_options() {
    awk '
    function opts(s, where,   tag, n, longs, shorts, i, c, m) {
        tag = s
        gsub(/\\f(\(..|\[[^]]*\]|.)/, " ", s)
        gsub(/\\-/, "-", s)
        gsub(/\\[&~]/, "", s)
        s = " " s " "
        n = length(s)
        longs = shorts = ""
        nlong = nshort = 0
        for (i = 2; i < n; i++) {
            c = substr(s, i - 1, 1)
            if (c ~ /[-A-Za-z0-9]/) continue
            if (substr(s, i, 2) == "--" && substr(s, i + 2, 1) ~ /[A-Za-z0-9]/) {
                m = substr(s, i + 2)
                match(m, /^[-A-Za-z0-9]+/)
                longs = longs " " substr(m, 1, RLENGTH)
                nlong++
                i += 1 + RLENGTH
            } else if (substr(s, i, 1) == "-" && substr(s, i + 1, 1) ~ /[A-Za-z0-9]/ &&
                       substr(s, i + 2, 1) !~ /[-A-Za-z0-9]/) {
                shorts = shorts " " substr(s, i + 1, 1)
                nshort++
                i++
            }
        }
        if (nlong == 0) {
            print "X " where " the item names no long option: " tag
            return
        }
        if (nlong > 1 || nshort > 1) {
            print "X " where " the item names more than one option: " tag
            return
        }
        sub(/^ /, "", longs)
        sub(/^ /, "", shorts)
        print "L " where " " longs " " (nshort ? shorts : "-")
    }
    /^\.SH/ {
        t = $0
        sub(/^\.SH[ \t]*/, "", t)
        gsub(/"/, "", t)
        sub(/[ \t]+$/, "", t)
        inopt = (t == "OPTIONS")
        if (inopt) seen = 1
        item = 0
        next
    }
    !inopt { next }
    /^\.[ \t]*\\"/ { next }
    item { item = 0; opts($0, NR); next }
    /^\.TP([ \t]|$)/ { item = 1 }
    END { if (!seen) print "X 0 no OPTIONS section" }
    ' "$1"
}

# The options of a --help text, as lines L <name> <letter>.
help_options() {
    awk '
    /^  -[A-Za-z0-9], --[A-Za-z0-9]/ {
        s = substr($0, 4, 1)
        m = substr($0, 9)
    }
    /^      --[A-Za-z0-9]/ {
        s = "-"
        m = substr($0, 9)
    }
    m != "" {
        match(m, /^[-A-Za-z0-9]+/)
        print "L " substr(m, 1, RLENGTH) " " s
        m = ""
    }
    ' "$1"
}

# Compares the page man/$1.1 with `$1 --help`; prints a report and fails
# on any difference.
check_page() {
    local prog=$1 page="man/$1.1"
    local man="$BATS_TEST_TMPDIR/man" help="$BATS_TEST_TMPDIR/help"
    local opts="$BATS_TEST_TMPDIR/help.opts" report="$BATS_TEST_TMPDIR/report"
    [ -f "$TOP/$page" ] || { echo "no such page: $page"; return 1; }
    "$prog" --help >"$help" || { echo "$prog --help failed"; return 1; }
    help_options "$help" >"$opts"
    [ -s "$opts" ] || { echo "$prog --help shows no option"; return 1; }
    man_options "$TOP/$page" >"$man"
    awk -v page="$page" -v prog="$prog" '
    FILENAME == ARGV[1] {
        if ($1 == "X") {
            t = $0
            sub(/^X [0-9]+ /, "", t)
            print page ($2 ? ":" $2 : "") ": " t
            bad++
            next
        }
        if (!($3 in doc)) { doc[$3] = $4; at[$3] = $2; order[++ndoc] = $3 }
        else if (doc[$3] != $4) {
            print page ":" $2 ": --" $3 " has " ($4 == "-" ? "no short option" : "-" $4) \
                " here, " (doc[$3] == "-" ? "none" : "-" doc[$3]) " at line " at[$3]
            bad++
        }
        next
    }
    { hlp[$2] = $3; horder[++nhlp] = $2 }
    function show(n, s) { return (s == "-" ? "" : "-" s ", ") "--" n }
    END {
        for (i = 1; i <= ndoc; i++) {
            n = order[i]
            if (!(n in hlp)) {
                print page ":" at[n] ": documents " show(n, doc[n]) \
                    ", which is not in " prog " --help"
                bad++
            } else if (doc[n] != hlp[n]) {
                print page ":" at[n] ": documents --" n " with " \
                    (doc[n] == "-" ? "no short option" : "-" doc[n]) ", " prog \
                    " --help with " (hlp[n] == "-" ? "none" : "-" hlp[n])
                bad++
            }
        }
        for (i = 1; i <= nhlp; i++) {
            n = horder[i]
            if (!(n in doc)) {
                print page ": does not document " show(n, hlp[n]) \
                    " of " prog " --help"
                bad++
            }
        }
        if (bad) print page ": " bad (bad == 1 ? " difference" : " differences") \
            " with " prog " --help"
        exit (bad != 0)
    }
    ' "$man" "$opts" >"$report" || { cat "$report"; return 1; }
}

@test "man/cm-cat.1 options" {
    check_page cm-cat
}

@test "man/cm-clean.1 options" {
    check_page cm-clean
}

@test "man/cm-features.1 options" {
    check_page cm-features
}

@test "man/cm-plot.1 options" {
    check_page cm-plot
}

@test "man/cm-predict.1 options" {
    check_page cm-predict
}

@test "man/cm-serve.1 options" {
    check_page cm-serve
}

@test "man/cm-train.1 options" {
    check_page cm-train
}

@test "man/cm-tune.1 options" {
    check_page cm-tune
}

@test "every man/*.1 page has a program and a test here, every program a page" {
    local bad=0 f name
    for f in "$TOP"/man/*.1; do
        name=${f##*/}
        name=${name%.1}
        if [ ! -x "$CM_BIN/$name" ]; then
            echo "man/$name.1 has no program $CM_BIN/$name"
            bad=1
        fi
        if ! grep -q "^    check_page $name\$" "$BATS_TEST_FILENAME"; then
            echo "man/$name.1 has no test in tests/man-options.bats"
            bad=1
        fi
    done
    for f in "$CM_BIN"/cm-*; do
        [ -x "$f" ] || continue
        name=${f##*/}
        if [ ! -f "$TOP/man/$name.1" ]; then
            echo "$CM_BIN/$name has no page man/$name.1"
            bad=1
        fi
    done
    [ "$bad" -eq 0 ]
}
