"""``guardian report periodic`` and ``guardian report verify``: a report produced from the
command line is signed and archived, verifies with the audit public key, and a tampered copy
or another key makes ``verify`` exit 1."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from guardian.audit.checkpoints import public_pem
from guardian.cli.main import app
from support import ROOT

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GUARDIAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GUARDIAN_JOURNAL_FSYNC", "false")
    return tmp_path


def test_a_report_from_the_cli_verifies_and_a_tampered_one_does_not(_in_repo: Path) -> None:
    report, pem = _in_repo / "report.json", _in_repo / "audit.pem"
    made = runner.invoke(app, ["report", "periodic", "--from", "2026-11-01", "--to",
                               "2026-12-01", "--out", str(report), "--actor", "judy"])
    public = runner.invoke(app, ["keys", "public", "--out", str(pem)])
    assert made.exit_code == 0, made.output
    assert public.exit_code == 0, public.output

    good = runner.invoke(app, ["report", "verify", str(report), "--public-key", str(pem)])
    doc = orjson.loads(report.read_bytes())
    doc["decisions"]["total"] += 1
    (_in_repo / "tampered.json").write_bytes(orjson.dumps(doc))
    bad = runner.invoke(app, ["report", "verify", str(_in_repo / "tampered.json"),
                              "--public-key", str(pem)])
    other = _in_repo / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    wrong_key = runner.invoke(app, ["report", "verify", str(report), "--public-key",
                                    str(other)])

    assert good.exit_code == 0 and "verified" in good.output
    assert bad.exit_code == 1 and "SHA-256" in bad.output
    assert wrong_key.exit_code == 1 and "NOT VERIFIED" in wrong_key.output


def test_a_binary_format_needs_an_output_file_and_a_bad_period_is_refused() -> None:
    pdf = runner.invoke(app, ["report", "periodic", "--from", "2026-11-01", "--to",
                              "2026-12-01", "--format", "pdf"])
    empty = runner.invoke(app, ["report", "periodic", "--from", "2026-12-01", "--to",
                                "2026-11-01"])

    assert pdf.exit_code == 2 and "--out" in pdf.output
    assert empty.exit_code == 2 and "invalid_request" in empty.output
