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


class _NotPlain(Exception):
    """An alias, anchor or merge key: the streamed reader leaves the file to the full loader."""


def load_streamed(path: Path) -> Any:
    """What :func:`load_plain` returns, built from the parser's events one value at a time.

    The full loader first composes a node for every scalar of the document, then constructs
    the values: for a 100 000-person directory file that graph peaked at several hundred MB,
    and the process kept most of it as resident memory after it was freed (the heap cannot
    shrink past the objects built meanwhile). Here only the value under construction exists;
    each scalar is resolved and constructed as the safe loader would (``true``, numbers,
    dates...). Anchors, aliases and merge keys are left to :func:`load_plain`."""
    try:
        with path.open("rb") as handle:
            return _StreamedBuilder(_PLAIN_LOADER(handle)).document()
    except _NotPlain:
        return load_plain(path)


_STR = "tag:yaml.org,2002:str"


class _StreamedBuilder:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def document(self) -> Any:
        loader = self._loader
        try:
            loader.get_event()  # stream start
            if loader.check_event(yaml.StreamEndEvent):
                return None
            loader.get_event()  # document start
            value = self._value(loader.get_event())
            loader.get_event()  # document end
            if not loader.check_event(yaml.StreamEndEvent):
                raise yaml.composer.ComposerError(
                    "expected a single document in the stream", None,
                    "but found another document", loader.peek_event().start_mark)
            return value
        finally:
            loader.dispose()

    def _value(self, event: Any) -> Any:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _NotPlain
        if isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = self._loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == _STR:
                return event.value
            start: Any = event.start_mark
            end: Any = event.end_mark
            node = yaml.ScalarNode(tag, event.value, start, end, style=event.style)
            # The constructor itself, not construct_object: that one remembers every node.
            constructors = self._loader.yaml_constructors
            return (constructors.get(tag) or constructors[None])(self._loader, node)
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not self._loader.check_event(yaml.SequenceEndEvent):
                items.append(self._value(self._loader.get_event()))
            self._loader.get_event()
            return items
        if isinstance(event, yaml.MappingStartEvent):
            mapping: dict[Any, Any] = {}
            while not self._loader.check_event(yaml.MappingEndEvent):
                key = self._value(self._loader.get_event())
                if key == "<<":
                    raise _NotPlain
                mapping[key] = self._value(self._loader.get_event())
            self._loader.get_event()
            return mapping
        raise yaml.composer.ComposerError(None, None, f"unexpected {event}", event.start_mark)
