"""The simulated Spend Limits API's state: limits from several sources, overrides, requests.

Every member's effective limit comes from the first source that sets one: their own override
(``user``), an RBAC group, their seat tier (premium seats), else the organisation default.
Overrides are upserted per (member, period) and deleted by id; limit-increase requests are
pending, approved (which upserts the member's override to the approved amount) or denied.
Writes change what later reads return. Amounts are minor-unit strings, as on the wire.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams

from aispend.providers.anthropic.simerrors import ApiError, bad
from aispend.providers.claude_enterprise.simdata import Person, SimulatedEnterprise
from aispend.providers.claude_enterprise.simreports import Paging

__all__ = ["SpendLimits"]

ORG_LIMIT = "50000"
TIER_LIMITS = {"enterprise_premium": "200000"}
GROUP_LIMITS = {"grp_research": "300000", "grp_interns": "10000"}
PERIODS = ("monthly",)  # the guide: only monthly today


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str, text: str) -> str:
    return f"{prefix}_01{hashlib.sha256(text.encode()).hexdigest()[:22]}"


@dataclass
class _Override:
    id: str
    user_id: str
    amount: str | None
    period: str
    created_at: datetime
    updated_at: datetime

    def body(self) -> dict[str, Any]:
        return {
            "type": "spend_limit",
            "id": self.id,
            "created_at": _stamp(self.created_at),
            "updated_at": _stamp(self.updated_at),
            "scope": {"type": "user", "user_id": self.user_id},
            "amount": self.amount,
            "currency": "USD",
            "period": self.period,
        }


@dataclass
class _Request:
    id: str
    user_id: str
    created_at: datetime
    status: str = "pending"
    resolved_at: datetime | None = None
    notified: list[str] = field(default_factory=list)


class SpendLimits:
    """Spend limits of one simulated organisation; thread-safe."""

    def __init__(self, org: SimulatedEnterprise) -> None:
        self.org = org
        self.paging = Paging()
        self._lock = threading.Lock()
        now = datetime.combine(org.today, datetime.min.time(), UTC) - timedelta(days=3)
        live = [p for p in org.people if not org.is_deleted(p)]
        self.overrides: dict[str, _Override] = {}
        for person, amount in zip(live[1:4], ("75000", None, "0"), strict=True):
            self.overrides[person.user_id] = _Override(
                _id("spl", person.user_id), person.user_id, amount, "monthly", now, now
            )
        self.requests: dict[str, _Request] = {}
        for n, person in enumerate(live[4:12]):
            status = "pending" if n < 5 else ("approved" if n < 7 else "denied")
            request = _Request(_id("slir", person.user_id), person.user_id, now + timedelta(hours=n), status)
            if status != "pending":
                request.resolved_at = now + timedelta(hours=n + 1)
            self.requests[request.id] = request

    # ------------------------------------------------------------------ reads

    def _spent(self, person: Person) -> str:
        """Cents spent this month to yesterday, to at most three decimals."""
        first = self.org.today.replace(day=1)
        cents = Decimal(0)
        for day in self.org.days(first, self.org.today - timedelta(days=1)):
            cents += sum(
                (c.amount for c in self.org.cost_lines(day) if c.user_id == person.user_id), Decimal(0)
            )
        text = f"{cents.quantize(Decimal('0.001')):f}".rstrip("0").rstrip(".")
        return text or "0"

    def effective(self, person: Person) -> dict[str, Any]:
        override = self.overrides.get(person.user_id)
        group = next((g for g in person.groups if g in GROUP_LIMITS), None)
        if override is not None:
            amount, source, limit_id = override.amount, {"type": "user"}, override.id
        elif group is not None:
            amount, source, limit_id = GROUP_LIMITS[group], {"type": "rbac_group", "rbac_group": group}, None
        elif person.seat_tier in TIER_LIMITS:
            tier = person.seat_tier
            amount, source, limit_id = TIER_LIMITS[tier], {"type": "seat_tier", "seat_tier": tier}, None
        else:
            amount, source, limit_id = ORG_LIMIT, {"type": "organization"}, None
        return {
            "scope": {"type": "user", "user_id": person.user_id},
            "actor": {
                "type": "user_actor",
                "user_id": person.user_id,
                "name": person.name,
                "email_address": person.email,
                "deleted": False,
            },
            "amount": amount,
            "currency": "USD",
            "period": "monthly",
            "source": source,
            "spend_limit_id": limit_id,
            "period_to_date_spend": self._spent(person),
        }

    def _page(self, items: list[Any], params: QueryParams, default: int = 20) -> tuple[list[Any], str | None]:
        raw = params.get("limit", str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise bad(f"limit: must be an integer between 1 and 1000; got {raw!r}")
        limit = int(raw)
        offset = self.paging.offset(params)
        more = offset + limit < len(items)
        return items[offset : offset + limit], self.paging.encode(params, offset + limit) if more else None

    def effective_list(self, params: QueryParams) -> dict[str, Any]:
        periods = params.getlist("period[]")
        if any(p not in ("daily", "weekly", "monthly") for p in periods):
            raise bad("period[]: must be daily, weekly or monthly")
        wanted = set(params.getlist("user_ids[]"))
        members = [
            p for p in self.org.people if not self.org.is_deleted(p) and (not wanted or p.user_id in wanted)
        ]
        if periods and "monthly" not in periods:
            members = []
        with self._lock:
            chunk, following = self._page(members, params)
            return {"data": [self.effective(p) for p in chunk], "next_page": following}

    def configured(self, limit_id: str) -> dict[str, Any]:
        with self._lock:
            for override in self.overrides.values():
                if override.id == limit_id:
                    return override.body()
        raise ApiError(404, "not_found_error", f"spend limit {limit_id} not found")

    def request_body(self, request: _Request) -> dict[str, Any]:
        person = self.org.by_id[request.user_id]
        return {
            "type": "spend_limit_increase_request",
            "id": request.id,
            "actor": {
                "type": "user_actor",
                "user_id": person.user_id,
                "name": person.name,
                "email_address": person.email,
            },
            "created_at": _stamp(request.created_at),
            "period": "monthly",
            "status": request.status,
            "resolved_at": _stamp(request.resolved_at) if request.resolved_at else None,
            "resolved_by": {"type": "api_key"} if request.resolved_at else None,
            "spend_summary": self.effective(person) if request.status == "pending" else None,
        }

    def request_list(self, params: QueryParams) -> dict[str, Any]:
        statuses = set(params.getlist("status[]"))
        if statuses - {"pending", "approved", "denied"}:
            raise bad("status[]: must be pending, approved or denied")
        actors = set(params.getlist("actor_ids[]"))
        with self._lock:
            chosen = [
                r
                for r in sorted(self.requests.values(), key=lambda r: r.created_at, reverse=True)
                if (not statuses or r.status in statuses) and (not actors or r.user_id in actors)
            ]
            chunk, following = self._page(chosen, params)
            return {"data": [self.request_body(r) for r in chunk], "next_page": following}

    def request(self, request_id: str) -> _Request:
        request = self.requests.get(request_id)
        if request is None:
            raise ApiError(404, "not_found_error", f"spend limit increase request {request_id} not found")
        return request

    # ------------------------------------------------------------------ writes

    def upsert(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad("body: expected a JSON object")
        scope = body.get("scope")
        if not isinstance(scope, dict) or scope.get("type") != "user":
            raise bad("scope: only user scopes can be set through the API")
        person = self.org.by_id.get(str(scope.get("user_id")))
        if person is None or self.org.is_deleted(person):
            raise ApiError(404, "not_found_error", f"user {scope.get('user_id')} not found")
        amount = _amount(body, required=False)
        period = body.get("period", "monthly")
        if period not in PERIODS:
            raise bad(f"period: must be one of {', '.join(PERIODS)}")
        return self.set_override(person.user_id, amount, period).body()

    def set_override(self, user_id: str, amount: str | None, period: str = "monthly") -> _Override:
        now = datetime.now(UTC)
        with self._lock:
            override = self.overrides.get(user_id)
            if override is None:
                override = _Override(
                    _id("spl", f"{user_id}:{now.isoformat()}"), user_id, amount, period, now, now
                )
                self.overrides[user_id] = override
            override.amount, override.updated_at = amount, now
            return override

    def delete(self, limit_id: str) -> dict[str, Any]:
        with self._lock:
            for user_id, override in self.overrides.items():
                if override.id == limit_id:
                    del self.overrides[user_id]
                    return {"id": limit_id, "type": "spend_limit_deleted"}
        raise ApiError(404, "not_found_error", f"spend limit {limit_id} not found")

    def approve(self, request_id: str, body: Any) -> dict[str, Any]:
        request = self.request(request_id)
        if request.status != "pending":
            raise ApiError(409, "conflict_error", f"request {request_id} is already {request.status}")
        amount = _amount(body if isinstance(body, dict) else {}, required=True)
        self.set_override(request.user_id, amount)
        self._resolve(request, "approved", body)
        return self.request_body(request)

    def deny(self, request_id: str, body: Any) -> dict[str, Any]:
        request = self.request(request_id)
        if request.status == "approved":
            raise ApiError(409, "conflict_error", f"request {request_id} is already approved")
        if request.status == "pending":
            self._resolve(request, "denied", body)
        return self.request_body(request)

    def _resolve(self, request: _Request, status: str, body: Any) -> None:
        request.status, request.resolved_at = status, datetime.now(UTC)
        if not (isinstance(body, dict) and body.get("suppress_notification")):
            request.notified.append(status)


def _amount(body: dict[str, Any], *, required: bool) -> str | None:
    if "amount" not in body and required:
        raise bad("amount: field required")
    amount = body.get("amount")
    if amount is None and not required:
        return None
    if not isinstance(amount, str) or not amount.isdigit():
        raise bad(f'amount: expected a string of minor units such as "75000"; got {amount!r}')
    return amount
