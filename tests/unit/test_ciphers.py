"""The cipher made once per key reads and writes the library's stored format."""

from __future__ import annotations

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from application.ciphers import ReusedAESCipher

KEY = AESCipher.create_key(32)


def _env(key: str = KEY) -> Environment:
    return Environment(env={AESCipher.CIPHER_KEY: key})


def test_each_opens_what_the_other_sealed() -> None:
    ours, library = ReusedAESCipher(_env()), AESCipher(_env())
    for text in (b"", b"x", "张三 420102199001011234".encode() * 50):
        assert library.decrypt(ours.encrypt(text)) == text
        assert ours.decrypt(library.encrypt(text)) == text
    assert ours.encrypt(b"same") != ours.encrypt(b"same")  # a fresh nonce every time


def test_a_damaged_text_or_another_key_is_refused_as_the_library_refuses_it() -> None:
    ours = ReusedAESCipher(_env())
    sealed = bytearray(ours.encrypt(b"secret"))
    sealed[-1] ^= 1
    with pytest.raises(ValueError, match="Invalid cipher tag"):
        ours.decrypt(bytes(sealed))
    with pytest.raises(ValueError, match="Invalid cipher tag"):
        ReusedAESCipher(_env(AESCipher.create_key(32))).decrypt(ours.encrypt(b"secret"))
    with pytest.raises(ValueError, match="Damaged cipher text"):
        ours.decrypt(b"short")
