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
    public_url: str | None = Field(
        default=None,
        description="Address people use to reach the web app (password reset links, SSO redirect).",
    )
    session_idle_minutes: int = Field(
        default=60, ge=1, description="A signed-in session ends after this many minutes without a request."
    )
    session_max_hours: int = Field(
        default=12, ge=1, description="A signed-in session ends this many hours after sign-in, however used."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins to one account before it is locked for a while."
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins from one network address before it is locked."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long failures count, and so how long a lock lasts, in minutes."
    )
    password_reset_minutes: int = Field(
        default=60, ge=1, description="How long a password reset link stays valid, in minutes."
    )
    smtp_host: str | None = Field(default=None, description="Mail server for password reset links.")
    smtp_port: int = Field(default=587, description="Mail server port.")
    smtp_username: str | None = Field(default=None, description="Mail server user name.")
    smtp_password: SecretStr | None = Field(default=None, description="Mail server password.")
    smtp_from: str = Field(default="aispend@localhost", description="Sender address of aispend's mail.")
    smtp_starttls: bool = Field(default=True, description="Upgrade the mail connection with STARTTLS.")
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL; setting it enables single sign-on."
    )
    oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id.")
    oidc_client_secret: SecretStr | None = Field(default=None, description="OpenID Connect client secret.")
    oidc_role_claim: str = Field(
        default="", description="ID token claim (e.g. 'groups') whose values give a user's role."
    )
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description='Claim value to role, as JSON: {"aispend-admins": "admin"}. Roles: admin, '
        "finance_admin, it_admin, auditor, member.",
    )

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
