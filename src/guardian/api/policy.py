"""The policy in force: ``GET /v1/policy`` (its version) and ``POST /v1/policy`` (apply one).

``POST`` is for security officers with a fresh second factor, like every change of who may do
what. The body carries the text of the three policy files and of the policy's test cases; the
server lints, tests and compiles them, journals ``policy.changed``, stores the version and puts
it in force at once (other workers and replicas within a second, through the change feed). A
broken policy is refused — ``policy_lint_error`` or ``policy_tests_failed`` (422), every finding
in ``error.message`` — and the policy in force stays; the version already in force is
``policy_unchanged`` (409), one applied meanwhile by someone else ``policy_conflict`` (409).
``GET`` answers any security officer, auditor or DPO.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends
from pydantic import Field

from guardian.api.deps import GuardianDep, SecurityOfficerDep, require_roles
from guardian.api.schemas import StrictBody
from guardian.bootstrap import Guardian
from guardian.errors import ConfigurationError
from guardian.identity.authorisation import Caller
from guardian.policy.apply import PolicyService
from guardian.policy.vocabulary import AdminRole

router = APIRouter(prefix="/v1/policy", tags=["governance"])
_readers = require_roles(AdminRole.SECURITY_OFFICER, AdminRole.AUDITOR, AdminRole.DPO)
ReaderDep = Annotated[Caller, Depends(_readers)]
Text = Annotated[str, Field(max_length=4_000_000)]


class PolicyBody(StrictBody):
    files: Annotated[dict[str, Text], Field(min_length=1, max_length=3)]
    """``model.conf``, ``policy.csv`` and ``guardian.yaml``, each as text."""
    tests: Annotated[dict[str, Text], Field(max_length=200)] = {}
    """The policy's test cases (``name.yaml`` → text); every case must pass."""


def _service(guardian: Guardian) -> PolicyService:
    if guardian.policies is None:
        raise ConfigurationError("this server does not manage policy versions")
    return guardian.policies


def render_in_force(guardian: Guardian) -> dict[str, Any]:
    version = _service(guardian).in_force()
    definition = guardian.pipeline.policy.definition
    return {**version.summary(), "rules": len(definition.rules),
            "roles": len(definition.roles), "purposes": len(definition.purposes)}


@router.get("", summary="The policy in force: its version, who applied it and when")
async def get_policy(guardian: GuardianDep, caller: ReaderDep) -> dict[str, Any]:
    return render_in_force(guardian)


@router.post("", summary="Apply a policy: lint, test, compile, journal, swap it in everywhere")
async def apply_policy(body: PolicyBody, guardian: GuardianDep, officer: SecurityOfficerDep
                       ) -> dict[str, Any]:
    service = _service(guardian)
    applied = await anyio.to_thread.run_sync(service.apply, officer.uid, body.files, body.tests)
    return {**applied.version.summary(), "diff": applied.diff.as_dict()}
