"""A bounded, budgeted, cancellable pool for CPU-bound analyses.

Admission (``try_submit`` never blocks; None means answer 429):

- at most ``workers + queue_size`` jobs in flight (running, paused or waiting), and
- at most ``max_chars`` characters of text *ahead of* the new job, its own included:
  the text of every job in flight that runs before it (those no longer than it). So
  the work a request may wait for is bounded, while a long article in flight (which
  runs only when nothing shorter waits) does not shut shorter ones out with 429s.
  Every job in flight counts towards a longer one, so two near-limit articles are
  never in flight together.

Scheduling: ``workers`` jobs hold a worker slot at once; among the jobs waiting for a
slot the cheapest (fewest characters, then oldest) goes first. A running job reaches a
*checkpoint* before every encoder call (see ``install_checkpoints``); there it stops if
it was cancelled or ran past its deadline, and it yields its slot to a cheaper waiting
job, resuming when no cheaper one waits. So a short article waits for at most one
encoder call of a long one, and a long one only runs on capacity nobody shorter wants.

Cancellation (``cancel``): a job that has not started never starts; a running one stops
at its next checkpoint. Predictors without checkpoints (say the keyword test rules) run
to the end, but their result is dropped. Every job runs in its own thread, so a paused
job keeps its state; threads that hold no slot wait on a condition and use no CPU.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

#: Seconds per character assumed for Retry-After before any analysis has finished.
DEFAULT_SECONDS_PER_CHAR = 1e-4


class JobCancelled(Exception):
    """Raised inside a job (and delivered to its waiter) once it has been cancelled."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "deadline", "client_gone", "abandoned" or "shutdown"


@dataclass(eq=False)
class Job:
    fn: Callable[[], Any]
    cost: int  # characters of text
    deadline: float  # time.monotonic() after which the job must not run
    seq: int
    future: Future = field(default_factory=Future)
    cancelled: str | None = None
    busy_s: float = 0.0  # time spent holding a worker slot
    _since: float | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.cost, self.seq)


_current = threading.local()


def checkpoint() -> None:
    """Stop the calling job if it was cancelled; let a cheaper waiting job go first.

    A no-op outside a job, so a predictor with checkpoints installed works anywhere.
    """
    queue: JobQueue | None = getattr(_current, "queue", None)
    if queue is not None:
        queue._checkpoint(_current.job)


class _Checkpointed:
    """An encoder runner that passes a checkpoint before every call."""

    def __init__(self, runner: Callable[..., Any]) -> None:
        self.runner = runner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        checkpoint()
        return self.runner(*args, **kwargs)


def install_checkpoints(predictor: Any) -> int:
    """Wrap the encoder runner(s) of a neural predictor (and of an ensemble's members) so
    that every encoder call is a checkpoint. Returns how many runners were wrapped; a
    predictor without a runner is left alone (its jobs cannot be stopped midway)."""
    from ..predictors.encoding import window_encoders

    encoder = getattr(predictor, "encoder", None)
    wrapped = 0
    for p in (predictor, *(window_encoders(encoder) if encoder is not None else ())):
        runner = getattr(p, "runner", None)
        if callable(runner) and not isinstance(runner, _Checkpointed):
            p.runner = _Checkpointed(runner)
            wrapped += 1
    return wrapped


class JobQueue:
    def __init__(self, workers: int = 1, queue_size: int = 8,
                 max_chars: int = 200_000) -> None:
        if workers < 1 or queue_size < 0 or max_chars < 1:
            raise ValueError("workers and max_chars must be >= 1 and queue_size >= 0")
        self.workers, self.max_chars = workers, max_chars
        self.capacity = workers + queue_size
        self._cond = threading.Condition()
        self._jobs: set[Job] = set()  # admitted and not finished
        self._waiting: set[Job] = set()  # want a worker slot (not started, or paused)
        self._running: set[Job] = set()  # hold a worker slot
        self._chars = 0
        self._seq = itertools.count()
        self._seconds_per_char: float | None = None
        self.done = self.rejected = self.cancelled = self.expired = 0

    # ---- admission

    def try_submit(self, fn: Callable[[], Any], cost: int, deadline: float) -> Job | None:
        """Admit ``fn`` (its text has ``cost`` characters) or return None when full."""
        with self._cond:
            if len(self._jobs) >= self.capacity or self._ahead(cost) + cost > self.max_chars:
                self.rejected += 1
                return None
            job = Job(fn, cost, deadline, next(self._seq))
            self._jobs.add(job)
            self._chars += cost
        threading.Thread(target=self._run, args=(job,), daemon=True,
                         name=f"propscope-analyze-{job.seq}").start()
        return job

    def cancel(self, job: Job, reason: str) -> None:
        """Stop ``job``: never start it, or stop it at its next checkpoint."""
        with self._cond:
            if job.cancelled is None and not job.future.done():
                job.cancelled = reason
                self._cond.notify_all()

    def _ahead(self, cost: int) -> int:
        """Characters in flight that would run before a new job of ``cost`` (with the lock)."""
        return sum(j.cost for j in self._jobs if j.cost <= cost)

    def retry_after(self, cost: int = 0) -> int:
        """Seconds until the work ahead of a job of ``cost`` characters is likely done (for
        Retry-After), 1 to 60."""
        with self._cond:
            per_char = self._seconds_per_char or DEFAULT_SECONDS_PER_CHAR
            seconds = (self._ahead(cost) + cost) * per_char / self.workers
        return max(1, min(60, math.ceil(seconds)))

    # ---- the job's thread

    def _run(self, job: Job) -> None:
        _current.queue, _current.job = self, job
        result: Any = None
        error: Exception | None = None
        try:
            self._acquire(job)
            result = job.fn()
        except Exception as e:  # delivered to whoever waits for the job
            error = e
        finally:
            _current.queue = _current.job = None
            # the job leaves the books before its waiter hears, so a client that sends its
            # next request at once never finds its previous one still in flight
            self._finish(job, error.reason if isinstance(error, JobCancelled) else None)
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    def _finish(self, job: Job, stopped: str | None) -> None:
        with self._cond:
            self._stop_clock(job)
            self._running.discard(job)
            self._waiting.discard(job)
            self._jobs.discard(job)
            self._chars -= job.cost
            if stopped == "deadline":
                self.expired += 1
            elif stopped:
                self.cancelled += 1
            else:
                self.done += 1
                self._learn(job)
            self._cond.notify_all()

    def _learn(self, job: Job) -> None:
        if job.cost > 0 and job.busy_s > 0:
            rate = job.busy_s / job.cost
            old = self._seconds_per_char
            self._seconds_per_char = rate if old is None else 0.8 * old + 0.2 * rate

    # ---- slots (called with or without the lock, as named)

    def _raise_if_cancelled(self, job: Job) -> None:
        if job.cancelled is None and time.monotonic() >= job.deadline:
            job.cancelled = "deadline"
        if job.cancelled is not None:
            raise JobCancelled(job.cancelled)

    def _my_turn(self, job: Job) -> bool:
        return (len(self._running) < self.workers
                and job is min(self._waiting, key=lambda j: j.key))

    def _acquire(self, job: Job) -> None:
        """Wait (with the lock) until ``job`` may hold a slot; raise if it is cancelled."""
        with self._cond:
            self._waiting.add(job)
            try:
                while True:
                    self._raise_if_cancelled(job)
                    if self._my_turn(job):
                        break
                    self._cond.wait(max(0.001, job.deadline - time.monotonic()))
            finally:
                self._waiting.discard(job)
            self._running.add(job)
            job._since = time.perf_counter()

    def _stop_clock(self, job: Job) -> None:
        if job._since is not None:
            job.busy_s += time.perf_counter() - job._since
            job._since = None

    def _checkpoint(self, job: Job) -> None:
        with self._cond:
            self._raise_if_cancelled(job)
            cheaper = [j for j in self._waiting if j.key < job.key]
            if not cheaper or len(self._running) < self.workers:
                return
            self._stop_clock(job)
            self._running.discard(job)
            self._cond.notify_all()
        self._acquire(job)

    # ---- state

    @property
    def in_flight(self) -> int:
        with self._cond:
            return len(self._jobs)

    @property
    def chars_in_flight(self) -> int:
        with self._cond:
            return self._chars

    def stats(self) -> dict[str, int]:
        with self._cond:
            running = len(self._running)
            return {"workers": self.workers, "capacity": self.capacity,
                    "running": running, "waiting": len(self._jobs) - running,
                    "chars_in_flight": self._chars, "max_chars": self.max_chars,
                    "done": self.done, "rejected": self.rejected,
                    "cancelled": self.cancelled, "expired": self.expired}

    def shutdown(self) -> None:
        """Cancel everything in flight (the server stops taking requests first)."""
        with self._cond:
            for job in self._jobs:
                if job.cancelled is None:
                    job.cancelled = "shutdown"
            self._cond.notify_all()
