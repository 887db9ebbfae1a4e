"""Progress display for long work (training, evaluation, batch runs): rate and ETA on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """Call ``update(done, total)``; prints at most every ``every`` seconds, and at the end."""

    def __init__(self, label: str, every: float = 2.0, stream=None) -> None:
        self.label = label
        self.every = every
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self.last = 0.0
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        spent = now - self.t0
        rate = done / spent if spent > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        line = (f"{self.label}: {done}/{total} ({100 * done / max(1, total):.0f}%) "
                f"{rate:.2f}/s, {spent:.0f}s spent, ETA {eta:.0f}s {note}").rstrip()
        end = "\n" if (done >= total or not self.tty) else "\r"
        print(line, end=end, file=self.stream, flush=True)
