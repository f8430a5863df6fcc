"""Customer ids: NFC-normalised, then matched in full against the organisation's pattern;
look-alikes, invisible characters and overlong ids refused, never recorded under a second name."""

from __future__ import annotations

import re

import pytest

from guardian.errors import InvalidCustomerId
from guardian.governance.customer_ids import canonical_customer_id


def test_a_plain_id_is_kept_as_it_is() -> None:
    assert canonical_customer_id("C-1001") == "C-1001"
    assert canonical_customer_id("a.b:c_d-9") == "a.b:c_d-9"


@pytest.mark.parametrize("raw", ["C-1001\u200b", "C\u20111001", "С-1001", "", " C-1001",
                                 "C" * 129, "C/1001"])
def test_look_alikes_invisible_characters_and_overlong_ids_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCustomerId, match="does not match"):
        canonical_customer_id(raw)


def test_the_organisations_pattern_replaces_the_default_and_ids_are_nfc() -> None:
    pattern = re.compile(r"^[a-zé]+$")

    assert canonical_customer_id("caf\u0065\u0301", pattern) == "caf\u00e9"
    with pytest.raises(InvalidCustomerId):
        canonical_customer_id("C-1001", pattern)
