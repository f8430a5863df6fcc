"""The demo customers file read as (customer, purpose) consent pairs, in file order; no file
and an empty file hold none, a customer without consents adds none."""

from __future__ import annotations

from pathlib import Path

from guardian.adapters.files.customers import read_customer_consents


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "customers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_consent_of_every_customer_in_file_order(tmp_path: Path) -> None:
    path = _file(tmp_path, """
customers:
  - id: C-1001
    consents: [marketing, research]
  - id: C-1002
    consents: [research]
""")

    assert read_customer_consents(path) == [
        ("C-1001", "marketing"), ("C-1001", "research"), ("C-1002", "research")]


def test_a_customer_without_consents_adds_none(tmp_path: Path) -> None:
    path = _file(tmp_path, "customers:\n  - id: C-1\n  - id: C-2\n    consents: []\n")

    assert read_customer_consents(path) == []


def test_ids_and_purposes_are_strings_even_when_yaml_reads_numbers(tmp_path: Path) -> None:
    path = _file(tmp_path, "customers:\n  - id: 42\n    consents: [2024]\n")

    assert read_customer_consents(path) == [("42", "2024")]


def test_no_file_and_an_empty_file_hold_no_consents(tmp_path: Path) -> None:
    assert read_customer_consents(None) == []
    assert read_customer_consents(_file(tmp_path, "")) == []
    assert read_customer_consents(_file(tmp_path, "customers: []\n")) == []
