"""The writer id kept in the data folder: made on the first start (``g-`` and 12 hex digits),
read back on every later start, the same for a process that loses the race to make it; an
unreadable or invalid file is a ``ConfigurationError``, never a new id."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from guardian.adapters.files.writer_id import FILE_NAME, stable_writer_id
from guardian.errors import ConfigurationError


def test_the_first_start_makes_an_id_and_keeps_it_in_the_data_folder(tmp_path: Path) -> None:
    made = stable_writer_id(tmp_path / "data")

    assert re.fullmatch(r"g-[0-9a-f]{12}", made)
    assert (tmp_path / "data" / FILE_NAME).read_text(encoding="ascii") == made + "\n"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [FILE_NAME]  # no tmp left


def test_a_restart_keeps_the_id(tmp_path: Path) -> None:
    assert stable_writer_id(tmp_path) == stable_writer_id(tmp_path)


def test_two_data_folders_get_different_ids(tmp_path: Path) -> None:
    assert stable_writer_id(tmp_path / "a") != stable_writer_id(tmp_path / "b")


def test_an_id_written_by_hand_is_read_without_its_whitespace(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("  replica-eu.1 \n", encoding="ascii")

    assert stable_writer_id(tmp_path) == "replica-eu.1"


def test_a_process_that_loses_the_race_reads_the_winner_s_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def another_process_won(src: Path, dst: Path) -> None:
        Path(dst).write_text("g-0123456789ab\n", encoding="ascii")
        raise FileExistsError(dst)

    monkeypatch.setattr(os, "link", another_process_won)

    assert stable_writer_id(tmp_path) == "g-0123456789ab"
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]


def test_an_invalid_id_in_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("-not valid/\n", encoding="ascii")

    with pytest.raises(ConfigurationError, match="not 1-64 letters"):
        stable_writer_id(tmp_path)
    assert (tmp_path / FILE_NAME).read_text(encoding="ascii") == "-not valid/\n"


def test_a_file_that_is_not_ascii_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes("g-é".encode())

    with pytest.raises(ConfigurationError, match="cannot read the writer id"):
        stable_writer_id(tmp_path)


def test_an_unreadable_path_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).mkdir()

    with pytest.raises(ConfigurationError, match="cannot read the writer id"):
        stable_writer_id(tmp_path)
    assert os.path.isdir(tmp_path / FILE_NAME)
