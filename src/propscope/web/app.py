"""The web app and REST API: a thin HTTP adapter over ``propscope.analyze``.

``create_app(WebSettings(...))`` builds the ASGI app; ``propscope serve`` runs it on uvicorn.
The model is loaded once, when the app is built; if that fails every analysis answers
503 and ``/healthz`` says why. The pieces:

- ``schemas``: request and response models (strict), documented errors;
- ``routes``: the API, ``/healthz`` and the pages;
- ``service``: the analyses and how a request waits for one (deadline, disconnects);
- ``jobs``: the bounded, character-budgeted, cancellable analysis pool;
- ``middleware``: methods (405/OPTIONS/HEAD), body limits (413/415), security headers;
- ``errors``: every error is JSON ``{"code", "message"}``, never a stack trace;
- ``storage``: saved analyses in SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount, Route

from .. import __version__
from ..errors import PropscopeError
from .confidence import served_profile
from .errors import install_error_handlers
from .jobs import JobQueue, install_checkpoints
from .middleware import BodyGuard, MethodGuard, SecurityHeaders
from .routes import api, pages, service
from .service import Analyser, ClientGone, Limits
from .storage import AnalysisStore

log = logging.getLogger("propscope.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class WebSettings:
    model: str | None = None  # model folder; None: the shipped model; "keywords": test rules
    db: str = "propscope.sqlite3"  # SQLite file of saved analyses (":memory:" for none)
    max_bytes: int = 1024 * 1024  # largest request body accepted (413 beyond)
    workers: int = 1  # analyses run at once (the model already uses every core)
    queue_size: int = 8  # analyses that may wait; more answer 429
    max_batch: int = 16  # articles in one batch request
    max_chars: int = 200_000  # characters of text in flight, running and waiting (429 beyond)
    deadline: float = 60.0  # seconds a request may take (503 beyond)


DESCRIPTION = (
    "Every error is JSON `{\"code\", \"message\"}` with the status: 400 malformed body, "
    "413 too large (bytes) or too long (characters), 415 not JSON, 422 invalid fields, "
    "429 busy (see `Retry-After`), 503 model unavailable or deadline exceeded. Span "
    "offsets are Unicode code point offsets into `article.text` (the analysed text, "
    "after HTML extraction).")


def _model_error_text(e: BaseException) -> str:
    if isinstance(e, PropscopeError):
        return str(e)
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _load_predictor(settings: WebSettings) -> tuple[Any, str | None]:
    from ..model_io import load_model

    try:
        return load_model(settings.model), None
    except Exception as e:  # any failure to load is reported as 503, never raised
        error = _model_error_text(e)
        log.error("propscope: the model could not be loaded: %s", error)
        return None, error


def create_app(settings: WebSettings | None = None, predictor: Any = None) -> FastAPI:
    """Build the app. ``predictor`` (any object with ``predict``/``info``) overrides the model."""
    settings = settings or WebSettings()
    model_error, profile = None, None
    if predictor is None:
        predictor, model_error = _load_predictor(settings)
        profile = served_profile(settings.model)
    if predictor is not None:
        install_checkpoints(predictor)
    jobs = JobQueue(settings.workers, settings.queue_size, settings.max_chars)
    store = AnalysisStore(settings.db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()
        store.close()

    app = FastAPI(lifespan=lifespan, title="propscope", version=__version__,
                  summary="Find and explain propaganda techniques in news articles.",
                  description=DESCRIPTION,
                  docs_url=None, redoc_url=None)  # /docs is served from local files
    state = app.state
    state.settings, state.jobs, state.store = settings, jobs, store
    state.predictor, state.model_error, state.profile = predictor, model_error, profile
    state.analyser = Analyser(predictor, store, jobs,
                              Limits(settings.max_chars, settings.deadline), profile)
    state.index_template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    state.docs_template = (STATIC_DIR / "docs.html").read_text(encoding="utf-8")

    install_error_handlers(app)
    app.add_exception_handler(ClientGone, _client_gone)
    for router in (api, service, pages):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyGuard, max_bytes=settings.max_bytes)
    routes = [r for r in app.router.routes if isinstance(r, Route | Mount)]
    app.add_middleware(MethodGuard, routes=[*routes, *api.routes, *service.routes, *pages.routes])
    app.add_middleware(SecurityHeaders)
    return app


async def _client_gone(request: Request, exc: Exception) -> Response:
    """Nobody reads this answer; 499 (as nginx logs it) marks it in the access log."""
    return Response(status_code=499)
