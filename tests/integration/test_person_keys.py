"""Data keys made for a batch at once: one key per person across processes, none after erasure."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.cipher import AESCipher

from application.bootstrap import build_service
from application.person_keys import ErasedSubject
from application.service import CampaignService
from application.settings import Settings
from tests.conftest import StoreFactory


@pytest.fixture
def two_processes(new_store: StoreFactory) -> Iterator[tuple[CampaignService, CampaignService]]:
    """Two services on one store with a master key, as two processes would be."""
    settings: Settings = new_store(cipher_key=AESCipher.create_key(32))
    first, second = build_service(settings), build_service(settings)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_a_person_keyed_in_two_processes_has_one_key(
    two_processes: tuple[CampaignService, CampaignService],
) -> None:
    first, second = two_processes
    people = [uuid.uuid4() for _ in range(3)]
    first.person_keys.prepare(people[:2])
    second.person_keys.prepare(people)  # two of them were keyed by the other process already
    for n, person in enumerate(people):
        sealed = second.person_keys.seal(person, f"选手{n}".encode())
        assert first.person_keys.open(person, sealed) == f"选手{n}".encode()
        assert second.person_keys.open(person, first.person_keys.seal(person, b"x")) == b"x"


def test_no_key_is_made_again_for_an_erased_person(
    two_processes: tuple[CampaignService, CampaignService],
) -> None:
    first, second = two_processes
    erased, other = uuid.uuid4(), uuid.uuid4()
    first.person_keys.prepare([erased])
    sealed = first.person_keys.seal(erased, b"secret")
    assert first.person_keys.destroy(erased)
    second.person_keys.prepare([erased, other])
    with pytest.raises(ErasedSubject):
        second.person_keys.seal(erased, b"again")
    assert second.person_keys.open(erased, sealed) is None
    assert first.person_keys.open(other, second.person_keys.seal(other, b"kept")) == b"kept"
