"""audit/dashboards/guardian-audit.ndjson, the OpenSearch Dashboards saved objects: every field
they refer to is in the strict audit mapping (a misspelt one fails: see the negative cases),
aggregations only on aggregatable fields, the index pattern on the events alias, references
that resolve, and queries on values Guardian really writes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from deploy_support import (
    ROOT,
    kql_fields,
    load_saved_objects,
    mapping_fields,
    saved_object_fields,
    unknown_fields,
)
from guardian.adapters.opensearch.design import IndexNames
from guardian.audit.events import AuditAction
from guardian.config import Settings
from guardian.policy.vocabulary import Outcome

OBJECTS = load_saved_objects()
FIELDS = mapping_fields()


def by_id(object_id: str, objects: list[dict[str, Any]] = OBJECTS) -> dict[str, Any]:
    return next(o for o in objects if o["id"] == object_id)


def query_of(obj: dict[str, Any]) -> str:
    source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    return str(source["query"]["query"])


def test_the_mapping_is_read_whole() -> None:
    assert {"@timestamp", "event.action", "user.id", "guardian.reasons", "guardian.purpose",
            "guardian.checkpoint.signature"} <= set(FIELDS)
    assert "guardian" not in FIELDS and "guardian.checkpoint" not in FIELDS


def test_every_field_the_saved_objects_use_is_in_the_strict_mapping() -> None:
    references = [f for o in OBJECTS for _, f in saved_object_fields(o)]
    assert len(references) > 30
    assert unknown_fields(OBJECTS, FIELDS) == []


def _set_column(objects: list[dict[str, Any]]) -> None:
    by_id("guardian-break-glass", objects)["attributes"]["columns"][0] = "user.idd"


def _set_sort(objects: list[dict[str, Any]]) -> None:
    by_id("guardian-denies-by-reason", objects)["attributes"]["sort"][0][0] = "guardian.reason_s"


def _set_query(objects: list[dict[str, Any]]) -> None:
    attributes = by_id("guardian-legal-requisitions", objects)["attributes"]
    meta = attributes["kibanaSavedObjectMeta"]
    meta["searchSourceJSON"] = meta["searchSourceJSON"].replace("guardian.purpose",
                                                                "guardian.purpse")


def _set_aggregation(objects: list[dict[str, Any]]) -> None:
    attributes = by_id("guardian-decisions-over-time", objects)["attributes"]
    attributes["visState"] = attributes["visState"].replace('"guardian.decision"',
                                                            '"guardian.decisions"')


def _set_time_field(objects: list[dict[str, Any]]) -> None:
    by_id("guardian-audit-events", objects)["attributes"]["timeFieldName"] = "timestamp"


def _list_field(objects: list[dict[str, Any]]) -> None:
    by_id("guardian-audit-events", objects)["attributes"]["fields"] = json.dumps(
        [{"name": "guardian.decison", "type": "string"}])


def _add_filter(objects: list[dict[str, Any]]) -> None:
    attributes = by_id("guardian-break-glass", objects)["attributes"]
    source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
    source["filter"] = [{"meta": {"key": "guardian.databse", "type": "phrase"},
                         "query": {"match_phrase": {"guardian.databse": "crm"}}}]
    attributes["kibanaSavedObjectMeta"]["searchSourceJSON"] = json.dumps(source)


@pytest.mark.parametrize(("misspell", "expected"), [
    (_set_column, "search/guardian-break-glass column: user.idd"),
    (_set_sort, "search/guardian-denies-by-reason sort: guardian.reason_s"),
    (_set_query, "search/guardian-legal-requisitions query: guardian.purpse"),
    (_set_aggregation, "visualization/guardian-decisions-over-time aggregation: "
                       "guardian.decisions"),
    (_set_time_field, "index-pattern/guardian-audit-events timeFieldName: timestamp"),
    (_add_filter, "search/guardian-break-glass filter: guardian.databse"),
    (_list_field, "index-pattern/guardian-audit-events fields: guardian.decison"),
], ids=["column", "sort", "kql-query", "aggregation", "time-field", "filter", "field-list"])
def test_a_misspelt_field_is_caught(misspell: Any, expected: str) -> None:
    objects = copy.deepcopy(OBJECTS)
    misspell(objects)
    assert expected in unknown_fields(objects, FIELDS)


def test_kql_fields_leave_quoted_values_out() -> None:
    assert kql_fields('event.action:"a:b" and not guardian.reasons : x or @timestamp >= 1') \
        == ["event.action", "guardian.reasons", "@timestamp"]


def test_aggregations_and_sorts_use_aggregatable_fields_and_time_is_a_date() -> None:
    for obj in OBJECTS:
        for where, field in saved_object_fields(obj):
            spec = FIELDS[field]
            if where in ("aggregation", "sort", "query", "filter"):
                assert spec.get("index", True) is not False, f"{obj['id']}: {field} unindexed"
                assert spec["type"] != "text", f"{obj['id']}: {field} is not aggregatable"
    pattern = by_id("guardian-audit-events")["attributes"]
    assert FIELDS[pattern["timeFieldName"]]["type"] == "date"


def test_the_index_pattern_is_the_events_alias_and_every_reference_resolves() -> None:
    pattern = by_id("guardian-audit-events")
    assert pattern["type"] == "index-pattern"
    assert pattern["attributes"]["title"] == IndexNames(
        Settings.model_fields["opensearch_index_prefix"].default).events_alias
    known = {(o["type"], o["id"]) for o in OBJECTS}
    assert len(known) == len(OBJECTS), "duplicate ids"
    for obj in OBJECTS:
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in known, f"{obj['id']} → {ref}"
        if obj["type"] in ("search", "visualization"):
            assert obj["references"] == [{
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                "type": "index-pattern", "id": "guardian-audit-events"}]
    panels = json.loads(by_id("guardian-audit")["attributes"]["panelsJSON"])
    names = {r["name"] for r in by_id("guardian-audit")["references"]}
    assert {p["panelRefName"] for p in panels} == names


def test_the_searches_ask_for_values_guardian_writes() -> None:
    purposes = set(yaml.safe_load((ROOT / "policies" / "guardian.yaml").read_text(
        encoding="utf-8"))["purposes"])
    decision = f'event.action:"{AuditAction.ACCESS_DECISION.value}"'
    assert query_of(by_id("guardian-denies-by-reason")) == \
        f"{decision} and guardian.decision:{Outcome.DENY.value}"
    for object_id, purpose in (("guardian-legal-requisitions", "legal-requisition"),
                               ("guardian-break-glass", "break-glass")):
        assert purpose in purposes
        assert query_of(by_id(object_id)) == f'{decision} and guardian.purpose:"{purpose}"'
    denies = by_id("guardian-denies-by-reason")["attributes"]
    assert denies["columns"][0] == denies["sort"][0][0] == "guardian.reasons"
    state = json.loads(by_id("guardian-decisions-over-time")["attributes"]["visState"])
    kinds = [(a["type"], a["params"].get("field")) for a in state["aggs"]]
    assert kinds == [("count", None), ("date_histogram", "@timestamp"),
                     ("terms", "guardian.decision")]
