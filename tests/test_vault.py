"""The credential vault: sealed secrets open only with the same key, for the same connection."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from aispend.settings import Settings
from aispend.vault import (
    KeyEncryptionKey,
    SealedSecret,
    Vault,
    VaultKeyError,
    VaultOpenError,
    fingerprint,
    load_kek,
)

SECRET = "sk-ant-admin01-" + "Zq8" * 20 + "x7Qa"


def kek(fill: int) -> KeyEncryptionKey:
    return KeyEncryptionKey(bytes([fill]) * 32, "test")


def encoded(material: bytes) -> str:
    return base64.urlsafe_b64encode(material).decode()


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AISPEND_MASTER_KEY", raising=False)
    monkeypatch.delenv("AISPEND_MASTER_KEY_FILE", raising=False)


def settings_in(
    home: Path, *, master_key: SecretStr | None = None, master_key_file: Path | None = None
) -> Settings:
    return Settings(home=home, master_key=master_key, master_key_file=master_key_file, _env_file=None)


# --- Sealing ----------------------------------------------------------------------------


def test_seal_and_open_roundtrip() -> None:
    vault = Vault(kek(1))

    sealed = vault.seal(SECRET, org_id=1, connection_id=7)

    assert vault.open(sealed, org_id=1, connection_id=7) == SECRET
    assert sealed.kek_id == vault.kek_id == kek(1).id


def test_unicode_roundtrip_and_fresh_randomness_each_time() -> None:
    vault = Vault(kek(1))

    first = vault.seal("pässwörd ✓", org_id=1, connection_id=1)
    second = vault.seal("pässwörd ✓", org_id=1, connection_id=1)

    assert vault.open(first, org_id=1, connection_id=1) == "pässwörd ✓"
    assert first.ciphertext != second.ciphertext
    assert first.wrapped_data_key != second.wrapped_data_key


def test_sealed_secret_never_contains_the_plaintext() -> None:
    sealed = Vault(kek(1)).seal(SECRET, org_id=1, connection_id=7)

    for blob in (sealed.ciphertext, sealed.wrapped_data_key):
        assert SECRET.encode() not in blob
        assert SECRET[15:35].encode() not in blob
    assert SECRET not in repr(sealed)
    assert "Zq8" not in repr(sealed)


@pytest.mark.parametrize(("org_id", "connection_id"), [(2, 7), (1, 8), (7, 1)])
def test_opening_for_another_connection_fails(org_id: int, connection_id: int) -> None:
    vault = Vault(kek(1))
    sealed = vault.seal(SECRET, org_id=1, connection_id=7)

    with pytest.raises(VaultOpenError, match="integrity"):
        vault.open(sealed, org_id=org_id, connection_id=connection_id)


def test_opening_with_another_kek_names_the_master_key() -> None:
    sealed = Vault(kek(1)).seal(SECRET, org_id=1, connection_id=7)

    with pytest.raises(VaultOpenError, match="AISPEND_MASTER_KEY") as info:
        Vault(kek(2)).open(sealed, org_id=1, connection_id=7)
    assert SECRET not in str(info.value)


def test_another_kek_under_a_forged_id_still_fails() -> None:
    sealed = Vault(kek(1)).seal(SECRET, org_id=1, connection_id=7)
    forged = replace(sealed, kek_id=kek(2).id)

    with pytest.raises(VaultOpenError):
        Vault(kek(2)).open(forged, org_id=1, connection_id=7)


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_data_key"])
@pytest.mark.parametrize("position", [0, 15, -1])
def test_tampered_data_fails_to_open(part: str, position: int) -> None:
    vault = Vault(kek(1))
    sealed = vault.seal(SECRET, org_id=1, connection_id=7)
    blob = bytearray(getattr(sealed, part))
    blob[position] ^= 0x01
    tampered = SealedSecret(
        sealed.kek_id,
        bytes(blob) if part == "wrapped_data_key" else sealed.wrapped_data_key,
        bytes(blob) if part == "ciphertext" else sealed.ciphertext,
    )

    with pytest.raises(VaultOpenError):
        vault.open(tampered, org_id=1, connection_id=7)


def test_swapped_ciphertexts_fail_to_open() -> None:
    vault = Vault(kek(1))
    one = vault.seal("one", org_id=1, connection_id=1)
    two = vault.seal("two", org_id=1, connection_id=1)

    with pytest.raises(VaultOpenError):
        vault.open(SealedSecret(one.kek_id, one.wrapped_data_key, two.ciphertext), org_id=1, connection_id=1)


# --- The key-encryption key ------------------------------------------------------------


def test_load_kek_creates_a_private_key_file_once(tmp_path: Path) -> None:
    settings = settings_in(tmp_path / "home")
    path = settings.resolved_master_key_file
    assert not path.exists()

    first = load_kek(settings)

    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.material) == 32
    assert first.source == str(path)
    second = load_kek(settings_in(tmp_path / "home"))
    assert second.material == first.material
    assert second.id == first.id
    assert first.material.hex() not in repr(first)


def test_sealed_with_a_loaded_key_opens_after_a_reload(tmp_path: Path) -> None:
    sealed = Vault(load_kek(settings_in(tmp_path))).seal(SECRET, org_id=1, connection_id=1)

    assert Vault(load_kek(settings_in(tmp_path))).open(sealed, org_id=1, connection_id=1) == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_kek_refuses_a_key_file_others_can_read(tmp_path: Path, mode: int) -> None:
    settings = settings_in(tmp_path)
    load_kek(settings)
    path = settings.resolved_master_key_file
    os.chmod(path, mode)

    with pytest.raises(VaultKeyError, match="chmod 600") as info:
        load_kek(settings_in(tmp_path))
    assert str(path) in str(info.value)


def test_load_kek_uses_a_configured_key_file(tmp_path: Path) -> None:
    material = os.urandom(32)
    path = tmp_path / "elsewhere" / "kek"
    path.parent.mkdir()
    path.write_text(encoded(material) + "\n")
    path.chmod(0o600)

    key = load_kek(settings_in(tmp_path / "home", master_key_file=path))

    assert key.material == material


def test_master_key_setting_wins_over_the_file(tmp_path: Path) -> None:
    from_file = load_kek(settings_in(tmp_path))
    material = bytes(range(32))

    key = load_kek(settings_in(tmp_path, master_key=SecretStr(encoded(material))))

    assert key.material == material
    assert key.material != from_file.material
    assert key.source == "AISPEND_MASTER_KEY"


def test_master_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    material = bytes(range(32, 64))
    monkeypatch.setenv("AISPEND_MASTER_KEY", encoded(material).rstrip("="))

    from_env = Settings(home=tmp_path, _env_file=None)

    key = load_kek(from_env)

    assert key.material == material
    assert key.source == "AISPEND_MASTER_KEY"
    assert not from_env.resolved_master_key_file.exists()


@pytest.mark.parametrize(
    "value",
    ["", "not base64 at all!", encoded(b"short"), encoded(bytes(33)), encoded(bytes(16)) * 3 + "!"],
)
def test_malformed_master_key_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(VaultKeyError, match="AISPEND_MASTER_KEY"):
        load_kek(settings_in(tmp_path, master_key=SecretStr(value)))


@pytest.mark.parametrize(("content", "problem"), [("hello\n", "base64"), (encoded(bytes(16)), "32 bytes")])
def test_malformed_key_file_is_refused(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    path.chmod(0o600)

    with pytest.raises(VaultKeyError, match=problem) as info:
        load_kek(settings_in(tmp_path, master_key_file=path))
    assert str(path) in str(info.value)


# --- Fingerprints -------------------------------------------------------------------------


def test_fingerprint_of_an_anthropic_admin_key() -> None:
    assert fingerprint("sk-ant-admin01-" + "x" * 40 + "x7Qa") == "sk-ant-admin01-…x7Qa"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("sk-admin-" + "A1b2" * 10 + "Zz99", "sk-admin-…Zz99"),
        ("sk-ant-api03-" + "q" * 80 + "igAA", "sk-ant-api03-…igAA"),
        ("sk-proj-" + "p" * 40 + "WXYZ", "sk-proj-…WXYZ"),
        ("plain-token-without-kind-1234", "…1234"),
        ("sk-ant-admin01-abc", "…(18 chars)"),
        ("short", "…(5 chars)"),
        ("", "…(0 chars)"),
    ],
)
def test_fingerprint_shows_only_kind_and_last_four(secret: str, shown: str) -> None:
    assert fingerprint(secret) == shown
