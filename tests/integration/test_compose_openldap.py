"""The compose stack's OpenLDAP, without Docker: compose/openldap/start.sh run for real on the
machine's slapd (the one scripts/services.sh installs), with the certificates of
compose/setup/setup.py, on a free loopback port. Guardian's own LDAP adapter then reads the
demo organisation over LDAPS, verifying the server against the stack's CA, as the service
account of the compose file; a user binds with the demo password."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from deploy_support import COMPOSE_DIR, COMPOSE_FILE, ROOT, load_compose_setup
from guardian.bootstrap import build_ldap_source
from guardian.errors import DirectoryUnavailable
from support import real_settings

pytestmark = pytest.mark.integration
SLAPD = Path("/usr/sbin/slapd")
SERVICE_PASSWORD = "compose-ldap-service-pass"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"start.sh exited {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"slapd did not listen within 20 s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def compose_slapd(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not SLAPD.exists() or shutil.which("slappasswd") is None:
        message = "Debian's slapd is not installed (scripts/services.sh start slapd installs it)"
        if os.environ.get("GUARDIAN_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    certs = tmp_path / "certs"
    load_compose_setup().make_certificates(certs)
    seed = tmp_path / "seed"
    seed.mkdir()
    shutil.copy(ROOT / "policies" / "demo" / "demo.ldif", seed / "demo.ldif")
    shutil.copy(ROOT / "scripts" / "ldap" / "guardian.schema", seed / "guardian.schema")
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/bin") + ":/usr/sbin",
           "LDAP_ADMIN_PASSWORD": "compose-ldap-admin-pass",
           "LDAP_SERVICE_PASSWORD": SERVICE_PASSWORD,
           "SEED_DIR": str(seed), "CERTS_DIR": str(certs), "LDAP_DATA": str(tmp_path / "data"),
           "SLAPD_RUN_DIR": str(tmp_path / "run"), "SLAPD_URLS": f"ldaps://127.0.0.1:{port}/"}
    log = tmp_path / "slapd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", str(COMPOSE_DIR / "openldap" / "start.sh")],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, proc, log)
        yield f"ldaps://localhost:{port}", certs / "ca.pem"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_guardian_reads_the_demo_organisation_from_the_compose_openldap(
        compose_slapd: tuple[str, Path], tmp_path: Path) -> None:
    url, ca = compose_slapd
    guardian_env = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))[
        "services"]["guardian"]["environment"]
    settings = real_settings(
        tmp_path, directory="ldap", ldap_url=url, ldap_ca_file=ca,
        ldap_bind_dn=guardian_env["GUARDIAN_LDAP_BIND_DN"],
        ldap_base_dn=guardian_env["GUARDIAN_LDAP_BASE_DN"],
        ldap_bind_password=SERVICE_PASSWORD)
    roles = frozenset(yaml.safe_load((ROOT / "policies" / "guardian.yaml").read_text(
        encoding="utf-8"))["roles"])
    directory = build_ldap_source(settings.ldap, roles)
    try:
        people = {p.uid: p for p in directory.fetch()}
        assert len(people) == 14
        assert "customer-care" in people["alice"].roles
        assert directory.verify_password("alice", "alice-demo-pass")
        assert not directory.verify_password("alice", "bob-demo-pass")
    finally:
        directory.close()


def test_the_compose_openldap_refuses_a_client_that_does_not_trust_its_ca(
        compose_slapd: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = compose_slapd
    other = tmp_path / "other"
    load_compose_setup().make_certificates(other)
    settings = real_settings(
        tmp_path, directory="ldap", ldap_url=url,
        ldap_ca_file=other / "ca.pem", ldap_bind_dn="cn=guardian-svc,dc=guardian,dc=test",
        ldap_base_dn="dc=guardian,dc=test", ldap_bind_password=SERVICE_PASSWORD,
        ldap_timeout_s=3)
    directory = build_ldap_source(settings.ldap, frozenset({"customer-care"}))
    try:
        with pytest.raises(DirectoryUnavailable):
            directory.fetch()
    finally:
        directory.close()
