#!/usr/bin/env bats
# scripts/cm-tune-cluster: shards through GNU parallel merge to the very
# best trial (and the same results) of one unsharded run.
load helpers

bats_require_minimum_version 1.5.0

CLUSTER="$TOP/scripts/cm-tune-cluster"

features() {
    cm-clean -T dteday,hr --drop instant,casual,registered "$DATA/bike-2011-01.csv" |
        cm-features -y cnt -L cnt:1h,24h >feat.cmt
}

GRID='lr=0.001,0.01,0.1 beta1=0.9,0.99 layers=8|16,8'

@test "two shards through GNU parallel: the best trial and every result of one run" {
    command -v parallel >/dev/null || skip "GNU parallel is not installed (scripts/install-deps)"
    features
    cm-tune -q -j 2 --grid "$GRID" --epochs 2 --results one.tsv feat.cmt >one.best
    "$CLUSTER" -n 2 -d shards -- --grid "$GRID" --epochs 2 feat.cmt >cluster.best
    diff -u one.best cluster.best
    [ -s one.best ]
    # Each shard ran its own half: trials 1, 3, ... and 2, 4, ...
    [ "$(cut -f1 shards/results-1.tsv | tail -n +2 | sort -n | tr '\n' ' ')" = "1 3 5 7 9 11 " ]
    [ "$(cut -f1 shards/results-2.tsv | tail -n +2 | sort -n | tr '\n' ' ')" = "2 4 6 8 10 12 " ]
    # and together they score every trial as the single run did
    # (seconds, column 12 with 5 folds and 3 settings, differ)
    local cols='1-11,13-'
    diff <(tail -n +2 one.tsv | cut -f"$cols" | sort -n) \
         <(tail -q -n +2 shards/results-*.tsv | cut -f"$cols" | sort -n)
    # -o retrains on every row with the best settings
    "$CLUSTER" -n 2 -d shards -o best.cmm -- --grid "$GRID" --epochs 2 feat.cmt >again.best
    diff -u one.best again.best
    cm-cat --info best.cmm | grep -qx "  $(grep '^lr=' one.best)"
}

@test "cm-tune-cluster: bad use is a usage error; a failing shard fails the run" {
    run "$CLUSTER" -n x -- --grid lr=0.1 feat.cmt
    [ "$status" -eq 2 ]
    [[ $output == usage:* ]]
    command -v parallel >/dev/null || skip "GNU parallel is not installed (scripts/install-deps)"
    features
    run "$CLUSTER" -n 2 -d s -- --grid 'lr=0.1' --epochs 1 missing.cmt
    [ "$status" -ne 0 ]
}
