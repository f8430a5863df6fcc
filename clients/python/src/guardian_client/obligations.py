"""Applying a permit's obligations to the data an application is about to show.

Guardian's ``mask`` obligation names fields the employee may not see (``{"type": "mask",
"fields": ["iban"]}``). :func:`apply_obligations` returns a copy of a dict, a pydantic model, or
lists and tuples of them, with every such field replaced (``"***"`` by default) at any depth, so
a nested ``{"billing": {"iban": ...}}`` is masked too. Masking more than asked is safe, less is
not: an obligation of a type this module does not know, or a value it cannot look into while
fields are to be masked, raises :class:`~guardian_client.ObligationError` instead of passing the
data through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from guardian_client._errors import ObligationError
from guardian_client._models import MASK, Decision

T = TypeVar("T")
SUPPORTED = frozenset({MASK})
"""Obligation types this module can fulfil."""
_SCALARS = (str, bytes, int, float, bool, type(None))


def unsupported(decision: Decision, supported: Iterable[str] = SUPPORTED) -> list[str]:
    """The obligation types of ``decision`` that are not in ``supported``."""
    known = set(supported)
    return sorted({o.type for o in decision.obligations if o.type not in known})


def apply_obligations(value: T, decision: Decision, *, replacement: Any = "***") -> T:
    """``value`` with the decision's obligations fulfilled; raises if one cannot be."""
    unknown = unsupported(decision)
    if unknown:
        raise ObligationError(f"cannot fulfil obligation(s) {', '.join(unknown)}")
    return mask(value, decision.masked_fields, replacement=replacement)


def mask(value: T, fields: Iterable[str], *, replacement: Any = "***") -> T:
    """A copy of ``value`` whose ``fields`` (at any depth) are ``replacement``."""
    names = frozenset(fields)
    if not names:
        return value
    masked: T = _mask(value, names, replacement)
    return masked


def _mask(value: Any, names: frozenset[str], replacement: Any) -> Any:
    if isinstance(value, BaseModel):
        update = {
            name: replacement if name in names else _mask(getattr(value, name), names, replacement)
            for name in type(value).model_fields
        }
        return value.model_copy(update=update)
    if isinstance(value, Mapping):
        return {k: replacement if k in names else _mask(v, names, replacement)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_mask(v, names, replacement) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, _SCALARS):
        return value
    raise ObligationError(f"cannot mask fields of a {type(value).__name__}")
