"""Server-rendered pages: Jinja2 with autoescaping on, every page given its CSRF token."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from aispend.reports.format import format_tokens, format_usd
from aispend.web.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie

__all__ = ["render"]

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, auto_reload=False
)


def _percent(fraction: Decimal | float | None) -> str:
    """A fraction as a percentage with one decimal and its sign: ``+12.3%``; a dash for none."""
    return "–" if fraction is None else f"{float(fraction) * 100:+.1f}%"


def _day(value: date | None) -> str:
    """A day in words: ``3 March 2026``."""
    return "–" if value is None else f"{value.day} {value:%B %Y}"


def _usd(amount: Decimal | int) -> str:
    return format_usd(Decimal(amount))


_env.filters.update(usd=_usd, tokens=format_tokens, percent=_percent, day=_day)
_templates = Jinja2Templates(env=_env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render ``templates/<name>`` with the signed-in principal (if any) and the CSRF token."""
    values = {
        "principal": getattr(request.state, "principal", None),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = _templates.TemplateResponse(request, name, values, status_code=status)
    set_csrf_cookie(request, response)
    return response
