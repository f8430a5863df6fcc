"""The embedded SQLite audit index keeps the AuditIndex contract (the same tests as OpenSearch)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from audit_index_contract import *  # noqa: F403 - the shared contract tests
from audit_support import sqlite_index


@pytest.fixture
def audit_index(tmp_path: Path) -> Iterator[Any]:
    index = sqlite_index(tmp_path / "index.db")
    assert index.setup().changed  # first run creates the tables
    yield SimpleNamespace(index=index, refresh=lambda: None)
    index.close()
