"""A data key per contestant: their personal fields are sealed with it, and erasing them destroys it.

The personal fields of a nomination (``PersonRecord``: name, ID number, mobile, account,
contact, free text) are stored sealed (AES-GCM) under the contestant's own data key; data
keys are kept in the store's ``person_keys`` table, wrapped by the master key (the store's
cipher key) when there is one. The chain hashes cover the sealed bytes, so destroying one
key leaves every proof valid while making that person's fields unreadable for good: they
then read as the erased marker.

Which contestant an event belongs to is only known to the mapper, so it tells the
transcoding through a context variable while it encodes or decodes one event.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import Environment

from domain.events import PersonRecord

_SEALED = "sealed"
_subject: ContextVar[UUID | None] = ContextVar("event_subject", default=None)


@runtime_checkable
class KeyTable(Protocol):
    """The store's table of data keys (``application/recorders.py``)."""

    def claim_person_keys(self, offers: Mapping[UUID, bytes]) -> dict[UUID, bytes | None]:
        """Store each offered key unless its subject has one; every subject's key as stored
        (None once destroyed), in one call."""
        ...

    def select_person_key(self, subject: UUID) -> tuple[bytes | None] | None: ...
    def select_person_keys(self, subjects: Sequence[UUID]) -> dict[UUID, bytes | None]: ...
    def destroy_person_key(self, subject: UUID) -> bool: ...


class MemoryKeyTable:
    """The key table of an in-memory store."""

    def __init__(self) -> None:
        self._rows: dict[UUID, bytes | None] = {}

    def claim_person_keys(self, offers: Mapping[UUID, bytes]) -> dict[UUID, bytes | None]:
        return {subject: self._rows.setdefault(subject, stored) for subject, stored in offers.items()}

    def select_person_key(self, subject: UUID) -> tuple[bytes | None] | None:
        return (self._rows[subject],) if subject in self._rows else None

    def select_person_keys(self, subjects: Sequence[UUID]) -> dict[UUID, bytes | None]:
        return {subject: self._rows[subject] for subject in subjects if subject in self._rows}

    def destroy_person_key(self, subject: UUID) -> bool:
        had = self._rows.get(subject) is not None
        self._rows[subject] = None
        return had


class PersonKeys:
    """Data keys by contestant: made on first use, cached unwrapped, destroyed on erasure."""

    def __init__(self, table: KeyTable, master: Cipher | None) -> None:
        self._table = table
        self._master = master
        self._cache: dict[UUID, AESCipher | None] = {}
        self._lock = threading.Lock()

    def _cipher(self, key: bytes) -> AESCipher:
        return AESCipher(Environment(env={AESCipher.CIPHER_KEY: base64.b64encode(key).decode()}))

    def _load(self, subject: UUID, *, create: bool) -> AESCipher | None:
        with self._lock:
            if subject in self._cache:
                return self._cache[subject]
        if create:
            self.prepare([subject])
            with self._lock:
                return self._cache[subject]
        found = self._table.select_person_key(subject)
        if found is None or found[0] is None:  # never made, or destroyed
            return None
        cipher = self._unwrapped(found[0])
        with self._lock:
            self._cache[subject] = cipher
        return cipher

    def _unwrapped(self, stored: bytes) -> AESCipher:
        return self._cipher(self._master.decrypt(stored) if self._master else stored)

    def prepare(self, subjects: Iterable[UUID]) -> None:
        """Every subject's key at hand, made and stored first where there is none: one store
        call for all, so a batch of nominations does not pay a round trip per person."""
        with self._lock:
            missing = [s for s in dict.fromkeys(subjects) if s not in self._cache]
        if not missing:
            return
        made = {subject: AESCipher.random_bytes(32) for subject in missing}
        offers = {s: self._master.encrypt(key) if self._master else key for s, key in made.items()}
        stored = self._table.claim_person_keys(offers)
        found: dict[UUID, AESCipher | None] = {}
        for subject in missing:
            kept = stored.get(subject)
            if kept is None:  # destroyed: nothing personal can be recorded for them
                found[subject] = None
            elif kept == offers[subject]:
                found[subject] = self._cipher(made[subject])
            else:  # another writer's key came first
                found[subject] = self._unwrapped(kept)
        with self._lock:
            for subject, cipher in found.items():
                self._cache.setdefault(subject, cipher)

    def preload(self, subjects: Iterable[UUID]) -> None:
        """Unwrap the keys of many subjects with one read of the table (a replay decodes thousands)."""
        with self._lock:
            wanted = [subject for subject in dict.fromkeys(subjects) if subject not in self._cache]
        if not wanted:
            return
        found = self._table.select_person_keys(wanted)
        master = self._master
        ciphers = {
            subject: None if stored is None else self._cipher(master.decrypt(stored) if master else stored)
            for subject, stored in found.items()
        }
        with self._lock:
            for subject, cipher in ciphers.items():
                self._cache.setdefault(subject, cipher)  # a destruction meanwhile wins

    def seal(self, subject: UUID, plaintext: bytes) -> str:
        cipher = self._load(subject, create=True)
        if cipher is None:
            raise ErasedSubject(subject)
        return base64.b64encode(cipher.encrypt(plaintext)).decode()

    def open(self, subject: UUID, sealed: str) -> bytes | None:
        """The plaintext, or None when the subject's key was destroyed."""
        cipher = self._load(subject, create=False)
        return None if cipher is None else cipher.decrypt(base64.b64decode(sealed))

    def destroy(self, subject: UUID) -> bool:
        """Destroy the subject's key (True if there was one to destroy)."""
        with self._lock:
            self._cache[subject] = None
        return self._table.destroy_person_key(subject)

    def forget(self, subject: UUID) -> None:
        """Drop a cached key, so the next use reads the table again (another process erased it)."""
        with self._lock:
            self._cache.pop(subject, None)


class ErasedSubject(Exception):
    """The contestant's personal data were erased; nothing personal can be recorded for them."""


@contextmanager
def subject(originator_id: UUID) -> Iterator[None]:
    token = _subject.set(originator_id)
    try:
        yield
    finally:
        _subject.reset(token)


class SubjectMapper(Mapper[UUID]):
    """Tells the transcodings whose event is being encoded or decoded."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        with subject(domain_event.originator_id):
            return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        originator = stored_event.originator_id
        with subject(originator if isinstance(originator, UUID) else UUID(str(originator))):
            return super().to_domain_event(stored_event)


class SealedPersonRecord(Transcoding):
    """A ``PersonRecord`` sealed under its contestant's data key; the erased marker once destroyed."""

    type = PersonRecord
    name = "person_record"

    def __init__(self) -> None:
        self.keys: PersonKeys | None = None  # attached once the store is open

    def encode(self, obj: PersonRecord) -> dict[str, Any]:
        owner = _subject.get()
        data = obj.to_data()
        if self.keys is None or owner is None:
            return data
        personal = json.dumps(obj.personal(), ensure_ascii=False).encode()
        kept = {name: value for name, value in data.items() if name not in PersonRecord.PERSONAL}
        return {**kept, _SEALED: self.keys.seal(owner, personal)}

    def decode(self, data: dict[str, Any]) -> PersonRecord:
        if _SEALED not in data:
            return PersonRecord.from_data(data)
        owner = _subject.get()
        if self.keys is None or owner is None:
            raise LookupError("a sealed person record needs its contestant's key")
        kept = {name: value for name, value in data.items() if name != _SEALED}
        plaintext = self.keys.open(owner, data[_SEALED])
        if plaintext is None:
            blanks = dict.fromkeys(PersonRecord.PERSONAL, "")
            return PersonRecord.from_data({**kept, **blanks}).erased()
        return PersonRecord.from_data({**kept, **json.loads(plaintext)})
