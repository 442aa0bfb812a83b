"""Where the key-encryption key (KEK) comes from: an environment variable or a local key file."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from aispend.settings import Settings

__all__ = ["KeyEncryptionKey", "VaultKeyError", "load_kek"]

KEK_BYTES = 32


class VaultKeyError(Exception):
    """The key-encryption key is missing, malformed or unreadable."""


@dataclass(frozen=True)
class KeyEncryptionKey:
    """A 256-bit KEK and a short public id (a hash) used to tell keys apart during rotation."""

    material: bytes
    source: str

    @property
    def id(self) -> str:
        return hashlib.sha256(b"aispend-kek-id:" + self.material).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(id={self.id}, source={self.source})"


def _decode(text: str, where: str) -> bytes:
    try:
        material = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except ValueError as exc:
        raise VaultKeyError(f"{where} is not URL-safe base64.") from exc
    if len(material) != KEK_BYTES:
        raise VaultKeyError(
            f"{where} must hold {KEK_BYTES} bytes of URL-safe base64; it holds {len(material)}. "
            'Generate one with: python -c "import secrets,base64;'
            'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
        )
    return material


def load_kek(settings: Settings) -> KeyEncryptionKey:
    """Read the KEK from ``AISPEND_MASTER_KEY``, else from the key file, creating it on first run.

    The file is created with mode 0600 atomically (``O_EXCL``), so two processes
    starting at once cannot write two different keys.
    """
    if settings.master_key is not None:
        return KeyEncryptionKey(
            _decode(settings.master_key.get_secret_value(), "AISPEND_MASTER_KEY"),
            "AISPEND_MASTER_KEY",
        )
    path: Path = settings.resolved_master_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEK_BYTES))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(encoded + b"\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise VaultKeyError(
            f"key file {path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
        )
    return KeyEncryptionKey(_decode(path.read_text(), f"key file {path}"), str(path))
