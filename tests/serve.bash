# cm-serve in the background for a bats file (cm-serve.bats,
# serve-stress.bats): serve starts it on a free port, teardown stops it
# and the request loops a test started (their PIDs in BG_PIDS).

# Stops what the test started, by PID: the request loops, then the server
# (SIGTERM, then SIGKILL when it has not ended in 5 s).
teardown() {
    local p i
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    BG_PIDS=()
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$SERVE_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    SERVE_PID=
    return 0
}

# Starts `cm-serve ARGS -p 0` in the background, its stderr in serve.err,
# and waits for its line `listening on http://127.0.0.1:PORT (N models)`;
# sets SERVE_PID, PORT and URL.
serve() {
    : >serve.err # before the background job: it may open it later
    cm-serve "$@" -p 0 </dev/null >serve.out 2>serve.err 3>&- &
    SERVE_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        PORT=$(sed -n 's|^cm-serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\) ([0-9]* models*)$|\1|p' serve.err)
        [ -n "$PORT" ] && break
        if ! kill -0 "$SERVE_PID" 2>/dev/null; then
            echo "cm-serve $* ended before listening:" >&2
            cat serve.err >&2
            return 1
        fi
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        echo "cm-serve $*: no listening line in 10 s:" >&2
        cat serve.err >&2
        return 1
    fi
    URL=http://127.0.0.1:$PORT
}
