"""Report (and notification) webhooks over HTTP(S), with httpx.

``post(url, payload, secret)`` sends the payload as JSON (sorted keys, UTF-8) with
``Content-Type: application/json`` and ``X-Guardian-Signature: sha256=<hex>`` — the same
signature as the checkpoint witness (:mod:`guardian.adapters.http.signature`). Any 2xx is a
delivery; another status, a timeout or a refused connection is
:class:`~guardian.errors.DeliveryFailed`, naming the scheme, host and port only (a URL's path
or query may hold a token).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from guardian.adapters.http.signature import SIGNATURE_HEADER, body_signature
from guardian.errors import ConfigurationError, DeliveryFailed


def target_of(url: str) -> str:
    """Scheme, host and port of ``url`` (refused unless http or https with a host)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("a webhook URL must be an http(s) URL")
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


class HttpWebhook:
    """Implements :class:`guardian.ports.WebhookSender`."""

    def __init__(self, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None
                 ) -> None:
        self._timeout_s = timeout_s
        self._transport = transport

    def post(self, url: str, payload: Mapping[str, Any], secret: bytes) -> None:
        target = target_of(url)
        body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: body_signature(secret, body)}
        try:
            with httpx.Client(timeout=self._timeout_s, transport=self._transport,
                              follow_redirects=False) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the webhook {target} cannot be reached: "
                                 f"{type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"the webhook {target} answered {response.status_code}")
