"""Static assets: our stylesheet and scripts, and Plotly's bundle from the installed ``plotly`` wheel.

Served by the application itself (no CDN: the dashboard works offline) and public,
like the sign-in page that uses them; they hold no data.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException
from starlette.responses import Response

__all__ = ["PLOTLY_JS", "router"]

router = APIRouter(include_in_schema=False)

PLOTLY_JS = "plotly.min.js"
_OWN = Path(__file__).parent.parent / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@cache
def _asset(name: str) -> bytes | None:
    if name == PLOTLY_JS:
        return files("plotly").joinpath("package_data", PLOTLY_JS).read_bytes()
    path = _OWN / name
    # Only files directly in static/, never a path that climbs out of it.
    if "/" in name or name.startswith(".") or not path.is_file():
        return None
    return path.read_bytes()


@router.get("/static/{name}")
def asset(name: str) -> Response:
    body = _asset(name)
    if body is None:
        raise HTTPException(404)
    media = _TYPES.get(Path(name).suffix, "application/octet-stream")
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=86400"})
