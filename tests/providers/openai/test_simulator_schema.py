"""Every simulated response validates against OpenAI's own OpenAPI description.

``tests/data/openai-openapi.yaml`` is OpenAI's official spec (version 2.3.0, MIT licence
beside it). It is OpenAPI 3.1, whose schemas are JSON Schema 2020-12, so ``jsonschema``
validates bodies against its components directly, resolving ``$ref``s through
``referencing``. The file is large: it is parsed once per session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # ships no stubs
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from aispend.providers.openai.simdata import OpenAISimulatorSettings
from aispend.providers.openai.simrows import ENDPOINTS
from aispend.providers.openai.simulator import OpenAISimulator
from tests.providers.openai.test_simulator import COSTS, TODAY, USAGE, Api, Params, window

try:  # the C loader parses the 3 MB spec several times faster
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

SPEC = Path(__file__).parents[2] / "data" / "openai-openapi.yaml"
SPEC_URI = "urn:openai:openapi"
Validate = Callable[[str, httpx.Response], None]


@pytest.fixture(scope="session")
def validate() -> Validate:
    """Checks a response body against one ``#/components/schemas`` entry of the spec."""
    with SPEC.open("rb") as handle:
        spec = yaml.load(handle, Loader=SafeLoader)
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    validators: dict[str, Draft202012Validator] = {}

    def check(component: str, response: httpx.Response) -> None:
        assert component in spec["components"]["schemas"], component
        if component not in validators:
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{component}"}
            validators[component] = Draft202012Validator(schema, registry=registry)
        errors = [e.message for e in validators[component].iter_errors(response.json())]
        assert not errors, errors[:3]

    return check


@pytest.fixture(scope="module")
def api() -> Api:
    return Api(OpenAISimulator(OpenAISimulatorSettings(today=TODAY)))


BASE = window(TODAY - timedelta(days=3), TODAY - timedelta(days=1))


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_usage_pages_validate(api: Api, validate: Validate, name: str) -> None:
    dims = ENDPOINTS[name].dims
    for groups in ((), dims[:1], dims[-2:], dims):
        response = api.get(f"{USAGE}/{name}", BASE + [("group_by", g) for g in groups])
        assert response.status_code == 200
        validate("UsageResponse", response)
        assert any(b["results"] for b in response.json()["data"])
    hourly = api.get(f"{USAGE}/{name}", [("start_time", BASE[0][1]), ("bucket_width", "1h")])
    validate("UsageResponse", hourly)


def test_costs_pages_validate(api: Api, validate: Validate) -> None:
    for groups in ((), ("project_id",), ("line_item",), ("project_id", "line_item", "api_key_id")):
        response = api.get(COSTS, BASE + [("group_by[]", g) for g in groups])
        validate("UsageResponse", response)
        results = [r for b in response.json()["data"] for r in b["results"]]
        assert results
        assert {r["object"] for r in results} == {"organization.costs.result"}


def test_directory_lists_validate(api: Api, validate: Validate) -> None:
    projects = api.get("/v1/organization/projects", [("include_archived", "true")])
    validate("ProjectListResponse", projects)
    validate("UserListResponse", api.get("/v1/organization/users"))
    validate("ApiKeyList", api.get("/v1/organization/admin_api_keys"))
    for project in projects.json()["data"]:
        base = f"/v1/organization/projects/{project['id']}"
        validate("ProjectApiKeyListResponse", api.get(f"{base}/api_keys"))
        validate("ProjectServiceAccountListResponse", api.get(f"{base}/service_accounts"))
        validate("ProjectUserListResponse", api.get(f"{base}/users"))


def test_error_bodies_validate(api: Api, validate: Validate) -> None:
    bad_limit: Params = [*BASE, ("limit", 99)]
    for response in (
        api.get(COSTS, BASE, key="sk-admin-wrong-wrong-wrong"),
        api.get(COSTS, BASE, key="sk-proj-not-an-admin-key"),
        api.get(COSTS, BASE, key=None),
        api.get(f"{USAGE}/completions", bad_limit),
        api.get("/v1/organization/projects/proj_nope/users"),
        api.get("/v1/organization/nothing"),
    ):
        assert response.status_code >= 400
        validate("ErrorResponse", response)
    api.sim.inject("429")
    limited = api.get(COSTS, BASE)
    assert limited.status_code == 429
    validate("ErrorResponse", limited)


def test_the_schemas_catch_a_wrong_body(api: Api, validate: Validate) -> None:
    """Guards the guard: a body the spec forbids must fail, or the tests above prove nothing."""
    response = api.get(f"{USAGE}/completions", BASE)
    body = response.json()
    body["data"][0]["results"][0]["batch"] = "no"  # boolean|null in the spec
    tampered = httpx.Response(200, json=body)
    with pytest.raises(AssertionError):
        validate("UsageResponse", tampered)
    missing = {k: v for k, v in response.json().items() if k != "next_page"}
    with pytest.raises(AssertionError):
        validate("UsageResponse", httpx.Response(200, json=missing))
    error = api.get(COSTS, BASE, key=None).json()
    del error["error"]["param"]
    with pytest.raises(AssertionError):
        validate("ErrorResponse", httpx.Response(401, json=error))
