"""The delivery ledger (target_snapchat_capi/ledger.py) against an SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from target_snapchat_capi import ledger as ledger_module
from target_snapchat_capi.ledger import Ledger, LedgerError, main

from tests.servers.postgres import PostgresServer

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
