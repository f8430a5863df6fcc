"""Real services for integration tests: addresses come from scripts/services.sh (GUARDIAN_TEST_*).

With GUARDIAN_REQUIRE_SERVICES=1 (CI) a missing or unreachable service fails the test that
needs it; otherwise it is skipped with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from service_support import service_url
from sqlalchemy import make_url, text

from guardian.adapters.sql.store import make_engine


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
