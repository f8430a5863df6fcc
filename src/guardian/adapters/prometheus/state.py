"""State owned by other parts of Guardian, read when ``/v1/metrics`` is scraped.

The shipper's progress, lag and failures, the checkpoint witness's deliveries, the synced
directory's age and last outcome, and the periodic reports produced are kept by their owners
(plain counters under their own locks); this collector turns one snapshot of each into metric
families at scrape time, so nothing on their paths calls into prometheus_client. The names of
the audit metrics are the ones the hand-written exposition had.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from guardian.identity.directory_sync import DirectoryStatus
from guardian.journal.alarms import CODES

_SHIPPER_GAUGES = (
    ("guardian_audit_journal_last_seq", "journal_seq", "Last sequence number in the journal."),
    ("guardian_audit_shipped_seq", "shipped_seq", "Last sequence number the index acknowledged."),
    ("guardian_audit_ship_lag_events", "lag_events", "Events journalled but not yet indexed."),
    ("guardian_audit_ship_lag_seconds", "lag_seconds",
     "Age of the oldest event not yet indexed (0 when caught up)."),
    ("guardian_audit_journal_bytes", "journal_bytes", "Durable size of the local journal."),
)
_SHIPPER_COUNTERS = (
    ("guardian_audit_shipped_events", "shipped_total", "Events acknowledged by the index."),
    ("guardian_audit_ship_duplicates", "duplicates_total",
     "Events the index already held, identical (retries)."),
    ("guardian_audit_ship_batches", "batches_total", "Bulk requests sent."),
    ("guardian_audit_ship_failures", "failures_total",
     "Bulk requests that failed as a whole (index down, slow or refusing)."),
    ("guardian_audit_ship_retried_events", "retried_items_total",
     "Events the index asked to send again."),
    ("guardian_audit_journal_trims", "trims_total", "Times the journal was trimmed."),
    ("guardian_audit_journal_trimmed_bytes", "trimmed_bytes_total",
     "Bytes trimmed off the journal after acknowledgement."),
)
SHIPPER_STATES = ("starting", "idle", "shipping", "backing_off", "held", "stopped")
_WITNESS_COUNTERS = (
    ("guardian_audit_witness_delivered", "delivered_total",
     "Checkpoints the witness acknowledged."),
    ("guardian_audit_witness_dropped", "dropped_total",
     "Checkpoints dropped from a full witness queue (never delivered)."),
    ("guardian_audit_witness_failed_batches", "failed_batches_total",
     "Deliveries given up after every retry (their checkpoints never reached the witness)."),
    ("guardian_audit_witness_failed_attempts", "failed_attempts_total",
     "Delivery attempts that failed (retried)."),
)


@dataclass
class StateSources:
    """Where each part's snapshot comes from; ``None`` for a part not configured."""

    shipping: Callable[[], Mapping[str, Any]]
    """The shipper's :meth:`~guardian.journal.shipper.Shipper.stats`."""
    versions: Callable[[], tuple[str, str]]
    """Guardian's version and the version of the policy in force."""
    witness: Callable[[], Mapping[str, Any]] | None = None
    directory: Callable[[], DirectoryStatus] | None = None
    """The synced (LDAP) directory's status; ``None`` with the file directory."""
    reports: Callable[[], Mapping[str, int]] | None = None
    """Periodic reports produced, by trigger (``scheduled``, ``requested``)."""
    schedule: Callable[[], Mapping[str, int]] | None = None
    """The report schedule's checks and failures."""
    journal: Callable[[], tuple[Sequence[str], int]] | None = None
    """The journal's raised alarm codes and the lines it quarantined on opening."""


class StateCollector:
    """A prometheus_client collector over :class:`StateSources`."""

    def __init__(self, sources: StateSources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        s = self.sources
        version, policy_version = s.versions()
        info = GaugeMetricFamily("guardian_build_info", "Guardian's version and the version of "
                                 "the policy in force (always 1).",
                                 labels=("version", "policy_version"))
        info.add_metric((version, policy_version), 1.0)
        yield info
        yield from shipping_metrics(s.shipping())
        if s.journal is not None:
            yield from journal_metrics(*s.journal())
        if s.witness is not None:
            yield from witness_metrics(s.witness())
        if s.directory is not None:
            yield from directory_metrics(s.directory())
        if s.reports is not None:
            yield from report_metrics(s.reports(), s.schedule() if s.schedule else None)


def journal_metrics(raised: Sequence[str], quarantined_lines: int) -> Iterator[Metric]:
    alarm = GaugeMetricFamily(
        "guardian_audit_journal_alarm", "Journal alarms (1 when raised): replaced or unlinked "
        "while serving, chain gone backwards, tail quarantined on opening, unwritable.",
        labels=("code",))
    for code in CODES:
        alarm.add_metric((code,), 1.0 if code in raised else 0.0)
    yield alarm
    yield GaugeMetricFamily("guardian_audit_journal_quarantined_lines",
                            "Lines after the journal's last signature set aside on opening.",
                            value=float(quarantined_lines))


def shipping_metrics(stats: Mapping[str, Any]) -> Iterator[Metric]:
    for name, key, text in _SHIPPER_GAUGES:
        yield GaugeMetricFamily(name, text, value=float(stats[key]))
    for name, key, text in _SHIPPER_COUNTERS:
        yield CounterMetricFamily(name, text, value=float(stats[key]))
    yield GaugeMetricFamily(
        "guardian_audit_ship_conflicts",
        "Sequence numbers held by a different document in the index (tamper signals).",
        value=float(len(stats["conflicts"])))
    state = GaugeMetricFamily("guardian_audit_shipper_state",
                              "The shipper's state (1 for the current one).", labels=("state",))
    for name in SHIPPER_STATES:
        state.add_metric((name,), 1.0 if stats["state"] == name else 0.0)
    yield state
    yield _lag_histogram(stats["lag_histogram"])


def _lag_histogram(h: Mapping[str, Any]) -> Metric:
    cumulative, buckets = 0, []
    for bound, count in zip(h["buckets"], h["counts"], strict=False):
        cumulative += count
        buckets.append((repr(float(bound)), float(cumulative)))
    buckets.append(("+Inf", float(sum(h["counts"]))))
    return HistogramMetricFamily(
        "guardian_audit_ship_lag_event_seconds",
        "Seconds from an event's timestamp to the index's acknowledgement.",
        buckets=buckets, sum_value=float(h["sum"]))


def witness_metrics(stats: Mapping[str, Any]) -> Iterator[Metric]:
    yield GaugeMetricFamily("guardian_audit_witness_pending",
                            "Checkpoints waiting to be delivered to the witness.",
                            value=float(stats["pending"]))
    for name, key, text in _WITNESS_COUNTERS:
        yield CounterMetricFamily(name, text, value=float(stats[key]))
    yield GaugeMetricFamily("guardian_audit_witness_last_delivered_seq",
                            "Sequence number of the last checkpoint the witness acknowledged.",
                            value=float(stats["last_delivered_seq"] or 0))


def directory_metrics(status: DirectoryStatus) -> Iterator[Metric]:
    age = math.inf if status.age_s is None else float(status.age_s)
    yield GaugeMetricFamily(
        "guardian_directory_sync_age_seconds",
        "Age of the directory snapshot decisions use (+Inf: never read from its source).",
        value=age)
    yield GaugeMetricFamily(
        "guardian_directory_last_sync_success",
        "1 if the last sync attempt succeeded, 0 if it failed (the snapshot is kept).",
        value=0.0 if status.last_error else 1.0)
    yield GaugeMetricFamily(
        "guardian_directory_last_sync_timestamp_seconds",
        "When the snapshot in use was taken from the source (Unix time; 0: never).",
        value=float(status.last_sync_at or 0.0))
    yield GaugeMetricFamily("guardian_directory_users", "People in the directory snapshot.",
                            value=float(status.users))
    yield GaugeMetricFamily(
        "guardian_directory_stale",
        "1 when the snapshot is older than allowed: every decision denies directory_stale.",
        value=1.0 if status.stale else 0.0)


def report_metrics(
    produced: Mapping[str, int], schedule: Mapping[str, int] | None
) -> Iterator[Metric]:
    family = CounterMetricFamily("guardian_reports_produced",
                                 "Periodic audit reports produced, signed and archived.",
                                 labels=("trigger",))
    for trigger in ("scheduled", "requested"):
        family.add_metric((trigger,), float(produced.get(trigger, 0)))
    yield family
    if schedule is not None:
        yield CounterMetricFamily("guardian_report_schedule_checks",
                                  "Times the monthly schedule checked whether a report is due.",
                                  value=float(schedule["checks"]))
        yield CounterMetricFamily("guardian_report_schedule_failures",
                                  "Scheduled reports that failed (retried at the next check).",
                                  value=float(schedule["failures"]))
