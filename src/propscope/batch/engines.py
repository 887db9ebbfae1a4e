"""Where parts are analysed: in this process, in a local process pool, or on a Dask cluster.

An engine takes an iterator of parts and yields ``(part, result | exception)`` as parts
finish, keeping only a few parts in flight (so memory stays flat and an interruption
loses little). ``close(cancel=True)`` stops at once, dropping work in flight.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import PropscopeError
from ..ids import KnownIds
from .readers import Part
from .work import RunSettings, analyse_part, init_worker

Outcome = tuple[Part, dict[str, Any] | BaseException]


class InlineEngine:
    """``--workers 0``: analyse in this process (debugging, tiny runs)."""

    name = "inline"

    def __init__(self, settings: RunSettings, skip: KnownIds) -> None:
        self.settings, self.skip = settings, skip
        self.workers = 0

    def run(self, parts: Iterable[Part]) -> Iterator[Outcome]:
        for part in parts:
            try:
                result: dict[str, Any] | BaseException = analyse_part(part, self.settings,
                                                                      self.skip)
            except Exception as e:  # a part that cannot be read is retried on the next run
                result = e
            yield part, result

    def close(self, cancel: bool = False) -> None:
        pass


class LocalEngine:
    """``--engine local``: a pool of worker processes, each loading the model once."""

    name = "local"

    def __init__(self, settings: RunSettings, skip: KnownIds, workers: int) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.settings, self.workers = settings, workers
        threads = max(1, (os.cpu_count() or 1) // workers)
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context("forkserver"),
            initializer=init_worker, initargs=(settings.model, skip, threads, os.getpid()))
        self.slots = 2 * workers

    def run(self, parts: Iterable[Part]) -> Iterator[Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        todo = iter(parts)
        pending: dict[Any, Part] = {}
        more = True
        while True:
            while more and len(pending) < self.slots:
                part = next(todo, None)
                if part is None:
                    more = False
                    break
                pending[self.pool.submit(analyse_part, part, self.settings)] = part
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                part = pending.pop(fut)
                try:
                    result: dict[str, Any] | BaseException = fut.result()
                except BrokenProcessPool:
                    raise PropscopeError(
                        "a worker process died (killed, or out of memory); "
                        "run the same command again to resume") from None
                except Exception as e:
                    result = e
                yield part, result

    def close(self, cancel: bool = False) -> None:
        if not cancel:
            self.pool.shutdown(wait=True)
            return
        procs = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # drop the work in flight now rather than wait for it
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)


class DaskEngine:
    """``--engine dask --scheduler ADDRESS``: parts run as tasks on a Dask cluster.

    Workers read their part from the input paths (which they must see at the same path),
    load the model once per worker process, and send back only the result rows; this
    process writes the part files.
    """

    name = "dask"

    def __init__(self, settings: RunSettings, skip: KnownIds, scheduler: Any) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise PropscopeError("the dask engine needs Dask: pip install 'propscope[dask]'"
                                 ) from None
        if not scheduler:
            raise PropscopeError("--engine dask needs --scheduler ADDRESS "
                                 "(e.g. tcp://10.0.0.5:8786)")
        self.settings = settings
        if isinstance(scheduler, Client):
            self.client, self.own = scheduler, False
        else:
            try:
                import dask

                # how long to try: Dask's connect timeout (distributed.comm.timeouts.connect)
                self.client = Client(
                    scheduler, timeout=dask.config.get("distributed.comm.timeouts.connect"))
            except (OSError, TimeoutError) as e:
                raise PropscopeError(f"cannot reach the Dask scheduler ({e})",
                                     where=str(scheduler)) from None
            self.own = True
        threads = sum(self.client.nthreads().values())
        self.workers = len(self.client.nthreads())
        self.slots = max(2, 2 * threads)
        self.skip = self.client.scatter(skip, broadcast=True) if skip else KnownIds()
        self.futures: dict[Any, Part] = {}

    def run(self, parts: Iterable[Part]) -> Iterator[Outcome]:
        from distributed import as_completed

        todo = iter(parts)
        ac = as_completed()

        def submit() -> bool:
            part = next(todo, None)
            if part is None:
                return False
            fut = self.client.submit(analyse_part, part, self.settings, self.skip, pure=False,
                                     key=f"propscope-part-{part.key}-{os.urandom(4).hex()}")
            self.futures[fut] = part
            ac.add(fut)
            return True

        for _ in range(self.slots):
            if not submit():
                break
        for fut in ac:
            part = self.futures.pop(fut)
            try:
                result: dict[str, Any] | BaseException = fut.result()
            except Exception as e:
                result = e
            fut.release()
            yield part, result
            submit()

    def close(self, cancel: bool = False) -> None:
        if self.futures:
            self.client.cancel(list(self.futures))
            self.futures.clear()
        if self.own:
            self.client.close()


def make_engine(name: str, settings: RunSettings, skip: KnownIds, workers: int | None,
                scheduler: Any = None):
    if name == "dask":
        return DaskEngine(settings, skip, scheduler)
    if name != "local":
        raise PropscopeError(f"unknown engine {name!r}; choose local or dask")
    n = (os.cpu_count() or 1) if workers is None else workers
    if n < 0:
        raise PropscopeError(f"--workers must be 0 or more, got {n}")
    return InlineEngine(settings, skip) if n == 0 else LocalEngine(settings, skip, n)
