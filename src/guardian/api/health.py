"""``GET /v1/health``: is this replica able to decide, on which policy, how far is its journal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from guardian import __version__
from guardian.api.deps import GuardianDep

router = APIRouter(prefix="/v1", tags=["operations"])


@router.get("/health", summary="Liveness and the state of the decision path")
async def health(guardian: GuardianDep) -> dict[str, Any]:
    journal = guardian.journal
    return {
        "status": "ok",
        "version": __version__,
        "policy_version": guardian.policy.definition.version,
        "demo": guardian.settings.demo,
        "journal": {"last_seq": getattr(journal, "last_seq", None)},
    }
