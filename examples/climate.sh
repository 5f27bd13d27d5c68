#!/bin/sh
# climate: the hourly temperature in Washington D.C., 2011 (degrees
# Celsius, from the bike data's weather), the next 48 hours.
# Run from the top of the tree after `make`: sh examples/climate.sh [DIR]
. "$(dirname "$0")/common.sh"
raw=testdata/bike-2011.csv
step "cm-clean --time dteday,hr --derive 'temp_c=temp * 41' --columns dteday,hr,temp,hum,windspeed \\
    --drop temp $raw |
    cm-features -y temp_c --time-features hour,doy --cyclic -L temp_c:1h,2h,24h,48h \\
        -R temp_c:mean:24h -o $d/temp-feat.cmt"
step "cm-train -q -m linear $d/temp-feat.cmt -o $d/temp.cmm"
step "cm-predict -m $d/temp.cmm --backtest --horizon 48h --windows 30 --fill-history linear $raw |
    sed -n '1,3p;14p;26p;50,51p'"
step "cm-predict -q -m $d/temp.cmm --horizon 48h --future-fill last --fill-history linear $raw |
    sed -n '1,3p;25p;49p'"
