"""`guardian audit verify` trusts only what the auditors hold: pinned keys from a trust file
(never a key derived from the host's secret), `--expect-seq` on every source, and a witness's
copy of the checkpoints; `guardian keys public` writes the trust-file format. Run on a
non-demo deployment with its own signing key, as an auditor would meet it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from guardian.audit.checkpoints import key_id, parse_trust
from guardian.bootstrap import build, build_checkpoint_signer
from guardian.cli.main import app
from guardian.config import Settings
from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action
from support import ROOT, TEST_SECRET_KEY, real_settings
from tamper_cases import resign_journal, secret_derived_key
from witness_support import WITNESS_SECRET, witness_server

runner = CliRunner()


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """A real (non-demo) deployment's environment, and its public key in a trust file."""
    settings = real_settings(tmp_path)
    assert settings.audit_signing_key is not None
    monkeypatch.chdir(ROOT)
    for name, value in {"DEMO": "false", "SECRET_KEY": TEST_SECRET_KEY,
                        "AUDIT_SIGNING_KEY": settings.audit_signing_key.get_secret_value(),
                        "DIRECTORY_FILE": str(settings.directory_file),
                        "DATA_DIR": str(settings.data_dir), "JOURNAL_FSYNC": "false",
                        "AUDIT_CHECKPOINT_EVERY_EVENTS": "10"}.items():
        monkeypatch.setenv(f"GUARDIAN_{name}", value)
    exported = runner.invoke(app, ["keys", "public", "--out", str(tmp_path / "trust.pem")])
    assert exported.exit_code == 0, exported.output
    return Settings()


def _decide(count: int) -> None:
    guardian = build(Settings(), prepare=True)
    try:
        for _ in range(count):
            guardian.pipeline.decide_many([DecisionRequest(
                "alice", Action.READ, "crm", "contact", "customer-care", ("C-1001",),
                application="crm-web")])
    finally:
        guardian.close()


def _verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", *args], terminal_width=250)
    return result.exit_code, result.output


def test_keys_public_writes_a_trust_file_naming_its_key(
    deployment: Settings, tmp_path: Path
) -> None:
    text = (tmp_path / "trust.pem").read_text()
    [key] = parse_trust(text)
    signer = build_checkpoint_signer(deployment)

    assert key_id(key) == signer.key_id and f"key-id: {signer.key_id}\n" in text
    with pytest.raises(Exception, match="does not match"):
        parse_trust(text.replace(signer.key_id, "0" * 16))


def test_expect_seq_beyond_the_end_of_the_journal_is_a_truncated_tail(
    deployment: Settings, tmp_path: Path
) -> None:
    _decide(12)
    trust = ["--trust", str(tmp_path / "trust.pem")]

    reached = _verify(*trust, "--expect-seq", "13")
    journal = _verify(*trust, "--expect-seq", "40")
    runner.invoke(app, ["audit", "ship"])
    index = _verify("--source", "index", *trust, "--expect-seq", "40")

    assert reached[0] == 0, reached[1]
    for code, output in (journal, index):
        assert code == 1, output
        assert "truncated" in output and "the auditor (--expect-seq) knows event 40" in output


def test_without_a_trust_file_the_trail_is_not_called_authentic(
    deployment: Settings, tmp_path: Path
) -> None:
    _decide(12)

    code, output = _verify()
    demo_key = _verify("--trust-demo-key")

    assert code == 3, output
    assert "NOT authenticated" in output and "chain intact" not in output
    assert "NOT checked against pinned keys" in output
    assert demo_key[0] == 2 and "demo mode only" in demo_key[1]


def test_the_trust_file_from_the_environment_and_every_checkpoint_key_in_the_report(
    deployment: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _decide(25)
    monkeypatch.setenv("GUARDIAN_AUDIT_TRUST_FILE", str(tmp_path / "trust.pem"))
    kid = build_checkpoint_signer(deployment).key_id

    code, output = _verify()

    assert code == 0, output
    assert "chain intact" in output and "verified with pinned keys" in output
    assert f"checkpoint key {kid}: 3 checkpoint(s), seq 11..28" in output


def test_a_journal_re_signed_with_the_secret_derived_key_is_refused_naming_its_first_checkpoint(
    deployment: Settings, tmp_path: Path
) -> None:
    _decide(25)
    insider = secret_derived_key()  # what the verifier trusted by default before
    resign_journal(deployment.journal_file, insider)

    code, output = _verify("--trust", str(tmp_path / "trust.pem"))

    assert code == 1, output
    assert "chain broken at 11: checkpoint_invalid" in output
    assert f"signed with key {insider.key_id!r}, not a trusted key" in output
    assert f"checkpoint key {insider.key_id}: 1 checkpoint(s), seq 11..11" in output


def test_a_journal_cut_back_with_its_state_file_deleted_is_caught_by_the_webhook_witness(
    deployment: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with witness_server(tmp_path / "witness.jsonl") as server:
        monkeypatch.setenv("GUARDIAN_AUDIT_WITNESS_URL", server.url)
        monkeypatch.setenv("GUARDIAN_AUDIT_WITNESS_SECRET", WITNESS_SECRET)
        _decide(25)  # checkpoints at 11, 22 and the tail's at 28: all witnessed
        assert runner.invoke(app, ["audit", "ship"]).exit_code == 0
    path = deployment.journal_file
    lines = path.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if not line.startswith(b'{"seal":')
              and orjson.loads(line)["guardian"]["seq"] == 22)
    path.write_bytes(b"".join(lines[:at + 2]))  # back to checkpoint 22 and the seal after it
    path.with_name(path.name + ".shipped").unlink()
    trust = ["--trust", str(tmp_path / "trust.pem")]

    alone = _verify(*trust)
    with_file = _verify(*trust, "--witness", str(tmp_path / "witness.jsonl"))
    with_index = _verify(*trust, "--witness", "index")

    assert alone[0] == 0, alone[1]
    for code, output in (with_file, with_index):
        assert code == 1, output
        assert "chain broken at 23: truncated" in output and "knows event 27" in output
