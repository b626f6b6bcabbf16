"""Local paths, globs and `**`, compression, CSV dialects, encodings and typed columns."""

from __future__ import annotations

import bz2
import gzip
import zipfile
from pathlib import Path

import pytest
import zstandard
from tap_helpers import CONVERSION_HEADER, conversion_rows, run_tap, write_csv

CSV_TEXT = "event_id,email,value\nev1,a@example.com,1.5\nev2,b@example.com,2\n"


def _config(path: str | list[str], **extra: object) -> dict:
    return {"path": path, "key_properties": ["event_id"], **extra}


def test_glob_reads_every_matching_file_in_mtime_then_path_order(tmp_path: Path) -> None:
    write_csv(tmp_path / "b.csv", CONVERSION_HEADER, conversion_rows(0, 2), mtime=1_700_000_000)
    write_csv(tmp_path / "a.csv", CONVERSION_HEADER, conversion_rows(2, 2), mtime=1_700_000_000)
    write_csv(tmp_path / "0_newest.csv", CONVERSION_HEADER, conversion_rows(4, 2), mtime=1_700_000_500)
    (tmp_path / "notes.txt").write_text("not a csv\n")

    out = run_tap(_config(str(tmp_path / "*.csv")))

    # Same mtime -> path order (a before b); the newest file last although its name sorts first.
    assert [r["event_id"] for r in out.records] == ["ev2", "ev3", "ev0", "ev1", "ev4", "ev5"]
    assert {r["_sdc_source_file"] for r in out.records} == {
        f"file://{tmp_path}/a.csv",
        f"file://{tmp_path}/b.csv",
        f"file://{tmp_path}/0_newest.csv",
    }


def test_recursive_glob_and_file_url_and_list_of_paths(tmp_path: Path) -> None:
    write_csv(tmp_path / "top.csv", CONVERSION_HEADER, conversion_rows(0, 1))
    write_csv(tmp_path / "x" / "y" / "deep.csv", CONVERSION_HEADER, conversion_rows(1, 1))
    write_csv(tmp_path / "other" / "single.csv", CONVERSION_HEADER, conversion_rows(2, 1))

    recursive = run_tap(_config(f"file://{tmp_path}/x/**/*.csv"))
    assert [r["event_id"] for r in recursive.records] == ["ev1"]

    both = run_tap(_config([f"{tmp_path}/**/*.csv", str(tmp_path / "other" / "single.csv")]))
    # The explicit file is also matched by the glob: read once.
    assert sorted(r["event_id"] for r in both.records) == ["ev0", "ev1", "ev2"]


def test_directory_path_reads_its_files(tmp_path: Path) -> None:
    write_csv(tmp_path / "d" / "one.csv", CONVERSION_HEADER, conversion_rows(0, 3))
    out = run_tap(_config(str(tmp_path / "d")))
    assert len(out.records) == 3


def test_metadata_columns_and_types(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "event_id,n,price,ok,at,day,note\ne1,42,9.99,yes,2024-03-01 12:30:00,2024-03-01,hello\ne2,,,,,,\n"
    )
    config = _config(
        str(tmp_path / "t.csv"),
        column_types={
            "n": "integer",
            "price": "number",
            "ok": "boolean",
            "at": "date-time",
            "day": "date",
        },
    )
    out = run_tap(config)
    first, second = out.records
    assert first["n"] == 42 and first["price"] == 9.99 and first["ok"] is True
    assert first["at"] == "2024-03-01T12:30:00" and first["day"] == "2024-03-01"
    assert first["note"] == "hello"
    assert first["_sdc_source_lineno"] == 2 and second["_sdc_source_lineno"] == 3
    assert first["_sdc_source_file"] == f"file://{tmp_path}/t.csv"
    assert first["_sdc_source_modified_at"].endswith("+00:00")
    # Empty typed values are null; empty strings stay strings.
    assert second["n"] is None and second["ok"] is None and second["note"] == ""
    schema = out.schemas[0]["schema"]["properties"]
    assert schema["n"]["type"] == ["integer", "null"]
    assert schema["at"]["format"] == "date-time"
    assert schema["_sdc_source_lineno"]["type"] == ["integer"]


def test_metadata_columns_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(CSV_TEXT)
    out = run_tap(_config(str(tmp_path / "t.csv"), add_metadata_columns=False))
    assert out.records[0] == {"event_id": "ev1", "email": "a@example.com", "value": "1.5"}
    assert "_sdc_source_file" not in out.schemas[0]["schema"]["properties"]


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        (".gz", gzip.compress),
        (".bz2", bz2.compress),
        (".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
        (".zip", None),
    ],
)
def test_compression_is_inferred_from_the_suffix(tmp_path: Path, suffix: str, compress: object) -> None:
    target = tmp_path / f"drop.csv{suffix}"
    if compress is None:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("drop.csv", CSV_TEXT)
    else:
        target.write_bytes(compress(CSV_TEXT.encode()))  # type: ignore[operator]
    out = run_tap(_config(str(target)))
    assert [r["email"] for r in out.records] == ["a@example.com", "b@example.com"]
    assert out.records[1]["_sdc_source_lineno"] == 3


def test_compression_none_reads_a_gz_named_plain_file(tmp_path: Path) -> None:
    (tmp_path / "plain.csv.gz").write_text(CSV_TEXT)
    out = run_tap(_config(str(tmp_path / "plain.csv.gz"), compression="none"))
    assert len(out.records) == 2


@pytest.mark.parametrize("delimiter", ["\t", "\\t", ";", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    real = "\t" if delimiter == "\\t" else delimiter
    (tmp_path / "d.csv").write_text(CSV_TEXT.replace(",", real))
    out = run_tap(_config(str(tmp_path / "d.csv"), delimiter=delimiter))
    assert out.records[0]["email"] == "a@example.com" and out.records[1]["value"] == "2"


def test_quotechar_quoted_newlines_crlf_and_bom(tmp_path: Path) -> None:
    text = "\ufeffevent_id;note;value\r\nev1;'multi\r\nline; with delimiter';1\r\nev2;'it''s';2\r\n"
    (tmp_path / "q.csv").write_bytes(text.encode("utf-8"))
    out = run_tap(_config(str(tmp_path / "q.csv"), delimiter=";", quotechar="'"))
    first, second = out.records
    assert "event_id" in first  # the BOM did not stick to the first header name
    assert first["note"] == "multi\r\nline; with delimiter"
    assert second["note"] == "it's"
    # Line numbers are physical lines: the quoted newline moves row 2 to line 4.
    assert (first["_sdc_source_lineno"], second["_sdc_source_lineno"]) == (2, 4)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "e.csv").write_bytes("event_id,name\nev1,Zoë Müller\n".encode(encoding))
    out = run_tap(_config(str(tmp_path / "e.csv"), encoding=encoding))
    assert out.records[0]["name"] == "Zoë Müller"


def test_utf8_bom_with_skip_rows(tmp_path: Path) -> None:
    text = '\ufeffExport generated by CRM\n# junk line, with "quote\n\nevent_id,email\nev1,a@example.com\n'
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    out = run_tap(_config(str(tmp_path / "s.csv"), skip_rows=3))
    assert out.records == [
        {
            "event_id": "ev1",
            "email": "a@example.com",
            "_sdc_source_file": f"file://{tmp_path}/s.csv",
            "_sdc_source_modified_at": out.records[0]["_sdc_source_modified_at"],
            "_sdc_source_lineno": 5,
        }
    ]


def test_several_streams_from_files_setting(tmp_path: Path) -> None:
    write_csv(tmp_path / "web" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 2))
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "b.tsv").write_text("order\tamount\no1\t3\n")
    config = {
        "files": [
            {"name": "web", "path": str(tmp_path / "web" / "*.csv"), "key_properties": ["event_id"]},
            {
                "name": "store",
                "path": str(tmp_path / "store" / "*.tsv"),
                "delimiter": "\t",
                "column_types": {"amount": "integer"},
            },
        ]
    }
    out = run_tap(config)
    assert len(out.records_of("web")) == 2
    assert out.records_of("store")[0]["amount"] == 3
    assert set(out.final_state["bookmarks"]) == {"web", "store"}
