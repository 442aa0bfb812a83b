"""Envelope encryption of provider credentials.

Each secret is encrypted with its own random data key (AES-256-GCM). The data key is
itself encrypted ("wrapped") with the key-encryption key. Both encryptions bind the
organisation and connection ids as associated data, so a sealed row copied onto
another connection fails to open. Plaintext is produced only inside
:meth:`Vault.open`, for the length of one provider request.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aispend.vault.keyproviders import KeyEncryptionKey

__all__ = ["SealedSecret", "Vault", "VaultOpenError", "fingerprint"]

NONCE_BYTES = 12
_PREFIX = re.compile(r"^(sk-(?:ant-)?[a-z]+\d*-)")


class VaultOpenError(Exception):
    """A sealed secret could not be opened (wrong key-encryption key, or tampered data)."""


@dataclass(frozen=True)
class SealedSecret:
    """What the database stores: never the plaintext, never the bare data key."""

    kek_id: str
    wrapped_data_key: bytes
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"SealedSecret(kek_id={self.kek_id}, {len(self.ciphertext)} bytes)"


def _associated_data(org_id: int, connection_id: int) -> bytes:
    return f"aispend:org={org_id}:connection={connection_id}".encode()


def fingerprint(secret: str) -> str:
    """What may be shown of a key: its kind prefix and last four characters.

    ``sk-ant-admin01-abc...x7Qa`` becomes ``sk-ant-admin01-…x7Qa``. Short secrets
    show nothing but their length, since four characters would be most of them.
    """
    if len(secret) < 20:
        return f"…({len(secret)} chars)"
    match = _PREFIX.match(secret)
    prefix = match.group(1) if match else ""
    return f"{prefix}…{secret[-4:]}"


class Vault:
    """Seals and opens secrets with one key-encryption key."""

    def __init__(self, kek: KeyEncryptionKey) -> None:
        self._kek = kek

    @property
    def kek_id(self) -> str:
        return self._kek.id

    def seal(self, plaintext: str, *, org_id: int, connection_id: int) -> SealedSecret:
        aad = _associated_data(org_id, connection_id)
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext.encode(), aad)
        wrap_nonce = os.urandom(NONCE_BYTES)
        wrapped = wrap_nonce + AESGCM(self._kek.material).encrypt(wrap_nonce, data_key, aad)
        return SealedSecret(self._kek.id, wrapped, ciphertext)

    def open(self, sealed: SealedSecret, *, org_id: int, connection_id: int) -> str:
        """Return the plaintext. Callers keep it only for the request that needs it."""
        if sealed.kek_id != self._kek.id:
            raise VaultOpenError(
                f"this credential was sealed with key-encryption key {sealed.kek_id}, but the "
                f"configured key is {self._kek.id}. Restore the original AISPEND_MASTER_KEY or key "
                "file, or reconnect the provider with a fresh key."
            )
        aad = _associated_data(org_id, connection_id)
        try:
            data_key = AESGCM(self._kek.material).decrypt(
                sealed.wrapped_data_key[:NONCE_BYTES], sealed.wrapped_data_key[NONCE_BYTES:], aad
            )
            plaintext = AESGCM(data_key).decrypt(
                sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:], aad
            )
        except InvalidTag as exc:
            raise VaultOpenError(
                "a stored credential failed its integrity check; reconnect the provider."
            ) from exc
        return plaintext.decode()
