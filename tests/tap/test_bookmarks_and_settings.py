"""The plain bookmark planner and settings validation, tested directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tap_helpers import run_tap
from tap_offline_csv import bookmarks
from tap_offline_csv.reader import CSVFormat, CSVFormatError
from tap_offline_csv.storage import ConfigError, RemoteFile, redact_url

T0 = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.UTC)


def _file(name: str, minutes: int = 0, size: int = 10, etag: str | None = None) -> RemoteFile:
    return RemoteFile(
        url=f"s3://b/{name}",
        path=f"b/{name}",
        modified=T0 + dt.timedelta(minutes=minutes),
        size=size,
        etag=etag,
    )


def test_plan_skips_done_resumes_partial_and_rereads_changed() -> None:
    done, partial, changed, new = (
        _file("done.csv"),
        _file("partial.csv"),
        _file("changed.csv", etag="v2"),
        _file("new.csv"),
    )
    state = {
        done.url: {**done.fingerprint(), "done": True, "rows": 5, "line": 6},
        partial.url: {**partial.fingerprint(), "done": False, "rows": 3, "line": 4},
        changed.url: {**_file("changed.csv", etag="v1").fingerprint(), "done": True, "rows": 9, "line": 10},
    }
    plan = bookmarks.plan_files([done, partial, changed, new], state, now=T0 + dt.timedelta(days=1))
    assert plan.unchanged == 1
    assert [(task.remote.url, task.resume_after_line, task.rows_already_sent) for task in plan.tasks] == [
        (partial.url, 4, 3),
        (changed.url, 0, 0),
        (new.url, 0, 0),
    ]


def test_plan_settle_and_start_date() -> None:
    old, recent, fresh = _file("old.csv", -600), _file("recent.csv", 0), _file("fresh.csv", 59)
    plan = bookmarks.plan_files(
        [old, recent, fresh],
        {},
        now=T0 + dt.timedelta(minutes=60),
        start_date=T0 - dt.timedelta(minutes=1),
        settle_seconds=120,
    )
    assert [task.remote.url for task in plan.tasks] == [recent.url]
    assert (plan.before_start_date, plan.settling) == (1, 1)


def test_prune_forgets_vanished_files() -> None:
    state = {"s3://b/a.csv": {}, "s3://b/gone.csv": {}}
    assert bookmarks.prune(state, {"s3://b/a.csv"}) == 1
    assert list(state) == ["s3://b/a.csv"]


def test_redact_url_drops_credentials() -> None:
    assert redact_url("sftp://user:pw@host:22/dir/a.csv") == "sftp://host:22/dir/a.csv"
    assert redact_url("https://x.com/a.csv?sig=SECRET") == "https://x.com/a.csv"
    assert redact_url("/plain/path.csv") == "/plain/path.csv"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delimiter": ";;"}, "delimiter must be one character"),
        ({"encoding": "klingon"}, "encoding 'klingon' is not a known text encoding"),
        ({"column_types": {"x": "money"}}, "column_types.x must be one of"),
        ({"on_bad_row": "ignore"}, "on_bad_row must be"),
    ],
)
def test_csv_format_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CSVFormat(**kwargs)


def test_files_and_path_shorthand_are_exclusive(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("event_id\nev1\n")
    with pytest.raises(ConfigError, match="either `files` or the `path` shorthand"):
        run_tap({"path": str(tmp_path / "a.csv"), "files": [{"name": "x", "path": str(tmp_path / "a.csv")}]})
    with pytest.raises(ConfigError, match="No files to read"):
        run_tap({})


def test_key_or_replication_column_missing_from_header_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("event_id\nev1\n")
    with pytest.raises(CSVFormatError, match=r"a\.csv: the header lacks the key column\(s\) order_id"):
        run_tap({"path": str(tmp_path / "a.csv"), "key_properties": ["order_id"]})
    with pytest.raises(ConfigError, match=r"column 'seq' is not in the header of file://.*a\.csv"):
        run_tap({"path": str(tmp_path / "a.csv"), "replication_key": "seq"})


def test_server_paths_named_like_the_host_keep_distinct_urls() -> None:
    from tap_offline_csv.storage import _url_for  # noqa: PLC0415

    # A folder named like the SFTP host must not be taken for it: two files, two bookmarks.
    assert _url_for("sftp", "sftp://data/data/*.csv", "/data/x.csv") == "sftp://data/data/x.csv"
    assert _url_for("sftp", "sftp://data/*.csv", "/x.csv") == "sftp://data/x.csv"
    assert _url_for("ftp", "ftp://u:pw@files:21/in/*.csv", "/in/a.csv") == "ftp://files:21/in/a.csv"
    # Bucket stores list "bucket/key".
    assert _url_for("s3", "s3://bkt/p/*.csv", "bkt/p/x.csv") == "s3://bkt/p/x.csv"
