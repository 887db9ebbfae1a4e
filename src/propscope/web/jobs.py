"""A bounded pool for CPU-bound analyses: a few worker threads and a short queue.

``try_submit`` never blocks: when every worker is busy and the queue is full it returns
None and the caller answers 429, so a burst of requests cannot pile up unbounded work
or memory. Everything else (pages, /healthz, saved analyses) stays responsive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class JobQueue:
    def __init__(self, workers: int = 1, queue_size: int = 8) -> None:
        if workers < 1 or queue_size < 0:
            raise ValueError("workers must be >= 1 and queue_size >= 0")
        self.workers = workers
        self.capacity = workers + queue_size
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="propscope-analyze")
        self._lock = threading.Lock()
        self._in_flight = 0
        self.done = 0
        self.rejected = 0

    def try_submit(self, fn: Callable[..., Any], *args: Any) -> Future | None:
        with self._lock:
            if self._in_flight >= self.capacity:
                self.rejected += 1
                return None
            self._in_flight += 1
        try:
            future = self._pool.submit(fn, *args)
        except RuntimeError:  # pool shut down
            self._release(None)
            return None
        future.add_done_callback(self._release)
        return future

    def _release(self, _future: Future | None) -> None:
        with self._lock:
            self._in_flight -= 1
            self.done += 1 if _future is not None else 0

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def stats(self) -> dict[str, int]:
        n = self.in_flight
        return {"workers": self.workers, "capacity": self.capacity,
                "running": min(n, self.workers), "waiting": max(0, n - self.workers),
                "done": self.done, "rejected": self.rejected}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
