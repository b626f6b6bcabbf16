"""The private singer-sdk members the target relies on still exist in the installed SDK, with the same shape."""

from __future__ import annotations

import importlib
import inspect
from importlib import metadata

import pytest
from target_snapchat_capi.sdk_private import PRIVATE_MEMBERS
from target_snapchat_capi.sinks import SnapchatCAPISink
from target_snapchat_capi.target import TargetSnapchatCAPI

SDK_VERSION = metadata.version("singer-sdk")


def _owner(dotted: str) -> type:
    module_name, _, class_name = dotted.rpartition(".")
    owner = getattr(importlib.import_module(module_name), class_name)
    assert isinstance(owner, type)
    return owner


@pytest.mark.parametrize("member", PRIVATE_MEMBERS, ids=lambda member: f"{member.owner}.{member.name}")
def test_private_sdk_member_is_still_there_with_its_signature(member) -> None:
    owner = _owner(member.owner)
    function = inspect.getattr_static(owner, member.name, None)
    assert function is not None, (
        f"singer-sdk {SDK_VERSION} no longer has {member.owner}.{member.name}; the target relies on it "
        f"({member.why}) - see target_snapchat_capi/sdk_private.py"
    )
    assert inspect.isfunction(function), f"{member.owner}.{member.name} is no longer a plain method"
    parameters = tuple(inspect.signature(function).parameters)
    assert parameters == member.parameters, (
        f"{member.owner}.{member.name} now takes {parameters}, the target expects {member.parameters}"
    )


def test_the_list_names_every_private_sdk_member_the_target_overrides() -> None:
    """Any `_name` the target's classes define that also exists on an SDK base class must be in the list."""
    listed = {(member.owner, member.name) for member in PRIVATE_MEMBERS}
    for ours, sdk_owner in ((TargetSnapchatCAPI, "singer_sdk.Target"), (SnapchatCAPISink, "singer_sdk.sinks.Sink")):
        base = _owner(sdk_owner)
        for name in vars(ours):
            if name.startswith("_") and not name.startswith("__") and name != "_abc_impl" and hasattr(base, name):
                assert (sdk_owner, name) in listed, f"{ours.__name__}.{name} overrides a private SDK member unlisted"


def test_the_sdk_record_path_still_calls_the_public_hooks_the_target_relies_on() -> None:
    """Records of every stream go through the SDK's own path; it must still call these hooks."""
    source = inspect.getsource(_owner("singer_sdk.Target")._process_record_message)
    for hook in ("preprocess_record", "process_record", "record_counter_metric", "_validate_and_parse", "is_full"):
        assert hook in source, f"the SDK's record path no longer calls {hook}"
    assert "_handle_max_record_age" in inspect.getsource(_owner("singer_sdk.Target")._process_batch_message)
