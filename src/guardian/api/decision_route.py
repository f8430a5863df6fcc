"""``POST /v1/decisions`` and ``POST /v1/decisions:batch`` served in front of the framework.

Profiled under load (``bench/vs_opa.py --profile``, see docs/benchmarks.md), a single decision
spent about a fifth of the event loop's time deciding and journalling and most of the rest in
the layers around it: FastAPI's and Starlette's routing, exception and telemetry middleware,
request and response objects, two ASGI middlewares of ours. :class:`GuardianAPI` therefore
answers the two decision endpoints itself, as one plain ASGI callable, and hands every other
request (and every other method on these paths) to FastAPI, whose route declarations in
:mod:`guardian.api.decisions` stay the OpenAPI contract.

The behaviour is the framework's, step for step and in the same order: a request id (the
caller's if sane, echoed in ``X-Request-ID`` and bound to every log line), the body read
within the size limit (413), duplicate keys refused (422 ``duplicate_key``), the application
key checked (401/403), the body validated straight from bytes (422 with the same codes), the
decisions made and journalled, and any Guardian error mapped by ``api/errors.py``'s table. The
``request`` line of each request is logged at ``debug`` only.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from guardian.api.decisions import RulesCache, decided
from guardian.api.deps import key_holder
from guardian.api.errors import error_body, status_of, validation_refusal
from guardian.api.limits import checked_body, duplicate_refusal
from guardian.api.request_ids import HEADER, RequestLog
from guardian.api.schemas import BatchBody, DecisionBody
from guardian.bootstrap import Guardian
from guardian.errors import GuardianError
from guardian.governance.api_keys import key_digest
from guardian.governance.model import Scope as KeyScope
from guardian.logging import get_logger

log = get_logger("guardian.api")

SINGLE = "/v1/decisions"
BATCH = "/v1/decisions:batch"
_JSON = (b"content-type", b"application/json")


class DecisionRoute:
    """The two decision endpoints as one ASGI callable (see module)."""

    def __init__(self, guardian: Guardian, rules: RulesCache, max_bytes: int) -> None:
        self.guardian = guardian
        self.rules = rules
        self.max_bytes = max_bytes

    @staticmethod
    def serves(scope: Scope) -> bool:
        return (scope["type"] == "http" and scope["path"] in (SINGLE, BATCH)
                and scope["method"] == "POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api_key = raw_id = None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                api_key = value if api_key is None else api_key
            elif name == HEADER:
                raw_id = value if raw_id is None else raw_id
        with RequestLog("POST", scope["path"], raw_id, status=0) as entry:
            request_id = entry.id.encode("ascii")
            body, refusal = await checked_body(scope, receive, self.max_bytes)
            if refusal is None and body is not None:
                entry.status, payload = await self._answer(scope["path"], body, api_key)
                await send({"type": "http.response.start", "status": entry.status, "headers": [
                    _JSON, (b"content-length", str(len(payload)).encode("ascii")),
                    (HEADER, request_id)]})
                await send({"type": "http.response.body", "body": payload})
            elif refusal is not None:
                entry.status = refusal.status_code
                await _send_with_id(refusal, request_id, scope, receive, send)

    async def answer_body(self, path: str, body: bytes,
                          raw_key: bytes | None) -> tuple[int, bytes]:
        """The status and JSON body of the answer to a whole body already read within the size
        limit (the connection protocol's own path, :mod:`guardian.api.server`); never raises."""
        refusal = duplicate_refusal(body, path) if body else None
        if refusal is not None:
            return refusal.status_code, bytes(refusal.body)
        return await self._answer(path, body, raw_key)

    async def _answer(self, path: str, body: bytes, raw_key: bytes | None) -> tuple[int, bytes]:
        """The status and JSON body of the answer; never raises."""
        try:
            return 200, await self._decide(path, body, raw_key)
        except _Refused as refused:
            return refused.response.status_code, bytes(refused.response.body)
        except GuardianError as exc:
            status = status_of(exc)
            log.info("request refused", path=path, code=exc.code, status=status)
            return status, error_body(exc.code, exc.message)
        except Exception as exc:  # noqa: BLE001 - the framework's last resort, here
            log.error("unexpected error", path=path, error=type(exc).__name__)
            return 500, error_body("internal_error", "internal error")

    async def _decide(self, path: str, body: bytes, raw_key: bytes | None) -> bytes:
        guardian = self.guardian
        api_key = raw_key.decode("latin-1") if raw_key is not None else None
        digest = key_digest(api_key) if api_key else None
        application = key_holder(guardian, api_key, KeyScope.DECIDE, digest).application
        assert digest is not None  # key_holder refused a missing key
        key_id = "sha256:" + digest[:16]
        rules = self.rules.current()
        try:
            if path == SINGLE:
                one = DecisionBody.model_validate_json(body, context=rules)
                decisions = await decided(guardian, (one.to_request(application, key_id),),
                                          batch=False)
                return orjson.dumps(decisions[0].as_dict())
            many = BatchBody.model_validate_json(body, context=rules)
        except ValidationError as exc:
            raise _Refused(validation_refusal(path, exc.errors(include_url=False))) from None
        requests = [item.to_request(application, key_id) for item in many.requests]
        decisions = await decided(guardian, requests, batch=True)
        return orjson.dumps({"decisions": [d.as_dict() for d in decisions]})


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _send_with_id(response: Response, request_id: bytes, scope: Scope, receive: Receive,
                        send: Send) -> None:
    async def with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()),
                                              (HEADER, request_id)]}
        await send(message)

    await response(scope, receive, with_id)


class GuardianAPI(FastAPI):
    """FastAPI with the decision endpoints answered first by :attr:`decision_route`."""

    decision_route: DecisionRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.decision_route
        if route is not None and route.serves(scope):
            await route(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

