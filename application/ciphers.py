"""The AES-GCM cipher of the events and of the data keys, made once per key.

The library's ``AESCipher`` makes a fresh ``AESGCM`` for every text it seals or opens; a replay
opens tens of thousands. The ``AESGCM`` object only holds the key, so one serves every call
(from any thread). The stored format is the library's: nonce, tag, ciphertext.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

NONCE = 12
TAG = 16


class ReusedAESCipher(AESCipher):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._aesgcm = AESGCM(self.key)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = AESCipher.random_bytes(NONCE)
        sealed = self._aesgcm.encrypt(nonce, plaintext, None)
        return nonce + sealed[-TAG:] + sealed[:-TAG]  # the tag in front, as the library stores it

    def decrypt(self, ciphertext: bytes) -> bytes:
        if len(ciphertext) < NONCE + TAG:
            raise ValueError("Damaged cipher text: invalid nonce or tag length")
        nonce, tag, encrypted = ciphertext[:NONCE], ciphertext[NONCE : NONCE + TAG], ciphertext[NONCE + TAG :]
        try:
            return self._aesgcm.decrypt(nonce, encrypted + tag, None)
        except InvalidTag as error:
            raise ValueError("Invalid cipher tag") from error
