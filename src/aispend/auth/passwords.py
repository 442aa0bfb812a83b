"""Password hashing with Argon2id (pwdlib), and the rules a new password must meet."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

__all__ = ["MIN_LENGTH", "PasswordRejectedError", "check_new_password", "hash_password", "verify_password"]

MIN_LENGTH = 12


class PasswordRejectedError(ValueError):
    """A new password does not meet the rules; the message says which."""


@cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@cache
def _decoy() -> str:
    return _hasher().hash("decoy password, never anyone's")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches. Without a hash (no account, or single sign-on only) the
    same Argon2 work is done against a decoy, so timing does not reveal which accounts exist."""
    if password_hash is None:
        _hasher().verify(password, _decoy())
        return False
    return _hasher().verify(password, password_hash)


def check_new_password(password: str, email: str = "") -> None:
    """Raise :class:`PasswordRejectedError` unless ``password`` is long enough and not the email."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejectedError(f"A password needs at least {MIN_LENGTH} characters.")
    if email and password.strip().lower() == email.strip().lower():
        raise PasswordRejectedError("A password must not be the email address.")
