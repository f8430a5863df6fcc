"""The in-process leader lock: one holder leads a name until it releases it or is collected."""

from __future__ import annotations

import gc
import uuid

from guardian.adapters.threads.process_leader import ProcessLeaderLock


def _name() -> str:
    return f"job-{uuid.uuid4().hex}"  # the table is process-wide: each test its own names


def test_one_holder_leads_a_name_and_the_other_follows() -> None:
    name, first, second = _name(), ProcessLeaderLock(), ProcessLeaderLock()

    assert first.try_acquire(name) and first.try_acquire(name)  # again: still the leader
    assert not second.try_acquire(name)
    assert first.held(name) and not second.held(name)


def test_releasing_hands_the_name_over_and_other_names_are_apart() -> None:
    name, other, first, second = _name(), _name(), ProcessLeaderLock(), ProcessLeaderLock()
    first.try_acquire(name)

    assert second.try_acquire(other)
    second.release(name)  # not its own: nothing happens
    assert first.held(name)
    first.release(name)
    assert not first.held(name) and second.try_acquire(name)


def test_a_holder_collected_without_releasing_frees_its_names() -> None:
    name = _name()
    ProcessLeaderLock().try_acquire(name)
    gc.collect()

    assert ProcessLeaderLock().try_acquire(name)
