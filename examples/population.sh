#!/bin/sh
# population: each US state's population, 1990-2013 (the Census
# Bureau's estimates), the next 5 years, a forecast per state.
# Run from the top of the tree after `make`: sh examples/population.sh [DIR]
# (-q: its years repeat across states, which --by keeps apart; a state is
# an input of the model too, so it is no --key of cm-clean)
. "$(dirname "$0")/common.sh"
step "grep -e '^state' -e ',total,' testdata/population.csv | grep -v '^USA,' >$d/states.csv"
step "cm-clean -q --sort --time year --drop ages $d/states.csv |
    cm-features -y population --by state/region --time-features none -L population:1,2 \\
        -o $d/pop-feat.cmt"
step "cm-train -q -m linear $d/pop-feat.cmt -o $d/pop.cmm"
step "cm-predict -m $d/pop.cmm --backtest --horizon 5y --every 1 --windows 5 $d/states.csv"
step "cm-predict -q -m $d/pop.cmm --horizon 5y --id state/region $d/states.csv |
    grep -e '^year' -e ',CA,' -e ',TX,'"
