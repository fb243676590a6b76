"""Page sessions: the user's token, pasted once, kept in a signed HttpOnly cookie; CSRF by double submit.

The cookie holds the token itself (the service stores only its hash, so there is nothing to look
up), signed with HMAC-SHA256 and dated, so a cookie cannot be forged, altered or kept past its
lifetime. Requests authenticated by the cookie that change anything must repeat the CSRF cookie's
value in the ``X-CSRF-Token`` header (scripts) or the ``csrf`` form field (forms); another site can
neither read that value nor, with ``SameSite=Strict``, send the cookies along.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from fastapi import Request, Response

from api.problems import ApiProblem

SESSION_COOKIE = "zy_session"
CSRF_COOKIE = "zy_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, secret: bytes, lifetime_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._lifetime = lifetime_seconds
        self._clock = clock

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def seal(self, token: str) -> str:
        payload = f"{_b64(token.encode())}.{int(self._clock())}"
        return f"{payload}.{self._mac(payload)}"

    def open(self, value: str) -> str | None:
        """The token in a cookie this signer made and that has not expired; None otherwise."""
        encoded, _, rest = value.partition(".")
        issued, _, mac = rest.partition(".")
        if not (encoded and issued.isdigit() and mac):
            return None
        if not hmac.compare_digest(mac, self._mac(f"{encoded}.{issued}")):
            return None
        if self._clock() - int(issued) > self._lifetime:
            return None
        try:
            return _unb64(encoded).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def lifetime_seconds(self) -> int:
        return self._lifetime


def signer_of(request: Request) -> SessionSigner:
    signer: SessionSigner = request.app.state.session_signer
    return signer


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_of(request: Request) -> str | None:
    return request.cookies.get(CSRF_COOKIE)


def check_csrf(request: Request, sent: str | None) -> None:
    """403 ``csrf_failed`` unless ``sent`` repeats the CSRF cookie."""
    expected = csrf_of(request)
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise ApiProblem(403, "csrf_failed", "csrf_failed: the request lacks this page's CSRF token")


def session_token(request: Request) -> str | None:
    """The token of the page session, if any; unsafe requests must carry the CSRF header."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    token = signer_of(request).open(cookie)
    if token is None:
        return None
    if request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return token


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_csrf_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, value, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )


def sign_in(request: Request, response: Response, token: str) -> None:
    signer = signer_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        signer.seal(token),
        max_age=signer.lifetime_seconds,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
