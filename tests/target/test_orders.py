"""Issue 10's pure parts: orders.py (open orders, values, lines), routing.py (pixels by route), the builder's order
events, CRM stage ids and skipped stages, and the STATE gate holding a STATE back while an order is open."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest
from target_snapchat_capi.accounting import Accounting
from target_snapchat_capi.delivery import DryRunDelivery
from target_snapchat_capi.events import Event, EventBuilder, EventSettings, Rejection
from target_snapchat_capi.orders import (
    LineGetters,
    LineItemValue,
    OrderBook,
    OrderGate,
    OrderProblem,
    merged_record,
    order_lines,
    order_value,
)
from target_snapchat_capi.pipeline import DeliveryPipeline
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport
from target_snapchat_capi.routing import PixelRoutes, RouteError
from target_snapchat_capi.settings import SettingError, Settings
from target_snapchat_capi.wire import encode_event

NOW = 1_764_000_000
PIXEL = "11111111-2222-4333-8444-555555555555"
WHEN = "2025-11-24T10:00:00Z"
COLUMNS = ["order", "email", "total", "currency", "when", "sku", "qty", "price", "vendor", "stage", "store", "tag"]


def _get(column: str) -> Any:
    return lambda record: record.get(column)


GETTERS = LineGetters(
    item_id=_get("sku"),
    quantity=_get("qty"),
    item_price=_get("price"),
    brand=_get("vendor"),
    delivery_category=None,
    value=_get("total"),
)


def _builder(config: dict[str, Any] | None = None, keys: tuple[str, ...] = ()) -> EventBuilder:
    settings = EventSettings.from_config(
        {
            "pixel_id": PIXEL,
            "default_currency": "USD",
            "mapping": {
                "order_id": "order",
                "em": "email",
                "value": "total",
                "currency": "currency",
                "event_time": "when",
                "item_id": "sku",
                "quantity": "qty",
                "item_price": "price",
                "brand": "vendor",
            },
            **(config or {}),
        }
    )
    schema = {"properties": {name: {"type": ["string", "null"]} for name in COLUMNS}}
    return EventBuilder(settings, "orders", schema, keys, collections.Counter())


def _line(order: str, sku: str, **cells: str) -> dict[str, Any]:
    return {"order": order, "sku": sku, "when": WHEN, **cells}


# -- OrderBook and OrderGate


def test_order_book_keeps_lines_of_non_adjacent_orders_together_until_complete() -> None:
    gate = OrderGate()
    book = OrderBook(gate, max_open_orders=10)
    assert book.add("A", {"n": 1}, ("f", 2)) == []
    assert book.add("B", {"n": 2}, ("f", 3)) == []
    assert book.add("A", {"n": 3}, ("g", 2)) == []
    orders = book.complete_all()
    assert [(order.order_id, [r["n"] for r in order.records], order.sources) for order in orders] == [
        ("A", [1, 3], [("f", 2), ("g", 2)]),
        ("B", [2], [("f", 3)]),
    ]
    assert len(book) == 0


def test_order_book_is_bounded_and_a_line_after_its_order_was_sent_is_late() -> None:
    gate = OrderGate()
    book = OrderBook(gate, max_open_orders=2)
    book.add("A", {}, None)
    book.add("B", {}, None)
    completed = book.add("C", {}, None)
    assert [order.order_id for order in completed] == ["A"], "the oldest open order completes first"
    assert len(book) == 2
    assert book.add("A", {}, None) is None, "A was sent without this line: a late line, never a second PURCHASE"


def test_order_gate_covers_an_order_only_once_every_order_up_to_it_is_released() -> None:
    gate = OrderGate()
    first, second = gate.open(), gate.open()
    assert gate.last_opened == second
    gate.release(second)
    assert not gate.covers(second), "the first order is still open"
    gate.release(first)
    assert gate.covers(second) and gate.held == 0


# -- values and lines


def test_order_total_taken_from_one_row_or_repeated_and_conflicts_rejected() -> None:
    rows = [{"total": "59.00"}, {"total": ""}, {"total": "59"}]
    assert order_value(rows, GETTERS, LineItemValue.ORDER_TOTAL, "total") == 59.0
    assert order_value([{"total": ""}], GETTERS, LineItemValue.ORDER_TOTAL, "total") is None
    with pytest.raises(OrderProblem) as problem:
        order_value([{"total": "50"}, {"total": "60"}], GETTERS, LineItemValue.ORDER_TOTAL, "total")
    assert problem.value.reason == "conflicting_order_value"
    assert "50" not in problem.value.message and "60" not in problem.value.message


def test_sum_adds_line_values_or_quantity_times_price() -> None:
    rows = [{"total": "9.00", "qty": "2", "price": "4.50"}, {"total": "", "qty": "3", "price": "1.25"}]
    assert order_value(rows, GETTERS, LineItemValue.SUM, "total") == 12.75
    with pytest.raises(OrderProblem) as problem:
        order_value([{"total": "", "qty": "1", "price": ""}], GETTERS, LineItemValue.SUM, "total")
    assert problem.value.reason == "missing_value"


def test_order_lines_give_contents_content_ids_and_the_sum_of_quantities() -> None:
    rows = [
        {"sku": "A", "qty": "2", "price": "$4.50", "vendor": "Acme"},
        {"sku": "B", "qty": "", "price": "", "vendor": ""},
        {"sku": "A", "qty": "1", "price": "4.50", "vendor": "Acme"},
    ]
    lines = order_lines(rows, GETTERS)
    assert lines.contents == [
        {"id": "A", "quantity": 2, "item_price": 4.5, "brand": "Acme"},
        {"id": "B", "quantity": 1},
        {"id": "A", "quantity": 1, "item_price": 4.5, "brand": "Acme"},
    ]
    assert lines.content_ids == ["A", "B"]
    assert lines.num_items == 4


def test_merged_record_takes_each_columns_first_non_blank_value() -> None:
    merged = merged_record([{"a": "1", "b": ""}, {"a": "2", "b": "x", "c": "y"}])
    assert merged == {"a": "1", "b": "x", "c": "y"}


# -- the builder


def test_build_order_is_one_purchase_with_its_lines() -> None:
    builder = _builder()
    rows = [
        _line("#1", "A", email="ann@example.com", total="59.00", qty="2", price="12", vendor="Acme"),
        _line("#1", "B", qty="1", price="35"),
    ]
    assert builder.order_id_of(rows[0]) == "#1"
    event = builder.build_order(rows, NOW)
    assert isinstance(event, Event)
    assert event.event_id == "#1"
    assert event.body["custom_data"] == {
        "value": 59.0,
        "currency": "USD",
        "order_id": "#1",
        "contents": [
            {"id": "A", "quantity": 2, "item_price": 12.0, "brand": "Acme"},
            {"id": "B", "quantity": 1, "item_price": 35.0},
        ],
        "content_ids": ["A", "B"],
        "num_items": 3,
    }


def test_rows_without_an_item_column_or_with_grouping_off_are_not_grouped() -> None:
    row = _line("#1", "A", email="ann@example.com", total="5")
    assert _builder({"group_line_items": False}).order_id_of(row) is None
    no_items = _builder({"mapping": {"order_id": "order", "em": "email", "event_time": "when", "item_id": None}})
    assert no_items.order_id_of(row) is None
    assert _builder().order_id_of(_line("", "A")) is None, "a blank order id is a row of its own"


def test_a_conflicting_order_is_one_rejection_with_the_orders_id() -> None:
    rows = [_line("#9", "A", email="a@example.com", total="50"), _line("#9", "B", total="60")]
    rejection = _builder().build_order(rows, NOW)
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.event_id) == ("conflicting_order_value", "#9")


def test_keyed_event_ids_are_stable_per_record_key_and_snap_event_name() -> None:
    config = {
        "mapping": {"em": "email", "event_time": "when", "event_name": "stage", "value": "total", "order_id": None},
        "event_name_map": {"Closed Won": "PURCHASE", "Appointment": "CUSTOM_EVENT_2"},
    }
    builder = _builder(config, keys=("order",))
    base = {"order": "D-1", "email": "a@example.com", "when": WHEN, "total": "10"}
    appointment = builder.build({**base, "stage": "Appointment"}, NOW)
    won = builder.build({**base, "stage": "Closed Won"}, NOW)
    won_edited = builder.build({**base, "stage": "closed won", "total": "12"}, NOW)
    assert isinstance(appointment, Event) and isinstance(won, Event) and isinstance(won_edited, Event)
    assert appointment.event_id != won.event_id, "a stage mapped to another Snap event is a new event"
    assert won.event_id == won_edited.event_id, "the same stage re-emitted (edited) is the same event"


def test_unmapped_stage_is_rejected_by_default_and_skipped_when_asked() -> None:
    config = {"mapping": {"em": "email", "event_time": "when", "event_name": "stage", "order_id": None}}
    row = {"email": "a@example.com", "when": WHEN, "stage": "Qualified"}
    rejected = _builder(config).build(row, NOW)
    assert isinstance(rejected, Rejection) and rejected.reason == "unknown_event_name"
    skipped = _builder({**config, "unmapped_event_names": "skip"}).build(row, NOW)
    assert isinstance(skipped, Rejection) and skipped.reason == "skipped_stage"


def test_event_tag_is_sent_as_the_events_event_tag() -> None:
    config = {"mapping": {"em": "email", "event_time": "when", "value": "total", "event_tag": "tag"}}
    event = _builder(config).build({"email": "a@example.com", "when": WHEN, "total": "5", "tag": " in_store "}, NOW)
    assert isinstance(event, Event) and event.body["event_tag"] == "in_store"


# -- routing


def test_pixel_routes_are_checked_and_matched_case_insensitively() -> None:
    routes = PixelRoutes.from_settings(
        {"North": {"pixel_id": "p-n", "access_token": "t-n"}, "south": {"pixel_id": "p-s", "access_token": "t-s"}},
        None,
        None,
    )
    north = routes.lookup(" north ")
    assert north is not None and (north.pixel_id, north.label) == ("p-n", "North")
    assert routes.lookup("west") is None and routes.lookup("") is None
    assert "t-n" not in repr(north)
    with_default = PixelRoutes.from_settings({"a": {"pixel_id": "p", "access_token": "t"}}, "p0", "t0")
    default = with_default.lookup(None)
    assert default is not None and default.pixel_id == "p0"
    with pytest.raises(RouteError, match=r"pixels\['b'\].access_token is required"):
        PixelRoutes.from_settings({"b": {"pixel_id": "p"}}, None, None)
    with pytest.raises(RouteError, match="listed twice"):
        PixelRoutes.from_settings(
            {"a": {"pixel_id": "p", "access_token": "t"}, "A": {"pixel_id": "q", "access_token": "u"}}, None, None
        )


def test_pixels_setting_replaces_pixel_id_and_never_quotes_a_token() -> None:
    pixels = {"north": {"pixel_id": "p-n", "access_token": "secret-n"}}
    settings = Settings.from_config({"pixels": json.dumps(pixels)})
    assert settings.delivery.routes.routed and settings.events.pixel_routes == frozenset({"north"})
    with pytest.raises(SettingError) as error:
        Settings.from_config({"pixels": {"north": {"pixel_id": "p", "access_token": "secret-n", "token": "x"}}})
    assert "secret-n" not in str(error.value)
    with pytest.raises(SettingError, match="pixel_id is required"):
        Settings.from_config({"access_token": "t"})


def test_an_unlisted_route_is_rejected() -> None:
    config = {
        "pixels": {"north": {"pixel_id": "p-n", "access_token": "t"}},
        "mapping": {"em": "email", "event_time": "when", "value": "total", "pixel_route": "store", "order_id": None},
    }
    builder = _builder(config)
    row = {"email": "a@example.com", "when": WHEN, "total": "5"}
    routed = builder.build({**row, "store": "NORTH"}, NOW)
    assert isinstance(routed, Event) and routed.pixel_route == "north"
    unknown = builder.build({**row, "store": "west"}, NOW)
    assert isinstance(unknown, Rejection) and unknown.reason == "unknown_pixel_route"


# -- the STATE gate


def test_no_state_passes_while_an_order_open_before_it_is_not_delivered(tmp_path: Path) -> None:
    report = RunReport()
    accounting = Accounting(report, RejectsFile(tmp_path / "rejects.jsonl", report.started_at))
    gate = OrderGate()
    states: list[dict[str, Any]] = []
    pipeline = DeliveryPipeline(
        DryRunDelivery(tmp_path / "bodies.jsonl", 10, accounting), accounting, states.append, order_gate=gate
    )
    builder = _builder()
    order = gate.open()
    pipeline.hold_state({"bookmark": 1})
    pipeline.finish()
    assert states == [], "the order open when the STATE arrived is not delivered yet"
    event = builder.build_order([_line("#1", "A", email="a@example.com", total="5")], NOW)
    assert isinstance(event, Event)
    pipeline.submit("orders", [encode_event(event)], [("f", 2)])
    gate.release(order)
    pipeline.hold_state({"bookmark": 2})
    pipeline.finish()
    assert states == [{"bookmark": 2}]
    pipeline.close()


def test_a_dry_run_with_several_pixels_writes_one_pixels_events_per_request_body(tmp_path: Path) -> None:
    report = RunReport()
    accounting = Accounting(report, RejectsFile(tmp_path / "rejects.jsonl", report.started_at))
    delivery = DryRunDelivery(tmp_path / "bodies.jsonl", 10, accounting, routed=True)
    events = [
        encode_event(Event(body={"event_id": f"e{n}"}, event_id=f"e{n}", match_keys=(), pixel_route=r))
        for n, r in enumerate(["north", "south", "north"])
    ]
    delivery.deliver("orders", events, [(None, None)] * 3)
    delivery.close()
    bodies = [json.loads(line)["data"] for line in (tmp_path / "bodies.jsonl").read_text().splitlines()]
    assert [[event["event_id"] for event in body] for body in bodies] == [["e0", "e2"], ["e1"]]
    assert report.requests == 2
