#!/usr/bin/env python3
"""stress.py - cm-serve under stress (issue 17), loopback only, bounded in
time; the standard library alone.

    stress.py PORT SCENARIO [OPTIONS]

A request is well-formed when it is a POST of one row of MODEL's raw
fields (ROW, a JSON file).  Every scenario checks what it sends:
well-formed requests must all be answered 200 with a prediction; bad
ones with their documented code, or be cut (closed unanswered) within
the server's --timeout (TIMEOUT) and a second.  It prints one line of
figures and exits 1 when a rule was broken, naming it on stderr.

  conns N        N connections at once, one request each
  slow N         N clients sending a byte a second, while well-formed
                 requests go on beside them
  malformed      bad request lines, headers and framing, one connection each
  smuggle        conflicting Content-Length and chunked; nothing after a
                 refused request is read as another
  limits         bodies and batches at and one over --max-body and
                 --max-batch; headers under and over --max-header
  keepalive N    N requests one after another on one connection
  load SECONDS   CLIENTS keep-alive clients as fast as they can (with a
                 bad request among every 50); figures every 30 s with
                 the server's RSS (PID)
"""
import argparse
import json
import selectors
import socket
import sys
import threading
import time

A = None
BROKEN = []


def broke(msg):
    BROKEN.append(msg)
    if len(BROKEN) <= 20:
        print("stress: " + msg, file=sys.stderr)


def request(body, path=None, extra=b"", close=False):
    path = path or "/v1/models/%s/predict" % A.model
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body) +
            (b"Connection: close\r\n" if close else b"") + extra + b"\r\n" + body)


class Reader:
    """Responses from one socket, one at a time."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def response(self):
        """(status, body) of the next response; EOFError when closed."""
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        n = 0
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, body


def connect():
    s = socket.create_connection(("127.0.0.1", A.port), timeout=A.timeout + 5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def good(status, body):
    if status != 200:
        return False
    try:
        return "prediction" in json.loads(body)
    except ValueError:
        return False


def rss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return -1
    return -1


def outcome(raw):
    """What one connection sending raw gets: ('answer', status) of the
    first response, or ('cut', seconds) when closed unanswered."""
    s = connect()
    t0 = time.time()
    try:
        s.sendall(raw)
    except OSError:
        pass
    r = Reader(s)
    try:
        st, _ = r.response()
        return ("answer", st)
    except (EOFError, ConnectionResetError):
        return ("cut", time.time() - t0)
    except socket.timeout:
        return ("hang", time.time() - t0)
    finally:
        s.close()


# ---- scenarios -------------------------------------------------------------

def conns(n):
    sel = selectors.DefaultSelector()
    raw = request(A.row, close=True)
    socks = []
    t0 = time.time()
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", A.port))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, [b"", False])
    done = ok = 0
    deadline = t0 + 60
    while done < n and time.time() < deadline:
        for key, ev in sel.select(timeout=1):
            s, st = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE and not st[1]:
                try:
                    s.sendall(raw)
                except OSError as e:
                    broke("conns: send: %s" % e)
                    sel.unregister(s); done += 1
                    continue
                st[1] = True
                sel.modify(s, selectors.EVENT_READ, st)
                continue
            try:
                d = s.recv(65536)
            except OSError as e:
                d = b""
                broke("conns: recv: %s" % e)
            if d:
                st[0] += d
                continue
            sel.unregister(s)
            done += 1
            head, _, body = st[0].partition(b"\r\n\r\n")
            status = int(head.split()[1]) if head.startswith(b"HTTP/") else 0
            if good(status, body):
                ok += 1
            else:
                broke("conns: a well-formed request got %r" % st[0][:80])
    for s in socks:
        s.close()
    if done < n:
        broke("conns: %d of %d connections unanswered after 60 s" % (n - done, n))
    print("conns: %d connections at once, %d answered 200, %.1f s" % (n, ok, time.time() - t0))


def good_loop(stop, counts):
    """Well-formed requests, one connection after another, until stop."""
    raw = request(A.row)
    while not stop.is_set():
        try:
            s = connect()
            r = Reader(s)
            for _ in range(20):
                s.sendall(raw)
                st, body = r.response()
                counts[0] += 1
                if not good(st, body):
                    broke("a well-formed request beside the stress got %d %r" % (st, body[:80]))
            s.close()
        except (OSError, EOFError) as e:
            broke("a well-formed request beside the stress failed: %r" % e)
            counts[1] += 1


def slow(n):
    stop, counts = threading.Event(), [0, 0]
    g = threading.Thread(target=good_loop, args=(stop, counts))
    g.start()
    msg = request(A.row)
    socks = [connect() for _ in range(n)]
    alive = {s: 0 for s in socks}
    cut = []
    t0 = time.time()
    while alive and time.time() - t0 < A.timeout + 5:
        for s in list(alive):
            try:
                s.send(msg[alive[s]:alive[s] + 1])
                alive[s] += 1
                s.settimeout(0.001)
                if s.recv(1) == b"":
                    raise EOFError
            except socket.timeout:
                continue
            except (OSError, EOFError):
                cut.append(time.time() - t0)
                del alive[s]
        time.sleep(1)
    stop.set()
    g.join()
    for s in socks:
        s.close()
    if alive:
        broke("slow: %d of %d slow clients still connected after %.0f s" % (len(alive), n, time.time() - t0))
    if cut and max(cut) > A.timeout + 1.5:
        broke("slow: a slow client cut only after %.1f s" % max(cut))
    print("slow: %d clients at a byte a second, cut after %.1f-%.1f s (--timeout %g); "
          "%d well-formed requests beside them, all 200" %
          (n, min(cut or [0]), max(cut or [0]), A.timeout, counts[0]))


# Bad requests and what each must get: a status, or 'cut' (closed within
# the timeout and a second, answered or not).
def bad_requests():
    good_path = "/v1/models/%s/predict" % A.model
    hdr = lambda h: b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + h + b"\r\n"
    return [
        ("no request line", b"\r\n\r\n", "cut"),
        ("a bare word", b"FOO\r\n\r\n", "cut"),
        ("binary", bytes(range(256)) + b"\r\n\r\n", (400, "cut")),
        ("HTTP/2.0", b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("HTTP/9.9", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        ("a header without a colon", hdr(b"NoColon\r\n"), 400),
        # libmicrohttpd takes a value up to its NUL, as C does
        ("a NUL in a header", hdr(b"X-A: a\x00b\r\n"), (200, 400, "cut")),
        ("an unknown method", b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        ("GET with a body to predict", request(A.row).replace(b"POST", b"GET", 1), 405),
        ("a negative Content-Length", b"POST " + good_path.encode() +
         b" HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        ("a Content-Length that is not a number", b"POST " + good_path.encode() +
         b" HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400),
        ("a Content-Length of 2^64", b"POST " + good_path.encode() +
         b" HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", (400, 413)),
        ("a body shorter than its Content-Length", b"POST " + good_path.encode() +
         b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}", "cut"),
        ("a bad chunk size", b"POST " + good_path.encode() +
         b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n\r\n", 400),
        ("a path of 100 kB", b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("not JSON", request(b"{]"), 400),
        ("JSON nested 100,000 deep", request(b"[" * 100000 + b"]" * 100000), (400, 413)),
        ("a request line and nothing more", b"GET /healthz HTTP/1.1\r\n", "cut"),
    ]


def check(name, got, want):
    wants = want if isinstance(want, tuple) else (want,)
    kind, v = got
    if kind == "answer" and v in wants:
        return True
    if kind == "cut" and "cut" in wants and v <= A.timeout + 1.5:
        return True
    broke("%s: got %s %s, want %s" % (name, kind, v if kind == "answer" else "after %.1f s" % v,
                                       " or ".join(map(str, wants))))
    return False


def malformed():
    cases = bad_requests()
    ok = sum(check(name, outcome(raw), want) for name, raw, want in cases)
    print("malformed: %d kinds of bad request, %d answered as documented or cut in time" %
          (len(cases), ok))


def smuggle():
    path = ("/v1/models/%s/predict" % A.model).encode()
    inner = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
    cases = [
        ("Content-Length and chunked", b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % (5 + len(inner)) + inner, 400),
        ("chunked and Content-Length", b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + inner, 400),
        ("two Content-Lengths", b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 2\r\nContent-Length: %d\r\n\r\n{}" % (2 + len(inner)) + inner, 400),
        ("Transfer-Encoding twice", b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n" + inner, (400, 501)),
        ("a coding other than chunked", b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + inner, 501),
        ("chunked, with a space", b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked \r\nContent-Length: 3\r\n\r\n0\r\n\r\n" + inner, 400),
    ]
    ok = 0
    for name, raw, want in cases:
        s = connect()
        s.sendall(raw)
        r = Reader(s)
        try:
            st, _ = r.response()
            got = ("answer", st)
        except (EOFError, ConnectionResetError):
            got = ("cut", 0)
        # the smuggled GET must not be answered: the connection ends
        try:
            st2, _ = r.response()
            broke("%s: the request inside was answered too (%d)" % (name, st2))
            got = ("answer twice", st2)
        except (EOFError, ConnectionResetError, socket.timeout, ValueError, IndexError):
            pass
        s.close()
        ok += check(name, got, want)
    print("smuggle: %d attempts, %d refused and the connection closed" % (len(cases), ok))


def limits():
    row = json.loads(A.row)
    one = json.dumps(row).encode()
    cases = []
    # --max-body: a body of exactly that size is read (here a good row,
    # padded with spaces); one byte more is 413
    pad = A.max_body - len(one)
    cases.append(("a body of --max-body", request(one + b" " * pad), 200))
    cases.append(("a body of --max-body + 1", request(one + b" " * (pad + 1)), 413))
    batch = lambda n: ("[" + ",".join([one.decode()] * n) + "]").encode()
    if len(batch(A.max_batch)) <= A.max_body:
        cases.append(("a batch of --max-batch", request(batch(A.max_batch)), 200))
        cases.append(("a batch of --max-batch + 1", request(batch(A.max_batch + 1)), 413))
    # --max-header bounds the memory of a request's headers: half of it
    # in headers is taken, more than all of it is 431
    hdrs = lambda size: b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 90) for i in range(size // 100))
    cases.append(("headers of half --max-header", request(one, extra=hdrs(A.max_header // 2)), 200))
    cases.append(("headers over --max-header", request(one, extra=hdrs(A.max_header + 100)), 431))
    cases.append(("a header flood: 100,000 of them", request(one, extra=b"X: y\r\n" * 100000), 431))
    ok = 0
    for name, raw, want in cases:
        got = outcome(raw)
        ok += check(name, got, want)
    print("limits: %d requests at and over --max-body %d, --max-batch %d, --max-header %d: %d as documented" %
          (len(cases), A.max_body, A.max_batch, A.max_header, ok))


def keepalive(n):
    s = connect()
    r = Reader(s)
    raw = request(A.row)
    ok = 0
    t0 = time.time()
    try:
        for i in range(n):
            s.sendall(raw)
            st, body = r.response()
            if good(st, body):
                ok += 1
            else:
                broke("keepalive: request %d got %d %r" % (i + 1, st, body[:80]))
    except (OSError, EOFError) as e:
        broke("keepalive: the connection ended after %d requests: %r" % (ok, e))
    s.close()
    print("keepalive: %d requests on one connection, %d answered 200, %.1f s" % (n, ok, time.time() - t0))


def load(seconds):
    stop = threading.Event()
    lock = threading.Lock()
    lat = []
    stats = {"requests": 0, "bad": 0, "failed": 0, "reconnects": 0}
    raw = request(A.row)
    bad = request(b"{]")

    def client():
        mine, n = [], 0
        s = r = None
        while not stop.is_set():
            try:
                if s is None:
                    s = connect()
                    r = Reader(s)
                n += 1
                is_bad = n % 50 == 0
                t = time.perf_counter()
                s.sendall(bad if is_bad else raw)
                st, body = r.response()
                mine.append(time.perf_counter() - t)
                if is_bad:
                    with lock:
                        stats["bad"] += 1
                    if st != 400:
                        broke("load: a bad request got %d" % st)
                elif not good(st, body):
                    with lock:
                        stats["failed"] += 1
                    broke("load: a well-formed request got %d %r" % (st, body[:80]))
            except (OSError, EOFError) as e:
                # a connection may end only between requests (the server's
                # keep-alive rules); the request is then sent again
                with lock:
                    stats["reconnects"] += 1
                if s is not None:
                    s.close()
                s = None
                if isinstance(e, socket.timeout):
                    with lock:
                        stats["failed"] += 1
                    broke("load: no answer in %g s" % (A.timeout + 5))
        if s is not None:
            s.close()
        with lock:
            stats["requests"] += len(mine)
            lat.extend(mine)

    ts = [threading.Thread(target=client) for _ in range(A.clients)]
    for t in ts:
        t.start()
    t0 = time.time()
    rss0 = rss(A.pid) if A.pid else -1
    print("load: 0 s: RSS %d kB" % rss0, flush=True)
    next_report = 30
    while time.time() - t0 < seconds:
        time.sleep(1)
        el = time.time() - t0
        if el >= next_report:
            print("load: %d s: RSS %d kB" % (next_report, rss(A.pid) if A.pid else -1), flush=True)
            next_report += 30
    stop.set()
    for t in ts:
        t.join()
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0
    rss1 = rss(A.pid) if A.pid else -1
    if A.pid and rss1 < 0:
        broke("load: the server is gone")
    print("load: %d s, %d clients: %d requests (%.0f/s), %d of them bad (400), %d failed, "
          "%d reconnects; p50 %.2f ms, p99 %.2f ms, max %.1f ms; RSS %d kB at the start, %d kB at the end" %
          (seconds, A.clients, stats["requests"], stats["requests"] / seconds, stats["bad"],
           stats["failed"], stats["reconnects"], p(0.5), p(0.99), p(1.0) if lat else 0, rss0, rss1))


def main():
    global A
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("scenario")
    ap.add_argument("n", type=float, nargs="?", default=0)
    ap.add_argument("--model", default="bike")
    ap.add_argument("--row", required=True, help="a JSON file: one well-formed row")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--max-body", type=int, default=1 << 20)
    ap.add_argument("--max-batch", type=int, default=1000)
    ap.add_argument("--max-header", type=int, default=32 << 10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pid", type=int, default=0, help="the server's, for its RSS")
    A = ap.parse_args()
    with open(A.row, "rb") as f:
        A.row = f.read().strip()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    n = int(A.n)
    {"conns": lambda: conns(n), "slow": lambda: slow(n), "malformed": malformed,
     "smuggle": smuggle, "limits": limits, "keepalive": lambda: keepalive(n),
     "load": lambda: load(A.n)}[A.scenario]()
    if A.pid and rss(A.pid) < 0:
        broke("the server is not alive at the end")
    sys.exit(1 if BROKEN else 0)


if __name__ == "__main__":
    main()
