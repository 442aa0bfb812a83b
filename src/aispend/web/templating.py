"""Server-rendered pages: Jinja2 with autoescaping on, every page given its CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from aispend.web.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie

__all__ = ["render"]

_templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, auto_reload=False
    )
)


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
