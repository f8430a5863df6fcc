"""``GET /v1/health``: is this replica able to decide, on which policy, how far is its journal.

Strangers learn only ``{"status": "ok" | "degraded"}``, enough for a load balancer. The
details (paths, errors, where the signing key comes from, directory and shipping state) are
for monitoring holding ``GUARDIAN_METRICS_TOKEN`` and for a signed-in security officer, auditor
or DPO (:func:`monitoring_caller`), as is ``/v1/metrics``.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header

from guardian import __version__
from guardian.api.deps import GuardianDep
from guardian.bootstrap import Guardian
from guardian.clock import iso_utc_or_none
from guardian.errors import InvalidToken
from guardian.identity.authorisation import authorise
from guardian.journal.writer import FileJournal
from guardian.policy.vocabulary import AdminRole

router = APIRouter(prefix="/v1", tags=["operations"])
MONITORING_ROLES = frozenset({AdminRole.SECURITY_OFFICER, AdminRole.AUDITOR, AdminRole.DPO})


def monitoring_caller(guardian: Guardian, authorization: str | None) -> str | None:
    """Who may see operational details: ``"monitoring"`` for the metrics token, the uid of an
    officer, auditor or DPO with a fresh second factor; ``None`` without credentials. Wrong
    credentials are refused (401/403), not silently treated as none."""
    if not authorization:
        return None
    if not authorization.startswith("Bearer "):
        raise InvalidToken("expected `Authorization: Bearer <token>`")
    token = authorization.removeprefix("Bearer ").strip()
    configured = guardian.settings.metrics_token
    if configured is not None and hmac.compare_digest(
            token.encode(), configured.get_secret_value().encode()):
        return "monitoring"
    claims = guardian.sessions.verify(token)
    caller = authorise(guardian.directory.get(claims.sub), claims, MONITORING_ROLES,
                       guardian.clock.now(), guardian.settings.identity.admin_mfa_max_age_s)
    return caller.uid


@router.get("/health", summary="Liveness; the state of the decision path for monitoring")
async def health(
    guardian: GuardianDep, authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    allowed = monitoring_caller(guardian, authorization) is not None
    details = health_details(guardian)
    return details if allowed else {"status": details["status"]}


def health_details(guardian: Guardian) -> dict[str, Any]:
    """Everything health knows; ``status`` is ``degraded`` if any part is."""
    directory = directory_health(guardian)
    audit = audit_health(guardian)
    journal = journal_health(guardian)
    degraded = (directory["stale"] or directory.get("degraded") or audit["degraded"]
                or journal["status"] != "ok")
    return {
        "status": "degraded" if degraded else "ok",
        "version": __version__,
        "policy_version": guardian.policy.definition.version,
        "demo": guardian.settings.demo,
        "journal": journal,
        "directory": directory,
        "audit": audit,
    }


def journal_health(guardian: Guardian) -> dict[str, Any]:
    """The journal's end and its alarms: ``journal_replaced`` (unlinked or replaced while
    serving: every decision denies), ``chain_regressed`` (it ended before what the index
    acknowledged), ``tail_quarantined`` (lines after its last signature were set aside on
    opening), ``journal_unavailable`` (cannot be written)."""
    journal = guardian.journal
    if isinstance(journal, FileJournal):
        return journal.health()
    return {"last_seq": getattr(journal, "last_seq", None), "status": "ok", "alarms": [],
            "quarantine": None}


def audit_health(guardian: Guardian) -> dict[str, Any]:
    """The audit index, how far the shipper got (and how far behind it is), the signing key.

    ``degraded`` when the index refuses an event for good or holds a different document under
    a sequence number (a tamper signal), or the witness lost checkpoints (dropped from a full
    queue, or given up after every retry); an index that is merely down is retried and reported
    as lag. No network round trip.
    """
    index = guardian.audit.index.status()
    shipper = guardian.audit.shipper.stats()
    shipper.pop("lag_histogram", None)
    signer = guardian.audit.signer
    witness = guardian.audit.witness.stats() if guardian.audit.witness is not None else None
    return {
        "degraded": bool(shipper["held"] or shipper["conflicts"]
                         or (witness is not None and witness["degraded"])),
        "index": {"kind": index.kind, "target": index.target, "retention": index.retention},
        "shipper": shipper,
        "checkpoints": {
            "key_id": signer.key_id,
            "signing_key": "derived from the demo secret key (demo mode only)"
            if signer.source == "derived" else signer.source,
            "every_events": guardian.settings.audit.checkpoint_every_events,
            "every_s": guardian.settings.audit.checkpoint_every_s,
        },
        "witness": witness if witness is not None else {"target": None},
    }


def directory_health(guardian: Guardian) -> dict[str, Any]:
    """Where people come from and, for a synced directory, how old its snapshot is; a stale
    one makes every decision deny (``directory_stale``)."""
    synced = guardian.directory_sync
    if synced is None:
        # A file that changed but does not parse leaves the previous one serving: degraded.
        reload_error = getattr(guardian.directory, "reload_error", None)
        return {"source": "file", "users": sum(1 for _ in guardian.directory.principals()),
                "age_s": None, "stale": False, "reload_error": reload_error,
                "degraded": reload_error is not None}
    status = synced.status(guardian.clock.now())
    return {
        "source": "ldap",
        "url": status.source,
        "users": status.users,
        "last_sync_at": iso_utc_or_none(status.last_sync_at, "milliseconds"),
        "age_s": status.age_s,
        "max_age_s": synced.max_age_s,
        "last_attempt_at": iso_utc_or_none(status.last_attempt_at, "milliseconds"),
        "last_error": status.last_error,
        "stale": status.stale,
    }


