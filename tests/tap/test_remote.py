"""Each remote source against a real server on 127.0.0.1: S3 (moto), SFTP (asyncssh), FTP (pyftpdlib)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import asyncssh
import pytest
from conftest import FTP_PASSWORD, FTP_USER, S3_SECRET, SFTP_PASSWORD, SFTP_USER
from tap_helpers import CONVERSION_HEADER, conversion_rows, run_cli, run_tap, write_csv
from tap_offline_csv.storage import SourceError

# pyftpdlib imports asyncore/asynchat, deprecated in Python 3.11.
pytestmark = pytest.mark.filterwarnings("ignore:The asyn:DeprecationWarning")

CSV_TEXT = "event_id,email,value\nev1,a@example.com,1.5\nev2,b@example.com,2\n"


def _no_secret_anywhere(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


# -- S3 -----------------------------------------------------------------------------------------


def test_s3_incremental_read_through_endpoint_url(s3_server, tmp_path: Path) -> None:
    bucket = f"drops-{uuid.uuid4().hex[:8]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=CSV_TEXT.encode())
    client.put_object(Bucket=bucket, Key="in/skip.txt", Body=b"x")
    config = {
        "path": f"s3://{bucket}/in/*.csv*",
        "key_properties": ["event_id"],
        "s3": s3_server.settings(),
        "column_types": {"value": "number"},
    }
    first = run_tap(config)
    assert [r["value"] for r in first.records] == [1.5, 2.0]
    url = f"s3://{bucket}/in/a.csv"
    assert first.records[0]["_sdc_source_file"] == url
    bookmark = first.files_state()[url]
    assert bookmark["etag"] and bookmark["done"] is True
    _no_secret_anywhere(json.dumps(first.messages) + "\n".join(first.logs), S3_SECRET)
    _no_secret_anywhere("\n".join(first.logs), "a@example.com")  # row content, even at DEBUG

    unchanged = run_tap(config, state=first.final_state)
    assert unchanged.records == []

    client.put_object(Bucket=bucket, Key="in/b.csv.gz", Body=__import__("gzip").compress(CSV_TEXT.encode()))
    new = run_tap(config, state=unchanged.final_state)
    assert [r["_sdc_source_file"] for r in new.records] == [f"s3://{bucket}/in/b.csv.gz"] * 2


def test_s3_through_the_cli(s3_server, tmp_path: Path) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="a.csv", Body=CSV_TEXT.encode())
    config = {"path": f"s3://{bucket}/a.csv", "s3": s3_server.settings()}
    out = run_cli(tmp_path, config)
    assert out.returncode == 0, out.stderr
    assert [r["email"] for r in out.records] == ["a@example.com", "b@example.com"]
    _no_secret_anywhere(out.stderr + out.stdout, S3_SECRET)  # type: ignore[attr-defined]


def test_s3_missing_key_fails_fast_naming_the_source(s3_server, tmp_path: Path) -> None:
    bucket = f"empty-{uuid.uuid4().hex[:8]}"
    s3_server.client().create_bucket(Bucket=bucket)
    config = {"path": f"s3://{bucket}/nothing/*.csv", "s3": s3_server.settings()}
    out = run_cli(tmp_path, config)
    assert out.returncode != 0
    assert f"s3://{bucket}/nothing/*.csv: no file matches this path" in out.stderr
    _no_secret_anywhere(out.stderr, S3_SECRET)


def test_s3_unreachable_endpoint_fails_fast(tmp_path: Path) -> None:
    from conftest import free_port  # noqa: PLC0415

    config = {
        "path": "s3://bucket/a.csv",
        "s3": {
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "aws_access_key_id": "k",
            "aws_secret_access_key": S3_SECRET,
        },
    }
    started = time.monotonic()
    out = run_cli(tmp_path, config)
    assert out.returncode != 0
    assert time.monotonic() - started < 45
    assert "s3://bucket/a.csv:" in out.stderr
    _no_secret_anywhere(out.stderr, S3_SECRET)


# -- SFTP ---------------------------------------------------------------------------------------


def _sftp_drop(sftp_server, name: str) -> str:
    folder = f"drops-{uuid.uuid4().hex[:8]}"
    write_csv(sftp_server.root / folder / name, CONVERSION_HEADER, conversion_rows(0, 3))
    return folder


def _known_hosts(tmp_path: Path, sftp_server) -> str:
    path = tmp_path / "known_hosts"
    path.write_text(sftp_server.known_hosts_line())
    return str(path)


def test_sftp_password_login_with_known_hosts(sftp_server, tmp_path: Path) -> None:
    folder = _sftp_drop(sftp_server, "a.csv")
    config = {
        "path": sftp_server.url(f"{folder}/*.csv"),
        "sftp": {
            "username": SFTP_USER,
            "password": SFTP_PASSWORD,
            "known_hosts_path": _known_hosts(tmp_path, sftp_server),
        },
    }
    first = run_tap(config)
    assert [r["event_id"] for r in first.records] == ["ev0", "ev1", "ev2"]
    url = f"sftp://127.0.0.1:{sftp_server.port}/{folder}/a.csv"
    assert first.records[0]["_sdc_source_file"] == url
    assert first.files_state()[url]["done"] is True
    _no_secret_anywhere(json.dumps(first.messages) + "\n".join(first.logs), SFTP_PASSWORD)
    _no_secret_anywhere("\n".join(first.logs), "user0@example.com")
    again = run_tap(config, state=first.final_state)
    assert again.records == []


def test_sftp_key_login_with_pinned_host_key_and_key_file(sftp_server, tmp_path: Path) -> None:
    folder = _sftp_drop(sftp_server, "k.csv")
    pem = sftp_server.client_key.export_private_key("pkcs8-pem", passphrase="key-pass").decode()
    pinned = sftp_server.host_key.export_public_key().decode()
    config = {
        "path": sftp_server.url(f"{folder}/k.csv"),
        "sftp": {
            "username": SFTP_USER,
            "private_key": pem,
            "private_key_passphrase": "key-pass",
            "host_key": pinned,
        },
    }
    assert len(run_tap(config).records) == 3

    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(sftp_server.client_key.export_private_key("openssh"))
    config["sftp"] = {
        "username": SFTP_USER,
        "private_key_path": str(key_file),
        "known_hosts_path": _known_hosts(tmp_path, sftp_server),
    }
    out = run_cli(tmp_path, config)
    assert out.returncode == 0, out.stderr
    assert len(out.records) == 3


def test_sftp_wrong_host_key_fails(sftp_server, tmp_path: Path) -> None:
    folder = _sftp_drop(sftp_server, "a.csv")
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    config = {
        "path": sftp_server.url(f"{folder}/*.csv"),
        "sftp": {"username": SFTP_USER, "password": SFTP_PASSWORD, "host_key": other},
    }
    with pytest.raises(SourceError) as caught:
        run_tap(config)
    message = str(caught.value)
    assert f"sftp://127.0.0.1:{sftp_server.port}/{folder}/*.csv" in message
    assert "host key" in message.lower()
    assert SFTP_PASSWORD not in message


def test_sftp_host_key_check_off_logs_a_warning(sftp_server, tmp_path: Path) -> None:
    folder = _sftp_drop(sftp_server, "a.csv")
    config = {
        "path": sftp_server.url(f"{folder}/*.csv"),
        "sftp": {"username": SFTP_USER, "password": SFTP_PASSWORD, "host_key_check": False},
    }
    out = run_tap(config)
    assert len(out.records) == 3
    assert any(line.startswith("WARNING") and "host key checking is turned off" in line for line in out.logs)


def test_sftp_refused_login_fails_fast_without_the_password(sftp_server, tmp_path: Path) -> None:
    folder = _sftp_drop(sftp_server, "a.csv")
    wrong = "wrong-password-do-not-log"
    config = {
        "path": sftp_server.url(f"{folder}/*.csv"),
        "sftp": {
            "username": SFTP_USER,
            "password": wrong,
            "known_hosts_path": _known_hosts(tmp_path, sftp_server),
        },
    }
    started = time.monotonic()
    out = run_cli(tmp_path, config)
    assert out.returncode != 0
    assert time.monotonic() - started < 30
    assert f"sftp://127.0.0.1:{sftp_server.port}/{folder}/*.csv: login refused" in out.stderr
    _no_secret_anywhere(out.stderr, wrong, SFTP_PASSWORD)


def test_sftp_unreachable_server_fails_fast(tmp_path: Path) -> None:
    from conftest import free_port  # noqa: PLC0415

    port = free_port()
    config = {
        "path": f"sftp://127.0.0.1:{port}/x/*.csv",
        "sftp": {"username": "u", "password": SFTP_PASSWORD, "host_key_check": False, "connect_timeout": 5},
    }
    with pytest.raises(SourceError) as caught:
        run_tap(config)
    assert f"sftp://127.0.0.1:{port}/x/*.csv" in str(caught.value)
    assert SFTP_PASSWORD not in str(caught.value)


def test_sftp_credentials_in_url_never_reach_state_or_records(sftp_server, tmp_path: Path) -> None:
    folder = _sftp_drop(sftp_server, "a.csv")
    config = {
        "path": f"sftp://{SFTP_USER}:{SFTP_PASSWORD}@127.0.0.1:{sftp_server.port}/{folder}/*.csv",
        "sftp": {"password": SFTP_PASSWORD, "known_hosts_path": _known_hosts(tmp_path, sftp_server)},
    }
    out = run_tap(config)
    assert len(out.records) == 3
    _no_secret_anywhere(json.dumps(out.messages) + "\n".join(out.logs), SFTP_PASSWORD)


# -- FTP ----------------------------------------------------------------------------------------


def test_ftp_through_storage_options(ftp_server, tmp_path: Path) -> None:
    folder = f"ftp-{uuid.uuid4().hex[:8]}"
    write_csv(ftp_server.root / folder / "a.csv", CONVERSION_HEADER, conversion_rows(0, 4))
    config = {
        "path": ftp_server.url(f"{folder}/*.csv"),
        "key_properties": ["event_id"],
        "storage_options": {"ftp": {"username": FTP_USER, "password": FTP_PASSWORD}},
    }
    first = run_tap(config)
    assert [r["event_id"] for r in first.records] == ["ev0", "ev1", "ev2", "ev3"]
    url = f"ftp://127.0.0.1:{ftp_server.port}/{folder}/a.csv"
    assert first.records[0]["_sdc_source_file"] == url
    assert url in first.files_state()
    _no_secret_anywhere(json.dumps(first.messages) + "\n".join(first.logs), FTP_PASSWORD)
    _no_secret_anywhere("\n".join(first.logs), "user0@example.com")
    assert run_tap(config, state=first.final_state).records == []


def test_ftp_refused_login_names_the_source_not_the_password(ftp_server, tmp_path: Path) -> None:
    wrong = "bad-ftp-pass-do-not-log"
    config = {
        "path": ftp_server.url("x/*.csv"),
        "storage_options": {"ftp": {"username": FTP_USER, "password": wrong}},
    }
    with pytest.raises(SourceError) as caught:
        run_tap(config)
    assert ftp_server.url("x/*.csv") in str(caught.value)
    assert wrong not in str(caught.value)


# -- HTTP (any other fsspec protocol, through storage_options) --------------------------------


def test_http_file_through_storage_options(tmp_path: Path) -> None:
    import functools  # noqa: PLC0415
    import threading  # noqa: PLC0415
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer  # noqa: PLC0415

    (tmp_path / "drop.csv").write_text(CSV_TEXT)
    quiet = type("QuietHandler", (SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    handler = functools.partial(quiet, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/drop.csv"
        config = {"path": url, "storage_options": {"http": {"headers": {"User-Agent": "tap-offline-csv-test"}}}}
        first = run_tap(config)
        assert [r["email"] for r in first.records] == ["a@example.com", "b@example.com"]
        assert first.records[0]["_sdc_source_file"] == url
        assert run_tap(config, state=first.final_state).records == []
    finally:
        server.shutdown()
        thread.join(5)


def test_credentials_of_every_path_in_a_list_stay_out_of_errors(ftp_server, tmp_path: Path) -> None:
    """Every path of a list is named without its credentials, not only the first one."""
    folder = f"empty-{uuid.uuid4().hex[:8]}"
    (ftp_server.root / folder).mkdir()
    (ftp_server.root / folder / "b.csv").write_bytes(b"")
    (tmp_path / "a.csv").write_bytes(b"")
    ftp_url = f"ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{ftp_server.port}/{folder}/b.csv"
    with pytest.raises(SourceError, match="every matching file is empty") as caught:
        run_tap({"path": [str(tmp_path / "a.csv"), ftp_url]})
    assert FTP_PASSWORD not in str(caught.value)
    assert f"127.0.0.1:{ftp_server.port}/{folder}/b.csv" in str(caught.value)
