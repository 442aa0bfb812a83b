"""BigQuery table and project IDs, validated strictly before any query is built.

The customer gives us a table ID; it ends up inside SQL as an identifier, the one part of a
query that cannot be a parameter. So it is checked against BigQuery's naming rules and
refused, with the reason, if anything else is in it: a quote, backtick, backslash, semicolon,
space or comment marker can never reach the SQL text. What passes is still written only as a
backtick-quoted identifier (:meth:`TableId.sql`), and every value goes through query parameters.

Rules (BigQuery "Naming" docs):
- project: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter and
  not ending with a hyphen; a legacy domain-scoped project is ``example.com:project``.
- dataset: up to 1024 letters, digits and underscores.
- table: up to 1024 bytes of Unicode letters, marks, numbers, connector punctuation (``_``)
  and dashes. BigQuery also allows spaces (and ``--``) in table names; we do not: a billing
  export or a view over it never needs them, and refusing them keeps quoting trivial.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["TableId", "TableIdError", "check_project_id", "parse_table_id"]

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
_TABLE_CATEGORIES = ("L", "M", "N", "Pc", "Pd")
MAX_TABLE_BYTES = 1024
EXAMPLE = "my-billing-project.billing_export.gcp_billing_export_resource_v1_010101_F0FFF0_10XX01"


class TableIdError(ValueError):
    """The ID breaks BigQuery's naming rules; the message says which part and why."""


def _shown(text: str) -> str:
    # repr() shows quotes, backslashes and control characters unambiguously in the message.
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def check_project_id(project: str, *, what: str = "project") -> str:
    """Return ``project`` if it is a valid (optionally domain-scoped) project ID, else raise."""
    domain, colon, name = project.rpartition(":")
    if colon and not _DOMAIN.fullmatch(domain):
        raise TableIdError(f"The {what} {_shown(project)} has an invalid domain prefix {_shown(domain)}.")
    if not _PROJECT.fullmatch(name):
        raise TableIdError(
            f"The {what} {_shown(project)} is not a Google Cloud project ID: project IDs are 6 to 30 "
            "lowercase letters, digits and hyphens, start with a letter and do not end with a hyphen."
        )
    return project


def _check_table_name(table: str) -> None:
    if len(table.encode()) > MAX_TABLE_BYTES:
        raise TableIdError(f"The table name is longer than BigQuery's {MAX_TABLE_BYTES} bytes.")
    for char in table:
        if not unicodedata.category(char).startswith(_TABLE_CATEGORIES):
            raise TableIdError(
                f"The table name {_shown(table)} contains {char!r}; table names may contain only letters, "
                "digits, underscores and dashes."
            )
    if "--" in table:
        # Legal in BigQuery and harmless inside the quotes, but no export or view needs a comment marker.
        raise TableIdError(f"The table name {_shown(table)} contains '--'; use single dashes.")


@dataclass(frozen=True, slots=True)
class TableId:
    """A validated ``project.dataset.table``."""

    project: str
    dataset: str
    table: str

    def __str__(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"

    def sql(self) -> str:
        """The table as a quoted identifier. Safe by construction: no part can hold a backtick."""
        return f"`{self}`"


def parse_table_id(text: str) -> TableId:
    """Validate a table ID such as ``project.dataset.table``; raise :class:`TableIdError` if invalid."""
    if not text:
        raise TableIdError(f"Give the billing export table as PROJECT.DATASET.TABLE, e.g. {EXAMPLE}.")
    # A domain-scoped project (example.com:project) has dots of its own before the colon.
    domain, colon, rest = text.rpartition(":")
    parts = rest.split(".")
    if len(parts) != 3:
        raise TableIdError(
            f"The table ID {_shown(text)} has {len(parts)} dot-separated part(s); it must be "
            f"PROJECT.DATASET.TABLE, e.g. {EXAMPLE}."
        )
    project = f"{domain}{colon}{parts[0]}"
    dataset, table = parts[1], parts[2]
    check_project_id(project)
    if not _DATASET.fullmatch(dataset):
        raise TableIdError(
            f"The dataset {_shown(dataset)} is not a BigQuery dataset ID: dataset IDs contain only "
            "letters, digits and underscores."
        )
    if not table:
        raise TableIdError("The table name is empty.")
    _check_table_name(table)
    return TableId(project, dataset, table)
