"""Errors as RFC 9457 problem details (``application/problem+json``).

``type`` is ``https://zhanyou.example/problems/<rule>``, where ``<rule>`` is the stable
code of the refusing rule (``quota_full``, ``phase_closed``, ``not_permitted``...).
"""

from __future__ import annotations

import codecs
import email.message
import json
import logging
import sqlite3
import sys
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.errors import (
    ApplicationError,
    CampaignExists,
    Contended,
    NotFound,
    StoreUnavailable,
)
from application.recommendation_form import FormTooLarge, FormUnreadable
from application.store_policy import request_writes
from domain.errors import DomainError, InvalidValue, NotPermitted, ReasonRequired, VersionConflict
from projections.base import ViewBuilding

log = logging.getLogger("zhanyou.api")

PROBLEM_BASE = "https://zhanyou.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
#: The most bad fields a 422 lists one by one.
MAX_FIELD_PROBLEMS = 50


class FieldProblem(BaseModel):
    field: str = Field(description="the bad field, dotted for nested ones (e.g. `timeline.contest.opens`)")
    detail: str


#: What a command answered 503 ``store_unavailable`` may have done.
Outcome = Literal["not_recorded", "may_be_recorded"]


class Problem(BaseModel):
    """RFC 9457 problem details; ``rule`` repeats the last part of ``type``."""

    type: str = Field(examples=[f"{PROBLEM_BASE}quota_full"])
    title: str
    status: int
    detail: str
    rule: str
    instance: str | None = None
    errors: list[FieldProblem] | None = Field(
        default=None,
        description="every bad field (422; 413: the body or the upload; 415: the content type or encoding)",
    )
    outcome: Outcome | None = Field(
        default=None,
        description=(
            "a 503 `store_unavailable` to a command: `not_recorded` when it failed before anything "
            "was written (safe to send again), `may_be_recorded` when it failed at or after a write "
            "(send it again with the same Idempotency-Key to get its outcome)"
        ),
    )


class ApiProblem(Exception):
    """A refusal of the HTTP layer itself (auth, rate limit, idempotency key reuse)."""

    def __init__(self, status: int, rule: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.rule = rule
        self.detail = detail
        self.headers = dict(headers or {})


def problem_body(
    status: int,
    rule: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldProblem] | None = None,
    outcome: Outcome | None = None,
) -> dict[str, Any]:
    return Problem(
        type=PROBLEM_BASE + rule,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        rule=rule,
        instance=instance,
        errors=errors,
        outcome=outcome,
    ).model_dump(mode="json", exclude_none=True)


def problem_response(
    status: int,
    rule: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
    outcome: Outcome | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, rule, detail, instance=instance, errors=errors, outcome=outcome),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def status_of(error: DomainError | ApplicationError) -> int:
    """The HTTP status of a refusal by the domain or the application."""
    if isinstance(error, FormTooLarge):
        return 413
    if isinstance(error, InvalidValue | ReasonRequired | FormUnreadable):
        return 422
    if isinstance(error, NotPermitted):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, StoreUnavailable):
        return 503
    if isinstance(error, VersionConflict):  # only an If-Match that no longer holds raises it
        return 412
    if isinstance(error, CampaignExists | Contended | DomainError):
        return 409
    return 500


def field_problems(error: DomainError | ApplicationError) -> list[FieldProblem] | None:
    if isinstance(error, InvalidValue):
        return [FieldProblem(field=field, detail=detail) for field, detail in error.problems.items()]
    if isinstance(error, ReasonRequired):
        return [FieldProblem(field="reason", detail=error.detail)]
    if isinstance(error, FormUnreadable):  # every upload is the multipart field ``file``
        return [FieldProblem(field="file", detail=error.detail)]
    return None


def refusal_response(error: DomainError | ApplicationError, instance: str | None) -> JSONResponse:
    status = status_of(error)
    headers = {"Retry-After": "5"} if status == 503 else None
    return problem_response(
        status, error.rule, error.detail, instance=instance, errors=field_problems(error), headers=headers
    )


def _said_of_text(item: Mapping[str, Any], message: str) -> str:
    """A length limit on text in characters: pydantic says "items" of an optional text field."""
    limits = {"too_long": ("at most", "max_length"), "too_short": ("at least", "min_length")}
    if item.get("type") not in limits or not isinstance(item.get("input"), str):
        return message
    bound, key = limits[item["type"]]
    limit = (item.get("ctx") or {}).get(key)
    return message if limit is None else f"String should have {bound} {limit} characters"


def _validation_problems(error: RequestValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        if item.get("type") == "json_invalid":  # its location is a character offset, not a field
            where = item.get("loc", ("body", "?"))[-1]
            reason = (item.get("ctx") or {}).get("error", "invalid")
            problems.append(
                FieldProblem(field="body", detail=f"not valid JSON (at character {where}: {reason})")
            )
            continue
        location = [str(part) for part in item.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:] or location
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")  # our validators' own words
        message = _said_of_text(item, message)
        problems.append(FieldProblem(field=".".join(location) or "body", detail=message))
    return problems


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: What a JSON body is sent as: the only content type (and charset) and encoding taken.
JSON_BODY = "send the body as UTF-8 JSON (Content-Type: application/json)"


def _charset_refused(content_type: str) -> str | None:
    """The charset a JSON body's Content-Type declares, unless it is UTF-8 (or none)."""
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if not isinstance(charset, str) or charset.strip().lower() in ("utf-8", "utf8"):
        return None
    return charset


def _unsupported(detail: str, field: str, instance: str | None) -> JSONResponse:
    return problem_response(
        415,
        "unsupported_media_type",
        f"unsupported_media_type: {detail}",
        instance=instance,
        errors=[FieldProblem(field=field, detail=detail)],
    )


def _body_not_json(request: Request, error: RequestValidationError) -> JSONResponse | None:
    """415 for a body FastAPI did not read as JSON: its Content-Type is not JSON (the body
    reaches validation as bytes)."""
    if not any(
        tuple(item.get("loc", ())) == ("body",) and isinstance(item.get("input"), bytes | bytearray)
        for item in error.errors()
    ):
        return None
    given = request.headers.get("content-type") or "none"
    detail = f"Content-Type {given[:100]!r} is not taken: {JSON_BODY}"
    return _unsupported(detail, "content-type", request.url.path)


class BodyNotUtf8(StarletteHTTPException):
    """Raised while a JSON body is read, at its first byte that is no part of UTF-8 JSON: FastAPI
    passes HTTP exceptions on as they are, and ``http_problem`` answers 422 naming ``body``."""

    def __init__(self, byte: int, offset: int, why: str) -> None:
        super().__init__(422, f"not UTF-8 JSON: the byte {byte:#04x} at offset {offset} {why}; {JSON_BODY}")


def _json_media(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this Content-Type as JSON (application/json, application/*+json)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _utf8_only(receive: Receive) -> Receive:
    """``receive``, checking each chunk of a JSON body as it arrives (none is held, none read twice):
    ``BodyNotUtf8`` at the first byte that is not UTF-8, or at a NUL byte, which UTF-8 JSON never
    holds (json.loads would read such bytes as UTF-16 or UTF-32)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = 0

    async def checked() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        nul = chunk.find(b"\x00")
        try:
            decoder.decode(chunk, final=not message.get("more_body", False))
        except UnicodeDecodeError as error:
            held = len(error.object) - len(chunk)  # bytes of a character begun in the chunk before
            offset = seen - held + error.start
            if nul < 0 or seen + nul > offset:
                raise BodyNotUtf8(error.object[error.start], offset, "is not UTF-8") from None
        if nul >= 0:
            raise BodyNotUtf8(0, seen + nul, "is a NUL, never in UTF-8 JSON (UTF-16 or UTF-32?)")
        seen += len(chunk)
        return message

    return checked


class RefuseEncodedBodies:
    """ASGI middleware for a request body: sent with a ``Content-Encoding`` (gzip, ...) it is
    refused with 415 naming it (bodies are read as sent, never decompressed); sent as JSON with
    a charset other than UTF-8 it is refused with 415 naming the charset, before it is read;
    a JSON body's bytes are checked to be UTF-8 as they are read (``_utf8_only``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        encoding = headers.get("content-encoding")
        content_type = headers.get("content-type")
        answer = None
        if encoding is not None and encoding.strip().lower() not in ("", "identity"):
            detail = f"Content-Encoding {encoding[:40]!r} is not taken: {JSON_BODY}, uncompressed"
            answer = _unsupported(detail, "content-encoding", scope.get("path"))
        elif _json_media(content_type):
            charset = _charset_refused(content_type or "")
            if charset is None:
                await self.app(scope, _utf8_only(receive), send)
                return
            detail = f"charset {charset[:40]!r} is not taken: {JSON_BODY}"
            answer = _unsupported(detail, "content-type", scope.get("path"))
        if answer is None:
            await self.app(scope, receive, send)
            return
        metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
        if metrics is not None:
            metrics.refused("unsupported_media_type", 415)
        await answer(scope, receive, send)


#: Set in a request's scope once it was answered 503 for being overdue (``api.deadline``).
OVERDUE = "zhanyou.overdue"


def _counted(request: Request, answer: JSONResponse, rule: str) -> JSONResponse:
    """Every problem answer is counted by its rule (``zhanyou_refusals_total``)."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None and not request.scope.get(OVERDUE):  # else answered 503 already
        metrics.refused(rule, answer.status_code)
    return answer


#: What a command answered 503 may have done, in the words of its answer.
OUTCOMES: dict[Outcome, str] = {
    "not_recorded": "the request was not recorded: it is safe to send it again",
    # a connection lost during the commit leaves the write's fate unknown to the service too
    "may_be_recorded": (
        "the write may have been recorded before the store failed: send it again with the same "
        "Idempotency-Key to get its outcome"
    ),
}


def outcome_of(request: Request, error: StoreUnavailable | None = None) -> Outcome | None:
    """Whether the command a 503 answers may have been recorded: by what its writes did (None
    for a read). Unknown writes count as possibly recorded."""
    if request.method in SAFE_METHODS:
        return None
    if error is not None and error.may_be_recorded is not None:
        return "may_be_recorded" if error.may_be_recorded else "not_recorded"
    writes = request_writes()
    return "not_recorded" if writes is not None and not writes.may_have_committed else "may_be_recorded"


def store_unavailable_response(
    request: Request, detail: str, cause: str, error: StoreUnavailable | None = None
) -> JSONResponse:
    """The one 503 ``store_unavailable``: which store failed and whether the command may have been
    recorded; the driver's words go to the log, never into the answer."""
    outcome = outcome_of(request, error)
    log.warning(
        "store unavailable (%s): %s: %s",
        outcome or "read",
        detail,
        cause,
        extra={"rule": "store_unavailable", "outcome": outcome},
    )
    said = f"{detail}; {OUTCOMES[outcome] if outcome else 'try again shortly'}"
    answer = problem_response(
        503,
        "store_unavailable",
        said,
        instance=request.url.path,
        headers={"Retry-After": "5"},
        outcome=outcome,
    )
    return _counted(request, answer, "store_unavailable")


async def http_problem(request: Request, error: Exception) -> JSONResponse:
    """An HTTP error of the framework (404, 405, a body it could not read) as problem+json."""
    assert isinstance(error, StarletteHTTPException)  # noqa: S101
    if isinstance(error, BodyNotUtf8):
        detail = str(error.detail)
        problems = [FieldProblem(field="body", detail=detail)]
        unread = problem_response(
            422, "invalid_value", f"invalid_value: body: {detail}", instance=request.url.path, errors=problems
        )
        return _counted(request, unread, "invalid_value")
    if error.status_code == 400 and isinstance(error.__cause__, RecursionError | ValueError):
        problem = await _unparsable_json(request, error.__cause__)
        detail = f"invalid_value: {problem.field}: {problem.detail}"
        unparsed = problem_response(422, "invalid_value", detail, instance=request.url.path, errors=[problem])
        return _counted(request, unparsed, "invalid_value")
    rule = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        error.status_code, f"http_{error.status_code}"
    )
    errors = None
    if error.status_code == 413:  # the body as a whole: the route's fields were never read
        errors = [FieldProblem(field="body", detail=str(error.detail).removeprefix("too_large: "))]
    answer = problem_response(
        error.status_code,
        rule,
        str(error.detail),
        instance=request.url.path,
        errors=errors,
        headers=error.headers,
    )
    return _counted(request, answer, rule)


class _TooLong:
    """Where a JSON number had too many digits to be read as an integer."""


def _too_long_at(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if isinstance(value, _TooLong):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        found = _too_long_at(inner, (*path, str(key)))
        if found is not None:
            return found
    return None


async def _unparsable_json(request: Request, cause: Exception) -> FieldProblem:
    """A JSON body that json.loads could not read though it is well formed: nested too deeply
    (``body``), or an integer of more digits than Python reads (the field holding it)."""
    if isinstance(cause, RecursionError):
        return FieldProblem(field="body", detail="not valid JSON (nested too deeply)")
    limit = sys.get_int_max_str_digits()

    def integer(text: str) -> int | _TooLong:
        try:
            return int(text)
        except ValueError:
            return _TooLong()

    try:
        found = _too_long_at(json.loads(await request.body(), parse_int=integer))
    except (ValueError, RecursionError):
        found = None
    if found is None:
        return FieldProblem(field="body", detail="not valid JSON (a value could not be read)")
    return FieldProblem(field=".".join(found) or "body", detail=f"a number of more than {limit} digits")


def refused(request: Request, error: DomainError | ApplicationError) -> JSONResponse:
    """A refusal by the domain or the application as problem+json, counted by its rule."""
    if isinstance(error, StoreUnavailable):
        return store_unavailable_response(request, error.detail, error.cause or "", error)
    return _counted(request, refusal_response(error, request.url.path), error.rule)


def install(app: FastAPI) -> None:
    """Every error leaves as problem+json."""

    async def domain_refusal(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError | ApplicationError)  # noqa: S101 - registered for these only
        return refused(request, error)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)  # noqa: S101
        refused = _body_not_json(request, error)
        if refused is not None:
            return _counted(request, refused, "unsupported_media_type")
        problems = _validation_problems(error)
        if len(problems) > MAX_FIELD_PROBLEMS:  # 300,000 unknown keys need not come back one by one
            more = len(problems) - MAX_FIELD_PROBLEMS
            problems = problems[:MAX_FIELD_PROBLEMS]
            problems.append(FieldProblem(field="body", detail=f"and {more} more problems"))
        detail = "invalid_value: " + "; ".join(f"{p.field}: {p.detail}" for p in problems)
        answer = problem_response(422, "invalid_value", detail, instance=request.url.path, errors=problems)
        return _counted(request, answer, "invalid_value")

    async def api_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblem)  # noqa: S101
        answer = problem_response(
            error.status, error.rule, error.detail, instance=request.url.path, headers=error.headers
        )
        return _counted(request, answer, error.rule)

    async def store_down(request: Request, error: Exception) -> JSONResponse:
        """A store failure that reached a route unwrapped (a view read) is the store's, not ours."""
        cause = " ".join(f"{type(error).__name__}: {error}".split())
        return store_unavailable_response(request, "the store is unreachable", cause)

    async def view_building(request: Request, error: Exception) -> JSONResponse:
        # Tables of another release's layout are never served as this release's.
        answer = problem_response(
            503, "view_building", str(error), instance=request.url.path, headers={"Retry-After": "5"}
        )
        return _counted(request, answer, "view_building")

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected failure: %s", type(error).__name__, exc_info=error)
        answer = problem_response(
            500,
            "internal_error",
            "the service failed unexpectedly; the failure is logged",
            instance=request.url.path,
        )
        return _counted(request, answer, "internal_error")

    app.add_exception_handler(DomainError, domain_refusal)
    app.add_exception_handler(ApplicationError, domain_refusal)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(ApiProblem, api_problem)
    app.add_exception_handler(ViewBuilding, view_building)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    for failure in (OperationalError, InterfaceError, psycopg.OperationalError, sqlite3.OperationalError):
        app.add_exception_handler(failure, store_down)
    app.add_exception_handler(Exception, unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route can give."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
