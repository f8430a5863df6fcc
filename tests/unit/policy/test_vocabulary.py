"""The decision point's closed vocabularies: the identity words it re-exports are the identity
package's own, and every value is unique and written as the API shows it."""

from __future__ import annotations

import re

import guardian.identity.vocabulary as identity
import guardian.policy.vocabulary as vocabulary
from guardian.policy.vocabulary import Action, AdminRole, Outcome, ReasonCode


def test_the_re_exported_identity_words_are_the_same_classes() -> None:
    assert vocabulary.AuthMethod is identity.AuthMethod
    assert vocabulary.EmployeeType is identity.EmployeeType
    assert all(hasattr(vocabulary, name) for name in vocabulary.__all__)


def test_values_are_unique_lower_case_words() -> None:
    for enum in (Action, Outcome, ReasonCode):
        values = [member.value for member in enum]
        assert len(values) == len(set(values))
        assert all(re.fullmatch(r"[a-z_]+", v) for v in values), enum
    assert all(re.fullmatch(r"[a-z-]+", role.value) for role in AdminRole)
