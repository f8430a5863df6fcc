"""Verifying a whole trail (journal or index): the chain, its signed checkpoints, its ends.

Events are walked by sequence number. Each must hash to what it carries, chain to the one
before, come at its place, and, in an index, be stored under its own sequence number; each
checkpoint's signature must verify with a trusted key and vouch for the event just before it.
The first problem found is named: an event *modified*, *removed*, *inserted* or *reordered*,
a *checkpoint* replaced or forged, or the trail *truncated* (it ends before an event known to
exist: one a checkpoint in the checkpoint index vouches for, or one the shipper saw
acknowledged). The start of a trail may be missing (trimmed journal, retention in the index):
the chain is then anchored by its first checkpoint. In an index, such a start must be explained
by a journalled ``audit.retention_applied`` event kept in the trail whose removed range reaches
the event just before it; otherwise the missing events are a break (*removed*).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from guardian.audit.chain import GENESIS, recompute
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.records import CHECKPOINT_ACTION, is_checkpoint, is_seal_line
from guardian.audit.verdict import Break, ChainReport, KeyUse
from guardian.audit.writers import doc_id as doc_id_of
from guardian.audit.writers import label as writer_label
from guardian.audit.writers import writer_of

RETENTION_ACTION = "audit.retention_applied"
NOT_CHECKED = "checkpoint signatures were not checked against pinned public keys"

Item = tuple[str, str | None, bytes | None, Any]
"""(label for people, index document id or None, raw canonical bytes or None, event)."""


@dataclass(frozen=True, slots=True)
class Expectations:
    """What is known about the trail from elsewhere."""

    last_seq: int | None = None
    """The trail must reach this sequence number (a shipped or checkpointed event)."""
    last_source: str = ""
    points: Mapping[int, str] = field(default_factory=dict)
    """Hashes known for some sequence numbers (e.g. the last acknowledged event)."""
    point_sources: Mapping[int, str] = field(default_factory=dict)
    """Who knows each point (default: the shipper's acknowledgement), for the report."""
    head_checkpoint: bool = False
    """A trail not starting at event 1 must start with a checkpoint (a trimmed journal)."""
    retention_explains_start: bool = False
    """A trail not starting at event 1 must hold a retention event that removed the events
    before its start (an index: nothing else deletes from it)."""
    retained: tuple[tuple[int, str], ...] = ()
    """(last seq removed, date) of retention events of this chain journalled in *another*
    writer's chain (the leader's), read from the index; that chain is walked and checked too."""


class _Problem(Exception):
    def __init__(self, problem: Break, at: int, detail: str, doc_id: str | None = None) -> None:
        super().__init__(detail)
        self.problem, self.at, self.detail, self.doc_id = problem, at, detail, doc_id


class _Walk:
    def __init__(self, verifier: CheckpointVerifier | None, head_checkpoint: bool,
                 writer: str | None = None) -> None:
        self.verifier = verifier
        self.head_checkpoint = head_checkpoint
        self.writer = writer
        """Whose chain this is (``None``: the writer of its first event)."""
        self.expected: int | None = None
        self.prev_hash = GENESIS
        self.first_seq: int | None = None
        self.count = 0
        self.signed = 0
        self.last_checkpoint: int | None = None
        self.chain_checkpoints: dict[int, str] = {}
        self.last_doc: tuple[str | None, str] | None = None  # (doc id, hash) of the last event
        self.notes: list[str] = []
        self.start_hash: str | None = None
        self.key_uses: dict[str, KeyUse] = {}
        self.point_sources: Mapping[int, str] = {}
        self.first_checkpoint: int | None = None
        self.retention: list[tuple[int, str]] = []
        """(last seq removed, date) of every retention event walked."""

    def step(self, item: Item, following: Item | None, points: Mapping[int, str]) -> None:
        label, doc_id, raw, event = item
        try:
            g = event["guardian"]
            seq, stored, prev = int(g["seq"]), str(g["hash"]), str(g["prev_hash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _Problem(Break.UNREADABLE, self.expected or 0,
                           f"{label} is not an audit event ({exc})", doc_id) from exc
        if self.expected is None:
            self._start(seq, prev, event)
        assert self.expected is not None
        if writer_of(event) != self.writer:
            raise _Problem(Break.INSERTED, seq, f"event {seq} ({label}) names writer "
                           f"{writer_label(writer_of(event))} in the chain of writer "
                           f"{writer_label(self.writer or '')}", doc_id)
        if seq != self.expected:
            self._misplaced(seq, stored, label, doc_id, following)
        kind = event.get("event")
        checkpoint = type(kind) is dict and kind.get("action") == CHECKPOINT_ACTION
        if checkpoint:
            self._check_signature(event, seq, label, doc_id)
        try:
            intact = _hash_matches(raw, event, stored)
        except TypeError as exc:  # orjson cannot write it back, e.g. nested too deeply
            raise _Problem(Break.UNREADABLE, seq, f"{label} cannot be re-hashed ({exc})",
                           doc_id) from exc
        if not intact:
            self._modified(event, seq, label, doc_id, checkpoint)
        if prev != self.prev_hash:
            if self.count == 0:
                raise _Problem(Break.LINK_BROKEN, seq, f"event {seq} ({label}) does not chain "
                               "to the point the trail is expected to start from", doc_id)
            raise _Problem(Break.MODIFIED, seq - 1, f"event {seq - 1} was rewritten with a new "
                           f"hash: event {seq} ({label}) no longer chains to it",
                           self.last_doc[0] if self.last_doc else None)
        if doc_id is not None and doc_id != doc_id_of(self.writer or "", seq):
            raise _Problem(Break.REORDERED, seq, f"event {seq} is stored as document "
                           f"{doc_id!r}: documents were swapped or moved", doc_id)
        if seq in points and points[seq] != stored:
            who = self.point_sources.get(seq, "was acknowledged")
            raise _Problem(Break.MODIFIED, seq, f"event {seq} ({label}) is not the event that "
                           f"{who} with that number: it was rewritten", doc_id)
        if checkpoint:
            self.chain_checkpoints[seq] = stored
            self.last_checkpoint = seq
            if self.first_checkpoint is None:
                self.first_checkpoint = seq
        elif type(kind) is dict and kind.get("action") == RETENTION_ACTION:
            self._note_retention(event)
        self.prev_hash, self.expected = stored, seq + 1
        self.last_doc = (doc_id, stored)
        self.count += 1

    def _start(self, seq: int, prev: str, event: Any) -> None:
        if self.writer is None:
            self.writer = writer_of(event)
        self.first_seq = self.expected = seq
        self.start_hash = prev
        if seq == 1:
            self.prev_hash = GENESIS
            return
        if self.head_checkpoint and not is_checkpoint(event):
            raise _Problem(Break.REMOVED, 1, f"the journal starts at event {seq} without a "
                           "checkpoint: its head was cut (a trim always leaves a checkpoint)")
        # A trimmed journal or an index past its retention: anchored by the first checkpoint.
        self.prev_hash = prev
        self.notes.append(f"the trail starts at event {seq}: earlier events were trimmed or "
                          "deleted by retention; it is anchored by its first checkpoint")

    def _note_retention(self, event: Any) -> None:
        removed = event.get("guardian", {}).get("retention")
        try:
            last = int(removed["last_seq"])
        except (KeyError, TypeError, ValueError):
            return  # not a removal this verifier can account for
        if str(removed.get("writer", "")) != (self.writer or ""):
            return  # it removed events of another writer's chain
        self.retention.append((last, str(event.get("@timestamp", ""))[:10]))

    def _misplaced(
        self, seq: int, stored: str, label: str, doc_id: str | None, following: Item | None
    ) -> None:
        assert self.expected is not None
        expected = self.expected
        if seq == expected - 1 and self.last_doc is not None:
            # A second event with the number just verified: the one the next event chains to
            # is the journalled one; the other was inserted.
            nxt = _prev_of(following)
            intruder = self.last_doc[0] if nxt == stored else doc_id
            raise _Problem(Break.INSERTED, seq, f"two events carry seq {seq}: document "
                           f"{intruder!r} was inserted", intruder)
        if seq < expected:
            raise _Problem(Break.REORDERED, seq, f"event {seq} ({label}) comes after event "
                           f"{expected - 1}", doc_id)
        nxt_seq = _seq_of(following)
        if nxt_seq is not None and nxt_seq < seq:
            raise _Problem(Break.REORDERED, expected, f"event {expected} comes after event "
                           f"{seq} ({label})", doc_id)
        missing = f"event {expected}" if seq == expected + 1 else \
            f"events {expected}..{seq - 1}"
        raise _Problem(Break.REMOVED, expected, f"{missing} removed: the trail goes from "
                       f"event {expected - 1} to event {seq} ({label})", doc_id)

    def _note_key(self, event: Any, seq: int) -> None:
        cp = event.get("guardian", {}).get("checkpoint")
        kid = str(cp.get("key_id", "?")) if type(cp) is dict else "?"
        had = self.key_uses.get(kid)
        self.key_uses[kid] = KeyUse(kid, 1, seq, seq) if had is None else \
            KeyUse(kid, had.checkpoints + 1, had.first_seq, seq)

    def _check_signature(self, event: Any, seq: int, label: str, doc_id: str | None) -> None:
        self._note_key(event, seq)
        if self.verifier is None:
            return
        point, why = self.verifier.check(event)
        if point is None:
            raise _Problem(Break.CHECKPOINT_INVALID, seq, f"checkpoint {seq} ({label}): {why}",
                           doc_id)
        if point.writer != self.writer:
            raise _Problem(Break.CHECKPOINT_INVALID, seq, f"checkpoint {seq} ({label}) signs "
                           f"the chain of writer {writer_label(point.writer)}, not of "
                           f"{writer_label(self.writer or '')}: it was moved", doc_id)
        if (point.seq, point.hash) != (seq - 1, self.prev_hash):
            since = (self.last_checkpoint or (self.first_seq or 1) - 1) + 1
            raise _Problem(Break.CHECKPOINT_INVALID, seq, f"checkpoint {seq} ({label}) does "
                           f"not vouch for the chain before it: events {since}..{seq - 1} were "
                           "rewritten, or the checkpoint was moved", doc_id)
        self.signed += 1

    def _modified(
        self, event: Any, seq: int, label: str, doc_id: str | None, checkpoint: bool
    ) -> None:
        for other in (seq - 1, seq + 1, seq - 2, seq + 2):
            moved = {**event, "guardian": {**event["guardian"], "seq": other}}
            if other > 0 and recompute(moved) == event["guardian"]["hash"]:
                raise _Problem(Break.REORDERED, seq, f"the event at seq {seq} ({label}) was "
                               f"journalled as event {other}: events were reordered", doc_id)
        if checkpoint:
            raise _Problem(Break.CHECKPOINT_INVALID, seq, f"checkpoint {seq} ({label}) was "
                           "altered: it does not match its hash", doc_id)
        raise _Problem(Break.MODIFIED, seq, f"event {seq} ({label}) was modified: it does "
                       "not match its hash", doc_id)


def _hash_matches(raw: bytes | None, event: Any, stored: str) -> bool:
    if raw is not None:
        # The journal's bytes are canonical: without their own hash they are what was hashed
        # (anything else falls through to recomputing the canonical form).
        # Sound without checking that the needle is unique: the digest only matches if the
        # bytes without it are exactly the sealed ones, so the needle is the only insertion.
        needle = b'"hash":"' + stored.encode("ascii", "replace") + b'",'
        at = raw.find(needle)
        if at != -1 and hashlib.sha256(raw[:at] + raw[at + len(needle):]).hexdigest() == stored:
            return True
    return bool(recompute(event) == stored)


def _plain_step(walk: _Walk, item: Item, points: Mapping[int, str], sha256: Any) -> bool:
    """The common case, inline: a journal event in its place, not a checkpoint, intact.
    Anything else (or any doubt) returns ``False`` for :meth:`_Walk.step` to judge."""
    _label, doc_id, raw, event = item
    if raw is None or doc_id is not None or type(event) is not dict:
        return False
    g = event.get("guardian")
    if type(g) is not dict:
        return False
    seq, stored = g.get("seq"), g.get("hash")
    if (seq is None or seq != walk.expected or type(stored) is not str
            or g.get("prev_hash") != walk.prev_hash or seq in points or "checkpoint" in g
            or "retention" in g or g.get("writer", "") != walk.writer
            or event.get("event", {}).get("action") in (CHECKPOINT_ACTION, RETENTION_ACTION)):
        return False
    needle = b'"hash":"' + stored.encode("ascii", "replace") + b'",'
    at = raw.find(needle)
    if at == -1 or sha256(raw[:at] + raw[at + len(needle):]).hexdigest() != stored:
        return False
    walk.prev_hash, walk.expected = stored, seq + 1
    walk.last_doc = (None, stored)
    walk.count += 1
    return True


def _seq_of(item: Item | None) -> int | None:
    try:
        return None if item is None else int(item[3]["guardian"]["seq"])
    except (KeyError, TypeError, ValueError):
        return None


def _prev_of(item: Item | None) -> str | None:
    try:
        return None if item is None else str(item[3]["guardian"]["prev_hash"])
    except (KeyError, TypeError):
        return None


def verify_trail(
    items: Iterable[Item], *, verifier: CheckpointVerifier | None,
    expect: Expectations = Expectations(),
    checkpoint_docs: Callable[[], Iterable[tuple[str, Any]]] | None = None,
    settle: Callable[[], None] | None = None,
    progress: Callable[[int], None] | None = None, writer: str | None = None,
) -> ChainReport:
    """Walk ``items`` (in sequence order, one writer's chain) and report the first problem,
    or what was verified. ``writer``: whose chain it is (default: the first event's writer).

    ``checkpoint_docs`` reads the checkpoint index (after the walk, so that checkpoints the
    shipper added meanwhile are there); each must verify and match the chain. A checkpoint of
    the chain missing from it is looked for once more after ``settle()`` (an index that makes
    new documents visible only after a refresh), before it is called removed.
    """
    walk = _Walk(verifier, expect.head_checkpoint, writer)
    walk.point_sources = expect.point_sources
    iterator = iter(items)
    points = expect.points
    sha256 = hashlib.sha256
    try:
        current = next(iterator, None)
        while current is not None:
            following = next(iterator, None)
            if not _plain_step(walk, current, points, sha256):
                walk.step(current, following, points)
            current = following
            if progress is not None and walk.count % 10_000 == 0:
                progress(walk.count)
        _check_ends(walk, expect)
        if checkpoint_docs is not None:
            missing = _check_copies(walk, checkpoint_docs())
            if missing and settle is not None:
                settle()
                missing = _check_copies(walk, checkpoint_docs())
            if missing:
                raise _Problem(Break.CHECKPOINT_INVALID, missing[0], f"checkpoint {missing[0]} "
                               "is in the chain but missing from the checkpoint index (removed)")
    except _Problem as p:
        return _report(walk, p.problem, p.at, p.detail, p.doc_id)
    return _report(walk)


def _check_start(walk: _Walk, retained: Iterable[tuple[int, str]] = ()) -> None:
    """A trail starting after event 1 in an index: retention must have removed the rest."""
    first = walk.first_seq
    if first is None or first == 1:
        return
    covering = [day for last, day in (*walk.retention, *retained) if last >= first - 1]
    if not covering:
        missing = "event 1" if first == 2 else f"events 1..{first - 1}"
        raise _Problem(Break.REMOVED, 1, f"{missing} removed: the trail starts at event "
                       f"{first} and no journalled retention event explains the gap")
    walk.notes[:] = [n for n in walk.notes if not n.startswith("the trail starts at event")]
    anchor = walk.first_checkpoint if walk.first_checkpoint is not None else first
    walk.notes.insert(0, f"verified from checkpoint seq {anchor} (earlier events removed by "
                      f"retention on {covering[-1]})")


def _check_ends(walk: _Walk, expect: Expectations) -> None:
    if expect.retention_explains_start:
        _check_start(walk, expect.retained)
    last = None if walk.expected is None else walk.expected - 1
    if expect.last_seq is not None and (last or 0) < expect.last_seq:
        raise _Problem(Break.TRUNCATED, (last or 0) + 1, f"the trail ends at event {last or 0} "
                       f"but {expect.last_source or 'a source'} knows event {expect.last_seq}")


def _check_copies(walk: _Walk, docs: Iterable[tuple[str, Any]]) -> list[int]:
    """Check every copy; return the chain's checkpoints that have none."""
    last = None if walk.expected is None else walk.expected - 1
    seen: set[int] = set()
    for doc_id, event in docs:
        try:
            seq, stored = int(event["guardian"]["seq"]), str(event["guardian"]["hash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _Problem(Break.CHECKPOINT_INVALID, 0, f"checkpoint document {doc_id!r} is "
                           "not a checkpoint", doc_id) from exc
        if walk.verifier is not None and walk.verifier.check(event)[0] is None:
            raise _Problem(Break.CHECKPOINT_INVALID, seq, f"checkpoint document {doc_id!r}: "
                           f"{walk.verifier.check(event)[1]} (replaced)", doc_id)
        if last is None or seq > last:
            raise _Problem(Break.TRUNCATED, (last or 0) + 1, f"checkpoint {seq} exists but the "
                           f"trail ends at event {last or 0}: its tail was cut", doc_id)
        if walk.first_seq is not None and seq < walk.first_seq:
            continue  # its events were trimmed or deleted by retention
        if walk.chain_checkpoints.get(seq) != stored or doc_id != doc_id_of(walk.writer or "",
                                                                            seq):
            raise _Problem(Break.CHECKPOINT_INVALID, seq, f"checkpoint document {doc_id!r} "
                           f"is not the checkpoint the chain holds at {seq} (replaced)", doc_id)
        seen.add(seq)
    return sorted(set(walk.chain_checkpoints) - seen)


def _report(
    walk: _Walk, problem: Break | None = None, at: int | None = None, detail: str = "",
    doc_id: str | None = None,
) -> ChainReport:
    last = None if walk.expected is None or walk.count == 0 else walk.expected - 1
    notes = list(walk.notes)
    if walk.verifier is None:
        notes.append(NOT_CHECKED)
    elif problem is None and last is not None and walk.last_checkpoint != last:
        unsigned = last - (walk.last_checkpoint or (walk.first_seq or 1) - 1)
        notes.append(f"{unsigned} event(s) after the last checkpoint are not signed yet")
    return ChainReport(walk.count, walk.first_seq, last, walk.prev_hash, at, problem, detail,
                       walk.signed, walk.last_checkpoint, doc_id, tuple(notes), walk.start_hash,
                       tuple(walk.key_uses.values()), walk.writer or "")


def journal_file_items(
    path: Path, chunk: int = 4 * 1024 * 1024, *, start: int = 0, end: int | None = None
) -> Iterator[Item]:
    """Items of a journal file (bytes ``start..end``, on line boundaries), read in large
    chunks: the fast way to walk a big journal."""
    number = 0
    with path.open("rb") as handle:
        handle.seek(start)
        left = (end if end is not None else path.stat().st_size) - start
        rest = b""
        while left > 0 and (block := handle.read(min(chunk, left))):
            left -= len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                number += 1
                if is_seal_line(line):
                    continue  # a group commit's seal, not an event
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    event = None
                yield f"line {number}", None, line, event
        if rest:
            yield f"line {number + 1}", None, rest, None

