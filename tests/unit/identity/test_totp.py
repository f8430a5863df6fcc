"""TOTP: a code matches its time step within one step of drift, and nothing else matches."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guardian.identity.totp import STEP_S, code_at, matching_timestep

SECRET = "M52WC4TENFQW4LLEMVWW6LLBNRUWGZI"  # demo alice: base32("guardian-demo-alice")
NOW = 1_790_000_010.0
STEP = int(NOW // STEP_S)


def test_the_code_of_the_current_step_matches_that_step() -> None:
    assert matching_timestep(SECRET, code_at(SECRET, NOW), NOW) == STEP


def test_a_code_from_any_instant_in_the_step_matches() -> None:
    start = STEP * STEP_S

    assert matching_timestep(SECRET, code_at(SECRET, start), NOW) == STEP
    assert matching_timestep(SECRET, code_at(SECRET, start + STEP_S - 0.001), NOW) == STEP


@pytest.mark.parametrize("steps", [-1, 1])
def test_a_code_one_step_off_matches_its_own_step(steps: int) -> None:
    code = code_at(SECRET, NOW + steps * STEP_S)

    assert matching_timestep(SECRET, code, NOW) == STEP + steps


@pytest.mark.parametrize("steps", [-2, 2, -10])
def test_a_code_two_or_more_steps_off_is_refused(steps: int) -> None:
    code = code_at(SECRET, NOW + steps * STEP_S)
    assert code not in {code_at(SECRET, NOW + d * STEP_S) for d in (-1, 0, 1)}  # no collision

    assert matching_timestep(SECRET, code, NOW) is None


def test_a_code_of_another_secret_is_refused() -> None:
    other = code_at("M52WC4TENFQW4LLEMVWW6LLCN5RA", NOW)  # demo bob
    assert other not in {code_at(SECRET, NOW + d * STEP_S) for d in (-1, 0, 1)}

    assert matching_timestep(SECRET, other, NOW) is None


def test_codes_are_six_ascii_digits() -> None:
    code = code_at(SECRET, NOW)

    assert len(code) == 6
    assert code.isascii()
    assert code.isdigit()


@pytest.mark.parametrize("transform", [
    lambda c: c[:5], lambda c: c + "0", lambda c: "0" + c, lambda c: c[:5] + "a",
    lambda c: " " + c[:5], lambda c: c[:5] + "\n", lambda c: "",
    lambda c: c.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
    lambda c: c.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
])
def test_a_code_not_made_of_exactly_six_ascii_digits_is_refused(
    transform: Callable[[str], str],
) -> None:
    assert matching_timestep(SECRET, transform(code_at(SECRET, NOW)), NOW) is None
