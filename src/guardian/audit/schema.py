"""Does an event fit the strict index mapping? The same answer OpenSearch would give, locally.

The mapping in ``audit/opensearch/mappings.json`` is strict: a field it does not list is
refused. The embedded SQLite index applies the same rule with this module, so an event shape
the mapping lacks is caught by the unit tests and the embedded default, not first in
production.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SCALARS: dict[str, tuple[type, ...]] = {
    "keyword": (str, int, float, bool),
    "long": (int,),
    "double": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "date": (str, int),
    "ip": (str,),
}


def mapping_problems(
    event: Mapping[str, Any], properties: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    """Why ``event`` does not fit the mapping ``properties`` (empty when it fits).

    Runs for every event the embedded index takes, so it tests ``dict`` and ``list`` exactly
    (events are decoded JSON) rather than the slower abstract ``Mapping``.
    """
    problems: list[str] = []
    for name, value in event.items():
        spec = properties.get(name)
        if spec is None:
            problems.append(f"{prefix}{name} is not in the strict mapping")
            continue
        if type(value) is list:
            for item in value:
                problems.extend(_check(item, spec, prefix, name))
        else:
            problems.extend(_check(value, spec, prefix, name))
    return problems


def _check(value: Any, spec: Mapping[str, Any], prefix: str, name: str) -> list[str]:
    if value is None:
        return []
    nested = spec.get("properties")
    if nested is not None:
        if type(value) is not dict:
            return [f"{prefix}{name} should be an object"]
        return mapping_problems(value, nested, f"{prefix}{name}.")
    kind = spec.get("type")
    if type(value) is dict:
        return [f"{prefix}{name} is an object where the mapping expects a {kind}"]
    allowed = _SCALARS.get(str(kind))
    if allowed is not None and not isinstance(value, allowed):
        return [f"{prefix}{name} is a {type(value).__name__} where the mapping expects a {kind}"]
    if kind in ("long", "integer") and isinstance(value, bool):
        return [f"{prefix}{name} is a bool where the mapping expects a {kind}"]
    return []
