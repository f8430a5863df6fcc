"""The recorded decisions of a period, read through the audit index port for a replay.

Pages oldest first with the index's search-after cursor (never an offset: a page costs the
same however deep in the window), asking only for the fields a replay needs, so OpenSearch
returns a few hundred bytes per decision instead of the whole event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from guardian.audit.events import AuditAction
from guardian.audit.queries import MAX_PAGE, AuditQuery, Order
from guardian.policy.impact import RecordedDecision
from guardian.ports import AuditIndex

REPLAY_FIELDS = (
    "user.id", "user.roles", "guardian.decision_id", "guardian.database", "guardian.category",
    "guardian.action", "guardian.purpose", "guardian.reasons", "guardian.mfa_age_s",
    "guardian.justification",
)


def recorded_decisions(
    index: AuditIndex, since_ms: int, until_ms: int | None = None, *, page: int = MAX_PAGE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[RecordedDecision | None]:
    """Every ``access.decision`` from ``since_ms`` on (``None``: an event that is not a whole
    decision); ``progress`` hears how many events each page brought."""
    cursor = None
    while True:
        answer = index.search(AuditQuery(
            action=AuditAction.ACCESS_DECISION.value, since_ms=since_ms, until_ms=until_ms,
            after=cursor, size=page, order=Order.OLDEST_FIRST, fields=REPLAY_FIELDS))
        for event in answer.events:
            yield RecordedDecision.from_event(event)
        if progress is not None:
            progress(len(answer.events))
        if answer.next_cursor is None:
            return
        cursor = answer.next_cursor
