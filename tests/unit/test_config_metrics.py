"""GUARDIAN_METRICS_ADDRESS: host:port only, and loopback only in demo mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from guardian.adapters.prometheus.metrics import parse_address
from support import demo_settings, real_settings


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.1:65536", ":9464", "a b:1",
                                     "127.0.0.1:94 64", "http://127.0.0.1:9464"])
def test_a_metrics_address_that_is_not_host_and_port_is_refused(
    tmp_path: Path, address: str
) -> None:
    with pytest.raises(ValidationError, match="metrics_address"):
        demo_settings(tmp_path, metrics_address=address)


def test_demo_mode_serves_metrics_on_loopback_only(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GUARDIAN_METRICS_ADDRESS"):
        demo_settings(tmp_path, metrics_address="0.0.0.0:9464")
    assert demo_settings(tmp_path, metrics_address="[::1]:9464").metrics_address == "[::1]:9464"
    assert real_settings(tmp_path, metrics_address="10.1.2.3:9464").metrics_address


@pytest.mark.parametrize(("address", "parsed"), [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:0", ("::1", 0)),
    ("localhost:80", ("localhost", 80))])
def test_an_address_is_split_into_host_and_port(address: str, parsed: tuple[str, int]) -> None:
    assert parse_address(address) == parsed
