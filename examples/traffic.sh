#!/bin/sh
# traffic: hourly bike rentals in Washington D.C., 2011 - how good is a
# forecast of the next 24 hours, and what are they after the last hour?
# Pictures of both (cm-plot) when gnuplot is installed.
# Run from the top of the tree after `make`: sh examples/traffic.sh [DIR]
. "$(dirname "$0")/common.sh"
raw=testdata/bike-2011.csv
step "cm-clean --time dteday,hr --drop instant,casual,registered $raw -o $d/bike.cmt"
step "cm-features -y cnt -L cnt:1h,24h,168h -R cnt:mean:24h $d/bike.cmt -o $d/bike-feat.cmt"
step "cm-train -q $d/bike-feat.cmt -o $d/bike.cmm"
# the last 30 days, a forecast each midnight, scored hour by hour ahead
step "cm-predict -m $d/bike.cmm --backtest --horizon 24h --windows 30 --fill-history linear $raw \\
    > $d/traffic-backtest.csv"
step "sed -n '1,3p;13,14p;26,27p' $d/traffic-backtest.csv"
# the next 24 hours, the weather of the last hour carried on
step "cm-predict -q -m $d/bike.cmm --horizon 24h --future-fill last --fill-history linear $raw \\
    > $d/traffic-forecast.csv"
step "sed -n '1,4p;24,25p' $d/traffic-forecast.csv"
if command -v gnuplot >/dev/null; then
    step "cm-plot forecast --history $d/bike.cmt $d/traffic-forecast.csv -o $d/traffic-forecast.png"
    step "cm-plot backtest -l mlp=$d/traffic-backtest.csv -o $d/traffic-backtest.png"
    echo "pictures: $d/traffic-forecast.png and $d/traffic-backtest.png"
else
    echo "no pictures: gnuplot is missing (apt-get install gnuplot-nox)"
fi
