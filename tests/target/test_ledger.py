"""The delivery ledger (target_snapchat_capi/ledger.py) against an SQLite file and a real PostgreSQL server, and in
the target: what is in it is not sent again, and what Snap accepted is in it before the STATE that covers it."""

from __future__ import annotations

import _sqlite3
import ctypes
import itertools
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from target_snapchat_capi import ledger as ledger_module
from target_snapchat_capi.ledger import Ledger, LedgerError, main
from target_snapchat_capi.sandbox import SandboxServer
from target_snapchat_capi.settings import LedgerSettings, SettingError, Settings

from tests.conftest import SANDBOX_PIXEL_ID, SANDBOX_TOKEN
from tests.servers.postgres import PostgresServer
from tests.target.target_cli import run_target

PIXEL = "11111111-2222-4333-8444-555555555555"
OTHER_PIXEL = "99999999-2222-4333-8444-555555555555"
SECRET = "Ledger-S3cret/p@ss:word"  # characters a URL must escape
_database_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty ledger location of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger' / 'ledger.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"ledger_{next(_database_numbers)}")


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    with Ledger.open(ledger_url) as opened:
        yield opened


def keys(event_name: str, ids: range | list[str]) -> list[tuple[str, str]]:
    return [(event_name, str(event_id)) for event_id in ids]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


# --- lookups and writes -------------------------------------------------------------------------------------


def test_lookup_finds_exactly_what_was_recorded_per_pixel_and_event_name(ledger: Ledger) -> None:
    assert ledger.already_delivered(PIXEL, keys("PURCHASE", ["A", "B"])) == set()
    ledger.record_delivered(PIXEL, [("PURCHASE", "A"), ("SIGN_UP", "B")])

    asked = [("PURCHASE", "A"), ("PURCHASE", "B"), ("SIGN_UP", "A"), ("SIGN_UP", "B"), ("PURCHASE", "C")]
    assert ledger.already_delivered(PIXEL, asked) == {("PURCHASE", "A"), ("SIGN_UP", "B")}
    # Another pixel is another ledger: the same event there was never delivered.
    assert ledger.already_delivered(OTHER_PIXEL, asked) == set()
    assert ledger.already_delivered(PIXEL, []) == set()


def test_lookup_of_batches_larger_than_one_statement(ledger: Ledger) -> None:
    size = ledger_module.LOOKUP_CHUNK_SIZE * 2 + 17
    ledger.record_delivered(PIXEL, keys("PURCHASE", range(0, size, 2)))
    ledger.record_delivered(PIXEL, keys("CUSTOM_EVENT_1", range(1, size, 2)))

    asked = keys("PURCHASE", range(size)) + keys("CUSTOM_EVENT_1", range(size))
    found = ledger.already_delivered(PIXEL, asked)
    assert found == set(keys("PURCHASE", range(0, size, 2))) | set(keys("CUSTOM_EVENT_1", range(1, size, 2)))


def test_lookups_stay_fast_on_a_long_lived_connection(ledger: Ledger) -> None:
    """Regression: PostgreSQL switched the lookup to a generic plan after ten runs on one connection (psycopg
    prepares repeated statements) and scanned the whole table for each: 40,000 lookups took 27 s instead of 1 s.
    Twenty batches in one call must cost about twenty times one batch (a ratio: the machine's load cancels out)."""
    for start in range(0, 40_000, 2000):
        ledger.record_delivered(PIXEL, keys("PURCHASE", range(start, start + 2000)))
    started = time.perf_counter()
    assert len(ledger.already_delivered(PIXEL, keys("PURCHASE", range(2000)))) == 2000
    one_batch = time.perf_counter() - started
    started = time.perf_counter()
    assert len(ledger.already_delivered(PIXEL, keys("PURCHASE", range(40_000)))) == 40_000
    twenty_batches = time.perf_counter() - started
    assert twenty_batches < 5 * 20 * one_batch + 1, (one_batch, twenty_batches)


def _sqlite_memory_used() -> Callable[[], int]:
    """SQLite's own heap in bytes (sqlite3_memory_used, process-wide): what tracemalloc and Python's counters miss."""
    library = ctypes.CDLL(_sqlite3.__file__)  # the symbol resolves in the module or in the libsqlite3 it links
    try:
        memory_used = library.sqlite3_memory_used
    except AttributeError:
        pytest.skip("this Python's sqlite3 does not export sqlite3_memory_used")
    memory_used.restype = ctypes.c_int64
    return lambda: int(memory_used())


def test_sqlite_lookups_of_changing_sizes_keep_sqlite_memory_flat(tmp_path: Path) -> None:
    """Regression: Python's sqlite3 keeps up to 128 prepared statements per connection, keyed by their text, and a
    lookup's text has one placeholder per id. A batch splits between its event names unevenly (1,210 + 790, then
    1,185 + 815, ...), so nearly every lookup was a new statement of about 0.2 KB per placeholder: the target's
    SQLite heap grew to some 30 MB within a 1M-event run. Lookups of every size must share a few statements."""
    memory_used = _sqlite_memory_used()
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        ledger.record_delivered(PIXEL, keys("PURCHASE", range(0, 2000, 3)))
        assert ledger.already_delivered(PIXEL, keys("PURCHASE", range(3))) == {("PURCHASE", "0")}
        before = memory_used()
        for purchases in range(1000, 2000, 10):  # 100 batches of 2000, each split differently
            asked = keys("PURCHASE", range(purchases)) + keys("CUSTOM_EVENT_1", range(2000 - purchases))
            expected = set(keys("PURCHASE", range(0, purchases, 3)))
            assert ledger.already_delivered(PIXEL, asked) == expected
        grown = memory_used() - before
    assert grown < 4 * 2**20, f"SQLite's heap grew by {grown / 2**20:.1f} MB over 100 lookups"


def test_an_sqlite_ledger_does_not_load_postgresql_support(tmp_path: Path) -> None:
    """PostgreSQL's dialect is about 2 MB of the target's memory, of no use to a run on the default SQLite file."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    result = run_python(f"""
        import sys
        from target_snapchat_capi.ledger import Ledger
        with Ledger.open("{url}") as ledger:
            ledger.record_delivered("pixel", [("PURCHASE", "1")])
            assert ledger.already_delivered("pixel", [("PURCHASE", "1")]) == {{("PURCHASE", "1")}}
        print(sorted(name for name in sys.modules if "postgres" in name or "psycopg" in name))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_writes_are_idempotent_and_keep_the_first_delivery_time(ledger: Ledger) -> None:
    first = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert ledger.record_delivered(PIXEL, keys("PURCHASE", range(10)), delivered_at=first) == 10
    # The same keys again (a resend after a crash), overlapping new ones, and a key twice in one batch.
    again = [*keys("PURCHASE", range(5, 15)), ("PURCHASE", "14")]
    ledger.record_delivered(PIXEL, again, delivered_at=first + timedelta(days=3))

    [summary] = ledger.summary()
    assert summary.pixel_id == PIXEL
    assert summary.entries == 15
    assert summary.first_delivered_at == first
    assert summary.last_delivered_at == first + timedelta(days=3)
    # Keys 5..9 kept their first time: pruning at first + retention + 1 day removes exactly the ten first ones.
    removed = ledger.prune(now=first + timedelta(days=ledger.retention_days, hours=1))
    assert removed == 10
    assert ledger.already_delivered(PIXEL, keys("PURCHASE", range(15))) == set(keys("PURCHASE", range(10, 15)))


def test_prune_forgets_only_entries_older_than_the_retention(ledger_url: str) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with Ledger.open(ledger_url, retention_days=30) as ledger:
        ledger.record_delivered(PIXEL, keys("PURCHASE", ["old"]), delivered_at=now - timedelta(days=31))
        ledger.record_delivered(PIXEL, keys("PURCHASE", ["edge"]), delivered_at=now - timedelta(days=29))
        ledger.record_delivered(PIXEL, keys("PURCHASE", ["new"]), delivered_at=now - timedelta(hours=1))
        assert ledger.prune(now=now) == 1
        assert ledger.already_delivered(PIXEL, keys("PURCHASE", ["old", "edge", "new"])) == set(
            keys("PURCHASE", ["edge", "new"])
        )
        assert ledger.prune(now=now) == 0


def test_default_retention_is_400_days(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        assert ledger.retention_days == 400 == ledger_module.DEFAULT_RETENTION_DAYS


def test_reset_by_pixel_by_delivery_time_and_all(ledger: Ledger) -> None:
    day = datetime(2026, 11, 20, tzinfo=UTC)
    ledger.record_delivered(PIXEL, keys("PURCHASE", ["d1"]), delivered_at=day)
    ledger.record_delivered(PIXEL, keys("PURCHASE", ["d2"]), delivered_at=day + timedelta(days=1))
    ledger.record_delivered(PIXEL, keys("PURCHASE", ["d3"]), delivered_at=day + timedelta(days=2))
    ledger.record_delivered(OTHER_PIXEL, keys("PURCHASE", ["d1", "d2"]), delivered_at=day)
    everything = keys("PURCHASE", ["d1", "d2", "d3"])

    # Resend what one pixel received on one day.
    removed = ledger.reset(PIXEL, delivered_since=day + timedelta(days=1), delivered_before=day + timedelta(days=2))
    assert removed == 1
    assert ledger.already_delivered(PIXEL, everything) == set(keys("PURCHASE", ["d1", "d3"]))
    assert ledger.already_delivered(OTHER_PIXEL, everything) == set(keys("PURCHASE", ["d1", "d2"]))

    assert ledger.reset(OTHER_PIXEL) == 2
    assert ledger.already_delivered(OTHER_PIXEL, everything) == set()
    assert ledger.already_delivered(PIXEL, everything) == set(keys("PURCHASE", ["d1", "d3"]))

    assert ledger.reset() == 2
    assert ledger.summary() == []


# --- durability and concurrency ------------------------------------------------------------------------------


def test_an_entry_is_durable_when_record_delivered_returns(ledger_url: str) -> None:
    """A process killed (SIGKILL: no cleanup, no close) right after the write: another process sees the entry."""
    writer = run_python(
        f"""
        import os, signal
        from target_snapchat_capi.ledger import Ledger
        ledger = Ledger.open({ledger_url!r})
        ledger.record_delivered({PIXEL!r}, [("PURCHASE", "kept-1"), ("PURCHASE", "kept-2")])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert writer.returncode == -9, writer.stderr
    reader = run_python(
        f"""
        from target_snapchat_capi.ledger import Ledger
        with Ledger.open({ledger_url!r}) as ledger:
            print(sorted(ledger.already_delivered({PIXEL!r}, [("PURCHASE", "kept-1"), ("PURCHASE", "kept-2"),
                                                                ("PURCHASE", "never")])))
        """
    )
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.strip() == "[('PURCHASE', 'kept-1'), ('PURCHASE', 'kept-2')]"


def test_two_runs_writing_the_same_ledger_at_once(ledger_url: str) -> None:
    """Both open a ledger that does not exist yet (table creation races too) and write overlapping batches."""
    script = textwrap.dedent(
        f"""
        import sys
        from target_snapchat_capi.ledger import Ledger
        start = int(sys.argv[1])
        with Ledger.open({ledger_url!r}) as ledger:
            for batch in range(start, start + 30_000, 2000):
                keys = [("PURCHASE", str(n)) for n in range(batch, batch + 2000)]
                ledger.already_delivered({PIXEL!r}, keys)
                ledger.record_delivered({PIXEL!r}, keys)
        """
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script, str(start)], stderr=subprocess.PIPE, text=True)
        for start in (0, 10_000)
    ]
    for run in runs:
        _, errors = run.communicate(timeout=120)
        assert run.returncode == 0, errors
    with Ledger.open(ledger_url) as ledger:
        [summary] = ledger.summary()
        assert summary.entries == 40_000
        assert len(ledger.already_delivered(PIXEL, keys("PURCHASE", range(40_000)))) == 40_000


def test_a_ledger_is_usable_from_another_thread(ledger: Ledger) -> None:
    """The target writes from its sender thread while the main thread builds the next batch."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(lambda n: ledger.record_delivered(PIXEL, keys("PURCHASE", range(n, n + 500))), range(0, 4000, 500))
        )
    assert len(ledger.already_delivered(PIXEL, keys("PURCHASE", range(4000)))) == 4000


# --- settings and errors -------------------------------------------------------------------------------------


def test_an_empty_url_turns_the_ledger_off(tmp_path: Path) -> None:
    assert Ledger.from_setting("") is None
    assert Ledger.from_setting("   ") is None
    assert Ledger.from_setting(None) is None
    opened = Ledger.from_setting(f"sqlite:///{tmp_path / 'x.sqlite'}", 10)
    assert opened is not None and opened.retention_days == 10
    opened.close()


def test_the_default_url_is_an_embedded_file_under_output() -> None:
    assert ledger_module.DEFAULT_LEDGER_URL == "sqlite:///output/snapchat_capi_ledger.sqlite"


def test_the_sqlite_file_and_its_folder_are_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ledger.sqlite"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        ledger.record_delivered(PIXEL, [("PURCHASE", "1")])
    assert path.is_file()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://user:pw@localhost/db", "scheme 'mysql' is not supported"),
        ("postgresql//user:pw@localhost/db", "is not a database URL"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///:memory:", "needs a file path"),
    ],
)
def test_unusable_urls_are_clear_errors(url: str, expected: str) -> None:
    with pytest.raises(LedgerError, match=expected) as caught:
        Ledger.open(url)
    assert "pw" not in str(caught.value)


def test_retention_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="at least 1"):
        Ledger.open(f"sqlite:///{tmp_path / 'l.sqlite'}", retention_days=0)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not an SQLite database, just some bytes " * 100)
    with pytest.raises(LedgerError, match=r"Ledger at sqlite:///.*ledger\.sqlite: opening failed: DatabaseError"):
        Ledger.open(f"sqlite:///{path}")


def test_no_password_in_any_message(postgres_server: PostgresServer) -> None:
    postgres_server.create_password_user("ledger_writer", SECRET)
    database = postgres_server.create_database("ledger_passwords", owner="ledger_writer")
    good = postgres_server.url("ledger_passwords", "ledger_writer", quote(SECRET, safe=""))
    assert database.endswith("/ledger_passwords")
    spellings = (SECRET, quote(SECRET, safe=""), "S3cret")

    def assert_clean(text: str) -> None:
        for spelling in spellings:
            assert spelling not in text

    # The right password works; what the ledger shows of its URL hides it.
    with Ledger.open(good) as ledger:
        ledger.record_delivered(PIXEL, [("PURCHASE", "1")])
        assert ledger.already_delivered(PIXEL, [("PURCHASE", "1")]) == {("PURCHASE", "1")}
        assert ":***@" in ledger.redacted_url
        assert_clean(ledger.redacted_url)
        assert_clean(repr(ledger))

    wrong_password = postgres_server.url("ledger_passwords", "ledger_writer", quote(SECRET + "x", safe=""))
    unreachable = f"postgresql://ledger_writer:{quote(SECRET, safe='')}@127.0.0.1:1/ledger_passwords"
    unknown_database = postgres_server.url("no_such_db", "ledger_writer", quote(SECRET, safe=""))
    raw_secret = f"postgresql://ledger_writer:{SECRET}@127.0.0.1:{postgres_server.port}/x"  # unescaped: unparseable
    for url, expected in [
        (wrong_password, "password authentication failed"),
        (unreachable, "Connection refused"),
        (unknown_database, "does not exist"),
        (raw_secret, "is not a database URL"),
    ]:
        with pytest.raises(LedgerError, match=expected) as caught:
            Ledger.open(url)
        assert_clean(str(caught.value))
        assert caught.value.__cause__ is None

    # A failure after opening (the table gone under a running ledger) names the URL without the password too.
    with Ledger.open(good) as ledger:
        postgres_server.psql(f"DROP TABLE {ledger_module.TABLE_NAME}", database="ledger_passwords")
        with pytest.raises(LedgerError, match="looking up delivered events failed") as caught:
            ledger.already_delivered(PIXEL, [("PURCHASE", "1")])
        assert_clean(str(caught.value))
        assert "ledger_writer:***@" in str(caught.value)


# --- the console script --------------------------------------------------------------------------------------


def test_console_script_show_and_reset(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.record_delivered(PIXEL, keys("PURCHASE", range(3)))
        ledger.record_delivered(OTHER_PIXEL, keys("PURCHASE", range(2)))

    assert main(["--ledger-url", ledger_url, "show"]) == 0
    shown = capsys.readouterr().out
    assert "5 entries" in shown and f"pixel {PIXEL}: 3 entries" in shown

    # Forgetting everything needs --all.
    assert main(["--ledger-url", ledger_url, "reset"]) == 2
    assert "--all" in capsys.readouterr().err

    assert main(["--ledger-url", ledger_url, "reset", "--pixel", OTHER_PIXEL]) == 0
    assert "forgot 2 entries" in capsys.readouterr().out
    assert main(["--ledger-url", ledger_url, "reset", "--since", "2000-01-01", "--before", "2000-01-02"]) == 0
    assert "forgot 0 entries" in capsys.readouterr().out
    assert main(["--ledger-url", ledger_url, "reset", "--all"]) == 0
    assert "forgot 3 entries" in capsys.readouterr().out
    assert main(["--ledger-url", ledger_url, "prune"]) == 0


def test_console_script_is_installed_reads_the_meltano_variable_and_hides_passwords(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "target-snapchat-capi-ledger"
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger.open(url) as ledger:
        ledger.record_delivered(PIXEL, [("PURCHASE", "1")])
    shown = subprocess.run(
        [str(script), "show"],
        env={"TARGET_SNAPCHAT_CAPI_LEDGER_URL": url, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "1 entries" in shown.stdout

    failed = subprocess.run(
        [str(script), "--ledger-url", f"postgresql://u:{quote(SECRET, safe='')}@127.0.0.1:1/db", "reset", "--all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 1
    assert "u:***@127.0.0.1:1/db" in failed.stderr
    assert "S3cret" not in failed.stderr + failed.stdout
    assert "Traceback" not in failed.stderr


# --- the ledger in the target ------------------------------------------------------------------------------

SCHEMA = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["order_id"],
    "schema": {
        "properties": {name: {"type": ["string", "null"]} for name in ("order_id", "email", "amount", "status")}
        | {"ts": {"type": "integer"}}
    },
}


def order_messages(order_ids: list[str], state: dict | None = None) -> list[dict]:
    now = int(time.time())
    records = [
        {
            "type": "RECORD",
            "stream": "orders",
            "record": {"order_id": oid, "email": f"{oid.lower()}@example.com", "amount": "10.00", "ts": now - 60},
        }
        for oid in order_ids
    ]
    return [SCHEMA, *records, {"type": "STATE", "value": state or {"read": len(order_ids)}}]


def target_settings(tmp_path: Path, sandbox: SandboxServer, **overrides: object) -> dict:
    return {
        "pixel_id": SANDBOX_PIXEL_ID,
        "access_token": SANDBOX_TOKEN,
        "api_url": sandbox.url,
        "default_currency": "USD",
        "mapping": {"event_time": "ts"},
        "report_path": str(tmp_path / "report.json"),
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "ledger_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        **overrides,
    }


def read_report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report.json").read_text())


def emitted_states(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]


def test_an_event_in_the_ledger_is_not_sent_again_and_counted_already_delivered(
    tmp_path: Path, sandbox: SandboxServer, ledger_url: str
) -> None:
    config = target_settings(tmp_path, sandbox, ledger_url=ledger_url)
    first = run_target(tmp_path, config, order_messages(["A-1", "A-2", "A-3"]))
    assert first.returncode == 0, first.stderr.decode()[-3000:]
    assert read_report(tmp_path)["events_delivered"] == 3
    requests_after_first = sandbox.state.stats()["requests"]

    # The source re-emits two orders (a full refresh, a CRM edit, an inclusive bookmark) next to a new one.
    second = run_target(tmp_path, config, order_messages(["A-2", "A-3", "A-4"], {"read": "again"}))
    assert second.returncode == 0, second.stderr.decode()[-3000:]
    report = read_report(tmp_path)
    assert report["events_delivered"] == 1
    assert report["already_delivered"] == 2
    assert report["events_rejected"] == 0 and report["rejected_by_reason"] == {}
    assert report["streams"]["orders"]["already_delivered"] == 2
    assert "1 delivered, 2 already delivered, 0 rejected" in second.stderr.decode()
    assert emitted_states(second) == [{"read": "again"}]
    # Snap saw each order once: the second run's one request carried only A-4.
    stats = sandbox.state.stats()
    assert stats["requests"] == requests_after_first + 1
    assert stats["events_received"] == 4 and stats["duplicates"] == 0
    assert sorted(event["event_id"] for event in sandbox.state.events()) == ["A-1", "A-2", "A-3", "A-4"]

    # Nothing new: no request at all, and the STATE still moves.
    third = run_target(tmp_path, config, order_messages(["A-1", "A-4"], {"read": "nothing new"}))
    assert third.returncode == 0
    assert read_report(tmp_path)["already_delivered"] == 2
    assert sandbox.state.stats()["requests"] == requests_after_first + 1
    assert emitted_states(third) == [{"read": "nothing new"}]


def test_the_ledger_keys_on_pixel_and_event_name_too(tmp_path: Path, sandbox: SandboxServer) -> None:
    config = target_settings(tmp_path, sandbox)
    assert run_target(tmp_path, config, order_messages(["C-1"])).returncode == 0
    # The same order as another Snap event (a CRM stage change) is a new event.
    second = run_target(tmp_path, {**config, "event_name": "SIGN_UP"}, order_messages(["C-1"]))
    assert second.returncode == 0
    assert read_report(tmp_path)["events_delivered"] == 1
    with Ledger.open(config["ledger_url"]) as ledger:
        assert ledger.already_delivered(SANDBOX_PIXEL_ID, [("PURCHASE", "C-1"), ("SIGN_UP", "C-1")]) == {
            ("PURCHASE", "C-1"),
            ("SIGN_UP", "C-1"),
        }
        assert ledger.already_delivered(OTHER_PIXEL, [("PURCHASE", "C-1")]) == set()


def test_only_what_snap_accepted_is_remembered(tmp_path: Path, sandbox: SandboxServer) -> None:
    sandbox.control.add_faults({"reject_event_id": "B-2", "with_index": True, "reason": "bad event"})
    config = target_settings(tmp_path, sandbox)
    first = run_target(tmp_path, config, order_messages(["B-1", "B-2", "B-3"]))
    assert first.returncode == 0, first.stderr.decode()[-3000:]
    assert read_report(tmp_path)["rejected_by_reason"] == {"api_rejected": 1}
    with Ledger.open(config["ledger_url"]) as ledger:
        asked = [("PURCHASE", "B-1"), ("PURCHASE", "B-2"), ("PURCHASE", "B-3")]
        assert ledger.already_delivered(SANDBOX_PIXEL_ID, asked) == {("PURCHASE", "B-1"), ("PURCHASE", "B-3")}

    # Once fixed at Snap's end (here: the fault cleared), the refused event goes out; the others are not resent.
    sandbox.state.reset()
    second = run_target(tmp_path, config, order_messages(["B-1", "B-2", "B-3"]))
    assert second.returncode == 0
    report = read_report(tmp_path)
    assert (report["events_delivered"], report["already_delivered"]) == (1, 2)
    assert [event["event_id"] for event in sandbox.state.events()] == ["B-2"]


def test_an_empty_ledger_url_turns_the_ledger_off(tmp_path: Path, sandbox: SandboxServer) -> None:
    config = target_settings(tmp_path, sandbox, ledger_url="")
    for _ in range(2):
        assert run_target(tmp_path, config, order_messages(["D-1"])).returncode == 0
        assert read_report(tmp_path)["events_delivered"] == 1
    assert sandbox.state.stats()["duplicates"] == 1  # sent twice: only Snap's own merging remains
    assert not (tmp_path / "ledger.sqlite").exists()


def test_dry_run_and_validate_only_neither_read_nor_write_the_ledger(tmp_path: Path, sandbox: SandboxServer) -> None:
    for mode in ("dry_run", "validate_only"):
        config = target_settings(tmp_path, sandbox, **{mode: True}, dry_run_path=str(tmp_path / "dry.jsonl"))
        result = run_target(tmp_path, config, order_messages(["E-1"]))
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        assert read_report(tmp_path)["already_delivered"] == 0
    assert not (tmp_path / "ledger.sqlite").exists()


def test_a_ledger_that_cannot_be_opened_fails_the_run_clearly_without_the_password(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    url = f"postgresql://writer:{quote(SECRET, safe='')}@127.0.0.1:1/ledger"
    result = run_target(tmp_path, target_settings(tmp_path, sandbox, ledger_url=url), order_messages(["F-1"]))
    output = result.stderr.decode() + result.stdout.decode()
    assert result.returncode == 1
    assert "ledger_url" in output and "writer:***@127.0.0.1:1/ledger" in output
    assert "Traceback" not in output
    report = read_report(tmp_path)
    assert report["status"] == "failed" and "Connection refused" in report["error"]
    for text in (output, json.dumps(report)):
        assert "S3cret" not in text and quote(SECRET, safe="") not in text
    assert sandbox.state.stats()["requests"] == 0  # nothing sent without the ledger it was asked to use


def test_a_kill_between_snaps_answer_and_the_ledger_write_only_resends_what_snap_merges(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    """kill -9 right after Snap accepted a batch, before the ledger remembered it: no STATE went out and the ledger
    does not have the events, so the next run sends them again; Snap merges them (same event id, within 48 hours)
    and counts each conversion once."""
    config = target_settings(tmp_path, sandbox)
    orders = [f"K-{n}" for n in range(5)]
    killed = run_target(
        tmp_path, config, order_messages(orders), env={"TARGET_SNAPCHAT_CAPI_TEST_KILL_AT": "before_ledger_write"}
    )
    assert killed.returncode == -9
    assert emitted_states(killed) == []  # the STATE covering the batch never went out
    assert sorted(event["event_id"] for event in sandbox.state.events()) == orders  # but Snap has them
    with Ledger.open(config["ledger_url"]) as ledger:
        assert ledger.summary() == []

    rerun = run_target(tmp_path, config, order_messages(orders))
    assert rerun.returncode == 0, rerun.stderr.decode()[-3000:]
    assert emitted_states(rerun) == [{"read": 5}]
    stats = sandbox.state.stats()
    assert stats["events_received"] == 10 and stats["duplicates"] == 5  # resent once, merged by Snap
    assert sorted(event["event_id"] for event in sandbox.state.events()) == orders  # each conversion once
    with Ledger.open(config["ledger_url"]) as ledger:
        assert [row.entries for row in ledger.summary()] == [5]

    # And from now on the ledger keeps them from being sent at all.
    third = run_target(tmp_path, config, order_messages(orders))
    assert third.returncode == 0
    assert sandbox.state.stats()["events_received"] == 10
    assert read_report(tmp_path)["already_delivered"] == 5


def test_ledger_settings_defaults_blank_and_bad_values() -> None:
    assert LedgerSettings.from_config({}) == LedgerSettings(
        url="sqlite:///output/snapchat_capi_ledger.sqlite", retention_days=400
    )
    assert LedgerSettings.from_config({"ledger_url": ""}).url is None
    assert LedgerSettings.from_config({"ledger_url": "  "}).url is None
    pg = LedgerSettings.from_config({"ledger_url": " postgresql://u@h/db ", "ledger_retention_days": "30"})
    assert pg == LedgerSettings(url="postgresql://u@h/db", retention_days=30)
    with pytest.raises(SettingError, match="ledger_url must be a database URL") as caught:
        LedgerSettings.from_config({"ledger_url": 5})
    assert caught.value.setting == "ledger_url"
    with pytest.raises(SettingError, match="at least 1") as caught:
        LedgerSettings.from_config({"ledger_retention_days": 0})
    assert caught.value.setting == "ledger_retention_days"
    assert Settings.from_config({"pixel_id": "p", "access_token": "t"}).ledger == LedgerSettings()
