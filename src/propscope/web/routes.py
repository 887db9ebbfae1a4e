"""The REST API (``/api/v1``), ``/healthz`` and the pages. Handlers find what they need on
``request.app.state`` (set up by ``create_app``): ``settings``, ``analyser``, ``store``,
``jobs``, ``predictor``, ``model_error`` and the page templates."""

from __future__ import annotations

import sqlite3
from functools import partial
from html import escape
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .. import __version__
from ..core import Result
from ..errors import PropscopeError
from ..render.html import render_html
from ..techniques import TECHNIQUE_LIST
from .confidence import page_config
from .errors import ApiError, log
from .schemas import (
    ANALYZE_ERRORS,
    API,
    REPORT_ERRORS,
    SAVED_ERRORS,
    AnalysisOut,
    AnalyzeRequest,
    BatchOut,
    BatchRequest,
    ConfigOut,
)
from .service import Analyser
from .storage import ID_RE

#: Content-Security-Policy of the app's pages: only the app's own scripts and styles.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
#: The downloadable report has inline CSS and must never run a script.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"

api = APIRouter(prefix=API)
service = APIRouter()
pages = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _analyser(request: Request) -> Analyser:
    if request.app.state.predictor is None:
        raise ApiError(503, "model_unavailable",
                       f"the model could not be loaded, so no analysis is possible "
                       f"({request.app.state.model_error})")
    return request.app.state.analyser


def _with_links(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    if "error" in data:
        return data
    aid = data.get("id")
    return {"id": aid, "permalink": f"{_root(request)}/a/{aid}" if aid else None, **data}


# ---------------------------------------------------------------- analyses


@api.post("/analyze", response_model=AnalysisOut, responses=ANALYZE_ERRORS,
          tags=["analysis"], summary="Analyse one article")
async def analyze_endpoint(body: AnalyzeRequest, request: Request) -> JSONResponse:
    """Find propaganda spans in one article. The analysis is saved (unless
    `"save": false`) and gets a permalink `/a/{id}`. Work is admitted by length: 413
    when the text alone is over the server's character limit, 429 (with `Retry-After`)
    while other work fills it, 503 when the analysis misses the server's deadline."""
    analyser = _analyser(request)
    await analyser.fetch_pages([body])
    if isinstance(body._page, PropscopeError):
        raise ApiError(422, body._page.code, str(body._page))
    data = await analyser.run(request, partial(analyser.analyse_one, body), body.cost)
    return JSONResponse(_with_links(request, data))


@api.post("/analyze/batch", response_model=BatchOut, responses=ANALYZE_ERRORS,
          tags=["analysis"], summary="Analyse several articles")
async def batch_endpoint(body: BatchRequest, request: Request) -> JSONResponse:
    """Up to the server's `max_batch` articles (default 16) in one call; their lengths
    count together against its character limit. Results come in the same order; an
    article that cannot be analysed (say, HTML without article text) gives
    `{"error": {"id", "code", "message", "input"}}` in its place (`input`: its position,
    `articles.N`), and never fails the others. Articles
    with the same `id` must have the same text: a later one with other text gets the
    error `duplicate_id` naming both positions; a later one with the same text gets the
    first one's analysis again."""
    max_batch = request.app.state.settings.max_batch
    if len(body.articles) > max_batch:
        raise ApiError(422, "too_many_articles",
                       f"articles: at most {max_batch} in one batch, got {len(body.articles)}")
    analyser = _analyser(request)
    await analyser.fetch_pages(body.articles)
    cost = sum(a.cost for a in body.articles)
    items = await analyser.run(request, partial(analyser.analyse_many, body.articles), cost)
    return JSONResponse({"results": [_with_links(request, d) for d in items]})


@api.get("/techniques", tags=["reference"], summary="The 14 techniques")
def techniques_endpoint() -> dict[str, Any]:
    """Name, label, definition, example and highlight colour of every technique."""
    return {"techniques": [t.to_dict() for t in TECHNIQUE_LIST]}


@api.get("/config", response_model=ConfigOut, tags=["reference"],
         summary="Operating points, reader threshold, confidence levels, model")
def config_endpoint(request: Request) -> dict[str, Any]:
    """What the page needs before an analysis: the modes (`reader`, the default, and
    `benchmark`), the model's reader threshold (where the confidence slider starts), the
    cut-offs of the high / medium / low confidence levels, and the model (name, version,
    profile; null when it did not load)."""
    state = request.app.state
    return page_config(state.predictor, state.profile)


def report_title(data: dict[str, Any]) -> str:
    """The report's title: the article's headline (its title, else its first line)."""
    article = data.get("article") or {}
    headline = (article.get("title") or "").strip()
    if not headline:
        lines = (line.strip() for line in str(article.get("text") or "").splitlines())
        headline = next((line for line in lines if line), "")
    if len(headline) > 120:
        headline = headline[:119].rstrip() + "…"
    return f"{headline} · propscope report" if headline else "propscope report"


def _load_saved(request: Request, analysis_id: str) -> dict[str, Any]:
    try:
        data = request.app.state.store.get(analysis_id)
    except (sqlite3.Error, OSError) as e:
        log.error("propscope: cannot read saved analyses: %s", e)
        raise ApiError(503, "storage_unavailable", "saved analyses cannot be read now") \
            from None
    if data is None:  # the id is echoed only when it has the form of one
        shown = f" {analysis_id!r}" if ID_RE.match(analysis_id) else ""
        raise ApiError(404, "not_found", f"no saved analysis with id{shown or ' like that'}")
    return data


@api.get("/analyses/{analysis_id}", response_model=AnalysisOut, responses=SAVED_ERRORS,
         tags=["analysis"], summary="A saved analysis")
def saved_endpoint(analysis_id: str, request: Request,
                   download: Literal["true", "false"] = Query(
                       "false", description="as a file attachment")) -> JSONResponse:
    data = _with_links(request, _load_saved(request, analysis_id))
    headers = ({"Content-Disposition": f'attachment; filename="propscope-{analysis_id}.json"'}
               if download == "true" else None)
    return JSONResponse(data, headers=headers)


@api.get("/analyses/{analysis_id}/report.html", response_class=HTMLResponse,
         responses=REPORT_ERRORS, tags=["analysis"],
         summary="A saved analysis as a self-contained HTML report")
def report_endpoint(analysis_id: str, request: Request) -> HTMLResponse:
    data = _load_saved(request, analysis_id)
    html = render_html([Result.from_dict(data)], title=report_title(data))
    return HTMLResponse(html, headers={
        "Content-Security-Policy": REPORT_CSP,
        "Content-Disposition": f'attachment; filename="propscope-{analysis_id}.html"'})


# ---------------------------------------------------------------- service


@service.get("/healthz", tags=["service"], summary="Liveness, model and queue status",
             responses={503: {"description": "the model failed to load"}})
def healthz(request: Request) -> JSONResponse:
    """200 when the model is loaded, 503 when it is not. Answers while analyses run.
    `queue` counts the work in flight (`running`, `waiting`, `chars_in_flight` of at
    most `max_chars`) and what happened to the rest (`done`, `rejected` with 429,
    `cancelled` because the client left, `expired` past the deadline)."""
    state = request.app.state
    body = {"status": "ok" if state.predictor is not None else "unavailable",
            "version": __version__,
            "model": state.analyser.model,
            "queue": state.jobs.stats()}
    if state.predictor is None:
        body.update(code="model_unavailable", message=state.model_error)
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


# ---------------------------------------------------------------- pages


def _page(request: Request, template: str, status: int = 200) -> HTMLResponse:
    html = template.replace("{{root}}", escape(_root(request), quote=True))
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})


@pages.get("/")
def index(request: Request) -> HTMLResponse:
    return _page(request, request.app.state.index_template)


@pages.get("/a/{analysis_id}")
def permalink(analysis_id: str, request: Request) -> HTMLResponse:
    try:
        found = request.app.state.store.get(analysis_id) is not None
    except (sqlite3.Error, OSError):
        found = False
    return _page(request, request.app.state.index_template, 200 if found else 404)


@pages.get("/docs")
def docs(request: Request) -> HTMLResponse:
    return _page(request, request.app.state.docs_template)


@pages.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)
