"""Operator logging: JSON lines carry the level, a UTC time and the request id bound for the
context; a field named like a secret is never rendered; the level filters."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from guardian.logging import (
    REDACTED,
    bind_request,
    configure_logging,
    debug_enabled,
    get_logger,
    redact,
    unbind_request,
)


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    configure_logging("console", "info", stream=io.StringIO())


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("name", ["password", "X_API_KEY", "totp_seed", "session_cookie",
                                  "invitation_code", "Authorization"])
def test_a_field_named_like_a_secret_is_redacted(name: str) -> None:
    assert redact(None, "info", {name: "s3cret", "uid": "alice"}) == {
        name: REDACTED, "uid": "alice"}


def test_json_lines_carry_level_time_and_event_and_hide_secrets() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    get_logger("guardian.test").info("signed in", uid="alice", password="hunter2")
    [line] = _lines(stream)
    assert line["event"] == "signed in" and line["level"] == "info"
    assert line["uid"] == "alice" and line["password"] == REDACTED
    assert str(line["timestamp"]).endswith("Z")
    assert "hunter2" not in stream.getvalue()


def test_the_level_filters_and_says_whether_debug_is_on() -> None:
    stream = io.StringIO()
    configure_logging("json", "warning", stream=stream)
    log = get_logger("guardian.test")
    log.info("dropped")
    log.warning("kept")
    assert [line["event"] for line in _lines(stream)] == ["kept"] and not debug_enabled()
    configure_logging("json", "debug", stream=io.StringIO())
    assert debug_enabled()


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(KeyError):
        configure_logging("json", "verbose", stream=io.StringIO())


def test_a_bound_request_id_is_on_every_line_until_unbound() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    log = get_logger("guardian.test")
    tokens = bind_request("req-1")
    log.info("inside")
    unbind_request(tokens)
    log.info("outside")
    inside, outside = _lines(stream)
    assert inside["request_id"] == "req-1" and "request_id" not in outside


def test_the_console_format_is_plain_text_with_the_secret_hidden() -> None:
    stream = io.StringIO()
    configure_logging("console", "info", stream=stream)
    get_logger("guardian.test").info("hello", api_key="gk_secret")
    text = stream.getvalue()
    assert "hello" in text and "gk_secret" not in text and REDACTED in text
    assert "\x1b[" not in text  # not a terminal: no colours
