"""OpenSearch helpers for integration tests: a uniquely prefixed audit index that is removed
afterwards (other engineers share the node), and an attacker's direct write access to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opensearchpy import OpenSearch

from guardian.adapters.opensearch.design import load_design
from guardian.adapters.opensearch.index import OpenSearchAuditIndex, make_client
from support import ROOT


def unique_prefix(tag: str) -> str:
    return f"zz-guardian-test-{tag}-{uuid.uuid4().hex[:8]}"


@contextmanager
def opensearch_index(urls: str, tag: str, *, timeout_s: float = 10.0, replicas: int = 0
                     ) -> Iterator[OpenSearchAuditIndex]:
    """A fresh audit index under a unique prefix, set up, and removed afterwards."""
    prefix = unique_prefix(tag)
    design = load_design(ROOT / "audit" / "opensearch", prefix=prefix, retention_days=365,
                         rollover_days=30, replicas=replicas)
    hosts = urls.split(",")
    index = OpenSearchAuditIndex(make_client(hosts, timeout_s=timeout_s), design, urls)
    try:
        yield index
    finally:
        drop(OpenSearch(hosts), prefix)
        index.close()


def drop(client: OpenSearch, prefix: str) -> None:
    """Remove every index and template of one test prefix, nothing else."""
    client.indices.delete(index=f"{prefix}-events-*,{prefix}-checkpoints",
                          params={"ignore_unavailable": "true"})
    for kind, name in (("_index_template", f"{prefix}-events"),
                       ("_index_template", f"{prefix}-checkpoints"),
                       ("_component_template", f"{prefix}-mappings")):
        client.transport.perform_request("DELETE", f"/{kind}/{name}", params={"ignore": 404})


class OpenSearchTamper:
    """An attacker who can write documents by id (update_by_query and scripts are not
    available on the test build, and not needed)."""

    def __init__(self, index: OpenSearchAuditIndex) -> None:
        self.client = index.client
        self.names = index.design.names

    def _index(self, table: str) -> str:
        return self.names.first_events_index if table == "events" else self.names.checkpoints

    def get(self, doc_id: str, table: str = "events") -> dict[str, Any]:
        doc: dict[str, Any] = self.client.get(index=self._index(table), id=doc_id)["_source"]
        return doc

    def put(self, doc_id: str, event: dict[str, Any], table: str = "events") -> None:
        self.client.index(index=self._index(table), id=doc_id, body=event,
                          params={"refresh": "true"})

    def delete(self, doc_id: str, table: str = "events") -> None:
        self.client.delete(index=self._index(table), id=doc_id, params={"refresh": "true"})

    def refresh(self) -> None:
        self.client.indices.refresh(index=f"{self.names.events_pattern},{self.names.checkpoints}")
