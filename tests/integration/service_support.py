"""Whether the real services are required (GUARDIAN_REQUIRE_SERVICES=1) and whether one answers:
shared by tests/integration/conftest.py and the tests that start and stop nodes themselves
(a module of its own, since a test cannot import a conftest under ``--import-mode=importlib``)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

REQUIRED = os.environ.get("GUARDIAN_REQUIRE_SERVICES") == "1"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    if port is None:
        return False
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def service_url(variable: str) -> str:
    """The URL in ``variable`` if that service answers; else fail (CI) or skip."""
    url = os.environ.get(variable, "")
    first = url.split(",")[0]
    if first and _reachable(first if "://" in first else f"tcp://{first}"):
        return url
    message = f"{variable} is {'unset' if not url else 'unreachable: ' + url}; " \
              "run `scripts/services.sh start all` and `eval \"$(scripts/services.sh env)\"`"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)
