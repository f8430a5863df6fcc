"""``mask`` obligations applied to dicts, nested data and pydantic models; unknown ones refused."""

from __future__ import annotations

import types

import pytest
from pydantic import BaseModel

import guardian_client
from guardian_client import Decision, Obligation, ObligationError, apply_obligations, mask

MASK_IBAN = Decision(decision="permit", obligations=(Obligation(type="mask", fields=("iban",)),))


class Account(BaseModel):
    iban: str
    bank: str


class Billing(BaseModel):
    customer_id: str
    iban: str
    accounts: list[Account] = []


def test_a_dict_gets_its_masked_field_replaced_and_is_not_changed_in_place() -> None:
    data = {"customer_id": "C-1", "iban": "GB33BUKB", "plan": "fibre"}
    masked = apply_obligations(data, MASK_IBAN)
    assert masked == {"customer_id": "C-1", "iban": "***", "plan": "fibre"}
    assert data["iban"] == "GB33BUKB"


def test_nested_and_listed_fields_are_masked_too() -> None:
    data = [{"billing": {"iban": "x", "bank": "y"}}, ({"iban": "z"},)]
    assert apply_obligations(data, MASK_IBAN) == [{"billing": {"iban": "***", "bank": "y"}},
                                                  ({"iban": "***"},)]


def test_a_pydantic_model_is_copied_with_its_fields_masked() -> None:
    billing = Billing(customer_id="C-1", iban="GB33", accounts=[Account(iban="DE89", bank="B")])
    masked = apply_obligations(billing, MASK_IBAN)
    assert isinstance(masked, Billing)
    assert masked.iban == "***" and masked.accounts[0].iban == "***"
    assert masked.accounts[0].bank == "B" and billing.iban == "GB33"


def test_no_obligation_leaves_the_value_as_it_is() -> None:
    value = {"iban": "GB33"}
    assert apply_obligations(value, Decision(decision="permit")) is value


def test_an_unknown_obligation_type_is_refused_not_ignored() -> None:
    decision = Decision(decision="permit", obligations=(Obligation(type="watermark"),))
    with pytest.raises(ObligationError, match="watermark"):
        apply_obligations({"iban": "x"}, decision)


def test_a_value_it_cannot_look_into_is_refused_when_fields_must_be_masked() -> None:
    class Opaque:
        iban = "GB33"

    with pytest.raises(ObligationError, match="Opaque"):
        mask({"wrapped": Opaque()}, ["iban"])


def test_the_replacement_can_be_chosen() -> None:
    assert mask({"iban": "x"}, ["iban"], replacement=None) == {"iban": None}


def test_the_public_api_is_what_all_says() -> None:
    public = [n for n in dir(guardian_client) if not n.startswith("_") and n != "annotations"
              and not isinstance(getattr(guardian_client, n), types.ModuleType)]
    assert sorted(guardian_client.__all__) == sorted(public)
    for name in guardian_client.__all__:
        assert getattr(guardian_client, name) is not None
