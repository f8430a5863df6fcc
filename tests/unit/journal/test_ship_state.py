"""The shipper's side file: saved and loaded back whole (conflicts too), replaced atomically
without a temporary file left, and a missing or damaged file read as the beginning."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardian.audit.chain import GENESIS
from guardian.journal.ship_state import Conflict, ShipState, load_state, save_state, state_path


def test_the_state_lives_next_to_its_journal() -> None:
    assert state_path(Path("/var/audit.jsonl")) == Path("/var/audit.jsonl.shipped")


def test_a_saved_state_loads_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl.shipped"
    state = ShipState(7, "ab" * 32, 4096, (Conflict(3, "another document"),))

    save_state(path, state, fsync=False)
    save_state(path, state, fsync=True)

    assert load_state(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["j.jsonl.shipped"]
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("content", [None, b"", b"not json", b'{"seq": 3}',
                                     b'{"seq": "x", "hash": "h", "offset": 0}'])
def test_a_missing_or_damaged_state_is_the_beginning(tmp_path: Path,
                                                     content: bytes | None) -> None:
    path = tmp_path / "j.jsonl.shipped"
    if content is not None:
        path.write_bytes(content)

    assert load_state(path) == ShipState(0, GENESIS, 0, ())
