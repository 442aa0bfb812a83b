"""One typed place for every setting, read from ``AISPEND_*`` environment variables or ``.env``.

Every field here is documented in the README's configuration table; a test checks it.
"""

from __future__ import annotations

from datetime import time
from functools import cached_property
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Deployment settings. Defaults give a working single-process install."""

    model_config = SettingsConfigDict(env_prefix="AISPEND_", env_file=".env", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("aispend")),
        description="Data directory: the SQLite database, job queue, pacing state and key file.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; default a SQLite file in AISPEND_HOME.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Key-encryption key, 32 bytes as URL-safe base64. Overrides the key file.",
    )
    master_key_file: Path | None = Field(
        default=None,
        description="Key-encryption key file; default AISPEND_HOME/master.key, created (0600) on first run.",
    )
    schedule_time: time = Field(
        default=time(3, 15),
        description="UTC time of day at which the scheduler enqueues the daily sync.",
    )
    backfill_days: int = Field(default=365, ge=1, description="Days imported by a connection's first sync.")
    http_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Timeout of one request to a provider API, in seconds."
    )
    retry_attempts: int = Field(
        default=6, ge=1, description="Attempts per provider request before a transient error fails the sync."
    )
    retry_backoff_seconds: float = Field(
        default=2.0, ge=0, description="Base of the exponential backoff between retries, in seconds."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'aispend.db'}"

    @cached_property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.home / "master.key"

    @property
    def jobs_path(self) -> Path:
        return self.home / "jobs.db"

    @property
    def pacing_path(self) -> Path:
        return self.home / "pacing.db"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home
