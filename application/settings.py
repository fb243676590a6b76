"""One validated settings object, read from ZHANYOU_* environment variables."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


_S = TypeVar("_S", bound=BaseSettings)


def load_validated(kind: type[_S], overrides: Mapping[str, object]) -> _S:
    """Read and validate settings; a bad one becomes one line naming ZHANYOU_<NAME>."""
    try:
        return kind(**overrides)  # type: ignore[arg-type]  # field values, not BaseSettings options
    except ValidationError as error:
        first = error.errors()[0]
        name = "ZHANYOU_" + str(first["loc"][0]).upper() if first["loc"] else "ZHANYOU_*"
        raise SettingsError(f"{name}: {first['msg']}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHANYOU_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///data/zhanyou.db",
        description="sqlite:///PATH (or a bare file path) for the embedded store, "
        "postgresql://USER:PASSWORD@HOST:PORT/DBNAME for production",
    )
    database_schema: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        description="PostgreSQL schema for the event store (default: public): letters, digits, _",
    )
    pool_size: int = Field(default=5, ge=1, le=100, description="PostgreSQL connections kept open")
    pool_timeout: int = Field(
        default=1,
        ge=1,
        le=30,
        description="seconds one try may wait for a PostgreSQL connection (a request then answers 503)",
    )
    pool_max_waiting: int = Field(
        default=64, ge=0, le=10_000, description="callers queued for a PostgreSQL connection (0: no limit)"
    )
    cipher_key: SecretStr | None = Field(
        default=None,
        description="base64 AES key (16, 24 or 32 bytes): events are encrypted at rest when set",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="base64 AES key (16, 24 or 32 bytes) wrapping the per-person data keys "
        "(default: the cipher key); `zhanyou rotate-key` re-wraps every data key under it",
    )
    previous_master_key: SecretStr | None = Field(
        default=None,
        description="while a rotation is under way: the master key data keys may still be wrapped "
        "under (read, never used to wrap)",
    )
    compress: bool = Field(default=False, description="zlib-compress events before storing")
    erasure_list: Path | None = Field(
        default=None,
        description="the list of erased contestants, kept apart from the store so that a backup "
        "restored from before an erasure is erased again at start (default: beside the SQLite "
        "file; data/erasures.jsonl for PostgreSQL)",
    )
    id_secret: SecretStr | None = Field(
        default=None,
        description="secret for the keyed pseudonyms behind contestant and account ids "
        "(defaults to the cipher key); never change it once data is stored",
    )

    signing_key: SecretStr | None = Field(
        default=None,
        description="base64 Ed25519 private key (32 bytes) that signs checkpoints; an embedded "
        "SQLite store makes one in its data folder when unset, PostgreSQL requires it",
    )

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("", "sqlite", "postgresql", "postgres"):
            raise ValueError(f"unsupported scheme {scheme!r}: use sqlite:///PATH or postgresql://...")
        return value

    @field_validator("id_secret")
    @classmethod
    def _unset_when_empty(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("cipher_key", "master_key", "previous_master_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            key = base64.b64decode(value.get_secret_value(), validate=True)
        except binascii.Error:
            raise ValueError("not valid base64") from None
        if len(key) not in (16, 24, 32):
            raise ValueError(f"an AES key is 16, 24 or 32 bytes, this one is {len(key)}")
        return value

    @field_validator("signing_key")
    @classmethod
    def _ed25519_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            key = base64.b64decode(value.get_secret_value(), validate=True)
        except binascii.Error:
            raise ValueError("not valid base64") from None
        if len(key) != 32:
            raise ValueError(f"an Ed25519 key is 32 bytes, this one is {len(key)}")
        return value

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        return load_validated(cls, overrides)

    @property
    def is_postgres(self) -> bool:
        return urlsplit(self.database_url).scheme in ("postgresql", "postgres")

    @property
    def sqlite_path(self) -> Path:
        return _sqlite_path(self.database_url)

    @property
    def erasures_path(self) -> Path:
        if self.erasure_list is not None:
            return self.erasure_list
        if self.is_postgres:
            return Path("data") / f"erasures-{self.database_schema or 'public'}.jsonl"
        return self.sqlite_path.with_name(self.sqlite_path.name + ".erasures.jsonl")

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's configuration for this store."""
        env: dict[str, str] = {}
        if self.is_postgres:
            url = urlsplit(self.database_url)
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_POOL_SIZE": str(self.pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.pool_size),
                "POSTGRES_LOCK_TIMEOUT": "5",
                # The library passes this to the pool as the wait for a connection (whole seconds).
                "POSTGRES_CONNECT_TIMEOUT": str(self.pool_timeout),
                "POSTGRES_MAX_WAITING": str(self.pool_max_waiting),
                # A pooled connection is checked before use: after a server restart the first
                # requests get a live connection, not a dead one. The event store's recorder
                # checks without a round trip instead (application/pool_check.py).
                "POSTGRES_PRE_PING": "y",
                "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
            }
            if self.database_schema:
                env["POSTGRES_SCHEMA"] = self.database_schema
        else:
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        if self.cipher_key is not None:
            env |= {
                # AES-GCM from `cryptography`: the stored format of the pycryptodome cipher (nonce,
                # tag, ciphertext), so either reads what the other wrote, and some 30 times faster.
                "CIPHER_TOPIC": "application.ciphers:ReusedAESCipher",
                "CIPHER_KEY": self.cipher_key.get_secret_value(),
            }
        for name, master in (
            ("MASTER_KEY", self.master_key),
            ("PREVIOUS_MASTER_KEY", self.previous_master_key),
        ):
            if master is not None:
                env[name] = master.get_secret_value()
        secret = self.id_secret or self.cipher_key
        if secret is not None and secret.get_secret_value():
            env["PSEUDONYM_KEY"] = secret.get_secret_value()
        if self.compress:
            env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
        env["ERASURE_LIST"] = str(self.erasures_path)
        return env

    def describe_store(self) -> str:
        """Where the data goes, without the password."""
        if self.is_postgres:
            url = urlsplit(self.database_url)
            schema = self.database_schema or "public"
            return f"PostgreSQL {url.hostname}:{url.port or 5432}/{url.path.lstrip('/')} schema {schema}"
        return f"SQLite file {self.sqlite_path.resolve()}"


def _sqlite_path(url: str) -> Path:
    """sqlite:///relative.db, sqlite:////abs/path.db, or a bare path."""
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    if url.startswith("sqlite://"):
        return Path(url[len("sqlite://") :])
    return Path(url)
