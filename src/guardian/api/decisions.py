"""``POST /v1/decisions`` and ``POST /v1/decisions:batch``: the hot path.

Bodies are validated straight from bytes (no intermediate ``dict``), decided on the event loop
(a decision is a few look-ups) while durability is awaited, never blocked on: the journal's
flusher thread fsyncs whole groups of decisions at once. Answers are rendered with orjson.
The endpoints take no FastAPI dependencies: resolving them cost more than a decision, so the
application key is checked inline (the same check as ``deps.require_application``).

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

from guardian.api.deps import application_of
from guardian.api.errors import validation_response
from guardian.api.schemas import BatchBody, DecisionBody
from guardian.bootstrap import Guardian
from guardian.logging import debug_enabled, get_logger
from guardian.policy.model import Decision, DecisionRequest

log = get_logger("guardian.decisions")

router = APIRouter(prefix="/v1", tags=["decisions"])
_API_KEY_PARAMETER = {"name": "X-API-Key", "in": "header", "required": True,
                      "schema": {"type": "string"}, "description": "the application's API key"}


def _json(payload: object) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


async def _decided(
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
    guardian, application = application_of(request)
    try:
        body = DecisionBody.model_validate_json(await request.body())
    except ValidationError as exc:
        return validation_response(request, exc.errors(include_url=False))
    decisions = await _decided(guardian, (body.to_request(application),), batch=False)
    return _json(decisions[0].as_dict())


@router.post(
    "/decisions:batch",
    openapi_extra={"parameters": [_API_KEY_PARAMETER], "requestBody": {
        "required": True, "content": {
            "application/json": {"schema": BatchBody.model_json_schema()}}}},
    summary="Decide many access requests, answered in the same order",
)
async def decide_batch(request: Request) -> Response:
    guardian, application = application_of(request)
    try:
        body = BatchBody.model_validate_json(await request.body())
    except ValidationError as exc:
        return validation_response(request, exc.errors(include_url=False))
    requests = [item.to_request(application) for item in body.requests]
    decisions = await _decided(guardian, requests, batch=True)
    return _json({"decisions": [d.as_dict() for d in decisions]})
