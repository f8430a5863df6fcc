"""``guardian audit init`` on OpenSearch: apply the index design idempotently.

Each resource (mapping component template, the two index templates, the ISM policy, the first
events index with its write alias, the checkpoint index, the mappings of existing indices) is
read first and written only when missing or different, so a second run changes nothing and
says so. Templates and the policy carry a digest of their design in ``_meta`` (the policy in
its description): comparing digests avoids being fooled by how OpenSearch echoes settings.
Without the index-management (ISM) plugin, the policy step reports ``absent``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
from opensearchpy.exceptions import NotFoundError, TransportError

from guardian.adapters.opensearch.design import IndexDesign
from guardian.adapters.opensearch.errors import VENDOR_ERRORS, why
from guardian.audit.records import SetupReport, SetupStep, StepOutcome
from guardian.errors import AuditIndexUnavailable

ISM_PLUGIN = "opensearch-index-management"
Request = Callable[..., Any]


def digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def with_digest(body: Mapping[str, Any]) -> dict[str, Any]:
    """A template body whose ``_meta.guardian_digest`` says which design it came from."""
    out = copy.deepcopy(dict(body))
    out.setdefault("_meta", {})["guardian_digest"] = digest(body)
    return out


def ism_policy_body(design: IndexDesign) -> dict[str, Any]:
    """The ISM policy as sent to ``PUT _plugins/_ism/policies/<id>``, digest in its description."""
    body = copy.deepcopy(design.ism_policy)
    policy = body["policy"]
    policy["description"] = f"{policy['description']} [design {digest(design.ism_policy)}]"
    return body


def ism_available(request: Request) -> bool:
    plugins = request("GET", "/_cat/plugins", params={"format": "json"})
    return any(p.get("component") == ISM_PLUGIN for p in plugins or [])


def apply_design(request: Request, design: IndexDesign) -> SetupReport:
    """Apply every part of ``design`` through ``request`` (``transport.perform_request``)."""
    try:
        ism = ism_available(request)
        steps = [
            _template(request, "_component_template", design.names.component, design.component),
            _template(request, "_index_template", design.names.events_template,
                      design.events_template_for(ism=ism)),
            _template(request, "_index_template", design.names.checkpoints_template,
                      design.checkpoints_template),
            _ism_policy(request, design) if ism else SetupStep(
                f"ISM policy {design.names.ism_policy}", StepOutcome.ABSENT,
                "the index-management (ISM) plugin is not installed: Guardian's retention job "
                f"rolls over and deletes indices after {design.retention} instead"),
            _write_alias(request, design),
            _checkpoint_index(request, design),
            _mappings(request, design),
        ]
        if ism:
            steps.append(_attach_policy(request, design))
    except VENDOR_ERRORS as exc:
        raise AuditIndexUnavailable(f"OpenSearch refused the index setup: {why(exc)}") from exc
    notes = () if ism else (
        "ISM absent: Guardian's retention job enforces rollover and retention (daily in "
        "`guardian serve`, or `guardian audit retention`); with the "
        "opensearch-index-management plugin installed, run `guardian audit init` again and "
        "ISM does it instead",)
    return SetupReport("opensearch", tuple(steps), notes)


def _get(request: Request, path: str) -> Any | None:
    try:
        return request("GET", path)
    except NotFoundError:
        return None


def _create_index(request: Request, name: str, body: Mapping[str, Any] | None = None) -> bool:
    """Create index ``name``; ``False`` if it exists already. The client retries a request that
    timed out, so a creation that did happen may come back as ``resource_already_exists``;
    two set-ups racing meet the same answer. Either way the index is there."""
    try:
        request("PUT", f"/{name}", body=body)
    except TransportError as exc:
        if exc.error == "resource_already_exists_exception":
            return False
        raise
    return True


def _template(request: Request, kind: str, name: str, body: Mapping[str, Any]) -> SetupStep:
    label = f"{'component' if kind == '_component_template' else 'index'} template {name}"
    wanted = with_digest(body)
    found = _get(request, f"/{kind}/{name}")
    key = "component_templates" if kind == "_component_template" else "index_templates"
    current = (found or {}).get(key) or []
    if current:
        inner = current[0].get("component_template" if key == "component_templates"
                               else "index_template", {})
        if inner.get("_meta", {}).get("guardian_digest") == wanted["_meta"]["guardian_digest"]:
            return SetupStep(label, StepOutcome.UNCHANGED)
    request("PUT", f"/{kind}/{name}", body=wanted)
    return SetupStep(label, StepOutcome.UPDATED if current else StepOutcome.CREATED)


def _ism_policy(request: Request, design: IndexDesign) -> SetupStep:
    name = design.names.ism_policy
    label = f"ISM policy {name} (retention {design.retention})"
    wanted = ism_policy_body(design)
    found = _get(request, f"/_plugins/_ism/policies/{name}")
    if found is None:
        request("PUT", f"/_plugins/_ism/policies/{name}", body=wanted)
        return SetupStep(label, StepOutcome.CREATED)
    if found.get("policy", {}).get("description") == wanted["policy"]["description"]:
        return SetupStep(label, StepOutcome.UNCHANGED)
    request("PUT", f"/_plugins/_ism/policies/{name}", body=wanted,
            params={"if_seq_no": found["_seq_no"], "if_primary_term": found["_primary_term"]})
    return SetupStep(label, StepOutcome.UPDATED)


def _attach_policy(request: Request, design: IndexDesign) -> SetupStep:
    """Put existing events indices that have no policy under it (new ones get it by template)."""
    answer = request("POST", f"/_plugins/_ism/add/{design.names.events_pattern}",
                     body={"policy_id": design.names.ism_policy})
    updated = int((answer or {}).get("updated_indices", 0))
    return SetupStep(f"ISM policy on {design.names.events_pattern}",
                     StepOutcome.UPDATED if updated else StepOutcome.UNCHANGED,
                     f"{updated} index(es) put under the policy" if updated else "")


def _write_alias(request: Request, design: IndexDesign) -> SetupStep:
    names = design.names
    label = f"write alias {names.events_alias}"
    found = _get(request, f"/_alias/{names.events_alias}")
    if found:
        writers = [i for i, a in found.items()
                   if a.get("aliases", {}).get(names.events_alias, {}).get("is_write_index")]
        return SetupStep(label, StepOutcome.UNCHANGED,
                         f"writes go to {writers[0]}" if writers else "no write index!")
    if not _create_index(request, names.first_events_index,
                         {"aliases": {names.events_alias: {"is_write_index": True}}}):
        return SetupStep(label, StepOutcome.UNCHANGED, f"on {names.first_events_index}")
    return SetupStep(label, StepOutcome.CREATED, f"on {names.first_events_index}")


def _checkpoint_index(request: Request, design: IndexDesign) -> SetupStep:
    name = design.names.checkpoints
    if _get(request, f"/{name}") is not None:
        return SetupStep(f"index {name}", StepOutcome.UNCHANGED)
    created = _create_index(request, name)
    return SetupStep(f"index {name}", StepOutcome.CREATED if created else StepOutcome.UNCHANGED)


def _mappings(request: Request, design: IndexDesign) -> SetupStep:
    """Add fields the design gained to indices created before (adding is all a mapping allows)."""
    targets = f"{design.names.events_pattern},{design.names.checkpoints}"
    current = request("GET", f"/{targets}/_mapping")
    wanted = dict(_leaves(design.properties))
    stale: list[str] = []
    for index, body in (current or {}).items():
        have = dict(_leaves(body.get("mappings", {}).get("properties", {})))
        missing = [p for p in wanted if p not in have]
        clashing = [p for p in wanted if p in have and have[p] != wanted[p]]
        if clashing:
            raise AuditIndexUnavailable(
                f"index {index} maps {clashing[0]} as {have[clashing[0]]}, the design as "
                f"{wanted[clashing[0]]}: roll the index over to apply the design")
        if missing:
            stale.append(index)
    if not stale:
        return SetupStep("mappings of existing indices", StepOutcome.UNCHANGED)
    mapping = design.component["template"]["mappings"]
    request("PUT", f"/{','.join(stale)}/_mapping",
            body={"dynamic": mapping["dynamic"], "properties": mapping["properties"]})
    return SetupStep("mappings of existing indices", StepOutcome.UPDATED,
                     f"fields added to {', '.join(sorted(stale))}")


def _leaves(properties: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, spec in properties.items():
        if "properties" in spec:
            yield from _leaves(spec["properties"], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", str(spec.get("type", "object"))
