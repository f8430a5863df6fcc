"""Reading a console form: URL-encoded fields, the CSRF token checked first, then the fields
validated by the API's own request models (so a form accepts exactly what the API accepts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from guardian.console.security import CSRF_FIELD, check_csrf
from guardian.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)
MAX_FORM_BYTES = 64 * 1024


async def read_form(request: Request, *, max_fields: int = 200) -> dict[str, str]:
    """The form's fields (the last of repeated names; see :func:`read_multi`), CSRF-checked;
    ``max_fields`` raised for a form with a field per row (the reviewer's inbox)."""
    fields = dict(await _pairs(request, max_fields))
    check_csrf(request, fields)
    fields.pop(CSRF_FIELD, None)
    return fields


async def read_multi(request: Request, name: str, *, max_fields: int = 200) -> list[str]:
    """Every value of a repeated field (checkboxes); call after :func:`read_form`."""
    return [v for k, v in await _pairs(request, max_fields) if k == name]


async def _pairs(request: Request, max_fields: int = 200) -> list[tuple[str, str]]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES * max(1, max_fields // 200):
        raise InvalidRequest("this form is too large")
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                         max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("this form could not be read") from exc


def validated(model: type[M], fields: Mapping[str, Any]) -> M:
    """``fields`` (blank ones left out) as ``model``; a refusal names the first bad field."""
    data = {k: v for k, v in fields.items() if v != ""}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "form"
        raise InvalidRequest(f"{where}: {first.get('msg', 'invalid value')}") from exc
