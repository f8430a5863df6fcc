"""The audit index on OpenSearch (opensearch-py): bulk create-only indexing, ordered walks, search.

Events go to the write alias with ``op_type=create``, ``_id`` = ``"<writer>:<seq>"`` (``"<seq>"``
for an event without a writer id, :mod:`guardian.audit.writers`) and
``require_alias`` (so a missing alias is an error, never an index with a guessed mapping). A
``409`` is answered by reading the stored document back: the same document is a retry
(``duplicate``), another one a tamper signal (``conflict``). Because ``create`` only guards the
current write index, after an uncertain failure (and on the first batch of a process) the
previous backing index is also checked for the batch's ids, so a rollover between two attempts
cannot duplicate an event. Walks use a point in time with ``search_after`` on
(``guardian.writer``, ``guardian.seq``), each writer's chain in one run, events without a writer
first; searches are bool queries of term and range clauses only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, OpenSearchException, TransportError

from guardian.adapters.opensearch import aggregations as opensearch_aggregations
from guardian.adapters.opensearch import retention as opensearch_retention
from guardian.adapters.opensearch.design import IndexDesign
from guardian.adapters.opensearch.errors import VENDOR_ERRORS, translated, why
from guardian.adapters.opensearch.setup import apply_design, ism_available
from guardian.audit.aggregations import AggregateQuery, Bucket, Span
from guardian.audit.queries import AuditPage, AuditQuery, cursor_of
from guardian.audit.records import (
    IndexStatus,
    ItemOutcome,
    ItemStatus,
    JournalRecord,
    Removal,
    SetupReport,
    StoredEvent,
)
from guardian.errors import AuditIndexUnavailable

_RETRY_TYPES = {"es_rejected_execution_exception", "unavailable_shards_exception",
                "cluster_block_exception", "process_cluster_event_timeout_exception",
                "index_not_found_exception", "node_not_connected_exception",
                "no_shard_available_action_exception", "circuit_breaking_exception"}
_PAGE = 5000
_KEEP_ALIVE = "2m"


class OpenSearchAuditIndex:
    """A :class:`guardian.ports.AuditIndex` on an OpenSearch cluster."""

    def __init__(self, client: OpenSearch, design: IndexDesign, target: str) -> None:
        self._client = client
        self._design = design
        self._names = design.names
        self._target = target
        self._uncertain = True
        self._retention = "unknown (not checked yet)"
        self.walk_mode = "point-in-time"
        """How the last walk read the index: ``point-in-time``, or ``search_after`` alone."""

    @property
    def client(self) -> OpenSearch:
        return self._client

    @property
    def design(self) -> IndexDesign:
        return self._design

    def close(self) -> None:
        self._client.close()

    # -- setup and status ---------------------------------------------------------------

    def setup(self) -> SetupReport:
        report = apply_design(self._request, self._design)
        self._retention = self._retention_text(ism=not report.notes)
        return report

    def status(self) -> IndexStatus:
        return IndexStatus("opensearch", self._target, self._retention)

    def probe(self) -> None:
        """Find out (one request) whether ISM enforces retention, for health checks."""
        try:
            self._retention = self._retention_text(ism=ism_available(self._request))
        except VENDOR_ERRORS as exc:
            raise AuditIndexUnavailable(f"OpenSearch: {why(exc)}") from exc

    def _retention_text(self, *, ism: bool) -> str:
        if ism:
            return f"ism: read-only after rollover, deleted {self._design.retention} after it"
        return "guardian: no ISM plugin; Guardian's retention job rolls the write alias over " \
            f"and deletes indices {self._design.retention} past their newest event"

    # -- retention without ISM (Guardian's job; see opensearch_retention) -------------------

    def retention_managed(self) -> bool:
        try:
            ism = ism_available(self._request)
        except VENDOR_ERRORS as exc:
            raise AuditIndexUnavailable(f"OpenSearch: {why(exc)}") from exc
        self._retention = self._retention_text(ism=ism)
        return ism

    def prepare(self) -> None:
        self.setup()  # idempotent: adds guardian.retention to indices made before it existed

    def roll_over(self, now_ms: int, max_age_ms: int, max_bytes: int, *,
                  dry_run: bool = False) -> str | None:
        try:
            rolled = opensearch_retention.roll_over(self._client, self._names, now_ms,
                                                    max_age_ms, max_bytes, dry_run=dry_run)
        except VENDOR_ERRORS as exc:
            raise AuditIndexUnavailable(f"OpenSearch rollover failed: {why(exc)}") from exc
        if rolled and not dry_run:
            self._uncertain = True  # the next batch also checks the index rolled over
        return rolled

    def expired(self, cutoff_ms: int) -> list[Removal]:
        with translated("OpenSearch"):
            return opensearch_retention.expired(self._client, self._names, cutoff_ms)

    def remove(self, removal: Removal) -> int:
        with translated("OpenSearch delete failed"):
            return opensearch_retention.remove(self._client, self._names, removal)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._client.transport.perform_request(method, path, **kwargs)

    # -- indexing -----------------------------------------------------------------------

    def index_events(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        if not records:
            return []
        if self._retention.startswith("unknown"):
            self.probe()  # once, for health checks: is retention enforced (ISM)?
        try:
            known = self._in_previous_index(records) if self._uncertain else {}
            fresh = [r for r in records if r.seq not in known]  # one writer per batch
            outcomes = {**known, **self._bulk(self._names.events_alias, fresh, alias=True)}
        except VENDOR_ERRORS as exc:
            self._uncertain = True
            raise AuditIndexUnavailable(f"OpenSearch bulk failed: {why(exc)}") from exc
        self._uncertain = False
        return [outcomes[r.seq] for r in records]

    def index_checkpoints(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        if not records:
            return []
        try:
            outcomes = self._bulk(self._names.checkpoints, records, alias=False)
        except VENDOR_ERRORS as exc:
            raise AuditIndexUnavailable(f"OpenSearch bulk failed: {why(exc)}") from exc
        return [outcomes[r.seq] for r in records]

    def _bulk(
        self, target: str, records: Sequence[JournalRecord], *, alias: bool
    ) -> dict[int, ItemOutcome]:
        if not records:
            return {}
        lines: list[bytes] = []
        for r in records:
            lines.append(b'{"create":{"_id":"%s"}}' % r.doc_id.encode("ascii"))
            lines.append(bytes(r.raw))
        body = b"\n".join(lines) + b"\n"
        params = {"filter_path": "errors,items.*.status,items.*._index,items.*.error"}
        if alias:
            params["require_alias"] = "true"
        answer = self._client.bulk(body=body, index=target, params=params)
        outcomes: dict[int, ItemOutcome] = {}
        conflicts: dict[str, list[JournalRecord]] = {}
        for record, item in zip(records, answer["items"], strict=True):
            result = item.get("create", {})
            status = int(result.get("status", 500))
            if status in (200, 201):
                outcomes[record.seq] = ItemOutcome(record.seq, ItemStatus.CREATED)
            elif status == 409:
                conflicts.setdefault(str(result.get("_index", target)), []).append(record)
            else:
                outcomes[record.seq] = _failed(record.seq, status, result.get("error"))
        for index, clashing in conflicts.items():
            outcomes.update(self._compare(index, clashing))
        return outcomes

    def _compare(self, index: str, records: Sequence[JournalRecord]) -> dict[int, ItemOutcome]:
        """Read back the documents already holding these ids and compare them with ours."""
        answer = self._client.mget(index=index, body={"ids": [r.doc_id for r in records]},
                                   params={"realtime": "true"})
        stored = {d["_id"]: d.get("_source") for d in answer["docs"] if d.get("found")}
        out: dict[int, ItemOutcome] = {}
        for r in records:
            source = stored.get(r.doc_id)
            if source is None:
                out[r.seq] = ItemOutcome(r.seq, ItemStatus.RETRY, "conflict, then not found")
            elif source == r.event:
                out[r.seq] = ItemOutcome(r.seq, ItemStatus.DUPLICATE)
            else:
                out[r.seq] = ItemOutcome(r.seq, ItemStatus.CONFLICT,
                                         f"{index} already holds a different document "
                                         f"{r.doc_id}")
        return out

    def _in_previous_index(self, records: Sequence[JournalRecord]) -> dict[int, ItemOutcome]:
        """Ids of this batch already in the backing index before the write index (rollover)."""
        try:
            aliases = self._client.indices.get_alias(name=self._names.events_alias)
        except TransportError as exc:
            if exc.status_code == 404:
                return {}
            raise
        readers = sorted(i for i, a in aliases.items()
                         if not a["aliases"][self._names.events_alias].get("is_write_index"))
        if not readers:
            return {}
        found = self._compare(readers[-1], records)
        return {seq: o for seq, o in found.items() if o.status is not ItemStatus.RETRY}

    # -- reading ------------------------------------------------------------------------

    def count(self) -> int:
        try:
            return int(self._client.count(index=self._names.events_alias)["count"])
        except VENDOR_ERRORS as exc:
            raise AuditIndexUnavailable(f"OpenSearch count failed: {why(exc)}") from exc

    def events_in_order(self, after_seq: int = 0) -> Iterator[StoredEvent]:
        query = {"range": {"guardian.seq": {"gt": after_seq}}}
        yield from self._walk(self._names.events_alias, query)

    def checkpoints(self) -> Iterator[StoredEvent]:
        yield from self._walk(self._names.checkpoints, {"match_all": {}})

    def _walk(self, index: str, query: Mapping[str, Any]) -> Iterator[StoredEvent]:
        """Every document in ``guardian.seq`` order, through a point in time if possible."""
        try:
            pit = self._client.create_pit(index=index, params={"keep_alive": _KEEP_ALIVE})
        except NotFoundError:
            return
        except VENDOR_ERRORS as exc:
            if not isinstance(exc, TransportError) or exc.status_code not in (400, 405):
                raise AuditIndexUnavailable(f"OpenSearch: {why(exc)}") from exc
            pit = None  # no point in time on this cluster: search_after alone
        self.walk_mode = "point-in-time" if pit else "search_after"
        try:
            yield from self._pages(index, query, pit["pit_id"] if pit else None)
        finally:
            if pit:
                # Should deleting fail, the point in time expires with its keep-alive.
                with contextlib.suppress(TransportError, OpenSearchException):
                    self._client.delete_pit(body={"pit_id": [pit["pit_id"]]})

    def _pages(
        self, index: str, query: Mapping[str, Any], pit_id: str | None
    ) -> Iterator[StoredEvent]:
        body: dict[str, Any] = {"size": _PAGE, "query": query, "track_total_hits": False,
                                "sort": [{"guardian.writer": {"order": "asc", "missing": "_first",
                                                              "unmapped_type": "keyword"}},
                                         {"guardian.seq": "asc"}, {"guardian.hash": "asc"}]}
        if pit_id:
            body["pit"] = {"id": pit_id, "keep_alive": _KEEP_ALIVE}
        while True:
            try:
                answer = (self._client.search(body=body) if pit_id
                          else self._client.search(index=index, body=body))
            except VENDOR_ERRORS as exc:
                raise AuditIndexUnavailable(f"OpenSearch walk failed: {why(exc)}") from exc
            hits = answer["hits"]["hits"]
            for hit in hits:
                yield StoredEvent(hit["_id"], hit["_source"])
            if len(hits) < _PAGE:
                return
            body["search_after"] = hits[-1]["sort"]
            if pit_id and answer.get("pit_id"):
                body["pit"]["id"] = answer["pit_id"]

    def search(self, query: AuditQuery) -> AuditPage:
        body = search_body(query)
        try:
            answer = self._client.search(index=self._names.events_alias, body=body)
        except TransportError as exc:
            if exc.status_code == 404:
                return AuditPage([], None)
            raise AuditIndexUnavailable(f"OpenSearch search failed: {why(exc)}") from exc
        except OpenSearchException as exc:
            raise AuditIndexUnavailable(f"OpenSearch search failed: {why(exc)}") from exc
        events = [h["_source"] for h in answer["hits"]["hits"]]
        more = len(events) > query.size
        events = events[:query.size]
        return AuditPage(events, cursor_of(events[-1]) if more and events else None)

    # -- aggregations (periodic reports; see opensearch_aggregations) -----------------------

    def aggregate(self, query: AggregateQuery) -> list[Bucket]:
        return opensearch_aggregations.aggregate(self._aggregation, query)

    def span(self, since_ms: int, until_ms: int) -> Span:
        return opensearch_aggregations.span(self._aggregation, since_ms, until_ms)

    def _aggregation(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self._client.search(
                index=self._names.events_alias, body=body, params={"request_cache": "false"})
        except TransportError as exc:
            if exc.status_code == 404:
                return {"hits": {"total": {"value": 0}}, "aggregations": {}}
            if _too_big(exc):
                raise opensearch_aggregations.PageTooBig(why(exc)) from exc
            raise AuditIndexUnavailable(f"OpenSearch aggregation failed: {why(exc)}") from exc
        except OpenSearchException as exc:
            raise AuditIndexUnavailable(f"OpenSearch aggregation failed: {why(exc)}") from exc
        return answer


def _too_big(exc: TransportError) -> bool:
    """Whether the node refused an aggregation for its size (circuit breaker, max buckets)."""
    text = orjson.dumps(exc.info).decode() if isinstance(exc.info, dict) else str(exc.info)
    return "circuit_breaking_exception" in text or "too_many_buckets_exception" in text


def search_body(query: AuditQuery) -> dict[str, Any]:
    """The query DSL of an auditor's search: term and range clauses, never a query string."""
    filters: list[dict[str, Any]] = [{"term": {field: value}}
                                     for field, value in query.terms().items()]
    time_range: dict[str, Any] = {}
    if query.since_ms is not None:
        time_range["gte"] = query.since_ms
    if query.until_ms is not None:
        time_range["lt"] = query.until_ms
    if time_range:
        filters.append({"range": {"@timestamp": {**time_range, "format": "epoch_millis"}}})
    order = query.order.value
    body: dict[str, Any] = {
        "size": query.size + 1,
        "query": {"bool": {"filter": filters}},
        "sort": [{"@timestamp": {"order": order}}, {"guardian.seq": {"order": order}}],
        "track_total_hits": False,
    }
    if query.after is not None:
        body["search_after"] = [query.after.at_ms, query.after.seq]
    if query.fields:
        body["_source"] = {"includes": [*query.fields, "@timestamp", "guardian.seq"]}
    return body


def _failed(seq: int, status: int, error: Any) -> ItemOutcome:
    kind = error.get("type", "") if isinstance(error, dict) else str(error or "")
    reason = error.get("reason", "") if isinstance(error, dict) else ""
    detail = f"{status} {kind}: {reason}"[:500]
    if status == 429 or status >= 500 or kind in _RETRY_TYPES:
        return ItemOutcome(seq, ItemStatus.RETRY, detail)
    return ItemOutcome(seq, ItemStatus.REJECTED, detail)


def make_client(
    urls: Sequence[str], *, username: str | None = None, password: str | None = None,
    ca_file: str | None = None, verify_certs: bool = True, client_cert: str | None = None,
    client_key: str | None = None, timeout_s: float = 10.0,
) -> OpenSearch:
    """A client over every node given; nothing is connected until the first request."""
    kwargs: dict[str, Any] = {
        "hosts": list(urls), "timeout": timeout_s, "max_retries": max(1, len(urls)),
        "retry_on_timeout": True, "serializer": _Serializer(),
    }
    if username is not None:
        kwargs["http_auth"] = (username, password or "")
    if any(u.startswith("https") for u in urls):
        kwargs.update(use_ssl=True, verify_certs=verify_certs, ssl_show_warn=verify_certs)
        if ca_file:
            kwargs["ca_certs"] = ca_file
        if client_cert:
            kwargs["client_cert"] = client_cert
        if client_key:
            kwargs["client_key"] = client_key
    return OpenSearch(**kwargs)


class _Serializer:
    """orjson in and out; bytes bodies (bulk) are sent as they are."""

    mimetype = "application/json"

    def dumps(self, data: Any) -> Any:
        if isinstance(data, (bytes, str)):
            return data
        return orjson.dumps(data).decode("utf-8")

    def loads(self, s: str) -> Any:
        return orjson.loads(s)
