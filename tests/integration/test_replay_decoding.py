"""Events decoded in bulk for a replay read as the mapper reads them, on both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic
from pydantic import SecretStr

from application.bootstrap import build_service
from application.person_keys import SubjectMapper
from application.recorders import PostgresCampaignRecorder, SQLiteCampaignRecorder
from application.replay_decoding import Decoding
from application.service import CampaignService
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.events import ERASED
from projections.asof import INSTANT_ONLY, LEFT_OUT, OPENED
from tests.builders import ADMIN
from tests.conftest import StoreFactory
from tests.integration.test_stored_format import _store_fixture, _store_v2
from tests.projections.helpers import AWARDED, scripted_campaign

KEY = SecretStr("A" * 43 + "=")


def _mapper(service: CampaignService) -> SubjectMapper:
    mapper = service.mapper
    assert isinstance(mapper, SubjectMapper)
    return mapper


def _both_ways(service: CampaignService, opened: Any) -> list[tuple[Any, Any]]:
    mapper = _mapper(service)
    decode = Decoding(mapper, opened)
    stored = service.recorder.select_notifications(start=1, limit=10_000)
    assert stored
    return [(mapper.to_domain_event(n, opened=opened), decode(n)) for n in stored]


@pytest.mark.parametrize("opened", [None, OPENED], ids=["all", "as-of"])
def test_a_sealed_campaign_decodes_as_the_mapper_decodes_it(new_store: StoreFactory, opened: Any) -> None:
    service = build_service(new_store(cipher_key=KEY))
    try:
        script = scripted_campaign(service)
        service.erase(script.id(2), DecisionContext(actor=ADMIN, at=AWARDED, reason="本人申请删除"))
        pairs = _both_ways(service, opened)
    finally:
        service.close()
    assert {type(e) for e, _ in pairs} >= {Contestant.Nominated, Contestant.Erased, Contestant.Competed}
    for expected, decoded in pairs:
        assert type(decoded) is type(expected)
        assert vars(decoded) == vars(expected), type(expected).__qualname__
    accounts = {e.training_account for _, e in pairs if isinstance(e, Contestant.TrainingAccountAssigned)}
    assert "hb-train-0001" in accounts  # opened
    reasons = {e.decision.reason for _, e in pairs if isinstance(e, Contestant.Verified)}
    assert reasons == ({None} if opened is not None else {"材料齐全", ERASED})  # shut unless asked for


def test_events_stored_by_earlier_releases_decode_as_the_mapper_decodes_them(
    service: CampaignService,
) -> None:
    _store_fixture(service)
    _store_v2(service)
    for expected, decoded in _both_ways(service, None):
        assert type(decoded) is type(expected)
        assert vars(decoded) == vars(expected), type(expected).__qualname__


def test_the_same_decision_is_decoded_once_and_shared(service: CampaignService) -> None:
    scripted_campaign(service)
    trained = [e for _, e in _both_ways(service, OPENED) if isinstance(e, Contestant.Trained)]
    assert len(trained) > 1
    assert len({id(e.decision) for e in trained}) == 1


def test_an_event_sealed_under_another_key_fails_as_the_mapper_fails(new_store: StoreFactory) -> None:
    settings = new_store(cipher_key=KEY)
    service = build_service(settings)
    try:
        scripted_campaign(service)
    finally:
        service.close()
    other = build_service(settings.model_copy(update={"cipher_key": SecretStr("B" * 43 + "=")}))
    try:
        stored = other.recorder.select_notifications(start=1, limit=1)
        with pytest.raises(MapperDeserialisationError, match="Failed to deserialise"):
            Decoding(_mapper(other), OPENED)(stored[0])
    finally:
        other.close()


def _lean(service: CampaignService) -> list[tuple[Any, Any]]:
    """Each event as the mapper decodes it beside the as-of replay's lean decoding of it."""
    mapper = _mapper(service)
    decode = Decoding(mapper, OPENED, LEFT_OUT, INSTANT_ONLY)
    stored = service.recorder.select_notifications(start=1, limit=10_000)
    return [(mapper.to_domain_event(n, opened=OPENED), decode(n)) for n in stored]


def test_the_replays_decoding_leaves_out_only_what_the_views_never_read(new_store: StoreFactory) -> None:
    service = build_service(new_store(cipher_key=KEY))
    try:
        scripted_campaign(service)
        pairs = _lean(service)
    finally:
        service.close()
    instants = 0
    for expected, decoded in pairs:
        assert type(decoded) is type(expected)
        if get_topic(type(expected)) in INSTANT_ONLY:
            instants += 1
            kept = ("timestamp", "originator_id", "originator_version")
            assert vars(decoded) == {name: getattr(expected, name) for name in kept}
        else:
            assert vars(decoded) == {k: v for k, v in vars(expected).items() if k not in LEFT_OUT}
    assert instants > 10
    assert not hasattr(pairs[-1][1], "decision")  # absent, not a raw mapping


def test_an_instant_not_at_the_head_of_the_json_is_found_by_parsing_it_whole(
    service: CampaignService,
) -> None:
    scripted_campaign(service)
    mapper = _mapper(service)
    stored = service.recorder.select_notifications(start=1, limit=10_000)
    verified = next(n for n in stored if n.topic == get_topic(Contestant.Verified))
    state = verified.state if mapper.cipher is None else mapper.cipher.decrypt(verified.state)
    fields = json.loads(state)
    moved = json.dumps(
        {**{k: v for k, v in fields.items() if k != "timestamp"}, "timestamp": fields["timestamp"]}
    )
    assert not moved.startswith('{"timestamp"')
    encoded = moved.encode() if mapper.cipher is None else mapper.cipher.encrypt(moved.encode())
    reordered = StoredEvent(verified.originator_id, verified.originator_version, verified.topic, encoded)
    decoded = Decoding(mapper, OPENED, LEFT_OUT, INSTANT_ONLY)(reordered)
    expected = mapper.to_domain_event(verified, opened=OPENED)
    assert decoded.timestamp == expected.timestamp
    assert vars(decoded) == {k: v for k, v in vars(expected).items() if k not in LEFT_OUT}


def test_the_log_read_for_a_replay_is_the_notifications_the_library_reads(service: CampaignService) -> None:
    scripted_campaign(service)
    recorder = service.recorder
    assert isinstance(recorder, SQLiteCampaignRecorder | PostgresCampaignRecorder)
    head = recorder.max_notification_id() or 0
    topics = [get_topic(Contestant.Nominated), get_topic(Contestant.Verified), get_topic(Contestant.Competed)]
    for after, stop, limit in ((0, head, 10_000), (3, head - 2, 10_000), (0, head, 4), (head, head, 10)):
        expected = recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
        )
        rows = recorder.select_log(after, stop, topics, limit)
        assert [tuple(row) for row in rows] == [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in expected
        ]
    assert len(recorder.select_log(0, head, topics, 10_000)) > 10
