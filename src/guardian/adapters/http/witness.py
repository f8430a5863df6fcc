"""The checkpoint witness webhook over HTTP(S), with the standard library's ``urllib``.

Each delivery is a ``POST`` of a JSON body (``{"checkpoints": [...]}``, sorted keys) with
``Content-Type: application/json`` and ``X-Guardian-Signature: sha256=<hex>``, the
HMAC-SHA256 of the exact body under ``GUARDIAN_AUDIT_WITNESS_SECRET``, so the witness can
refuse bodies that did not come from this deployment. Any 2xx answer is a delivery; anything
else, a timeout or a refused connection is :class:`~guardian.errors.WitnessUnavailable`.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from guardian.adapters.http.signature import SIGNATURE_HEADER, body_signature
from guardian.errors import ConfigurationError, WitnessUnavailable

__all__ = ["SIGNATURE_HEADER", "HttpWitness", "body_signature"]


class HttpWitness:
    """A :class:`~guardian.ports.WitnessTransport` posting to one URL."""

    def __init__(self, url: str, secret: str, *, timeout_s: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("GUARDIAN_AUDIT_WITNESS_URL must be an http(s) URL")
        self._url = url
        self._secret = secret
        self._timeout_s = timeout_s
        self.target = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        """Scheme, host and port only: a path or query may carry a token."""

    def __repr__(self) -> str:
        return f"HttpWitness(target={self.target!r})"

    def post(self, body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self._url, data=body, method="POST", headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: body_signature(self._secret, body)})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise WitnessUnavailable(f"the witness answered {exc.code}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WitnessUnavailable(f"the witness cannot be reached: {reason}") from exc
        if not 200 <= status < 300:
            raise WitnessUnavailable(f"the witness answered {status}")
