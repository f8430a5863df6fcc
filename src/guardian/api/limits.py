"""ASGI middleware guarding request bodies before any endpoint sees them.

A body over the configured size is refused with 413 while it is being read; a JSON body with a
key written twice in one object is refused with 422 ``duplicate_key`` (a parser keeps the last
value, so ``{"subject": mallory, ..., "subject": alice}`` would decide for one person while a
proxy, a log or a WAF saw the other). The body is read once, checked, and handed on whole.

The duplicate check is cheap on the hot path: orjson parses the body and its keys are counted
against the colons of the text (see :func:`duplicate_key`); only a body whose counts do not
settle it takes the exact, slower check with ``json``'s ``object_pairs_hook``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guardian.api.errors import error_response
from guardian.logging import get_logger

log = get_logger("guardian.api")


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen.add(key)


def duplicate_key(raw: bytes) -> str | None:
    """The first key written twice in one object of the JSON text ``raw``, or ``None`` (also
    when ``raw`` is not JSON at all: the endpoint's parser refuses that on its own terms).

    Every key written is followed by a colon, and so is every key of the parsed value written
    again (``orjson.dumps``, in C): the text has ``keys written + colons in its strings``, the
    rewrite ``keys kept + colons in the kept strings``. Parsing keeps one key of each repeated
    pair (and drops the value it replaced), so the counts are equal exactly when no key was
    repeated, as long as the strings' colons are the same in both: they are unless a ``\\u``
    escape wrote a colon. With any ``\\u`` in the text, and whenever the counts differ, the
    exact check decides.
    """
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _exact_duplicate(raw)  # NaN, other encodings: what json accepts, pydantic may
    if b"\\u" not in raw and raw.count(b":") == orjson.dumps(parsed).count(b":"):
        return None
    return _exact_duplicate(raw)


def _exact_duplicate(raw: bytes) -> str | None:
    try:
        json.loads(raw, object_pairs_hook=_refuse_repeats)
    except _Duplicate as found:
        return found.key
    except (ValueError, RecursionError):
        return None
    return None


class _TooLarge(Exception):
    pass


def declared_too_large(scope: Scope, max_bytes: int) -> bool:
    """Whether the request's ``Content-Length`` says more than ``max_bytes`` (or is not a
    number)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value) > max_bytes
            except ValueError:
                return True
    return False


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, or ``None`` if the client left mid-body; :class:`_TooLarge` past
    ``max_bytes``."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > max_bytes:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def too_large(max_bytes: int) -> Response:
    return error_response(
        413, "payload_too_large", f"request body is larger than {max_bytes} bytes")


async def checked_body(
    scope: Scope, receive: Receive, max_bytes: int
) -> tuple[bytes | None, Response | None]:
    """The request's body read and checked: ``(body, None)``; ``(None, refusal)`` for a body too
    large (413) or with a key written twice (422 ``duplicate_key``); ``(None, None)`` when the
    client left mid-body."""
    if declared_too_large(scope, max_bytes):
        return None, too_large(max_bytes)
    try:
        body = await read_body(receive, max_bytes)
    except _TooLarge:
        return None, too_large(max_bytes)
    refusal = duplicate_refusal(body, scope.get("path")) if body else None
    return (None, refusal) if refusal is not None else (body, None)


def duplicate_refusal(body: bytes, path: str | None) -> Response | None:
    """The 422 ``duplicate_key`` answer for a JSON body with a key written twice in one
    object, else ``None``."""
    if body.lstrip()[:1] not in (b"{", b"["):
        return None
    key = duplicate_key(body)
    if key is None:
        return None
    log.warning("invalid request", path=path, code="duplicate_key", key=key[:64])
    return error_response(422, "duplicate_key", f"key {key[:64]!r} appears twice in one object")


class RequestBodyGuard:
    """Reads an HTTP request's body (at most ``max_bytes``), refuses duplicate JSON keys and
    replays the body to the application as one message."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, refusal = await checked_body(scope, receive, self.max_bytes)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if body is None:
            return  # the client left (or timed out) mid-body: nothing to decide, no one to answer
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

