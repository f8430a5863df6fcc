"""Rollover and retention on OpenSearch without the ISM plugin, done by Guardian's job.

ISM would roll the write alias over by age and delete indices past retention. Without it, the
retention job calls these: :func:`roll_over` rolls the alias over (``POST <alias>/_rollover``)
when the write index's oldest event is older than the rollover age, or its primary store is
past the size limit — judged by the events' own ``@timestamp`` and the job's clock, not the
index's creation date, so a test's clock can age them. :func:`expired` lists the rolled-over
indices, oldest first, whose newest event is before the cutoff, stopping at the first one
kept (so what stays is a contiguous chain); :func:`remove` deletes one of them by name.
"""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from guardian.adapters.opensearch.design import IndexNames
from guardian.audit.records import Removal

_SEQS = {"first": {"min": {"field": "guardian.seq"}}, "last": {"max": {"field": "guardian.seq"}}}
_STATS = {"size": 0, "track_total_hits": True, "aggs": {
    "oldest": {"min": {"field": "@timestamp"}}, "newest": {"max": {"field": "@timestamp"}},
    **_SEQS,
    "writers": {"terms": {"field": "guardian.writer", "size": 1000, "missing": ""},
                "aggs": _SEQS}}}


def backing_indices(client: OpenSearch, names: IndexNames) -> tuple[list[str], str | None]:
    """(every index of the events alias in name order, the write index)."""
    try:
        aliases = client.indices.get_alias(name=names.events_alias)
    except NotFoundError:
        return [], None
    writers = [i for i, a in aliases.items()
               if a["aliases"][names.events_alias].get("is_write_index")]
    return sorted(aliases), (writers[0] if writers else None)


def _stats(client: OpenSearch, index: str) -> dict[str, Any] | None:
    answer = client.search(index=index, body=_STATS, params={"request_cache": "false"})
    if not int(answer["hits"]["total"]["value"]):
        return None
    aggs = answer["aggregations"]
    writers = [(str(b["key"]), int(b["doc_count"]), int(b["first"]["value"]),
                int(b["last"]["value"])) for b in aggs["writers"]["buckets"]]
    return {"events": int(answer["hits"]["total"]["value"]),
            "oldest": int(aggs["oldest"]["value"]), "newest": int(aggs["newest"]["value"]),
            "first": int(aggs["first"]["value"]), "last": int(aggs["last"]["value"]),
            "writers": sorted(writers)}


def roll_over(client: OpenSearch, names: IndexNames, now_ms: int, max_age_ms: int,
              max_bytes: int, *, dry_run: bool) -> str | None:
    _, writer = backing_indices(client, names)
    if writer is None:
        return None
    client.indices.refresh(index=writer)
    stats = _stats(client, writer)
    if stats is None:
        return None  # an empty write index is never rolled over
    store = client.indices.stats(index=writer, metric="store")
    size = int(store["indices"][writer]["primaries"]["store"]["size_in_bytes"])
    if now_ms - stats["oldest"] < max_age_ms and size < max_bytes:
        return None
    if not dry_run:
        client.indices.rollover(alias=names.events_alias)
    return writer


def expired(client: OpenSearch, names: IndexNames, cutoff_ms: int) -> list[Removal]:
    indices, writer = backing_indices(client, names)
    out: list[Removal] = []
    for index in indices:
        if index == writer:
            break
        stats = _stats(client, index)
        if stats is None:
            continue  # an empty index holds nothing to keep
        if stats["newest"] >= cutoff_ms:
            break  # kept, and so is everything after it
        # One removal per writer whose chain the index holds a range of (each journalled, so
        # each writer's chain explains its own start); the index is deleted with the first.
        ranges = stats["writers"] or [("", stats["events"], stats["first"], stats["last"])]
        for writer, events, first, last in ranges:
            out.append(Removal("index", index, events, first, last, stats["oldest"],
                               stats["newest"], writer))
    return out


def remove(client: OpenSearch, names: IndexNames, removal: Removal) -> int:
    indices, writer = backing_indices(client, names)
    if removal.target not in indices or removal.target == writer:
        return 0  # gone already, or written to: never delete the write index
    client.indices.delete(index=removal.target)
    return removal.events
