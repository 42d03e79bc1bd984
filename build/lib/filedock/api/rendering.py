"""Renders every error in one place per wire format.

Front-ends register the path prefix they own and how they render a FiledockError; the
native JSON shape `{code, message, details}` is the default. Anything that is not a
FiledockError is logged with its traceback and becomes a 500: always a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from filedock.errors import ERRORS, Code, FiledockError
from filedock.observability import note_error

log = logging.getLogger("filedock.api")

Renderer = Callable[[Request, FiledockError], Response]
_HTTP_CODES = {404: Code.ROUTE_NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED, 413: Code.REQUEST_TOO_LARGE}


def render_native(_request: Request, error: FiledockError) -> Response:
    headers = {}
    if error.code == Code.RANGE_NOT_SATISFIABLE and "size" in error.details:
        headers["Content-Range"] = f"bytes */{error.details['size']}"
    body = {"code": error.code.value, "message": error.message, "details": error.details}
    return JSONResponse(body, status_code=error.status, headers=headers)


def validation_error(exc: RequestValidationError) -> FiledockError:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
    ]
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return FiledockError(Code.INVALID_REQUEST, f"Invalid request: {summary}", errors=problems)


def install_error_renderers(app: FastAPI) -> None:
    renderers: list[tuple[str, Renderer]] = []
    app.state.renderers = renderers

    def render(request: Request, error: FiledockError) -> Response:
        note_error(error.code.value)
        for prefix, renderer in renderers:
            if request.url.path.startswith(prefix):
                return renderer(request, error)
        return render_native(request, error)

    @app.exception_handler(FiledockError)
    async def _domain(request: Request, exc: FiledockError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return render(request, validation_error(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code)
        if code is None:  # an HTTPException raised by a library for a status we do not map
            body = {"code": "http_error", "message": str(exc.detail), "details": {}}
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        response = render(request, FiledockError(code))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        return render(request, FiledockError(Code.CLIENT_DISCONNECTED))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render(request, FiledockError(Code.INTERNAL))


def register_renderer(app: FastAPI, prefix: str, renderer: Renderer) -> None:
    app.state.renderers.append((prefix, renderer))


def error_responses(*codes: Code) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, grouped by status, with examples."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in (*codes, Code.INVALID_REQUEST):
        spec = ERRORS[code]
        entry = responses.setdefault(
            spec.status, {"description": "", "content": {"application/json": {"examples": {}}}}
        )
        entry["description"] = " / ".join(filter(None, [entry["description"], code.value]))
        entry["content"]["application/json"]["examples"][code.value] = {
            "value": {"code": code.value, "message": spec.message, "details": {}}
        }
    return responses
