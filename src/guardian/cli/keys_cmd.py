"""``guardian keys``: application API keys (``create``, ``list``, ``revoke``).

A key is printed once by ``create`` and never again; the store keeps its SHA-256. ``list`` and
``revoke`` cover the applications file's keys too (source ``file``; the revocation is kept in
the store, the file is not rewritten). Creating and revoking are audit events: while a server
runs (it holds the journal) ``create``, ``list`` and ``revoke`` go through its API as the
person signed in with ``guardian login`` (``--actor`` is then that person); without one they
act locally. (Other key commands, such as the audit signing key's, live in this group too.)
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape

from guardian.cli.common import built
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.cli.remote import remote
from guardian.clock import iso_utc
from guardian.governance.model import Scope

app = typer.Typer(no_args_is_help=True, help="Application API keys and other keys.")
console = Console(soft_wrap=True)
Actor = Annotated[str, typer.Option("--actor", help="Who does this, for the audit trail")]
KEY_COLUMNS = (
    Column("id", whole=True), Column("name"), Column("source"), Column("scopes", in_table=False),
    Column("created_at", "created", whole=True), Column("created_by", "by"),
    Column("revoked_at", in_table=False), Column("active", in_table=False),
    Column("state", in_data=False, styles={"active": "green", "revoked": "red"}),
)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="The application, e.g. crm-web")],
    actor: Actor = "cli",
    scope: Annotated[list[Scope] | None, typer.Option(
        "--scope", help="What the key opens (repeatable): decide (default), consent")] = None,
) -> None:
    """Create an API key for an application and print it, once."""
    scopes = sorted(scope or [Scope.DECIDE])
    server = remote()
    if server is not None:
        answer = server.call("POST", "/v1/keys", {"name": name, "scopes": scopes})
        key_id, key = str(answer["id"]), str(answer["key"])
    else:
        with built() as guardian:
            new = guardian.api_keys.create(name, actor, frozenset(scopes))
        key_id, key = new.record.id, new.key
    console.print(f"[green]created[/] key {key_id} for {escape(name)}; "
                  "give it to the application now, it is not shown again:")
    print(key)


@app.command("list")
def list_(output: OutputOption = Output.TABLE) -> None:
    """The API keys of the store and of the applications file (never the keys themselves)."""
    server = remote()
    if server is not None:
        rows = [dict(k) for k in server.call("GET", "/v1/keys")["keys"]]
    else:
        with built() as guardian:
            rows = [k.as_dict() for k in guardian.api_keys.list()]
    rows = [k | {"state": _state(k.get("revoked_at"))} for k in rows]
    render(rows, KEY_COLUMNS, output, empty="no API keys")


def _state(revoked_at: float | str | None) -> str:
    if revoked_at is None:
        return "active"
    return f"revoked {revoked_at if isinstance(revoked_at, str) else iso_utc(revoked_at)}"


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, from `guardian keys list`")],
    actor: Actor = "cli",
) -> None:
    """Revoke an API key (also one of the applications file): refused from then on."""
    server = remote()
    if server is not None:
        answer = server.call("DELETE", f"/v1/keys/{quote(key_id, safe='')}")
        revoked_id, name = str(answer["id"]), str(answer["name"])
    else:
        with built() as guardian:
            record = guardian.api_keys.revoke(key_id, actor)
        revoked_id, name = record.id, record.name
    console.print(f"[green]revoked[/] key {revoked_id} of {escape(name)}")


# -- the audit signing key (checkpoints) ----------------------------------------------------


@app.command()
def init(
    out: Annotated[str | None, typer.Option(
        help="Where to write the new private key (default: <data dir>/keys/audit-signing.pem)")]
    = None,
    sealed: Annotated[bool, typer.Option(
        "--sealed", help="Print the key sealed with GUARDIAN_SECRET_KEY instead of a file")]
    = False,
) -> None:
    """Generate the Ed25519 key that signs audit checkpoints (never overwrites one)."""
    from pathlib import Path

    from guardian.audit.checkpoints import trust_entry
    from guardian.bootstrap import new_audit_key
    from guardian.cli.common import fail, settings_from
    from guardian.errors import GuardianError

    settings = settings_from()
    try:
        if sealed:
            value, signer = new_audit_key(settings, None)
            console.print(f"new audit signing key {signer.key_id}; set it (it opens only with "
                          "this GUARDIAN_SECRET_KEY) as:")
            print(f"GUARDIAN_AUDIT_SIGNING_KEY={value}")
        else:
            path = Path(out) if out else settings.data_dir / "keys" / "audit-signing.pem"
            _, signer = new_audit_key(settings, path)
            console.print(f"new audit signing key {signer.key_id} written to {escape(str(path))} "
                          "(mode 0600); set:")
            print(f"GUARDIAN_AUDIT_SIGNING_KEY={path}")
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    console.print("Give auditors its public key for their trust file (`guardian keys public`):")
    print(trust_entry(signer.public_key), end="")


@app.command()
def public(
    out: Annotated[str | None, typer.Option(
        help="Also write it to this file (a trust file for `guardian audit verify --trust`)")]
    = None,
) -> None:
    """Print the public key that verifies audit checkpoints, in the trust-file format
    (``key-id:`` line and PEM) that auditors pin; concatenate entries for rotated keys."""
    from pathlib import Path

    from guardian.audit.checkpoints import trust_entry
    from guardian.bootstrap import build_checkpoint_signer
    from guardian.cli.common import err, fail, settings_from
    from guardian.errors import GuardianError

    try:
        signer = build_checkpoint_signer(settings_from())
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    entry = trust_entry(signer.public_key)
    if signer.source == "derived":
        err.print("[yellow]note:[/] demo mode: this key is derived from the public demo secret "
                  "key; anyone can sign with it")
    err.print(f"key id {signer.key_id}")
    print(entry, end="")
    if out is not None:
        Path(out).write_text(entry, encoding="ascii")
