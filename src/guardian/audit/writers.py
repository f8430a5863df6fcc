"""Writer ids: which journal (which process, which replica) wrote an event of the trail.

Every worker of every replica appends to its own journal with its own hash chain, so the trail
is several chains side by side. Each sealed event carries ``guardian.writer`` (hashed with the
rest), each checkpoint the writer whose chain it signs, and an index stores an event under
``"<writer>:<seq>"`` so two writers' events with the same sequence number never collide.

Events journalled before writer ids existed carry none: they form the *legacy* chain
(:data:`LEGACY`, shown as ``(no writer)``), stored under ``"<seq>"`` as before, and verify as
one chain of their own. A writer id is 1–64 letters, digits and ``._-`` (never ``:``, the
separator of the document id); worker ``k`` of a server whose id is ``base`` is ``base-w<k>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from guardian.errors import ConfigurationError

LEGACY = ""
"""The writer of events sealed without one (a journal from before writer ids)."""
PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def checked(writer: str) -> str:
    """``writer`` if it is a valid writer id, else a :class:`ConfigurationError`."""
    if not PATTERN.fullmatch(writer):
        raise ConfigurationError(f"writer id {writer!r} is not 1-64 letters, digits and ._- "
                                 "(starting with a letter or digit)")
    return writer


def worker_writer(base: str, worker: int) -> str:
    """The writer id of worker ``worker`` (1, 2, …) of a server whose writer id is ``base``."""
    return checked(f"{base}-w{worker}")


def writer_of(event: Any) -> str:
    """The writer an event names (:data:`LEGACY` when none, or when it is unreadable)."""
    guardian = event.get("guardian") if type(event) is dict else None
    writer = guardian.get("writer") if type(guardian) is dict else None
    return writer if type(writer) is str else LEGACY


def doc_id(writer: str, seq: int) -> str:
    """The index document id of event ``seq`` of ``writer``'s chain."""
    return f"{writer}:{seq}" if writer else str(seq)


def event_doc_id(event: Mapping[str, Any], seq: int) -> str:
    return doc_id(writer_of(event), seq)


def label(writer: str) -> str:
    """A writer as people read it."""
    return writer or "(no writer)"
