"""The ledger's tables, beside the events table, on both backends.

- ``<events>_chain``: one row per chained event: its notification id, its position in the
  chain (1, 2, ...) and its link (``ledger.links``).
- ``<events>_seals``: one row per sealing of a store whose events were stored before the
  chain existed: when, how many events it covered and the head it produced.
- ``<events>_checkpoints``: signed checkpoints, each kept as the signed JSON document.
- ``<events>_verifications``: the outcome of each verification (for ``/metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.sql import SQL, Composed, Identifier

SQLITE_EVENTS = "stored_events"
POSTGRES_EVENTS = "zhanyou_events"  # the library's "<application name>_events"


@dataclass(frozen=True)
class LedgerTables:
    events: str

    @property
    def chain(self) -> str:
        return f"{self.events}_chain"

    @property
    def seals(self) -> str:
        return f"{self.events}_seals"

    @property
    def checkpoints(self) -> str:
        return f"{self.events}_checkpoints"

    @property
    def verifications(self) -> str:
        return f"{self.events}_verifications"


def sqlite_statements(tables: LedgerTables) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {tables.chain} ("
        "notification_id INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, link BLOB NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {tables.seals} ("
        "position INTEGER PRIMARY KEY, sealed_at TEXT NOT NULL, head BLOB NOT NULL, by TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {tables.checkpoints} ("
        "id INTEGER PRIMARY KEY AUTOINCREMENT, position INTEGER NOT NULL, document TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {tables.verifications} ("
        "id INTEGER PRIMARY KEY AUTOINCREMENT, finished_at TEXT NOT NULL, ok INTEGER NOT NULL, "
        "count INTEGER NOT NULL, seconds REAL NOT NULL, outcome TEXT NOT NULL)",
    ]


def postgres_statements(schema: str, tables: LedgerTables) -> list[Composed]:
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (notification_id bigint PRIMARY KEY, "
            "position bigint NOT NULL UNIQUE, link bytea NOT NULL)"
        ).format(Identifier(schema), Identifier(tables.chain)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (position bigint PRIMARY KEY, "
            "sealed_at text NOT NULL, head bytea NOT NULL, by text NOT NULL)"
        ).format(Identifier(schema), Identifier(tables.seals)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (id bigserial PRIMARY KEY, "
            "position bigint NOT NULL, document text NOT NULL)"
        ).format(Identifier(schema), Identifier(tables.checkpoints)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (id bigserial PRIMARY KEY, finished_at text NOT NULL, "
            "ok boolean NOT NULL, count bigint NOT NULL, seconds double precision NOT NULL, "
            "outcome text NOT NULL)"
        ).format(Identifier(schema), Identifier(tables.verifications)),
    ]
