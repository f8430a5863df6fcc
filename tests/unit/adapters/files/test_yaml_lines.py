"""The streamed YAML reader of the directory file gives what the full safe loader gives, and
leaves anchors and aliases to it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from guardian.adapters.files.yaml_lines import load_plain, load_streamed

TEXT = """users:
  - uid: alice
    name: "Alice A"
    roles: [a, b]
    active: true
    n: 12
    f: 1.5
    d: 2024-01-01
    nothing: ~
    q: 'true'
    multi: |
      line one
      line two
  - {uid: bob, roles: [], active: no}
empty: {}
"""


@pytest.mark.parametrize("text", [TEXT, "", "- 1\n- [2, {a: b}]\n", "x: &a 1\ny: *a\n",
                                  "base: &b {k: 1}\nother:\n  <<: *b\n  j: 2\n"])
def test_streamed_equals_the_safe_loader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    assert load_streamed(path) == load_plain(path)


@pytest.mark.parametrize("text", ["a: [1\n", "a: 1\n---\nb: 2\n"])
def test_broken_files_are_yaml_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    with pytest.raises(yaml.YAMLError):
        load_streamed(path)


def test_the_demo_directory_reads_alike() -> None:
    path = Path(__file__).resolve().parents[4] / "policies" / "demo" / "directory.yaml"
    assert load_streamed(path) == load_plain(path)
