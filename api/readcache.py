"""Answers of the roster and quotas reads, kept while the view they were read from stays put.

A view's answer can change only when the view moves on, so a body is kept under the view's
stamp (its generation of tables and its position) with everything else that shapes it: the
reader's role and the city the reader is limited to, and the whole normalised query. Access
checks run before every look-up, so a refusal is never skipped and one reader's answer is
never another's with other rights. The position is read before the rows, so a kept body is
never older than its stamp.

When a view moves on (a new event, an erasure among them) or its tables are switched (a new
generation), every body read from it before is dropped, at its next read or at the next
sweep (``CacheSweeper``, every second), whichever comes first: an erased person's name does
not stay in memory for long after the erasure's arrival in the view. A switch of tables made
by another process (``zhanyou rebuild``) with no new event is seen at the next event. A stamp
other than the one kept, older too (a store restored under a running process), drops them the
same way: only one stamp's bodies are ever kept per view. Readers of a body being read wait
for that one read (one query per view position, however many ask). Bounded by entries and
bytes, the least recently used going first. As-of reads are computed from the log, never kept
here.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping

import anyio.to_thread

#: (generation of the view's tables, position of the view in the log): it only grows.
Stamp = tuple[int, int]


class ReadCache:
    def __init__(self, max_entries: int = 512, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # the event loop and worker threads both use it
        self._stamps: dict[str, Stamp] = {}
        self._bodies: OrderedDict[tuple[str, Hashable], bytes] = OrderedDict()
        self._bytes = 0
        # reads under way, by what they will be kept as; touched on the event loop only
        self._reading: dict[tuple[str, Stamp, Hashable], asyncio.Future[bytes]] = {}
        self.hits = 0
        self.misses = 0
        self.reads = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    async def answer(self, view: str, stamp: Stamp, key: Hashable, read: Callable[[], bytes]) -> bytes:
        """The body kept, or ``read()`` on a worker thread, kept then.

        Readers asking for a body already being read wait for that read rather than each
        querying the view: when a view moves, the first read of its new position is the only
        one. The read is a task of its own, so a reader that goes away cancels only its wait.
        """
        body = self.get(view, stamp, key)
        if body is not None:
            return body
        under_way = self._reading.get((view, stamp, key))
        if under_way is None:
            under_way = asyncio.ensure_future(self._read(view, stamp, key, read))
            self._reading[(view, stamp, key)] = under_way
            under_way.add_done_callback(lambda done: self._done((view, stamp, key), done))
        return await asyncio.shield(under_way)

    async def _read(self, view: str, stamp: Stamp, key: Hashable, read: Callable[[], bytes]) -> bytes:
        self.reads += 1
        body = await anyio.to_thread.run_sync(read)
        self.put(view, stamp, key, body)
        return body

    def _done(self, reading: tuple[str, Stamp, Hashable], done: asyncio.Future[bytes]) -> None:
        del self._reading[reading]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone away

    def get(self, view: str, stamp: Stamp, key: Hashable) -> bytes | None:
        with self._lock:
            self._adopt(view, stamp)
            body = self._bodies.get((view, key))
            if body is not None:
                self._bodies.move_to_end((view, key))
                self.hits += 1
                return body
            self.misses += 1
            return None

    def put(self, view: str, stamp: Stamp, key: Hashable, body: bytes) -> None:
        if not self.enabled or len(body) > self.max_bytes:
            return
        with self._lock:
            self._adopt(view, stamp)
            old = self._bodies.pop((view, key), None)
            if old is not None:
                self._bytes -= len(old)
            self._bodies[(view, key)] = body
            self._bytes += len(body)
            while len(self._bodies) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._bodies)

    def clear(self) -> None:
        """Forget every body (the views' tables were changed behind their positions' back)."""
        with self._lock:
            self._stamps.clear()
            self._bodies.clear()
            self._bytes = 0

    def views(self) -> list[str]:
        """The views some body is kept for."""
        with self._lock:
            return list(self._stamps)

    def sweep(self, positions: Mapping[str, int]) -> None:
        """Drop the bodies of every view whose position is no longer the one they were read at,
        without waiting for its next read: an erased person's name goes within a sweep."""
        with self._lock:
            moved = [v for v, (_, at) in self._stamps.items() if v in positions and positions[v] != at]
            for view in moved:
                del self._stamps[view]
                for key in [k for k in self._bodies if k[0] == view]:
                    self._bytes -= len(self._bodies.pop(key))

    def _adopt(self, view: str, stamp: Stamp) -> None:
        """Make ``stamp`` the view's: the bodies of another stamp are dropped first."""
        if self._stamps.get(view) != stamp:
            self._stamps[view] = stamp
            for key in [k for k in self._bodies if k[0] == view]:
                self._bytes -= len(self._bodies.pop(key))


class CacheSweeper:
    """Sweeps the cache every ``seconds`` against the views' positions, in a thread of its own.

    ``positions`` reads them (from this process's runner, or from the store when another
    process runs the views); a store that does not answer is simply tried at the next sweep.
    """

    def __init__(
        self, cache: ReadCache, positions: Callable[[list[str]], Mapping[str, int]], seconds: float = 1.0
    ) -> None:
        self.cache, self.positions, self.seconds = cache, positions, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhanyou-read-cache-sweep", daemon=True)

    def start(self) -> CacheSweeper:
        if self.cache.enabled:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            kept = self.cache.views()
            if not kept:
                continue
            try:
                self.cache.sweep(self.positions(kept))
            except Exception:  # noqa: S112 - the store is away: the next sweep tries again
                continue
