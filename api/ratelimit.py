"""A simple in-memory sliding-window limit per client address (one process only)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from api.problems import ApiProblem

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, per_minute: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one request of ``client``; 429 when it is over the limit."""
        now = self._monotonic()
        with self._lock:
            if len(self._hits) > 100_000:  # forget idle clients rather than grow without end
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - WINDOW_SECONDS}
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self._limit:
                retry = max(1, int(hits[0] + WINDOW_SECONDS - now) + 1)
                raise ApiProblem(
                    429,
                    "rate_limited",
                    f"rate_limited: at most {self._limit} self-registrations a minute from one address",
                    {"Retry-After": str(retry)},
                )
            hits.append(now)
