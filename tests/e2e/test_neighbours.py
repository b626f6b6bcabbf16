"""The plugins among their neighbours: plugin definition files, a standard Singer target, a fresh Meltano project.

- plugins/*.yml declare what each plugin's `--about` says (capabilities, every setting, secrets as sensitive), and
  meltano.yml is generated from them;
- tap-offline-csv feeds MeltanoLabs' target-csv through `meltano run` (schema, types and state as any target sees);
- a fresh `meltano init` project elsewhere adds both plugins from those files, installs them from wheels built from
  this checkout, and runs the pipeline into the sandbox;
- a mapping given in `.env` is merged with the one in meltano.yml, key by key (what the README says).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import typing as t
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from scripts import sync_plugin_definitions as sync
from tests.e2e.helpers import BIN, PIXEL, ROOT, TOKEN, Sandbox, meltano, messy_rows, sha, write_csv

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
    # pixels: each holds a token; ledger_url: a PostgreSQL URL may hold a password
    "target-snapchat-capi": {"access_token", "ledger_url", "pixels", "stream_map_config"},
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


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_tap_into_meltanolabs_target_csv_with_meltano_run(tmp_path: Path) -> None:
    """Schema, types and state as a standard SDK target sees them (it validates every record against the schema)."""
    now = datetime.now(UTC)
    drops = tmp_path / "drops"
    rows = messy_rows(now, prefix="C")
    write_csv(drops / "2026-01-01_purchases.csv", rows, extra_bad_line=True)
    env = {
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "TAP_OFFLINE_CSV_FILES": json.dumps(
            [
                {
                    "name": "offline_purchases",
                    "path": str(drops / "*.csv"),
                    "key_properties": ["Order ID"],
                    "column_types": {"Amount": "number"},
                }
            ]
        ),
        "TARGET_CSV_OUTPUT_PATH": str(tmp_path / "run1"),
    }
    run = ["run", "tap-offline-csv", "target-csv"]

    first = meltano(run, env)
    assert first.returncode == 0, first.stderr.decode()[-4000:]
    written = _csv_rows(tmp_path / "run1" / "offline_purchases.csv")
    # Every row the tap read (it rejects the line with a surplus field itself), every column of the schema.
    assert [row["Order ID"] for row in written] == [row.order_id for row in rows]
    assert set(written[0]) >= {"Order ID", "Email", "Amount", "_sdc_source_file", "_sdc_source_lineno"}
    assert written[0]["Amount"] == "142.52" and written[-1]["Amount"] == ""  # a number, and a null
    assert written[0]["_sdc_source_file"] == f"file://{drops / '2026-01-01_purchases.csv'}"

    # The state the target passed on is what the next run starts from: only the new drop is read.
    new_rows = messy_rows(now, prefix="D")[:3]
    write_csv(drops / "2026-01-02_purchases.csv", new_rows)
    second = meltano(run, {**env, "TARGET_CSV_OUTPUT_PATH": str(tmp_path / "run2")})
    assert second.returncode == 0, second.stderr.decode()[-4000:]
    assert [row["Order ID"] for row in _csv_rows(tmp_path / "run2" / "offline_purchases.csv")] == ["D-1", "D-2", "D-3"]


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both plugins built as wheels, as a release would publish them (a folder an installer can find them in)."""
    out = tmp_path_factory.mktemp("wheels")
    for package in ("tap-offline-csv", "target-snapchat-capi"):
        subprocess.run(
            [str(BIN / "uv"), "build", "--quiet", "--wheel", "--out-dir", str(out), str(ROOT / package)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return out


def test_a_fresh_meltano_project_adds_both_plugins_from_their_definition_files(
    tmp_path: Path, wheels: Path, sandbox_process: Sandbox
) -> None:
    """`meltano init` elsewhere, `meltano add --from-ref` both files, install by package name, run into the sandbox.

    The pip_urls are the package names, found here in a folder of wheels (UV_FIND_LINKS) as they would be on an
    index; nothing refers to this checkout and the Meltano Hub is never needed.
    """
    project = tmp_path / "elsewhere"
    env = {"MELTANO_VENV_BACKEND": "uv", "UV_FIND_LINKS": str(wheels)}
    init = meltano(["init", "--no-usage-stats", str(project)], env, environment=None, cwd=tmp_path)
    assert init.returncode == 0, init.stderr.decode()[-3000:]
    for plugin_type, name, definition in (
        ("extractor", "tap-offline-csv", TAP_DEFINITION),
        ("loader", "target-snapchat-capi", TARGET_DEFINITION),
    ):
        added = meltano(
            ["add", "--plugin-type", plugin_type, name, "--from-ref", str(definition)],
            env,
            environment=None,
            cwd=project,
        )
        assert added.returncode == 0, added.stderr.decode()[-3000:]
    project_yml = YAML(typ="safe").load((project / "meltano.yml").read_text(encoding="utf-8"))
    assert {p["name"]: p["pip_url"] for kind in ("extractors", "loaders") for p in project_yml["plugins"][kind]} == {
        "tap-offline-csv": "tap-offline-csv",
        "target-snapchat-capi": "target-snapchat-capi",
    }
    # Installed as a package (no such name on PyPI: it came from the wheels), this checkout's code, not a link to it.
    (installed,) = (project / ".meltano" / "extractors").glob(
        "tap-offline-csv/venv/lib/*/site-packages/tap_offline_csv"
    )
    assert not installed.is_symlink()
    storage = (ROOT / "tap-offline-csv" / "tap_offline_csv" / "storage.py").read_text()
    assert (installed / "storage.py").read_text() == storage

    # The token is sensitive in the definition: `config set` keeps it out of meltano.yml, in .env.
    token_set = meltano(
        ["config", "set", "target-snapchat-capi", "access_token", TOKEN], env, environment=None, cwd=project
    )
    assert token_set.returncode == 0, token_set.stderr.decode()[-3000:]
    assert TOKEN not in (project / "meltano.yml").read_text()
    assert TOKEN in (project / ".env").read_text()

    now = datetime.now(UTC)
    rows = messy_rows(now, prefix="F")
    write_csv(tmp_path / "drops" / "purchases.csv", rows)
    run_env = {
        **env,
        "TAP_OFFLINE_CSV_PATH": str(tmp_path / "drops" / "*.csv"),
        "TAP_OFFLINE_CSV_KEY_PROPERTIES": '["Order ID"]',
        "TARGET_SNAPCHAT_CAPI_PIXEL_ID": PIXEL,
        "TARGET_SNAPCHAT_CAPI_API_URL": sandbox_process.url,
        "TARGET_SNAPCHAT_CAPI_MAPPING": json.dumps({"event_time": "Purchased At", "event_name": "Status"}),
        "TARGET_SNAPCHAT_CAPI_EVENT_NAME_MAP": json.dumps({"Sale": "PURCHASE", "Refund": "CUSTOM_EVENT_1"}),
        "TARGET_SNAPCHAT_CAPI_DEFAULT_PHONE_COUNTRY": "US",
        "TARGET_SNAPCHAT_CAPI_DEFAULT_CURRENCY": "USD",
        "TARGET_SNAPCHAT_CAPI_REPORT_PATH": str(tmp_path / "out" / "report.json"),
        "TARGET_SNAPCHAT_CAPI_REJECT_PATH": str(tmp_path / "out" / "rejects.jsonl"),
    }
    run = meltano(["run", "tap-offline-csv", "target-snapchat-capi"], run_env, environment=None, cwd=project)
    assert run.returncode == 0, run.stderr.decode()[-4000:]
    expected = {row.order_id for row in rows if row.expect == "ok"}
    assert {event["event_id"] for event in sandbox_process.events()} == expected
    assert json.loads((tmp_path / "out" / "report.json").read_text())["events_delivered"] == len(expected)
    assert TOKEN not in run.stderr.decode() + run.stdout.decode()


def test_a_mapping_in_dotenv_is_merged_key_by_key_with_meltano_yml(tmp_path: Path) -> None:
    """What the README says about .env: Meltano merges an object setting key by key, even a whole JSON object.

    A key of meltano.yml's mapping that .env leaves out survives (here `event_time`); a key set to null there is
    switched off (the target then neither maps nor auto-detects that field).
    """
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    dotenv = {"TARGET_SNAPCHAT_CAPI_MAPPING": json.dumps({"em": "E-mail", "event_name": None})}
    (tmp_path / ".env").write_text("".join(f"{key}='{value}'\n" for key, value in dotenv.items()))
    env = {"MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}"}
    printed = meltano(["config", "print", "target-snapchat-capi"], env, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr.decode()[-3000:]
    assert json.loads(printed.stdout)["mapping"] == {"em": "E-mail", "event_name": None, "event_time": "Purchased At"}


# -- The README's neighbour configurations, as a user copies them -------------------------------------------------


def _readme_loaders() -> dict[str, dict[str, t.Any]]:
    """Every complete `inherit_from: target-snapchat-capi` loader block of the README, by name."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    loaders: dict[str, dict[str, t.Any]] = {}
    for block in text.split("```yaml\n")[1:]:
        body = block.split("```", 1)[0]
        if "inherit_from: target-snapchat-capi" not in body:
            continue
        for plugin in YAML(typ="safe").load(body)["plugins"]["loaders"]:
            loaders[plugin["name"]] = plugin
    return loaders


def _schema(value: t.Any) -> dict[str, t.Any]:
    if isinstance(value, dict):
        return {"type": ["object", "null"], "properties": {key: _schema(item) for key, item in value.items()}}
    if isinstance(value, bool):
        return {"type": ["boolean", "null"]}
    if isinstance(value, int | float):
        return {"type": ["number", "null"]}
    return {"type": ["string", "null"]}


def _merge_schema(into: dict[str, t.Any], schema: dict[str, t.Any]) -> None:
    """Union of the records' schemas, nested objects included (as a tap's schema declares every property)."""
    for key, item in schema.get("properties", {}).items():
        existing = into["properties"].get(key)
        if existing is not None and "properties" in existing and "properties" in item:
            _merge_schema(existing, item)
        else:
            into["properties"].setdefault(key, item)


def _wrapped(**values: t.Any) -> dict[str, t.Any]:
    """singer-io's tap-hubspot shape: each property as {"value", "timestamp"}."""
    return {key: {"value": value, "timestamp": 1_700_000_000_000} for key, value in values.items()}


def _source_records(when: str) -> dict[str, tuple[str, list[dict[str, t.Any]], str]]:
    """Per README loader: (stream, records shaped like that source's, the event_id the one buyer gets)."""
    # The contact fields HubSpot's schema declares and the README mappings read (a mapped column the stream lacks
    # stops the run at SCHEMA time, issue 8.4).
    person = {
        "email": "Ann.Buyer@Example.com",
        "phone": "(415) 555-0100",
        "firstname": "Ann",
        "lastname": "Buyer",
        "city": "San Francisco",
        "state": "CA",
        "zip": "94107",
        "country": "US",
    }
    return {
        "target-snapchat-capi--warehouse": (
            "sales-offline_orders",
            [
                {
                    "order_id": "W-1",
                    "created_at": when,
                    "amount": 42.5,
                    "currency": "EUR",
                    "email": person["email"],
                    "phone": person["phone"],
                    "first_name": "Ann",
                    "last_name": "Buyer",
                    "postal_code": "94107",
                    "country_code": "US",
                    "status": "paid",
                }
            ],
            "W-1",
        ),
        "target-snapchat-capi--hubspot": (
            "contacts",
            [
                {"id": "101", "properties": {**person, "recent_deal_close_date": when, "recent_deal_amount": "42.5"}},
                {"id": "102", "properties": {**person, "recent_deal_close_date": None, "recent_deal_amount": None}},
            ],
            f"101-{when}",
        ),
        "target-snapchat-capi--hubspot-singer": (
            "contacts",
            [
                {"vid": 101, "properties": _wrapped(**person, recent_deal_close_date=when, recent_deal_amount=42.5)},
                {"vid": 102, "properties": _wrapped(**person)},
            ],
            f"101-{when}",
        ),
        "target-snapchat-capi--salesforce": (
            "Contact",
            [
                {
                    "Id": "0035g00000AbCdE",
                    "Email": person["email"],
                    "MobilePhone": person["phone"],
                    "FirstName": "Ann",
                    "LastName": "Buyer",
                    "MailingCity": "San Francisco",
                    "MailingState": "CA",
                    "MailingPostalCode": "94107",
                    "MailingCountry": "US",
                    "Last_Purchase_Date__c": when,
                    "Last_Purchase_Amount__c": 42.5,
                },
                {"Id": "0035g00000ZzZzZ", "Email": "not.a.buyer@example.com", "Last_Purchase_Date__c": None},
            ],
            f"0035g00000AbCdE-{when}",
        ),
    }


def test_the_readme_neighbour_configurations_deliver(tmp_path: Path, sandbox) -> None:
    """Each README loader, as written, on records shaped like its source: one event for the buyer, nothing else."""
    from tests.conftest import SANDBOX_PIXEL_ID, SANDBOX_TOKEN  # noqa: PLC0415
    from tests.target.target_cli import run_target  # noqa: PLC0415

    loaders = _readme_loaders()
    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    sources = _source_records(when)
    assert sorted(loaders) == sorted(sources), "a README loader without a test, or the reverse"
    for name, (stream, records, event_id) in sources.items():
        sandbox.state.reset()
        out = tmp_path / name
        out.mkdir()
        config = {
            **loaders[name]["config"],
            "api_url": sandbox.url,
            "pixel_id": SANDBOX_PIXEL_ID,
            "access_token": SANDBOX_TOKEN,
            "report_path": str(out / "report.json"),
            "report_html_path": str(out / "report.html"),
            "report_history_path": str(out / "history.jsonl"),
            "reject_path": str(out / "rejects.jsonl"),
            # Each loader as if it ran alone: two of them send the same buyer's event, which one shared delivery
            # ledger would (rightly) send only once.
            "ledger_url": f"sqlite:///{out / 'ledger.sqlite'}",
        }
        schema: dict[str, t.Any] = {"type": "object", "properties": {}}
        for record in records:
            _merge_schema(schema, _schema(record))
        # A real tap's schema lists every field, also those the sample records leave out (the target checks the
        # mapped columns against it at SCHEMA time).
        for column in (loaders[name]["config"].get("mapping") or {}).values():
            if column:
                schema["properties"].setdefault(column.split(".", 1)[0], {"type": ["string", "null"]})
        messages = [{"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": []}]
        messages += [{"type": "RECORD", "stream": stream, "record": record} for record in records]
        done = run_target(out, config, messages)
        assert done.returncode == 0, (name, done.stderr.decode()[-3000:])
        events = sandbox.state.events()
        assert [event["event_id"] for event in events] == [event_id], (name, (out / "rejects.jsonl").read_text())
        (event,) = events
        assert event["user_data"]["em"] == [sha("ann.buyer@example.com")], name
        assert float(event["custom_data"]["value"]) == 42.5, name
        # The non-buyers were filtered out by the stream map, not sent and rejected.
        assert json.loads((out / "report.json").read_text())["events_rejected"] == 0, name
