"""``run_batch``: analyse a corpus into Parquet tables, resumably.

Plan the parts, skip those already written, analyse the rest on an engine, and write each
finished part atomically. Re-running with the same output folder finishes what is missing
and retries the articles whose row is an error (``RunStore.failed``): their parts are read
again, and their new rows replace the error rows. An article analysed already is never
analysed again, and every id has one row.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ModelError, PropscopeError, error_record
from ..ids import IdRegistry, KnownIds, check_policy
from .engines import make_engine
from .outlets import field_of, parse_outlet_from
from .readers import ParquetStreamer, Part, describe, parts_reading, plan
from .store import RunStore
from .work import SLUGS, RunSettings

ProgressFn = Callable[[int, int, str], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_model(model: str | None) -> None:
    """Fail before starting workers when the model is missing or any file of it is broken."""
    from ..model_io import check_model

    check_model(model)


#: Articles per part when none is given: a worker finishes one in a few seconds with the
#: shipped model (2-3 articles/s per core), so progress moves and an interruption loses little.
AUTO_PART_SIZE = 16
#: ... and small corpora are cut finer, into about this many parts per worker.
PARTS_PER_WORKER = 4


def _plan(inputs: list[str], part_size: int | None, engine: str, workers: int | None,
          out: Path | None = None) -> tuple[list[Part], int]:
    """The parts of ``inputs`` and their size: ``part_size``, or one that gives every worker
    work (the same inputs and workers give the same cut, which resuming relies on). Files
    under ``out``, the run's own folder, are never inputs."""
    if part_size is not None:
        return plan(inputs, part_size, out), part_size
    parts = plan(inputs, AUTO_PART_SIZE, out)
    n_workers = max(1, workers if workers is not None else
                    (os.cpu_count() or 1) if engine == "local" else 4)
    articles = sum(p.size for p in parts)
    size = max(1, min(AUTO_PART_SIZE, -(-articles // (PARTS_PER_WORKER * n_workers))))
    return (parts if size == AUTO_PART_SIZE else plan(inputs, size, out)), size


def _check_same_config(prior: dict[str, Any] | None, settings: RunSettings, out: str) -> None:
    if not prior:
        return
    before = prior.get("config", {}).get("output", {})
    now = settings.output_config()
    diff = [k for k in now if before.get(k) != now[k]]
    if diff:
        k = diff[0]
        raise PropscopeError(f"holds a run with {k} {before.get(k)!r}, not {now[k]!r}; resume "
                             "with the same settings or choose a new --out folder", where=out)


class _Terminate:
    """Turn SIGTERM into KeyboardInterrupt while a run is going (main thread only)."""

    def __enter__(self) -> None:
        self.old = None
        if threading.current_thread() is threading.main_thread():
            def handler(signum, frame):  # noqa: ARG001
                raise KeyboardInterrupt

            self.old = signal.signal(signal.SIGTERM, handler)

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


#: Where a run's results go: the store, the run's id registry, the session's record and the
#: manifest.
Sink = tuple[RunStore, IdRegistry, dict[str, Any], dict[str, Any]]


def run_batch(
    inputs: Sequence[str],
    out: str | Path,
    *,
    model: str | None = None,
    engine: str = "local",
    workers: int | None = None,
    scheduler: Any = None,
    threshold: float | None = None,
    mode: str = "reader",
    techniques: Sequence[str] | None = None,
    part_size: int | None = None,
    max_bytes: int | None = None,
    source: str | None = None,
    outlet_from: str | None = None,
    on_duplicate: str = "error",
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Analyse every article of ``inputs`` into ``out``; returns this session's summary.

    ``scheduler`` is a Dask scheduler address (or a ``distributed.Client``) for
    ``engine="dask"``. The returned dict has this session's counts (``analysed``,
    ``errors``, ``spans``, ``seconds``, ...) and ``totals`` over the whole folder.
    ``on_duplicate`` settles an id repeated with other text (``propscope.ids``):
    ``error``, ``rename`` or ``skip``; identical repeats are counted in ``duplicates``.
    ``outlet_from`` says where an article's outlet comes from (``outlets``: ``folder``,
    ``domain`` or ``field:NAME``; by default its own source, else ``source``, else a file's
    folder name).
    """
    t0 = time.perf_counter()
    started = _now()
    settings = _settings(model, threshold, mode, techniques, max_bytes, source, outlet_from,
                         on_duplicate)
    model = settings.model
    out = str(out)
    store = RunStore(out)
    prior = store.read_manifest() if store.root.is_dir() else None
    _check_same_config(prior, settings, out)
    _check_model(model)
    parts, part_size = _plan(list(inputs), part_size, engine, workers, Path(out))
    store.open()
    done_keys = store.done_keys()
    # parts done before that hold an article to retry: by the part file its error row is
    # in, and by where it was read (the input may be cut differently now)
    retry = {name[len("part-"):-len(".parquet")] for name, _ in store.failed.values()}
    reading = parts_reading(parts, {where for _, where in store.failed.values() if where})
    store.failed_at = {aid: reading[where] for aid, (_, where) in store.failed.items()
                       if where in reading}
    retry.update(store.failed_at.values())
    todo = [p for p in parts if p.key not in done_keys or p.key in retry]
    hashes = store.done_hashes() if done_keys else None
    skip = KnownIds({aid: h for aid, h in hashes.items() if aid not in store.failed}
                    if hashes else None)
    session = _new_session(started, engine, workers, part_size, len(parts),
                           len(parts) - len(todo), on_duplicate)
    manifest = _new_manifest(out, list(inputs), parts, prior, settings, {
        "engine": engine, "workers": workers,
        "scheduler": scheduler if isinstance(scheduler, str) else None,
        "part_size": part_size, "on_duplicate": on_duplicate})
    eng = make_engine(engine, settings, skip, workers, scheduler) if todo else None
    status, totals = _execute(eng, todo, (store, IdRegistry(on_duplicate, known=skip), session,
                                          manifest), settings, len(parts), t0, progress)
    return {**session, "out": out, "status": status, "totals": totals}


def _execute(eng: Any, todo: list[Part], sinks: Sink, settings: RunSettings, n_parts: int,
             t0: float, progress: ProgressFn | None) -> tuple[str, dict[str, int]]:
    """Analyse the parts ``todo`` with ``eng`` (None when nothing is left to do) into the
    store; the run's status and the folder's totals. Whatever happens (an interrupt, a
    failure), the manifest ends saying how the run ended."""
    store, _registry, session, manifest = sinks
    _start(eng, store, session, manifest)
    status = "interrupted"
    try:
        with _Terminate():
            if eng is not None:
                field = field_of(settings.outlet_from)
                streamer = ParquetStreamer((field,) if field else ())
                _analyse(eng, (streamer.load(p) for p in todo), sum(p.size for p in todo),
                         sinks, progress)
            status = "complete" if session["parts_failed"] == 0 else "incomplete"
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        status = "failed"
        manifest["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        session["failures"].append(manifest["error"])
        raise
    finally:
        if eng is not None:
            eng.close(cancel=status in ("interrupted", "failed"))
        totals = _finish(store, manifest, session, status, n_parts, time.perf_counter() - t0)
    return status, totals


def _settings(model: str | None, threshold: float | None, mode: str,
              techniques: Sequence[str] | None, max_bytes: int | None, source: str | None,
              outlet_from: str | None, on_duplicate: str) -> RunSettings:
    """The workers' settings, checked; a model folder's path made absolute (workers may
    run elsewhere, in another working folder)."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise PropscopeError(f"--threshold must be between 0 and 1, got {threshold}")
    check_policy(on_duplicate)
    if model and model != "keywords" and Path(model).exists():
        model = str(Path(model).resolve())
    return RunSettings(model=model, threshold=threshold, mode=mode,
                    techniques=tuple(techniques) if techniques else None,
                    max_bytes=max_bytes, source=source,
                    outlet_from=parse_outlet_from(outlet_from))


def _new_session(started: str, engine: str, workers: int | None, part_size: int,
                 planned: int, skipped: int, on_duplicate: str) -> dict[str, Any]:
    """This session's record in the manifest, its counts at zero."""
    return {
        "started": started, "engine": engine, "workers": workers, "part_size": part_size,
        "parts_planned": planned, "parts_skipped": skipped,
        "parts_written": 0, "parts_failed": 0, "articles": 0, "analysed": 0, "errors": 0,
        "spans": 0, "duplicates": 0, "id_conflicts": 0, "on_duplicate": on_duplicate,
        "retried": 0,  # articles whose error row from an earlier session was retried
        "failures": [], "worker_peak_rss_mb": {},
        "pid": os.getpid(), "host": os.uname().nodename,  # a dead pid: "interrupted"
    }


def _new_manifest(out: str, inputs: list[str], parts: list[Part], prior: dict[str, Any] | None,
                  settings: RunSettings, run_config: dict[str, Any]) -> dict[str, Any]:
    """The run's manifest as it starts (``run_config``: engine, workers, scheduler, part
    size, duplicate policy)."""
    return {
        "propscope_version": _version(),
        "status": "running",
        "out": os.path.abspath(out),
        "inputs": inputs,
        "input_files": describe(parts),
        "model": (prior or {}).get("model"),
        "config": {"output": settings.output_config(), **run_config},
        "techniques": SLUGS,
        "counts": {},
        "timings": {},
        "sessions": list((prior or {}).get("sessions", [])),
    }


def _start(eng: Any, store: RunStore, session: dict[str, Any], manifest: dict[str, Any]
           ) -> None:
    """Record the session as started (with the engine's number of workers); the engine is
    closed if that fails."""
    if eng is not None:
        session["workers"] = eng.workers
    try:
        store.write_manifest({**manifest, "sessions": manifest["sessions"] + [session]})
    except BaseException:
        if eng is not None:
            eng.close(cancel=True)
        raise


def _analyse(eng: Any, parts: Iterable[Part], total: int, sink: Sink,
             progress: ProgressFn | None) -> None:
    """Run the parts on the engine and write each as it comes back (``sink``: the store,
    the run's id registry, session and manifest); a model that fails to load ends the run."""
    store, registry, session, manifest = sink
    done = 0
    for part, result in eng.run(parts):
        done += part.size
        if isinstance(result, ModelError):
            raise result
        if isinstance(result, BaseException):
            _record_failure(session, part, result)
        else:
            _write(store, part, result, registry, session, manifest)
        if progress:
            progress(done, total, f"{session['errors']} errors")


def _finish(store: RunStore, manifest: dict[str, Any], session: dict[str, Any], status: str,
            n_parts: int, seconds: float) -> dict[str, Any]:
    """Close the session and the store with the final manifest; returns the folder's totals."""
    session.update({"finished": _now(), "seconds": round(seconds, 3),
                    "articles_per_s": round(session["articles"] / seconds, 3)
                    if seconds > 0 else None, "status": status})
    totals = store.totals()
    manifest.update({
        "status": status, "counts": {**totals, "parts_planned": n_parts},
        "timings": {"first_started": (manifest["sessions"] or [session])[0]["started"],
                    "last_finished": session["finished"],
                    "seconds": round(sum(s.get("seconds") or 0 for s in
                                         manifest["sessions"]) + seconds, 3)},
        "sessions": manifest["sessions"] + [session],
    })
    store.write_manifest(manifest)
    store.close()
    return totals


def _record_failure(session: dict[str, Any], part: Part, error: BaseException) -> None:
    session["parts_failed"] += 1
    where = part.path or (part.files[0] if part.files else "?")
    msg = str(error).splitlines()[0] if str(error) else type(error).__name__
    if len(session["failures"]) < 20:
        session["failures"].append(f"{where}: part not analysed ({type(error).__name__}: "
                                   f"{msg}); it is retried when the run is resumed")


def _settle(result: dict[str, Any], registry: IdRegistry, session: dict[str, Any]
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A part's rows and spans after the run's id policy (``propscope.ids``): identical
    repeats and skipped conflicts left out, renamed ones renamed, refused ones error rows."""
    rows, ids = [], {}
    for k, row in enumerate(result["articles"]):
        adm = registry.admit(row["id"], row["input"], row.get("text_hash"))
        session["duplicates"] += adm.action == "identical"
        session["id_conflicts"] += adm.action in ("skip", "rename", "error")
        if adm.action in ("identical", "skip"):
            continue
        if adm.action == "error" and not row["error"]:
            record = error_record(adm.error, article_id=row["id"], where=row["input"])
            row = {**{c: row.get(c) for c in _KEPT_WHEN_REFUSED}, "error": record["message"],
                   "error_code": record["code"]}
        rows.append({**row, "id": adm.id})
        ids[k] = adm.id
    spans = [{**s, "article_id": ids[s["row"]]} for s in result["spans"] if s["row"] in ids]
    return rows, spans


#: What an article refused for its repeated id keeps of its row (the rest is empty).
_KEPT_WHEN_REFUSED = ("input", "source", "date", "month", "title", "url", "model_name",
                      "model_version", "chars", "words", "text_hash")


def _write(store: RunStore, part: Part, result: dict[str, Any], registry: IdRegistry,
           session: dict[str, Any], manifest: dict[str, Any]) -> None:
    rows, spans = _settle(result, registry, session)
    session["retried"] += sum(1 for r in rows if r["id"] in store.failed)
    # failed articles this part read where they were, which it no longer gives
    gone = {aid for aid, key in store.failed_at.items() if key == part.key
            and aid in store.failed} - {r["id"] for r in [*rows, *result["articles"]]}
    store.write_part(part.key, rows, spans, gone)
    errors = sum(1 for r in rows if r["error"])
    session["parts_written"] += 1
    session["articles"] += len(rows)
    session["errors"] += errors
    session["analysed"] += len(rows) - errors
    session["spans"] += len(spans)
    worker = f"{result.get('host', '')}:{result['pid']}"
    peaks = session["worker_peak_rss_mb"]
    peaks[worker] = round(max(peaks.get(worker, 0), result["peak_rss_mb"]), 1)
    if manifest["model"] is None and result.get("model"):
        manifest["model"] = result["model"]


def _version() -> str:
    from .. import __version__

    return __version__


def summary_line(s: dict[str, Any]) -> str:
    """One line for the end of a run: articles, spans, errors, time."""
    rate = s["articles"] / s["seconds"] if s["seconds"] else 0.0
    extra = []
    if s["parts_skipped"]:
        extra.append(f"{s['parts_skipped']} parts already done")
    if s.get("retried"):
        extra.append(f"{s['retried']} earlier errors retried")
    if s["duplicates"]:
        extra.append(f"{s['duplicates']} identical repeats (same id and text) left out")
    if s.get("id_conflicts"):
        extra.append(f"{s['id_conflicts']} ids repeated with other text ("
                     + {"error": "error rows", "rename": "renamed ID~N", "skip": "skipped"}[
                         s.get("on_duplicate", "error")] + ")")
    if s["parts_failed"]:
        extra.append(f"{s['parts_failed']} parts failed (rerun to retry)")
    t = s["totals"]
    return (f"batch {s['status']}: {s['articles']:,} articles ({s['analysed']:,} analysed, "
            f"{s['errors']:,} errors), {s['spans']:,} spans in {s['seconds']:.1f}s "
            f"({rate:.1f} articles/s)" + (f"; {', '.join(extra)}" if extra else "")
            + f"; {s['out']} now holds {t['articles']:,} articles, {t['spans']:,} spans")
