"""The command line as a client: administrative commands go through a running server.

While ``guardian serve`` runs it holds the journal (one writer), so the commands that change
state and journal it (``keys create|revoke``, ``grants create|revoke``, ``mfa invite``) go
through its HTTP API as the person signed in with ``guardian login``: the trail records that
person, not a machine account. Without a server they act on the data folder locally, as
before. A server running with nobody signed in is a clear error (``not_signed_in``), never a
silent fallback to acting locally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guardian.cli.common import fail, settings_from
from guardian.errors import GuardianError, NotSignedIn
from guardian.ports import GuardianServer


@dataclass(frozen=True, slots=True)
class Remote:
    """The running server and the signed-in person's token for it."""

    server: GuardianServer
    token: str
    user: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None
             ) -> dict[str, Any]:
        """The server's answer; its refusal ends the command with the server's code."""
        try:
            return self.server.call(method, path, token=self.token, body=body)
        except GuardianError as exc:
            fail(f"{exc.code}: {exc.message} (from {self.server.url})")


    def fetch(self, path: str) -> bytes:
        try:
            return self.server.fetch(path, token=self.token)
        except GuardianError as exc:
            fail(f"{exc.code}: {exc.message} (from {self.server.url})")


def remote() -> Remote | None:
    """The server to go through, with the person's session; ``None``: no server runs."""
    from guardian.bootstrap import build_client

    client = build_client(settings_from())
    if client.server is None:
        return None
    try:
        session = client.sessions.load()
        if session is None or session.url != client.server.url:
            raise NotSignedIn(f"a Guardian server runs at {client.server.url} (it holds the "
                              "journal): sign in with `guardian login` first")
        if session.expires_at <= client.clock.now():
            raise NotSignedIn(f"the session of {session.user} on {client.server.url} expired: "
                              "sign in again with `guardian login`")
    except NotSignedIn as exc:
        fail(f"{exc.code}: {exc.message}")
    return Remote(client.server, session.token, session.user)


def refuse_while_serving(instead: str) -> None:
    """End a command that has no HTTP equivalent when a server runs (it holds the journal)."""
    from guardian.bootstrap import build_client

    server = build_client(settings_from()).server
    if server is not None:
        fail(f"a Guardian server runs at {server.url} and holds the journal: {instead}")


def instant(text: str) -> float:
    """An ISO 8601 instant of the server's answer as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
