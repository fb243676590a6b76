"""A data key per contestant: what is personal is sealed with it, and erasing them destroys it.

The personal fields of a nomination (``PersonRecord``: name, ID number, mobile, account,
contact, free text), the free text of every decision on the contestant (reason, evidence),
the training account, and a repeated registration's name, numbers and account are stored
sealed (AES-GCM) under the data key of the contestant they are about; data keys are kept
in the store's ``person_keys`` table, wrapped by the master key (``MasterKeys``), each row
naming the master key that wrapped it. The chain hashes cover the sealed bytes, so
destroying one key leaves every proof valid while making that person's fields unreadable
for good: they then read as the erased marker.

Which contestant an event belongs to is only known to the mapper, so it tells the
transcoding through a context variable while it encodes or decodes one event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Container, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, is_dataclass, replace
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

# AES-GCM from `cryptography`: the stored format of the pycryptodome cipher (nonce, tag,
# ciphertext), so data keys and texts sealed by either open with the other, and a cipher is
# far cheaper to make: a replay opens tens of thousands of sealed texts.
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import Environment

from application.ciphers import ReusedAESCipher
from domain.contestant import DECISION_EVENTS, Contestant
from domain.events import ERASED, PersonRecord
from domain.registrations import DuplicateRegistration

KEYS_TABLE = "person_keys"
_SEALED = "sealed"
#: The attribute of a stored event's state holding what was sealed out of it.
SEALED_PART = "personal_sealed"
#: What a row without a recorded master key stands for: wrapped by the store's cipher key,
#: as every data key was before the master key was a setting of its own.
LEGACY = None
PLAIN = "none"  # the check of "no key": a store made without keys keeps its data keys unwrapped
_CHECK_TEXT = b"zhanyou store key check v1"
#: How long an unwrapped key is trusted before its row is read again: another process
#: may have destroyed it.
FRESH_SECONDS = 3.0
_subject: ContextVar[UUID | None] = ContextVar("event_subject", default=None)
#: Data keys made while a save maps its events: written by the recorder in the events' own
#: transaction, remembered only once it commits.
_made: ContextVar[dict[UUID, tuple[AESCipher, bytes, str]] | None] = ContextVar(
    "made_data_keys", default=None
)


#: The aggregate whose first event is being encoded: it cannot have a key yet, so none is looked up.
_created: ContextVar[UUID | None] = ContextVar("created_aggregate", default=None)


@contextmanager
def made_with_the_events() -> Iterator[dict[UUID, tuple[AESCipher, bytes, str]]]:
    """Around one save: the data keys its events need are made here and inserted with them."""
    made: dict[UUID, tuple[AESCipher, bytes, str]] = {}
    token = _made.set(made)
    try:
        yield made
    finally:
        _made.reset(token)


def new_key_rows() -> list[tuple[str, bytes, str]]:
    """(subject, wrapped key, master key check) of the keys the events being inserted need."""
    made = _made.get()
    return [] if not made else [(str(subject), stored, check) for subject, (_, stored, check) in made.items()]


def key_check(secret: str | None) -> str:
    """A keyed digest of a constant: tells keys apart without revealing one."""
    if not secret:
        return PLAIN
    return hmac.new(secret.encode(), _CHECK_TEXT, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class KeyRow:
    subject: UUID
    stored: bytes
    wrapped_by: str | None  # the check of the master key; None: the store's cipher key (LEGACY)


@runtime_checkable
class KeyTable(Protocol):
    """The store's table of data keys (``application/recorders.py``)."""

    def insert_person_key(self, subject: UUID, stored: bytes, wrapped_by: str) -> None: ...
    def select_person_key(self, subject: UUID) -> tuple[bytes | None, str | None] | None: ...
    def select_person_keys(self, subjects: Sequence[UUID]) -> dict[UUID, tuple[bytes | None, str | None]]: ...
    def destroy_person_keys(self, subjects: Sequence[UUID]) -> int: ...
    def select_keys_to_rewrap(self, target: str, after: UUID | None, limit: int) -> list[KeyRow]: ...
    def count_keys_to_rewrap(self, target: str) -> int: ...
    def rewrap_person_keys(self, rows: Sequence[tuple[KeyRow, bytes]], target: str) -> int: ...
    def master_key_checks(self) -> set[str | None]: ...


class MemoryKeyTable:
    """The key table of an in-memory store."""

    def __init__(self) -> None:
        self._rows: dict[UUID, tuple[bytes | None, str | None]] = {}

    def insert_person_key(self, subject: UUID, stored: bytes, wrapped_by: str) -> None:
        self._rows.setdefault(subject, (stored, wrapped_by))

    def select_person_key(self, subject: UUID) -> tuple[bytes | None, str | None] | None:
        return self._rows.get(subject)

    def select_person_keys(self, subjects: Sequence[UUID]) -> dict[UUID, tuple[bytes | None, str | None]]:
        return {subject: self._rows[subject] for subject in subjects if subject in self._rows}

    def destroy_person_keys(self, subjects: Sequence[UUID]) -> int:
        had = sum(self._rows.get(subject, (None, None))[0] is not None for subject in set(subjects))
        for subject in subjects:
            self._rows[subject] = (None, None)
        return had

    def select_keys_to_rewrap(self, target: str, after: UUID | None, limit: int) -> list[KeyRow]:
        rows = sorted(
            (KeyRow(s, stored, by) for s, (stored, by) in self._rows.items() if stored and by != target),
            key=lambda r: str(r.subject),
        )
        return [r for r in rows if after is None or str(r.subject) > str(after)][:limit]

    def count_keys_to_rewrap(self, target: str) -> int:
        return sum(1 for stored, by in self._rows.values() if stored and by != target)

    def rewrap_person_keys(self, rows: Sequence[tuple[KeyRow, bytes]], target: str) -> int:
        done = 0
        for row, stored in rows:
            if self._rows.get(row.subject, (None, None))[0] == row.stored:
                self._rows[row.subject] = (stored, target)
                done += 1
        return done

    def master_key_checks(self) -> set[str | None]:
        return {by for stored, by in self._rows.values() if stored is not None}


class UnknownMasterKey(LookupError):
    """A data key is wrapped under a master key this process does not hold."""

    def __init__(self, check: str) -> None:
        super().__init__(
            f"ZHANYOU_MASTER_KEY: a data key is wrapped under a master key this process does not hold "
            f"(check {check}); set ZHANYOU_PREVIOUS_MASTER_KEY to it until `zhanyou rotate-key` has finished"
        )
        self.check = check


def aes(key_text: str) -> AESCipher:
    return ReusedAESCipher(Environment(env={AESCipher.CIPHER_KEY: key_text}))


class MasterKeys:
    """The master keys data keys are wrapped under: one wraps, each unwraps what it wrapped.

    ``master`` wraps every new data key (and every key ``zhanyou rotate-key`` re-wraps);
    ``previous`` only unwraps, while a rotation is under way; the store's cipher key unwraps
    the rows that name no master key (made before the master key had a setting of its own).
    Base64 AES key texts; none at all on a store made without keys, whose data keys are kept
    unwrapped.
    """

    def __init__(self, master: str | None, previous: str | None = None, store_key: str | None = None) -> None:
        self.master = key_check(master or store_key)
        self.legacy = key_check(store_key)
        self._ciphers: dict[str, Cipher | None] = {}
        for text in (store_key, previous, master):
            if text:
                self._ciphers[key_check(text)] = aes(text)
        if not self._ciphers:
            self._ciphers[PLAIN] = None

    def holds(self, check: str | None) -> bool:
        return (self.legacy if check is LEGACY else check) in self._ciphers

    def wrap(self, key: bytes) -> tuple[bytes, str]:
        cipher = self._ciphers[self.master]
        return (key if cipher is None else cipher.encrypt(key)), self.master

    def unwrap(self, stored: bytes, check: str | None) -> bytes:
        name = self.legacy if check is LEGACY else check
        if name not in self._ciphers:
            raise UnknownMasterKey(str(name))
        cipher = self._ciphers[name]
        return stored if cipher is None else cipher.decrypt(stored)


class PersonKeys:
    """Data keys by contestant: made on first use, cached unwrapped, destroyed on erasure."""

    def __init__(self, table: KeyTable, masters: MasterKeys) -> None:
        self.table = table
        self.masters = masters
        self._cache: dict[UUID, tuple[float, AESCipher | None]] = {}
        self._lock = threading.Lock()
        self._looked_up: set[UUID] = set()  # new aggregates whose save failed: their key is looked up

    def _cipher(self, key: bytes) -> AESCipher:
        return aes(base64.b64encode(key).decode())

    def _load(self, subject: UUID, *, create: bool) -> AESCipher | None:
        made = _made.get()
        if made is not None and subject in made:
            return made[subject][0]
        with self._lock:
            cached = self._cache.get(subject)
            new = create and made is not None and subject == _created.get() and subject not in self._looked_up
        if cached is not None and (cached[1] is None or time.monotonic() - cached[0] < FRESH_SECONDS):
            return cached[1]  # a destroyed key stays destroyed
        found = None if new else self.table.select_person_key(subject)
        if found is None and create:
            key = AESCipher.random_bytes(32)
            if made is not None:  # inserted with the events; a writer who came first fails the insert
                made[subject] = (self._cipher(key), *self.masters.wrap(key))
                return made[subject][0]
            self.table.insert_person_key(subject, *self.masters.wrap(key))
            found = self.table.select_person_key(subject)  # another writer's key if it came first
        if found is None:
            return None  # never made: nothing to remember, it may be made later
        stored, wrapped_by = found
        if stored is None:
            cipher = None
        elif cached is not None:
            cipher = cached[1]  # the row still holds it (re-wrapped, perhaps): the same key
        else:
            cipher = self._cipher(self.masters.unwrap(stored, wrapped_by))
        with self._lock:
            self._cache[subject] = (time.monotonic(), cipher)
        return cipher

    def prefetch(self, subjects: Sequence[UUID]) -> None:
        """Read the rows of many subjects in one query, e.g. before a page of events is decoded."""
        now = time.monotonic()
        with self._lock:
            stale = {
                s
                for s in subjects
                if (c := self._cache.get(s)) is None or (c[1] and now - c[0] >= FRESH_SECONDS)
            }
        if not stale:
            return
        found = self.table.select_person_keys(sorted(stale, key=str))
        for subject, (stored, wrapped_by) in found.items():
            with self._lock:
                cached = self._cache.get(subject)
            if stored is None:
                cipher = None
            elif cached is not None and cached[1] is not None:
                cipher = cached[1]
            else:
                cipher = self._cipher(self.masters.unwrap(stored, wrapped_by))
            with self._lock:
                self._cache[subject] = (now, cipher)

    def seal(self, subject: UUID, plaintext: bytes) -> str:
        cipher = self._load(subject, create=True)
        if cipher is None:
            raise ErasedSubject(subject)
        return base64.b64encode(cipher.encrypt(plaintext)).decode()

    def open(self, subject: UUID, sealed: str) -> bytes | None:
        """The plaintext, or None when the subject's key was destroyed."""
        cipher = self._load(subject, create=False)
        return None if cipher is None else cipher.decrypt(base64.b64decode(sealed))

    def destroy(self, *subjects: UUID) -> int:
        """Destroy the subjects' keys; how many there were to destroy."""
        with self._lock:
            for subject in subjects:
                self._cache[subject] = (time.monotonic(), None)
        return self.table.destroy_person_keys(subjects) if subjects else 0

    def exists(self, subject: UUID) -> bool:
        """Whether the subject has a live key (read from the table)."""
        found = self.table.select_person_key(subject)
        return found is not None and found[0] is not None

    def keep(self, made: Mapping[UUID, tuple[AESCipher, bytes, str]]) -> None:
        """Remember the keys a save made, once its transaction has committed."""
        now = time.monotonic()
        if isinstance(self.table, MemoryKeyTable):  # no transaction to have written them in
            for subject, (_, stored, check) in made.items():
                self.table.insert_person_key(subject, stored, check)
        with self._lock:
            for subject, (cipher, _, _) in made.items():
                self._cache[subject] = (now, cipher)
                self._looked_up.discard(subject)

    def look_up(self, made: Mapping[UUID, object]) -> None:
        """A save that made these keys failed: another writer may have stored a key for them first."""
        with self._lock:
            self._looked_up.update(made)

    def forget_all(self) -> None:
        """Drop every cached key: the next use of each reads the table again."""
        with self._lock:
            self._cache.clear()

    def forget(self, subject: UUID) -> None:
        """Drop a cached key, so the next use reads the table again (another process erased it)."""
        with self._lock:
            self._cache.pop(subject, None)


class ErasedSubject(Exception):
    """The contestant's personal data were erased; nothing personal can be recorded for them."""


class subject:
    """Whose event is being encoded or decoded, while inside: a class, as a replay enters it for
    every one of tens of thousands of events (a generator-based one costs three times as much)."""

    __slots__ = ("_originator_id", "_token")

    def __init__(self, originator_id: UUID) -> None:
        self._originator_id = originator_id

    def __enter__(self) -> None:
        self._token = _subject.set(self._originator_id)

    def __exit__(self, *_: object) -> None:
        _subject.reset(self._token)


@dataclass(frozen=True)
class Sealing:
    """What of one kind of event is about a person, and whose key seals it.

    :ivar fields: attribute paths (``decision.reason``, ``person.name``) sealed out of the state.
    :ivar owner: the attribute naming the contestant it is about; None: the event's originator.
    """

    fields: tuple[str, ...]
    owner: str | None = None


_DECISION_TEXT = ("decision.reason", "decision.evidence")
#: The events whose free text is about a person. The ``Erased`` decision is not: its reason
#: must outlive the key it destroys.
SEALINGS: dict[type[Any], Sealing] = {
    **{kind: Sealing(_DECISION_TEXT) for kind in DECISION_EVENTS if kind is not Contestant.Erased},
    Contestant.TrainingAccountAssigned: Sealing(("training_account", *_DECISION_TEXT)),
    getattr(DuplicateRegistration, "RegistrationDuplicated"): Sealing(  # noqa: B009 - made by @event
        ("id_number", "person.name", "person.mobile", "person.account"), owner="matches"
    ),
}


def _get(state: Mapping[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    value = state.get(head)
    if not rest or value is None:
        return value
    return value.get(rest) if isinstance(value, dict) else getattr(value, rest)


def _set(state: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        state[head] = value
    elif isinstance(state.get(head), dict):
        state[head] = {**state[head], rest: value}
    elif is_dataclass(state.get(head)):
        state[head] = replace(state[head], **{rest: value})


class SubjectMapper(Mapper[UUID]):
    """Tells the transcodings whose event is being encoded or decoded; seals what ``SEALINGS`` names."""

    keys: PersonKeys | None = None  # attached once the store is open; None: the single key only

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        first = domain_event.originator_id if domain_event.originator_version == 1 else None
        token = _created.set(first)
        try:
            with subject(domain_event.originator_id):
                return super().to_stored_event(self._sealed(domain_event))
        finally:
            _created.reset(token)

    def prefetch(self, stored_events: Sequence[StoredEvent]) -> None:
        """The keys of the events' originators read at once, before the events are decoded one by one."""
        if self.keys is not None and stored_events:
            ids = {
                e.originator_id if isinstance(e.originator_id, UUID) else UUID(str(e.originator_id))
                for e in stored_events
            }
            self.keys.prefetch(list(ids))

    def to_domain_event(self, stored_event: StoredEvent, *, opened: Container[str] | None = None) -> Any:
        """``opened``: the sealed fields the caller reads (None: all). Text sealed with none of them
        stays shut, its fields None: a replay that shows no reason decrypts no reason."""
        originator = stored_event.originator_id
        with subject(originator if isinstance(originator, UUID) else UUID(str(originator))):
            domain_event = super().to_domain_event(stored_event)
        self.open_sealed(vars(domain_event), opened)
        return domain_event

    def open_sealed(self, state: dict[str, Any], opened: Container[str] | None) -> None:
        """Put back into a decoded event's state what was sealed out of it, if ``opened`` asks for it."""
        if SEALED_PART in state:
            part = state.pop(SEALED_PART)
            if opened is None or any(path in opened for path in part["fields"]):
                self._open(state, part)

    def _sealed(self, domain_event: Any) -> Any:
        sealing = SEALINGS.get(type(domain_event))
        if sealing is None or self.keys is None:
            return domain_event
        state = dict(vars(domain_event))
        personal = {path: _get(state, path) for path in sealing.fields}
        personal = {path: value for path, value in personal.items() if value is not None}
        if not personal:
            return domain_event
        text = json.dumps(personal, ensure_ascii=False).encode()
        owner: UUID = domain_event.originator_id
        about = getattr(domain_event, sealing.owner, None) if sealing.owner else None
        sealed: str | None = None
        if isinstance(about, UUID):
            with suppress(ErasedSubject):  # the contestant repeated was erased already: its own key
                sealed, owner = self.keys.seal(about, text), about
        if sealed is None:
            sealed = self.keys.seal(owner, text)
        for path in personal:
            _set(state, path, None)
        state[SEALED_PART] = {"subject": str(owner), "fields": sorted(personal), _SEALED: sealed}
        copy = object.__new__(type(domain_event))
        object.__setattr__(copy, "__dict__", state)
        return copy

    def _open(self, state: dict[str, Any], part: dict[str, Any]) -> None:
        if self.keys is None:
            raise LookupError("sealed personal text needs its contestant's key")
        plaintext = self.keys.open(UUID(part["subject"]), part[_SEALED])
        values = dict.fromkeys(part["fields"], ERASED) if plaintext is None else json.loads(plaintext)
        for path, value in values.items():
            _set(state, path, value)


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
