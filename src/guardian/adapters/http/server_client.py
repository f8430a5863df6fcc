"""A running Guardian's HTTP API for the command line (httpx, blocking).

The CLI's administrative commands go through the server while it runs (it holds the journal),
as the person signed in with ``guardian login``. Every answer is JSON; an error answer's
``{"error": {"code", "message"}}`` is raised as :class:`~guardian.errors.ServerRefused` with
the server's own code, and no answer at all as :class:`~guardian.errors.ServerUnreachable`.
The bearer token is sent in a header only, never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import httpx

from guardian.errors import ServerRefused, ServerUnreachable


class HttpGuardianServer:
    def __init__(self, url: str, *, timeout_s: float = 30.0) -> None:
        self._url = url.rstrip("/")
        self._timeout_s = timeout_s

    @property
    def url(self) -> str:
        return self._url

    def call(self, method: str, path: str, *, token: str | None = None,
             body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self._send(method, path, token, body)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ServerRefused("server_error", "the server's answer is not a JSON object",
                                response.status_code)
        return answer

    def fetch(self, path: str, *, token: str | None = None) -> bytes:
        return self._send("GET", path, token, None).content

    def _send(self, method: str, path: str, token: str | None,
              body: Mapping[str, Any] | None) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = httpx.request(method, self._url + path, json=body, headers=headers,
                                     timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            raise ServerUnreachable(f"no answer from the Guardian server at {self._url}: "
                                    f"{type(exc).__name__}") from exc
        if response.is_error:
            _refuse(response)
        return response


def _refuse(response: httpx.Response) -> NoReturn:
    """The server's ``{"error": {"code", "message"}}`` raised as it was given."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        raise ServerRefused(str(error.get("code", "server_error")),
                            str(error.get("message", "")), response.status_code)
    raise ServerRefused("server_error", f"HTTP {response.status_code}", response.status_code)
