#!/bin/sh
# traffic: hourly bike rentals in Washington D.C., 2011 - how good is a
# forecast of the next 24 hours, and what are they after the last hour?
# Run from the top of the tree after `make`: sh examples/traffic.sh [DIR]
. "$(dirname "$0")/common.sh"
raw=testdata/bike-2011.csv
step "cm-clean --time dteday,hr --drop instant,casual,registered $raw |
    cm-features -y cnt -L cnt:1h,24h,168h -R cnt:mean:24h -o $d/bike-feat.cmt"
step "cm-train -q $d/bike-feat.cmt -o $d/bike.cmm"
# the last 30 days, a forecast each midnight, scored hour by hour ahead
step "cm-predict -m $d/bike.cmm --backtest --horizon 24h --windows 30 --fill-history linear $raw |
    sed -n '1,3p;13,14p;26,27p'"
# the next 24 hours, the weather of the last hour carried on
step "cm-predict -q -m $d/bike.cmm --horizon 24h --future-fill last --fill-history linear $raw |
    sed -n '1,4p;24,25p'"
