"""The phone fast paths give exactly what the general phonenumbers path gives, on a large fuzzed corpus.

``normalize.e164_from_digits(..., fast=True)`` skips ``phonenumbers.parse`` for international numbers that
need no stripping and for the commonest North American national shapes. Here both paths run on 120,000
generated inputs (deterministic seed): well-formed and malformed numbers of every length around the plans'
lengths, every leading digit, calling codes of every size, with and without ``+``, ``1``, ``0``, ``00``,
``011``, for US/CA and other regions, plus fuzzed raw cells through ``read_phone``. Any difference fails
with the first few inputs that differ.
"""

from __future__ import annotations

import random

from target_snapchat_capi import normalize as n

SEED = 20261201
# North American regions weigh most: that is where the fast path applies.
REGIONS = ("US", "US", "US", "CA", "CA", None, None, "GB", "MX", "AU", "PR", "BS", "JM", "DE", "FR", "IN", "JP", "BR")
PREFIXES = ("", "", "", "1", "0", "00", "011", "001", "01", "+1", "0011", "52", "44")
#: calling codes of every size and kind: NANP, Europe, Asia, Italy's leading zero, non-geographic 800/808/882
CALLING_CODES = (
    "1",
    "7",
    "20",
    "27",
    "33",
    "34",
    "39",
    "44",
    "49",
    "52",
    "55",
    "61",
    "81",
    "86",
    "91",
    "351",
    "353",
    "358",
    "380",
    "420",
    "800",
    "808",
    "870",
    "882",
    "971",
    "972",
    "998",
    "999",
    "42",
    "0",
)
SEPARATORS = ("", " ", "-", ".", "(", ")", " ", "/", "\u00a0", "\u200e", "x", "ext.", "#", "+", "'", '"')


def _digits(rng: random.Random) -> str:
    length = rng.choice((7, 9, 10, 10, 10, 10, 11, 11, 12, 13, 14, rng.randint(1, 18)))
    first = rng.choice("0123456789" + "23456789" * 3)
    return first + "".join(rng.choice("0123456789") for _ in range(length - 1))


def generated_digit_cases(count: int, rng: random.Random) -> list[tuple[bool, str, str | None, str | None]]:
    cases = []
    for _ in range(count):
        plus = rng.random() < 0.4
        if plus and rng.random() < 0.7:
            digits = rng.choice(CALLING_CODES) + _digits(rng)
        else:
            digits = rng.choice(PREFIXES).lstrip("+") + _digits(rng)
        cases.append((plus, digits, rng.choice(REGIONS), rng.choice(REGIONS)))
    return cases


def fuzzed_raw_cells(count: int, rng: random.Random) -> list[tuple[str, str | None, str | None]]:
    cells = []
    for _ in range(count):
        digits = rng.choice(PREFIXES) + _digits(rng)
        pieces = []
        for ch in digits:
            pieces.append(ch)
            if rng.random() < 0.15:
                pieces.append(rng.choice(SEPARATORS))
        if rng.random() < 0.3:
            pieces.insert(0, "+" + rng.choice(CALLING_CODES) + rng.choice(("", " ", "-", ") ")))
        if rng.random() < 0.1:
            pieces.insert(0, rng.choice(("tel:", "Phone: ", "(", "[", '"')))
        if rng.random() < 0.05:
            pieces.append(rng.choice((" x12", " ext. 7", " #77", " (mobile)", "FLOWERS")))
        cells.append(("".join(pieces), rng.choice(REGIONS), rng.choice(REGIONS)))
    return cells


def test_fast_path_agrees_with_phonenumbers_on_every_generated_input(monkeypatch) -> None:
    answered = []
    national, international = n._fast_nanp, n._fast_international

    def counting_national(digits: str, region: str | None) -> tuple[str | None, n.Reason] | None:
        result = national(digits, region)
        answered.append(result is not None)
        return result

    def counting_international(digits: str) -> tuple[str | None, n.Reason] | None:
        result = international(digits)
        answered.append(result is not None)
        return result

    monkeypatch.setattr(n, "_fast_nanp", counting_national)
    monkeypatch.setattr(n, "_fast_international", counting_international)
    cases = generated_digit_cases(80_000, random.Random(SEED))
    differences = [
        case for case in cases if n.e164_from_digits(*case, fast=True) != n.e164_from_digits(*case, fast=False)
    ]
    assert not differences, differences[:5]
    assert sum(answered) > 15_000  # the corpus does exercise the fast paths


def test_fast_path_agrees_on_fuzzed_raw_cells() -> None:
    rng = random.Random(SEED + 1)
    cells = fuzzed_raw_cells(40_000, rng)
    differences = [cell for cell in cells if n.read_phone(*cell, fast=True) != n.read_phone(*cell, fast=False)]
    assert not differences, differences[:5]


def test_fast_path_would_be_caught_if_it_disagreed(monkeypatch) -> None:
    """The comparison can fail: a fast path that forces a "1" on numbers already carrying it is caught."""

    def sloppy(digits: str, region: str | None) -> tuple[str | None, n.Reason] | None:
        if region in ("US", "CA") and len(digits) in (10, 11):
            return "1" + digits, n.Reason.HASHED  # the contract's known bug: 1 + 14155550100
        return None

    monkeypatch.setattr(n, "_fast_nanp", sloppy)
    cases = generated_digit_cases(20_000, random.Random(SEED))
    assert any(n.e164_from_digits(*case, fast=True) != n.e164_from_digits(*case, fast=False) for case in cases)


def test_an_international_fast_path_that_ignores_the_national_prefix_would_be_caught(monkeypatch) -> None:
    """ "+44 0 20…": phonenumbers strips the trunk 0; a fast path that kept it would differ, and is caught."""

    def sloppy(digits: str) -> tuple[str | None, n.Reason] | None:
        return (digits, n.Reason.HASHED) if digits.startswith("440") and len(digits) == 13 else None

    monkeypatch.setattr(n, "_fast_international", sloppy)
    assert n.e164_from_digits(True, "4402079460958", None, None, fast=True) != n.e164_from_digits(
        True, "4402079460958", None, None, fast=False
    )
