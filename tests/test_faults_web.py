"""The web app's time and cost budget: characters in flight, deadlines, clients that leave,
and hostile clients beside a polite one. A slow fake predictor (a fixed sleep per 500
characters, each a checkpoint like a real encoder call) keeps the timings deterministic."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
import httpx  # noqa: E402
import uvicorn  # noqa: E402

from propscope.predictors.keywords import KeywordPredictor  # noqa: E402
from propscope.web import WebSettings, create_app  # noqa: E402
from propscope.web.jobs import JobCancelled, JobQueue, install_checkpoints  # noqa: E402

API = "/api/v1"
CHUNK = 500


class SlowPredictor:
    """Keyword rules, after one "encoder call" (a sleep) per 500 characters."""

    info = {"name": "slow", "version": "test"}

    def __init__(self, per_call: float = 0.01) -> None:
        self.per_call = per_call
        self.calls = 0
        self.started: list[str] = []
        self.finished: list[str] = []
        self.runner = self._call

    def _call(self) -> None:
        self.calls += 1
        time.sleep(self.per_call)

    def predict(self, texts, **options):
        for t in texts:
            self.started.append(t.split()[0])
            for _ in range(0, len(t), CHUNK):
                self.runner()
            self.finished.append(t.split()[0])
        return KeywordPredictor().predict(texts, **options)


def big(tag: str, chars: int) -> str:
    return (tag + " radical filler text " * (chars // 20 + 1))[:chars]


def run_async(scenario, timeout: float = 20):
    return asyncio.run(asyncio.wait_for(scenario(), timeout=timeout))


async def wait_until(condition, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.01)


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                             timeout=30)


async def post_then_leave(app, text: str, leave_after: float) -> list[dict]:
    """Call the app directly, as a client that hangs up ``leave_after`` seconds in."""
    body = json.dumps({"text": text}).encode()
    gone = asyncio.Event()
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        if not gone.is_set():
            await gone.wait()
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": f"{API}/analyze",
             "raw_path": f"{API}/analyze".encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 5000), "server": ("t", 80)}
    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.sleep(leave_after)
    gone.set()
    await task
    return sent


# ---------------------------------------------------------------- the queue itself


def test_admission_by_characters_ahead():
    jobs = JobQueue(workers=1, queue_size=8, max_chars=1000)
    gate = threading.Event()
    far = time.monotonic() + 30
    assert jobs.try_submit(gate.wait, 600, far) is not None
    # a longer job would wait for the 600 in flight: 1,100 characters, over the budget
    assert jobs.try_submit(lambda: 1, 500 + 100, far) is None
    # a shorter one runs first (the 600 waits for it), so only its own 500 count
    b = jobs.try_submit(lambda: 2, 500, far)
    assert b is not None and jobs.chars_in_flight == 1100
    # ahead of 450: nothing shorter in flight; ahead of 550: the 500
    assert jobs.try_submit(lambda: 3, 450, far) is not None
    assert jobs.try_submit(lambda: 4, 550, far) is None
    assert jobs.stats()["rejected"] == 2
    gate.set()
    assert b.future.result(5) == 2
    deadline = time.monotonic() + 5
    while jobs.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jobs.chars_in_flight == 0
    assert jobs.try_submit(lambda: 5, 1000, far).future.result(5) == 5


def test_cancelled_or_expired_work_never_starts():
    jobs = JobQueue(workers=1, queue_size=8, max_chars=10_000)
    gate = threading.Event()
    ran: list[str] = []
    far = time.monotonic() + 30
    blocker = jobs.try_submit(gate.wait, 10, far)
    left = jobs.try_submit(lambda: ran.append("left"), 10, far)
    soon = jobs.try_submit(lambda: ran.append("late"), 10, time.monotonic() + 0.1)
    kept = jobs.try_submit(lambda: ran.append("kept"), 10, far)
    jobs.cancel(left, "client_gone")
    with pytest.raises(JobCancelled) as gone:
        left.future.result(5)  # at once, though the worker is still busy
    assert gone.value.reason == "client_gone"
    with pytest.raises(JobCancelled) as late:
        soon.future.result(5)
    assert late.value.reason == "deadline"
    gate.set()
    kept.future.result(5)
    blocker.future.result(5)
    assert ran == ["kept"]
    stats = jobs.stats()
    assert (stats["cancelled"], stats["expired"], stats["done"]) == (1, 1, 2)


def test_a_cheaper_job_goes_first_and_a_running_one_stops_when_cancelled():
    slow = SlowPredictor(per_call=0.01)
    assert install_checkpoints(slow) == 1 and install_checkpoints(slow) == 0
    jobs = JobQueue(workers=1, queue_size=8, max_chars=1_000_000)
    far = time.monotonic() + 30
    long_text = big("LONG", 200 * CHUNK)  # 200 calls: 2 s alone
    long_job = jobs.try_submit(lambda: slow.predict([long_text]), len(long_text), far)
    while slow.calls < 5:
        time.sleep(0.005)
    t0 = time.monotonic()
    short = jobs.try_submit(lambda: slow.predict(["SHORT radical"]), 13, far)
    short.future.result(5)
    assert time.monotonic() - t0 < 0.5  # it did not wait for the long one
    assert slow.finished == ["SHORT"]
    jobs.cancel(long_job, "client_gone")
    with pytest.raises(JobCancelled):
        long_job.future.result(2)
    assert slow.calls < 150 and "LONG" not in slow.finished


# ---------------------------------------------------------------- through the API


def test_deadline_answers_503_and_stops_the_work(tmp_path):
    slow = SlowPredictor(per_call=0.01)
    app = create_app(WebSettings(db=":memory:", deadline=0.5), predictor=slow)

    async def scenario():
        async with client_for(app) as c:
            t0 = time.monotonic()
            r = await c.post(f"{API}/analyze", json={"text": big("LONG", 300 * CHUNK)})
            elapsed = time.monotonic() - t0
            await wait_until(lambda: app.state.jobs.in_flight == 0, 2)
            after = await c.post(f"{API}/analyze", json={"text": "a radical idea"})
        return r, elapsed, after

    r, elapsed, after = run_async(scenario)
    assert r.status_code == 503 and r.json()["code"] == "deadline_exceeded"
    assert "0.5 s" in r.json()["message"] and int(r.headers["retry-after"]) >= 1
    assert 0.4 < elapsed < 1.5
    assert slow.calls < 150  # stopped at a checkpoint, not run for 3 s
    assert app.state.jobs.stats()["expired"] == 1
    assert after.status_code == 200


def test_queued_work_of_a_client_that_left_never_runs():
    slow = SlowPredictor(per_call=0.01)
    app = create_app(WebSettings(db=":memory:"), predictor=slow)

    async def scenario():
        async with client_for(app) as c:
            first = asyncio.create_task(
                c.post(f"{API}/analyze", json={"text": big("FIRST", 60 * CHUNK)}))
            await wait_until(lambda: slow.calls > 0)
            # queued behind FIRST (it is longer), then its client hangs up
            sent = await post_then_leave(app, big("LEAVER", 100 * CHUNK), leave_after=0.1)
            done = await first
        return sent, done

    sent, done = run_async(scenario)
    assert done.status_code == 200
    assert sent[0]["status"] == 499  # nobody reads it
    assert "LEAVER" not in slow.started
    assert app.state.jobs.stats()["cancelled"] == 1 and app.state.jobs.in_flight == 0


def test_running_work_of_a_client_that_left_stops():
    slow = SlowPredictor(per_call=0.01)
    app = create_app(WebSettings(db=":memory:"), predictor=slow)

    async def scenario():
        t0 = time.monotonic()
        await post_then_leave(app, big("LEAVER", 300 * CHUNK), leave_after=0.2)
        await wait_until(lambda: app.state.jobs.in_flight == 0, 2)
        return time.monotonic() - t0

    elapsed = run_async(scenario)
    assert elapsed < 1.0 and slow.calls < 100  # 300 calls (3 s) if it had run on
    assert slow.started == ["LEAVER"] and slow.finished == []


# ---------------------------------------------------------------- hostile clients, real server


class Server:
    """The app on uvicorn on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def raw_post(port: int, text: str) -> socket.socket:
    """Send a whole analysis request and return the open socket (the caller may leave)."""
    body = json.dumps({"text": text}).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /api/v1/analyze HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return s


def test_hostile_clients_do_not_hold_up_a_polite_one():
    slow = SlowPredictor(per_call=0.01)  # 150,000 characters: 3 s of work
    app = create_app(WebSettings(db=":memory:"), predictor=slow)  # 200,000 characters, 1 MiB
    with Server(app) as srv:
        stayers = [raw_post(srv.port, big(f"STAY{k}", 190_000)) for k in range(2)]
        hostile = [raw_post(srv.port, big(f"HANG{k}", 150_000)) for k in range(9)]
        huge = raw_post(srv.port, big("HUGE", 900_000))  # under max_bytes, over max_chars
        time.sleep(0.3)
        for s in hostile:
            s.close()  # hang up, as the clients did after 1.5 s
        time.sleep(0.3)
        latencies, statuses = [], []
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=30) as c:
            for k in range(10):
                t0 = time.monotonic()
                r = c.post(f"{API}/analyze", json={"text": f"Polite {k}: a radical plan."})
                latencies.append(time.monotonic() - t0)
                statuses.append(r.status_code)
            health = c.get("/healthz").json()["queue"]
        assert huge.recv(100).startswith(b"HTTP/1.1 413")
        for s in [*stayers, huge]:
            s.close()
    assert statuses == [200] * 10
    assert max(latencies) < 1.0, latencies  # one hostile analysis alone takes 3 s
    assert health["cancelled"] >= 1  # the admitted hang-ups' work was dropped
    assert not any(t.startswith("HANG") for t in slow.finished)
