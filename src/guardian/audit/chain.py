"""The hash chain: canonical JSON and the hash that links each event to the one before.

``hash = sha256(canonical JSON of the event without guardian.hash)``, where canonical JSON is
UTF-8, keys sorted, no insignificant white space. ``guardian.prev_hash`` of the first event is
:data:`GENESIS`. Each writer (:mod:`.writers`) has a chain of its own, starting at GENESIS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

GENESIS = "0" * 64
_OPTS = orjson.OPT_SORT_KEYS


def canonical(event: Mapping[str, Any]) -> bytes:
    return orjson.dumps(event, option=_OPTS)


def seal(
    event: Mapping[str, Any], seq: int, prev_hash: str, writer: str | None = None
) -> tuple[dict[str, Any], str]:
    """A copy of ``event`` carrying seq, prev_hash, the writer (when given) and hash; and that
    hash. The writer is hashed with the rest, so an event cannot be moved to another chain."""
    guardian = dict(event.get("guardian", {}))
    guardian.pop("hash", None)
    guardian["seq"] = seq
    guardian["prev_hash"] = prev_hash
    if writer:
        guardian["writer"] = writer
    sealed = dict(event)
    sealed["guardian"] = guardian
    digest = hashlib.sha256(orjson.dumps(sealed, option=_OPTS)).hexdigest()
    guardian["hash"] = digest
    return sealed, digest


def recompute(event: Mapping[str, Any]) -> str:
    """The hash ``event`` should carry, computed from everything but its ``guardian.hash``."""
    guardian = dict(event["guardian"])
    guardian.pop("hash", None)
    body = dict(event)
    body["guardian"] = guardian
    return hashlib.sha256(orjson.dumps(body, option=_OPTS)).hexdigest()
