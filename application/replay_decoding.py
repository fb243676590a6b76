"""Stored events decoded in bulk, for a replay that reads a whole campaign at once (as-of views).

Gives what ``SubjectMapper.to_domain_event`` gives, for less. The mapper's JSON hook tries
every object of every event (seven or so each) as a wrapped value, by raising ``KeyError``
for each plain one, and builds an actor and a decision for every event. Here each object is
asked first, and the wrapped values that repeat from event to event and never change (ids,
actors, decisions) are revived once per ``Decoding`` and shared by the events recording them.

The JSON is parsed without a hook (the C parser's speed), then only the objects of the fields
kept are walked and revived, innermost first as a hook would see them. Fields the caller never reads
(``left_out``: who decided, for views that show no decision) are not revived at all: they are
absent from the event, so reading one fails loudly rather than finding a raw mapping. An event
that is upcast is revived whole first, as its upcasters may read any field. Of an event of a
topic in ``instant_only`` only its instant is read (from the head of the JSON, where the
transcoder writes it; parsed whole when it is not there): the caller reads nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Container, Hashable
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
from application.recorders import LogRow

#: Transcodings whose values are immutable and equal when their data are: shared once revived.
SHARED = frozenset({"uuid_hex", "actor", "decision"})
#: How the JSON transcoder begins an event's state: its instant, the first of its fields.
_INSTANT = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'


class Decoding:
    """One replay's decoding: what it revives of ``SHARED`` is kept until it is dropped."""

    def __init__(
        self,
        mapper: SubjectMapper,
        opened: Container[str] | None,
        left_out: Collection[str] = (),
        instant_only: Collection[str] = (),
    ) -> None:
        if not isinstance(mapper.transcoder, JSONTranscoder):
            raise TypeError("bulk decoding reads what the JSON transcoder wrote")
        self.mapper = mapper
        self.opened = opened
        self._names: dict[str, Transcoding] = mapper.transcoder.names
        self._shared: dict[Hashable, Any] = {}
        self._classes: dict[str, type[Any]] = {}
        self.left_out = tuple(left_out)
        self._loads = json.JSONDecoder().decode
        self._instant_only = frozenset(instant_only)
        self._datetime = self._names["datetime_iso"]

    def __call__(self, stored_event: StoredEvent | LogRow) -> Any:
        mapper, topic = self.mapper, stored_event.topic
        cls = self._classes.get(topic)
        if cls is None:
            cls = self._classes[topic] = resolve_topic(topic)
        originator_id = stored_event.originator_id
        if topic in self._instant_only and getattr(cls, "class_version", 1) == 1:
            instant = self._instant(stored_event)
            if instant is not None:
                return self._event(cls, stored_event, {"timestamp": instant})
        with subject(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))):
            try:
                state = self._loads(self._plain(stored_event).decode("utf8"))
                class_version = getattr(cls, "class_version", 1)
                if state.get("class_version", 1) >= class_version:  # not upcast: left out, never read
                    for name in self.left_out:
                        state.pop(name, None)
                walk = self._walk
                for name, value in state.items():
                    if type(value) is dict or type(value) is list:
                        state[name] = walk(value)
            except Exception as error:
                raise MapperDeserialisationError(
                    f"Failed to deserialise state of stored event with topic '{topic}', "
                    f"originator_id '{originator_id}' and "
                    f"originator_version {stored_event.originator_version}: {error}"
                ) from error
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = self._event(cls, stored_event, state)
        mapper.open_sealed(state, self.opened)
        return domain_event

    def _event(self, cls: type[Any], stored_event: StoredEvent | LogRow, state: dict[str, Any]) -> Any:
        originator_id = stored_event.originator_id
        convertor = find_id_convertor(cast("Hashable", cls), cast("Hashable", type(originator_id)))
        state["originator_id"] = convertor(originator_id)
        state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event

    def _instant(self, stored_event: StoredEvent | LogRow) -> Any:
        """The event's instant read from the head of its JSON; None when it is not there."""
        try:
            state_bytes = self._plain(stored_event)
            if not state_bytes.startswith(_INSTANT):
                return None
            end = state_bytes.find(b'"', len(_INSTANT))
            return self._datetime.decode(state_bytes[len(_INSTANT) : end].decode("ascii"))
        except Exception as error:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic '{stored_event.topic}', "
                f"originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {error}"
            ) from error

    def _plain(self, stored_event: StoredEvent | LogRow) -> bytes:
        """The stored state deciphered and decompressed: JSON bytes."""
        mapper, state_bytes = self.mapper, stored_event.state
        if mapper.cipher:
            state_bytes = mapper.cipher.decrypt(state_bytes)
        if mapper.compressor:
            state_bytes = mapper.compressor.decompress(state_bytes)
        return state_bytes

    def _walk(self, value: Any) -> Any:
        """A parsed value with its wrapped objects revived, innermost first (as the hook sees them)."""
        walk = self._walk
        if type(value) is dict:
            for name, inner in value.items():
                if type(inner) is dict or type(inner) is list:
                    value[name] = walk(inner)
            return self._revive(value)
        if type(value) is list:
            return [walk(inner) if type(inner) is dict or type(inner) is list else inner for inner in value]
        return value

    def _revive(self, value: dict[str, Any]) -> Any:
        """A wrapped value revived by its transcoding; any other object kept."""
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
