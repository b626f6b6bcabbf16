"""Line items -> one PURCHASE per order. Pure: no I/O, no logging, nothing from Singer.

A line-item export (Shopify, a POS) has one row per item: the rows of a stream that share a non-blank order id are
one order. They need not be adjacent and may arrive in different batches, so a stream's `OrderBook` keeps each open
order's rows until the order is complete:

- at the end of the stream's input (the sink's clean-up), every open order is complete;
- when more than `max_open_orders` orders are open at once, the one opened first is complete (a bounded buffer:
  memory is at most `max_open_orders` orders' rows). A row of an order completed that way arrives too late: it is
  rejected as `late_order_line` (its order was sent without it), never sent as a second PURCHASE that Snap would
  merge away. The ids of the last `4 * max_open_orders` completed orders are remembered to tell.

`OrderGate` is what the STATE gate asks: a STATE that arrives while orders are open may only go out once every one of
them has been handed to delivery (or rejected) and those batches have settled.

`order_value` decides an order's value (`line_item_value`): ``order_total`` takes the value the rows carry (on one
row, or repeated on every row; rows that disagree make the order a `conflicting_order_value` rejection), ``sum``
adds the lines' values, or quantity x item price where a line's value is blank.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from target_snapchat_capi.cells import id_text, parse_value, to_int, to_string

#: Two values of one order closer than this are the same amount (rows written with different rounding).
VALUE_TOLERANCE: Final = 0.005
#: Completed orders remembered (as ids) per open-order slot, to tell a late line from a new order.
CLOSED_ORDERS_PER_SLOT: Final = 4

Getter = Callable[[Mapping[str, Any]], Any]


class LineItemValue(enum.StrEnum):
    """How an order's value is found (the `line_item_value` setting)."""

    ORDER_TOTAL = "order_total"  #: the value column holds the order's total (on one row or on each)
    SUM = "sum"  #: the value column holds each line's total (or quantity x item price where blank)


# ----------------------------------------------------------------------------------------------------
# Open orders


@dataclass(slots=True)
class OpenOrder:
    """The rows of one order seen so far, in arrival order, with where each came from."""

    order_id: str
    seq: int  #: the OrderGate's number of this order
    records: list[Mapping[str, Any]] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)


class OrderGate:
    """Numbers the orders of a run and knows which still hold STATE back (open, or complete but not yet handed to
    delivery). The main thread opens and releases; `covers` may also run on the sender thread (it only reads the set
    and moves its own pointer past released numbers)."""

    def __init__(self) -> None:
        self._next = 0
        self._held: set[int] = set()
        self._lowest_held = 0

    def open(self) -> int:
        seq = self._next
        self._held.add(seq)  # before the count moves on: `covers` (on the sender thread too) never skips it
        self._next += 1
        return seq

    def release(self, seq: int) -> None:
        """The order went to delivery in a submitted batch, or was rejected."""
        self._held.discard(seq)

    @property
    def last_opened(self) -> int:
        """The number of the newest order opened so far (-1 when none was)."""
        return self._next - 1

    def covers(self, seq: int) -> bool:
        """True when every order numbered `seq` or lower has been released."""
        while self._lowest_held < self._next and self._lowest_held not in self._held:
            self._lowest_held += 1
        return seq < self._lowest_held

    @property
    def held(self) -> int:
        return len(self._held)


class OrderBook:
    """The open orders of one stream, bounded by `max_open_orders` (see the module docstring)."""

    def __init__(self, gate: OrderGate, max_open_orders: int) -> None:
        if max_open_orders < 1:
            raise ValueError("max_open_orders must be at least 1")
        self._gate = gate
        self._max_open = max_open_orders
        self._open: OrderedDict[str, OpenOrder] = OrderedDict()
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._max_closed = CLOSED_ORDERS_PER_SLOT * max_open_orders

    def __len__(self) -> int:
        return len(self._open)

    def add(self, order_id: str, record: Mapping[str, Any], source: Any) -> list[OpenOrder] | None:
        """Add a line. Returns the orders this completed (the oldest, when too many are open), or None when the
        line's order was completed already (a late line: the caller rejects it)."""
        order = self._open.get(order_id)
        if order is None:
            if order_id in self._closed:
                return None
            order = self._open[order_id] = OpenOrder(order_id, self._gate.open())
        order.records.append(record)
        order.sources.append(source)
        completed: list[OpenOrder] = []
        while len(self._open) > self._max_open:
            completed.append(self._complete_oldest())
        return completed

    def complete_all(self) -> list[OpenOrder]:
        """Every open order, completed (the end of the stream)."""
        return [self._complete_oldest() for _ in range(len(self._open))]

    def _complete_oldest(self) -> OpenOrder:
        order_id, order = self._open.popitem(last=False)
        self._closed[order_id] = None
        if len(self._closed) > self._max_closed:
            self._closed.popitem(last=False)
        return order


# ----------------------------------------------------------------------------------------------------
# An order's lines and value


@dataclass(frozen=True, slots=True)
class LineGetters:
    """Compiled getters of the line-item columns a stream maps (None: not mapped)."""

    item_id: Getter | None
    quantity: Getter | None
    item_price: Getter | None
    brand: Getter | None
    delivery_category: Getter | None
    value: Getter | None


@dataclass(frozen=True, slots=True)
class OrderLines:
    """What an order's lines add to its PURCHASE's custom_data."""

    contents: list[dict[str, Any]]
    content_ids: list[str]
    num_items: int


class OrderProblem(Exception):
    """Why an order cannot be sent as it is: `reason` is a stable code, the message names columns, never values."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def _is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _quantity(get: Getter | None, record: Mapping[str, Any]) -> int:
    """A line's quantity: 1 when not mapped or blank (a line is at least one item)."""
    if get is None:
        return 1
    quantity = to_int(get(record))
    return quantity if quantity is not None and quantity >= 0 else 1


def order_lines(records: Sequence[Mapping[str, Any]], getters: LineGetters) -> OrderLines:
    """The contents (``id``, ``quantity``, ``item_price``, and ``brand``/``delivery_category`` when mapped),
    content ids and number of items of an order's rows."""
    contents: list[dict[str, Any]] = []
    content_ids: list[str] = []
    num_items = 0
    for record in records:
        quantity = _quantity(getters.quantity, record)
        num_items += quantity
        item: dict[str, Any] = {}
        item_id = id_text(getters.item_id(record)) if getters.item_id is not None else None
        if item_id is not None:
            item["id"] = item_id
            if item_id not in content_ids:
                content_ids.append(item_id)
        item["quantity"] = quantity
        if getters.item_price is not None:
            price = parse_value(getters.item_price(record))
            if price is not None:
                item["item_price"] = price
        for key, get in (("brand", getters.brand), ("delivery_category", getters.delivery_category)):
            text = to_string(get(record)) if get is not None else None
            if text:
                item[key] = text
        contents.append(item)
    return OrderLines(contents=contents, content_ids=content_ids, num_items=num_items)


def order_value(
    records: Sequence[Mapping[str, Any]],
    getters: LineGetters,
    mode: LineItemValue,
    value_column: str | None,
) -> float | int | None:
    """The order's value by `mode` (module docstring); None when no row carries one (the event builder then applies
    its missing-value rule). Raises OrderProblem for rows that disagree (order_total) or a line whose value cannot
    be read (sum)."""
    if mode is LineItemValue.ORDER_TOTAL:
        return _order_total(records, getters.value, value_column)
    return _sum_of_lines(records, getters, value_column)


def _order_total(records: Iterable[Mapping[str, Any]], get: Getter | None, column: str | None) -> float | int | None:
    if get is None:
        return None
    total: float | int | None = None
    for record in records:
        raw = get(record)
        if _is_blank(raw):
            continue
        value = parse_value(raw)
        if value is None:
            raise OrderProblem("invalid_value", f"a row of the order has no number in column {column!r}")
        if total is None:
            total = value
        elif abs(value - total) > VALUE_TOLERANCE:
            raise OrderProblem(
                "conflicting_order_value",
                f"the order's rows carry different values in column {column!r} (line_item_value: order_total "
                "takes the order's total; use line_item_value: sum when the column holds line totals)",
            )
    return total


def _sum_of_lines(records: Sequence[Mapping[str, Any]], getters: LineGetters, column: str | None) -> float | int | None:
    total: float | int = 0
    for index, record in enumerate(records, start=1):
        raw = getters.value(record) if getters.value is not None else None
        if not _is_blank(raw):
            value = parse_value(raw)
            if value is None:
                raise OrderProblem("invalid_value", f"line {index} of the order has no number in column {column!r}")
            total += value
            continue
        price = parse_value(getters.item_price(record)) if getters.item_price is not None else None
        if price is None:
            raise OrderProblem(
                "missing_value",
                f"line {index} of the order has neither a value nor an item price (line_item_value: sum)",
            )
        total += _quantity(getters.quantity, record) * price
    return round(total, 2) if isinstance(total, float) else total


def merged_record(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The order's own fields: each column's first non-blank value across its rows (Shopify writes the email,
    the total and the customer on the first row only)."""
    merged: dict[str, Any] = dict(records[0])
    for record in records[1:]:
        for key, raw in record.items():
            if _is_blank(merged.get(key)) and not _is_blank(raw):
                merged[key] = raw
    return merged
