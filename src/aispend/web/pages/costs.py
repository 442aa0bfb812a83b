"""The Rates and credits page and the Spend limits page (Admin, Finance Admin).

Each form calls the function its CLI command calls, acting as the signed-in person, so the
change is audited exactly as ``aispend rates add``, ``credits add``, ``rerate --apply`` and
``limits set|clear|approve|deny`` audit it (there as ``cli:<os user>``). A form that cannot
be used is shown again with what was typed and a message saying what to fix.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from aispend import audit
from aispend.auth.principal import Principal
from aispend.limits import LimitsError, approve_request, clear_limit, deny_request, set_limit
from aispend.pricing.credits import CREDIT_KINDS, add_credit
from aispend.pricing.listprice import TOKEN_KINDS
from aispend.pricing.priced import add_rates
from aispend.pricing.rerate import RerateDiff, apply_rerate, rerate_diff
from aispend.providers.registry import PROVIDERS
from aispend.runtime import Runtime
from aispend.web.api_costs import limits_data, rates_data, today
from aispend.web.deps import CostManager, RuntimeDep, org_db
from aispend.web.pages.connections import for_org
from aispend.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=200)]
Name = Annotated[str, Path(max_length=100)]
RequestId = Annotated[str, Path(max_length=200)]
PROVIDER_CHOICES = [(name, info.display_name) for name, info in PROVIDERS.items()]
CARD_FIELDS = ("name", "effective_from", "provider", "model", "discount", "rates", "commitment", "note")
CREDIT_FIELDS = ("name", "amount", "valid_from", "valid_until", "provider", "kind")


class FormError(ValueError):
    """A form value that cannot be used; the message says what to enter instead."""


def _sentence(error: Exception) -> str:
    text = str(error).strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FormError(f"{what}: enter a UTC day as YYYY-MM-DD, e.g. 2026-03-01; got {text!r}") from None


def _parse_amount(text: str, what: str) -> Decimal:
    """A number as people type it: ``1,250.50`` or ``$750`` are fine."""
    cleaned = text.strip().replace(",", "").removeprefix("$").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise FormError(f"{what} must be a number such as 20 or 1250.50, not {text!r}") from None
    if not value.is_finite():
        raise FormError(f"{what} must be a finite number")
    return value


def _parse_rates(text: str) -> dict[str, Decimal]:
    """``input=2.5, output=10``: the CLI's ``--rate KIND=USD`` pairs, comma or line separated."""
    rates: dict[str, Decimal] = {}
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        kind, sep, price = item.partition("=")
        if not sep or not kind.strip():
            raise FormError(
                "Explicit rates are KIND=USD per million tokens, e.g. input=2.5, output=10; "
                f"got {item.strip()!r}"
            )
        rates[kind.strip()] = _parse_amount(price, f"The rate of {kind.strip()}")
    return rates


def _provider(value: str) -> str | None:
    if not value:
        return None
    if value not in PROVIDERS:
        raise FormError(f"Choose a provider from the list, not {value!r}")
    return value


def _period(since: str, until: str) -> tuple[date, date]:
    first = _parse_day(since, "Re-rate from")
    last = _parse_day(until, "Re-rate to")
    if last < first:
        raise FormError(
            f"Re-rate to ({last.day} {last:%B %Y}) is before Re-rate from ({first.day} {first:%B %Y})"
        )
    return first, last


def _day_before(day: date) -> date:
    return day - timedelta(days=1)


def _last_month(on: date) -> tuple[date, date]:
    end = on.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


# ---------------------------------------------------------------------------------- rates


def _rates_page(
    request: Request, principal: Principal, runtime: Runtime, status: int = 200, **context: object
) -> Response:
    on = today()
    since, until = _last_month(on)
    with org_db(runtime, principal) as session:
        data = rates_data(session, principal.org_id, on)
    values: dict[str, object] = {
        "nav": "rates",
        "data": data,
        "providers": PROVIDER_CHOICES,
        "credit_kinds": CREDIT_KINDS,
        "token_kinds": sorted(TOKEN_KINDS),
        "card_form": {"effective_from": on.replace(day=1).isoformat(), "discount": "0"},
        "credit_form": {"kind": "prepaid", "valid_from": on.isoformat()},
        "rerate_since": since.isoformat(),
        "rerate_until": until.isoformat(),
        **context,
    }
    added = request.query_params.get("added")
    card = data.card(added) if added else None
    if card is not None:
        values["added_card"] = card.latest
        values["added_closed_until"] = _day_before(card.latest.auto_from)
        repriced = request.query_params.get("repriced", "")
        values["added_repriced"] = int(repriced) if repriced.isdigit() else None
    credit = request.query_params.get("credit")
    values["added_credit"] = next((c for c in data.credits if c.name == credit), None) if credit else None
    return render(request, "rates.html", values, status=status)


@router.get("/rates")
def rates_page(
    request: Request, principal: CostManager, runtime: RuntimeDep, since: str = "", until: str = ""
) -> Response:
    """The page; with ``since`` and ``until`` it also shows what re-rating that period changes."""
    if not since and not until:
        return _rates_page(request, principal, runtime)
    return _rerate_page(request, principal, runtime, since, until, apply=False)


@router.post("/rates/cards")
def add_card(
    request: Request,
    principal: CostManager,
    runtime: RuntimeDep,
    name: Text = "",
    effective_from: Text = "",
    provider: Text = "",
    model: Text = "",
    discount: Text = "",
    rates: Annotated[str, Form(max_length=2000)] = "",
    commitment: Text = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Add a rate card or a new version of one (``aispend rates add``); open days are priced again."""
    values = (name, effective_from, provider, model, discount, rates, commitment, note)
    typed = dict(zip(CARD_FIELDS, values, strict=True))
    try:
        if not name.strip():
            raise FormError("Give the rate card a name, e.g. anthropic-2026")
        terms = {
            "name": name.strip(),
            "effective_from": _parse_day(effective_from, "Effective from"),
            "provider": _provider(provider),
            "model_pattern": model.strip() or None,
            "discount_pct": _parse_amount(discount or "0", "The discount"),
            "rates": _parse_rates(rates),
            "commitment_usd": _parse_amount(commitment, "The commitment") if commitment.strip() else None,
            "note": note.strip(),
        }
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            version, repriced = add_rates(session, principal.org_id, today=today(), **terms)
    except ValueError as error:
        return _rates_page(request, principal, runtime, 422, card_error=_sentence(error), card_form=typed)
    query = urlencode({"added": version.card_name, "repriced": repriced})
    return RedirectResponse(f"/rates?{query}#cards", status_code=303)


@router.post("/rates/credits")
def add_credit_grant(
    request: Request,
    principal: CostManager,
    runtime: RuntimeDep,
    name: Text = "",
    amount: Text = "",
    valid_from: Text = "",
    valid_until: Text = "",
    provider: Text = "",
    kind: Text = "prepaid",
) -> Response:
    """Add a prepaid or promotional credit (``aispend credits add``)."""
    typed = dict(zip(CREDIT_FIELDS, (name, amount, valid_from, valid_until, provider, kind), strict=True))
    try:
        if not name.strip():
            raise FormError("Give the credit a name, e.g. openai-prepay-2026")
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            add_credit(
                session,
                principal.org_id,
                name=name.strip(),
                amount_usd=_parse_amount(amount, "The amount"),
                valid_from=_parse_day(valid_from, "Valid from"),
                valid_until=_parse_day(valid_until, "Valid until"),
                provider=_provider(provider) or "",
                kind=kind,
            )
    except ValueError as error:
        return _rates_page(request, principal, runtime, 422, credit_error=_sentence(error), credit_form=typed)
    return RedirectResponse(f"/rates?{urlencode({'credit': name.strip()})}#credits", status_code=303)


@router.post("/rates/rerate")
def apply_rerating(
    request: Request, principal: CostManager, runtime: RuntimeDep, since: Text = "", until: Text = ""
) -> Response:
    """Apply a re-rating of ``[since, until]`` (``aispend rerate --apply``); shows what it changed."""
    return _rerate_page(request, principal, runtime, since, until, apply=True)


def _rerate_page(
    request: Request, principal: Principal, runtime: Runtime, since: str, until: str, *, apply: bool
) -> Response:
    """The page with the re-rating of ``[since, until]``: its dry run, or what applying it changed."""
    try:
        first, last = _period(since, until)
        with org_db(runtime, principal) as session, audit.acting_as(principal.actor):
            rerate = apply_rerate if apply else rerate_diff
            diff: RerateDiff = rerate(session, principal.org_id, since=first, until=last)
    except ValueError as error:
        return _rates_page(
            request,
            principal,
            runtime,
            422,
            rerate_error=_sentence(error),
            rerate_since=since,
            rerate_until=until,
        )
    return _rates_page(request, principal, runtime, rerate=diff, rerate_since=since, rerate_until=until)


# ---------------------------------------------------------------------------------- limits


def _limits_page(
    request: Request, principal: Principal, runtime: Runtime, status: int = 200, **context: object
) -> Response:
    values: dict[str, object] = {
        "nav": "limits",
        "connections": limits_data(runtime, principal.org_id),
        "done": request.query_params.get("done", ""),
        "done_user": request.query_params.get("user", ""),
        "done_connection": request.query_params.get("connection", ""),
        **context,
    }
    return render(request, "limits.html", values, status=status)


def _done(action: str, connection: str, user: str) -> Response:
    query = urlencode({"done": action, "connection": connection, "user": user})
    return RedirectResponse(f"/limits?{query}", status_code=303)


def _limit_amount(amount: str, unlimited: str) -> Decimal | None:
    """The CLI's rule: exactly one of an amount or "unlimited"; whole cents, not negative."""
    if bool(amount.strip()) == bool(unlimited):
        raise FormError("Enter a monthly limit in US dollars, or tick No limit (not both)")
    if unlimited:
        return None
    value = _parse_amount(amount, "The monthly limit")
    if value < 0:
        raise FormError(f"The monthly limit cannot be negative; got {amount!r}")
    return value


@router.get("/limits")
def limits_page(request: Request, principal: CostManager, runtime: RuntimeDep) -> Response:
    return _limits_page(request, principal, runtime)


@router.post("/limits/{connection}/set")
def set_member_limit(
    request: Request,
    principal: CostManager,
    runtime: RuntimeDep,
    connection: Name,
    email: Annotated[str, Form(max_length=320)] = "",
    amount: Text = "",
    unlimited: Text = "",
) -> Response:
    """Set a member's own monthly limit at the provider (``aispend limits set``)."""
    try:
        if not email.strip():
            raise FormError("Enter the member's e-mail")
        value = _limit_amount(amount, unlimited)
        with audit.acting_as(principal.actor):
            set_limit(for_org(runtime, principal.org_id), connection, email.strip(), value)
    except (ValueError, LimitsError) as error:
        typed = {"email": email, "amount": amount, "unlimited": bool(unlimited)}
        return _limits_page(
            request,
            principal,
            runtime,
            422,
            error=_sentence(error),
            error_connection=connection,
            set_form=typed,
        )
    return _done("set", connection, email.strip().lower())


@router.post("/limits/{connection}/clear")
def clear_member_limit(
    request: Request,
    principal: CostManager,
    runtime: RuntimeDep,
    connection: Name,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """Remove a member's own limit; they fall back to the inherited one (``aispend limits clear``)."""
    try:
        if not email.strip():
            raise FormError("Enter the member's e-mail")
        with audit.acting_as(principal.actor):
            clear_limit(for_org(runtime, principal.org_id), connection, email.strip())
    except (ValueError, LimitsError) as error:
        return _limits_page(
            request, principal, runtime, 422, error=_sentence(error), error_connection=connection
        )
    return _done("cleared", connection, email.strip().lower())


@router.post("/limits/{connection}/requests/{request_id}/approve")
def approve_increase(
    request: Request,
    principal: CostManager,
    runtime: RuntimeDep,
    connection: Name,
    request_id: RequestId,
    amount: Text = "",
    notify: Text = "",
) -> Response:
    """Approve a limit-increase request with the new monthly limit (``aispend limits approve``)."""
    try:
        if not amount.strip():
            raise FormError("Enter the member's new monthly limit in US dollars")
        value = _parse_amount(amount, "The new monthly limit")
        if value < 0:
            raise FormError(f"The new monthly limit cannot be negative; got {amount!r}")
        with audit.acting_as(principal.actor):
            result = approve_request(
                for_org(runtime, principal.org_id), connection, request_id, value, notify=bool(notify)
            )
    except (ValueError, LimitsError) as error:
        return _limits_page(
            request,
            principal,
            runtime,
            422,
            error=_sentence(error),
            error_connection=connection,
            approve_form={"request_id": request_id, "amount": amount},
        )
    return _done("approved", connection, result.email.lower())


@router.post("/limits/{connection}/requests/{request_id}/deny")
def deny_increase(
    request: Request,
    principal: CostManager,
    runtime: RuntimeDep,
    connection: Name,
    request_id: RequestId,
    notify: Text = "",
) -> Response:
    """Deny a limit-increase request (``aispend limits deny``)."""
    try:
        with audit.acting_as(principal.actor):
            acting = for_org(runtime, principal.org_id)
            result = deny_request(acting, connection, request_id, notify=bool(notify))
    except LimitsError as error:
        return _limits_page(
            request, principal, runtime, 422, error=_sentence(error), error_connection=connection
        )
    return _done("denied", connection, result.email.lower())
