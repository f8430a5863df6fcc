"""compose/docker-compose.yml, checked without Docker: valid against the Compose
Specification's JSON schema (tests/data/compose-spec.json), every secret from compose/.env
and required, every GUARDIAN_* variable a real setting, health checks on every long-running
service and dependencies that wait for them, pinned images, loopback-only ports, named
volumes for data and read-only bind mounts of files that exist."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from deploy_support import (
    COMPOSE_DIR,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    GUARDIAN_VARIABLE,
    ROOT,
    interpolate,
    read_env_file,
    variable_references,
)
from guardian.adapters.files.applications import FileApplications
from guardian.config import Settings

SCHEMA = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text(encoding="utf-8"))
ONE_SHOT = {"setup", "guardian-init", "dashboards-objects"}
OPTIONAL = {"GUARDIAN_AUDIT_SIGNING_KEY", "OPENSEARCH_JAVA_OPTS"}
ALL_INTERFACES = ".".join(["0"] * 4)  # the container listens beyond its loopback
SAMPLE_SECRETS = {
    "GUARDIAN_SECRET_KEY": "compose-test-secret-key-0123456789abcdef",
    "POSTGRES_PASSWORD": "pgpass0123", "LDAP_ADMIN_PASSWORD": "ldapadmin0123",
    "LDAP_SERVICE_PASSWORD": "ldapsvc0123", "OPENSEARCH_ADMIN_PASSWORD": "osadmin0123",
    "OPENSEARCH_DASHBOARDS_PASSWORD": "osdash0123", "OPENSEARCH_GUARDIAN_PASSWORD": "osg0123",
    "OPENSEARCH_AUDITOR_PASSWORD": "osaud0123",
}


def raw_text() -> str:
    """The compose file without its comment lines (Compose interpolates values only)."""
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def resolved(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose sees it, with the sample secrets of a filled-in .env."""
    values = {**read_env_file(ENV_EXAMPLE), **SAMPLE_SECRETS, **(env or {})}
    text, errors = interpolate(raw_text(), values)
    assert errors == []
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def validate(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    assert validate(yaml.safe_load(raw_text())) == []
    assert validate(resolved()) == []


@pytest.mark.parametrize("break_it", [
    lambda d: d["services"]["guardian"].__setitem__("healthchek", {"test": ["CMD", "true"]}),
    lambda d: d["services"]["guardian"]["depends_on"]["opensearch"].__setitem__(
        "condition", "service_ready"),
    lambda d: d["services"]["postgres"].__setitem__("ports", "5432:5432"),
], ids=["misspelt-key", "unknown-condition", "ports-not-a-list"])
def test_the_schema_catches_a_broken_compose_file(break_it: Any) -> None:
    document = copy.deepcopy(resolved())
    break_it(document)
    assert validate(document) != []


def test_every_variable_comes_from_the_env_file_and_secrets_are_required() -> None:
    documented = set(read_env_file(ENV_EXAMPLE))
    refs = variable_references(raw_text())
    used = {r.name for r in refs}
    assert used - documented == set(), "used in compose but not in .env.example"
    assert documented - used == set(), "in .env.example but used nowhere"
    for ref in refs:
        if ref.name in OPTIONAL:
            assert ref.op == ":-", ref
        else:
            assert ref.op == ":?", f"{ref.name} must be required (${{{ref.name}:?…}})"
    # The checked-in example holds no secret: copied as it is, compose refuses to start.
    assert all(v == "" for v in read_env_file(ENV_EXAMPLE).values())
    _, errors = interpolate(raw_text(), read_env_file(ENV_EXAMPLE))
    assert {e.split(":")[0] for e in errors} == documented - OPTIONAL


def guardian_variables_outside_settings(text: str) -> set[str]:
    known = {"GUARDIAN_" + name.upper() for name in Settings.model_fields}
    return set(GUARDIAN_VARIABLE.findall(text)) - known


@pytest.mark.parametrize("path", [
    "compose/docker-compose.yml", "compose/.env.example", "compose/README.md", "Dockerfile",
])
def test_every_guardian_variable_set_for_the_stack_is_a_setting(path: str) -> None:
    assert guardian_variables_outside_settings((ROOT / path).read_text(encoding="utf-8")) == set()


def test_a_misspelt_guardian_variable_is_caught() -> None:
    assert guardian_variables_outside_settings(
        "GUARDIAN_OPENSEARCH_URL: https://opensearch:9200\nGUARDIAN_DEMO: 'false'\n"
    ) == {"GUARDIAN_OPENSEARCH_URL"}


def test_guardian_runs_outside_demo_mode_on_every_real_component(
        monkeypatch: pytest.MonkeyPatch) -> None:
    services = resolved()["services"]
    env = environment(services["guardian"])
    assert env == environment(services["guardian-init"])
    for name in list(Settings.model_fields):
        monkeypatch.delenv("GUARDIAN_" + name.upper(), raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.demo is False
    assert settings.host == ALL_INTERFACES
    assert settings.secret_key.get_secret_value() == SAMPLE_SECRETS["GUARDIAN_SECRET_KEY"]
    assert settings.audit_signing_key is not None
    assert settings.directory == "ldap" and settings.ldap_urls[0].startswith("ldaps://openldap:")
    assert settings.store_url.startswith("postgresql+psycopg://guardian:pgpass0123@postgres:")
    assert settings.audit_index == "opensearch"
    assert settings.opensearch_url_list == ["https://opensearch:9200"]
    assert settings.opensearch_ca_file == settings.ldap_ca_file == Path("/certs/ca.pem")
    # The store, the audit journal and the signing key live on named volumes.
    mounts = {m.split(":")[1]: m.split(":")[0] for m in services["guardian"]["volumes"]}
    assert mounts[str(settings.data_dir)] == "guardian-data"
    assert mounts[str(Path(settings.audit_signing_key.get_secret_value()).parent)] == \
        "guardian-keys"
    assert services["guardian"]["command"] == ["guardian", "serve", "--host", ALL_INTERFACES]


def test_long_running_services_have_health_checks_and_dependencies_wait_for_them() -> None:
    services = resolved()["services"]
    assert set(services) >= {"opensearch", "dashboards", "openldap", "postgres", "mailpit",
                             "guardian"}
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, how in depends.items():
            wanted = ("service_completed_successfully" if target in ONE_SHOT
                      else "service_healthy")
            assert how == {"condition": wanted}, f"{name} → {target}"
    assert set(services["guardian"]["depends_on"]) >= {
        "guardian-init", "opensearch", "postgres", "openldap"}
    assert "setup" in services["opensearch"]["depends_on"]


def test_images_are_pinned_ports_stay_on_loopback_and_data_is_on_named_volumes() -> None:
    document = resolved()
    declared = set(document["volumes"])
    used = set()
    for name, service in document["services"].items():
        image = service.get("image", "")
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest", f"{name}: image {image!r} is not pinned"
        if "build" in service:
            context = (COMPOSE_DIR / service["build"]["context"]).resolve()
            assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for mount in service.get("volumes", []):
            source, _target, *mode = mount.split(":")
            if source.startswith("."):
                assert mode == ["ro"], f"{name}: bind mount {mount} must be read-only"
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert declared == used
    data = {"opensearch": "/usr/share/opensearch/data", "postgres": "/var/lib/postgresql/data",
            "openldap": "/var/lib/ldap", "mailpit": "/data"}
    for name, path in data.items():
        mounts = {m.split(":")[1]: m.split(":")[0] for m in document["services"][name]["volumes"]}
        assert mounts.get(path) in declared, f"{name}: {path} is not on a named volume"


def test_the_guardian_image_is_built_once_for_every_guardian_service() -> None:
    services = resolved()["services"]
    built = {n for n, s in services.items() if s.get("image") == "guardian:local"}
    assert built == {"setup", "guardian-init", "guardian"}
    for name in built:
        assert services[name]["build"] == {"context": "..", "dockerfile": "Dockerfile"}


def test_the_env_file_is_ignored_by_git_but_its_example_is_not() -> None:
    def ignored(path: str) -> bool:
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert done.returncode in (0, 1)
        return done.returncode == 0

    assert ignored("compose/.env")
    assert not ignored("compose/.env.example")


def test_every_file_guardian_is_pointed_at_is_in_the_image_or_mounted() -> None:
    services = resolved()["services"]
    env = environment(services["guardian"])
    mounts = {m.split(":")[1]: m.split(":")[0] for m in services["guardian"]["volumes"]}
    image_copies = {"/opt/guardian/policies": "policies", "/opt/guardian/audit": "audit"}
    for key in ("GUARDIAN_POLICY_DIR", "GUARDIAN_AUDIT_DIR", "GUARDIAN_CUSTOMERS_FILE",
                "GUARDIAN_APPLICATIONS_FILE"):
        value = env[key]
        if value in mounts:
            source = COMPOSE_DIR / mounts[value]
        else:
            base = next(b for b in image_copies if value == b or value.startswith(b + "/"))
            source = ROOT / (image_copies[base] + value[len(base):])
        assert source.exists(), f"{key}={value}: {source} does not exist"
    applications = FileApplications(COMPOSE_DIR / mounts[env["GUARDIAN_APPLICATIONS_FILE"]])
    assert applications.application_for("demo-app-key") is None
