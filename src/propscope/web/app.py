"""The web app and REST API: a thin HTTP adapter over ``propscope.analyze``.

``create_app(Settings(...))`` builds the ASGI app; ``propscope serve`` runs it on uvicorn.
The model is loaded once, when the app is built; if that fails every analysis answers
503 and ``/healthz`` says why. Analyses run in a bounded pool (see ``jobs.JobQueue``);
a full queue answers 429. Every error is JSON ``{"code", "message"}`` with a stable
code; no stack trace ever reaches a response.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__, config
from ..core import Result, analyze
from ..errors import PropscopeError
from ..inputs import html_to_text
from ..render.html import render_html
from ..spans import Article
from ..techniques import TECHNIQUE_LIST, TECHNIQUE_NAMES
from .jobs import JobQueue
from .storage import Store, new_id, now

log = logging.getLogger("propscope.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
API = "/api/v1"

#: Content-Security-Policy of the app's pages: only the app's own scripts and styles.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
#: The downloadable report has inline CSS and must never run a script.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@dataclass
class Settings:
    model: str | None = None  # model folder; None: the shipped model; "keywords": test rules
    db: str = "propscope.sqlite3"  # SQLite file of saved analyses (":memory:" for none)
    max_bytes: int = 1024 * 1024  # largest request body accepted (413 beyond)
    workers: int = 1  # analyses run at once (the model already uses every core)
    queue_size: int = 8  # analyses that may wait; more answer 429
    max_batch: int = 16  # articles in one batch request


# ---------------------------------------------------------------- request and response models

TechniqueName = Literal[TECHNIQUE_NAMES]  # type: ignore[valid-type]


def _valid_unicode(value: str | None) -> str | None:
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("is not valid Unicode (lone surrogate code point)") from None
    return value


class AnalyzeRequest(BaseModel):
    """One article: give ``text`` (plain text) or ``html`` (a web page), not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"text": "The senator's outrageous plan is a catastrophe.",
                      "title": "An example", "threshold": 0.5}]})

    text: str | None = Field(None, description="plain article text; offsets refer to it")
    html: str | None = Field(None, description="an HTML page; its main text is extracted "
                                               "and analysed (returned in article.text)")
    title: str | None = Field(None, max_length=1000)
    threshold: float = Field(config.DEFAULT_THRESHOLD, ge=0.0, le=1.0, allow_inf_nan=False,
                             description="drop spans whose confidence is below this")
    techniques: list[TechniqueName] | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description="only these techniques (default: all 14)")
    save: bool = Field(True, description="save the analysis and return a permalink")

    _unicode = field_validator("text", "html", "title")(_valid_unicode)

    @field_validator("techniques", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, list):
            for name in value:
                if isinstance(name, str) and name not in TECHNIQUE_NAMES:
                    raise ValueError(f"unknown technique {name!r}; the names are listed by "
                                     f"GET {API}/techniques")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> AnalyzeRequest:
        if (self.text is None) == (self.html is None):
            raise ValueError('give exactly one of "text" or "html"')
        body = self.text if self.text is not None else self.html
        if not body or not body.strip():
            raise ValueError(f'"{"text" if self.text is not None else "html"}" is empty')
        return self


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    articles: list[AnalyzeRequest] = Field(..., min_length=1)


class ErrorBody(BaseModel):
    code: str = Field(..., description="stable machine-readable code")
    message: str = Field(..., description="one human-readable line")
    details: list[dict[str, str]] | None = Field(None, description="per-field problems (422)")


class SpanOut(BaseModel):
    start: int = Field(..., description="character offset (Unicode code points) in article.text")
    end: int
    technique: str
    score: float
    text: str


class SentenceOut(BaseModel):
    start: int
    end: int
    flagged: bool
    techniques: list[str]


class AnalysisOut(BaseModel):
    id: str | None = Field(..., description="saved analysis id (null when not saved)")
    permalink: str | None
    created: str
    article: dict[str, Any] = Field(..., description="id, text (what offsets refer to), title")
    spans: list[SpanOut]
    sentences: list[SentenceOut]
    summary: dict[str, Any]
    model: dict[str, Any]
    warnings: list[str]
    request: dict[str, Any]
    propscope_version: str


class BatchItemOut(BaseModel):
    error: ErrorBody | None = None


class BatchOut(BaseModel):
    results: list[AnalysisOut | BatchItemOut]


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed body (not JSON, empty, not an object)"},
    413: {"model": ErrorBody, "description": "body larger than the server's limit"},
    415: {"model": ErrorBody, "description": "Content-Type is not application/json"},
    422: {"model": ErrorBody, "description": "invalid fields, or no article text found"},
    429: {"model": ErrorBody, "description": "the analysis queue is full; retry later"},
    503: {"model": ErrorBody, "description": "the model failed to load"},
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers, self.extra = headers, extra


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"code": code, "message": message, **{k: v for k, v in extra.items() if v}}
    return JSONResponse(body, status_code=status, headers=headers)


# ---------------------------------------------------------------- ASGI middleware

class BodyGuard:
    """For POST requests: 415 unless the body is JSON, 413 past ``max_bytes``.

    The body is read here (also when it comes chunked, without Content-Length) and
    handed on in one piece, so no handler ever sees more than ``max_bytes``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctype = headers.get(b"content-type", "").split(";")[0].strip().lower()
        if not (ctype == "application/json" or
                (ctype.startswith("application/") and ctype.endswith("+json"))):
            got = f"got {ctype!r}" if ctype else "no Content-Type given"
            await error_response(415, "unsupported_media_type",
                                 f"send a JSON body with Content-Type: application/json ({got})"
                                 )(scope, receive, send)
            return
        too_large = error_response(413, "too_large",
                                   f"the body is larger than this server's limit of "
                                   f"{self.max_bytes:,} bytes")
        length = headers.get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await error_response(400, "malformed_request",
                                     "invalid Content-Length")(scope, receive, send)
                return
            if int(length) > self.max_bytes:
                await too_large(scope, receive, send)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class SecurityHeaders:
    """nosniff, no referrer, no framing on every response; a strict CSP unless one is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY"),
                         (b"content-security-policy",
                          b"default-src 'none'; frame-ancestors 'none'")]
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------- helpers

def _model_error_text(e: BaseException) -> str:
    if isinstance(e, PropscopeError):
        return str(e)
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _clean_msg(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


# ---------------------------------------------------------------- the app

def create_app(settings: Settings | None = None, predictor: Any = None) -> FastAPI:
    """Build the app. ``predictor`` (any object with ``predict``/``info``) overrides the model."""
    settings = settings or Settings()
    model_error: str | None = None
    if predictor is None:
        from ..model_io import load_model

        try:
            predictor = load_model(settings.model)
        except Exception as e:  # any failure to load is reported as 503, never raised
            model_error = _model_error_text(e)
            log.error("propscope: the model could not be loaded: %s", model_error)
    jobs = JobQueue(settings.workers, settings.queue_size)
    store = Store(settings.db)
    index_template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    docs_template = (STATIC_DIR / "docs.html").read_text(encoding="utf-8")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="propscope",
        version=__version__,
        summary="Find and explain propaganda techniques in news articles.",
        description=(
            "Every error is JSON `{\"code\", \"message\"}` with the status: 400 malformed "
            "body, 413 too large, 415 not JSON, 422 invalid fields, 429 queue full, "
            "503 model unavailable. Span offsets are Unicode code point offsets into "
            "`article.text` (the analysed text, after HTML extraction)."),
        docs_url=None, redoc_url=None,  # /docs is served from local files below
    )
    app.state.settings, app.state.jobs, app.state.store = settings, jobs, store
    app.state.predictor, app.state.model_error = predictor, model_error

    # ---- errors: every one is {"code", "message"}; never a stack trace

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        for e in errors:
            if e.get("type") == "json_invalid":
                why = (e.get("ctx") or {}).get("error", "syntax error")
                pos = e["loc"][-1] if len(e.get("loc", ())) > 1 else "?"
                return error_response(400, "malformed_json",
                                      f"the body is not valid JSON ({why} at character {pos})")
        top = [e for e in errors if tuple(e.get("loc", ())) == ("body",)]
        if top and top[0].get("type") == "missing":
            return error_response(400, "empty_body", "the body is empty; send a JSON object")
        if top and top[0].get("type") in ("model_attributes_type", "dict_type", "model_type"):
            return error_response(400, "malformed_request", "the body must be a JSON object")
        details = [{"field": ".".join(str(p) for p in e["loc"][1:]) or "(body)",
                    "message": _clean_msg(e.get("msg", "invalid"))} for e in errors]
        first = details[0]
        where = "" if first["field"] == "(body)" else f"{first['field']}: "
        return error_response(422, "invalid_fields", where + first["message"], details=details)

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return error_response(400, "malformed_json", "the JSON body is nested too deeply")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed"}
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 400:  # the framework could not parse the body
            message = "the body is not valid JSON (it could not be parsed)"
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"),
                              message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("propscope: internal error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "the server failed to handle this request; see its log")

    # ---- the analysis job (runs in a pool thread)

    def check_model() -> None:
        if app.state.predictor is None:
            raise ApiError(503, "model_unavailable",
                           f"the model could not be loaded, so no analysis is possible "
                           f"({app.state.model_error})")

    def analyse_one(req: AnalyzeRequest) -> dict[str, Any]:
        aid = new_id()
        if req.html is not None:
            text, title = html_to_text(req.html, where="html")
            art = Article(id=aid, text=text, title=req.title or title,
                          meta={"extracted_from": "html"})
        else:
            art = Article(id=aid, text=req.text or "", title=req.title)
        result = analyze(art, predictor=app.state.predictor, threshold=req.threshold,
                         techniques=req.techniques)
        assert isinstance(result, Result)
        data: dict[str, Any] = {"id": aid, "created": now(), **result.to_dict(),
                                "request": {"threshold": req.threshold,
                                            "techniques": req.techniques},
                                "propscope_version": __version__}
        if req.save:
            try:
                store.save(aid, data)
            except (sqlite3.Error, OSError) as e:
                log.error("propscope: could not save analysis %s: %s", aid, e)
                data["warnings"] = [*data["warnings"], "this analysis could not be saved, "
                                    "so it has no permalink"]
                data["id"] = None
        else:
            data["id"] = None
        return data

    def analyse_many(reqs: list[AnalyzeRequest]) -> list[dict[str, Any]]:
        out = []
        for req in reqs:
            try:
                out.append(analyse_one(req))
            except PropscopeError as e:
                out.append({"error": {"code": e.code, "message": str(e)}})
        return out

    async def submit(fn: Any, arg: Any) -> Any:
        future = jobs.try_submit(fn, arg)
        if future is None:
            raise ApiError(429, "busy", "the server's analysis queue is full; retry in a moment",
                           headers={"Retry-After": "2"})
        try:
            return await asyncio.wrap_future(future)
        except PropscopeError as e:
            raise ApiError(422, e.code, str(e)) from None

    def with_links(request: Request, data: dict[str, Any]) -> dict[str, Any]:
        if "error" in data:
            return data
        aid = data.get("id")
        return {"id": aid, "permalink": f"{_root(request)}/a/{aid}" if aid else None, **data}

    # ---- REST API

    @app.post(f"{API}/analyze", response_model=AnalysisOut, responses=ERRORS,
              tags=["analysis"], summary="Analyse one article")
    async def analyze_endpoint(body: AnalyzeRequest, request: Request) -> JSONResponse:
        """Find propaganda spans in one article. The analysis is saved (unless
        `"save": false`) and gets a permalink `/a/{id}`."""
        check_model()
        data = await submit(analyse_one, body)
        return JSONResponse(with_links(request, data))

    @app.post(f"{API}/analyze/batch", response_model=BatchOut, responses=ERRORS,
              tags=["analysis"], summary="Analyse several articles")
    async def batch_endpoint(body: BatchRequest, request: Request) -> JSONResponse:
        """Up to the server's `max_batch` articles (default 16) in one call. Results come
        in the same order; an article that cannot be analysed (say, HTML without article
        text) gives `{"error": {"code", "message"}}` in its place."""
        if len(body.articles) > settings.max_batch:
            raise ApiError(422, "too_many_articles",
                           f"articles: at most {settings.max_batch} in one batch, "
                           f"got {len(body.articles)}")
        check_model()
        items = await submit(analyse_many, body.articles)
        return JSONResponse({"results": [with_links(request, d) for d in items]})

    @app.get(f"{API}/techniques", tags=["reference"], summary="The 14 techniques")
    def techniques_endpoint() -> dict[str, Any]:
        """Name, label, definition, example and highlight colour of every technique."""
        return {"techniques": [t.to_dict() for t in TECHNIQUE_LIST]}

    def load_saved(analysis_id: str) -> dict[str, Any]:
        try:
            data = store.get(analysis_id)
        except (sqlite3.Error, OSError) as e:
            log.error("propscope: cannot read saved analyses: %s", e)
            raise ApiError(503, "storage_unavailable", "saved analyses cannot be read now") \
                from None
        if data is None:
            raise ApiError(404, "not_found", f"no saved analysis with id {analysis_id!r}")
        return data

    @app.get(f"{API}/analyses/{{analysis_id}}", response_model=AnalysisOut,
             responses={404: {"model": ErrorBody}}, tags=["analysis"],
             summary="A saved analysis")
    def saved_endpoint(analysis_id: str, request: Request,
                       download: bool = Query(False, description="as a file attachment")
                       ) -> JSONResponse:
        data = with_links(request, load_saved(analysis_id))
        headers = ({"Content-Disposition": f'attachment; filename="propscope-{analysis_id}.json"'}
                   if download else None)
        return JSONResponse(data, headers=headers)

    @app.get(f"{API}/analyses/{{analysis_id}}/report.html", response_class=HTMLResponse,
             responses={404: {"model": ErrorBody}}, tags=["analysis"],
             summary="A saved analysis as a self-contained HTML report")
    def report_endpoint(analysis_id: str) -> HTMLResponse:
        data = load_saved(analysis_id)
        html = render_html([Result.from_dict(data)], title="propscope report")
        return HTMLResponse(html, headers={
            "Content-Security-Policy": REPORT_CSP,
            "Content-Disposition": f'attachment; filename="propscope-{analysis_id}.html"'})

    @app.get("/healthz", tags=["service"], summary="Liveness and model status",
             responses={503: {"description": "the model failed to load"}})
    @app.head("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """200 when the model is loaded, 503 when it is not. Answers while analyses run."""
        body = {"status": "ok" if app.state.predictor is not None else "unavailable",
                "version": __version__,
                "model": dict(getattr(app.state.predictor, "info", {}) or {}),
                "queue": jobs.stats()}
        if app.state.predictor is None:
            body.update(code="model_unavailable", message=app.state.model_error)
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    # ---- pages

    def page(template: str, request: Request, status: int = 200) -> HTMLResponse:
        html = template.replace("{{root}}", escape(_root(request), quote=True))
        return HTMLResponse(html, status_code=status, headers={
            "Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def index(request: Request) -> HTMLResponse:
        return page(index_template, request)

    @app.api_route("/a/{analysis_id}", methods=["GET", "HEAD"], include_in_schema=False)
    def permalink(analysis_id: str, request: Request) -> HTMLResponse:
        try:
            found = store.get(analysis_id) is not None
        except (sqlite3.Error, OSError):
            found = False
        return page(index_template, request, 200 if found else 404)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return page(docs_template, request)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyGuard, max_bytes=settings.max_bytes)
    app.add_middleware(SecurityHeaders)
    return app
