"""The command line as a client of a running ``guardian serve`` (issue 8, item 6): ivan signs in
with ``guardian login``, creates and revokes an API key through the server while it runs, and
the trail records ivan, not a machine account; nobody signed in is a clear refusal."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from serve_support import GUARDIAN, Served, code, password, start
from support import ROOT


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = start(tmp_path / "data")
    yield server
    server.stop()


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path / "data"),
           "GUARDIAN_CLI_CONFIG_DIR": str(tmp_path / "config"), "COLUMNS": "200"}
    env.pop("GUARDIAN_URL", None)
    return subprocess.run([GUARDIAN, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def _journal(tmp_path: Path) -> list[dict[str, object]]:
    lines = (tmp_path / "data" / "audit" / "journal.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines if line.startswith(b'{"@timestamp"')]


def test_an_officer_signed_in_creates_and_revokes_a_key_through_the_running_server(
    served: Served, tmp_path: Path
) -> None:
    refused = _cli(tmp_path, "keys", "create", "crm-batch")
    assert refused.returncode == 2
    assert "not_signed_in" in refused.stderr and "guardian login" in refused.stderr

    login = _cli(tmp_path, "login", "--user", "ivan", "--password", password("ivan"),
                 "--code", code("ivan"))
    assert login.returncode == 0, login.stderr
    session_file = tmp_path / "config" / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600

    created = _cli(tmp_path, "keys", "create", "crm-batch")
    assert created.returncode == 0, created.stderr
    [key_id] = re.findall(r"created key (\S+) for crm-batch", created.stdout)
    [key] = re.findall(r"^gk_\S+$", created.stdout, re.M)
    request = {"subject": {"id": "alice"}, "action": "read", "purpose": "customer-care",
               "resource": {"database": "crm", "category": "contact", "customer_ids": ["C-1001"]}}
    with httpx.Client(base_url=served.url, timeout=10) as http:
        assert http.post("/v1/decisions", headers={"X-API-Key": key},
                         json=request).status_code == 200
        revoked = _cli(tmp_path, "keys", "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        assert f"revoked key {key_id} of crm-batch" in revoked.stdout
        assert http.post("/v1/decisions", headers={"X-API-Key": key},
                         json=request).status_code == 401

    auditor = _cli(tmp_path, "login", "--user", "judy", "--password", password("judy"),
                   "--code", code("judy"))
    assert auditor.returncode == 0, auditor.stderr
    report = _cli(tmp_path, "report", "customer", "C-1001")
    assert report.returncode == 0, report.stderr
    assert orjson.loads(report.stdout)["customer_id"] == "C-1001"

    assert _cli(tmp_path, "logout").returncode == 0
    assert not session_file.exists()
    served.stop()
    changes = [(e["event"]["action"], e["user"]["id"]) for e in _journal(tmp_path)  # type: ignore[index]
               if str(e["event"]["action"]).startswith(("governance.api_key",  # type: ignore[index]
                                                        "audit.customer_report"))]
    assert changes == [("governance.api_key_created", "ivan"),
                       ("governance.api_key_revoked", "ivan"),
                       ("audit.customer_report_produced", "judy")]


def test_without_a_server_the_commands_act_locally_as_before(tmp_path: Path) -> None:
    created = _cli(tmp_path, "keys", "create", "crm-batch")

    assert created.returncode == 0, created.stderr
    assert re.search(r"^gk_\S+$", created.stdout, re.M)
    changes = [e["user"]["id"] for e in _journal(tmp_path)  # type: ignore[index]
               if e["event"]["action"] == "governance.api_key_created"]  # type: ignore[index]
    assert changes == ["cli"]
