"""Signed checkpoints: an Ed25519 signature over (seq, hash) of the chain, as an event in it.

Every N events or T seconds the journal appends a checkpoint event whose
``guardian.checkpoint`` carries the sequence number and hash of the event just before it,
the signing key's id and the signature. Hashes alone cannot stop someone who rewrites the
whole chain from some point on (they are unkeyed); a signature can: without the private key
nobody can produce a checkpoint that verifies. A checkpoint is also where a trimmed journal
starts: its signed (seq, hash) anchors the rest of the chain.

The signed message is ``guardian-checkpoint:v1:<seq>:<hash>``, or
``guardian-checkpoint:v2:<writer>:<seq>:<hash>`` on a chain with a writer id
(:mod:`guardian.audit.writers`, also in ``guardian.checkpoint.writer``); the key id is the
first 16 hex digits of the SHA-256 of the raw public key. The private key is never logged or
rendered.

Verifiers trust only the public keys the auditors pinned in a *trust file*: PEM public keys
(``-----BEGIN PUBLIC KEY-----``), one after the other for rotated keys, each optionally preceded
by a ``key-id: <16 hex digits>`` line that must match it; ``#`` lines are comments. ``guardian
keys public`` prints a key in that form.

The same key also signs every group commit's *seal* line (``guardian-seal:v1:<seq>:<hash>``, a
message of its own so that a seal's signature cannot pass as a checkpoint's): a seal is not an
event, only the proof that the journal's writer made what precedes it durable and acknowledged
it. On opening, whatever follows the last valid seal was never acknowledged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from guardian.audit.events import timestamp
from guardian.audit.records import CHECKPOINT_ACTION
from guardian.errors import ConfigurationError


def message(seq: int, hash_: str, writer: str = "") -> bytes:
    """What a checkpoint signs: ``v1`` for a chain without a writer id, ``v2`` naming the
    writer, so a checkpoint of one writer's chain cannot pass for another's."""
    if writer:
        return f"guardian-checkpoint:v2:{writer}:{seq}:{hash_}".encode("ascii")
    return f"guardian-checkpoint:v1:{seq}:{hash_}".encode("ascii")


def report_message(sha256: str) -> bytes:
    """What signing a report means: ``guardian-report:v1:<sha256>``, never a checkpoint's
    message, so a report's signature can never pass for a checkpoint's."""
    return f"guardian-report:v1:{sha256}".encode("ascii")


def seal_message(seq: int, hash_: str) -> bytes:
    return f"guardian-seal:v1:{seq}:{hash_}".encode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ConfigurationError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("the public key is not an Ed25519 key")
    return key


_PEM = re.compile(r"(?:^key-id:[ \t]*(?P<kid>\S+)[ \t]*\n(?:#[^\n]*\n|[ \t]*\n)*)?"
                  r"(?P<pem>-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\s]+?"
                  r"-----END PUBLIC KEY-----)", re.MULTILINE)


def trust_entry(public_key: Ed25519PublicKey) -> str:
    """One key in the trust-file format (see the module docstring)."""
    return (f"# Guardian audit checkpoint key\nkey-id: {key_id(public_key)}\n"
            + public_pem(public_key))


def parse_trust(text: str, origin: str = "the trust file") -> list[Ed25519PublicKey]:
    """The pinned keys of a trust file; a key-id that does not match its key, or a file with
    no key at all, is refused (an auditor's typo must not trust nothing silently)."""
    keys: list[Ed25519PublicKey] = []
    for found in _PEM.finditer(text.replace("\r\n", "\n")):
        key = load_public_pem(found.group("pem").encode("ascii"))
        stated = found.group("kid")
        if stated is not None and stated != key_id(key):
            raise ConfigurationError(f"{origin}: key-id {stated!r} does not match the key after "
                                     f"it (its id is {key_id(key)!r})")
        keys.append(key)
    if not keys:
        raise ConfigurationError(f"{origin} holds no PEM public key")
    return keys


class CheckpointSigner:
    """Holds the private key; signs (seq, hash). ``repr`` never shows the key."""

    __slots__ = ("_key", "key_id", "public_key", "source")

    def __init__(self, private_key: Ed25519PrivateKey, source: str) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)
        self.source = source
        """Where the key came from, for operators: ``file``, ``sealed`` or ``derived``."""

    def __repr__(self) -> str:
        return f"CheckpointSigner(key_id={self.key_id!r}, source={self.source!r})"

    def sign(self, seq: int, hash_: str, writer: str = "") -> str:
        return base64.b64encode(self._key.sign(message(seq, hash_, writer))).decode("ascii")

    def sign_report(self, sha256: str) -> str:
        """Sign a report (periodic, campaign evidence) by its SHA-256, with the audit key."""
        return base64.b64encode(self._key.sign(report_message(sha256))).decode("ascii")

    def seal_line(self, seq: int, hash_: str) -> bytes:
        """The journal's seal line (newline included) vouching for event ``seq``/``hash_``."""
        signature = base64.b64encode(self._key.sign(seal_message(seq, hash_))).decode("ascii")
        return orjson.dumps({"seal": {"hash": hash_, "key_id": self.key_id, "seq": seq,
                                      "signature": signature}}) + b"\n"


def checkpoint_event(
    signer: CheckpointSigner, seq: int, hash_: str, at: float, writer: str = ""
) -> dict[str, Any]:
    """The (unsealed) checkpoint event signing event ``seq`` of ``writer``'s chain whose hash
    is ``hash_``."""
    checkpoint: dict[str, Any] = {"seq": seq, "hash": hash_, "key_id": signer.key_id,
                                  "signature": signer.sign(seq, hash_, writer)}
    if writer:
        checkpoint["writer"] = writer
    return {
        "@timestamp": timestamp(at),
        "event": {"kind": "event", "category": ["configuration"],
                  "action": CHECKPOINT_ACTION, "outcome": "success"},
        "guardian": {"checkpoint": checkpoint},
    }


@dataclass(frozen=True, slots=True)
class SignedPoint:
    """What a checkpoint vouches for: event ``seq`` of ``writer``'s chain had hash ``hash``."""

    seq: int
    hash: str
    writer: str = ""


class CheckpointVerifier:
    """Checks checkpoint signatures against the auditors' trusted public keys."""

    def __init__(self, public_keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id(k): k for k in public_keys}

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def raw_keys(self) -> list[bytes]:
        """The trusted public keys as raw bytes (to hand to other processes)."""
        return [k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                for k in self._keys.values()]

    def check_seal(self, raw: bytes) -> SignedPoint | None:
        """The point a journal seal line vouches for, or ``None`` if it does not verify."""
        try:
            seal = orjson.loads(raw)["seal"]
            point = SignedPoint(int(seal["seq"]), str(seal["hash"]))
            key = self._keys.get(str(seal["key_id"]))
            signature = base64.b64decode(str(seal["signature"]), validate=True)
            if key is None:
                return None
            key.verify(signature, seal_message(point.seq, point.hash))
        except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
            return None
        return point

    def check(self, event: Mapping[str, Any]) -> tuple[SignedPoint | None, str]:
        """The point a checkpoint event vouches for, or ``None`` and why it does not verify."""
        try:
            cp = event["guardian"]["checkpoint"]
            point = SignedPoint(int(cp["seq"]), str(cp["hash"]), str(cp.get("writer", "")))
            kid, signature = str(cp["key_id"]), base64.b64decode(str(cp["signature"]),
                                                                 validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            return None, "the checkpoint is malformed"
        key = self._keys.get(kid)
        if key is None:
            return None, (f"the checkpoint is signed with key {kid[:16]!r}, not a trusted key "
                          "(not in the trust file)")
        try:
            key.verify(signature, message(point.seq, point.hash, point.writer))
        except InvalidSignature:
            return None, "the checkpoint's signature does not verify"
        return point, ""


class Checkpointer:
    """When the journal owes a checkpoint: every ``every_events`` events or ``every_s`` seconds
    (only if something happened since the last one)."""

    def __init__(
        self, signer: CheckpointSigner, now: Callable[[], float], *, every_events: int,
        every_s: float, monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signer = signer
        self._now = now
        self._monotonic = monotonic
        self.every_events = every_events
        self.every_s = every_s
        self._last_at = monotonic()
        self.witness: Callable[[Mapping[str, Any]], None] | None = None
        """Told every checkpoint as it is signed (must not block: see :mod:`.witness`)."""

    def make_due(self) -> None:
        """Make the next time check due at once (an unsigned tail was found on opening)."""
        self._last_at = float("-inf")

    def due_by_count(self, since: int) -> bool:
        return since >= self.every_events

    def due_by_time(self, since: int) -> bool:
        return since > 0 and self._monotonic() - self._last_at >= self.every_s

    def event(self, seq: int, hash_: str, writer: str = "") -> dict[str, Any]:
        self._last_at = self._monotonic()
        event = checkpoint_event(self.signer, seq, hash_, self._now(), writer)
        if self.witness is not None:
            self.witness(event)
        return event
