"""What every command and request needs: settings, the database, the vault, an HTTP client."""

from __future__ import annotations

import logging
from functools import cached_property

import httpx

from aispend.redact import install_log_redaction
from aispend.settings import Settings
from aispend.store.db import Database
from aispend.vault import Vault, load_kek

__all__ = ["Runtime"]


class Runtime:
    """Built once per process (or per test) from :class:`Settings`; cheap parts are lazy."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.ensure_home()

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.resolved_database_url)

    @cached_property
    def vault(self) -> Vault:
        return Vault(load_kek(self.settings))

    @cached_property
    def org_id(self) -> int:
        return self.db.default_org_id()

    def http_client(self) -> httpx.Client:
        """A client for provider APIs. Redirects are not followed: a key must not travel elsewhere."""
        return httpx.Client(timeout=self.settings.http_timeout_seconds, follow_redirects=False)

    def configure_logging(self) -> None:
        logging.basicConfig(
            level=self.settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # httpx logs every URL at INFO; ours carry no secrets, but keep the noise down.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        install_log_redaction()

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
