"""The store's keys: the cipher key of the events and the secret behind contestant ids.

Secure by default: a new embedded (SQLite) store gets both generated on first start, kept
owner-only in ``<store>.secrets`` beside the data; a new PostgreSQL store refuses to start
without them. A store remembers which keys it was made with (a table of key checks, never
the keys), so a later start with another key or none is refused in one line, and a store
made before keys were recorded opens as it was: plain when no key is given.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from pydantic import SecretStr

from application.person_keys import KEYS_TABLE, LEGACY, PLAIN, MasterKeys
from application.person_keys import key_check as check_of
from application.settings import Settings, SettingsError
from application.setup_lock import setup_lock

RECORD_TABLE = "zhanyou_store_keys"
_OWNER_ONLY = 0o600
# Statements on the record table; the table name is a constant of this module.
_CREATE = "CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
_INSERT = "INSERT INTO {table} (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING"
_SELECT = "SELECT name, value FROM {table}"
_README_HINT = "README.md 'Protecting a store made without keys'"


@dataclass(frozen=True)
class KeyRecord:
    """The checks of the keys a store was made with (``PLAIN`` for a key it has not)."""

    cipher: str
    ids: str


@dataclass(frozen=True)
class Resolved:
    settings: Settings
    generated: Path | None  # the secrets file made on this start, if one was


def key_check(secret: SecretStr | None) -> str:
    """A keyed digest of a constant: tells keys apart without revealing one."""
    return check_of(secret.get_secret_value() if secret is not None else None)


def secrets_path(settings: Settings) -> Path:
    """``data/zhanyou.db`` -> ``data/zhanyou.secrets``."""
    events = settings.sqlite_path
    return events.with_name(f"{events.stem}.secrets")


def side_file(settings: Settings, tag: str) -> Path:
    """A file beside the SQLite store: ``data/zhanyou.db`` -> ``data/zhanyou.<tag>.db``."""
    events = settings.sqlite_path
    return events.with_name(f"{events.stem}.{tag}{events.suffix or '.db'}")


def resolve_keys(settings: Settings) -> Resolved:
    """The settings with the store's keys filled in, or SettingsError naming what is missing."""
    with setup_lock(settings):
        if not settings.is_postgres:
            harden_data_files(settings)
        record = read_record(settings)
        fresh = record is None and not has_events(settings)
        kept = _read_secrets(settings) if not settings.is_postgres else {}
        cipher = settings.cipher_key or _secret(kept.get("cipher_key"))
        ids = settings.id_secret or _secret(kept.get("id_secret"))
        generated: Path | None = None
        if fresh and (cipher is None or ids is None):
            if settings.is_postgres:
                missing = [
                    name
                    for name, value in (("ZHANYOU_CIPHER_KEY", cipher), ("ZHANYOU_ID_SECRET", ids))
                    if value is None
                ]
                raise SettingsError(
                    f"{', '.join(missing)}: a PostgreSQL store needs a cipher key (base64 AES, "
                    "32 bytes) and an id secret (a long random text); set them, keep them safe"
                )
            from eventsourcing.cipher import AESCipher

            made = dict(kept)  # only what is made here is written: a configured key stays off the disk
            if cipher is None:
                cipher = SecretStr(made.setdefault("cipher_key", AESCipher.create_key(32)))
            if ids is None:
                ids = SecretStr(made.setdefault("id_secret", secrets.token_urlsafe(32)))
            generated = _write_secrets(settings, made)
        resolved = settings.model_copy(update={"cipher_key": cipher, "id_secret": ids})
        if record is not None:
            _require_recorded(record, resolved, settings)
            _require_master_keys(resolved)
        return Resolved(resolved, generated)


def _require_recorded(record: KeyRecord, resolved: Settings, given: Settings) -> None:
    """The keys in use are the ones the store was made with (or, like it, none)."""
    for variable, recorded, secret in (
        ("ZHANYOU_CIPHER_KEY", record.cipher, resolved.cipher_key),
        ("ZHANYOU_ID_SECRET", record.ids, resolved.id_secret or resolved.cipher_key),
    ):
        used = key_check(secret)
        if used == recorded:
            continue
        where = given.describe_store()
        if recorded == PLAIN:
            raise SettingsError(
                f"{variable}: the store ({where}) was made without keys and opens only as it was; "
                f"unset the keys, or copy it into a protected store ({_README_HINT})"
            )
        if used == PLAIN:
            raise SettingsError(f"{variable}: the store ({where}) was made with this key; it is not set")
        raise SettingsError(f"{variable}: not the key the store ({where}) was made with")


def master_keys(settings: Settings) -> MasterKeys:
    def text(secret: SecretStr | None) -> str | None:
        return secret.get_secret_value() if secret is not None else None

    return MasterKeys(
        text(settings.master_key), text(settings.previous_master_key), text(settings.cipher_key)
    )


def _require_master_keys(settings: Settings) -> None:
    """Every data key is wrapped under a master key this process holds, or the start is refused."""
    held = master_keys(settings)
    missing = {check for check in wrapping_checks(settings) if not held.holds(check)}
    if not missing:
        return
    where = settings.describe_store()
    if LEGACY in missing:
        raise SettingsError(
            f"ZHANYOU_CIPHER_KEY: data keys of the store ({where}) are wrapped under its cipher key, "
            "which is not set"
        )
    raise SettingsError(
        f"ZHANYOU_MASTER_KEY: data keys of the store ({where}) are wrapped under a master key that is "
        "neither ZHANYOU_MASTER_KEY nor ZHANYOU_PREVIOUS_MASTER_KEY (set the one they were wrapped "
        "under as the previous key while `zhanyou rotate-key` re-wraps them)"
    )


def wrapping_checks(settings: Settings) -> set[str | None]:
    """Which master keys the store's live data keys are wrapped under (None: the cipher key)."""
    if settings.is_postgres:
        schema = settings.database_schema or "public"
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
            columns = connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                (schema, KEYS_TABLE),
            ).fetchall()
            if not columns:
                return set()
            wrapped = sql.Identifier("wrapped_by") if ("wrapped_by",) in columns else sql.SQL("NULL")
            query = sql.SQL("SELECT DISTINCT {} FROM {} WHERE stored IS NOT NULL").format(
                wrapped, sql.Identifier(schema, KEYS_TABLE)
            )
            return {row[0] for row in connection.execute(query).fetchall()}
    if not settings.sqlite_path.exists():
        return set()
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        names = {row[1] for row in connection.execute(f"PRAGMA table_info({KEYS_TABLE})").fetchall()}
        if not names:
            return set()
        column = "wrapped_by" if "wrapped_by" in names else "NULL"
        # a column name or NULL, and a constant table name
        statement = f"SELECT DISTINCT {column} FROM {KEYS_TABLE} WHERE stored IS NOT NULL"  # noqa: S608
        return {row[0] for row in connection.execute(statement).fetchall()}


def remember_keys(settings: Settings) -> None:
    """Record which keys the store is used with, once; later starts are checked against it."""
    ids = settings.id_secret or settings.cipher_key
    rows = [("cipher", key_check(settings.cipher_key)), ("ids", key_check(ids))]
    with setup_lock(settings):
        if settings.is_postgres:
            table = sql.Identifier(settings.database_schema or "public", RECORD_TABLE)
            with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
                connection.execute(sql.SQL(_CREATE.replace("{table}", "{}")).format(table))
                insert = sql.SQL(_INSERT.replace("{table}", "{}").replace("?", "%s")).format(table)
                with connection.cursor() as cursor:
                    cursor.executemany(insert, rows)
            return
        with closing(sqlite3.connect(settings.sqlite_path)) as db, db:
            db.execute(_CREATE.format(table=RECORD_TABLE))
            db.executemany(_INSERT.format(table=RECORD_TABLE), rows)


def read_record(settings: Settings) -> KeyRecord | None:
    """The store's recorded key checks; None for a new store or one made before they were kept."""
    values: dict[str, str]
    if settings.is_postgres:
        schema = settings.database_schema or "public"
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
            found = connection.execute("SELECT to_regclass(%s)", [f'"{schema}"."{RECORD_TABLE}"']).fetchone()
            if found is None or found[0] is None:
                return None
            query = sql.SQL("SELECT name, value FROM {}").format(sql.Identifier(schema, RECORD_TABLE))
            values = dict(connection.execute(query).fetchall())
    else:
        if not settings.sqlite_path.exists():
            return None
        with closing(sqlite3.connect(settings.sqlite_path)) as connection:
            try:
                values = dict(connection.execute(_SELECT.format(table=RECORD_TABLE)).fetchall())
            except sqlite3.OperationalError:  # no such table
                return None
    if "cipher" not in values or "ids" not in values:
        return None
    return KeyRecord(cipher=values["cipher"], ids=values["ids"])


def has_events(settings: Settings) -> bool:
    """Whether the store holds any event (a store made before its keys were recorded)."""
    if settings.is_postgres:
        schema = settings.database_schema or "public"
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
            found = connection.execute("SELECT to_regclass(%s)", [f'"{schema}"."zhanyou_events"']).fetchone()
            if found is None or found[0] is None:
                return False
            query = sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(schema, "zhanyou_events"))
            return connection.execute(query).fetchone() is not None
    if not settings.sqlite_path.exists():
        return False
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        try:
            return connection.execute("SELECT 1 FROM stored_events LIMIT 1").fetchone() is not None
        except sqlite3.OperationalError:  # no such table
            return False


def harden_data_files(settings: Settings) -> None:
    """The store's files owner-only: made 0600 before the libraries create them, and tightened if older."""
    path = settings.sqlite_path
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for known in (path, side_file(settings, "views"), side_file(settings, "ratelimit")):
        os.close(os.open(known, os.O_RDWR | os.O_CREAT, _OWNER_ONLY))
    for sibling in folder.glob(f"{path.stem}.*"):
        if sibling.is_file() and sibling.stat().st_uid == os.getuid():
            sibling.chmod(_OWNER_ONLY)


def _read_secrets(settings: Settings) -> dict[str, str]:
    path = secrets_path(settings)
    if not path.exists():
        return {}
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SettingsError(f"ZHANYOU_CIPHER_KEY: the secrets file {path} cannot be read: {error}") from None
    return {k: v for k, v in kept.items() if k in ("cipher_key", "id_secret") and isinstance(v, str)}


def _write_secrets(settings: Settings, values: dict[str, str]) -> Path:
    path = secrets_path(settings)
    text = json.dumps(values, indent=2)
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _OWNER_ONLY)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)  # a reader never sees half a file
    return path


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def is_plain(settings: Settings) -> bool:
    """A store used without keys: ids derive from plain values, events are not encrypted."""
    return settings.cipher_key is None and settings.id_secret is None
