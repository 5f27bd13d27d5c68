# common.sh - the start of every benchmark script, sourced, not run:
#   B BIN     the build directory and the binaries (make bench sets them)
#   PY        the Python of the peers, Debian's, with its packages
#   shared    ../shared beside the checkout: peers in bench/, data in data/
#   tmp       a scratch directory, removed at the end however it ends
#   need FILE...   skips the benchmark (exit 0) unless every FILE exists
#   median CMD...  seconds, the median of RUNS (default 20) whole-process
#                  runs of CMD after one to warm up, standard output dropped
set -eu
B=${B:-build}
BIN=${BIN:-bin}
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
shared="$here/../../../shared"
bench=$(basename "$0" .sh)
need() {
    for f; do
        [ -e "$f" ] || { echo "$bench.sh: $f missing; skipped"; exit 0; }
    done
}
tmp=${TMPDIR:-/tmp}/cm-bench-$bench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM

# repeat SRC FILE MB: the rows of the CSV SRC again and again, to MB of CSV
repeat() {
    reps=$(( $3 * 1000000 / $(wc -c < "$1") + 1 ))
    { head -1 "$1"; i=0; while [ $i -lt $reps ]; do tail -n +2 "$1"; i=$((i + 1)); done; } > "$2"
}

# series SRC FILE MB: the bike CSV SRC repeated to MB, each copy 731 days
# later, with the time as epoch seconds (column t) so it keeps increasing
series() {
    reps=$(( $3 * 1000000 / $(wc -c < "$1") + 1 ))
    awk -F, -v OFS=, -v reps="$reps" '
        function days(y, m, d) { y -= m <= 2; era = int((y >= 0 ? y : y - 399) / 400)
            yoe = y - era * 400; doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
            return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468 }
        NR == 1 { print "t," $0; next }
        { split($2, p, "-"); e[++n] = (days(p[1] + 0, p[2] + 0, p[3] + 0) * 24 + $6) * 3600; row[n] = $0 }
        END { for (k = 0; k < reps; k++) for (i = 1; i <= n; i++)
                  printf "%.0f,%s\n", e[i] + k * 731 * 86400, row[i] }' "$1" > "$2"
}

# peers_blas: a line saying which BLAS and thread pools numpy, scikit-learn
# and torch loaded (threadpoolctl), to print beside a script's ratios; a
# warning first when Debian's libopenblas0-pthread is missing, since the
# peers would then run on the reference BLAS, as no user's numpy does.
peers_blas() {
    dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'install ok installed' ||
        echo "$bench.sh: libopenblas0-pthread is not installed: the peers use the reference BLAS (apt-get install libopenblas0-pthread)"
    $PY - <<'PYEOF' 2>/dev/null || echo "peers' BLAS: not told (python3-threadpoolctl missing)"
import importlib, threadpoolctl
for m in ("numpy", "sklearn", "torch"):
    try:
        importlib.import_module(m)
    except ImportError:
        pass
pools = []
for i in threadpoolctl.threadpool_info():
    name = " ".join(x for x in (i["internal_api"], i.get("version"),
                                 i.get("architecture") and "(%s)" % i["architecture"]) if x)
    pools.append("%s, %d thread%s" % (name, i["num_threads"], "" if i["num_threads"] == 1 else "s"))
try:
    import torch
    n = torch.get_num_threads()
    pools.append("torch, %d thread%s" % (n, "" if n == 1 else "s"))
except ImportError:
    pass
print("peers' BLAS and thread pools: " + "; ".join(pools))
PYEOF
}

median() {
    $PY - "${RUNS:-20}" "$@" <<'PYEOF'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
t = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    t.append(time.perf_counter() - t0)
t.sort()
print("%.6f" % t[len(t) // 2])
PYEOF
}
