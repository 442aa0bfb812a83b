"""Credential vault: envelope encryption with a key-encryption key from a file or the environment."""

from aispend.vault.envelope import SealedSecret, Vault, VaultOpenError, fingerprint
from aispend.vault.keyproviders import KeyEncryptionKey, VaultKeyError, load_kek

__all__ = [
    "KeyEncryptionKey",
    "SealedSecret",
    "Vault",
    "VaultKeyError",
    "VaultOpenError",
    "fingerprint",
    "load_kek",
]
