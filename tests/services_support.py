"""The real services of integration and end-to-end tests, found or started.

Addresses come from ``scripts/services.sh env`` (``GUARDIAN_TEST_*``). With
``GUARDIAN_REQUIRE_SERVICES=1`` (CI) a missing or unreachable service fails the test that needs
it; otherwise it is skipped with the reason. :func:`fresh_schema` gives a PostgreSQL URL whose
connections live in a new schema, dropped afterwards, so tests sharing the server never meet.
:func:`services` runs ``scripts/services.sh`` (honouring ``GUARDIAN_SERVICES_DIR``, so a work
tree other than the one that started the services can stop and start their nodes).
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import make_url, text

from guardian.adapters.sql.store import make_engine
from support import ROOT

REQUIRED = os.environ.get("GUARDIAN_REQUIRE_SERVICES") == "1"
SERVICES = str(ROOT / "scripts" / "services.sh")


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    if port is None:
        return False
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def unavailable(message: str) -> None:
    """Fail (CI) or skip the test: a service it needs is not there."""
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


def service_url(variable: str) -> str:
    """The URL in ``variable`` if that service answers; else fail (CI) or skip."""
    url = os.environ.get(variable, "")
    first = url.split(",")[0]
    if first and reachable(first if "://" in first else f"tcp://{first}"):
        return url
    unavailable(f"{variable} is {'unset' if not url else 'unreachable: ' + url}; "
                "run `scripts/services.sh start all` and `eval \"$(scripts/services.sh env)\"`")
    raise AssertionError("unreachable")  # pytest.fail and pytest.skip raise


@contextmanager
def fresh_schema(database_url: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema (``search_path``), dropped afterwards."""
    schema = "guardian_test_" + uuid.uuid4().hex[:12]
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def services(*args: str, timeout_s: float = 300) -> None:
    """``scripts/services.sh ARGS``; raises with the end of its error output if it fails."""
    result = subprocess.run([SERVICES, *args], capture_output=True, text=True,
                            timeout=timeout_s, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"services.sh {' '.join(args)} failed: {result.stderr[-2000:]}")


def own_service(target: str, url: str) -> Iterator[str]:
    """Start ``target`` unless it answers at ``url``; stop it at the end only if started here."""
    started = False
    if not reachable(url):
        try:
            services("start", target)
            started = True
        except RuntimeError as exc:
            unavailable(str(exc))
    try:
        yield url
    finally:
        if started:
            services("stop", target)
