"""The analyses behind the API: one article or a batch, run through the job queue with a
character budget, a deadline, and cancellation when the client leaves."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from .. import __version__
from ..core import Result, analyze
from ..errors import PropscopeError, error_record
from ..fetch import fetch_article
from ..ids import IdRegistry, text_digest
from ..inputs import html_to_text
from ..spans import Article
from .confidence import confidence_level, model_facts, public_model_info, reader_threshold
from .errors import ApiError
from .jobs import Job, JobCancelled, JobQueue
from .schemas import AnalyzeRequest
from .storage import AnalysisStore, content_id, now

log = logging.getLogger("propscope.web")

#: How often a waiting request checks whether its client is still there (seconds).
POLL_S = 0.2
#: Pages fetched at once for ``url`` requests (each within ``fetch.TIMEOUT_S``).
FETCHES = 4


class ClientGone(Exception):
    """The client disconnected before its analysis was done."""


@dataclass
class Limits:
    max_chars: int  # characters in flight (running and waiting) at most
    deadline_s: float  # seconds a request may take, from when its body was read


class Analyser:
    def __init__(self, predictor: Any, store: AnalysisStore, jobs: JobQueue, limits: Limits,
                 profile: str | None = None) -> None:
        self.predictor, self.store, self.jobs, self.limits = predictor, store, jobs, limits
        self.model = model_facts(predictor, profile)
        self.reader_threshold = reader_threshold(predictor)
        #: whether ``url`` requests may reach private and loopback addresses (serve sets it)
        self.allow_private = False
        self.fetcher: Callable[..., Article] = fetch_article  # tests swap in a stand-in
        self._fetching = asyncio.Semaphore(FETCHES)

    # ---- in a job thread

    def _request_key(self, req: AnalyzeRequest) -> dict[str, Any]:
        """What an analysis depends on: the text, the settings and the model."""
        page = req._page if isinstance(req._page, Article) else None
        return {"text": req.text, "html": req.html, "id": req.id, "title": req.title,
                "url": req.url, "page": page.to_dict() if page else None,
                "threshold": req.threshold, "techniques": req.techniques, "mode": req.mode,
                "model": self.model, "propscope_version": __version__}

    def _saved(self, aid: str) -> dict[str, Any] | None:
        try:
            return self.store.get(aid)
        except (sqlite3.Error, OSError) as e:
            log.error("propscope: cannot read saved analyses: %s", e)
            return None

    def analyse_one(self, req: AnalyzeRequest) -> dict[str, Any]:
        """The analysis of one article. Its id is a hash of the text, the settings and the
        model, so the same request gets the same permalink; a saved one is reused."""
        aid = content_id(self._request_key(req))
        if req.save and (saved := self._saved(aid)) is not None:
            return saved
        if req.url is not None:
            if not isinstance(req._page, Article):
                raise req._page or PropscopeError("the page was not fetched")
            art = req._page
            art.id, art.title = req.id or aid, req.title or art.title
        elif req.html is not None:
            text, title = html_to_text(req.html, where="html")
            art = Article(id=req.id or aid, text=text, title=req.title or title,
                          meta={"extracted_from": "html"})
        else:
            art = Article(id=req.id or aid, text=req.text or "", title=req.title)
        result = analyze(art, predictor=self.predictor, threshold=req.threshold,
                         techniques=req.techniques, mode=req.mode)
        assert isinstance(result, Result)
        data: dict[str, Any] = {"id": aid, "created": now(), **result.to_dict(),
                                "request": {"threshold": req.threshold,
                                            "techniques": req.techniques, "mode": req.mode},
                                "reader_threshold": self.reader_threshold,
                                "propscope_version": __version__}
        for span in data["spans"]:
            span["confidence"] = confidence_level(span["score"])
        data["model"] = {**public_model_info(data.get("model")), **self.model}
        data["id"] = self._save(aid, data) if req.save else None
        return data

    def _save(self, aid: str, data: dict[str, Any]) -> str | None:
        try:
            self.store.save(aid, data)
        except (sqlite3.Error, OSError) as e:
            log.error("propscope: could not save analysis %s: %s", aid, e)
            data["warnings"] = [*data["warnings"], "this analysis could not be saved, "
                                "so it has no permalink"]
            return None
        return aid

    def analyse_many(self, reqs: list[AnalyzeRequest]) -> list[dict[str, Any]]:
        """One result per article, in order; a failure is that article's ``{"error"}``."""
        out: list[dict[str, Any]] = []
        registry = IdRegistry("skip")
        first: dict[str, int] = {}
        for k, req in enumerate(reqs):
            if req.id is None:
                out.append(self._isolated(req, k))
                continue
            admission = registry.admit(req.id, f"articles.{k}", text_digest(req.body))
            if admission.action == "keep":
                first[req.id] = k
                out.append(self._isolated(req, k))
            elif admission.action == "identical":
                out.append(self._repeat(out[first[req.id]], first[req.id]))
            else:  # same id, other text: the first keeps the id, this one is an error
                out.append({"error": error_record(admission.error, article_id=req.id,
                                                  where=f"articles.{k}")})
        return out

    def _isolated(self, req: AnalyzeRequest, k: int) -> dict[str, Any]:
        try:
            return self.analyse_one(req)
        except JobCancelled:
            raise
        except PropscopeError as e:
            return {"error": error_record(e, article_id=req.id, where=f"articles.{k}")}
        except Exception as e:  # a bug must not sink the other articles
            log.exception("propscope: internal error on batch article %d", k)
            return {"error": error_record(
                e, article_id=req.id, where=f"articles.{k}",
                message="this article could not be analysed; see the server's log")}

    @staticmethod
    def _repeat(data: dict[str, Any], k: int) -> dict[str, Any]:
        if "error" in data:
            return data
        note = f"the same id and text as articles.{k}; its analysis is repeated here"
        return {**data, "warnings": [*data["warnings"], note]}

    # ---- in the event loop

    async def fetch_pages(self, reqs: list[AnalyzeRequest]) -> None:
        """Fetch the page of every ``url`` request (before admission, so that the
        character budget counts its text); a failure is kept as that request's error."""
        await asyncio.gather(*(self._fetch(req) for req in reqs if req.url is not None))

    async def _fetch(self, req: AnalyzeRequest) -> None:
        async with self._fetching:
            try:
                req._page = await asyncio.to_thread(self.fetcher, req.url,
                                                    allow_private=self.allow_private)
            except PropscopeError as e:
                req._page = e

    def check_size(self, cost: int) -> None:
        if cost > self.limits.max_chars:
            raise ApiError(413, "too_long",
                           f"the text has {cost:,} characters; this server analyses at most "
                           f"{self.limits.max_chars:,} characters at a time")

    async def run(self, request: Request, fn: Callable[[], Any], cost: int) -> Any:
        """Run ``fn`` as a job: 429 when the budget is spent, 503 past the deadline, and
        the job cancelled as soon as the client is gone or the deadline has passed."""
        self.check_size(cost)
        deadline = time.monotonic() + self.limits.deadline_s
        job = self.jobs.try_submit(fn, cost, deadline)
        if job is None:
            raise ApiError(429, "busy", "the server has as much work in flight as it accepts; "
                           "retry in a moment",
                           headers={"Retry-After": str(self.jobs.retry_after(cost))})
        try:
            return await self._wait(request, job)
        finally:
            self.jobs.cancel(job, "abandoned")  # a no-op when the job is done

    async def _wait(self, request: Request, job: Job) -> Any:
        fut = asyncio.wrap_future(job.future)
        fut.add_done_callback(_consume)
        while True:
            left = job.deadline - time.monotonic()
            done, _ = await asyncio.wait({fut}, timeout=max(0.0, min(POLL_S, left)))
            if done:
                return self._outcome(fut, job.cost)
            if left <= 0:
                self.jobs.cancel(job, "deadline")
                raise self._too_slow(job.cost)
            if await request.is_disconnected():
                self.jobs.cancel(job, "client_gone")
                raise ClientGone

    def _outcome(self, fut: asyncio.Future, cost: int) -> Any:
        try:
            return fut.result()
        except JobCancelled as e:
            if e.reason == "deadline":
                raise self._too_slow(cost) from None
            raise ApiError(503, "shutting_down", "the server is shutting down; retry in a "
                           "moment", headers={"Retry-After": "5"}) from None
        except PropscopeError as e:
            raise ApiError(422, e.code, str(e)) from None

    def _too_slow(self, cost: int) -> ApiError:
        return ApiError(503, "deadline_exceeded",
                        f"the analysis did not finish within this server's limit of "
                        f"{self.limits.deadline_s:g} s (it is busy, or the text is long); "
                        "retry later or send a shorter text",
                        headers={"Retry-After": str(self.jobs.retry_after(cost))})


def _consume(fut: asyncio.Future) -> None:
    """Retrieve an abandoned job's exception, so asyncio does not log it as unhandled."""
    if not fut.cancelled():
        fut.exception()
