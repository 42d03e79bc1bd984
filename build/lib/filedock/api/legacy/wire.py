"""The seed API's wire format: its envelopes, its error shape, and bodies in JSON or forms.

The original service answers `{data, message, success}` and, on errors,
`{errors: [...], message, success: false}` with one `[body->field] problem` string per
invalid field. Its clients (form fields) and the document-000 browser client (JSON) post
to the same paths, so a body is read by its content type, never by its path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from filedock.errors import Code, FiledockError

PREFIX = "/api/v1/file/"
MAX_JSON_BODY = 256 * 1024
MAX_FIELD = 64 * 1024
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

# The original answered these with 422, whatever status the error table gives them.
SEED_STATUS = {
    Code.UPLOAD_NOT_FOUND: 422,
    Code.CHUNK_TOO_LARGE: 422,
    Code.CHUNK_INDEX_OUT_OF_RANGE: 422,
    Code.UPLOAD_INCOMPLETE: 422,
    Code.SIZE_MISMATCH: 422,
}

Model = TypeVar("Model", bound=BaseModel)


def ok(data: Any, message: str = "", **beside: Any) -> JSONResponse:
    """The success envelope; `beside` adds top-level keys a client reads outside `data`."""
    return JSONResponse({"data": data, "message": message, "success": True, **beside})


def render(_request: Request, error: FiledockError) -> Response:
    """Every error on the seed paths, in the original's envelope."""
    problems = error.details.get("errors", []) if error.code == Code.INVALID_REQUEST else []
    errors = [f"[{p['field'].replace('.', '->')}] {p['problem'].lower()}" for p in problems]
    body = {
        "errors": errors,
        "message": error.spec.message if errors else error.message,
        "success": False,
    }
    return JSONResponse(body, status_code=SEED_STATUS.get(error.code, error.status))


def invalid(field: str, problem: str) -> RequestValidationError:
    """A validation error rendered like FastAPI's own: `[body->field] problem`."""
    loc = ("body", field) if field else ("body",)
    return RequestValidationError([{"loc": loc, "msg": problem, "type": "value_error"}])


def parse(model: type[Model], fields: Mapping[str, Any], **context: Any) -> Model:
    try:
        return model.model_validate(fields, context=context)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_fields(request: Request) -> dict[str, Any]:
    """The body's fields: a JSON object, or a form (urlencoded or multipart), or nothing."""
    media = media_type(request)
    if media == "application/json" or media.endswith("+json"):
        return _json_object(await _limited_body(request))
    if media in FORMS:
        try:
            async with request.form(max_files=4, max_fields=64, max_part_size=MAX_FIELD) as form:
                return dict(form.items())
        except HTTPException as exc:  # Starlette's limits and malformed forms
            raise FiledockError(Code.INVALID_REQUEST, str(exc.detail)) from exc
    if await _limited_body(request):
        raise invalid("", f"Content type {media or 'none'!r} is not JSON or a form")
    return {}


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise invalid("", "JSON decode error") from exc
    if not isinstance(value, dict):
        raise invalid("", "Input should be a valid dictionary")
    return value


async def _limited_body(request: Request) -> bytes:
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_JSON_BODY:
            raise FiledockError(
                Code.INVALID_REQUEST, f"The body is over {MAX_JSON_BODY} bytes; send a form."
            )
    return bytes(body)
