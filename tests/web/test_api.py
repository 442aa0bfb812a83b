"""The JSON API serves the same report as the CLI, to signed-in users and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aispend.pricing.reconcile import reconcile
from aispend.reports.queries import spend_report
from aispend.runtime import Runtime
from aispend.sync.runner import sync_connection
from aispend.web.app import create_app
from tests.conftest import api_token

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
SINCE = YESTERDAY - timedelta(days=6)


def test_spend_endpoint_matches_the_report(runtime: Runtime, connected: str) -> None:
    sync_connection(runtime, connected, since=SINCE)
    client = TestClient(
        create_app(runtime), headers={"Authorization": f"Bearer {api_token(runtime, 'auditor')}"}
    )
    assert client.get("/healthz").json() == {"status": "ok"}
    for by in ("model", "workspace", "api-key", "day"):
        response = client.get("/api/v1/spend", params={"by": by, "since": SINCE.isoformat()})
        assert response.status_code == 200
        with runtime.db.session() as session:
            expected = spend_report(session, runtime.org_id, by=by, since=SINCE, until=YESTERDAY)  # type: ignore[arg-type]
        assert response.json() == expected.as_json()
    scoped = client.get("/api/v1/spend", params={"connection": connected, "since": SINCE.isoformat()})
    assert scoped.json()["total"] == response.json()["total"]


def test_bad_parameters_are_explained(admin_client: TestClient) -> None:
    client = admin_client
    assert client.get("/api/v1/spend", params={"by": "colour"}).status_code == 422
    reversed_dates = client.get("/api/v1/spend", params={"since": "2026-05-02", "until": "2026-05-01"})
    assert reversed_dates.status_code == 422
    assert "before" in reversed_dates.json()["detail"]
    assert client.get("/api/v1/spend", params={"connection": "nope"}).status_code == 404


def test_openapi_documents_the_spend_endpoint(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/spend" in schema["paths"]
    assert client.get("/api/docs").status_code == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["by", "since", "until", "connection", "other"]),
        st.one_of(
            st.text(max_size=20),
            st.dates().map(str),
            st.sampled_from(["model", "api-key", "day", "2026-02-30", "-1", "1e9", "", "null"]),
        ),
    )
)
@example(params={"until": "0001-01-05"})
@example(params={"since": "9999-12-31"})
def test_any_query_gets_an_answer_never_a_crash(runtime: Runtime, params: dict[str, str]) -> None:
    token = api_token(runtime, "finance_admin")
    client = TestClient(
        create_app(runtime), raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
    )
    response = client.get("/api/v1/spend", params=params)
    assert response.status_code in (200, 404, 422), response.text
    assert response.headers["content-type"] == "application/json"


def test_spend_defaults_to_by_model_over_the_30_days_before_today(admin_client: TestClient) -> None:
    body = admin_client.get("/api/v1/spend").json()

    assert body["by"] == "model"
    assert (body["since"], body["until"]) == (
        (YESTERDAY - timedelta(days=29)).isoformat(),
        YESTERDAY.isoformat(),
    )


def test_reconcile_endpoint_matches_the_cli_body_and_explains_bad_input(
    runtime: Runtime, connected: str
) -> None:
    sync_connection(runtime, connected, since=SINCE)
    client = TestClient(
        create_app(runtime), headers={"Authorization": f"Bearer {api_token(runtime, 'auditor')}"}
    )
    response = client.get("/api/v1/reconcile", params={"since": SINCE.isoformat(), "threshold": "2"})
    assert response.status_code == 200
    today = datetime.now(UTC).date()
    with runtime.db.session() as session:
        expected = reconcile(session, runtime.org_id, since=SINCE, until=YESTERDAY, today=today).as_json()
    assert response.json() == expected
    assert response.json()["rows"]
    assert client.get("/api/v1/reconcile", params={"connection": "nope"}).status_code == 404
    assert client.get("/api/v1/reconcile", params={"threshold": "-1"}).status_code == 422
