"""Table IDs: BigQuery's naming rules, hostile IDs refused, and what reaches the SQL."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aispend.providers.gcp.sql import accounts_query, cost_query, projects_query, usage_query
from aispend.providers.gcp.tableid import TableId, TableIdError, check_project_id, parse_table_id

EXPORT = "my-billing-project.billing_export.gcp_billing_export_resource_v1_010101_F0FFF0_10XX01"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            EXPORT,
            ("my-billing-project", "billing_export", "gcp_billing_export_resource_v1_010101_F0FFF0_10XX01"),
        ),
        ("abcdef.d.t", ("abcdef", "d", "t")),
        (
            "example.com:my-project.Billing_2.view-of-export",
            ("example.com:my-project", "Billing_2", "view-of-export"),
        ),
        ("proj-123.ds.tâble_données", ("proj-123", "ds", "tâble_données")),
        ("a" * 30 + ".d.t", ("a" * 30, "d", "t")),
    ],
)
def test_valid_ids(text: str, parts: tuple[str, str, str]) -> None:
    table = parse_table_id(text)

    assert (table.project, table.dataset, table.table) == parts
    assert str(table) == text
    assert table.sql() == f"`{text}`"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "PROJECT.DATASET.TABLE"),
        ("project.dataset", "2 dot-separated"),
        ("p-roject.a.b.c", "4 dot-separated"),
        ("proj`.d.t", "not a Google Cloud project ID"),
        ("project.d`s.t", "dataset"),
        ("project.ds.t`; DROP TABLE x; --", "contains '`'"),
        ("project.ds.t'", 'contains "\'"'),
        ('project.ds.t"', "contains '\"'"),
        ("project.ds.t;", "contains ';'"),
        ("project.ds.my table", "contains ' '"),
        ("project.ds.t\\", "contains '\\\\'"),
        ("project.ds.t\n", "contains '\\n'"),
        ("project.ds.t--", "contains"),
        ("project.ds.t/*x*/", "contains '/'"),
        ("project.ds.t\u200b", "contains"),
        ("project.ds.t\u202e", "contains"),
        (" project.ds.t", "not a Google Cloud project ID"),
        ("Project.ds.t", "not a Google Cloud project ID"),
        ("proj.ds.t", "not a Google Cloud project ID"),
        ("project-.ds.t", "not a Google Cloud project ID"),
        ("1project.ds.t", "not a Google Cloud project ID"),
        ("a" * 31 + ".ds.t", "not a Google Cloud project ID"),
        ("project..t", "dataset"),
        ("project.ds.", "empty"),
        ("bad_domain:project.ds.t", "domain prefix"),
        ("project.ds." + "t" * 1025, "1024 bytes"),
    ],
)
def test_hostile_or_malformed_ids_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(TableIdError) as refused:
        parse_table_id(text)

    assert why in str(refused.value)


@given(st.text(max_size=60))
def test_whatever_passes_cannot_change_the_sql(text: str) -> None:
    try:
        table = parse_table_id(text)
    except TableIdError:
        return
    # Nothing that ends an identifier, a string or a statement, or starts a comment.
    assert not re.search(r"[`'\";\\\s]|--|/\*", text)
    assert table.sql().count("`") == 2


def test_every_query_names_the_table_only_as_a_quoted_identifier_and_takes_values_as_parameters() -> None:
    table = TableId("my-project", "billing", "export")
    day = date(2026, 3, 2)
    queries = [
        cost_query(table, day, date(2026, 3, 9), ("C7E2-9256-1C43",)),
        usage_query(table, day, date(2026, 3, 9), ("C7E2-9256-1C43",)),
        projects_query(table, day, ("C7E2-9256-1C43",)),
        accounts_query(table, day),
    ]
    for query in queries:
        assert query.sql.startswith(f"-- aispend:{query.name}\n")
        assert set(re.findall(r"FROM\s+(\S+)", query.sql)) == {"`my-project.billing.export`"}
        # No value is spliced in: dates, times and service ids appear only as @parameters.
        assert "2026" not in query.sql
        assert "C7E2" not in query.sql
        assert set(re.findall(r"@(\w+)", query.sql)) == {p.name for p in query.parameters}
        assert "_PARTITIONTIME >= @scan_from" in query.sql


def test_the_window_prunes_partitions_a_day_early_and_filters_usage_exactly() -> None:
    query = cost_query(TableId("my-project", "b", "e"), date(2026, 3, 1), date(2026, 3, 9), ("X",))
    values = {p.name: p.value for p in query.parameters}

    assert str(values["scan_from"]) == "2026-02-28 00:00:00+00:00"
    assert str(values["window_start"]) == "2026-03-01 00:00:00+00:00"
    assert str(values["window_end"]) == "2026-03-09 00:00:00+00:00"
    assert values["service_ids"] == ("X",)
    assert "t.export_time >= @scan_from" in query.sql
    # Every FLOAT64 amount is cast to NUMERIC before it is summed.
    assert "SUM(t." not in query.sql
    assert "SUM(c." not in query.sql


@pytest.mark.parametrize("project", ["google.com:my-project", "my-project-123"])
def test_query_projects(project: str) -> None:
    assert check_project_id(project) == project


def test_a_bad_query_project_is_named() -> None:
    with pytest.raises(TableIdError, match="query project"):
        check_project_id("x;y", what="query project")
