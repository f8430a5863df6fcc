"""The OpenSearch boundary: ``why`` gives the status and OpenSearch's reason (or that nothing
answered), never the request's body; ``translated`` turns every opensearch-py error into
``AuditIndexUnavailable("<doing>: <why>")`` with its cause, and lets anything else through."""

from __future__ import annotations

import pytest
from opensearchpy.exceptions import (
    ConnectionError,
    NotFoundError,
    SerializationError,
    TransportError,
)

from guardian.adapters.opensearch.errors import translated, why
from guardian.errors import AuditIndexUnavailable

BODY = '{"query": {"term": {"customer": "C-secret-42"}}}'


def test_a_refusal_gives_status_and_the_nested_reason() -> None:
    refused = TransportError(403, "security_exception",
                             {"error": {"type": "security_exception",
                                        "reason": "no permissions for [indices:data/write]"}})

    assert why(refused) == "403 no permissions for [indices:data/write]"


def test_a_flat_error_string_is_the_reason() -> None:
    assert why(NotFoundError(404, "index_not_found_exception",
                             {"error": "no such index [guardian-audit]"})) == (
        "404 no such index [guardian-audit]")


def test_without_a_reason_the_error_name_is_given_not_the_body() -> None:
    assert why(TransportError(400, "parse_exception", BODY)) == "400 parse_exception"
    assert why(TransportError(500, "oops", {"error": {"type": "x"}})) == "500 oops"


def test_nothing_answering_says_it_cannot_connect() -> None:
    down = ConnectionError("N/A", "Connection refused", OSError("refused"))

    assert why(down) == "cannot connect (Connection refused)"


def test_any_other_error_is_named_by_its_kind_only() -> None:
    assert why(SerializationError(f"cannot serialise {BODY}")) == "SerializationError"


def test_translated_raises_audit_index_unavailable_with_its_cause() -> None:
    refused = TransportError(429, "too_many_requests", {"error": {"reason": "queue full"}})
    with pytest.raises(AuditIndexUnavailable) as caught, translated("shipping events"):
        raise refused

    assert caught.value.message == "shipping events: 429 queue full"
    assert caught.value.code == "audit_index_unavailable"
    assert caught.value.__cause__ is refused


def test_translated_names_opensearch_by_default_and_keeps_the_body_out() -> None:
    with pytest.raises(AuditIndexUnavailable) as caught, translated():
        raise SerializationError(f"cannot serialise {BODY}")

    assert caught.value.message == "OpenSearch: SerializationError"
    assert "C-secret-42" not in caught.value.message


def test_errors_that_are_not_opensearch_s_pass_through() -> None:
    with pytest.raises(KeyError), translated("searching"):
        raise KeyError("hits")
