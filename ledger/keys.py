"""The checkpoint signing key: from ZHANYOU_SIGNING_KEY, or made once beside an embedded store."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from application.settings import Settings

KEY_FILE = "signing-key"


class SigningKeyMissing(Exception):
    """PostgreSQL stores need ZHANYOU_SIGNING_KEY: there is no data folder to keep one in."""

    def __init__(self) -> None:
        super().__init__(
            "ZHANYOU_SIGNING_KEY: required with PostgreSQL (base64 of 32 bytes); create one with "
            'python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"'
        )


def key_from_text(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))


def key_file(settings: Settings) -> Path:
    """Where the embedded store keeps its generated key: its data folder."""
    return settings.sqlite_path.parent / KEY_FILE


def signing_key(settings: Settings, *, create: bool = True) -> Ed25519PrivateKey:
    """The configured key; for SQLite, the data folder's key, made on first use (owner-only)."""
    if settings.signing_key is not None:
        return key_from_text(settings.signing_key.get_secret_value())
    if settings.is_postgres:
        raise SigningKeyMissing
    path = key_file(settings)
    if not path.exists():
        if not create:
            raise SigningKeyMissing
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return key_from_text(path.read_text().strip())
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(raw).decode() + "\n")
    return key_from_text(path.read_text().strip())
