#!/usr/bin/env bats
# cm-plot: every kind of picture from cm's own outputs on the bundled
# data, as PNG of the size asked (its header read), as SVG that an XML
# parser reads with as many plotted series as the data have, and as text;
# the script alone; and bad input, one line each.
load helpers

bats_require_minimum_version 1.5.0

YEAR="$DATA/bike-2011.csv"

# The outputs to draw, once for the file: a forecast and its history, two
# backtests and their forecasts, a training history, a search, batch
# forecasts; the population panel's forecast of four states.
setup_file() {
    cd "$BATS_FILE_TMPDIR" || return 1
    {
        cm-clean --time dteday,hr --drop instant,casual,registered -o y.cmt "$YEAR" &&
            cm-features -y cnt -L cnt:1h,24h,168h -o f.cmt y.cmt &&
            SOURCE_DATE_EPOCH=1 cm-train -q -m linear -o lin.cmm f.cmt &&
            SOURCE_DATE_EPOCH=1 cm-train -q -m linear --l2 1000 -o lin2.cmm f.cmt &&
            SOURCE_DATE_EPOCH=1 cm-train -q --epochs 4 --history hist.csv -o mlp.cmm f.cmt &&
            cm-predict -m lin.cmm -H 24 --future-fill last --fill-history linear "$YEAR" >fc.csv &&
            cm-predict -q -m lin.cmm --backtest -H 24 --windows 10 --fill-history linear \
                --forecasts btfc.csv "$YEAR" >bt.csv &&
            cm-predict -q -m lin2.cmm --backtest -H 24 --windows 10 --fill-history linear \
                "$YEAR" >bt2.csv &&
            cm-tune -q -m linear --grid 'l2=0.1,1,10,100' --folds 3 --results tune.tsv f.cmt >/dev/null &&
            cm-predict -q -m lin.cmm "$YEAR" >pred.csv &&
            grep -e '^state' -e ',total,' "$DATA/population.csv" | grep -v '^USA,' >states.csv &&
            cm-clean -q --sort --time year --drop ages -o states.cmt states.csv &&
            cm-features -y population --by state/region --time-features none -L population:1,2 \
                states.cmt | cm-train -q -m linear -o pop.cmm &&
            cm-predict -m pop.cmm -H 5y --id state/region states.csv >popfc.csv
    } 2>prep.err || {
        echo "making the outputs failed:" >&2
        cat prep.err >&2
        return 1
    }
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    cp "$BATS_FILE_TMPDIR"/{fc,bt,bt2,btfc,hist,pred,popfc}.csv "$BATS_FILE_TMPDIR"/tune.tsv \
        "$BATS_FILE_TMPDIR"/{y,states}.cmt . || return 1
}

# The width and height of a PNG, from its IHDR chunk: png_size FILE
png_size() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || {
        echo "$1: not a PNG" >&2
        return 1
    }
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%d,%d\n", $1 * 16777216 + $2 * 65536 + $3 * 256 + $4,
        $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'
}

# The plotted series of an SVG that an XML parser reads: svg_series FILE
svg_series() {
    /usr/bin/python3 - "$1" <<'PY'
import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
print(sum(1 for g in d.getElementsByTagName("g") if g.getAttribute("id").startswith("gnuplot_plot_")))
PY
}

@test "forecast: the history and the next 24 hours; PNG of the size asked, SVG of two series, text with the title" {
    cm-plot forecast --history y.cmt fc.csv -o fc.png
    [ "$(png_size fc.png)" = 1000,600 ]
    cm-plot forecast --history y.cmt --size 640,480 fc.csv -o small.png
    [ "$(png_size small.png)" = 640,480 ]
    cm-plot forecast --history y.cmt fc.csv -o fc.svg
    [ "$(svg_series fc.svg)" -eq 2 ]
    # without the history: the forecast alone
    cm-plot forecast fc.csv -o alone.svg
    [ "$(svg_series alone.svg)" -eq 1 ]
    COLUMNS=100 LINES=30 cm-plot forecast --history y.cmt -t fc.csv >fc.txt
    grep -q 'cnt: 24 steps from 2011-12-31 23:00' fc.txt
    # the time axis: the last day's hours, as day/hour
    grep -q '31/00h' fc.txt
    # the terminal's size less a line for the prompt
    [ "$(wc -l <fc.txt)" -ge 27 ]
    [ "$(wc -l <fc.txt)" -le 29 ]
    [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' fc.txt)" -le 100 ]
}

@test "forecast of series: a panel each (two series a panel), or one with --series; too many to draw is a usage error" {
    awk -F, 'NR == 1 || $2 == "CA" || $2 == "TX" || $2 == "NY"' popfc.csv >three.csv
    cm-plot forecast --history states.cmt three.csv -o three.svg
    [ "$(svg_series three.svg)" -eq 6 ]
    cm-plot forecast --history states.cmt --series TX popfc.csv -o tx.svg
    [ "$(svg_series tx.svg)" -eq 2 ]
    grep -q 'population: 5 steps from 2013-01-01' tx.svg
    assert_exit cm-plot 2 "cm-plot: more than 12 series: choose one with --series ID
Try 'cm-plot --help' for more information." forecast popfc.csv -o all.png
    assert_exit cm-plot 2 "cm-plot: series: no series 'XX' in the input
Try 'cm-plot --help' for more information." forecast --series XX popfc.csv -o all.png
}

@test "backtest: RMSE and MAE by step, a line a model with -l; --forecasts fanning out over the actuals" {
    cm-plot backtest bt.csv -o bt.svg
    [ "$(svg_series bt.svg)" -eq 2 ]
    cm-plot backtest -l ridge=bt.csv -l 'l2 1000=bt2.csv' -o two.svg
    [ "$(svg_series two.svg)" -eq 4 ]
    grep -q 'l2 1000' two.svg
    cm-plot backtest btfc.csv -o fan.png
    [ "$(png_size fan.png)" = 1000,600 ]
    cm-plot backtest btfc.csv -o fan.svg
    [ "$(svg_series fan.svg)" -eq 2 ]
    grep -q 'the forecasts from 10 origins' fan.svg
}

@test "history, tune and predict: each on its own output" {
    cm-plot history hist.csv -o h.svg
    # training, validation and the best epoch marked
    [ "$(svg_series h.svg)" -eq 3 ]
    best=$(awk -F, 'NR > 1 && (b == "" || $3 < b) { b = $3; e = $1 } END { print e }' hist.csv)
    grep -q "the best epoch $best" h.svg
    cm-plot tune tune.tsv -o t.svg
    [ "$(svg_series t.svg)" -eq 1 ]
    # l2 of 0.1 to 100 by tenfolds: a log axis
    cm-plot tune --script tune.tsv | grep -qx 'set logscale x'
    cm-plot predict pred.csv -o p.svg
    # the forecasts and the diagonal; the residuals and zero
    [ "$(svg_series p.svg)" -eq 4 ]
}

@test "--script: the whole script, data inline, that gnuplot draws by itself; --title" {
    cm-plot history --title 'My loss' --script hist.csv >h.gp
    grep -qx "set title 'My loss'" h.gp
    grep -q '^\$h0 << EOD$' h.gp
    [ "$(grep -c '^EOD$' h.gp)" -eq 1 ]
    sed -i 's/^set terminal .*/set terminal svg\nset output "h.svg"/' h.gp
    gnuplot h.gp
    [ "$(svg_series h.svg)" -eq 3 ]
}

@test "bad input: another output of cm (named), no rows, a missing column, a history read wrong; one line each" {
    assert_exit cm-plot 1 "cm-plot: hist.csv: a training history (cm-train --history), which 'cm-plot history' draws" \
        forecast hist.csv -o x.png
    assert_exit cm-plot 1 "cm-plot: bt.csv: backtest scores (cm-predict --backtest), which 'cm-plot backtest' draws" \
        predict bt.csv -o x.png
    printf 'a,b\n1,2\n' >ab.csv
    assert_exit cm-plot 1 "cm-plot: ab.csv: not an output of cm that this kind draws: its columns are a, ..." \
        tune ab.csv -o x.png
    head -1 fc.csv >empty.csv
    assert_exit cm-plot 1 "cm-plot: empty.csv: a forecast (cm-predict --horizon) with no rows: nothing to draw" \
        forecast empty.csv -o x.png
    : >nothing.csv
    assert_exit cm-plot 1 "cm-plot: nothing.csv: empty: no header line" forecast nothing.csv -o x.png
    # a history without the target, and one whose dates lack their hours
    cm-clean -q -c temp --time dteday,hr -o temp.cmt "$YEAR"
    assert_exit cm-plot 1 "cm-plot: temp.cmt: no column 'cnt', the forecast's target" \
        forecast --history temp.cmt fc.csv -o x.png
    cp "$YEAR" raw.csv
    assert_exit cm-plot 1 "cm-plot: raw.csv: the time 2011-01-01 00:00 repeats: clean the history as the model's data were (cm-clean --time ...) and give that stream" \
        forecast --history raw.csv fc.csv -o x.png
    [ ! -e x.png ]
}

@test "usage and output: kinds, extensions, -t with -o; an unwritable -o; an old picture kept; no gnuplot said" {
    assert_exit cm-plot 2 "cm-plot: 'pie' is not a kind of plot: forecast, backtest, history, tune or predict
Try 'cm-plot --help' for more information." pie fc.csv -o x.png
    assert_exit cm-plot 2 "cm-plot: -o: 'x.jpg': the format comes from the extension, .png or .svg
Try 'cm-plot --help' for more information." forecast fc.csv -o x.jpg
    assert_exit cm-plot 2 "cm-plot: -t draws on standard output; -o writes a file: give one
Try 'cm-plot --help' for more information." forecast -t fc.csv -o x.png
    assert_exit cm-plot 2 "cm-plot: --history: for a forecast alone
Try 'cm-plot --help' for more information." backtest --history y.cmt bt.csv -o x.png
    assert_exit cm-plot 2 "cm-plot: --size: '10,10' is not two sizes in pixels such as 1000,600 (100 to 10000)
Try 'cm-plot --help' for more information." forecast --size 10,10 fc.csv -o x.png
    # not a terminal, no -o: nowhere to draw
    assert_exit cm-plot 2 "cm-plot: no picture to write: give -o OUT.png or OUT.svg, or -t to draw with characters
Try 'cm-plot --help' for more information." forecast fc.csv
    assert_exit cm-plot 1 "cm-plot: /nonexistent/x.png: No such file or directory" forecast fc.csv -o /nonexistent/x.png
    # a failure leaves the old picture as it was
    echo old >keep.png
    assert_exit cm-plot 1 "cm-plot: hist.csv: a training history (cm-train --history), which 'cm-plot history' draws" \
        forecast hist.csv -o keep.png
    [ "$(cat keep.png)" = old ]
    # gnuplot missing from PATH: which package has it
    mkdir nognu
    run --separate-stderr env PATH="$PWD/nognu" "$(command -v cm-plot)" forecast fc.csv -o x.png
    [ "$status" -eq 1 ]
    [ "$stderr" = "cm-plot: gnuplot is not installed: Debian's gnuplot-nox has it (apt-get install gnuplot-nox)" ]
    # the temporary directory goes, whether it drew or failed
    mkdir tmpd
    TMPDIR=$PWD/tmpd cm-plot forecast fc.csv -o y.png
    run -1 env TMPDIR="$PWD/tmpd" cm-plot forecast hist.csv -o y2.png
    [ -z "$(ls -A tmpd)" ]
}
