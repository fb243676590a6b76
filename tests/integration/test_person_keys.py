"""A data key is stored in the transaction of the events it seals: a save that fails leaves none."""

from __future__ import annotations

from contextlib import closing

from eventsourcing.cipher import AESCipher

from application.bootstrap import build_service
from application.settings import Settings
from domain.decision import DecisionContext
from domain.errors import DuplicatePerson
from domain.values import Channel
from tests.builders import city_staff, make_person
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING, launch, race
from tests.integration.test_key_rotation import key_rows


def test_two_writers_racing_for_one_person_leave_one_key_and_it_opens_the_record(
    new_store: StoreFactory,
) -> None:
    settings: Settings = new_store(cipher_key=AESCipher.create_key(32), id_secret="s" * 40)
    with closing(build_service(settings)) as first, closing(build_service(settings)) as second:
        campaign = launch(first)
        person = make_person(7)
        context = DecisionContext(actor=city_staff("武汉市"), at=RECOMMENDING)
        outcomes = race(
            [
                lambda: first.nominate(campaign, person, Channel.RECOMMENDED, context),
                lambda: second.nominate(campaign, person, Channel.RECOMMENDED, context),
            ]
        )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], DuplicatePerson)
    assert len(key_rows(settings)) == 1  # the loser's key went with its events
    with closing(build_service(settings)) as reader:
        (nominated,) = (o for o in outcomes if not isinstance(o, Exception))
        assert reader.get_contestant(nominated.id).name == "选手7"
