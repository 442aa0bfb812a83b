"""schemathesis against ``/api/v1``: requests generated from the OpenAPI schema, no server errors.

Each operation is fuzzed in process (ASGI) with a read-only personal API token of an Admin,
over a database with spend in it.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from aispend.runtime import Runtime
from aispend.web.app import create_app
from tests.conftest import api_token
from tests.web.test_dashboard import seeded  # noqa: F401  (a fixture: spend to report on)


def test_api_v1_has_no_server_errors(runtime: Runtime, seeded: int) -> None:  # noqa: F811
    headers = {"Authorization": f"Bearer {api_token(runtime, 'admin', scope='read')}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(runtime)).include(
        path_regex=r"^/api/v1/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[schemathesis.checks.not_a_server_error])

        fuzz()
