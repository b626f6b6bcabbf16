"""The executable as users run it: --discover, --about, --state, --catalog; stream maps."""

from __future__ import annotations

import json
from pathlib import Path

from tap_helpers import CONVERSION_HEADER, conversion_rows, run_cli, write_csv, write_json


def _config(tmp_path: Path) -> dict:
    return {
        "path": str(tmp_path / "drops" / "*.csv"),
        "key_properties": ["event_id"],
        "column_types": {"value": "number", "event_time": "date-time"},
    }


def test_discover_builds_the_schema_from_the_first_file_header(tmp_path: Path) -> None:
    write_csv(tmp_path / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 1), mtime=1_700_000_000)
    write_csv(tmp_path / "drops" / "b.csv", [*CONVERSION_HEADER, "later"], [], mtime=1_700_000_100)
    out = run_cli(tmp_path, _config(tmp_path), "--discover")
    assert out.returncode == 0, out.stderr
    catalog = json.loads(out.stdout)  # type: ignore[attr-defined]
    (stream,) = catalog["streams"]
    assert stream["tap_stream_id"] == "offline_conversions"
    assert stream["key_properties"] == ["event_id"]
    properties = stream["schema"]["properties"]
    assert list(properties) == [
        *CONVERSION_HEADER,
        "_sdc_source_file",
        "_sdc_source_lineno",
        "_sdc_source_modified_at",
    ]
    assert properties["value"]["type"] == ["number", "null"]
    assert properties["event_time"] == {"type": ["string", "null"], "format": "date-time"}
    assert properties["email"]["type"] == ["string", "null"]
    assert properties["_sdc_source_lineno"]["type"] == ["integer"]
    root_metadata = next(m for m in stream["metadata"] if m["breadcrumb"] == [])
    assert root_metadata["metadata"]["table-key-properties"] == ["event_id"]


def test_discover_with_no_matching_file_names_the_path(tmp_path: Path) -> None:
    out = run_cli(tmp_path, _config(tmp_path), "--discover")
    assert out.returncode != 0
    assert f"{tmp_path}/drops/*.csv: no file matches this path" in out.stderr


def test_about_markdown_lists_the_settings_and_marks_secrets(tmp_path: Path) -> None:
    out = run_cli(tmp_path, {}, "--about", "--format=markdown")
    assert out.returncode == 0, out.stderr
    text = out.stdout  # type: ignore[attr-defined]
    assert text.startswith("# `tap-offline-csv`")
    for setting in (
        "| files |",
        "| path |",
        "| s3.endpoint_url |",
        "| sftp.host_key_check |",
        "| on_bad_row |",
    ):
        assert setting in text
    about = run_cli(tmp_path, {}, "--about", "--format=json")
    settings = json.loads(about.stdout)["settings"]["properties"]  # type: ignore[attr-defined]
    assert settings["s3"]["properties"]["aws_secret_access_key"]["secret"] is True
    assert settings["sftp"]["properties"]["password"]["secret"] is True
    assert settings["sftp"]["properties"]["private_key"]["secret"] is True


def test_state_file_round_trip_through_the_cli(tmp_path: Path) -> None:
    write_csv(tmp_path / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 3), mtime=1_700_000_000)
    first = run_cli(tmp_path, _config(tmp_path))
    assert first.returncode == 0, first.stderr
    assert len(first.records) == 3
    assert first.messages[-1]["type"] == "STATE"
    write_csv(tmp_path / "drops" / "b.csv", CONVERSION_HEADER, conversion_rows(3, 2), mtime=1_700_000_100)
    second = run_cli(tmp_path, _config(tmp_path), state=first.final_state)
    assert second.returncode == 0, second.stderr
    assert [r["event_id"] for r in second.records] == ["ev3", "ev4"]
    assert second.records[0]["value"] == 3.5
    assert second.records[0]["event_time"] == "2024-01-04T10:00:00+00:00"


def test_catalog_with_a_deselected_column_and_a_stream_map(tmp_path: Path) -> None:
    write_csv(tmp_path / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 2))
    catalog = json.loads(run_cli(tmp_path, _config(tmp_path), "--discover").stdout)  # type: ignore[attr-defined]
    for entry in catalog["streams"][0]["metadata"]:
        if entry["breadcrumb"] == ["properties", "value"]:
            entry["metadata"]["selected"] = False
    catalog_path = write_json(tmp_path / "catalog.json", catalog)
    config = {
        **_config(tmp_path),
        "stream_maps": {"offline_conversions": {"email_domain": "email.split('@')[1]"}},
    }
    out = run_cli(tmp_path, config, "--catalog", str(catalog_path))
    assert out.returncode == 0, out.stderr
    first = out.records[0]
    assert "value" not in first
    assert first["email_domain"] == "example.com"
    assert first["event_id"] == "ev0"
    files = out.files_state()
    assert all(bookmark["done"] for bookmark in files.values())
