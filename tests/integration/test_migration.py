"""A store made without keys, copied into a protected one: same people and histories, keyed ids."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher

from application import decisions
from application.bootstrap import build_service
from application.migration import MigrationRefused, copy_store
from application.settings import Settings
from domain.access import personal_data_log_id
from domain.decision import DecisionContext
from domain.ids import allotment_id
from domain.places import Allotment, cap_scope
from domain.values import Channel, Group
from tests.builders import ADMIN, city_staff, make_person
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch
from tests.integration.test_encryption import stored_rows
from tests.integration.test_secure_default import reverse_id

KEYS = {"cipher_key": AESCipher.create_key(32), "id_secret": "an id secret long enough for a test"}


def _plain_store(settings: Settings) -> tuple[UUID, list[str]]:
    """A campaign with two people, one verified, a personal-data read and a user."""
    with closing(build_service(settings)) as service:
        campaign = launch(service)
        people = [make_person(31), make_person(32)]
        ids = [
            service.nominate(
                campaign, p, Channel.RECOMMENDED, DecisionContext(actor=city_staff(p.city), at=RECOMMENDING)
            ).id
            for p in people
        ]
        service.decide(ids[0], decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
        service.read_personal_data(ids[1], actor=ADMIN, at=REVIEWING)
        service.create_user("judge-1", "judge", None, "0" * 64, DecisionContext(actor=ADMIN, at=REVIEWING))
    return campaign, [p.id_number.value for p in people]


def test_a_plain_store_is_copied_into_a_protected_one(settings: Settings, new_store: StoreFactory) -> None:
    campaign, numbers = _plain_store(settings)
    target = new_store(**KEYS)
    with closing(build_service(settings)) as old, closing(build_service(target)) as new:
        copied = copy_store(old, new)
        assert (copied.contestants, copied.claims) == (2, 2)
        assert copied.events == old.last_notification_id() == new.last_notification_id()
        for number in numbers:
            before, after = old.find_contestant(campaign, number), new.find_contestant(campaign, number)
            assert before.id != after.id
            assert (after.name, after.status, after.version, after.id_number) == (
                before.name,
                before.status,
                before.version,
                before.id_number,
            )
            assert [e.type for e in new.history(after.id)] == [e.type for e in old.history(before.id)]
            assert (
                reverse_id(campaign, after.id_number[:6] + "*" * 8 + after.id_number[-4:], after.id) is None
            )
        verified = new.find_contestant(campaign, numbers[0])
        read = new.find_contestant(campaign, numbers[1])
        assert len(new.personal_data_reads(read.id)) == 1
        assert new.repository.get(personal_data_log_id(read.id)).contestant_id == read.id
        cap: Allotment = new.repository.get(allotment_id(campaign, cap_scope(Group.TRAINEE)))
        assert cap.taken == 2  # both places kept under the new ids
        assert {verified.group, read.group} == {Group.TRAINEE}
        assert [u.username for u in new.list_users()] == ["judge-1"]
        # the new store's ids are the ones it derives, so its uniqueness checks still hold
        again = make_person(31, handle="another-handle")
        with pytest.raises(Exception, match="already a contestant"):
            new.nominate(
                campaign,
                again,
                Channel.RECOMMENDED,
                DecisionContext(actor=city_staff(again.city), at=RECOMMENDING),
            )
        with pytest.raises(MigrationRefused, match="not empty"):
            copy_store(old, new)
    everything = b"\n".join(row for rows in stored_rows(target).values() for row in rows)
    assert numbers[0].encode() not in everything


def test_only_a_plain_store_is_copied_and_only_into_a_keyed_one(new_store: StoreFactory) -> None:
    plain, keyed, other = new_store(), new_store(**KEYS), new_store()
    with (
        closing(build_service(plain)) as a,
        closing(build_service(keyed)) as b,
        closing(build_service(other)) as c,
    ):
        with pytest.raises(MigrationRefused, match="needs a cipher key"):
            copy_store(a, c)
        with pytest.raises(MigrationRefused, match="already derives its ids from a key"):
            copy_store(b, a)


def test_the_migrate_command(tmp_path: Path) -> None:
    old = Settings.load(database_url=f"sqlite:///{tmp_path / 'old' / 'zhanyou.db'}", cipher_key=None)
    old = old.model_copy(update={"id_secret": None})
    campaign, numbers = _plain_store(old)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    env["ZHANYOU_DATABASE_URL"] = old.database_url
    new_url = f"sqlite:///{tmp_path / 'new' / 'zhanyou.db'}"
    zhanyou = str(Path(sys.executable).with_name("zhanyou"))
    done = subprocess.run(
        [zhanyou, "migrate", "--to", new_url], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout
    assert "(2 contestants, 2 accounts)" in done.stdout
    new = Settings.load(database_url=new_url, cipher_key=None).model_copy(update={"id_secret": None})
    from application.store_keys import resolve_keys

    with closing(build_service(resolve_keys(new).settings)) as service:
        assert service.find_contestant(campaign, numbers[0]).name == make_person(31).name
    again = subprocess.run(
        [zhanyou, "migrate", "--to", new_url], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1] == "zhanyou: the target store is not empty"
