"""``guardian serve`` as a real process on a free loopback port, for end-to-end tests.

Started as tests/e2e/test_serve.py does (the demo organisation in a temporary data folder).
:func:`code` gives a demo user's TOTP code now, or ``step_offset`` time steps later: a step-up
must not reuse the step its sign-in claimed, and Guardian accepts one step of drift.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from guardian.identity.totp import code_at
from support import ROOT, demo_secret

GUARDIAN = str(Path(sys.executable).with_name("guardian"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def start(data_dir: Path, *, timeout_s: float = 120, port: int | None = None,
          log: Path | None = None, **env_extra: str) -> Served:
    """``guardian serve`` on ``port`` (default: a free one), its output into ``log`` if given
    (a server that logs much must not fill a pipe nobody reads)."""
    port = port or free_port()
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(data_dir), **env_extra}
    out = log.open("ab") if log is not None else None
    proc = subprocess.Popen([GUARDIAN, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=out or subprocess.PIPE, stderr=subprocess.STDOUT)
    if out is not None:
        out.close()  # the child holds its own copy
    served = Served(f"http://127.0.0.1:{port}", proc)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{served.url}/v1/health", timeout=1).status_code == 200:
                return served
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    said = proc.stdout.read().decode() if proc.stdout else ""
    if log is not None:
        said = log.read_text(errors="replace")[-4000:]
    pytest.fail(f"guardian serve did not answer: {said}")


def code(uid: str, *, step_offset: int = 0) -> str:
    return code_at(demo_secret(uid), time.time() + 30 * step_offset)


def password(uid: str) -> str:
    return f"{uid}-demo-pass"
