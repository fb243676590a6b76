"""The tamper drill: raw SQL on the real tables, every change found, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from application.bootstrap import build_service
from application.settings import Settings
from ledger.operations import seal, take_checkpoint, verify
from ledger.verify import BreakKind
from tests.ledger.helpers import NOW, broken, chained_store, fill
from tests.ledger.tamper import Tables


def test_an_untouched_store_verifies_with_its_count_and_head(settings: Settings) -> None:
    signed, checkpoint = chained_store(settings)
    result = verify(signed)
    assert result.ok
    assert result.count == checkpoint.checkpoint.count == len(Tables(signed).ids())
    assert result.head.hex() == checkpoint.checkpoint.head
    assert result.checkpoints == 1


def test_the_chain_grows_with_every_insert_after_a_checkpoint(settings: Settings) -> None:
    signed, checkpoint = chained_store(settings)
    service = build_service(signed)
    try:
        fill(service, range(5, 7))
    finally:
        service.close()
    result = verify(signed, against=[checkpoint])
    assert result.ok
    assert result.count > checkpoint.checkpoint.count


def test_one_changed_byte_of_a_stored_state_is_found(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    target = tables.ids()[5]
    tables.flip_byte(target)
    result = verify(signed)
    assert broken(result) is BreakKind.CHANGED
    assert result.broken is not None
    assert result.broken.notification_id == target
    assert result.count == 5


def test_a_deleted_row_is_found_missing(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    target = tables.ids()[4]
    tables.delete_event(target)
    tables.delete_link(target)
    result = verify(signed)
    assert broken(result) is BreakKind.MISSING
    assert result.broken is not None
    assert result.broken.position == 5


def test_a_deleted_event_whose_link_remains_is_found_missing(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    target = tables.ids()[4]
    tables.delete_event(target)
    result = verify(signed)
    assert broken(result) is BreakKind.MISSING
    assert result.broken is not None
    assert result.broken.notification_id == target


def test_two_swapped_rows_are_found_reordered(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    ids = tables.ids()
    tables.swap(ids[3], ids[9])
    result = verify(signed)
    assert broken(result) is BreakKind.REORDERED
    assert result.broken is not None
    assert str(ids[9]) in result.broken.detail


def test_two_swapped_neighbours_are_found_reordered(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    ids = tables.ids()
    tables.swap(ids[6], ids[7])
    assert broken(verify(signed)) is BreakKind.REORDERED


def test_a_forged_row_is_found_inserted_even_when_events_follow_it(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    ids = tables.ids()
    oid, _, topic, state = tables.row(ids[2])
    tables.insert_event(ids[-1] + 1, (oid, 99, topic, state))  # behind the application's back
    service = build_service(signed)
    try:
        fill(service, range(5, 6))  # the application goes on writing after it
    finally:
        service.close()
    result = verify(signed)
    assert broken(result) is BreakKind.INSERTED
    assert result.broken is not None
    assert result.broken.notification_id == ids[-1] + 1


def test_a_changed_chain_hash_is_found(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    target = tables.ids()[7]
    tables.set_link(target, bytes(32))
    result = verify(signed)
    assert broken(result) is BreakKind.HASH_ALTERED
    assert result.broken is not None
    assert result.broken.notification_id == target


def test_a_deleted_chain_hash_is_found(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    tables.delete_link(tables.ids()[7])
    assert broken(verify(signed)) is BreakKind.HASH_ALTERED


def test_a_cut_tail_is_caught_against_the_latest_checkpoint(settings: Settings) -> None:
    signed, checkpoint = chained_store(settings)
    tables = Tables(signed)
    for nid in tables.ids()[-3:]:
        tables.delete_event(nid)
        tables.delete_link(nid)
    result = verify(signed)
    assert broken(result) is BreakKind.TRUNCATED
    assert result.count == checkpoint.checkpoint.count - 3


def test_a_resealed_chain_after_a_change_is_caught_by_the_signed_checkpoint(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    tables.flip_byte(tables.ids()[5])
    tables.delete_all_links()
    assert seal(signed, by="intruder", at=NOW) is not None  # a whole new, self-consistent chain
    result = verify(signed)
    assert broken(result) is BreakKind.REWRITTEN


def test_a_resealed_chain_is_caught_by_a_kept_checkpoint_when_the_stored_ones_are_gone(
    settings: Settings, tmp_path: Path
) -> None:
    signed, kept = chained_store(settings)
    tables = Tables(signed)
    tables.flip_byte(tables.ids()[2])
    tables.delete_all_links()
    tables.run("DELETE FROM {checkpoints}")
    seal(signed, by="intruder", at=NOW)
    assert verify(signed).ok  # nothing in the store contradicts it any more ...
    assert broken(verify(signed, against=[kept])) is BreakKind.REWRITTEN  # ... the kept checkpoint does


def test_a_checkpoint_not_signed_by_the_store_key_is_reported(settings: Settings) -> None:
    signed, checkpoint = chained_store(settings)
    tables = Tables(signed)
    forged = checkpoint.document().replace(checkpoint.checkpoint.head, "00" * 32)
    tables.run(
        "INSERT INTO {checkpoints} (position, document) VALUES (?, ?)", (checkpoint.checkpoint.count, forged)
    )
    assert broken(verify(signed)) is BreakKind.FORGED_CHECKPOINT


def test_a_store_older_than_the_chain_is_sealed_once_and_the_seal_is_reported(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    tables.delete_all_links()  # as a store written before the chain existed
    tables.run("DELETE FROM {checkpoints}")
    assert broken(verify(signed)) is BreakKind.NOT_SEALED
    service = build_service(signed)
    try:
        fill(service, range(5, 6))  # an unsealed store gets no links until it is sealed
    finally:
        service.close()
    assert broken(verify(signed)) is BreakKind.NOT_SEALED
    sealed = seal(signed, by="operator", at=NOW)
    assert sealed is not None
    assert sealed[0] == len(tables.ids())
    assert seal(signed, by="operator", at=NOW) is None  # once only
    take_checkpoint(signed, reason="sealed", signer="tests", at=NOW)
    result = verify(signed)
    assert result.ok
    assert [s.by for s in result.seals] == ["operator"]
    assert result.head == sealed[1]
