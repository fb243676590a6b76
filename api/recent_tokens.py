"""Tokens authenticated a moment ago, so a burst of requests reads its user once.

Only successful answers are kept, for ``TTL_SECONDS``: a user created now is known at
once, and a token revoked (or a user whose token or role changed) stops working within
that time on every process. Keys are the tokens' SHA-256 digests, never the tokens.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from domain.values import Actor

TTL_SECONDS = 3.0
MAX_TOKENS = 10_000


class RecentTokens:
    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._known: OrderedDict[str, tuple[float, datetime, Actor]] = OrderedDict()

    def actor(
        self, token: str, authenticate: Callable[[str], Actor | None], at: datetime | None = None
    ) -> Actor | None:
        """The actor ``token`` stands for: from a recent answer, or asked of ``authenticate``.

        ``at`` is the instant the request is decided at; an answer is reused only within
        ``TTL_SECONDS`` of it too, so a token's expiry is never passed over.
        """
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        instant = at or datetime.now(UTC)
        known = self._recent(key, now, instant)
        if known is not None:
            return known
        actor = authenticate(token)
        if actor is not None:
            with self._lock:
                self._known[key] = (now + self._ttl, instant, actor)
                self._known.move_to_end(key)
                while len(self._known) > MAX_TOKENS:
                    self._known.popitem(last=False)
        return actor

    def known(self, token: str, at: datetime) -> Actor | None:
        """The actor of a recent answer for ``token``, without asking anyone: None when there is none."""
        return self._recent(hashlib.sha256(token.encode()).hexdigest(), self._clock(), at)

    def _recent(self, key: str, now: float, instant: datetime) -> Actor | None:
        with self._lock:
            found = self._known.get(key)
            if (
                found is not None
                and found[0] > now
                and found[1] <= instant < found[1] + timedelta(seconds=self._ttl)
            ):
                return found[2]
        return None

    def forget_user(self, user: str) -> None:
        """A user disabled or given a new token here stops at once in this process."""
        with self._lock:
            for key in [k for k, (_, _, actor) in self._known.items() if actor.user == user]:
                del self._known[key]
