"""The OpenSearch index design, read from the ``audit/opensearch/`` files and the settings.

The files hold the mapping (a component template), the index templates of the events and of
the checkpoints, and the ISM policy, with ``{{prefix}}``, ``{{retention}}`` and
``{{rollover_age}}`` placeholders; this module fills them in and names every resource, so that
``guardian audit init``, the shipper and the tests agree on them. No client is used here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from guardian.errors import ConfigurationError

FILES = ("mappings.json", "events-template.json", "checkpoints-template.json",
         "ism-policy.json")
ISM_ROLLOVER_SETTING = "plugins.index_state_management.rollover_alias"


@dataclass(frozen=True, slots=True)
class IndexNames:
    prefix: str

    @property
    def events_alias(self) -> str:
        """The write alias the shipper indexes into (and searches read)."""
        return f"{self.prefix}-events"

    @property
    def first_events_index(self) -> str:
        return f"{self.prefix}-events-000001"

    @property
    def events_pattern(self) -> str:
        return f"{self.prefix}-events-*"

    @property
    def checkpoints(self) -> str:
        return f"{self.prefix}-checkpoints"

    @property
    def component(self) -> str:
        return f"{self.prefix}-mappings"

    @property
    def events_template(self) -> str:
        return f"{self.prefix}-events"

    @property
    def checkpoints_template(self) -> str:
        return f"{self.prefix}-checkpoints"

    @property
    def ism_policy(self) -> str:
        return f"{self.prefix}-retention"


@dataclass(frozen=True, slots=True)
class IndexDesign:
    names: IndexNames
    component: dict[str, Any]
    events_template: dict[str, Any]
    checkpoints_template: dict[str, Any]
    ism_policy: dict[str, Any]
    retention: str

    @property
    def properties(self) -> dict[str, Any]:
        """The mapping's top-level properties."""
        props: dict[str, Any] = self.component["template"]["mappings"]["properties"]
        return props

    def events_template_for(self, *, ism: bool) -> dict[str, Any]:
        """The events template; with ISM it names the rollover alias (a setting that only
        exists when the ISM plugin is installed)."""
        body = copy.deepcopy(self.events_template)
        if ism:
            body["template"]["settings"]["index"][ISM_ROLLOVER_SETTING] = \
                self.names.events_alias
        return body


def load_design(
    folder: Path, *, prefix: str, retention_days: int, rollover_days: int, replicas: int
) -> IndexDesign:
    """The design in ``folder`` (``audit/opensearch``) with the settings filled in."""
    values = {"prefix": prefix, "retention": f"{retention_days}d",
              "rollover_age": f"{rollover_days}d"}
    bodies = [_read(folder / name, values) for name in FILES]
    component, events, checkpoints, ism = bodies
    for template in (events, checkpoints):
        template["template"]["settings"]["index"]["number_of_replicas"] = replicas
    return IndexDesign(IndexNames(prefix), component, events, checkpoints, ism,
                       values["retention"])


def _read(path: Path, values: dict[str, str]) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"index design file {path} is missing (GUARDIAN_AUDIT_DIR): {exc.strerror}") from exc
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise ConfigurationError(f"{path} has a placeholder this version does not fill")
    try:
        body: dict[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid JSON: {exc}") from exc
    return body
