"""Rendering console pages: one Jinja2 environment over the package's templates, escaping
every value (autoescape on for every template, whatever its name).

A page gets, besides its own values, the visitor, the navigation their roles open and the CSRF
token that its forms and htmx requests carry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from guardian.audit.queries import iso_to_millis
from guardian.bootstrap import Guardian
from guardian.console.security import csrf_token, keep_csrf
from guardian.console.session import Visitor, navigation, visitor_of


def _when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("guardian.console", "templates"),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["millis"] = iso_to_millis
    return env


def page(
    request: Request, guardian: Guardian, template: str, *, title: str, status: int = 200,
    visitor: Visitor | None = None, fragment: bool = False, **values: Any,
) -> HTMLResponse:
    """``template`` rendered for this request; ``fragment`` renders it without the layout
    (an htmx swap)."""
    who = visitor if visitor is not None else visitor_of(request, guardian)
    context = {
        "title": title, "visitor": who, "nav": navigation(who), "csrf": csrf_token(request),
        "path": request.url.path, "fragment": fragment, "now": guardian.clock.now(),
        "demo": guardian.settings.demo,
        **values,
    }
    html = environment().get_template(template).render(context)
    response = HTMLResponse(html, status_code=status)
    keep_csrf(response, request, guardian.settings.host)
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
