"""compose/setup/setup.py (the stack's demo CA, certificates and audit signing key) run for
real into a temporary folder, and the OpenSearch security configuration that must agree with
it: certificate subjects = nodes_dn/admin_dn, host names = compose service names, every
mapped user created by start.sh, the guardian role covering the audit indices."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from deploy_support import COMPOSE_DIR, COMPOSE_FILE, load_compose_setup
from guardian.adapters.files.keys import load_signer
from guardian.config import Settings

OPENSEARCH = COMPOSE_DIR / "opensearch"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    setup = load_compose_setup()
    base = tmp_path_factory.mktemp("setup")
    mp = pytest.MonkeyPatch()
    mp.setenv("CERTS_DIR", str(base / "certs"))
    mp.setenv("KEYS_DIR", str(base / "keys"))
    mp.setenv("SETUP_CHOWN", "0")
    try:
        assert setup.main() == 0
    finally:
        mp.undo()
    return base / "certs", base / "keys"


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_every_certificate_is_issued_by_the_stack_ca_for_its_service(
        made: tuple[Path, Path]) -> None:
    certs, _ = made
    ca = cert(certs / "ca.pem")
    services = set(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"])
    for stem in ("opensearch", "admin", "openldap"):
        leaf = cert(certs / f"{stem}.pem")
        leaf.verify_directly_issued_by(ca)
        key = serialization.load_pem_private_key((certs / f"{stem}-key.pem").read_bytes(),
                                                 password=None)
        assert key.public_key() == leaf.public_key()
        assert (certs / f"{stem}-key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
        assert stat.S_IMODE((certs / f"{stem}-key.pem").stat().st_mode) == 0o600
        if stem != "admin":
            names = leaf.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
            assert stem in services and stem in names and "localhost" in names
    assert stat.S_IMODE((certs / "ca-key.pem").stat().st_mode) == 0o600


def test_the_certificate_subjects_are_the_ones_opensearch_trusts(
        made: tuple[Path, Path]) -> None:
    certs, _ = made
    config = yaml.safe_load((OPENSEARCH / "opensearch.yml").read_text(encoding="utf-8"))
    assert config["plugins.security.nodes_dn"] == [
        cert(certs / "opensearch.pem").subject.rfc4514_string()]
    assert config["plugins.security.authcz.admin_dn"] == [
        cert(certs / "admin.pem").subject.rfc4514_string()]
    for key, value in config.items():
        if key.endswith("_filepath"):
            assert value.startswith("certs/") and (certs / value[len("certs/"):]).is_file()


def test_the_audit_signing_key_opens_in_guardian_and_a_second_run_keeps_everything(
        made: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    certs, keys = made
    key_file = keys / "audit-signing.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    signer = load_signer(str(key_file), "x" * 40)
    assert len(signer.key_id) == 16
    before = {p.name: p.read_bytes() for p in [*certs.iterdir(), key_file]}
    monkeypatch.setenv("CERTS_DIR", str(certs))
    monkeypatch.setenv("KEYS_DIR", str(keys))
    monkeypatch.setenv("SETUP_CHOWN", "0")
    assert load_compose_setup().main() == 0
    assert {p.name: p.read_bytes() for p in [*certs.iterdir(), key_file]} == before


def test_every_mapped_opensearch_user_is_created_and_guardian_may_write_its_indices() -> None:
    start = (OPENSEARCH / "start.sh").read_text(encoding="utf-8")
    users = set(re.findall(r"^([a-z]+):\n  hash: ", start, re.M))
    assert users == {"admin", "kibanaserver", "guardian", "auditor"}
    mapping = yaml.safe_load((OPENSEARCH / "roles_mapping.yml").read_text(encoding="utf-8"))
    mapped = {u for role in mapping.values() if isinstance(role, dict) and "users" in role
              for u in role.get("users", [])}
    assert mapped <= users
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    guardian_env = compose["services"]["guardian"]["environment"]
    assert guardian_env["GUARDIAN_OPENSEARCH_USERNAME"] in mapping["guardian_audit_writer"][
        "users"]
    roles = yaml.safe_load((OPENSEARCH / "roles.yml").read_text(encoding="utf-8"))
    prefix = Settings.model_fields["opensearch_index_prefix"].default
    for role in ("guardian_audit_writer", "guardian_audit_reader"):
        patterns = roles[role]["index_permissions"][0]["index_patterns"]
        assert any(re.fullmatch(p.replace("*", ".*"), f"{prefix}-events-000001")
                   and re.fullmatch(p.replace("*", ".*"), f"{prefix}-checkpoints")
                   for p in patterns), role
    for var in re.findall(r"\$\{?(OPENSEARCH_[A-Z_]+_PASSWORD)", start):
        assert var in compose["services"]["opensearch"]["environment"], var


def _run_start(tmp_path: Path, hash_tool: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    home = tmp_path / "opensearch"
    tools = home / "plugins" / "opensearch-security" / "tools"
    tools.mkdir(parents=True)
    (home / "config" / "opensearch-security").mkdir(parents=True)
    (tools / "hash.sh").write_text(hash_tool)
    env = {"PATH": os.environ["PATH"], "OPENSEARCH_HOME": str(home),
           "SECURITY_FILES": str(OPENSEARCH), "OPENSEARCH_START": "true",
           "OPENSEARCH_ADMIN_PASSWORD": "a-pass", "OPENSEARCH_DASHBOARDS_PASSWORD": "d-pass",
           "OPENSEARCH_GUARDIAN_PASSWORD": "g-pass", "OPENSEARCH_AUDITOR_PASSWORD": "u-pass"}
    done = subprocess.run(["bash", str(OPENSEARCH / "start.sh")], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    return done, home / "config" / "opensearch-security"


def test_start_sh_writes_a_bcrypt_hash_for_every_user_and_the_roles(tmp_path: Path) -> None:
    # The plugin's tool may print a banner first; the script keeps the hash line only.
    fake = '#!/bin/bash\necho "** a banner **"\necho "\\$2y\\$12\\$hash-of-$2"\n'
    done, security = _run_start(tmp_path, fake)
    assert done.returncode == 0, done.stderr
    users = yaml.safe_load((security / "internal_users.yml").read_text(encoding="utf-8"))
    assert {u: users[u]["hash"] for u in users if u != "_meta"} == {
        "admin": "$2y$12$hash-of-a-pass", "kibanaserver": "$2y$12$hash-of-d-pass",
        "guardian": "$2y$12$hash-of-g-pass", "auditor": "$2y$12$hash-of-u-pass"}
    assert stat.S_IMODE((security / "internal_users.yml").stat().st_mode) == 0o600
    assert (security / "roles.yml").read_text() == (OPENSEARCH / "roles.yml").read_text()


def test_start_sh_stops_when_a_password_cannot_be_hashed(tmp_path: Path) -> None:
    done, security = _run_start(tmp_path, '#!/bin/bash\necho "java not found" >&2\nexit 1\n')
    assert done.returncode != 0
    assert "could not hash OPENSEARCH_ADMIN_PASSWORD" in done.stderr
    assert not (security / "internal_users.yml").exists()
