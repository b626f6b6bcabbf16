"""Every private singer-sdk member the tap relies on exists in the installed SDK, as tap_offline_csv.sdk_private says.

A failure here after an SDK upgrade names the member: read its ``reason`` and ``used_by`` in sdk_private.py.
"""

from __future__ import annotations

import importlib
import inspect
import typing as t
from pathlib import Path

import pytest
from tap_helpers import CONVERSION_HEADER, conversion_rows, run_tap, write_csv
from tap_offline_csv.sdk_private import PRIVATE_MEMBERS, PrivateMember


def _owner(member: PrivateMember) -> type:
    module_name, _, class_name = member.owner.rpartition(".")
    return t.cast("type", getattr(importlib.import_module(module_name), class_name))


@pytest.mark.parametrize("member", PRIVATE_MEMBERS, ids=lambda member: f"{member.owner}.{member.name}")
def test_private_sdk_member_exists_with_the_expected_signature(member: PrivateMember) -> None:
    owner = _owner(member)
    if member.signature.startswith("attribute"):
        source = inspect.getsource(owner.__init__)
        assert f"self.{member.name}" in source, f"{member.owner} no longer sets {member.name}: {member.reason}"
        return
    assert hasattr(owner, member.name), f"{member.owner}.{member.name} is gone from singer-sdk: {member.reason}"
    signature = str(inspect.signature(getattr(owner, member.name)))
    assert signature == member.signature, (
        f"{member.owner}.{member.name} changed its signature to {signature}; used by {member.used_by}"
    )


def test_every_private_member_used_by_the_tap_is_listed() -> None:
    """The tap's modules reach for no private SDK member that sdk_private.py does not list."""
    listed = {member.name for member in PRIVATE_MEMBERS}
    package = Path(importlib.import_module("tap_offline_csv").__file__ or "").parent
    import singer_sdk.streams.core as core  # noqa: PLC0415
    import singer_sdk.tap_base as tap_base  # noqa: PLC0415

    sdk_private_names = {
        name
        for cls in (core.Stream, tap_base.Tap)
        for name in dir(cls)
        if name.startswith("_") and not name.startswith("__")
    }
    for path in package.glob("*.py"):
        text = path.read_text()
        used = {name for name in sdk_private_names if f".{name}" in text or f" {name} =" in text}
        assert used <= listed, f"{path.name} uses private SDK member(s) {sorted(used - listed)} not in sdk_private.py"


def test_records_are_the_same_with_and_without_a_stream_map(tmp_path: Path) -> None:
    """The direct record path (no map) and the SDK's own path (a map) give the same records and the same metric."""
    write_csv(tmp_path / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 5), mtime=1_700_000_000)
    config = {"path": str(tmp_path / "drops" / "*.csv"), "key_properties": ["event_id"]}
    direct = run_tap(config)
    mapped = run_tap({**config, "stream_maps": {"offline_conversions": {"event_id": "event_id"}}})
    assert direct.records == mapped.records and len(direct.records) == 5
    for out in (direct, mapped):
        assert any('"metric": "record_count"' in line or "record_count" in line for line in out.logs)
        record_messages = [m for m in out.messages if m["type"] == "RECORD"]
        assert all("time_extracted" in m for m in record_messages)
