"""Auditors' queries: validated values, an opaque cursor, ISO 8601 times."""

from __future__ import annotations

import pytest

from guardian.audit.queries import AuditQuery, Cursor, iso_to_millis
from guardian.errors import InvalidRequest


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    cursor = Cursor(1_790_000_000_123, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for forged in ("", "!!!", "WyJhIiwgMV0", "e30"):
        with pytest.raises(InvalidRequest):
            Cursor.decode(forged)


def test_times_are_iso_8601_with_utc_by_default() -> None:
    assert iso_to_millis("1970-01-01T00:00:01Z") == 1000
    assert iso_to_millis("1970-01-01T00:00:01") == 1000
    assert iso_to_millis("1970-01-01T01:00:01+01:00") == 1000
    with pytest.raises(InvalidRequest):
        iso_to_millis("last tuesday")


@pytest.mark.parametrize("kwargs", [
    {"size": 0}, {"size": 1001}, {"customer_id": ""}, {"user_id": "a\nb"},
    {"customer_id": "x" * 257}, {"since_ms": 10, "until_ms": 10},
])
def test_a_query_refuses_values_it_cannot_search_safely(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        AuditQuery(**kwargs)  # type: ignore[arg-type]


def test_only_the_filters_given_become_terms() -> None:
    query = AuditQuery(customer_id="C-1", reason="consent_missing")
    assert query.terms() == {"guardian.customer_ids": "C-1", "guardian.reasons": "consent_missing"}
