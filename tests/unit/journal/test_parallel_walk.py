"""A big journal is verified on every core: the same verdict as one walk, and any problem is
still named precisely (by walking again in one process)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from audit_support import decision, journal, signer, verifier_for
from guardian.audit.checkpoints import CheckpointSigner
from guardian.audit.verdict import Break
from guardian.audit.verifier import Expectations
from guardian.journal import verification
from guardian.journal.parallel_walk import slices, verify_in_parallel


@pytest.fixture
def trail(tmp_path: Path):  # type: ignore[no-untyped-def]
    key = signer()
    j = journal(tmp_path / "j.jsonl", key, every=50)
    j.append_many([decision(n) for n in range(400)])
    for n in range(100):
        j.append(decision(400 + n))
    j.close()
    return tmp_path / "j.jsonl", key


def test_slices_cut_on_line_boundaries_and_cover_the_file(trail) -> None:  # type: ignore[no-untyped-def]
    path, _ = trail
    parts = slices(path, 4)
    data = path.read_bytes()
    assert parts[0][0] == 0 and parts[-1][1] == len(data) and len(parts) == 4
    assert all(data[start - 1:start] == b"\n" for start, _ in parts[1:])


def test_the_parallel_verdict_is_the_single_walks(trail) -> None:  # type: ignore[no-untyped-def]
    path, key = trail
    single = verification.verify_journal(path, verifier_for(key), workers=1)
    parallel = verify_in_parallel(path, verifier_for(key).raw_keys(),
                                  Expectations(head_checkpoint=True), workers=3)

    assert single.ok and parallel is not None
    assert (parallel.events, parallel.first_seq, parallel.last_seq, parallel.last_hash,
            parallel.checkpoints, parallel.last_checkpoint_seq) == (
        single.events, single.first_seq, single.last_seq, single.last_hash,
        single.checkpoints, single.last_checkpoint_seq)
    assert parallel.keys == single.keys  # the key summary, summed across the slices
    [use] = single.keys
    assert (use.key_id, use.checkpoints) == (key.key_id, single.checkpoints)


def test_a_problem_found_in_parallel_is_named_by_one_precise_walk(
    trail: tuple[Path, CheckpointSigner], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, key = trail
    lines = path.read_bytes().splitlines(keepends=True)
    event = orjson.loads(lines[300])
    event["user"]["id"] = "mallory"
    lines[300] = orjson.dumps(event, option=orjson.OPT_SORT_KEYS) + b"\n"
    path.write_bytes(b"".join(lines))
    monkeypatch.setattr(verification, "PARALLEL_BYTES", 0)

    assert verify_in_parallel(path, verifier_for(key).raw_keys(), Expectations(),
                              workers=3) is None
    report = verification.verify_journal(path, verifier_for(key), workers=3)
    assert (report.problem, report.broken_at) == (Break.MODIFIED, event["guardian"]["seq"])
