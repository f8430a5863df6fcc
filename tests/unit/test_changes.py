"""The change feed's vocabulary and dispatch: a handler that fails does not stop the others,
a resync reaches every kind, a kind this version does not know is ignored."""

from __future__ import annotations

from guardian.changes import MAX_KEY, Change, ChangeKind, LocalChanges, Subscribers, parse


def test_every_handler_of_the_kind_runs_even_if_one_raises() -> None:
    subscribers = Subscribers()
    heard: list[Change] = []

    def broken(_change: Change) -> None:
        raise RuntimeError("boom")

    subscribers.subscribe(ChangeKind.GRANT, broken)
    subscribers.subscribe(ChangeKind.GRANT, heard.append)
    subscribers.subscribe(ChangeKind.KEY, heard.append)
    subscribers.deliver(Change(ChangeKind.GRANT, "g1"))

    assert heard == [Change(ChangeKind.GRANT, "g1")]


def test_a_resync_reaches_every_subscribed_kind_with_an_empty_key() -> None:
    subscribers = Subscribers()
    heard: list[Change] = []
    for kind in (ChangeKind.GRANT, ChangeKind.CONSENT):
        subscribers.subscribe(kind, heard.append)
    subscribers.deliver(Change(ChangeKind.RESYNC, ""))
    assert heard == [Change(ChangeKind.GRANT, ""), Change(ChangeKind.CONSENT, "")]


def test_unknown_kinds_and_resyncs_from_the_wire_are_ignored_and_keys_capped() -> None:
    assert parse("policy-v9", "x") is None
    assert parse("resync", "") is None
    assert parse("grant", "g" * 500) == Change(ChangeKind.GRANT, "g" * MAX_KEY)


def test_the_local_feed_keeps_what_was_published() -> None:
    feed = LocalChanges()
    feed.publish(ChangeKind.KEY, "k1")
    assert feed.published == [Change(ChangeKind.KEY, "k1")]
