"""This server's writer id, made once and kept in the data folder.

``GUARDIAN_WRITER_ID`` names the writer explicitly; without it the id is read from
``<data folder>/writer-id``, written there on the first start (``g-`` and 12 random hex
digits), so that two replicas with data folders of their own never share a chain, and a
restart keeps its chain. See :mod:`guardian.audit.writers`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from guardian.audit.writers import checked
from guardian.errors import ConfigurationError

FILE_NAME = "writer-id"


def stable_writer_id(data_dir: Path) -> str:
    """The writer id kept in ``data_dir`` (made and kept there the first time)."""
    path = data_dir / FILE_NAME
    try:
        return checked(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the writer id in {path}: {exc}") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    made = f"g-{secrets.token_hex(6)}"
    tmp = path.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
    try:
        tmp.write_text(made + "\n", encoding="ascii")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # the first process to get here makes it; the others read it
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return checked(path.read_text(encoding="ascii").strip())
