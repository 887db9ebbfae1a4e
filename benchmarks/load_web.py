"""Bounded load check of ``propscope serve`` on loopback (a script, not a test).

N concurrent clients send a fixed number of ``POST /api/v1/analyze`` requests (each one
saved to SQLite, as in normal use) while a prober polls ``/healthz``. Reports requests/s,
p50/p95/max latency, errors by status, /healthz latency while busy, and the server's
resident memory after warm-up and at the end (to spot growth over many analyses).

    python benchmarks/load_web.py [--model keywords|PATH] [--requests 1000] [--clients 8]
    python benchmarks/load_web.py --url http://127.0.0.1:8000   # a server already running

With ``--hostile`` the polite clients run three times: alone (quiet), beside hostile
clients, and alone again. The hostile clients each keep one request in flight and ignore
Retry-After: ``--near-limit`` of them alternate a body just under the server's byte limit
with a text just under its character limit and wait for the answer; ``--hang-up`` of them
send 150,000 characters and hang up after ``--hang-after`` seconds unless answered sooner.
It reports the polite p95 beside hostile clients against the quiet one (the aim: within
2x) and what the hostile requests got.

    python benchmarks/load_web.py --hostile --model PATH --requests 300 --clients 4

Without --url it starts its own server (``propscope serve``) on a free loopback port with
a temporary database, and stops it at the end. Only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def rss_kib(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def start_server(model: str, workers: int, queue: int, db: str,
                 extra: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "propscope.cli.main", "serve", "--port", str(port),
         "--model", model, "--db", db, "--workers", str(workers), "--queue", str(queue),
         "--log-level", "warning", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("the server did not start:\n" + proc.stderr.read().decode())
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("the server did not answer /healthz within 120 s")


class Client(threading.Thread):
    """One keep-alive connection sending requests until the shared budget is spent."""

    def __init__(self, host: str, port: int, body: bytes, budget: Budget) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.body, self.budget = host, port, body, budget
        self.latencies: list[float] = []
        self.sent = 0
        self.statuses: Counter[str] = Counter()

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        headers = {"Content-Type": "application/json"}
        while self.budget.take():
            t0 = time.perf_counter()
            try:
                # a distinct text per request, so no cache can answer instead of the model
                self.sent += 1
                body = self.body[:-2] + f' [{self.name} {self.sent}]'.encode() + self.body[-2:]
                conn.request("POST", "/api/v1/analyze", body, headers)
                resp = conn.getresponse()
                resp.read()
                self.statuses[str(resp.status)] += 1
                if resp.status == 200:
                    self.latencies.append(time.perf_counter() - t0)
            except (OSError, http.client.HTTPException) as e:
                self.statuses[type(e).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        conn.close()


class Budget:
    def __init__(self, n: int) -> None:
        self.left, self.lock = n, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


class Prober(threading.Thread):
    """Polls /healthz every ``every`` seconds while the load runs."""

    def __init__(self, url: str, every: float) -> None:
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.latencies: list[float] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=10) as r:
                    r.read()
                    ok = r.status == 200
            except OSError:
                ok = False
            if ok:
                self.latencies.append(time.perf_counter() - t0)
            else:
                self.failures += 1
            self.stop.wait(self.every)


def raw_request(host: str, port: int, body: bytes, timeout: float) -> tuple[socket.socket, str]:
    """Send one analysis request on a fresh connection; return the socket and the status
    line's code, or "" when no answer came within ``timeout`` (the socket stays open)."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"POST /api/v1/analyze HTTP/1.1\r\nHost: load\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    s.settimeout(timeout)
    try:
        head = s.recv(64)
    except TimeoutError:
        return s, ""
    parts = head.split()
    return s, parts[1].decode() if len(parts) > 1 else "closed"


class Hostile(threading.Thread):
    """One hostile client: sends its bodies in turn, one request in flight, until stopped.

    ``hang_after`` None: wait for every answer; else hang up after that many seconds.
    """

    def __init__(self, host: str, port: int, bodies: list[bytes],
                 hang_after: float | None, wait: float) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.bodies = host, port, bodies
        self.hang_after, self.wait = hang_after, wait
        self.statuses: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        k = 0
        while not self.stop.is_set():
            body = self.bodies[k % len(self.bodies)]
            k += 1
            try:
                s, status = raw_request(self.host, self.port, body,
                                        self.hang_after or self.wait)
                s.close()
            except OSError as e:
                status = type(e).__name__
            self.statuses[status or "hung up"] += 1
            self.stop.wait(0.1)  # a hostile client, not a flood: that is the proxy's to stop


def text_body(chars: int) -> bytes:
    words = "The outrageous plan of the so-called experts failed again. "
    return json.dumps({"text": (words * (chars // len(words) + 1))[:chars]}).encode()


def start_hostile(url: str, near: int, hang: int, hang_after: float, limits: dict[str, int],
                  deadline: float) -> list[Hostile]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    # just under the byte limit (so over the character limit), just under the character limit
    near_bodies = [text_body(limits["max_bytes"] - 1024), text_body(int(limits["max_chars"] * .95))]
    hang_body = text_body(150_000)
    clients = ([Hostile(host, port, near_bodies, None, deadline + 30) for _ in range(near)]
               + [Hostile(host, port, [hang_body], hang_after, hang_after) for _ in range(hang)])
    for c in clients:
        c.start()
    return clients



def run_load(url: str, body: bytes, requests: int, clients: int) -> tuple[list[Client], float]:
    parts = urlsplit(url)
    budget = Budget(requests)
    workers = [Client(parts.hostname or "127.0.0.1", parts.port or 80, body, budget)
               for _ in range(clients)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return workers, time.perf_counter() - t0


def summarise(clients: list[Client], elapsed: float) -> dict[str, Any]:
    lat = [x for c in clients for x in c.latencies]
    statuses: Counter[str] = sum((c.statuses for c in clients), Counter())
    n = sum(statuses.values())
    return {
        "requests": n, "seconds": round(elapsed, 2),
        "requests_per_s": round(n / elapsed, 1) if elapsed else None,
        "p50_ms": round(1000 * percentile(lat, 0.50), 1),
        "p95_ms": round(1000 * percentile(lat, 0.95), 1),
        "max_ms": round(1000 * max(lat), 1) if lat else None,
        "errors": sum(k for s, k in statuses.items() if s != "200"),
        "statuses": dict(statuses),
    }


def hostile_phases(url: str, body: bytes, args: argparse.Namespace,
                   limits: dict[str, Any]) -> dict[str, Any]:
    """Polite clients alone, beside hostile ones, and alone again."""
    quiet = [run_load(url, body, args.requests, args.clients)]
    hostile = start_hostile(url, args.near_limit, args.hang_up, args.hang_after, limits,
                            limits["deadline"])
    time.sleep(2)  # let the hostile clients get going
    loud = run_load(url, body, args.requests, args.clients)
    for h in hostile:
        h.stop.set()
    for h in hostile:
        h.join(limits["deadline"] + 60)
    quiet.append(run_load(url, body, args.requests, args.clients))
    calm = summarise([c for q, _ in quiet for c in q], sum(t for _, t in quiet))
    busy = summarise(*loud)
    got: Counter[str] = Counter()
    for h in hostile:
        got.update({f"{'hang-up' if h.hang_after else 'near-limit'} {s}": n
                    for s, n in h.statuses.items()})
    return {"quiet": calm, "hostile": busy, "hostile_requests": dict(sorted(got.items())),
            "p95_ratio": round(busy["p95_ms"] / calm["p95_ms"], 2),
            "near_limit_clients": args.near_limit, "hang_up_clients": args.hang_up,
            "hang_after_s": args.hang_after}


def server_limits(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_bytes": args.max_bytes, "max_chars": args.max_chars,
            "deadline": args.deadline}


def print_hostile(out: dict[str, Any]) -> None:
    q, h = out["quiet"], out["hostile"]
    print(f"model {out['model']}: {out['clients']} polite clients, article of "
          f"{out['article_chars']} characters, {out['cpus']} CPUs; limits {out['limits']}")
    for name, r in (("quiet (alone, before and after)", q), ("beside hostile clients", h)):
        print(f"  {name}: {r['requests']} requests, {r['requests_per_s']} requests/s, p50 "
              f"{r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms, "
              f"statuses {r['statuses']}")
    print(f"  polite p95 beside hostile clients / quiet: {out['p95_ratio']}")
    print(f"  hostile requests ({out['near_limit_clients']} near-limit, "
          f"{out['hang_up_clients']} hanging up after {out['hang_after_s']} s): "
          f"{out['hostile_requests']}")
    print(f"  server queue at the end: {out['queue']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="an already running server on loopback (default: start one)")
    ap.add_argument("--model", default="keywords", help="model for the server this starts")
    ap.add_argument("--requests", type=int, default=1000, help="analyses to send (max 100000)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (max 64)")
    ap.add_argument("--warmup", type=int, default=20, help="requests before measuring")
    ap.add_argument("--workers", type=int, default=1, help="server analysis workers")
    ap.add_argument("--queue", type=int, default=16, help="server queue (>= clients: no 429)")
    ap.add_argument("--article", help="text file to send (default: the bundled example)")
    ap.add_argument("--hostile", action="store_true",
                    help="measure polite clients alone and beside hostile ones")
    ap.add_argument("--near-limit", type=int, default=2, help="near-limit hostile clients")
    ap.add_argument("--hang-up", type=int, default=2, help="hostile clients that hang up")
    ap.add_argument("--hang-after", type=float, default=1.5, help="seconds before hanging up")
    ap.add_argument("--max-bytes", type=int, default=1024 * 1024, help="server --max-bytes")
    ap.add_argument("--max-chars", type=int, default=200_000, help="server --max-chars")
    ap.add_argument("--deadline", type=float, default=60.0, help="server --deadline")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.clients <= 64):
        sys.exit("--requests must be 1..100000 and --clients 1..64")
    if not (0 <= args.near_limit <= 16 and 0 <= args.hang_up <= 16):
        sys.exit("--near-limit and --hang-up must be 0..16")

    from propscope.config import EXAMPLES_DIR

    text = Path(args.article or EXAMPLES_DIR / "example.txt").read_text(encoding="utf-8")
    body = json.dumps({"text": text}).encode()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="propscope-load-")
    if args.url:
        if urlsplit(args.url).hostname not in LOOPBACK:
            sys.exit("only loopback servers (127.0.0.1, localhost, ::1) are load-tested")
        url = args.url.rstrip("/")
    else:
        extra = ["--max-bytes", str(args.max_bytes), "--max-chars", str(args.max_chars),
                 "--deadline", str(args.deadline)]
        proc, url = start_server(args.model, args.workers, args.queue,
                                 os.path.join(tmp.name, "load.sqlite3"), extra)
    try:
        run_load(url, body, args.warmup, min(args.clients, args.warmup))
        rss_start = rss_kib(proc.pid if proc else None)
        prober = Prober(url, 0.1)
        prober.start()
        if args.hostile:
            phases = hostile_phases(url, body, args, server_limits(args))
        else:
            clients, elapsed = run_load(url, body, args.requests, args.clients)
        prober.stop.set()
        prober.join()
        rss_end = rss_kib(proc.pid if proc else None)
        with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
            health = json.load(r)
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)
        tmp.cleanup()

    common = {
        "model": health.get("model", {}).get("name"), "clients": args.clients,
        "healthz_probes": len(prober.latencies), "healthz_failures": prober.failures,
        "healthz_p95_ms": round(1000 * percentile(prober.latencies, 0.95), 1),
        "healthz_max_ms": round(1000 * max(prober.latencies), 1) if prober.latencies else None,
        "server_rss_mib_after_warmup": round(rss_start / 1024, 1) if rss_start else None,
        "server_rss_mib_at_end": round(rss_end / 1024, 1) if rss_end else None,
        "article_chars": len(text), "cpus": os.cpu_count(),
    }
    if args.hostile:
        out = {**common, **phases, "limits": server_limits(args), "queue": health["queue"]}
        print(json.dumps(out, indent=2)) if args.json else print_hostile(out)
        if out["p95_ratio"] > 2 or out["hostile"]["errors"] or out["quiet"]["errors"]:
            sys.exit(1)
        return
    out = {**common, **summarise(clients, elapsed)}
    errors, statuses = out["errors"], out["statuses"]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"model {out['model']}: {args.requests} analyses, {args.clients} clients, "
          f"article of {len(text)} characters, {out['cpus']} CPUs")
    print(f"  {out['requests_per_s']} requests/s over {out['seconds']} s; latency p50 "
          f"{out['p50_ms']} ms, p95 {out['p95_ms']} ms, max {out['max_ms']} ms")
    print(f"  errors: {errors} (statuses {statuses})")
    print(f"  /healthz while busy: {len(prober.latencies)} probes, {prober.failures} failed, "
          f"p95 {out['healthz_p95_ms']} ms, max {out['healthz_max_ms']} ms")
    if rss_start and rss_end:
        print(f"  server memory (RSS): {out['server_rss_mib_after_warmup']} MiB after warm-up, "
              f"{out['server_rss_mib_at_end']} MiB at the end")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
