"""Webhooks over HTTP against a real receiver on loopback: the JSON body arrives with the
HMAC the receiver recomputes, the same scheme as the checkpoint witness; a refusal, a server
that is down or a bad URL is an error, never silence."""

from __future__ import annotations

import hashlib
import hmac

import orjson
import pytest

from delivery_support import Receiver, free_port, webhook_receiver  # noqa: F401 - fixture
from guardian.adapters.http import witness as http_witness
from guardian.adapters.http.webhooks import HttpWebhook
from guardian.errors import ConfigurationError, DeliveryFailed

SECRET = b"a-webhook-secret-of-32-bytes-...."


def test_the_body_is_json_signed_with_the_shared_secret(
    webhook_receiver: Receiver,  # noqa: F811
) -> None:
    HttpWebhook().post(webhook_receiver.url, {"event": "report.produced", "n": 1}, SECRET)

    [(headers, body)] = webhook_receiver.received
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert headers["x-guardian-signature"] == expected
    assert headers["content-type"] == "application/json"
    assert orjson.loads(body) == {"event": "report.produced", "n": 1}
    # one signing helper for every sender: the witness signs the same way
    assert http_witness.body_signature(SECRET.decode(), body) == expected


def test_a_refusal_is_delivery_failed_naming_the_host_not_the_token(
    webhook_receiver: Receiver,  # noqa: F811
) -> None:
    webhook_receiver.statuses = [500]
    with pytest.raises(DeliveryFailed, match="answered 500") as caught:
        HttpWebhook().post(webhook_receiver.url, {}, SECRET)

    assert "t0k" not in caught.value.message and "127.0.0.1" in caught.value.message


def test_a_receiver_that_is_down_is_delivery_failed() -> None:
    with pytest.raises(DeliveryFailed, match="cannot be reached"):
        HttpWebhook(timeout_s=5).post(f"http://127.0.0.1:{free_port()}/", {}, SECRET)


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        HttpWebhook().post("file:///etc/passwd", {}, SECRET)
