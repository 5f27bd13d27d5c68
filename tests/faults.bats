#!/usr/bin/env bats
# Injected faults (issue 17): a write failing with ENOSPC or EIO, a read
# failing mid-file and an allocation failing, each at the k-th call for
# every k (tests/fault/sweep, with the LD_PRELOAD shim faultshim.c), and
# SIGKILL at random moments.  Every time: exit 1 with one line naming the
# failure, no crash, the previous output intact, no temporary file left,
# nothing spilled left in TMPDIR, a results file --resume completes.

load helpers
bats_require_minimum_version 1.5.0

SWEEP="$TOP/tests/fault/sweep"
export SHIM="$CM_TOOLS/libcmfault.so"
export SOURCE_DATE_EPOCH=1700000000 LC_ALL=C # errno texts in English

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    # ASan's and UBSan's runtime must come first; the shim's malloc
    # would stand before it.
    [ -z "${ASAN_OPTIONS:-}" ] || skip "under the sanitizers (make asan): the shim cannot be preloaded"
    mkdir in
}

# The inputs, in in/: raw CSV, its stream, its features, a model.
inputs() { # inputs ROWS
    head -$(($1 + 1)) "$DATA/bike-2011.csv" >in/raw.csv
    cd in
    quiet cm-clean --time dteday,hr --drop instant,casual,registered raw.csv -o clean.cmt
    quiet cm-features -y cnt -L cnt:1h -R cnt:mean:3h clean.cmt -o feat.cmt
    quiet cm-train -q feat.cmt -o model.cmm
    cd ..
}

# A sweep of CMD in in/; its line of figures goes to $FAULT_FIGURES if set.
sweep() { # sweep KIND OUT CMD...
    (cd in && "$SWEEP" "$@") >>"${FAULT_FIGURES:-/dev/null}" 2>sweep.err || {
        cat sweep.err >&2
        return 1
    }
}

@test "the shim fails the call it is told to, and counts them" {
    inputs 40
    cd in
    CM_FAULT_COUNT=n LD_PRELOAD="$SHIM" cm-clean --time dteday,hr raw.csv -o a.cmt
    read -r w r m <n
    [ "$w" -ge 1 ]
    [ "$r" -ge 2 ]
    [ "$m" -ge 100 ]
    run --separate-stderr env CM_FAULT=write:1:ENOSPC LD_PRELOAD="$SHIM" \
        cm-clean --time dteday,hr raw.csv -o a.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: a.cmt: write failed: No space left on device" ]
    run --separate-stderr env CM_FAULT=read:2 LD_PRELOAD="$SHIM" \
        cm-clean --time dteday,hr raw.csv -o b.cmt
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-clean: raw.csv: read failed: Input/output error" ]
    [ ! -e b.cmt ]
    # past the last call, no fault: the same output as without the shim
    CM_FAULT=malloc:$((m + 1)) LD_PRELOAD="$SHIM" cm-clean --time dteday,hr raw.csv -o c.cmt
    cmp a.cmt c.cmt
}

@test "write: ENOSPC from the k-th write on, and EIO once at the k-th, for every k, on each -o" {
    inputs 2000
    for f in write:ENOSPC:sticky write:EIO; do
        sweep $f out.cmt cm-clean --time dteday,hr --drop instant,casual,registered raw.csv -o out.cmt
        sweep $f out.cmt cm-features -y cnt -L cnt:1h,24h -R cnt:mean:3h clean.cmt -o out.cmt
        sweep $f m.cmm cm-train -q -m mlp --layers 128,128 --epochs 1 feat.cmt -o m.cmm
        sweep $f m.cmm cm-tune -q -m linear -k 2 --grid l2=0.1,10 feat.cmt -o m.cmm
        sweep $f p.csv cm-predict -m model.cmm raw.csv -o p.csv
    done
}

@test "read: EIO at the k-th read of the input, for every k" {
    inputs 2000
    sweep read out.cmt cm-clean --time dteday,hr raw.csv -o out.cmt
    sweep read out.cmt cm-features -y cnt -L cnt:1h clean.cmt -o out.cmt
    sweep read m.cmm cm-train -q feat.cmt -o m.cmm
    sweep read p.csv cm-predict -m model.cmm raw.csv -o p.csv
}

@test "malloc: NULL at the k-th allocation, for every k of a small run" {
    inputs 40
    sweep malloc out.cmt cm-clean --time dteday,hr --drop instant,casual,registered raw.csv -o out.cmt
    sweep malloc out.cmt cm-features -y cnt -L cnt:1h -R cnt:mean:3h clean.cmt -o out.cmt
    sweep malloc m.cmm cm-train -q feat.cmt -o m.cmm
    sweep malloc m.cmm cm-train -q -m mlp --epochs 2 feat.cmt -o m.cmm
    sweep malloc p.csv cm-predict -m model.cmm raw.csv -o p.csv
    sweep malloc m.cmm cm-tune -q -j 1 -m linear -k 2 --grid l2=0.1,1,10 feat.cmt -o m.cmm
}

# A results file without its seconds, by trial: with -j 2 the trials
# end, and are written, in either order.
by_trial() {
    cut -f1-6 "$1" | sort -t "$(printf '\t')" -k1,1n
}

# The results file of an uninterrupted search.
results_ref() { # results_ref TUNE-ARGS...
    cm-tune "$@" --results ref.tsv >best.ref 2>/dev/null
    by_trial ref.tsv >ref.cut
}

# --resume completes FILE to the uninterrupted search's, the same best.
resumes() { # resumes FILE TUNE-ARGS...
    local f=$1
    shift
    cm-tune "$@" --resume --results "$f" >best 2>resume.err || {
        echo "--resume of the file left:" >&2
        cat "$f" resume.err >&2
        return 1
    }
    by_trial "$f" | cmp - ref.cut && cmp best best.ref
}

@test "cm-tune --results: a failed write stops the search, and --resume completes the file" {
    inputs 2000
    cd in
    t=(-q -j 1 -m linear -k 2 --grid l2=0.1,1,10,100 feat.cmt)
    results_ref "${t[@]}"
    CM_FAULT_COUNT=n LD_PRELOAD="$SHIM" cm-tune "${t[@]}" --results n.tsv >/dev/null
    read -r writes _ <n
    [ "$writes" -ge 5 ] # the header, and a line per trial
    for mode in ENOSPC:sticky ENOSPC EIO; do
        for k in $(seq "$writes"); do
            rm -f r.tsv
            run --separate-stderr env CM_FAULT=write:$k:$mode LD_PRELOAD="$SHIM" \
                cm-tune "${t[@]}" --results r.tsv
            [ "$status" -eq 1 ]
            [[ "$stderr" = "cm-tune: r.tsv: write failed: "* ]]
            [ "$(wc -l <<<"$stderr")" -eq 1 ]
            resumes r.tsv "${t[@]}"
        done
    done
}

# How many milliseconds CMD... takes, uninterrupted: the span for kills.
ms_of() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 </dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000 + 1))
}

# Runs CMD... in the background, killed with SIGKILL after a random
# moment up to MS milliseconds; the delays are in kills.log.
kill_after() { # kill_after MS CMD...
    local ms=$1 delay
    shift
    delay=$((RANDOM % ms))
    echo "$delay ms: $*" >>kills.log
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || true
}

# N SIGKILLs of CMD... at random moments of its MS, OUT holding "old"
# before each: after each, OUT's directory holds OUT alone, and OUT is
# "old" or the whole REF; $SPILL, when set, is empty.  Some kill must
# come before OUT is written, or the rounds tested nothing.  The figures
# go to $FAULT_FIGURES as "WHAT: ...".
kill_rounds() { # kill_rounds N MS OUT REF WHAT CMD...
    local n=$1 ms=$2 out=$3 ref=$4 what=$5 mid=0
    shift 5
    for _ in $(seq "$n"); do
        echo old >"$out"
        kill_after "$ms" "$@"
        [ -z "${SPILL:-}" ] || [ -z "$(ls -A "$SPILL")" ] || { cat kills.log; ls -A "$SPILL"; false; }
        [ "$(ls -A "$(dirname "$out")")" = "$(basename "$out")" ] || { cat kills.log; false; }
        if [ "$(cat "$out")" = old ]; then
            mid=$((mid + 1))
        else
            cmp "$out" "$ref" || { cat kills.log; false; }
        fi
    done
    [ "$mid" -gt 0 ] || { echo "no kill came before $out was written" >&2; cat kills.log; false; }
    echo "$what: $n SIGKILLs in $ms ms, $mid before the output was written" >>"${FAULT_FIGURES:-/dev/null}"
}

@test "SIGKILL at random moments in cm-train -o: the old model or the new one, never a temporary file" {
    inputs 2000
    cd in
    mkdir d
    # the model records its command line: the reference is made by the same
    ms=$(ms_of cm-train -q -m mlp --epochs 200 --seed 1 feat.cmt -o d/m.cmm)
    mv d/m.cmm new.cmm
    kill_rounds 12 "$ms" d/m.cmm new.cmm "cm-train -o" \
        cm-train -q -m mlp --epochs 200 --seed 1 feat.cmt -o d/m.cmm
}

@test "SIGKILL between naming the output and the rename: the new file in place, no temporary file" {
    inputs 200
    cd in
    mkdir d
    cm-clean -q --time dteday,hr raw.csv -o new.cmt
    echo old >d/out.cmt
    # strace holds every rename(2) back half a second, so the kill falls
    # between the link of the finished file and the rename surely
    strace -f -o trace.log -e trace=linkat,rename -e inject=rename:delay_enter=500000 \
        cm-clean -q --time dteday,hr raw.csv -o d/out.cmt 2>/dev/null &
    tracer=$!
    for _ in $(seq 200); do
        grep -q 'linkat(.*= 0' trace.log 2>/dev/null && break
        sleep 0.05
    done
    kill -9 "$(pgrep -o -P "$tracer")"
    wait "$tracer" || true
    cat trace.log
    grep -q 'killed by SIGKILL' trace.log
    [ "$(ls -A d)" = out.cmt ]
    cmp d/out.cmt new.cmt
}

@test "SIGKILL at random moments in cm-tune --results and --resume: --resume completes the file" {
    inputs 2000
    cd in
    t=(-q -j 2 -m mlp --epochs 40 -k 2 --grid lr=0.001,0.003,0.01,0.03 --seed 1 feat.cmt)
    ms=$(ms_of results_ref "${t[@]}")
    part=0
    for i in $(seq 8); do
        rm -f r.tsv
        kill_after "$ms" cm-tune "${t[@]}" --results r.tsv
        [ -e r.tsv ] && kill_after "$ms" cm-tune "${t[@]}" --resume --results r.tsv
        [ -e r.tsv ] || continue # killed before it began
        [ "$(by_trial r.tsv | wc -l)" -eq 5 ] || part=$((part + 1))
        resumes r.tsv "${t[@]}" || { cat kills.log; false; }
        # no worker outlives its search (they go when it does, not at once)
        for _ in $(seq 50); do
            pgrep -f "cm-tune ${t[*]}" >/dev/null || break
            sleep 0.1
        done
        run pgrep -f "cm-tune ${t[*]}"
        [ "$status" -ne 0 ]
    done
    echo "cm-tune --results, --resume: 8 pairs of SIGKILLs in ${ms} ms, $part left a file to complete" >>"${FAULT_FIGURES:-/dev/null}"
}

@test "SIGKILL at random moments in cm-clean --sort with spilled runs: nothing left in the spill directory" {
    # four times the year, out of time order
    { head -1 "$DATA/bike-2011.csv"; for _ in 1 2 3 4; do tail -n +2 "$DATA/bike-2011.csv"; done |
        sort -t, -k17n; } >in/rows.csv
    cd in
    mkdir spill d
    # spills are made: the sort is the same with runs on disk
    ms=$(ms_of cm-clean -s -S 64K --tmpdir spill --time dteday,hr rows.csv -o sorted.cmt)
    cm-clean -s --time dteday,hr rows.csv -o mem.cmt
    cmp sorted.cmt mem.cmt
    SPILL=spill kill_rounds 12 "$ms" d/out.cmt sorted.cmt "cm-clean --sort" \
        cm-clean -s -S 64K --tmpdir spill --time dteday,hr rows.csv -o d/out.cmt
}
