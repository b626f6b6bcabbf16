"""Settings: one table of defaults behind the schema, --about and the checks; the run mode as an enum."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from target_snapchat_capi.settings import DEFAULTS, Mode, SettingError, Settings
from target_snapchat_capi.target import TargetSnapchatCAPI

BIN = Path(sys.executable).parent
PIXEL = "3c1e8a52-7f5d-4b0e-9a61-2d4f3b5c6e7f"


def _about() -> dict:
    result = subprocess.run(
        [str(BIN / "target-snapchat-capi"), "--about", "--format", "json"], capture_output=True, check=True
    )
    return dict(json.loads(result.stdout))


def test_about_advertises_no_sdk_setting_the_target_ignores() -> None:
    settings = _about()["settings"]["properties"]
    for ignored in ("batch_size_rows", "load_method", "add_record_metadata", "validate_records"):
        assert ignored not in settings
    assert "stream_maps" in settings  # honoured: the records of mapped streams take the same path


def test_schema_defaults_are_the_settings_defaults() -> None:
    properties = TargetSnapchatCAPI.config_jsonschema["properties"]
    for key, default in DEFAULTS.items():
        assert properties[key]["default"] == default, key
    documented = {key for key, spec in properties.items() if "default" in spec}
    assert documented == set(DEFAULTS)


def test_defaults_apply_when_a_setting_is_absent() -> None:
    settings = Settings.from_config({"pixel_id": PIXEL, "access_token": "t"})
    assert settings.mode is Mode.LIVE
    assert settings.delivery.batch_size == DEFAULTS["batch_size"]
    assert settings.delivery.max_concurrency == DEFAULTS["max_concurrency"]
    assert settings.delivery.request_timeout_seconds == DEFAULTS["request_timeout_seconds"]
    assert str(settings.paths.report) == DEFAULTS["report_path"]


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2001}, "batch_size"),
        ({"max_concurrency": 65}, "max_concurrency"),
        ({"dry_run": True, "validate_only": True}, "dry_run"),
        ({"default_currency": "ZZZZ"}, "default_currency"),
        ({"request_timeout_seconds": "soon"}, "request_timeout_seconds"),
        ({"access_token": ""}, "access_token"),
    ],
)
def test_a_wrong_setting_is_named(config: dict, setting: str) -> None:
    with pytest.raises(SettingError) as raised:
        Settings.from_config({"pixel_id": PIXEL, "access_token": "t", **config})
    assert raised.value.setting == setting
    assert setting in str(raised.value)


def test_mode_values_are_the_report_strings() -> None:
    assert [mode.value for mode in Mode] == ["live", "validate_only", "dry_run"]
    assert json.dumps({"mode": Mode.DRY_RUN}) == '{"mode": "dry_run"}'
    assert Mode.LIVE.emits_state and not Mode.DRY_RUN.emits_state and not Mode.VALIDATE_ONLY.emits_state
