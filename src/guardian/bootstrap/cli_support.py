"""What the command line reaches through the composition root: the CLI imports no adapter
itself (an import-linter contract holds it). Each helper imports its adapter only when called,
so a command pays for none it does not use (WeasyPrint, Alembic); and the command line as a
client of a running server (``guardian login``; administrative commands go through the
server's API while it holds the journal).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guardian.audit.checkpoints import CheckpointSigner
from guardian.bootstrap.audit_parts import (
    build_audit_index,
    build_checkpoint_signer,
    build_shipper,
    build_witness,
    open_journal,
    writer_base,
)
from guardian.bootstrap.record import AuditTrail
from guardian.clock import SystemClock
from guardian.config import Settings
from guardian.journal.writer import FileJournal
from guardian.ports import CliSessions, Clock, GuardianServer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from guardian.errors import LintFinding
    from guardian.governance.review_definitions import ReviewDefinition
    from guardian.policy.definition import PolicyDefinition
    from guardian.policy.testing import PolicyCase


def parse_duration(value: str) -> int | None:
    """``"15m"`` → 900 s, as the policy files write durations (``ValueError`` otherwise)."""
    from guardian.adapters.files.policy import parse_duration as parse

    return parse(value)


def read_policy(root: Path) -> tuple[PolicyDefinition | None, list[LintFinding]]:
    """The policy folder read and linted: the definition (``None`` if unreadable), findings."""
    from guardian.adapters.files.policy import read_policy as read

    return read(root)


def read_policy_files(root: Path) -> dict[str, str]:
    """The policy folder's files (name → text), as a candidate to apply."""
    from guardian.adapters.files.policy_candidates import read_policy_files as read

    return read(root)


def read_test_files(root: Path) -> dict[str, str]:
    """The policy folder's test files, run against a candidate before it is applied."""
    from guardian.adapters.files.policy_candidates import read_test_files as read

    return read(root)


def read_review_definitions(
    root: Path, policy: PolicyDefinition | None = None, people: Collection[str] | None = None,
) -> tuple[dict[str, ReviewDefinition], list[LintFinding]]:
    """The access review definitions of ``root/reviews/*.yaml``, checked against the policy and
    the directory's people when given: those that parse, and every finding."""
    from guardian.adapters.files.review_definitions import read_review_definitions as read

    return read(root, policy, people)


def directory_file_uids(settings: Settings) -> frozenset[str] | None:
    """The uids of the directory file (``None`` for LDAP, or no file): what the policy lint
    checks review definitions' named reviewers against without reaching the network."""
    from guardian.adapters.files.yaml_lines import load_plain

    people = settings.people
    if people.kind != "file" or not people.file.is_file():
        return None
    raw = load_plain(people.file)
    users = raw.get("users") if isinstance(raw, dict) else None
    return frozenset(str(u["uid"]) for u in users or [] if isinstance(u, dict) and "uid" in u)


def read_policy_cases(root: Path) -> tuple[list[Path], list[PolicyCase], list[LintFinding]]:
    """The policy test files under ``root`` (or that file), their cases, their findings."""
    from guardian.adapters.files.policy_tests import load_cases, policy_test_files

    files = policy_test_files(root)
    cases, findings = load_cases(files)
    return files, cases, findings


def read_trust_files(paths: list[Path]) -> list[Ed25519PublicKey]:
    """The auditors' pinned public keys, from their trust files."""
    from guardian.adapters.files.keys import read_trust_files as read

    return read(paths)


def new_audit_key(settings: Settings, path: Path | None) -> tuple[str | None, CheckpointSigner]:
    """A new audit signing key: written to ``path`` (mode 0600, never overwriting), or, with
    no path, sealed with the secret key (the sealed value is returned to print)."""
    from guardian.adapters.files.keys import new_sealed_key, write_new_key

    if path is not None:
        return None, write_new_key(path)
    return new_sealed_key(settings.secret_key.get_secret_value())


def terminal_qr(text: str) -> str:
    """``text`` as a QR code drawn with half-block characters, for a terminal."""
    from guardian.adapters.render.qr import terminal_text

    return terminal_text(text)


def html_to_pdf(html: str) -> bytes:
    """The page printed to PDF (WeasyPrint)."""
    from guardian.adapters.render.pdf import html_to_pdf as to_pdf

    return to_pdf(html)


@dataclass
class Client:
    """The server the command line talks to (``None``: none runs, act locally), the session
    ``guardian login`` keeps, and the clock that says whether it expired."""

    server: GuardianServer | None
    sessions: CliSessions
    clock: Clock


def build_client(settings: Settings, *, clock: Clock | None = None) -> Client:
    """``GUARDIAN_URL``, else the server running on this data folder (its ``serve.json``)."""
    from guardian.adapters.files.cli_state import FileCliSessions, read_serve_state
    from guardian.adapters.http.server_client import HttpGuardianServer

    cli = settings.cli
    url = cli.url or read_serve_state(cli.serve_state_file)
    server = HttpGuardianServer(url, timeout_s=cli.timeout_s) if url else None
    return Client(server, FileCliSessions(cli.session_file), clock or SystemClock())


@contextmanager
def serving_state(settings: Settings) -> Iterator[None]:
    """``serve.json`` in the data folder while this process serves: how the command line on
    this host finds the server (removed when it stops)."""
    from guardian.adapters.files.cli_state import remove_serve_state, write_serve_state

    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    state_file = settings.cli.serve_state_file
    write_serve_state(state_file, f"http://{host}:{settings.port}")
    try:
        yield
    finally:
        remove_serve_state(state_file)


@dataclass
class Shipping:
    """The journal (opened exclusively), the index and the shipper: ``guardian audit ship``."""

    journal: FileJournal
    trail: AuditTrail

    def close(self) -> None:
        self.trail.shipper.stop()
        self.journal.close()
        self.trail.close_witness()
        self.trail.index.close()


def build_shipping(settings: Settings, *, clock: Clock | None = None) -> Shipping:
    clock = clock or SystemClock()
    audit = settings.audit
    signer = build_checkpoint_signer(settings)
    witness = build_witness(audit.witness)
    if witness is not None:
        witness.start()
    journal = open_journal(audit, signer, clock, witness, writer=writer_base(settings))
    index = build_audit_index(settings)
    return Shipping(journal, AuditTrail(index, build_shipper(audit, journal, index, clock), signer,
                                        witness, retention=index))
