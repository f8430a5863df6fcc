"""Recovery codes: ten distinct codes of the unambiguous alphabet, typed back in any case or
spacing, stored only as a keyed digest."""

from __future__ import annotations

import re

from guardian.identity import recovery_codes


def test_ten_distinct_codes_in_four_groups_of_the_unambiguous_alphabet() -> None:
    codes = recovery_codes.generate()
    letters = re.escape(recovery_codes.ALPHABET)

    assert len(codes) == len(set(codes)) == recovery_codes.COUNT
    assert all(re.fullmatch(rf"([{letters}]{{4}}-){{3}}[{letters}]{{4}}", c) for c in codes)
    assert not set("01ilo") & set("".join(codes))


def test_case_spaces_and_dashes_do_not_matter_when_typed_back() -> None:
    key = b"k" * 32

    assert recovery_codes.normalise(" ABCD-efgh\tjkmn pqrs") == "abcdefghjkmnpqrs"
    assert recovery_codes.digest(key, "ABCD EFGH-JKMN-PQRS") == recovery_codes.digest(
        key, "abcd-efgh-jkmn-pqrs")


def test_the_digest_depends_on_the_key_and_does_not_show_the_code() -> None:
    code = recovery_codes.generate(1)[0]
    one, other = recovery_codes.digest(b"a" * 32, code), recovery_codes.digest(b"b" * 32, code)

    assert one != other
    assert recovery_codes.normalise(code) not in one
    assert re.fullmatch(r"[0-9a-f]{64}", one)
