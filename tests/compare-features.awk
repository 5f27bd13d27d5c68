# compare-features.awk: is our feature matrix equal to the reference one?
#   awk -F, -f compare-features.awk REF.csv OURS.csv
# Columns are matched by name (ours may name lags cnt_lag1h for lag1 and
# hold more columns); values must agree within 1e-9 relative; rows must
# match one to one.  Prints the first differences and exits 1 on any.
function abs(x) { return x < 0 ? -x : x }
FNR == 1 {
    if (NR == 1) { for (i = 1; i <= NF; i++) refcol[i] = $i; nref = NF; next }
    for (i = 1; i <= NF; i++) {
        name = $i
        if (name ~ /_lag[0-9]+h$/) { sub(/^.*_lag/, "lag", name); sub(/h$/, "", name) }
        ourcol[name] = i
    }
    for (i = 1; i <= nref; i++)
        if (refcol[i] in ourcol) map[i] = ourcol[refcol[i]]
    next
}
NR == FNR { ref[FNR] = $0; nrows = FNR; next }
{
    n = split(ref[FNR], r, ",")
    for (i = 1; i <= nref; i++) {
        if (!(i in map)) continue
        compared[i] = 1
        a = r[i] + 0; b = $(map[i]) + 0
        if (abs(a - b) > 1e-9 * (abs(a) > 1 ? abs(a) : 1)) {
            if (bad++ < 5) printf "row %d, %s: reference %s, ours %s\n", FNR - 1, refcol[i], r[i], $(map[i])
        }
    }
    ours = FNR
}
END {
    if (ours != nrows) { printf "rows: reference %d, ours %d\n", nrows - 1, ours - 1; bad++ }
    c = 0; for (i in compared) c++
    printf "compared %d columns over %d rows: %d differences\n", c, ours - 1, bad + 0
    exit bad > 0
}
