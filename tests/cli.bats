#!/usr/bin/env bats
# The command-line plumbing every binary shares (cmd/cli.c), binary by
# binary: a write that fails names the output, never the input, as
# `prog: OUTPUT: write failed: REASON` with status 1, OUTPUT being the
# file of -o (or --report, --history) or `(stdout)`; a closed pipe on
# standard output is a quiet exit 0.  /dev/full (Linux) fails every write
# with ENOSPC; cm_atomic writes a device in place, so -o /dev/full fails
# in the writing, not in the rename.
load helpers

bats_require_minimum_version 1.5.0

FULL="write failed: No space left on device"
BIKE="$DATA/bike-2011-01.csv"
CLEAN=(--time dteday,hr --drop instant,casual,registered)
# the fields of one row for the model of setup_file, as NAME=VALUE
ROW=(dteday=2011-01-31 hr=17 season=1 yr=0 mnth=1 holiday=0 weekday=1 workingday=1
    weathersit=1 temp=0.2 atemp=0.2 hum=0.5 windspeed=0.1 cnt_lag1h=100)

# clean.cmt, feat.cmt and a linear model m.cmm, once for the file.
setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    cm-clean "${CLEAN[@]}" -o clean.cmt "$BIKE" 2>prep.err &&
        cm-features -y cnt -L cnt:1h -o feat.cmt clean.cmt 2>>prep.err &&
        cm-train -q -m linear -o m.cmm feat.cmt 2>>prep.err || {
        echo "making the inputs failed:" >&2
        cat prep.err >&2
        return 1
    }
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    cp "$BATS_FILE_TMPDIR"/{clean.cmt,feat.cmt,m.cmm} . || return 1
}

# As assert_exit, with standard output /dev/full:
# assert_full PROG STATUS MESSAGE ARGS...
assert_full() {
    TO=/dev/full assert_exit "$@"
}

# PROG ARGS... with standard output a pipe whose reader has gone before it
# starts (so its first write fails with EPIPE): status 0, nothing on
# stderr.  assert_closed_pipe PROG ARGS...
assert_closed_pipe() {
    rm -f pipe
    mkfifo pipe
    # read-write first, so that opening it for writing does not block;
    # then only the writing end is left
    run --separate-stderr bash -c 'exec 4<>pipe 5>pipe; exec 4<&-
        exec "$0" "$@" >&5 5>&- </dev/null' "$@"
    if [ "$status" -ne 0 ] || [ -n "$stderr" ]; then
        printf '%s: into a closed pipe\n  status %s (want 0)\n  stderr: %s\n' \
            "$*" "$status" "$stderr" >&2
        return 1
    fi
}

@test "cm-clean: -o, standard output and --report name themselves when a write fails" {
    assert_exit cm-clean 1 "cm-clean: /dev/full: $FULL" "${CLEAN[@]}" "$BIKE" -o /dev/full
    assert_full cm-clean 1 "cm-clean: (stdout): $FULL" "${CLEAN[@]}" "$BIKE"
    assert_exit cm-clean 1 "cm-clean: /dev/full: $FULL" "${CLEAN[@]}" --report /dev/full \
        "$BIKE" -o out.cmt
    [ ! -e out.cmt ]
    assert_closed_pipe cm-clean "${CLEAN[@]}" "$BIKE"
}

@test "cm-features: -o and standard output name themselves when a write fails" {
    assert_exit cm-features 1 "cm-features: /dev/full: $FULL" -y cnt -L cnt:1h clean.cmt \
        -o /dev/full
    assert_full cm-features 1 "cm-features: (stdout): $FULL" -y cnt -L cnt:1h clean.cmt
    assert_closed_pipe cm-features -y cnt -L cnt:1h clean.cmt
}

@test "cm-cat: -o and standard output name themselves when a write fails, text, stream or --info" {
    assert_exit cm-cat 1 "cm-cat: /dev/full: $FULL" clean.cmt -o /dev/full
    assert_full cm-cat 1 "cm-cat: (stdout): $FULL" clean.cmt
    assert_exit cm-cat 1 "cm-cat: /dev/full: $FULL" -f cmt clean.cmt -o /dev/full
    assert_full cm-cat 1 "cm-cat: (stdout): $FULL" -f cmt clean.cmt
    assert_exit cm-cat 1 "cm-cat: /dev/full: $FULL" --info clean.cmt -o /dev/full
    assert_exit cm-cat 1 "cm-cat: /dev/full: $FULL" --info m.cmm -o /dev/full
    assert_full cm-cat 1 "cm-cat: (stdout): $FULL" --info m.cmm
    assert_closed_pipe cm-cat clean.cmt
    assert_closed_pipe cm-cat -f cmt clean.cmt
}

@test "cm-train: the model of -o and --history name themselves when a write fails" {
    assert_exit cm-train 1 "cm-train: /dev/full: $FULL" -m linear feat.cmt -o /dev/full
    assert_full cm-train 1 "cm-train: (stdout): $FULL" -m linear feat.cmt -o -
    assert_exit cm-train 1 "cm-train: /dev/full: $FULL" -m linear --history /dev/full \
        feat.cmt -o new.cmm
    [ ! -e new.cmm ]
    assert_closed_pipe cm-train -m linear feat.cmt -o -
}

@test "cm-predict: -o and standard output name themselves when a write fails" {
    assert_exit cm-predict 1 "cm-predict: /dev/full: $FULL" -m m.cmm "$BIKE" -o /dev/full
    assert_full cm-predict 1 "cm-predict: (stdout): $FULL" -m m.cmm "$BIKE"
    assert_full cm-predict 1 "cm-predict: (stdout): $FULL" -m m.cmm --eval feat.cmt
    assert_full cm-predict 1 "cm-predict: (stdout): $FULL" -m m.cmm --info
    assert_exit cm-predict 1 "cm-predict: /dev/full: $FULL" -m m.cmm --info -o /dev/full
    # one row, always on standard output
    assert_full cm-predict 1 "cm-predict: (stdout): $FULL" -m m.cmm "${ROW[@]}"
    assert_closed_pipe cm-predict -m m.cmm "$BIKE"
    assert_closed_pipe cm-predict -m m.cmm "${ROW[@]}"
}

@test "cm-tune: the model of -o and the best settings on standard output name themselves when a write fails" {
    assert_exit cm-tune 1 "cm-tune: /dev/full: $FULL" -j 1 -m linear --grid 'l2=0.1,1' \
        -o /dev/full feat.cmt
    [ "$(cat stdout.bin)" = l2=1 ]
    assert_full cm-tune 1 "cm-tune: (stdout): $FULL" -j 1 -m linear --grid 'l2=0.1,1' feat.cmt
    assert_closed_pipe cm-tune -j 1 -m linear --grid 'l2=0.1,1' feat.cmt
}

@test "--help and --version: a write failure names (stdout), a closed pipe is no error" {
    local p
    for p in cm-clean cm-features cm-cat cm-train cm-predict cm-tune cm-serve cm-plot; do
        assert_full "$p" 1 "$p: (stdout): $FULL" --help
        assert_full "$p" 1 "$p: (stdout): $FULL" --version
        assert_closed_pipe "$p" --help
        assert_closed_pipe "$p" --version
    done
}
