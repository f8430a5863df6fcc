"""Real services for integration tests: addresses come from scripts/services.sh (GUARDIAN_TEST_*).

With GUARDIAN_REQUIRE_SERVICES=1 (CI) a missing or unreachable service fails the test that
needs it; otherwise it is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services_support import fresh_schema, service_url


@pytest.fixture(scope="session")
def ldap_url() -> str:
    return service_url("GUARDIAN_TEST_LDAP_URL")


@pytest.fixture(scope="session")
def database_url() -> str:
    url = service_url("GUARDIAN_TEST_DATABASE_URL")
    # postgresql+psycopg://user:pw@host:port/db — reachability checked on host:port
    return url


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    return service_url("GUARDIAN_TEST_OPENSEARCH_URL")


@pytest.fixture
def schema_url(database_url: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema (``search_path``), dropped afterwards."""
    with fresh_schema(database_url) as url:
        yield url
