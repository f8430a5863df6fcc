"""The error tree drawn in guardian.errors' docstring is the tree of its classes: every class
under the parent drawn, with the code drawn, and every GuardianError of the module drawn."""

from __future__ import annotations

import inspect
import re

import guardian.errors as errors

LINE = re.compile(r"^(?P<indent>[ │]*)[├└]── (?P<name>\w+)\s+(?P<code>\S+)")


def _drawn() -> dict[str, tuple[str, str]]:
    """class name -> (parent drawn, code drawn), read from the docstring."""
    doc = errors.__doc__ or ""
    drawn: dict[str, tuple[str, str]] = {}
    parents = ["GuardianError"]
    for raw in doc.splitlines():
        match = LINE.match(raw.strip("\n")[4:])
        if match is None:
            continue
        depth = len(match["indent"]) // 4
        del parents[depth + 1:]
        drawn[match["name"]] = (parents[depth], match["code"])
        parents.append(match["name"])
    return drawn


def test_every_class_drawn_has_its_parent_and_code() -> None:
    drawn = _drawn()

    assert len(drawn) > 40
    for name, (parent, code) in drawn.items():
        cls = getattr(errors, name)
        assert cls.__bases__[0].__name__ == parent, name
        if code != "the":  # ServerRefused passes the server's code on
            assert cls.code == code, name


def test_every_guardian_error_of_the_module_is_drawn() -> None:
    classes = {name for name, cls in inspect.getmembers(errors, inspect.isclass)
               if issubclass(cls, errors.GuardianError) and cls.__module__ == errors.__name__}

    assert classes - {"GuardianError"} == set(_drawn())


def test_codes_are_unique() -> None:
    codes = [code for _parent, code in _drawn().values() if code != "the"]
    assert len(codes) == len(set(codes))
