"""ULIDs: 26 Crockford base32 characters whose first ten are the creation time, so they sort by
time; unique without coordination."""

from __future__ import annotations

import re

from guardian.ids import new_ulid

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _time_ms(ulid: str) -> int:
    value = 0
    for ch in ulid[:10]:
        value = value * 32 + CROCKFORD.index(ch)
    return value


def test_a_ulid_is_26_crockford_characters_starting_with_its_time() -> None:
    ulid = new_ulid(1_790_000_000.123)

    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", ulid)
    assert _time_ms(ulid) == 1_790_000_000_123


def test_ulids_sort_by_creation_time_and_never_repeat() -> None:
    earlier = [new_ulid(1_790_000_000.0) for _ in range(500)]
    later = new_ulid(1_790_000_000.002)

    assert len(set(earlier)) == 500
    assert all(e < later for e in earlier)


def test_a_forked_process_does_not_repeat_its_parents_identifiers() -> None:
    import os

    new_ulid()  # the parent's pool now holds bytes it has not handed out yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the identifiers it would hand out next
        os.write(write, ",".join(new_ulid(1.0) for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = set(os.read(read, 1 << 16).decode().split(","))
    os.close(read)
    parent = {new_ulid(1.0) for _ in range(50)}

    assert len(child) == 50
    assert not child & parent
