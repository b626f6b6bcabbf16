"""The header corpus: real export header sets (POS and CRM) and the mapping each must resolve to.

Each file in corpus/headers/ is one export: its headers in file order, the fields they must resolve to by
auto-detection alone, and the headers deliberately left unmapped (ambiguous), which the start-of-run
description must name. Where each header set comes from is in the file's ``evidence``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from target_snapchat_capi.mapping import resolve_mapping

CORPUS = Path(__file__).parent / "corpus" / "headers"
FILES = sorted(CORPUS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def schema_of(headers: list[str]) -> dict[str, Any]:
    """What tap-offline-csv declares for a CSV: every column a nullable string, in file order."""
    return {header: {"type": ["string", "null"]} for header in headers}


def test_the_corpus_covers_the_exports_users_have() -> None:
    sources = " ".join(load(path)["source"] for path in FILES)
    for vendor in ("Shopify", "Square", "Lightspeed", "Toast", "Clover", "Salesforce", "HubSpot", "Zoho",
                   "Dynamics 365", "Freshsales", "LeadSquared", "Bitrix24"):  # fmt: skip
        assert vendor in sources


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_export_resolves_to_its_documented_mapping(path: Path) -> None:
    case = load(path)
    assert len(set(case["headers"])) == len(case["headers"]), "a header set has no duplicate names"
    resolved = resolve_mapping({}, schema_of(case["headers"]))
    assert resolved.fields == case["expected"]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_ambiguous_headers_stay_unmapped_and_are_named_in_the_description(path: Path) -> None:
    case = load(path)
    resolved = resolve_mapping({}, schema_of(case["headers"]))
    description = resolved.describe()
    for header in case["unmapped_ambiguous"]:
        assert header not in resolved.fields.values()
        assert repr(header) in description
    if not case["unmapped_ambiguous"]:
        assert "left unmapped" not in description


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_explicit_mapping_still_wins_over_what_an_export_implies(path: Path) -> None:
    case = load(path)
    first, last = case["headers"][0], case["headers"][-1]
    resolved = resolve_mapping({"external_id": first, "event_tag": last, "value": None}, schema_of(case["headers"]))
    assert resolved.fields["external_id"] == first
    assert resolved.fields["event_tag"] == last
    assert "value" not in resolved.fields
    assert list(resolved.fields.values()).count(first) == 1
