"""Every tap setting that can hold a secret is marked secret in the settings schema (Meltano keeps such settings out
of meltano.yml and masks them in `config list`), storage_options included; a password in a path URL is warned about."""

from __future__ import annotations

import logging
import typing as t

import pytest
from tap_offline_csv.storage import SourceError
from tap_offline_csv.tap import TapOfflineCSV

SECRET_WORDS = ("password", "secret", "token", "passphrase", "credential", "account_key", "access_key")
NOT_SECRETS = {"private_key_path", "key_properties", "replication_key", "host_key", "known_hosts_path"}


def _leaves(schema: dict[str, t.Any], prefix: str = "") -> t.Iterator[tuple[str, dict[str, t.Any]]]:
    for name, spec in schema.get("properties", {}).items():
        yield prefix + name, spec
        yield from _leaves(spec, prefix + name + ".")
        items = spec.get("items")
        if isinstance(items, dict):
            yield from _leaves(items, prefix + name + "[].")


def test_every_setting_that_can_hold_a_secret_is_marked_secret() -> None:
    settings = dict(_leaves(TapOfflineCSV.config_jsonschema))
    marked = {name for name, spec in settings.items() if spec.get("secret")}
    for name in settings:
        leaf = name.rsplit(".", 1)[-1]
        if leaf in NOT_SECRETS:
            continue
        if any(word in leaf for word in SECRET_WORDS) or leaf in {"private_key", "aws_access_key_id"}:
            assert name in marked, f"{name} can hold a secret but is not marked secret"
    # Options handed to fsspec hold passwords and account keys (ftp, az, gs...): the whole object is secret.
    assert "storage_options" in marked
    assert {"s3.aws_secret_access_key", "s3.aws_session_token", "sftp.password", "sftp.private_key"} <= marked
    assert settings["storage_options"].get("writeOnly") is True


def test_a_password_in_a_path_url_is_warned_about_without_showing_it(caplog: pytest.LogCaptureFixture) -> None:
    config = {"path": "ftp://acme:hunter2-secret@127.0.0.1:9/out/*.csv"}  # nothing listens on port 9
    with caplog.at_level(logging.WARNING), pytest.raises(SourceError) as failed:
        TapOfflineCSV(config=config, parse_env_config=False).sync_all()
    assert "hunter2-secret" not in caplog.text + str(failed.value)
    assert "ftp://127.0.0.1:9/out/*.csv holds a password" in caplog.text
    assert "storage_options.ftp.password" in caplog.text
