"""A repository that asks the store only what an aggregate's kind can need.

The stock repository looks up a snapshot before every load, for every kind, although only
the pools and city teams are ever snapshotted; and its cache, once switched on, keeps every
kind, contestants' personal data included. Here:

- a kind that is never snapshotted is replayed from its events alone (one read);
- only the shared, often-read kinds (the campaign, the pools) are cached; a cached one is
  brought up to date with the events after its version (one read, usually empty), or, for
  a decision whose save checks the version in the insert anyway, taken as it is.
"""

from __future__ import annotations

from collections.abc import Collection
from copy import deepcopy
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate
from eventsourcing.domain import Aggregate


class SelectiveRepository(Repository[UUID]):
    def __init__(
        self, *, snapshotted: Collection[type[Any]], cached: Collection[type[Any]], **options: Any
    ) -> None:
        super().__init__(**options)
        self._snapshotted = tuple(snapshotted)
        self._cached = tuple(cached)

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
                    return deepcopy(self.cache.get(aggregate_id))
                except KeyError:
                    pass
            return self.get(aggregate_id)
        if issubclass(kind, self._snapshotted):
            return self._reconstruct_aggregate(aggregate_id, version, cast(Any, project_aggregate))
        aggregate = project_aggregate(None, self.event_store.get(originator_id=aggregate_id, lte=version))
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r} not found.")
        return aggregate

    def cached(self, kind: type[Any], aggregate_id: UUID) -> bool:
        """Whether this process holds ``aggregate_id`` as a ``kind`` in its cache (nothing is read)."""
        if not self.cache:
            return False
        try:
            return isinstance(self.cache.get(aggregate_id), kind)
        except KeyError:
            return False

    def get(self, aggregate_id: UUID, **options: Any) -> Any:
        """Only the cached kinds enter the cache; others are loaded as the stock repository would."""
        if not self.cache or options.get("version") is not None:
            return super().get(aggregate_id, **options)
        try:
            self.cache.get(aggregate_id)
        except KeyError:
            projector = options.get("projector_func", project_aggregate)
            aggregate = self._reconstruct_aggregate(aggregate_id, None, projector)
            if isinstance(aggregate, self._cached):
                self.cache.put(aggregate_id, aggregate)
                return deepcopy(aggregate)
            return aggregate
        return super().get(aggregate_id, **options)

    def remember(self, aggregates: Collection[object]) -> None:
        """Just-saved aggregates of the cached kinds, so the next load reads no event back."""
        if not self.cache:
            return
        for aggregate in aggregates:
            if isinstance(aggregate, self._cached):
                self.cache.put(cast(Aggregate, aggregate).id, cast(Any, deepcopy(aggregate)))
