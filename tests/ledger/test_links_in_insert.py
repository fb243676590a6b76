"""The links the recorders write (on PostgreSQL, computed by the insert statement itself) are
the links ``ledger.links`` computes, whatever the shape of the events; a refused insert
leaves neither events nor links behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.answers import ANSWER, AnswerKept, StoredAnswer
from application.bootstrap import build_service
from application.recorders import UNCHANGED, CampaignMoved
from application.service import CampaignService
from application.settings import Settings
from ledger.links import GENESIS, StoredRow, link
from ledger.operations import verify
from ledger.store import open_ledger
from tests.ledger.helpers import with_key


@pytest.fixture
def store(settings: Settings) -> Iterator[tuple[Settings, CampaignService]]:
    signed = with_key(settings)
    service = build_service(signed)
    try:
        yield signed, service
    finally:
        service.close()


def _event(originator: uuid.UUID, version: int, topic: str, state: bytes) -> StoredEvent:
    return StoredEvent(originator_id=originator, originator_version=version, topic=topic, state=state)


def _recomputed(settings: Settings) -> tuple[list[bytes], list[bytes]]:
    """(links as stored, links recomputed here from the events as stored), in log order."""
    with open_ledger(settings) as ledger:
        rows: list[StoredRow] = list(ledger.events())
        stored = [found.link for found in ledger.links()]
    previous, computed = GENESIS, []
    for row in rows:
        previous = link(previous, row)
        computed.append(previous)
    return stored, computed


def test_links_of_events_of_any_shape_agree_with_the_verifier(
    store: tuple[Settings, CampaignService],
) -> None:
    settings, service = store
    one, other = uuid.uuid4(), uuid.uuid4()
    service.recorder.insert_events([_event(one, 1, "tests.ledger:单个事件", b"")])
    service.recorder.insert_events(
        [
            _event(one, 2, "tests.ledger:Event", b"\x00" * 3 + "选手".encode()),
            _event(other, 2**40, "x", bytes(range(256)) * 40),
            _event(other, 2**40 + 1, "tests.ledger:" + "长" * 300, b"{}"),
        ]
    )
    service.recorder.insert_events([_event(uuid.uuid4(), 1, "t", b"last")])
    stored, computed = _recomputed(settings)
    assert len(stored) == 5
    assert stored == computed
    result = verify(settings)
    assert result.ok
    assert (result.count, result.head) == (5, computed[-1])


def test_an_insert_refused_for_a_moved_campaign_leaves_no_event_and_no_link(
    store: tuple[Settings, CampaignService],
) -> None:
    settings, service = store
    campaign = uuid.uuid4()
    service.recorder.insert_events([_event(campaign, 1, "t", b"a"), _event(campaign, 2, "t", b"b")])
    with pytest.raises(CampaignMoved):
        service.recorder.insert_events([_event(uuid.uuid4(), 1, "t", b"c")], **{UNCHANGED: (campaign, 1)})
    assert _recomputed(settings)[0] == _recomputed(settings)[1]
    assert len(_recomputed(settings)[0]) == 2
    service.recorder.insert_events([_event(uuid.uuid4(), 1, "t", b"d")], **{UNCHANGED: (campaign, 2)})
    assert verify(settings).count == 3


def test_an_insert_whose_answer_was_kept_meanwhile_leaves_no_event_and_no_link(
    store: tuple[Settings, CampaignService],
) -> None:
    settings, service = store
    answer = StoredAnswer(user="clerk", key="k-1", fingerprint="f", status=201, body={"ok": True})
    service.recorder.insert_events([_event(uuid.uuid4(), 1, "t", b"a")], **{ANSWER: answer})
    with pytest.raises(AnswerKept):
        service.recorder.insert_events([_event(uuid.uuid4(), 1, "t", b"b")], **{ANSWER: answer})
    taken = uuid.uuid4()
    service.recorder.insert_events([_event(taken, 1, "t", b"c")])
    other = StoredAnswer(user="clerk", key="k-2", fingerprint="f", status=201, body={})
    with pytest.raises(IntegrityError):  # a conflict of the events themselves rolls back their answer
        service.recorder.insert_events([_event(taken, 1, "t", b"c")], **{ANSWER: other})
    assert service.recall_answer("clerk", "k-2") is None
    result = verify(settings)
    assert result.ok
    assert result.count == 2
