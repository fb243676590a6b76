"""Signed checkpoints: (count, head link, instant, signer), signed with Ed25519.

A checkpoint kept by someone else (a city bureau that downloaded it on the day the roster
was published) proves that the first ``count`` events of the log are still the ones that
were there then: whoever rewrites or truncates the chain cannot sign a new checkpoint
without the signing key. The signed message is the checkpoint's canonical JSON (sorted
keys, no spaces, UTF-8); the document adds the signature and the public key, in base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class CheckpointUnreadable(ValueError):
    """A checkpoint document that is not one (bad JSON, missing or wrong fields)."""


@dataclass(frozen=True)
class Checkpoint:
    """:ivar count: events chained up to here. :ivar notification_id: the last of them.
    :ivar head: the link at position ``count``, hex. :ivar instant: when, ISO 8601 UTC.
    :ivar signer: who signed (host and process role). :ivar reason: why (a phase boundary, on demand).
    """

    count: int
    notification_id: int
    head: str
    instant: str
    signer: str
    reason: str

    def message(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: str
    public_key: str

    def document(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.checkpoint), "signature": self.signature, "public_key": self.public_key}

    def signed_by(self, public_key: str) -> bool:
        """Whether the signature is valid and made with ``public_key`` (base64)."""
        if public_key != self.public_key:
            return False
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
            key.verify(base64.b64decode(self.signature, validate=True), self.checkpoint.message())
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    @classmethod
    def parse(cls, text: str | dict[str, Any]) -> SignedCheckpoint:
        try:
            data = json.loads(text) if isinstance(text, str) else dict(text)
            checkpoint = Checkpoint(
                count=_int(data["count"]),
                notification_id=_int(data["notification_id"]),
                head=_text(data["head"]),
                instant=_text(data["instant"]),
                signer=_text(data["signer"]),
                reason=_text(data.get("reason", "")),
            )
            return cls(checkpoint, _text(data["signature"]), _text(data["public_key"]))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise CheckpointUnreadable(
                f"not a checkpoint document: {type(error).__name__}: {error}"
            ) from None


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{value!r} is not a count")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> SignedCheckpoint:
    signature = base64.b64encode(key.sign(checkpoint.message())).decode()
    return SignedCheckpoint(checkpoint, signature, public_key_text(key))
