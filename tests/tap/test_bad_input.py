"""The bad-input corpus: each case has a defined behaviour and a message naming file and line.

Messages never carry row content: every bad row below holds PII-like markers that must not appear
in logs, exceptions or state.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from tap_helpers import run_cli, run_tap
from tap_offline_csv.reader import BadRowError, CSVFileReader, CSVFormat, CSVFormatError
from tap_offline_csv.storage import SourceError

PII = "jane.secret@example.com"


def _run(tmp_path: Path, content: bytes | str, name: str = "bad.csv", **extra: object):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    config = {"path": str(path), **extra}
    return run_tap(config), f"file://{path}"


def _warnings(out) -> list[str]:
    return [line for line in out.logs if line.startswith("WARNING")]


def _assert_private(out) -> None:
    text = "\n".join(out.logs) + json.dumps(out.states)
    assert PII not in text


def test_empty_file_is_reported_and_marked_done(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("event_id,email\nev1,a@example.com\n")
    (tmp_path / "b.csv").write_bytes(b"")
    out = run_tap({"path": str(tmp_path / "*.csv")})
    assert len(out.records) == 1
    assert any(f"file://{tmp_path}/b.csv: the file is empty" in line for line in _warnings(out))
    assert out.files_state()[f"file://{tmp_path}/b.csv"]["done"] is True


def test_discovery_of_only_empty_files_fails_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(b"")
    with pytest.raises(SourceError, match=r"b\.csv.*every matching file is empty"):
        run_tap({"path": str(tmp_path / "b.csv")})


def test_header_only_file_gives_no_rows(tmp_path: Path) -> None:
    out, url = _run(tmp_path, "event_id,email\r\n")
    assert out.records == []
    assert out.files_state()[url]["done"] is True
    assert any(f"{url}: 0 records emitted" in line for line in out.logs)


def test_too_many_and_too_few_fields_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    content = f"event_id,email,value\nev1,a@example.com,1\nev2,{PII},2,extra\nev3,{PII}\nev4,d@example.com,4\n"
    out, url = _run(tmp_path, content)
    assert [r["event_id"] for r in out.records] == ["ev1", "ev4"]
    warnings = _warnings(out)
    assert f"WARNING {url} line 3: too many fields (4 instead of 3); row skipped" in warnings
    assert f"WARNING {url} line 4: too few fields (2 instead of 3); row skipped" in warnings
    summary = next(line for line in out.logs if f"{url}: 2 records emitted" in line)
    assert "2 bad rows skipped (too few fields: 1, too many fields: 1)" in summary
    _assert_private(out)


def test_on_bad_row_fail_stops_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"event_id,email\nev1,a@example.com\nev2,{PII},x\n")
    with pytest.raises(BadRowError) as caught:
        run_tap({"path": str(path), "on_bad_row": "fail"})
    assert str(caught.value) == f"file://{path} line 3: too many fields (3 instead of 2)"
    # Through the CLI: non-zero exit, the message names file and line, not the content.
    out = run_cli(tmp_path, {"path": str(path), "on_bad_row": "fail"})
    assert out.returncode != 0
    assert f"file://{path} line 3: too many fields" in out.stderr
    assert PII not in out.stderr


def test_unterminated_quote_names_the_line_where_it_opened(tmp_path: Path) -> None:
    content = f'event_id,email\nev1,a@example.com\nev2,"{PII}\nev3,c@example.com\nev4,d@example.com\n'
    out, url = _run(tmp_path, content)
    assert [r["event_id"] for r in out.records] == ["ev1"]
    assert any(
        f"{url} line 3: unterminated quote: the quoted field opened on this line never closes; "
        "lines 3-5 (3 lines) could not be read" in line
        for line in _warnings(out)
    )
    _assert_private(out)


def test_malformed_quote_mid_file_skips_only_that_row(tmp_path: Path) -> None:
    content = f'event_id,email\nev1,"{PII}"junk\nev2,b@example.com\n'
    out, url = _run(tmp_path, content)
    assert [r["event_id"] for r in out.records] == ["ev2"]
    assert any(f"{url} line 2: malformed quoting" in line for line in _warnings(out))
    _assert_private(out)


def test_invalid_bytes_for_the_encoding_skip_the_row(tmp_path: Path) -> None:
    content = b"event_id,email\nev1,a@example.com\nev2,jane\xff\xfe.secret@example.com\nev3,c@example.com\n"
    out, url = _run(tmp_path, content)
    assert [r["event_id"] for r in out.records] == ["ev1", "ev3"]
    assert f"WARNING {url} line 3: bytes not valid in utf-8; row skipped" in _warnings(out)
    assert ".secret@example.com" not in "\n".join(out.logs)


def test_invalid_bytes_in_many_rows_of_a_large_file_are_each_attributed(tmp_path: Path) -> None:
    lines = ["event_id,email"]
    for i in range(20_000):
        lines.append(f"ev{i},user{i}@example.com" if i % 5000 else f"ev{i},bad\udcff{i}")
    content = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"
    out, _ = _run(tmp_path, content, add_metadata_columns=True)
    assert len(out.records) == 20_000 - 4
    bad_lines = sorted(
        int(line.split(" line ")[1].split(":")[0]) for line in _warnings(out) if "bytes not valid" in line
    )
    assert bad_lines == [2, 5002, 10002, 15002]


def test_duplicate_and_blank_header_names_are_renamed(tmp_path: Path) -> None:
    out, url = _run(tmp_path, "event_id,email,,email,email\nev1,a,b,c,d\n")
    assert out.records[0] | {} == {
        **out.records[0],
        "event_id": "ev1",
        "email": "a",
        "column_3": "b",
        "email_2": "c",
        "email_3": "d",
    }
    warning = next(line for line in _warnings(out) if "renamed" in line)
    assert url in warning and "column_3" in warning and "email_2" in warning


def test_header_differing_from_the_stream_schema(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("event_id,email,value\nev1,a@example.com,1\n")
    (tmp_path / "b.csv").write_text("value,event_id,new_col\n2,ev2,zzz\n")
    import os  # noqa: PLC0415

    os.utime(tmp_path / "a.csv", (1_700_000_000, 1_700_000_000))
    os.utime(tmp_path / "b.csv", (1_700_000_100, 1_700_000_100))
    out = run_tap({"path": str(tmp_path / "*.csv"), "key_properties": ["event_id"]})
    second = out.records[1]
    # Mapped by name; the extra column is dropped; the missing one is null.
    assert (second["event_id"], second["value"], second["email"]) == ("ev2", "2", None)
    assert "new_col" not in second
    warning = next(line for line in _warnings(out) if "header differs" in line)
    assert f"file://{tmp_path}/b.csv" in warning and "new_col" in warning and "email" in warning


def test_header_sharing_no_column_or_lacking_the_key_fails_with_on_bad_row_fail(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("event_id,email\nev1,a@example.com\n")
    os_time = 1_700_000_000
    import os  # noqa: PLC0415

    os.utime(tmp_path / "a.csv", (os_time, os_time))
    (tmp_path / "b.csv").write_text("other,columns\n1,2\n")
    with pytest.raises(CSVFormatError, match=r"b\.csv: the header shares no column"):
        run_tap({"path": str(tmp_path / "*.csv"), "on_bad_row": "fail"})
    (tmp_path / "b.csv").write_text("email\nx@example.com\n")
    with pytest.raises(CSVFormatError, match=r"b\.csv: the header lacks the key column\(s\) event_id"):
        run_tap({"path": str(tmp_path / "*.csv"), "key_properties": ["event_id"], "on_bad_row": "fail"})


def test_an_unreadable_file_is_set_aside_and_the_files_after_it_are_read(tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    for name, content, mtime in [
        ("a.csv", "event_id,email\nev1,a@example.com\n", 1_700_000_000),
        ("b.csv", "Event ID,Email\nev2,b@example.com\n", 1_700_000_100),  # renamed columns: none shared
        ("c.csv", "event_id,email\nev3,c@example.com\n", 1_700_000_200),
    ]:
        (tmp_path / name).write_text(content)
        os.utime(tmp_path / name, (mtime, mtime))
    config = {"path": str(tmp_path / "*.csv"), "key_properties": ["event_id"]}
    out = run_tap(config)
    assert [record["event_id"] for record in out.records] == ["ev1", "ev3"]
    bad = out.files_state()[f"file://{tmp_path}/b.csv"]
    assert bad["done"] is True
    assert "shares no column" in bad["error"]
    assert any(line.startswith("ERROR") and "b.csv" in line and "file skipped" in line for line in out.logs)
    # Unchanged, it stays aside; fixed, it is read.
    assert run_tap(config, state=out.final_state).records == []
    (tmp_path / "b.csv").write_text("event_id,email\nev2,b@example.com\n")
    fixed = run_tap(config, state=out.final_state)
    assert [record["event_id"] for record in fixed.records] == ["ev2"]


def test_unparsable_typed_value_is_a_bad_row(tmp_path: Path) -> None:
    out, url = _run(
        tmp_path,
        f"event_id,n,when\nev1,12,2024-01-01\nev2,{PII},2024-01-01\nev3,3,yesterday\n",
        column_types={"n": "integer", "when": "date"},
    )
    assert [r["event_id"] for r in out.records] == ["ev1"]
    assert f"WARNING {url} line 3: column 'n': not a valid integer; row skipped" in _warnings(out)
    assert f"WARNING {url} line 4: column 'when': not a valid date; row skipped" in _warnings(out)
    _assert_private(out)


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    out, _ = _run(tmp_path, "event_id\n\nev1\n\n\nev2\n")
    assert [(r["event_id"], r["_sdc_source_lineno"]) for r in out.records] == [("ev1", 3), ("ev2", 6)]


def test_very_long_lines(tmp_path: Path) -> None:
    long_value = "x" * 2_000_000
    out, _ = _run(tmp_path, f"event_id,blob\nev1,{long_value}\nev2,short\n")
    assert [len(r["blob"]) for r in out.records] == [2_000_000, 5]

    # Beyond the field size limit: a bad row, the next rows still read.
    fmt = CSVFormat(max_field_size=1000)
    data = io.BytesIO(f"event_id,blob\nev1,{'y' * 5000}\nev2,ok\n".encode())
    with CSVFileReader(data, "file:///long.csv", fmt) as reader:
        rows = list(reader.rows())
    assert [row["event_id"] for _, row in rows] == ["ev2"]
    assert reader.stats.skipped == {"field too long": 1}


def test_corrupt_compressed_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(b"event_id\nev1\n")[:-12] + b"garbage")
    with pytest.raises(CSVFormatError, match=r"x\.csv\.gz: cannot be decompressed"):
        run_tap({"path": str(tmp_path / "x.csv.gz"), "on_bad_row": "fail"})
    skipped = run_tap({"path": str(tmp_path / "x.csv.gz")})
    assert any("x.csv.gz: cannot be decompressed" in line and "file skipped" in line for line in skipped.logs)


def test_missing_path_fails_fast_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "*.csv"
    out = run_cli(tmp_path, {"path": str(missing)})
    assert out.returncode != 0
    assert f"{missing}: no file matches this path" in out.stderr


def _peak_memory_reading(tmp_path: Path, rows: int) -> int:
    path = tmp_path / f"big{rows}.csv.gz"
    with gzip.open(path, "wb") as gz:
        gz.write(b"event_id,email,value\n")
        gz.write("".join(f"ev{i},user{i}@example.com,{i}.25\n" for i in range(rows)).encode())
    tracemalloc.start()
    try:
        with CSVFileReader(path.open("rb"), f"file://{path}", CSVFormat(column_types={"value": "number"})) as reader:
            count = sum(1 for _ in reader.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    return peak


def test_memory_stays_flat_however_large_the_file(tmp_path: Path) -> None:
    small = _peak_memory_reading(tmp_path, 10_000)  # ~0.3 MB of text
    large = _peak_memory_reading(tmp_path, 60_000)  # ~2 MB of text
    assert large < 1_000_000
    assert abs(large - small) < 100_000  # streamed: the peak does not grow with the file


def test_excel_bom_before_a_quoted_header(tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" export: a byte-order mark, then a quoted header."""
    out, _ = _run(tmp_path, b'\xef\xbb\xbf"event_id","email"\r\n"ev1","a@example.com"\r\n', key_properties=["event_id"])
    assert [record["event_id"] for record in out.records] == ["ev1"]
    assert "email" in out.records[0]


def test_blank_lines_above_the_header_are_skipped(tmp_path: Path) -> None:
    out, url = _run(tmp_path, "\n,,\nevent_id,email\nev1,a@example.com\nev2,b@example.com\n")
    assert [record["event_id"] for record in out.records] == ["ev1", "ev2"]
    assert [record["_sdc_source_lineno"] for record in out.records] == [4, 5]
    assert out.files_state()[url]["rows"] == 2


def test_truncated_zstd_file_is_not_taken_for_a_whole_one(tmp_path: Path) -> None:
    import zstandard  # noqa: PLC0415

    rows = "".join(f"ev{n},{n}123.45\n" for n in range(50_000))
    whole = zstandard.ZstdCompressor().compress(("event_id,amount\n" + rows).encode())
    (tmp_path / "x.csv.zst").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CSVFormatError, match=r"x\.csv\.zst: cannot be decompressed or read after line \d+"):
        run_tap({"path": str(tmp_path / "x.csv.zst"), "on_bad_row": "fail"})
    out = run_tap({"path": str(tmp_path / "x.csv.zst")})
    # Every row sent is a whole row of the file; none is a row cut short by the truncation.
    assert all(record["amount"] == f"{record['event_id'][2:]}123.45" for record in out.records)
    assert 0 < len(out.records) < 50_000
    assert "cannot be decompressed" in out.files_state()[f"file://{tmp_path}/x.csv.zst"]["error"]
