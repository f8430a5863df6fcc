"""schemathesis over every operation of ``/openapi.json``, in process (ASGI), as the demo
application (its API key) and as two signed-in people: ivan (security officer) and judy
(auditor). Each generated request, valid or not, must get no server error and, for every status
the document describes, an answer that matches its schema. Derandomised, so a failure repeats.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from guardian.api import create_app
from guardian.bootstrap import build
from guardian.clock import ManualClock
from support import API_KEY, Signer, real_settings

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One Guardian on non-demo settings (documents served), and who calls it."""
    clock = ManualClock(start=1_800_000_000.0)
    guardian = build(real_settings(tmp_path_factory.mktemp("openapi"), api_docs=True),
                     clock=clock, prepare=True)
    app = create_app(guardian)
    with TestClient(app, raise_server_exceptions=False) as client:
        signer = Signer(client, clock)
        callers = {
            "application": {"X-API-Key": API_KEY},
            "ivan": {"Authorization": f"Bearer {signer.token('ivan')}"},
            "judy": {"Authorization": f"Bearer {signer.token('judy')}"},
        }
        yield {"app": app, "callers": callers}
    guardian.close()


def _callers(schema: Any, operation: Any, callers: dict[str, dict[str, str]]
             ) -> dict[str, dict[str, str]]:
    """Everyone for an operation that checks credentials (refusals are answers too); a public
    one reads none, so one anonymous call says all (sign-in costs a password hash)."""
    security = schema.raw_schema["paths"][operation.path][operation.method.lower()]["security"]
    return callers if security else {"anonymous": {}}


def _fuzz(operation: Any, mode: GenerationMode, callers: dict[str, dict[str, str]]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=20, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        for headers in callers.values():
            case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_every_operation_answers_as_documented(served: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served["app"])
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, _callers(schema, operation, served["callers"]))
            except Unsatisfiable:
                pass  # nothing to break: an operation without parameters nor body
            except Exception as exc:  # noqa: BLE001 - every operation's failure is reported
                failures.append(f"{operation.label} ({mode.value}): {exc}")

    assert len(operations) >= 26
    assert not failures, "\n\n".join(failures)
