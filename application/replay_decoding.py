"""Stored events decoded in bulk, for a replay that reads a whole campaign at once (as-of views).

Gives what ``SubjectMapper.to_domain_event`` gives, for less. The mapper's JSON hook tries
every object of every event (seven or so each) as a wrapped value, by raising ``KeyError``
for each plain one, and builds an actor and a decision for every event. Here the hook asks
first, and the wrapped values that repeat from event to event and never change (ids,
actors, decisions) are revived once per ``Decoding`` and shared by the events recording them.
"""

from __future__ import annotations

import json
from collections.abc import Container, Hashable
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    JSONTranscoder,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from application.person_keys import SubjectMapper, subject

#: Transcodings whose values are immutable and equal when their data are: shared once revived.
SHARED = frozenset({"uuid_hex", "actor", "decision"})


class Decoding:
    """One replay's decoding: what it revives of ``SHARED`` is kept until it is dropped."""

    def __init__(self, mapper: SubjectMapper, opened: Container[str] | None) -> None:
        if not isinstance(mapper.transcoder, JSONTranscoder):
            raise TypeError("bulk decoding reads what the JSON transcoder wrote")
        self.mapper = mapper
        self.opened = opened
        self._names: dict[str, Transcoding] = mapper.transcoder.names
        self._shared: dict[Hashable, Any] = {}
        self._classes: dict[str, type[Any]] = {}
        self._json = json.JSONDecoder(object_hook=self._revive)

    def __call__(self, stored_event: StoredEvent) -> Any:
        mapper, topic = self.mapper, stored_event.topic
        cls = self._classes.get(topic)
        if cls is None:
            cls = self._classes[topic] = resolve_topic(topic)
        originator_id = stored_event.originator_id
        with subject(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))):
            try:
                state_bytes = stored_event.state
                if mapper.cipher:
                    state_bytes = mapper.cipher.decrypt(state_bytes)
                if mapper.compressor:
                    state_bytes = mapper.compressor.decompress(state_bytes)
                state = self._json.decode(state_bytes.decode("utf8"))
            except Exception as error:
                raise MapperDeserialisationError(
                    f"Failed to deserialise state of stored event with topic '{topic}', "
                    f"originator_id '{originator_id}' and "
                    f"originator_version {stored_event.originator_version}: {error}"
                ) from error
        convertor = find_id_convertor(cast("Hashable", cls), cast("Hashable", type(originator_id)))
        state["originator_id"] = convertor(originator_id)
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        mapper.open_sealed(state, self.opened)
        return domain_event

    def _revive(self, value: dict[str, Any]) -> Any:
        """The JSON decoder's hook: a wrapped value revived by its transcoding, any other object kept."""
        name = value.get("_type_")
        if name is None or len(value) != 2 or "_data_" not in value:
            return value
        data = value["_data_"]
        transcoding = self._names.get(name)
        if transcoding is None:
            raise ValueError(f"Data serialized with name '{name}' is not deserializable")
        if name not in SHARED:
            return transcoding.decode(data)
        key = (name, tuple(data.items()) if type(data) is dict else data)
        try:
            return self._shared[key]
        except KeyError:
            found = self._shared[key] = transcoding.decode(data)
            return found
        except TypeError:  # a value that cannot be a key (a list): not shared
            return transcoding.decode(data)
