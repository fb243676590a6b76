"""Raw SQL on the real tables, as someone holding the database would tamper with them."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from psycopg import sql

from application.settings import Settings
from ledger.tables import POSTGRES_EVENTS, SQLITE_EVENTS, LedgerTables

Row = tuple[Any, int, str, bytes]


class Tables:
    """The events table and the chain table of one store, behind the application's back."""

    def __init__(self, settings: Settings) -> None:
        self.pg = settings.is_postgres
        if self.pg:
            self.dsn = settings.database_url
            self.schema = settings.database_schema or "public"
            self.tables = LedgerTables(POSTGRES_EVENTS)
            self.id = "notification_id"
        else:
            self.path = str(settings.sqlite_path)
            self.tables = LedgerTables(SQLITE_EVENTS)
            self.id = "rowid"

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement in a transaction of its own; ``{events}``/``{chain}``/``{id}`` are named."""
        if self.pg:
            text = statement.replace("?", "%s").format(
                events=f'"{self.schema}"."{self.tables.events}"',
                chain=f'"{self.schema}"."{self.tables.chain}"',
                checkpoints=f'"{self.schema}"."{self.tables.checkpoints}"',
                id=self.id,
            )
            with psycopg.connect(self.dsn) as connection:
                cursor = connection.execute(sql.SQL(text), params)
                return list(cursor.fetchall()) if cursor.description else []
        text = statement.format(
            events=self.tables.events,
            chain=self.tables.chain,
            checkpoints=self.tables.checkpoints,
            id=self.id,
        )
        with sqlite3.connect(self.path) as connection:
            return list(connection.execute(text, params).fetchall())

    def ids(self) -> list[int]:
        return [r[0] for r in self.run("SELECT {id} FROM {events} ORDER BY {id}")]

    def row(self, nid: int) -> Row:
        found = self.run(
            "SELECT originator_id, originator_version, topic, state FROM {events} WHERE {id} = ?", (nid,)
        )
        oid, version, topic, state = found[0]
        return oid, version, topic, bytes(state)

    def set_row(self, nid: int, row: Row) -> None:
        columns = "originator_id = ?, originator_version = ?, topic = ?, state = ?"
        self.run("UPDATE {events} SET " + columns + " WHERE {id} = ?", (*row, nid))

    def flip_byte(self, nid: int, offset: int = 10) -> None:
        oid, version, topic, state = self.row(nid)
        changed = bytearray(state)
        changed[offset] ^= 0x01
        self.set_row(nid, (oid, version, topic, bytes(changed)))

    def swap(self, a: int, b: int) -> None:
        first, second = self.row(a), self.row(b)
        self.set_row(a, (first[0], -1, first[2], first[3]))  # out of the primary key's way
        self.set_row(b, first)
        self.set_row(a, second)

    def delete_event(self, nid: int) -> None:
        self.run("DELETE FROM {events} WHERE {id} = ?", (nid,))

    def delete_link(self, nid: int) -> None:
        self.run("DELETE FROM {chain} WHERE notification_id = ?", (nid,))

    def insert_event(self, nid: int, row: Row) -> None:
        columns = "({id}, originator_id, originator_version, topic, state)"
        self.run("INSERT INTO {events} " + columns + " VALUES (?, ?, ?, ?, ?)", (nid, *row))

    def set_link(self, nid: int, value: bytes) -> None:
        self.run("UPDATE {chain} SET link = ? WHERE notification_id = ?", (value, nid))

    def link(self, nid: int) -> bytes:
        return bytes(self.run("SELECT link FROM {chain} WHERE notification_id = ?", (nid,))[0][0])

    def delete_all_links(self) -> None:
        self.run("DELETE FROM {chain}")
