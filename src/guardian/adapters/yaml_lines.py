"""YAML loading that remembers the line each mapping came from, for lint messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LINE_KEY = "__line__"


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    pairs = loader.construct_mapping(node, deep=True).items()
    mapping: dict[str, Any] = {str(k): v for k, v in pairs}
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_with_lines(path: Path) -> Any:
    """Parse ``path``; every mapping gets a ``__line__`` entry (1-based)."""
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass


def strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


_PLAIN_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the pure-Python one builds a node (with two
position marks) per scalar before the values, about 1.5 GB of short-lived objects for a
100 000-person directory file, which the process kept as resident memory afterwards."""


def load_plain(path: Path) -> Any:
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=_PLAIN_LOADER)  # noqa: S506 - a safe loader
