"""The signature Guardian puts on every body it POSTs (checkpoint witness, report webhooks).

``X-Guardian-Signature: sha256=<hex>``: the HMAC-SHA256 of the exact body bytes under the
receiver's shared secret, so the receiver can refuse bodies that did not come from this
deployment. One helper for every sender, so receivers check one scheme.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Guardian-Signature"


def body_signature(secret: str | bytes, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body`` (what a receiver recomputes)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
