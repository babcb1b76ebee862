"""docs/api.md section 4 and code generation: alphabet, length, uniqueness, custom-code rules."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.codes import ALPHABET, is_possible_code
from shared.links.codes import RESERVED_CODES, custom_code_problem, generate_code


def test_alphabet_is_base62() -> None:
    assert len(ALPHABET) == 62
    assert set(ALPHABET) == set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@pytest.mark.parametrize("length", [6, 8, 12, 20])
def test_generated_codes_have_the_configured_length_and_alphabet(length: int) -> None:
    for _ in range(200):
        code = generate_code(length)
        assert len(code) == length
        assert set(code) <= set(ALPHABET)
        assert is_possible_code(code)
        assert custom_code_problem(code) is None or len(code) < 3


def test_a_million_codes_without_a_duplicate() -> None:
    # At length 10 (62^10 codes) the chance of any duplicate among 10^6 is about 6e-7, so a
    # duplicate here means the generator is broken. At the default length 8 the expected number
    # of duplicates among 10^6 is 0.002; the conditional write turns such a collision into a retry.
    codes = {generate_code(10) for _ in range(1_000_000)}
    assert len(codes) == 1_000_000


def test_every_symbol_is_drawn_uniformly() -> None:
    counts = Counter("".join(generate_code(8) for _ in range(20_000)))
    expected = 20_000 * 8 / 62
    assert set(counts) == set(ALPHABET)
    # Chi-square with 61 degrees of freedom: a fair generator exceeds 150 with probability
    # 1.9e-9, while modulo bias (`byte % 62`) gives about 1,100 at this sample size.
    chi_square = sum((count - expected) ** 2 / expected for count in counts.values())
    assert chi_square < 150


@pytest.mark.parametrize("code", ["abc", "my-link", "A_b-9", "x" * 20, "Promo2026", "___"])
def test_acceptable_custom_codes(code: str) -> None:
    assert custom_code_problem(code) is None


@pytest.mark.parametrize(
    "code", ["ab", "x" * 21, "has space", "dot.dot", "slash/", "ümlaut", "", "emoji😀", "a+b"]
)
def test_malformed_custom_codes(code: str) -> None:
    assert custom_code_problem(code) == "format"


# docs/api.md section 4's reserved words, written out here, not read from the code under test.
SPEC_RESERVED = (
    "urls",
    "create",
    "health",
    "api",
    "admin",
    "static",
    "assets",
    "docs",
    "login",
    "logout",
    "stats",
)


@pytest.mark.parametrize("code", [*SPEC_RESERVED, "URLS", "Admin", "HeAlTh"])
def test_reserved_custom_codes_in_any_case(code: str) -> None:
    assert custom_code_problem(code) == "reserved"


def test_reserved_list_holds_the_specs_words() -> None:
    assert set(SPEC_RESERVED) <= RESERVED_CODES


# The first path segments of the routes docs/api.md sections 8-10 add: a link made today under
# one of them would be shadowed by the route later ("any code the routing needs", section 4).
# (`/me` needs no entry: a custom code has at least 3 characters.)
PLANNED_ROUTES = ("tokens", "imports", "openapi", "app", "_squrl")


@pytest.mark.parametrize("code", [*PLANNED_ROUTES, "App", "TOKENS"])
def test_codes_of_planned_routes_are_reserved(code: str) -> None:
    assert custom_code_problem(code) == "reserved"


@settings(deadline=None)
@given(st.text(max_size=30))
def test_possible_code_is_exactly_the_storable_shape(code: str) -> None:
    storable = 1 <= len(code) <= 20 and all(
        c.isascii() and (c.isalnum() or c in "_-") for c in code
    )
    assert is_possible_code(code) == storable
