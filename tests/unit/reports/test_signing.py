"""Sealing a report: the digest ignores the seal and key order, a sealed report verifies with
the audit public key, and a changed figure, another key or a damaged signature is named."""

from __future__ import annotations

from typing import Any

from audit_support import signer
from guardian.reports.signing import canonical, digest, seal, verify_report

REPORT: dict[str, Any] = {"kind": "periodic", "period": {"from": "2026-11-01", "to": "2026-11-30"},
                          "decisions": {"permit": 12, "deny": 3}}


def test_the_digest_ignores_the_seal_fields_and_key_order() -> None:
    reordered = {"decisions": {"deny": 3, "permit": 12}, "period": REPORT["period"],
                 "kind": "periodic", "sha256": "x", "signature": "y", "key_id": "z"}

    assert canonical(reordered) == canonical(REPORT)
    assert digest(reordered) == digest(REPORT)
    assert b" " not in canonical(REPORT)


def test_a_sealed_report_verifies_with_the_audit_public_key() -> None:
    key = signer()
    sealed = seal(REPORT, key)

    assert sealed["sha256"] == digest(REPORT) and sealed["key_id"] == key.key_id
    assert verify_report(sealed, key.public_key) is None


def test_a_changed_figure_another_key_or_a_damaged_signature_is_named() -> None:
    key, other = signer(), signer()
    sealed = seal(REPORT, key)
    changed = {**sealed, "decisions": {"permit": 13, "deny": 3}}
    damaged = {**sealed, "signature": "not base64!"}
    unnamed = {k: v for k, v in sealed.items() if k != "key_id"}

    assert "does not match the content" in (verify_report(changed, key.public_key) or "")
    assert "not the key given" in (verify_report(sealed, other.public_key) or "")
    assert "does not verify" in (verify_report(damaged, key.public_key) or "")
    assert "does not verify" in (verify_report(unnamed, other.public_key) or "")
    assert verify_report(unnamed, key.public_key) is None
