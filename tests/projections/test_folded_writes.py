"""Buffered row writes: a row's later updates fold into its earlier write, with the same result."""

from __future__ import annotations

import pytest

from projections.store import Tx, ViewDatabase

TABLE = "folded"


def _rows(db: ViewDatabase) -> list[tuple[object, ...]]:
    with db.transaction() as tx:
        return [tuple(r.values()) for r in tx.fetchall(f"SELECT k, a, n FROM {TABLE} ORDER BY k")]


def _apply(tx: Tx) -> None:
    tx.insert(TABLE, {"k": "x", "a": "first", "n": 0}, row="x")
    tx.update(TABLE, {"a": "second"}, {"k": "x"}, "x missing", row="x", add={"n": 2})
    tx.update(TABLE, {}, {"k": "x"}, "x missing", row="x", add={"n": 3})
    tx.update(TABLE, {"a": "old"}, {"k": "y"}, "y missing", row="y")
    tx.update(TABLE, {}, {"k": "y"}, "y missing", row="y", add={"n": -1})
    tx.write(f"UPDATE {TABLE} SET a = a || '!' WHERE k = ?", ("y",), row="y")
    tx.update(TABLE, {"a": "last"}, {"k": "y"}, "y missing", row="y")


@pytest.mark.parametrize("buffered", [True, False])
def test_folded_writes_end_as_the_writes_one_by_one(buffered: bool) -> None:
    db = ViewDatabase.in_memory()
    try:
        with db.transaction() as tx:
            tx.execute(f"CREATE TABLE {TABLE} (k TEXT PRIMARY KEY, a TEXT, n BIGINT NOT NULL)")
            tx.execute(f"INSERT INTO {TABLE} VALUES ('y', 'start', 10)")
        with db.transaction() as tx:
            if buffered:
                with tx.pipeline():
                    _apply(tx)
                    tx.verify()
            else:
                _apply(tx)
        assert _rows(db) == [("x", "second", 5), ("y", "last", 9)]
    finally:
        db.close()


def test_a_folded_update_of_a_missing_row_is_still_caught() -> None:
    db = ViewDatabase.in_memory()
    try:
        with db.transaction() as tx:
            tx.execute(f"CREATE TABLE {TABLE} (k TEXT PRIMARY KEY, a TEXT, n BIGINT NOT NULL)")
        with db.transaction() as tx, tx.pipeline():
            tx.update(TABLE, {"a": "one"}, {"k": "z"}, "z missing", row="z")
            tx.update(TABLE, {}, {"k": "z"}, "z missing", row="z", add={"n": 1})
            with pytest.raises(LookupError):
                tx.verify()
    finally:
        db.close()
