"""The spend filters as query parameters: one dependency for the spend API and the Explorer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from aispend.reports.dimensions import SpendFilters

__all__ = ["SpendFiltersQuery", "spend_filters"]

# No NUL: PostgreSQL refuses it in any text, so it could only ever fail the query.
NO_NUL = r"^[^\x00]*$"


def _text(description: str, max_length: int) -> object:
    return Query(description=description, max_length=max_length, pattern=NO_NUL)


def spend_filters(
    model: Annotated[str | None, _text("Only this model (as its rows are keyed)", 200)] = None,
    workspace: Annotated[str | None, _text("Only this workspace or project (its id)", 200)] = None,
    api_key: Annotated[str | None, _text("Only this API key (its id)", 200)] = None,
    user: Annotated[str | None, _text("Only this person (e-mail or user id)", 320)] = None,
    product: Annotated[str | None, _text("Only this product: api, claude_code, codex...", 40)] = None,
    service_tier: Annotated[
        str | None, _text("Only this service tier: standard, batch, priority, flex...", 40)
    ] = None,
    token_kind: Annotated[
        str | None,
        _text(
            "Only this kind: input, cache-write, cache-read, output, or a non-token cost type such as "
            "web_search",
            40,
        ),
    ] = None,
) -> SpendFilters:
    """The filters asked for; an empty value (a blank form field) is no filter."""
    return SpendFilters(
        model=model or None,
        workspace=workspace or None,
        api_key=api_key or None,
        user=user or None,
        product=product or None,
        service_tier=service_tier or None,
        token_kind=token_kind or None,
    )


SpendFiltersQuery = Annotated[SpendFilters, Depends(spend_filters)]
