"""The embedded change feed: two processes (two engines) on one SQLite store hear each other's
changes, not their own, in order; in the background within a second; old rows pruned."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from guardian.adapters.sql.changes_table import SqliteChangeFeed
from guardian.adapters.sql.store import SqlStore, changes, make_engine
from guardian.changes import Change, ChangeKind


def _feeds(tmp_path: Path) -> tuple[SqliteChangeFeed, SqliteChangeFeed]:
    url = "sqlite:///" + str(tmp_path / "s.db")
    SqlStore(make_engine(url)).create_schema()
    one, two = SqliteChangeFeed(make_engine(url)), SqliteChangeFeed(make_engine(url))
    one.mark()
    two.mark()
    return one, two


def test_a_change_published_by_one_process_is_delivered_to_the_other_only(
        tmp_path: Path) -> None:
    one, two = _feeds(tmp_path)
    heard: dict[str, list[Change]] = {"one": [], "two": []}
    for name, feed in (("one", one), ("two", two)):
        for kind in ChangeKind:
            feed.subscribe(kind, heard[name].append)

    one.publish(ChangeKind.GRANT, "g1")
    one.publish(ChangeKind.KEY, "k1")
    two.publish(ChangeKind.CONSENT, "C-1")

    assert (one.poll(), two.poll()) == (1, 2)
    assert heard["two"] == [Change(ChangeKind.GRANT, "g1"), Change(ChangeKind.KEY, "k1")]
    assert heard["one"] == [Change(ChangeKind.CONSENT, "C-1")]
    assert (one.poll(), two.poll()) == (0, 0)  # each change once


def test_changes_stored_before_the_mark_are_not_delivered(tmp_path: Path) -> None:
    one, _ = _feeds(tmp_path)
    one.publish(ChangeKind.GRANT, "old")
    late = SqliteChangeFeed(one.engine)
    late.mark()
    heard: list[Change] = []
    late.subscribe(ChangeKind.GRANT, heard.append)
    assert late.poll() == 0 and heard == []


def test_the_background_thread_delivers_within_a_second(tmp_path: Path) -> None:
    one, two = _feeds(tmp_path)
    heard: list[float] = []
    two.subscribe(ChangeKind.REVOCATION, lambda _c: heard.append(time.monotonic()))
    two.start()
    try:
        published = time.monotonic()
        one.publish(ChangeKind.REVOCATION, "bob")
        deadline = published + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        two.stop()
    assert heard and heard[0] - published <= 1.0


def test_the_publisher_prunes_rows_past_their_keep_time(tmp_path: Path) -> None:
    one, _ = _feeds(tmp_path)
    short = SqliteChangeFeed(one.engine, keep_s=0.05)
    short.publish(ChangeKind.GRANT, "g1")
    time.sleep(0.1)
    short._pruned_at = 0.0
    short.publish(ChangeKind.GRANT, "g2")
    with one.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(changes)).scalar() == 1


def test_a_store_that_cannot_be_read_is_logged_not_raised(tmp_path: Path) -> None:
    feed = SqliteChangeFeed(make_engine("sqlite:///" + str(tmp_path / "nothing" / "x.db")))
    feed.publish(ChangeKind.GRANT, "g1")  # no table, no folder: logged
    assert feed.poll() == 0
