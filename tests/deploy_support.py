"""Helpers of tests/deploy/: read compose/, the Dockerfiles and the Dashboards objects the
way Docker Compose, Docker and OpenSearch Dashboards would, without any of them.

- ``interpolate``: Compose's variable substitution (``$$``, ``${VAR}``, ``${VAR:-default}``,
  ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``$VAR``);
- ``mapping_fields``: the leaf fields of the strict audit mapping, with their specs;
- ``saved_object_fields`` / ``unknown_fields``: every field a saved object refers to (columns,
  sort, KQL queries, filters, aggregations, the time field) and those the mapping lacks;
- ``parse_dockerfile`` / ``dockerfile_problems``: instructions of a Dockerfile, and what breaks
  the image rules (named stages, an unprivileged final user, pinned base images);
- ``dockerignored``: whether ``.dockerignore`` keeps a path out of the build context;
- ``load_compose_setup``: compose/setup/setup.py as a module.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
DASHBOARDS_FILE = ROOT / "audit" / "dashboards" / "guardian-audit.ndjson"
MAPPING_FILES = (ROOT / "audit" / "opensearch" / "mappings.json",
                 ROOT / "audit" / "opensearch" / "events-template.json")
GUARDIAN_VARIABLE = re.compile(r"\bGUARDIAN_[A-Z0-9_]*[A-Z0-9]\b")

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Reference:
    """One ``${…}`` of a compose file: the variable, its operator (``:-``, ``?``…) and text."""

    name: str
    op: str | None
    arg: str | None


def variable_references(text: str) -> list[Reference]:
    found = []
    for m in _VARIABLE.finditer(text):
        if m["escaped"]:
            continue
        found.append(Reference(m["braced"] or m["bare"], m["op"], m["arg"]))
    return found


def interpolate(text: str, env: dict[str, str]) -> tuple[str, list[str]]:
    """Substitute like Compose; also returns the messages of required variables left empty."""
    errors: list[str] = []

    def one(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name = m["braced"] or m["bare"]
        op, arg = m["op"], m["arg"] or ""
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-") and empty:
            return arg
        if op in (":?", "?") and empty:
            errors.append(f"{name}: {arg}")
            return ""
        return value or ""

    return _VARIABLE.sub(one, text), errors


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (comments and blank lines skipped), as Compose reads ``.env``."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


# -- the strict mapping and the saved objects ------------------------------------------------


def mapping_fields(paths: tuple[Path, ...] = MAPPING_FILES) -> dict[str, dict[str, Any]]:
    """Leaf field name (dotted) → its mapping spec, from every mapping in ``paths``."""
    fields: dict[str, dict[str, Any]] = {}

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{name}.")
            else:
                fields[prefix + name] = spec

    for path in paths:
        mappings = json.loads(path.read_text(encoding="utf-8")).get("template", {}).get(
            "mappings", {})
        walk(mappings.get("properties", {}), "")
    return fields


def load_saved_objects(path: Path = DASHBOARDS_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_KQL_FIELD = re.compile(r"(?<![\w.@-])([@A-Za-z_][\w.@-]*)\s*(?::|[<>]=?)")


def kql_fields(query: str) -> list[str]:
    """The field names of a KQL query (``field:value``, ``field >= value``), quoted values
    left out."""
    return _KQL_FIELD.findall(_QUOTED.sub('""', query))


def _search_source_fields(attributes: dict[str, Any]) -> list[tuple[str, str]]:
    meta = attributes.get("kibanaSavedObjectMeta", {})
    source = json.loads(meta.get("searchSourceJSON") or "{}")
    refs = [("query", f) for f in kql_fields(source.get("query", {}).get("query", ""))]
    for flt in source.get("filter", []):
        key = flt.get("meta", {}).get("key")
        if key:
            refs.append(("filter", key))
        for clause in ("match_phrase", "match", "term", "terms", "range", "exists"):
            body = flt.get("query", {}).get(clause) or flt.get(clause)
            if isinstance(body, dict):
                refs.extend(("filter", f) for f in body if f != "field")
                if "field" in body:
                    refs.append(("filter", body["field"]))
    return refs


def saved_object_fields(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, field) for every field the object refers to."""
    attributes = obj.get("attributes", {})
    refs = _search_source_fields(attributes)
    if obj["type"] == "index-pattern":
        if attributes.get("timeFieldName"):
            refs.append(("timeFieldName", attributes["timeFieldName"]))
        # Dashboards fills an empty field list from the index; a listed field must exist.
        refs.extend(("fields", f["name"]) for f in json.loads(attributes.get("fields") or "[]"))
    if obj["type"] == "search":
        refs.extend(("column", c) for c in attributes.get("columns", []))
        refs.extend(("sort", s[0]) for s in attributes.get("sort", []))
    if obj["type"] == "visualization":
        state = json.loads(attributes.get("visState") or "{}")
        refs.extend(("aggregation", agg["params"]["field"]) for agg in state.get("aggs", [])
                    if "field" in agg.get("params", {}))
    return refs


def unknown_fields(objects: list[dict[str, Any]], fields: dict[str, dict[str, Any]]
                   ) -> list[str]:
    """``<type>/<id> <where>: <field>`` for every reference to a field the mapping lacks."""
    return [f"{obj['type']}/{obj['id']} {where}: {field}" for obj in objects
            for where, field in saved_object_fields(obj) if field not in fields]


# -- Dockerfiles ---------------------------------------------------------------------------


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def dockerfile_problems(text: str, *, min_stages: int = 1) -> list[str]:
    """What breaks the rules: base images without a tag or on ``latest``, unnamed stages
    (when several), ``COPY --from`` an unknown stage, no ``USER`` or a root one at the end."""
    problems: list[str] = []
    stages: list[str] = []
    user: str | None = None
    instructions = parse_dockerfile(text)
    for keyword, args in instructions:
        if keyword == "FROM":
            parts = args.split()
            image = next(p for p in parts if not p.startswith("--"))
            name = parts[parts.index("AS") + 1] if "AS" in parts else (
                parts[parts.index("as") + 1] if "as" in parts else None)
            if image not in stages:
                tag = image.rsplit("/", 1)[-1].partition(":")[2].partition("@")[0]
                if "@sha256:" not in image and not tag:
                    problems.append(f"FROM {image}: no tag")
                elif tag == "latest":
                    problems.append(f"FROM {image}: the latest tag")
            stages.append(name or f"#{len(stages)}")
            user = None
        elif keyword == "USER":
            user = args.split(":")[0]
        elif keyword == "COPY" and "--from=" in args:
            source = args.split("--from=")[1].split()[0]
            if source not in stages:
                problems.append(f"COPY --from={source}: no such earlier stage")
    if len(stages) < min_stages:
        problems.append(f"{len(stages)} stage(s), expected at least {min_stages}")
    if len(stages) > 1 and any(s.startswith("#") for s in stages):
        problems.append("every stage of a multi-stage build needs a name (FROM … AS name)")
    if user is None:
        problems.append("the final stage sets no USER: it would run as root")
    elif user in ("root", "0"):
        problems.append(f"the final stage runs as {user}")
    return problems


def dockerignored(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.strip("/")
        globs = {pat, pat.replace("**/", "")}
        if any(fnmatch.fnmatchcase(c, g) for c in candidates for g in globs):
            ignored = not negate
    return ignored


def dockerignore_patterns(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().startswith("#")]


def load_compose_setup() -> ModuleType:
    """compose/setup/setup.py (not a package module) loaded under the name compose_setup."""
    spec = importlib.util.spec_from_file_location("compose_setup",
                                                  COMPOSE_DIR / "setup" / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
