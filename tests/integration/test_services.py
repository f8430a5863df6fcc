"""The services of scripts/services.sh answer as the integration tests expect them to."""

from __future__ import annotations

import os

import pytest
import sqlalchemy
from ldap3 import Connection, Server
from opensearchpy import OpenSearch

from ldap_support import ldif_entries
from support import ROOT

pytestmark = pytest.mark.integration


def test_slapd_serves_the_demo_organisation(ldap_url: str) -> None:
    conn = Connection(Server(ldap_url), os.environ["GUARDIAN_TEST_LDAP_BIND_DN"],
                      os.environ["GUARDIAN_TEST_LDAP_BIND_PASSWORD"], auto_bind=True)
    # ou=people only: LDAP tests and the sync benchmark add people in subtrees of their own.
    conn.search("ou=people," + os.environ["GUARDIAN_TEST_LDAP_BASE_DN"],
                "(objectClass=inetOrgPerson)", attributes=["uid"])
    uids = sorted(str(e.uid) for e in conn.entries)
    conn.unbind()
    # The people of demo.ldif as slapd was seeded (nina, oscar and peggy after
    # `scripts/services.sh reseed slapd`); the LDAP tests load the file as it is now themselves.
    in_file = {e["uid"][0] for e in ldif_entries(ROOT / "policies/demo/demo.ldif") if "uid" in e}
    assert "alice" in uids and "mallory" in uids and len(uids) >= 11
    assert set(uids) <= in_file


def test_postgresql_accepts_the_guardian_role(database_url: str) -> None:
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("select current_user")).scalar() == "guardian"
    engine.dispose()


def test_opensearch_is_a_2x_cluster(opensearch_url: str) -> None:
    client = OpenSearch(opensearch_url)
    info = client.info()
    assert str(info["version"]["number"]).startswith("2.")
    assert client.cluster.health()["status"] in {"green", "yellow"}
