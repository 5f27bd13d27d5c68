#!/usr/bin/env bats
# Atomic outputs (-o, cm(7)): a writer killed by SIGKILL mid-write leaves
# nothing behind, the next run takes away a killed run's stale temporary
# files and nothing else, and where /proc/self/fd cannot name an unnamed
# file the named temporary file still gives the whole output.
load helpers

# CSV rows of a time, a number and a category: rows FIRST LAST
rows() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        for (i = a; i <= b; i++) printf "%d,%d,s%d\n", 1600000000 + i * 60, i % 97, i % 5 }'
}

# The size of the file process PID has open in the directory DIR (unnamed
# if all is well: "DIR/#123 (deleted)"); fails while it has none.
# written PID DIR
written() {
    local fd target
    for fd in /proc/"$1"/fd/*; do
        target=$(readlink "$fd") || continue
        case $target in
        "$2/"*) stat -L -c %s "$fd" && return 0 ;;
        esac
    done
    return 1
}

# The process named NAME among PID and its descendants: descendant PID NAME
descendant() {
    local p
    if [ "$(ps -o comm= -p "$1")" = "$2" ]; then
        echo "$1"
        return 0
    fi
    for p in $(ps -o pid= --ppid "$1"); do
        descendant "$p" "$2" && return 0
    done
    return 1
}

# Starts CMD... (reading the FIFO in.fifo) in the background, its pid in
# $writer, and feeds it the N rows of a CSV through fd 4, left open: the
# command then waits for more.  feed N CMD...
feed() {
    local n=$1
    shift
    { echo t,v,s; rows 1 "$n"; } >rows.csv
    rm -f in.fifo
    mkfifo in.fifo
    "$@" 3>&- 2>writer.err &
    writer=$!
    # Read-write: the open does not wait for the reader, and a reader gone
    # early cannot hang the test.
    exec 4<>in.fifo
    timeout 30 cat rows.csv >&4
}

@test "SIGKILL mid-write leaves no file, and the old output as it was" {
    mkdir d
    dir=$(pwd -P)/d
    echo old >d/out.cmt
    feed 100000 cm-clean --time t -o d/out.cmt in.fifo
    # Wait until the output holds data: the kill comes mid-write.
    size=0
    for _ in $(seq 100); do
        size=$(written "$writer" "$dir") && [ "$size" -gt 0 ] && break
        sleep 0.1
    done
    [ "$size" -gt 0 ]
    kill -9 "$writer"
    wait "$writer" || true
    exec 4>&-
    [ "$(ls -A d)" = out.cmt ]
    [ "$(cat d/out.cmt)" = old ]
    # A new name does not appear either.
    feed 100000 cm-clean --time t -o d/new.cmt in.fifo
    for _ in $(seq 100); do
        written "$writer" "$dir" >/dev/null && break
        sleep 0.1
    done
    written "$writer" "$dir"
    kill -9 "$writer"
    wait "$writer" || true
    exec 4>&-
    [ "$(ls -A d)" = out.cmt ]
}

@test "a killed run's temporary files a day old go at the next run; nothing else does" {
    { echo t,v,s; rows 1 10; } >in.csv
    echo old >out.cmt
    old() { touch -h -d '2 days ago' "$@"; }
    : >.out.cmt.abcdef
    : >.out.cmt.Z0z9Qx
    : >.out.cmt.fresh1
    : >.out.cmt.abcdefg
    : >.out.cmt.abc-ef
    : >.other.cmt.abcdef
    : >out.cmt.abcdef
    : >notes.txt
    mkdir .out.cmt.dir123
    ln -s notes.txt .out.cmt.lnk123
    old .out.cmt.abcdef .out.cmt.Z0z9Qx .out.cmt.abcdefg .out.cmt.abc-ef .other.cmt.abcdef \
        out.cmt.abcdef notes.txt .out.cmt.dir123 .out.cmt.lnk123
    if [ "$(id -u)" -eq 0 ]; then
        : >.out.cmt.nobody
        chown nobody .out.cmt.nobody
        old .out.cmt.nobody
    fi
    cm-clean --time t -o out.cmt in.csv
    [ ! -e .out.cmt.abcdef ]
    [ ! -e .out.cmt.Z0z9Qx ]
    for f in .out.cmt.fresh1 .out.cmt.abcdefg .out.cmt.abc-ef .other.cmt.abcdef \
        out.cmt.abcdef notes.txt .out.cmt.dir123; do
        [ -e "$f" ] || { echo "$f was removed" >&2; false; }
    done
    [ -L .out.cmt.lnk123 ]
    if [ "$(id -u)" -eq 0 ]; then
        [ -e .out.cmt.nobody ]
    fi
    cm-cat out.cmt | cmp - <(cm-clean --time t in.csv | cm-cat)
    # Only the target's own pattern: another output leaves these alone.
    old .out.cmt.fresh1
    cm-clean --time t -o other.cmt in.csv
    [ -e .out.cmt.fresh1 ]
}

@test "without /proc/self/fd the output goes through a named temporary file, whole" {
    # In namespaces of its own the writer is process 1, and its /proc/1/fd
    # is hidden under an empty tmpfs: an O_TMPFILE file could not be named
    # through it, so the fallback.  (All of /proc hidden would also hide
    # ASAN_OPTIONS from the sanitizers of make asan.)
    noproc() {
        unshare -rm --pid --kill-child --mount-proc \
            sh -c 'mount -t tmpfs none /proc/1/fd && exec "$@"' sh "$@"
    }
    noproc true 2>/dev/null || skip "no user, mount and pid namespaces here"
    { echo t,v,s; rows 1 1000; } >in.csv
    export SOURCE_DATE_EPOCH=0
    cm-clean --time t in.csv >want.cmt
    umask 022
    noproc cm-clean --time t -o new.cmt in.csv
    cmp want.cmt new.cmt
    [ "$(stat -c %a new.cmt)" = 644 ]
    echo old >old.cmt
    chmod 640 old.cmt
    noproc cm-clean --time t -o old.cmt in.csv
    cmp want.cmt old.cmt
    [ "$(stat -c %a old.cmt)" = 640 ]
    [ -z "$(ls -A | grep '^\.')" ]
    # While it writes, the temporary file has its name, which a SIGKILL
    # leaves behind here; once a day old, the next run takes it away.
    feed 1000 noproc cm-clean --time t -o old.cmt in.fifo
    for _ in $(seq 100); do
        [ -n "$(ls -A | grep '^\.old\.cmt\.......$')" ] && break
        sleep 0.1
    done
    left=$(ls -A | grep '^\.old\.cmt\.......$')
    [ -n "$left" ]
    # cm-clean is process 1 of its pid namespace: only SIGKILL surely ends it.
    kill -KILL "$(descendant "$writer" cm-clean)"
    wait "$writer" || true
    exec 4>&-
    [ -e "$left" ]
    cmp want.cmt old.cmt
    noproc cm-clean --time t -o old.cmt in.csv
    [ -e "$left" ]
    touch -d '2 days ago' "$left"
    noproc cm-clean --time t -o old.cmt in.csv
    [ -z "$(ls -A | grep '^\.')" ]
    cmp want.cmt old.cmt
}
