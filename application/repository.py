"""A repository that asks the store only what an aggregate's kind can need.

The stock repository looks up a snapshot before every load, for every kind, although only
the pools and city teams are ever snapshotted; and its cache, once switched on, keeps every
kind, contestants' personal data included. Here:

- a kind that is never snapshotted is replayed from its events alone (one read);
- only the shared, often-read kinds (the campaign, the pools) are cached; a cached one is
  brought up to date with the events after its version (one read, usually empty), or, for
  a decision whose save checks the version in the insert anyway, taken as it is;
- a cached aggregate is replaced, never changed in place, so one lent to a decision that
  only reads it (``lend``) stays as it was while the decision runs, without a copy.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from copy import copy, deepcopy
from datetime import date, datetime
from enum import Enum
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate

#: Values a copy may share with its original: nothing in them can change.
_IMMUTABLE = (int, float, str, bytes, type(None), UUID, date, datetime, Enum)


class LentAggregateChanged(RuntimeError):
    """A decision changed an aggregate it was lent to read; the cache has dropped it."""


class SelectiveRepository(Repository[UUID]):
    def __init__(
        self, *, snapshotted: Collection[type[Any]], cached: Collection[type[Any]], **options: Any
    ) -> None:
        super().__init__(**options)
        self._snapshotted = tuple(snapshotted)
        self._cached = tuple(cached)
        self._replacing = threading.Lock()
        self._lent = threading.local()

    def load(
        self, kind: type[Any], aggregate_id: UUID, version: int | None = None, *, as_cached: bool = False
    ) -> Any:
        """The aggregate ``aggregate_id`` expected to be a ``kind``, current or at ``version``.

        ``as_cached``: the cached state without reading the store, for a decision whose
        save is refused when the aggregate has moved on.
        """
        if version is None and self.cache and issubclass(kind, self._cached):
            if as_cached:
                try:
                    return copied(self.cache.get(aggregate_id))
                except KeyError:
                    pass
            return self.get(aggregate_id)
        if issubclass(kind, self._snapshotted):
            return self._reconstruct_aggregate(aggregate_id, version, replayed)
        aggregate = replayed(None, self.event_store.get(originator_id=aggregate_id, lte=version))
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r} not found.")
        return aggregate

    @contextmanager
    def lending(self) -> Iterator[None]:
        """Aggregates lent in the block are checked at its end: one that was changed (it should
        only have been read) is dropped from the cache, so no later decision sees the change."""
        outer: list[tuple[Aggregate, int]] | None = getattr(self._lent, "loans", None)
        loans: list[tuple[Aggregate, int]] = []
        self._lent.loans = loans
        try:
            yield
        finally:
            self._lent.loans = outer
            changed = self._changed(loans)
        if changed:
            raise changed

    def check_loans(self) -> None:
        """Raise ``LentAggregateChanged`` (before a save) if an aggregate lent in the current
        ``lending`` block was changed; it is dropped from the cache."""
        changed = self._changed(getattr(self._lent, "loans", None) or [])
        if changed:
            raise changed

    def _changed(self, loans: list[tuple[Aggregate, int]]) -> LentAggregateChanged | None:
        """Decisions change aggregates by events only: a lent one has none pending, nor a new version."""
        changed = [lent for lent, version in loans if lent.pending_events or lent.version != version]
        for lent in changed:
            self._drop(lent)
        if not changed:
            return None
        return LentAggregateChanged(f"a decision changed the aggregate {changed[0].id} it only reads")

    def lend(self, kind: type[Any], aggregate_id: UUID) -> Any:
        """The cached ``kind`` itself, not a copy, for a decision that only reads it and whose save
        is refused when it has moved on; a copy outside ``lending``, or as ``load`` when not cached."""
        loans: list[tuple[Aggregate, int]] | None = getattr(self._lent, "loans", None)
        if not self.cache or loans is None or not issubclass(kind, self._cached):
            return self.load(kind, aggregate_id, as_cached=True)
        try:
            cached = cast(Aggregate, self.cache.get(aggregate_id))
        except KeyError:
            return self.load(kind, aggregate_id)  # cached by this load: lent from the next one
        loans.append((cached, cached.version))
        return cached

    def cached(self, kind: type[Any], aggregate_id: UUID) -> bool:
        """Whether this process holds ``aggregate_id`` as a ``kind`` in its cache (nothing is read)."""
        if not self.cache:
            return False
        try:
            return isinstance(self.cache.get(aggregate_id), kind)
        except KeyError:
            return False

    def get(self, aggregate_id: UUID, **options: Any) -> Any:
        """Only the cached kinds enter the cache; others are loaded as the stock repository would.

        A cached aggregate behind the store is brought up to date on a copy, which replaces it.
        """
        if not self.cache or options.get("version") is not None:
            return super().get(aggregate_id, **options)
        projector = options.get("projector_func", replayed)
        try:
            cached = self.cache.get(aggregate_id)
        except KeyError:
            aggregate = self._reconstruct_aggregate(aggregate_id, None, projector)
            if isinstance(aggregate, self._cached):
                self._replace(aggregate)
                return copied(aggregate)
            return aggregate
        newer = list(self.event_store.get(originator_id=aggregate_id, gt=cached.version))
        if not newer:
            return copied(cached)
        current = projector(copied(cached), newer)
        if current is None:
            raise AggregateNotFoundError(aggregate_id)
        self._replace(current)
        return copied(current)

    def remember(self, aggregates: Collection[object]) -> None:
        """Just-saved aggregates of the cached kinds, so the next load reads no event back."""
        if not self.cache:
            return
        for aggregate in aggregates:
            if isinstance(aggregate, self._cached):
                self._replace(copied(cast(Aggregate, aggregate)))

    def _replace(self, aggregate: Aggregate) -> None:
        """Cache ``aggregate`` unless a later version is cached already (another thread's)."""
        assert self.cache is not None  # noqa: S101 - only called with a cache
        with self._replacing:
            try:
                if self.cache.get(aggregate.id).version >= aggregate.version:
                    return
            except KeyError:
                pass
            self.cache.put(aggregate.id, aggregate)

    def _drop(self, aggregate: Aggregate) -> None:
        assert self.cache is not None  # noqa: S101 - only lent with a cache
        with self._replacing:
            try:
                if self.cache.get(aggregate.id) is aggregate:
                    self.cache.get(aggregate.id, evict=True)
            except KeyError:
                pass


def copied(aggregate: Any) -> Any:
    """A copy as independent as ``deepcopy``'s, sharing only values that cannot change.

    A pool's state is a few numbers and names: copying it is then a shallow copy, not a
    walk of every value.
    """
    twin = copy(aggregate)
    state = vars(twin)
    for name, value in state.items():
        if not isinstance(value, _IMMUTABLE):
            state[name] = [] if isinstance(value, list) and not value else deepcopy(value)
    return twin


def replayed(aggregate: Any, events: Iterable[Any]) -> Any:
    """``project_aggregate`` without its assertion of a runtime protocol on every event, which
    costs more than applying the event (on Python 3.11); the store holds aggregates' events."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
