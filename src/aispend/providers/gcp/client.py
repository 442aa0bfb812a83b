"""BigQuery through ``google-cloud-bigquery``: credentials, table metadata, dry runs, query pages.

No Google credential is ever stored. The client uses the deployment's own identity,
Application Default Credentials (a service account on Google Cloud, or
``GOOGLE_APPLICATION_CREDENTIALS`` / ``gcloud auth application-default login`` elsewhere).
With ``--bigquery-endpoint`` (an emulator or a private endpoint) it talks to that endpoint
instead; see :func:`credentials_for` for which identity goes there.

Each connector call is one BigQuery operation (a dry run, the first page of a query, one more
page of a finished query). The library may make more than one REST call for it (a query that
is not finished at once is polled); the sync engine paces and retries the operation as a whole,
so the library's own retries are turned off. Every Google error becomes a
:class:`ProviderError` that says which IAM role or setup step is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import google.auth
import requests
from google.api_core import exceptions as api
from google.api_core import retry as retries
from google.auth import exceptions as auth_errors
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import bigquery

from aispend.providers.base import FatalProviderError, ProviderError, RateLimitedError, RetriableProviderError
from aispend.providers.gcp.sql import Parameter, Query
from aispend.providers.gcp.tableid import TableId

__all__ = ["BigQueryReader", "ResultPage", "credentials_for"]

PAGE_ROWS = 20_000
"""Rows asked for per page; BigQuery may send fewer (it caps a response at about 10 MB)."""

NO_RETRY = retries.Retry(predicate=lambda _error: False)
"""The library's own retries, off: the sync engine retries each operation as a whole, at its own pace."""

NO_IDENTITY = (
    "On Google Cloud, run aispend as a service account; elsewhere point GOOGLE_APPLICATION_CREDENTIALS "
    "at a service-account key file or run `gcloud auth application-default login`. aispend stores no "
    "Google credential."
)


def credentials_for(endpoint: str | None) -> Credentials | None:
    """The identity for BigQuery at ``endpoint`` (None: Google's own endpoint).

    - Google's endpoint: None, so the client finds Application Default Credentials itself.
    - A plain-HTTP endpoint is an emulator: anonymous. A Google token must never travel
      unencrypted, and an emulator takes none (this also keeps tests and the demo from
      refreshing a developer's real credentials at Google).
    - Any other endpoint: Application Default Credentials, or anonymous when there are none.
    """
    if endpoint is None:
        return None
    if urlsplit(endpoint).scheme == "http":
        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    try:
        credentials, _ = google.auth.default()
    except auth_errors.DefaultCredentialsError:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    return credentials


@dataclass(frozen=True, slots=True)
class ResultPage:
    """Rows of one page, and where the next page starts (None: this was the last)."""

    rows: list[dict[str, Any]]
    cursor: str | None


def _reason(error: api.GoogleAPICallError) -> str:
    errors = getattr(error, "errors", None) or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return str(first.get("reason", ""))


class BigQueryReader:
    """The connector's one door to BigQuery, for one table read from one query project."""

    def __init__(self, table: TableId, query_project: str, endpoint: str | None, timeout: float) -> None:
        self.table = table
        self.query_project = query_project
        self.endpoint = endpoint
        self.timeout = timeout
        self._client: bigquery.Client | None = None

    def _bigquery(self) -> bigquery.Client:
        # Built on first use, inside the error translation: a missing identity is a connect error.
        if self._client is None:
            options = {"api_endpoint": self.endpoint} if self.endpoint else None
            self._client = bigquery.Client(
                project=self.query_project, credentials=credentials_for(self.endpoint), client_options=options
            )
        return self._client

    def table_fields(self) -> set[str]:
        """Dotted names of every field of the table (``sku.id``, ``credits.amount``...)."""
        with self._translated("read the table's schema"):
            table = self._bigquery().get_table(str(self.table), retry=NO_RETRY, timeout=self.timeout)
        names: set[str] = set()

        def walk(fields: Any, prefix: str) -> None:
            for schema_field in fields:
                name = prefix + schema_field.name
                names.add(name)
                walk(schema_field.fields, name + ".")

        walk(table.schema, "")
        return names

    def dry_run(self, query: Query) -> int:
        """Check ``query`` (tables, columns, permissions) without running it; returns bytes it would scan."""
        config = self._config(query)
        config.dry_run = True
        config.use_query_cache = False
        with self._translated("check the query"):
            job = self._bigquery().query(
                query.sql,
                job_config=config,
                project=self.query_project,
                retry=NO_RETRY,
                job_retry=NO_RETRY,
                timeout=self.timeout,
            )
        return int(job.total_bytes_processed or 0)

    def first_page(self, query: Query) -> ResultPage:
        """Run ``query`` and return its first page."""
        with self._translated("run the query"):
            rows = self._bigquery().query_and_wait(
                query.sql,
                job_config=self._config(query),
                project=self.query_project,
                api_timeout=self.timeout,
                wait_timeout=None,
                retry=NO_RETRY,
                job_retry=NO_RETRY,
                page_size=PAGE_ROWS,
            )
            page = [dict(row.items()) for row in next(iter(rows.pages), [])]
        return ResultPage(page, self._cursor(rows, 0, len(page)))

    def page_at(self, cursor: str) -> ResultPage:
        """The page of a finished query that starts at ``cursor`` (from an earlier page)."""
        position = json.loads(cursor)
        with self._translated("read the next page of results"):
            job = self._bigquery().get_job(
                position["job"],
                project=position["project"],
                location=position["location"],
                retry=NO_RETRY,
                timeout=self.timeout,
            )
            if not isinstance(job, bigquery.QueryJob):
                raise FatalProviderError(f"BigQuery job {position['job']} is not a query job.")
            rows = job.result(
                start_index=position["offset"],
                page_size=PAGE_ROWS,
                retry=NO_RETRY,
                # A fetched job cannot be re-run by the library (job_retry must stay unset).
                job_retry=None,
                timeout=self.timeout,
            )
            page = [dict(row.items()) for row in next(iter(rows.pages), [])]
        return ResultPage(page, self._cursor(rows, position["offset"], len(page)))

    @staticmethod
    def _cursor(rows: Any, offset: int, count: int) -> str | None:
        end = offset + count
        if count == 0 or rows.total_rows is None or end >= rows.total_rows or rows.job_id is None:
            return None
        return json.dumps(
            {"job": rows.job_id, "project": rows.project, "location": rows.location, "offset": end},
            sort_keys=True,
        )

    def _config(self, query: Query) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(
            query_parameters=[_parameter(p) for p in query.parameters],
            use_legacy_sql=False,
            labels={"application": "aispend", "aispend-query": query.name},
        )

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except (api.GoogleAPICallError, auth_errors.GoogleAuthError, requests.RequestException) as error:
            raise self._provider_error(action, error) from None

    def _provider_error(self, action: str, error: Exception) -> ProviderError:
        table, project = self.table, self.query_project
        dataset = f"{table.project}:{table.dataset}"
        if isinstance(error, auth_errors.DefaultCredentialsError):
            return FatalProviderError(
                "No Google identity found (Application Default Credentials).", next_step=NO_IDENTITY
            )
        if isinstance(error, auth_errors.RefreshError):
            return FatalProviderError(
                f"Google refused this deployment's credentials: {error}", next_step=NO_IDENTITY
            )
        if isinstance(error, auth_errors.TransportError | requests.RequestException):
            return RetriableProviderError(
                f"Could not reach BigQuery to {action}: {type(error).__name__}: {error}"
            )
        if isinstance(error, auth_errors.GoogleAuthError):
            return FatalProviderError(f"Google authentication failed: {error}", next_step=NO_IDENTITY)
        assert isinstance(error, api.GoogleAPICallError)
        message = f"BigQuery refused to {action}: {error.message}"
        reason = _reason(error)
        if isinstance(error, api.TooManyRequests) or reason in ("rateLimitExceeded", "jobRateLimitExceeded"):
            return RateLimitedError(message, retry_after=None)
        if reason in ("quotaExceeded", "backendError", "internalError") or isinstance(error, api.ServerError):
            return RetriableProviderError(message, status=error.code)
        if isinstance(error, api.Unauthorized):
            return FatalProviderError(message, next_step=NO_IDENTITY, status=401)
        if isinstance(error, api.Forbidden):
            if "jobs.create" in error.message:
                step = (
                    f"Grant this deployment's identity BigQuery Job User (roles/bigquery.jobUser) on project "
                    f"{project}, or pick a project where it has that role with --query-project."
                )
            else:
                step = (
                    "Grant this deployment's identity BigQuery Data Viewer (roles/bigquery.dataViewer) on "
                    f"the dataset {dataset} (BigQuery > {table.dataset} > Sharing > Permissions)."
                )
            return FatalProviderError(message, next_step=step, status=403)
        if isinstance(error, api.NotFound):
            step = (
                f"Check the table ID {table}: the detailed export's table is named "
                "gcp_billing_export_resource_v1_<BILLING_ACCOUNT_ID>, in the dataset chosen under Billing > "
                "Billing export > BigQuery export. A new export creates its table within a few hours."
            )
            return FatalProviderError(message, next_step=step, status=404)
        return FatalProviderError(message, status=error.code)


def _parameter(parameter: Parameter) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    if isinstance(parameter.value, tuple):
        return bigquery.ArrayQueryParameter(parameter.name, parameter.type, list(parameter.value))
    return bigquery.ScalarQueryParameter(parameter.name, parameter.type, parameter.value)
