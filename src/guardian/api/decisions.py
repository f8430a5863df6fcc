"""``POST /v1/decisions`` and ``POST /v1/decisions:batch``: the hot path.

Served by :mod:`guardian.api.decision_route` in front of the framework; the routes declared here
are the OpenAPI contract and the same behaviour through FastAPI (an app built without the
front route).

Bodies are validated straight from bytes (no intermediate ``dict``), decided on the event loop
(a decision is a few look-ups) while durability is awaited, never blocked on: the journal's
flusher thread fsyncs whole groups of decisions at once. Answers are rendered with orjson.
The endpoints take no FastAPI dependencies: resolving them cost more than a decision, so the
application key is checked inline (the same check as ``deps.require_application``).

The trail names the application its key proves (``service.name``) and which key
(``guardian.key_id``: the first 16 hex digits of the key's SHA-256, the digest the registries
keep); what the body claims about the client is recorded apart (``guardian.client``).

Each call is counted (decisions by outcome and deciding reason, the call's latency, a batch's
size) and each decision logged with its id: denies at ``info``, permits at ``debug`` (the trail
holds every decision; the log helps operators find a complaint's deny without a line per permit).
The log names no subject, customer or token: the decision id leads to the trail.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from guardian.api.deps import check_api_key
from guardian.api.errors import validation_response
from guardian.api.schemas import BatchBody, DecisionBody, RequestRules
from guardian.bootstrap import Guardian
from guardian.governance.api_keys import key_digest
from guardian.logging import debug_enabled, get_logger
from guardian.policy.definition import PolicyDefinition
from guardian.policy.model import Decision, DecisionRequest

log = get_logger("guardian.decisions")

router = APIRouter(prefix="/v1", tags=["decisions"])
_API_KEY_PARAMETER = {"name": "X-API-Key", "in": "header", "required": True,
                      "schema": {"type": "string"}, "description": "the application's API key"}


def _json(payload: object) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


class RulesCache:
    """The :class:`RequestRules` of the policy in force, rebuilt only when the policy changes."""

    def __init__(self, guardian: Guardian) -> None:
        self._guardian = guardian
        self._for: PolicyDefinition | None = None
        self._rules = RequestRules()

    def current(self) -> RequestRules:
        definition = self._guardian.pipeline.policy.definition
        if definition is not self._for:
            self._rules = RequestRules(
                customer_id_pattern=self._guardian.settings.governance.customer_id_pattern,
                bulk_purposes=frozenset(p.name for p in definition.purposes.values() if p.bulk))
            self._for = definition
        return self._rules


def _caller(request: Request) -> tuple[Guardian, str, str, RequestRules]:
    guardian: Guardian = request.app.state.guardian
    api_key = request.headers.get("x-api-key")
    application = check_api_key(guardian, api_key)
    assert api_key is not None  # check_api_key refused a missing key
    rules: RulesCache = request.app.state.request_rules
    return guardian, application, "sha256:" + key_digest(api_key)[:16], rules.current()


async def decided(
    guardian: Guardian, requests: Sequence[DecisionRequest], *, batch: bool
) -> list[Decision]:
    started = time.perf_counter()
    decisions = await guardian.pipeline.decide_many_async(requests)
    guardian.metrics.decided(decisions, time.perf_counter() - started, batch=batch)
    verbose = debug_enabled()
    for d in decisions:
        if d.permitted:
            if verbose:
                log.debug("decision", decision_id=d.decision_id, decision=d.outcome.value,
                          reason=d.reasons[0].code.value, application=requests[0].application,
                          audit_seq=d.audit.seq if d.audit is not None else None)
        else:
            log.info("decision", decision_id=d.decision_id, decision=d.outcome.value,
                     reasons=[r.code.value for r in d.reasons],
                     application=requests[0].application,
                     audit_seq=d.audit.seq if d.audit is not None else None)
    return decisions


@router.post(
    "/decisions",
    openapi_extra={"parameters": [_API_KEY_PARAMETER], "requestBody": {
        "required": True, "content": {
            "application/json": {"schema": DecisionBody.model_json_schema()}}}},
    summary="Decide one access request",
)
async def decide(request: Request) -> Response:
    guardian, application, key_id, rules = _caller(request)
    try:
        body = DecisionBody.model_validate_json(await request.body(), context=rules)
    except ValidationError as exc:
        return validation_response(request, exc.errors(include_url=False))
    decisions = await decided(guardian, (body.to_request(application, key_id),), batch=False)
    return _json(decisions[0].as_dict())


@router.post(
    "/decisions:batch",
    openapi_extra={"parameters": [_API_KEY_PARAMETER], "requestBody": {
        "required": True, "content": {
            "application/json": {"schema": BatchBody.model_json_schema()}}}},
    summary="Decide many access requests, answered in the same order",
)
async def decide_batch(request: Request) -> Response:
    guardian, application, key_id, rules = _caller(request)
    try:
        body = BatchBody.model_validate_json(await request.body(), context=rules)
    except ValidationError as exc:
        return validation_response(request, exc.errors(include_url=False))
    requests = [item.to_request(application, key_id) for item in body.requests]
    decisions = await decided(guardian, requests, batch=True)
    return _json({"decisions": [d.as_dict() for d in decisions]})
