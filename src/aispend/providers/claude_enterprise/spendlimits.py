"""The Claude Enterprise Spend Limits API (reference anthropic.md §6): one request per call.

Amounts on the wire are strings in minor units (``"50000"`` is $500.00); here they are
``Decimal`` dollars, and ``None`` is "no limit". The paging loops, pacing, and the audit of
every write live in :mod:`aispend.limits`; this module only speaks the API.

Which scopes a key has is learnt by asking (:func:`probe_capabilities`): the API answers a
call outside the key's scopes with 403 and a message listing the scopes it has. Reading is
probed with a one-row read; writing with a DELETE of a spend limit id that cannot exist,
which the API refuses with 403 without the scope and answers 404 with it. Nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aispend.model import cents_to_dollars
from aispend.providers.base import FatalProviderError, ProviderError
from aispend.providers.claude_enterprise.client import ClaudeEnterpriseClient, ScopeError
from aispend.providers.claude_enterprise.parse import parse_actor, parse_time, read
from aispend.providers.parsing import text

__all__ = [
    "ANALYTICS_CAPABILITY",
    "READ_CAPABILITY",
    "WRITE_CAPABILITY",
    "Capabilities",
    "EffectiveLimit",
    "IncreaseRequest",
    "SpendLimit",
    "SpendLimitsClient",
    "dollars_to_minor",
    "probe_capabilities",
]

LIMITS = "/v1/organizations/spend_limits"
REQUESTS = "/v1/organizations/spend_limit_increase_requests"
ANALYTICS_CAPABILITY = "analytics"
READ_CAPABILITY = "spend_limits.read"
WRITE_CAPABILITY = "spend_limits.write"
PROBE_ID = "spl_aispend_scope_check"


def dollars_to_minor(amount: Decimal) -> str:
    """``Decimal`` dollars as the API's minor-unit string; whole cents only, never negative."""
    cents = amount * 100
    if amount < 0 or cents != cents.to_integral_value():
        raise ValueError(f"a spend limit is a whole number of cents, not ${amount}")
    return str(int(cents))


def _dollars(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return cents_to_dollars(str(value))
    except (InvalidOperation, ValueError):
        raise read.fail(f"{what} is {value!r}, not an amount") from None


def _time(value: Any, what: str) -> datetime | None:
    return None if value is None else parse_time(value, what)


@dataclass(frozen=True)
class EffectiveLimit:
    """A member's limit in force: ``amount_usd`` None is unlimited, 0 is included usage only."""

    user_id: str  # the provider's user id (user_...)
    email: str
    name: str
    deleted: bool
    amount_usd: Decimal | None
    period: str
    source: str  # user | seat_tier | rbac_group | organization_service | organization
    source_detail: str  # the seat tier or group it comes from, when the source names one
    spend_limit_id: str
    period_to_date_usd: Decimal

    @classmethod
    def parse(cls, row: dict[str, Any]) -> EffectiveLimit:
        actor = row.get("actor") or {}
        person = parse_actor(actor)
        scope = row.get("scope") or {}
        source = row.get("source") or {}
        kind = text(source, "type")
        # The API may say "0" when it has no figure yet; absent is read the same way.
        spent = _dollars(row.get("period_to_date_spend"), "period_to_date_spend") or Decimal(0)
        return cls(
            user_id=text(actor, "user_id") or text(scope, "user_id"),
            email=person.attributes["email"],
            name=person.name,
            deleted=person.attributes["deleted"] == "true",
            amount_usd=_dollars(row.get("amount"), "amount"),
            period=text(row, "period"),
            source=kind,
            source_detail=text(source, kind) or text(source, "rbac_group_id") or text(source, "id"),
            spend_limit_id=text(row, "spend_limit_id"),
            period_to_date_usd=spent,
        )


@dataclass(frozen=True)
class SpendLimit:
    """A configured limit (the per-user override the API upserts)."""

    id: str
    user_id: str
    amount_usd: Decimal | None
    period: str
    updated_at: datetime | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SpendLimit:
        if not body.get("id"):
            raise read.fail("a spend limit has no id")
        return cls(
            id=str(body["id"]),
            user_id=text(body.get("scope") or {}, "user_id"),
            amount_usd=_dollars(body.get("amount"), "amount"),
            period=text(body, "period"),
            updated_at=_time(body.get("updated_at"), "updated_at"),
        )


@dataclass(frozen=True)
class IncreaseRequest:
    """A member's request for a higher limit. ``current`` is their effective limit while pending."""

    id: str
    user_id: str
    email: str
    name: str
    status: str  # pending | approved | denied
    period: str
    created_at: datetime | None
    resolved_at: datetime | None
    current: EffectiveLimit | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> IncreaseRequest:
        if not body.get("id"):
            raise read.fail("a spend limit increase request has no id")
        actor = body.get("actor") or {}
        person = parse_actor(actor)
        summary = body.get("spend_summary")
        return cls(
            id=str(body["id"]),
            user_id=text(actor, "user_id"),
            email=person.attributes["email"],
            name=person.name,
            status=text(body, "status"),
            period=text(body, "period"),
            created_at=_time(body.get("created_at"), "created_at"),
            resolved_at=_time(body.get("resolved_at"), "resolved_at"),
            current=EffectiveLimit.parse(summary) if isinstance(summary, dict) else None,
        )


def _page(body: dict[str, Any]) -> str | None:
    # These lists carry next_page and no has_more; null ends the list.
    following = body.get("next_page")
    return None if following in (None, "") else str(following)


class SpendLimitsClient:
    """Each method is one request to the Spend Limits API."""

    def __init__(self, client: ClaudeEnterpriseClient) -> None:
        self.client = client

    def effective(
        self, *, page: str | None = None, user_ids: tuple[str, ...] = (), limit: int = 100
    ) -> tuple[list[EffectiveLimit], str | None]:
        """One page of members' effective limits (the API's maximum page size is not documented)."""
        params = [("limit", str(limit)), *(("user_ids[]", user) for user in user_ids)]
        if page:
            params.append(("page", page))
        body = self.client.get(f"{LIMITS}/effective", params)
        return [EffectiveLimit.parse(dict(row)) for row in read.data(body)], _page(body)

    def set_user_limit(self, user_id: str, amount_usd: Decimal | None, period: str = "monthly") -> SpendLimit:
        """Upsert the member's own limit; ``None`` is an explicit "no limit"."""
        amount = None if amount_usd is None else dollars_to_minor(amount_usd)
        body = {"scope": {"type": "user", "user_id": user_id}, "amount": amount, "period": period}
        return SpendLimit.parse(self.client.send("POST", LIMITS, body))

    def delete(self, spend_limit_id: str) -> None:
        """Remove a member's own limit; the member falls back to the inherited one."""
        self.client.send("DELETE", f"{LIMITS}/{spend_limit_id}")

    def requests(
        self, *, statuses: tuple[str, ...] = (), page: str | None = None, limit: int = 100
    ) -> tuple[list[IncreaseRequest], str | None]:
        """One page of limit-increase requests, newest first."""
        params = [("limit", str(limit)), *(("status[]", status) for status in statuses)]
        if page:
            params.append(("page", page))
        body = self.client.get(REQUESTS, params)
        return [IncreaseRequest.parse(dict(row)) for row in read.data(body)], _page(body)

    def request(self, request_id: str) -> IncreaseRequest:
        return IncreaseRequest.parse(self.client.get(f"{REQUESTS}/{request_id}"))

    def approve(self, request_id: str, amount_usd: Decimal, *, notify: bool) -> IncreaseRequest:
        """Approve with the member's new limit."""
        body = {"amount": dollars_to_minor(amount_usd), "suppress_notification": not notify}
        return IncreaseRequest.parse(self.client.send("POST", f"{REQUESTS}/{request_id}/approve", body))

    def deny(self, request_id: str, *, notify: bool) -> IncreaseRequest:
        body = {"suppress_notification": not notify}
        return IncreaseRequest.parse(self.client.send("POST", f"{REQUESTS}/{request_id}/deny", body))


@dataclass(frozen=True)
class Capabilities:
    """What a key may do; ``scopes`` are those the API named, ``note`` why limits are unavailable."""

    names: tuple[str, ...]
    scopes: tuple[str, ...]
    note: str = ""


def probe_capabilities(client: ClaudeEnterpriseClient) -> Capabilities:
    """Learn whether the key may read and change spend limits (two requests at most).

    The key's ``read:analytics`` is checked by the connector's ``identify`` before this runs.
    """
    limits = SpendLimitsClient(client)
    scopes = ["read:analytics"]
    try:
        limits.effective(limit=1)
    except ScopeError as error:
        # Without read access the 403 lists what the key does have, write included.
        scopes += [scope for scope in error.granted if scope not in scopes]
        names = [ANALYTICS_CAPABILITY] + ([WRITE_CAPABILITY] if "write:spend_limits" in scopes else [])
        return Capabilities(tuple(names), tuple(scopes))
    except FatalProviderError as error:
        if error.status != 403:
            raise
        # Spend limits need usage credits; Console organisations have none.
        return Capabilities((ANALYTICS_CAPABILITY,), tuple(scopes), note=error.message)
    scopes.append("read:spend_limits")
    try:
        limits.delete(PROBE_ID)
    except ScopeError:
        return Capabilities((ANALYTICS_CAPABILITY, READ_CAPABILITY), tuple(scopes))
    except ProviderError as error:
        if error.status is None or error.status >= 500:
            raise
    scopes.append("write:spend_limits")
    return Capabilities((ANALYTICS_CAPABILITY, READ_CAPABILITY, WRITE_CAPABILITY), tuple(scopes))
