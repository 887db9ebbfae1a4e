"""What a worker does with one part: read it where it lives, analyse it, return rows.

The same function runs in the local process pool and on Dask workers. The model is loaded
once per worker process (``load_model`` caches it) and shared by the worker's threads.
"""

from __future__ import annotations

import os
import re
import resource
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from .. import config
from ..core import Result, analyze
from ..errors import InputError, ModelError, error_record, unexpected
from ..ids import KnownIds, already_done, text_digest
from ..spans import Article
from ..techniques import TECHNIQUE_NAMES
from .readers import Part, read_part


def slug(technique: str) -> str:
    """Column-friendly technique name: ``Name_Calling,Labeling`` -> ``name_calling_labeling``."""
    return re.sub(r"[^a-z0-9]+", "_", technique.lower()).strip("_")


SLUGS: dict[str, str] = {t: slug(t) for t in TECHNIQUE_NAMES}


@dataclass(frozen=True)
class RunSettings:
    """Everything about a run that changes its output (kept in run.json)."""

    model: str | None = None
    threshold: float | None = None
    mode: str = "reader"
    techniques: tuple[str, ...] | None = None
    max_bytes: int | None = None
    source: str | None = None
    outlet_from: str | None = None  # ``outlets``: folder, domain or field:NAME
    batch: int = 8  # articles per predictor call

    def output_config(self) -> dict[str, Any]:
        """The settings a resumed run must share with the first one."""
        return {"model": self.model, "threshold": self.threshold, "mode": self.mode,
                "techniques": list(self.techniques) if self.techniques else None,
                "max_bytes": self.max_bytes, "source": self.source,
                "outlet_from": self.outlet_from}


_LOCK = threading.Lock()
_SKIP: KnownIds = KnownIds()


def get_predictor(model: str | None):
    with _LOCK:  # Dask workers run tasks in threads: load once, not once per thread
        from ..model_io import load_model

        return load_model(model)


def init_worker(model: str | None, skip: KnownIds, threads: int | None,
                parent: int | None = None) -> None:
    """Process-pool initializer: load the model once, remember the ids already done."""
    import signal

    global _SKIP
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if threads and config.THREADS_VAR not in os.environ:  # ONNX threads: cores / workers
        os.environ[config.THREADS_VAR] = str(threads)
    _SKIP = skip
    if parent:
        _watch_parent(parent)
    try:
        get_predictor(model)
    except ModelError:  # not cached: raised again by the first part, which ends the run
        pass           # with one line instead of a traceback per worker


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed parent not yet reaped is a zombie: gone all the same
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _watch_parent(parent: int) -> None:
    """Exit when the run's main process dies (e.g. ``kill -9``) instead of idling forever.

    Pool workers are children of the forkserver, which itself lives as long as they do,
    so the worker watches the main process by its id.
    """

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if not pid_alive(parent):
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="propscope-parent-watch").start()


def month_of(date: str | None) -> str | None:
    """``YYYY-MM`` of an ISO-8601 or RFC-2822 date; None when it cannot be read."""
    if not date:
        return None
    text = date.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m")
    except ValueError:
        pass
    m = re.match(r"^(\d{4})[-/](\d{1,2})(?:\D|$)", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    try:
        return parsedate_to_datetime(text).strftime("%Y-%m")
    except (TypeError, ValueError, IndexError):
        return None


def _base_row(aid: str, where: str, art: Article | None, info: dict[str, Any],
              meta: dict[str, Any] | None = None) -> dict[str, Any]:
    known = {k: getattr(art, k) for k in ("source", "date", "title", "url")} if art else (
        meta or {})
    return {
        "id": aid, "input": where,
        "source": known.get("source"), "date": known.get("date"),
        "month": month_of(known.get("date")), "title": known.get("title"),
        "url": known.get("url"),
        "text_hash": text_digest(art.text) if art else None,
        "model_name": info.get("name"), "model_version": info.get("version"),
    }


def article_row(aid: str, where: str, result: Result, info: dict[str, Any]) -> dict[str, Any]:
    s = result.summary()
    text = result.text
    row = _base_row(aid, where, result.article, info)
    row.update({
        "chars": len(text), "words": len(text.split()),
        "sentences": s["sentences"], "flagged_sentences": s["flagged_sentences"],
        "spans": s["spans"], "propaganda_share": s["propaganda_share"],
        "warning": "; ".join(result.warnings) or None, "error": None, "error_code": None,
        "text": text,  # for the report's highlighted view of each article
    })
    for tech, col in SLUGS.items():
        t = s["techniques"].get(tech, {"count": 0, "share": 0.0})
        row[f"n_{col}"] = t["count"]
        row[f"share_{col}"] = t["share"]
    return row


def error_row(aid: str, where: str, art: Article | None, error: Exception,
              info: dict[str, Any]) -> dict[str, Any]:
    """An article's row holding its error (``errors.error_record``: the row's ``id`` and
    ``input`` with ``error_code`` and ``error``, the message)."""
    row = _base_row(aid, where, art, info, getattr(error, "meta", None))
    err = error if isinstance(error, InputError) else unexpected(error, "analysis failed",
                                                                 where, aid)
    record = error_record(err, article_id=aid, where=where)
    row.update({"chars": len(art.text) if art else None,
                "words": len(art.text.split()) if art else None,
                "error": record["message"], "error_code": record["code"]})
    return row


def span_rows(aid: str, result: Result) -> list[dict[str, Any]]:
    """Rows of the spans table, with voice, speaker and targets (``store.span_rows``)."""
    from .store import span_rows as rows  # store imports this module: imported here

    return rows(aid, result)


def analyse_part(part: Part, settings: RunSettings, skip: KnownIds | None = None
                 ) -> dict[str, Any]:
    """Read and analyse one part; return its article rows, span rows and worker facts."""
    t0 = time.perf_counter()
    skip = _SKIP if skip is None else skip
    predictor = get_predictor(settings.model)
    info = dict(predictor.info)
    articles: list[dict[str, Any]] = []
    spans: list[dict[str, Any]] = []
    todo: list[tuple[str, str, Article]] = []

    def analyse(arts: list[Article]) -> list[Result]:
        return analyze(arts, predictor=predictor, threshold=settings.threshold,
                       techniques=settings.techniques, mode=settings.mode)

    def run(batch: list[tuple[str, str, Article]]) -> None:
        try:
            results = analyse([a for _, _, a in batch])
            pairs: list[tuple[tuple[str, str, Article], Result | Exception]] = list(
                zip(batch, results, strict=True))
        except Exception:  # find the bad article: one by one
            pairs = []
            for item in batch:
                try:
                    pairs.append((item, analyse([item[2]])[0]))
                except Exception as e:  # any failure of one article is its error row
                    pairs.append((item, e))
        for (aid, where, art), res in pairs:
            if isinstance(res, Exception):
                articles.append(error_row(aid, where, art, res, info))
            else:
                articles.append(article_row(aid, where, res, info))
                spans.extend({**s, "row": len(articles) - 1} for s in span_rows(aid, res))

    for aid, where, item in read_part(part, settings.max_bytes, settings.source,
                                      settings.outlet_from):
        if already_done(skip, aid, text_digest(item.text) if isinstance(item, Article) else None):
            continue  # a resumed run holds it; repeats are for the run's IdRegistry to settle
        if isinstance(item, InputError):
            articles.append(error_row(aid, where, None, item, info))
            continue
        todo.append((aid, where, item))
        if len(todo) >= settings.batch:
            run(todo)
            todo = []
    if todo:
        run(todo)
    return {"key": part.key, "articles": articles, "spans": spans, "model": info,
            "seconds": time.perf_counter() - t0, "pid": os.getpid(),
            "host": os.uname().nodename,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
