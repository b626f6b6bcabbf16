"""Issue 8.2: a blank or null id (event_id, order_id or key property) never makes two different rows one event."""

from __future__ import annotations

import collections

import pytest
from target_snapchat_capi.events import Event

from tests.target.test_events import NOW, PURCHASE_COLUMNS, make_builder, purchase_row


def _ids(rows: list[dict], **kwargs) -> tuple[list[str], collections.Counter[str]]:
    outcomes: collections.Counter[str] = collections.Counter()
    builder = make_builder(outcomes=outcomes, **kwargs)
    events = [builder.build(row, NOW) for row in rows]
    assert all(isinstance(event, Event) for event in events), events
    return [event.event_id for event in events if isinstance(event, Event)], outcomes


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_walk_in_sales_with_a_blank_key_property_stay_apart(blank: str | None) -> None:
    rows = [purchase_row(order_id=blank, email=f"walk.in{n}@example.com", amount=str(10 + n)) for n in range(5)]
    ids, outcomes = _ids(rows, key_properties=("order_id",))
    assert len(set(ids)) == 5
    assert outcomes["event_id_from_content"] == 5


def test_a_blank_mapped_event_id_and_order_id_fall_back_to_content() -> None:
    columns = [*PURCHASE_COLUMNS, "ticket"]
    rows = [purchase_row(order_id="", ticket=None, email=f"t{n}@example.com") for n in range(3)]
    ids, outcomes = _ids(
        rows, columns=columns, config={"mapping": {"event_id": "ticket"}}, key_properties=("order_id",)
    )
    assert len(set(ids)) == 3
    assert outcomes["event_id_from_content"] == 3


def test_the_content_id_is_stable_and_ignores_where_the_row_came_from() -> None:
    row = purchase_row(order_id="")
    moved = {**row, "_sdc_source_file": "other.csv", "_sdc_source_lineno": 99}
    ids, _ = _ids([row, dict(row), moved], key_properties=("order_id",))
    assert len(set(ids)) == 1  # the same sale, resent or re-exported, is still one event


def test_a_present_key_property_still_decides_the_id() -> None:
    rows = [purchase_row(order_id=None, store_id="S-1", email=f"k{n}@example.com") for n in range(2)]
    builder_config = {"mapping": {"order_id": None}}
    ids, outcomes = _ids(rows, key_properties=("store_id",), config=builder_config)
    assert len(set(ids)) == 1  # the key property is the identity the stream declares
    assert outcomes["event_id_from_content"] == 0
