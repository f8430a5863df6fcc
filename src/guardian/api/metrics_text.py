"""Prometheus text exposition of the audit shipper's progress, lag and failures, and of the
journal's alarms (replaced while serving, chain gone backwards, tail quarantined), and the
checkpoint witness's deliveries (when one is configured)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardian.audit.journal_alarms import CODES

_GAUGES = (
    ("guardian_audit_journal_last_seq", "journal_seq", "Last sequence number in the journal."),
    ("guardian_audit_shipped_seq", "shipped_seq", "Last sequence number the index acknowledged."),
    ("guardian_audit_ship_lag_events", "lag_events", "Events journalled but not yet indexed."),
    ("guardian_audit_ship_lag_seconds", "lag_seconds",
     "Age of the oldest event not yet indexed (0 when caught up)."),
    ("guardian_audit_journal_bytes", "journal_bytes", "Durable size of the local journal."),
)
_COUNTERS = (
    ("guardian_audit_shipped_events_total", "shipped_total", "Events acknowledged by the index."),
    ("guardian_audit_ship_duplicates_total", "duplicates_total",
     "Events the index already held, identical (retries)."),
    ("guardian_audit_ship_batches_total", "batches_total", "Bulk requests sent."),
    ("guardian_audit_ship_failures_total", "failures_total",
     "Bulk requests that failed as a whole (index down, slow or refusing)."),
    ("guardian_audit_ship_retried_events_total", "retried_items_total",
     "Events the index asked to send again."),
    ("guardian_audit_journal_trims_total", "trims_total", "Times the journal was trimmed."),
    ("guardian_audit_journal_trimmed_bytes_total", "trimmed_bytes_total",
     "Bytes trimmed off the journal after acknowledgement."),
)
_STATES = ("starting", "idle", "shipping", "backing_off", "held", "stopped")
_WITNESS = (
    ("guardian_audit_witness_pending", "pending", "gauge",
     "Checkpoints waiting to be delivered to the witness."),
    ("guardian_audit_witness_delivered_total", "delivered_total", "counter",
     "Checkpoints the witness acknowledged."),
    ("guardian_audit_witness_dropped_total", "dropped_total", "counter",
     "Checkpoints dropped from a full witness queue (never delivered)."),
    ("guardian_audit_witness_failed_batches_total", "failed_batches_total", "counter",
     "Deliveries given up after every retry (their checkpoints never reached the witness)."),
    ("guardian_audit_witness_failed_attempts_total", "failed_attempts_total", "counter",
     "Delivery attempts that failed (retried)."),
)


def metrics_text(stats: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for name, key, help_text in _GAUGES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {stats[key]}"]
    for name, key, help_text in _COUNTERS:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter", f"{name} {stats[key]}"]
    name = "guardian_audit_ship_conflicts"
    lines += [f"# HELP {name} Sequence numbers held by a different document in the index "
              "(tamper signals).", f"# TYPE {name} gauge", f"{name} {len(stats['conflicts'])}"]
    name = "guardian_audit_shipper_state"
    lines += [f"# HELP {name} The shipper's state (1 for the current one).",
              f"# TYPE {name} gauge"]
    lines += [f'{name}{{state="{s}"}} {1 if stats["state"] == s else 0}' for s in _STATES]
    lines += _histogram(stats["lag_histogram"])
    witness = stats.get("witness")
    if witness is not None:
        for name, key, kind, help_text in _WITNESS:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}",
                      f"{name} {witness[key]}"]
    lines += _journal(stats)
    return "\n".join(lines) + "\n"


def _journal(stats: Mapping[str, Any]) -> list[str]:
    raised = set(stats.get("journal_alarms", ()))
    name = "guardian_audit_journal_alarm"
    lines = [f"# HELP {name} Journal alarms (1 when raised): replaced or unlinked while "
             "serving, chain gone backwards, tail quarantined on opening, unwritable.",
             f"# TYPE {name} gauge"]
    lines += [f'{name}{{code="{code}"}} {1 if code in raised else 0}' for code in CODES]
    name = "guardian_audit_journal_quarantined_lines"
    lines += [f"# HELP {name} Lines set aside after the journal's last signature on opening.",
              f"# TYPE {name} gauge", f"{name} {int(stats.get('quarantined_lines', 0))}"]
    return lines


def _histogram(h: Mapping[str, Any]) -> list[str]:
    name = "guardian_audit_ship_lag_event_seconds"
    lines = [f"# HELP {name} Seconds from an event's timestamp to the index's acknowledgement.",
             f"# TYPE {name} histogram"]
    cumulative = 0
    for bound, count in zip(h["buckets"], h["counts"], strict=False):
        cumulative += count
        lines.append(f'{name}_bucket{{le="{bound}"}} {cumulative}')
    total = sum(h["counts"])
    lines += [f'{name}_bucket{{le="+Inf"}} {total}', f"{name}_sum {h['sum']}",
              f"{name}_count {total}"]
    return lines
