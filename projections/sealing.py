"""Personal text in the views, encrypted at rest whenever the event store is.

With ``ZHANYOU_CIPHER_KEY`` set, names, accounts and decision reasons and evidence are stored
in the views AES-GCM encrypted (the event store's cipher and key), and searched through a
keyed digest of the whole value (a blind index): a search then matches a full name or a
full account, not a part of one. ID and mobile numbers are only ever stored masked.
Without the key, values are stored as they are and searched by substring.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import b64decode, b64encode

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from application.ciphers import ReusedAESCipher
from application.settings import Settings
from domain.text import printable

SEALED = "sealed:"


class KeyMismatch(RuntimeError):
    """The views were built with the cipher key set and this process has none, or the reverse."""


class UnsealedText(RuntimeError):
    """A view row that should be sealed is not."""


class Sealer:
    def __init__(self, cipher_key: str | None, index_key: str | None = None) -> None:
        self.cipher = (
            ReusedAESCipher(Environment(env={AESCipher.CIPHER_KEY: cipher_key})) if cipher_key else None
        )
        secret = (index_key or cipher_key or "").encode()
        # A key of its own for the digests, so a digest says nothing under the cipher key.
        self._index_key = hashlib.sha256(b"zhanyou views index\0" + secret).digest()

    @classmethod
    def of(cls, settings: Settings) -> Sealer:
        key = settings.cipher_key.get_secret_value() if settings.cipher_key else None
        index = settings.id_secret.get_secret_value() if settings.id_secret else None
        return cls(key, index)

    @property
    def enabled(self) -> bool:
        return self.cipher is not None

    def seal(self, text: str | None) -> str | None:
        if text is None or self.cipher is None:
            return text
        # the same printable copy an unsealed view stores (projections/store.py)
        return SEALED + b64encode(self.cipher.encrypt(printable(text).encode())).decode()

    def open(self, stored: str | None) -> str | None:
        """The text; unsealed views hold it as it is (their layout records which they are)."""
        if stored is None or self.cipher is None:
            return stored
        if not stored.startswith(SEALED):
            raise UnsealedText("a view holds personal text in the clear although a cipher key is set")
        return self.cipher.decrypt(b64decode(stored[len(SEALED) :])).decode()

    def index(self, text: str) -> str:
        """The digest a whole value is searched by (case-insensitive)."""
        return hmac.new(self._index_key, text.strip().casefold().encode(), hashlib.sha256).hexdigest()
