#!/usr/bin/env bats
# readme.bats - every command of README.md, run as the page shows it, and
# the outputs it shows checked, so that the README says what cm does.
#
# The convention, for README.md:
#
#   - Every fenced block is tagged: ```sh (commands, run), ```cron (a
#     crontab, run as below) or ```text (a picture, not run; none of its
#     lines may start like a command: `$ `, `cm-`, `bin/`, `make`, `curl`).
#     Code inside prose (`cm-cat big.cmt | head`) is not a command.
#   - The sh blocks run in the order of the page, all in one fresh
#     directory that holds a copy of testdata/ and bin/, a link to the
#     binaries under test (bin/, or $CM_BIN): the top of a source tree
#     after `make`, where a reader runs them.  A later block may use the
#     files an earlier one made (the page makes its short names, bike.csv
#     and the others, with cp).  Each block is one bash script, so a
#     variable a command sets is seen by the next commands of its block:
#     `set -o pipefail`, standard input /dev/null, the binaries under test
#     first on PATH, LC_ALL=C, CM_ZLEVEL and SOURCE_DATE_EPOCH unset; a
#     block must end within $README_TIMEOUT seconds (default 300).
#     $CM_README names another page to run instead (a changed copy).
#   - A command is a line, with the lines that follow it while it is not
#     complete: while it ends with a backslash or `bash -n` finds it
#     unfinished (a pipe `|` at the end, an open quote).
#   - The lines that start with `#` right after a command are its expected
#     output: `# TEXT` a line TEXT, `#` alone an empty line.  So an
#     explanatory comment goes at the end of a command's line, after two
#     spaces or more (`cmd  # why`), where bash skips it; a `#` line after
#     a blank line or at the start of a block, or `#TEXT`, is an error.
#       A shown line `cm-NAME: ...` is a line of standard error: it must
#     be there whole, in the order shown, among other lines that are not
#     compared (timings, counts).  The other shown lines are the whole
#     standard output, exactly; a last line without a newline counts as a
#     line (curl prints none).  A command shown with no `#` line below it
#     may print anything: its output is not compared.  Every command must
#     exit with status 0.
#   - A command ending in `&` is a server.  Every `8080` of its block is
#     replaced by a free port before the block runs; the command must name
#     that port (`-p 8080`), and the next command runs once
#     http://127.0.0.1:PORT/healthz answers.  Servers still running at the
#     end of the block are stopped with SIGTERM (SIGKILL after 5 s).
#   - Not run, and kept to these: a `make ...` line is checked with
#     `make -n` in the source tree, which must accept it (`make`, `make
#     demo` and `make check` install packages and build in the source tree,
#     and CI runs `make check`, which runs this file; `make bench` takes
#     minutes; `make install` writes to the system); `scripts/install-deps`
#     (installs Debian packages as root; `make check` runs it first) is
#     checked with `sh -n`.  Such a line may show no output.
#   - The cron block runs after the sh blocks, in their directory: each
#     entry's command (the line less its five time fields, each of digits
#     and `* , - /`) runs with `sh -c`, as cron runs it, in the order of
#     the block, with `/srv/cm` replaced by that directory.  PATH is
#     cron's, /usr/bin:/bin, until a line `NAME=value`, which sets NAME
#     for the entries below (a PATH with the binaries under test put
#     first: where the page's PATH has them installed); `#` lines are
#     comments; a `%` (a newline to cron) is not allowed.  Each command
#     must exit with status 0 and print nothing, since cron would mail it.
#
# Everything runs once, in setup_file; each `## ` section with commands
# has a test below reporting its mismatches (with the README line, the
# command, what was expected and what came), and a section without a test
# fails the last test.
load helpers

# CM_README: another page to run (a changed copy, to see this test fail).
README=${CM_README:-$TOP/README.md}
README_TIMEOUT=${README_TIMEOUT:-300}

# A section's heading as a file name.
slug() {
    local s=${1//[^A-Za-z0-9]/-}
    echo "${s:0:60}"
}

# Prints a file indented, saying so when its last line has no newline.
quote() {
    awk '{ print "  | " $0 }' "$1"
    if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then
        echo "  (no newline at the end)"
    fi
}

# A port nothing listens on.
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# True when TEXT is a whole command: no backslash at its end, and bash
# reads it without a complaint (an open quote, a pipe at the end, an
# unterminated here-document).
complete() {
    [[ $1 != *\\ ]] || return 1
    local msg
    msg=$(bash -n -c "$1" 2>&1) && [ -z "$msg" ]
}

# The command less a comment at the end of its last line, for telling its
# kind.
bare() {
    sed -E '$ s/[[:space:]]+#.*$//; s/[[:space:]]+$//' <<<"$1"
}

# problem SECTION TEXT: notes a problem of a section.
problem() {
    printf '%s\n\n' "$2" >>"$RES/$(slug "$1").report"
}

# The commands of one sh block, set by parse_block: their text, README
# line, expected output (and whether any was shown) and kind (run, server,
# make, deps).
declare -a C_TEXT C_LINE C_EXP C_HAS C_KIND

# parse_block SECTION: reads the block from B_TEXT and B_LINE.
parse_block() {
    local sec=$1 i n=${#B_TEXT[@]} line cur="" at=0 open=0 k b
    C_TEXT=() C_LINE=() C_EXP=() C_HAS=() C_KIND=()
    finish() {
        k=${#C_TEXT[@]}
        C_TEXT[k]=$cur C_LINE[k]=$at C_EXP[k]="" C_HAS[k]=0
        b=$(bare "$cur")
        case $b in
        make | make\ *) C_KIND[k]=make ;;
        scripts/install-deps | scripts/install-deps\ *) C_KIND[k]=deps ;;
        *[!\&]\& | \&) C_KIND[k]=server ;;
        *) C_KIND[k]=run ;;
        esac
        cur="" open=1
    }
    for ((i = 0; i < n; i++)); do
        line=${B_TEXT[i]}
        if [ -n "$cur" ]; then
            cur+=$'\n'$line
            if complete "$cur"; then finish; fi
            continue
        fi
        if [[ $line == "#" || $line == "# "* ]]; then
            if [ "$open" -eq 0 ]; then
                problem "$sec" "README.md:${B_LINE[i]}: an output line with no command right above it: $line"
                continue
            fi
            k=$((${#C_TEXT[@]} - 1))
            C_EXP[k]+=${line:2}$'\n'
            C_HAS[k]=1
        elif [[ $line == \#* ]]; then
            problem "$sec" "README.md:${B_LINE[i]}: a comment line in an sh block (write '# ' for output, or put it after the command): $line"
        elif [[ -z ${line//[[:space:]]/} ]]; then
            open=0
        else
            cur=$line at=${B_LINE[i]}
            if complete "$cur"; then finish; fi
        fi
    done
    if [ -n "$cur" ]; then
        problem "$sec" "README.md:$at: the command never ends: $cur"
    fi
}

# run_block SECTION N: runs the sh block just parsed as script N.
run_block() {
    local sec=$1 nb=$2 k port="" script="$RES/b$nb.sh" dir="$RES/b$nb"
    local rc want got wanterr
    mkdir -p "$dir"
    for ((k = 0; k < ${#C_TEXT[@]}; k++)); do
        if [ "${C_KIND[k]}" = server ]; then
            port=$(free_port) || {
                problem "$sec" "README.md:${C_LINE[k]}: no free port found"
                return
            }
            break
        fi
    done
    {
        echo 'cd "$1" || exit 1'
        echo '__top=$3'
        echo 'set -o pipefail'
        echo '__pids=()'
        # __up PID PORT: waits until the server answers, or has ended.
        echo '__up() {'
        echo '    local i'
        echo '    for ((i = 0; i < 200; i++)); do'
        echo '        curl -s -o /dev/null "http://127.0.0.1:$2/healthz" && return 0'
        echo '        kill -0 "$1" 2>/dev/null || return 1'
        echo '        sleep 0.05'
        echo '    done'
        echo '    return 1'
        echo '}'
        for ((k = 0; k < ${#C_TEXT[@]}; k++)); do
            local text=${C_TEXT[k]}
            [ -z "$port" ] || text=${text//8080/$port}
            case ${C_KIND[k]} in
            run)
                printf '{\n%s\n} >"$2/%d.out" 2>"$2/%d.err"\necho $? >"$2/%d.rc"\n' \
                    "$text" "$k" "$k" "$k"
                ;;
            server)
                if [[ $text != *"$port"* ]]; then
                    problem "$sec" "README.md:${C_LINE[k]}: a server must name its port, 8080 (-p 8080): $text"
                    continue
                fi
                printf '{\n%s\n} >"$2/%d.out" 2>"$2/%d.err"\n' "$text" "$k" "$k"
                printf '__pids+=($!)\necho $! >>"$2/../pids"\n'
                printf '__up $! %s\necho $? >"$2/%d.rc"\n' "$port" "$k"
                ;;
            make)
                # A function named make runs it dry, in the source tree.
                printf 'make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -C "$__top" "$@"; }\n'
                printf '{\n%s\n} >"$2/%d.out" 2>"$2/%d.err"\necho $? >"$2/%d.rc"\n' \
                    "$text" "$k" "$k" "$k"
                printf 'unset -f make\n'
                ;;
            deps)
                printf '{\ntest -x "$__top/scripts/install-deps" && sh -n "$__top/scripts/install-deps"\n} >"$2/%d.out" 2>"$2/%d.err"\necho $? >"$2/%d.rc"\n' \
                    "$k" "$k" "$k"
                ;;
            esac
        done
        # The servers left, stopped.
        echo 'for __p in "${__pids[@]}"; do'
        echo '    kill -TERM "$__p" 2>/dev/null || continue'
        echo '    for ((__i = 0; __i < 100; __i++)); do'
        echo '        kill -0 "$__p" 2>/dev/null || break'
        echo '        sleep 0.05'
        echo '    done'
        echo '    kill -KILL "$__p" 2>/dev/null'
        echo '    wait "$__p" 2>/dev/null'
        echo 'done'
        echo 'exit 0'
    } >"$script"

    local st=0
    (cd "$SESSION" && env -u CM_ZLEVEL -u SOURCE_DATE_EPOCH LC_ALL=C \
        timeout -k 5 "$README_TIMEOUT" bash "$script" "$SESSION" "$dir" "$TOP" \
        </dev/null >"$dir/script.out" 2>"$dir/script.err" 3>&-) || st=$?
    if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
        problem "$sec" "README.md:${C_LINE[0]}: the block did not end within $README_TIMEOUT s (README_TIMEOUT)"
    elif [ "$st" -ne 0 ]; then
        problem "$sec" "$(printf 'README.md:%s: the block ended with status %s:\n%s' \
            "${C_LINE[0]}" "$st" "$(sed 's/^/  | /' "$dir/script.err")")"
    fi

    for ((k = 0; k < ${#C_TEXT[@]}; k++)); do
        local where="README.md:${C_LINE[k]}" shown=${C_TEXT[k]}
        echo x >>"$RES/$(slug "$sec").count"
        rc=$(cat "$dir/$k.rc" 2>/dev/null) || rc="unknown (the block stopped before its end)"
        if [[ ${C_KIND[k]} == make || ${C_KIND[k]} == deps ]] && [ "${C_HAS[k]}" -eq 1 ]; then
            problem "$sec" "$where: a command that is not run shows an output: $shown"
        fi
        want="$dir/$k.want" wanterr="$dir/$k.wanterr" got="$dir/$k.got"
        : >"$want"
        : >"$wanterr"
        if [ "${C_HAS[k]}" -eq 1 ]; then
            local l
            while IFS= read -r l; do
                if [[ $l =~ ^cm-[a-z]+:\  ]]; then
                    printf '%s\n' "$l" >>"$wanterr"
                else
                    printf '%s\n' "$l" >>"$want"
                fi
            done <<<"${C_EXP[k]%$'\n'}"
        fi
        # The output as lines, a last one without a newline too.
        if [ -f "$dir/$k.out" ]; then
            cat "$dir/$k.out" >"$got"
            if [ -s "$got" ] && [ -n "$(tail -c 1 "$got")" ]; then echo >>"$got"; fi
        else
            : >"$got"
        fi
        local bad=""
        [ "$rc" = 0 ] || bad="exit status $rc"
        if [ "${C_HAS[k]}" -eq 1 ] && ! cmp -s "$want" "$got"; then
            bad+="${bad:+; }standard output differs"
        fi
        if [ -s "$wanterr" ] && ! awk 'NR == FNR { want[++n] = $0; next }
                i < n && $0 == want[i + 1] { i++ }
                END { exit i < n }' "$wanterr" "$dir/$k.err" 2>/dev/null; then
            bad+="${bad:+; }standard error lacks a line shown"
        fi
        [ -n "$bad" ] || continue
        {
            echo "$where: $bad"
            sed 's/^/  $ /' <<<"$shown"
            if [ "${C_HAS[k]}" -eq 1 ]; then
                echo "  --- expected"
                quote "$want"
                if [ -s "$wanterr" ]; then
                    echo "  --- expected on standard error"
                    quote "$wanterr"
                fi
                echo "  --- got"
                quote "$dir/$k.out" 2>/dev/null
            fi
            if [ -s "$dir/$k.err" ]; then
                echo "  --- standard error"
                quote "$dir/$k.err"
            fi
            echo
        } >>"$RES/$(slug "$sec").report"
    done
}

# run_cron SECTION: runs the cron block in B_TEXT and B_LINE.
run_cron() {
    # cron's own PATH, until the block sets one
    local sec=$1 i line cmd st out env_=(PATH=/usr/bin:/bin) name value
    local fields='^(([0-9*/,-]+)[[:space:]]+){5}(.*)$'
    for ((i = 0; i < ${#B_TEXT[@]}; i++)); do
        line=${B_TEXT[i]}
        local where="README.md:${B_LINE[i]}"
        [[ -n ${line//[[:space:]]/} && $line != \#* ]] || continue
        if [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
            name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
            [ "$name" != PATH ] || value="$CM_BIN:$value"
            env_+=("$name=$value")
            continue
        fi
        echo x >>"$RES/$(slug "$sec").count"
        if ! [[ $line =~ $fields ]]; then
            problem "$sec" "$where: not a crontab entry (five time fields, then the command): $line"
            continue
        fi
        cmd=${BASH_REMATCH[3]}
        if [[ $cmd == *%* ]]; then
            problem "$sec" "$where: a % in a crontab command is a newline to cron: $line"
            continue
        fi
        cmd=${cmd//\/srv\/cm/$SESSION}
        st=0
        out=$(cd / && env -u CM_ZLEVEL -u SOURCE_DATE_EPOCH LC_ALL=C "${env_[@]}" \
            timeout -k 5 "$README_TIMEOUT" sh -c "$cmd" </dev/null 2>&1 3>&-) || st=$?
        if [ "$st" -ne 0 ] || [ -n "$out" ]; then
            problem "$sec" "$(printf '%s: the cron command failed (status %s) or printed something:\n  %s\n%s' \
                "$where" "$st" "$line" "$(sed 's/^/  | /' <<<"$out")")"
        fi
    done
}

# Runs the whole page: the sh blocks in order, then the cron blocks.
run_readme() {
    local n=0 line tag="" infence=0 sec="" start=0 nb=0 page="(page)"
    local -a cron_sec=()
    while IFS= read -r line; do
        n=$((n + 1))
        if [ "$infence" -eq 0 ]; then
            if [[ $line == '```'* ]]; then
                tag=${line#'```'}
                tag=${tag%%[[:space:]]*}
                infence=1 start=$n
                B_TEXT=() B_LINE=()
            elif [[ $line == '## '* ]]; then
                sec=${line#'## '}
                echo "$sec" >>"$RES/sections"
            fi
            continue
        fi
        if [[ $line != '```'* ]]; then
            B_TEXT+=("$line") B_LINE+=("$n")
            continue
        fi
        infence=0
        case $tag in
        sh)
            nb=$((nb + 1))
            parse_block "${sec:-$page}"
            run_block "${sec:-$page}" "$nb"
            ;;
        cron)
            # Kept for after the sh blocks: a line "LINE<tab>TEXT" each.
            for ((i = 0; i < ${#B_TEXT[@]}; i++)); do
                printf '%s\t%s\n' "${B_LINE[i]}" "${B_TEXT[i]}"
            done >"$RES/cron${#cron_sec[@]}"
            cron_sec+=("${sec:-$page}")
            ;;
        text)
            for ((i = 0; i < ${#B_TEXT[@]}; i++)); do
                if [[ ${B_TEXT[i]} =~ ^[[:space:]]*(\$\ |cm-|bin/|make|curl) ]]; then
                    problem "$page" "README.md:${B_LINE[i]}: a command in a text block, not run: ${B_TEXT[i]}"
                fi
            done
            ;;
        *)
            problem "$page" "README.md:$start: a fenced block tagged '$tag', not sh, cron or text"
            ;;
        esac
    done <"$README"
    [ "$infence" -eq 0 ] || problem "$page" "README.md:$start: a fenced block never closed"
    local j at text
    for ((j = 0; j < ${#cron_sec[@]}; j++)); do
        B_TEXT=() B_LINE=()
        while IFS=$'\t' read -r at text; do
            B_TEXT+=("$text") B_LINE+=("$at")
        done <"$RES/cron$j"
        run_cron "${cron_sec[j]}"
    done
}

setup_file() {
    RES="$BATS_FILE_TMPDIR/readme"
    SESSION="$RES/top"
    export RES SESSION
    mkdir -p "$SESSION" || return 1
    cp -R "$DATA" "$SESSION/testdata" || return 1
    ln -s "$CM_BIN" "$SESSION/bin" || return 1
    : >"$RES/sections"
    run_readme >"$RES/run.log" 2>&1 || echo "the run itself failed: see $RES/run.log" >>"$RES/-page-.report"
}

# Servers of a block that did not end (a timeout): stopped by their PID.
teardown_file() {
    local p
    [ -f "$RES/pids" ] || return 0
    while read -r p; do
        kill -KILL "$p" 2>/dev/null || true
    done <"$RES/pids"
}

# check_section HEADING: fails with the report of the section's problems,
# or when it has no command.
check_section() {
    local s
    s=$(slug "$1")
    if [ -s "$RES/$s.report" ]; then
        echo "README.md, section '$1':"
        cat "$RES/$s.report"
        return 1
    fi
    if ! grep -qxF -- "$1" "$RES/sections"; then
        echo "README.md has no section '## $1'"
        return 1
    fi
    if [ ! -s "$RES/$s.count" ]; then
        echo "README.md, section '$1': no command to run"
        return 1
    fi
}

@test "README.md: fenced blocks are sh, cron or text" {
    if [ -s "$RES/-page-.report" ]; then
        cat "$RES/-page-.report"
        return 1
    fi
}

@test "README.md: Two commands" {
    check_section "Two commands"
}

@test "README.md: The pipeline" {
    check_section "The pipeline"
}

@test "README.md: cm-clean" {
    check_section "cm-clean: raw CSV to a typed stream"
}

@test "README.md: cm-features" {
    check_section "cm-features: calendar, lags and rolling windows"
}

@test "README.md: cm-train" {
    check_section "cm-train: fit a model"
}

@test "README.md: cm-tune and its crontab" {
    check_section "cm-tune: search the settings by cross-validation"
}

@test "README.md: cm-predict" {
    check_section "cm-predict: forecasts from a model file"
}

@test "README.md: Forecasting" {
    check_section "Forecasting: the next hours, and how good they are"
}

@test "README.md: cm-plot" {
    check_section "cm-plot: pictures of forecasts, backtests and training"
}

@test "README.md: cm-serve" {
    check_section "cm-serve: models over HTTP"
}

@test "README.md: cm-cat" {
    check_section "cm-cat: look inside a stream"
}

@test "README.md: Building by hand" {
    check_section "Building by hand"
}

@test "every section of README.md with commands has a test here" {
    local missing=0 sec
    while IFS= read -r sec; do
        [ -s "$RES/$(slug "$sec").count" ] || continue
        if ! grep -qF -- "    check_section \"$sec\"" "$BATS_TEST_FILENAME"; then
            echo "README.md section '$sec' has no test in tests/readme.bats"
            missing=1
        fi
    done <"$RES/sections"
    [ "$missing" -eq 0 ]
}
