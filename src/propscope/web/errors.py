"""Every error the app answers is JSON ``{"code", "message"}`` (422 adds ``details``)
with a stable code; no stack trace and no long echo of the client's input ever reaches a
response."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("propscope.web")

HTTP_CODES = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed"}
_BODY_SHAPE = ("model_attributes_type", "dict_type", "model_type")


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


def _clean_msg(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """400 for a body that is not JSON, empty or not an object; else 422 with details."""
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
    if top and top[0].get("type") in _BODY_SHAPE:
        return error_response(400, "malformed_request", "the body must be a JSON object")
    details = [{"field": ".".join(str(p) for p in e["loc"][1:]) or "(body)",
                "message": _clean_msg(e.get("msg", "invalid"))} for e in errors]
    first = details[0]
    where = "" if first["field"] == "(body)" else f"{first['field']}: "
    return error_response(422, "invalid_fields", where + first["message"], details=details)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc)

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return error_response(400, "malformed_json", "the JSON body is nested too deeply")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 400:  # the framework could not parse the body
            message = "the body is not valid JSON (it could not be parsed)"
        return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"),
                              message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("propscope: internal error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "the server failed to handle this request; see its log")
