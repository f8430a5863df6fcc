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
    """Why ``event`` does not fit the mapping ``properties`` (empty when it fits)."""
    problems: list[str] = []
    for name, value in event.items():
        path = f"{prefix}{name}"
        spec = properties.get(name)
        if spec is None:
            problems.append(f"{path} is not in the strict mapping")
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            problems.extend(_check(item, spec, path))
    return problems


def _check(value: Any, spec: Mapping[str, Any], path: str) -> list[str]:
    if value is None:
        return []
    if "properties" in spec:
        if not isinstance(value, Mapping):
            return [f"{path} should be an object"]
        return mapping_problems(value, spec["properties"], f"{path}.")
    if isinstance(value, Mapping):
        return [f"{path} is an object where the mapping expects a {spec.get('type')}"]
    allowed = _SCALARS.get(str(spec.get("type")))
    if allowed is not None and not isinstance(value, allowed):
        return [f"{path} is a {type(value).__name__} where the mapping expects a {spec['type']}"]
    if spec.get("type") in ("long", "integer") and isinstance(value, bool):
        return [f"{path} is a bool where the mapping expects a {spec['type']}"]
    return []
