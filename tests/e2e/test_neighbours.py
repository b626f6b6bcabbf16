"""The plugins among their neighbours: plugin definition files, a standard Singer target, a fresh Meltano project.

- plugins/*.yml declare what each plugin's `--about` says (capabilities, every setting, secrets as sensitive), and
  meltano.yml is generated from them;
- tap-offline-csv feeds MeltanoLabs' target-csv through `meltano run` (schema, types and state as any target sees);
- a fresh `meltano init` project elsewhere adds both plugins from those files, installs them from wheels built from
  this checkout, and runs the pipeline into the sandbox;
- a mapping given in `.env` is merged with the one in meltano.yml, key by key (what the README says).
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from scripts import sync_plugin_definitions as sync
from tests.e2e.helpers import BIN, ROOT

TAP_DEFINITION = ROOT / "plugins" / "extractors" / "tap-offline-csv.yml"
TARGET_DEFINITION = ROOT / "plugins" / "loaders" / "target-snapchat-capi.yml"

# The audit of every setting that can hold a secret (issue 8 item 12), beyond what the plugins mark `secret`:
# a URL can carry user:password@ or a signed query, storage_options holds FTP passwords, GCS keys and Azure
# connection strings, stream_map_config holds whatever map expressions read (a hashing salt), an AWS key id
# identifies an account.
AUDITED_SENSITIVE = {
    "tap-offline-csv": {
        "files",
        "path",
        "storage_options",
        "stream_map_config",
        "s3.aws_access_key_id",
        "s3.aws_secret_access_key",
        "s3.aws_session_token",
        "sftp.password",
        "sftp.private_key",
        "sftp.private_key_passphrase",
    },
    "target-snapchat-capi": {"access_token", "stream_map_config"},
}
# The Meltano kinds a JSON-schema type may be declared as.
KINDS_FOR_TYPE = {
    "string": {"string", "date_iso8601", "options"},
    "integer": {"integer", "options"},
    "number": {"integer", "decimal"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}


def _about(executable: str) -> dict[str, t.Any]:
    done = subprocess.run(
        [str(BIN / executable), "--about", "--format=json"], capture_output=True, check=True, timeout=120
    )
    return dict(json.loads(done.stdout))


def _flat_settings(properties: dict[str, t.Any], prefix: str = "") -> dict[str, dict[str, t.Any]]:
    """Settings as Meltano names them: objects with declared properties become dotted names (s3.region_name).

    stream_maps declares only its `__else__` key: it stays one object setting.
    """
    flat: dict[str, dict[str, t.Any]] = {}
    for name, schema in properties.items():
        nested = schema.get("properties") or {}
        if nested and not any(key.startswith("__") for key in nested):
            flat.update(_flat_settings(nested, f"{prefix}{name}."))
        else:
            flat[prefix + name] = schema
    return flat


def _json_types(schema: dict[str, t.Any]) -> set[str]:
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or [])
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(alternative, dict):
            types |= _json_types(alternative)
    return types - {"null"}


def _definition(path: Path) -> dict[str, t.Any]:
    return dict(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("definition_path", "executable"),
    [(TAP_DEFINITION, "tap-offline-csv"), (TARGET_DEFINITION, "target-snapchat-capi")],
)
def test_plugin_definition_declares_what_the_plugin_advertises(definition_path: Path, executable: str) -> None:
    about = _about(executable)
    definition = _definition(definition_path)
    assert definition["name"] == about["name"] == executable
    assert definition["executable"] == executable
    assert sorted(definition["capabilities"]) == sorted(about["capabilities"])

    advertised = _flat_settings(about["settings"]["properties"])
    declared = {setting["name"]: setting for setting in definition["settings"]}
    assert sorted(declared) == sorted(advertised), "every setting, and only those"
    for name, setting in declared.items():
        schema = advertised[name]
        assert setting.get("description"), name
        types = _json_types(schema)
        assert any(setting["kind"] in KINDS_FOR_TYPE[kind] for kind in types), (name, setting["kind"], types)
        if "enum" in schema:
            assert setting["kind"] == "options", name
            assert sorted(option["value"] for option in setting["options"]) == sorted(schema["enum"]), name
        if schema.get("default") not in (None, {}, []):
            assert setting.get("value") == schema["default"], name
    secret = {name for name, schema in advertised.items() if schema.get("secret")}
    sensitive = {name for name, setting in declared.items() if setting.get("sensitive")}
    assert secret <= sensitive, "a setting the plugin calls secret must be sensitive in Meltano"
    assert sensitive == AUDITED_SENSITIVE[executable]


def test_meltano_yml_is_generated_from_the_definition_files() -> None:
    current, wanted = sync.synced_text()
    assert current == wanted, "run scripts/sync_plugin_definitions.py"
    project = YAML(typ="safe").load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    for plugin_type, path, pip_url in sync.DEFINITIONS:
        definition = _definition(path)
        (entry,) = (p for p in project["plugins"][plugin_type] if p["name"] == definition["name"])
        assert entry["pip_url"] == pip_url
        assert entry["capabilities"] == definition["capabilities"]
        assert entry["settings"] == definition["settings"]
