"""The delivery ledger: which events Snapchat accepted, so a source read again is not counted again.

Snap merges a repeated event only within 48 hours (PURCHASE by order id within 30 days), while sources re-emit rows
for much longer: an inclusive replication key resends its last row on every run, a CRM tap re-emits an edited deal,
`--full-refresh` and `state clear` re-read everything. The ledger keeps (pixel, event name, event id) -> delivered at
for `retention_days` (default 400), and the target skips what is in it.

Where it lives is one URL (`ledger_url`):

- `sqlite:///output/snapchat_capi_ledger.sqlite` (the default): an embedded file, nothing to start or run;
- `postgresql://user:password@host:5432/db`: shared by runs on several machines (psycopg 3 underneath);
- empty: no ledger.

Cost on the hot path: one lookup per batch (`already_delivered`) and one transaction per batch
(`record_delivered`), never one per record. `record_delivered` commits before it returns (SQLite in WAL mode with
synchronous=FULL, PostgreSQL's commit), so the caller may emit the STATE covering a batch as soon as it returns.
Runs sharing a ledger are safe: writes are idempotent upserts (a key present is left as it is), and the table is
created under a lock. No message of this module ever shows the URL's password.

Plain module: imports nothing from Singer. `main` is the `target-snapchat-capi-ledger` console script (show, reset,
prune), the way to resend deliberately.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError
from target_snapchat_capi.settings import DEFAULTS

DEFAULT_LEDGER_URL: str = DEFAULTS["ledger_url"]
DEFAULT_RETENTION_DAYS: int = DEFAULTS["ledger_retention_days"]
#: The environment variable Meltano sets from the target's `ledger_url` setting; the console script reads it too.
LEDGER_URL_ENV = "TARGET_SNAPCHAT_CAPI_LEDGER_URL"
TABLE_NAME = "snapchat_capi_ledger"
#: Event ids per lookup statement: well under SQLite's and PostgreSQL's bound-parameter limits.
LOOKUP_CHUNK_SIZE = 2000
#: SQLite's page cache per connection (KiB), see _sqlite_pragmas
SQLITE_CACHE_KIB = 256
#: Seconds to wait for a PostgreSQL server, or for another run's lock on a SQLite file, before failing.
CONNECT_TIMEOUT_SECONDS = 15
_LOCKED_RETRY_SECONDS = 0.05
#: PostgreSQL plans lookups from table statistics, which autovacuum refreshes only after the table grew by 10 %
#: and a minute passed: during a new ledger's first big run the planner took the table for empty and scanned all of it
#: for every batch (72 ms per lookup at 300,000 entries, growing). So the ledger runs ANALYZE itself each time the
#: entries it wrote have doubled since the last time, from this many: a handful of ANALYZEs per run.
ANALYZE_AFTER_ROWS = 10_000
#: pg_advisory_xact_lock key serialising table creation between runs starting together ("SNAPLEDG" in ASCII).
_CREATE_LOCK_KEY = 0x534E41504C454447
#: How SQLAlchemy's SQLite DateTime stores a time (UTC here), used where rows are written without SQLAlchemy's help.
_SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}

#: (event name, event id): what Snap merges on, within one pixel.
EventKey = tuple[str, str]


class LedgerError(Exception):
    """The ledger cannot be opened, read or written. The message names the URL without its password."""


@dataclass(frozen=True)
class PixelSummary:
    pixel_id: str
    entries: int
    first_delivered_at: datetime | None
    last_delivered_at: datetime | None


_metadata = sa.MetaData()
_table = sa.Table(
    TABLE_NAME,
    _metadata,
    sa.Column("pixel_id", sa.Text, nullable=False),
    sa.Column("event_name", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
    # event_id leads the key, the column a batch's lookup narrows most.
    sa.PrimaryKeyConstraint("event_id", "event_name", "pixel_id", name=f"{TABLE_NAME}_pkey"),
)
# Pruning finds old entries without reading the whole table.
_delivered_at_index = sa.Index(f"{TABLE_NAME}_delivered_at", _table.c.delivered_at)


class Ledger:
    """The ledger behind one URL. Thread-safe (each call takes its own pooled connection)."""

    def __init__(self, engine: Engine, url: URL, retention_days: int, redacted_url: str) -> None:
        self._engine = engine
        self._url = url
        self.retention_days = retention_days
        #: The URL as the user wrote it, password replaced by ***: what logs and messages show.
        self.redacted_url = redacted_url
        self._postgres = url.get_backend_name() == "postgresql"
        self._written = 0
        self._analyze_at = ANALYZE_AFTER_ROWS
        key_columns = [_table.c.pixel_id, _table.c.event_name, _table.c.event_id]
        if self._postgres:
            # Imported here: PostgreSQL's dialect is 2 MB that a run on the default SQLite file never uses.
            from sqlalchemy.dialects import postgresql  # noqa: PLC0415

            # A batch travels as two arrays (names, ids): one statement and three parameters, 3x faster to write
            # than a multi-row VALUES; lookups likewise take one array parameter rather than thousands of values.
            pairs = (
                sa.func.unnest(
                    sa.bindparam("event_names", type_=postgresql.ARRAY(sa.Text)),
                    sa.bindparam("event_ids", type_=postgresql.ARRAY(sa.Text)),
                )
                .table_valued("event_name", "event_id")
                .render_derived()
            )
            rows = sa.select(
                sa.bindparam("pixel_id", type_=sa.Text),
                pairs.c.event_name,
                pairs.c.event_id,
                sa.bindparam("delivered_at", type_=sa.DateTime(timezone=True)),
            )
            self._insert: sa.Executable | str = (
                postgresql.insert(_table)
                .from_select(["pixel_id", "event_name", "event_id", "delivered_at"], rows)
                .on_conflict_do_nothing(index_elements=key_columns)
            )
            matches_ids = _table.c.event_id == sa.any_(sa.bindparam("event_ids", type_=postgresql.ARRAY(sa.Text)))
        else:
            # Rows go to sqlite3's executemany as tuples: SQLAlchemy's per-row parameter processing tripled the cost.
            # The time is written in the text form SQLAlchemy's SQLite DateTime uses, so its reads and comparisons
            # (prune, reset, summary) see the same values.
            self._insert = str(
                sqlite.insert(_table)
                .on_conflict_do_nothing(index_elements=key_columns)
                .compile(dialect=engine.dialect, column_keys=["pixel_id", "event_name", "event_id", "delivered_at"])
            )
            matches_ids = _table.c.event_id.in_(sa.bindparam("event_ids", expanding=True))
        self._lookup = sa.select(_table.c.event_id).where(
            _table.c.pixel_id == sa.bindparam("pixel_id"),
            _table.c.event_name == sa.bindparam("event_name"),
            matches_ids,
        )

    # --- opening -------------------------------------------------------------------------------------------

    @classmethod
    def from_setting(cls, url: str | None, retention_days: int = DEFAULT_RETENTION_DAYS) -> Ledger | None:
        """The ledger a run's settings ask for: None when `ledger_url` is empty (the ledger is off)."""
        if url is None or not url.strip():
            return None
        return cls.open(url.strip(), retention_days)

    @classmethod
    def open(cls, url: str, retention_days: int = DEFAULT_RETENTION_DAYS) -> Ledger:
        """Connect, and create the table if it is missing (safe when several runs start at once)."""
        if retention_days < 1:
            raise LedgerError(f"ledger_retention_days must be at least 1, not {retention_days}.")
        parsed = _parse_url(url)
        redacted = redact_url(url)
        engine = _create_engine(parsed, redacted)
        ledger = cls(engine, parsed, retention_days, redacted)
        deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
        while True:
            try:
                _create_schema(engine, postgres=parsed.get_backend_name() == "postgresql")
                return ledger
            except SQLAlchemyError as exc:
                # Two runs creating one SQLite file at once: the loser of the race for the write lock (or for
                # switching it to WAL) is told "locked" at once rather than waiting; it tries again until the timeout.
                if _sqlite_locked(exc) and time.monotonic() < deadline:
                    time.sleep(_LOCKED_RETRY_SECONDS)
                    continue
                engine.dispose()
                raise ledger._error("opening", exc) from None

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.redacted_url!r}, retention_days={self.retention_days})"

    # --- the per-batch calls -------------------------------------------------------------------------------

    def already_delivered(self, pixel_id: str, keys: Iterable[EventKey]) -> set[EventKey]:
        """Which of `keys` Snap already accepted for this pixel. One statement per event name in the batch."""
        ids_by_name: dict[str, list[str]] = defaultdict(list)
        for event_name, event_id in keys:
            ids_by_name[event_name].append(event_id)
        if not ids_by_name:
            return set()
        found: set[EventKey] = set()
        try:
            with self._engine.connect() as connection:
                for event_name, event_ids in ids_by_name.items():
                    for start in range(0, len(event_ids), LOOKUP_CHUNK_SIZE):
                        chunk = event_ids[start : start + LOOKUP_CHUNK_SIZE]
                        params = {
                            "pixel_id": pixel_id,
                            "event_name": event_name,
                            "event_ids": chunk if self._postgres else _padded_for_sqlite(chunk),
                        }
                        found.update((event_name, event_id) for event_id in connection.scalars(self._lookup, params))
        except SQLAlchemyError as exc:
            raise self._error("looking up delivered events", exc) from None
        return found

    def record_delivered(self, pixel_id: str, keys: Iterable[EventKey], delivered_at: datetime | None = None) -> int:
        """Remember that Snap accepted these events; committed (durable) when this returns.

        Idempotent: a key already present keeps its first delivery time. Returns how many keys were given.
        """
        when = _utc(delivered_at) if delivered_at is not None else datetime.now(UTC)
        # Sorted: two runs writing overlapping batches take the key locks in one order, so they cannot deadlock.
        unique = sorted(set(keys))
        if not unique:
            return 0
        try:
            with self._engine.begin() as connection:
                if isinstance(self._insert, str):
                    stamp = when.strftime(_SQLITE_TIME_FORMAT)
                    rows = [(pixel_id, event_name, event_id, stamp) for event_name, event_id in unique]
                    connection.exec_driver_sql(self._insert, rows)
                else:
                    params = {
                        "pixel_id": pixel_id,
                        "event_names": [event_name for event_name, _ in unique],
                        "event_ids": [event_id for _, event_id in unique],
                        "delivered_at": when,
                    }
                    connection.execute(self._insert, params)
            self._written += len(unique)
            if self._postgres and self._written >= self._analyze_at:
                self._analyze_at = 2 * self._written
                with self._engine.begin() as connection:
                    connection.execute(sa.text(f"ANALYZE {TABLE_NAME}"))
        except SQLAlchemyError as exc:
            raise self._error("recording delivered events", exc) from None
        return len(unique)

    # --- upkeep --------------------------------------------------------------------------------------------

    def prune(self, now: datetime | None = None) -> int:
        """Forget entries older than the retention period; returns how many were removed."""
        cutoff = (_utc(now) if now is not None else datetime.now(UTC)) - timedelta(days=self.retention_days)
        return self._delete(_table.c.delivered_at < cutoff, "pruning")

    def reset(
        self,
        pixel_id: str | None = None,
        *,
        delivered_since: datetime | None = None,
        delivered_before: datetime | None = None,
    ) -> int:
        """Forget entries, so the next run sends those events again; no filter forgets everything.

        Returns how many entries were removed.
        """
        conditions = []
        if pixel_id is not None:
            conditions.append(_table.c.pixel_id == pixel_id)
        if delivered_since is not None:
            conditions.append(_table.c.delivered_at >= _utc(delivered_since))
        if delivered_before is not None:
            conditions.append(_table.c.delivered_at < _utc(delivered_before))
        return self._delete(sa.and_(sa.true(), *conditions), "resetting")

    def summary(self) -> list[PixelSummary]:
        """Entries per pixel, with the first and last delivery times."""
        query = (
            sa.select(
                _table.c.pixel_id,
                sa.func.count(),
                sa.func.min(_table.c.delivered_at),
                sa.func.max(_table.c.delivered_at),
            )
            .group_by(_table.c.pixel_id)
            .order_by(_table.c.pixel_id)
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError as exc:
            raise self._error("reading the summary", exc) from None
        return [PixelSummary(row[0], int(row[1]), _read_time(row[2]), _read_time(row[3])) for row in rows]

    def _delete(self, condition: sa.ColumnElement[bool], what: str) -> int:
        try:
            with self._engine.begin() as connection:
                return int(connection.execute(sa.delete(_table).where(condition)).rowcount)
        except SQLAlchemyError as exc:
            raise self._error(what, exc) from None

    def _error(self, what: str, exc: BaseException) -> LedgerError:
        return LedgerError(f"Ledger at {self.redacted_url}: {what} failed: {_describe(exc, self._url.password)}")


# --- URLs, engines, errors --------------------------------------------------------------------------------


def redact_url(url: str | URL) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unreadable URL>"


def _parse_url(url: str) -> URL:
    try:
        parsed = sa.make_url(url)
    except (ArgumentError, ValueError):
        # Never echo the text: it may hold a password.
        raise LedgerError(
            "ledger_url is not a database URL: use sqlite:///path/to/ledger.sqlite or "
            "postgresql://user:password@host:5432/database (or an empty value to turn the ledger off)."
        ) from None
    scheme = parsed.drivername.partition("+")[0]
    if scheme not in _BACKENDS:
        raise LedgerError(
            f"ledger_url scheme {scheme!r} is not supported: use sqlite:/// (a local file) or postgresql:// "
            "(a shared server)."
        )
    if scheme == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise LedgerError("ledger_url sqlite:/// needs a file path, e.g. sqlite:///output/ledger.sqlite.")
        return parsed.set(drivername="sqlite")
    # postgresql:// and postgres:// mean psycopg 3, the driver this package installs.
    return parsed.set(drivername=parsed.drivername if "+" in parsed.drivername else _BACKENDS[scheme])


def _create_engine(url: URL, redacted_url: str) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            assert url.database is not None
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return sa.create_engine(
            url,
            pool_pre_ping=True,  # a long run outlives idle server connections
            pool_size=2,
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "target-snapchat-capi",
                # No server-side prepared statements: after a few runs PostgreSQL plans a prepared lookup
                # generically (without the ids) and scans the whole table; planned each time it uses the key.
                "prepare_threshold": None,
                # The ledger is probed by key, its index hot in cache: at the default (4, a spinning disk's) the
                # planner preferred scanning 200,000 entries (55 ms) to 2000 index probes (1.4 ms).
                "options": "-c random_page_cost=1.1",
            },
        )
    except (ArgumentError, NoSuchModuleError, OSError) as exc:
        raise LedgerError(f"Ledger at {redacted_url}: cannot be set up: {_describe(exc, url.password)}") from None


def _create_schema(engine: Engine, *, postgres: bool) -> None:
    """The table and its index, if missing; one run at a time (several may start at once)."""
    with engine.begin() as connection:
        if postgres:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_CREATE_LOCK_KEY)))
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock first, waiting for it (busy timeout)
        connection.execute(sa.schema.CreateTable(_table, if_not_exists=True))
        connection.execute(sa.schema.CreateIndex(_delivered_at_index, if_not_exists=True))


def _padded_for_sqlite(event_ids: list[str]) -> list[str]:
    """The ids of one SQLite lookup, padded with copies of the last (an IN list's repeats change no answer) to the
    next power of two, at most LOOKUP_CHUNK_SIZE.

    Python's sqlite3 caches up to 128 prepared statements per connection by their text, and an IN list renders one
    placeholder per id: batches split unevenly between event names made nearly every lookup a new statement of about
    0.2 KB per placeholder, some 30 MB of SQLite's heap within a 1M-event run. Padded, all lookups share 12 texts.
    """
    wanted = min(1 << (len(event_ids) - 1).bit_length(), LOOKUP_CHUNK_SIZE)
    return event_ids + [event_ids[-1]] * (wanted - len(event_ids))


def _sqlite_locked(exc: SQLAlchemyError) -> bool:
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets a reader (the console script, another run) work beside a writer; FULL makes each commit durable.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    # Lookups probe random keys of an index far larger than any cache, so SQLite's default 2 MB page cache missed
    # anyway; 256 KB held the target 5 MB lower at 1M events for no measurable cost (benchmarks/ledger_bench.py).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _describe(exc: BaseException, password: str | None) -> str:
    """The database's own words (not SQLAlchemy's statement and parameters), with the password scrubbed."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    text = f"{type(cause).__name__}: {' '.join(lines[:3])}" if lines else type(cause).__name__
    if password:
        for spelling in {password, quote(password, safe=""), quote_plus(password)}:
            text = text.replace(spelling, "***")
    return text


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _read_time(value: datetime | str | None) -> datetime | None:
    # SQLite returns naive datetimes (stored as UTC text); PostgreSQL returns aware ones.
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return _utc(moment)


# --- the console script -----------------------------------------------------------------------------------


def _time_argument(text: str) -> datetime:
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or time (e.g. 2026-11-30 or 2026-11-30T12:00:00+01:00)"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="target-snapchat-capi-ledger",
        description="Inspect or reset target-snapchat-capi's delivery ledger (events Snapchat already accepted).",
    )
    parser.add_argument(
        "--ledger-url",
        default=os.environ.get(LEDGER_URL_ENV) or DEFAULT_LEDGER_URL,
        help=f"the target's ledger_url (default: ${LEDGER_URL_ENV}, else {DEFAULT_LEDGER_URL})",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("show", help="entries per pixel, with first and last delivery times")
    reset = commands.add_parser(
        "reset",
        help="forget entries so the next run sends those events again (combine with `meltano state clear` "
        "or --full-refresh to re-read the source)",
    )
    reset.add_argument("--pixel", help="only this pixel id")
    reset.add_argument("--since", type=_time_argument, help="only entries delivered at or after this time (UTC)")
    reset.add_argument("--before", type=_time_argument, help="only entries delivered before this time (UTC)")
    reset.add_argument("--all", action="store_true", help="required to forget every entry of every pixel")
    prune = commands.add_parser("prune", help="forget entries older than the retention period")
    prune.add_argument("--retention-days", type=int, default=DEFAULT_RETENTION_DAYS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`target-snapchat-capi-ledger show | reset | prune`."""
    args = _parser().parse_args(argv)
    if args.command == "reset" and not (args.pixel or args.since or args.before or args.all):
        print("reset: give --pixel, --since and/or --before, or --all to forget every entry.", file=sys.stderr)
        return 2
    try:
        with Ledger.open(args.ledger_url, getattr(args, "retention_days", DEFAULT_RETENTION_DAYS)) as ledger:
            if args.command == "show":
                rows = ledger.summary()
                print(f"Ledger at {ledger.redacted_url}: {sum(row.entries for row in rows)} entries")
                for row in rows:
                    first = row.first_delivered_at.isoformat() if row.first_delivered_at else "-"
                    last = row.last_delivered_at.isoformat() if row.last_delivered_at else "-"
                    print(f"  pixel {row.pixel_id}: {row.entries} entries, delivered {first} .. {last}")
            elif args.command == "reset":
                removed = ledger.reset(args.pixel, delivered_since=args.since, delivered_before=args.before)
                print(
                    f"Ledger at {ledger.redacted_url}: forgot {removed} entries; the next run sends those events "
                    "again when the tap emits them."
                )
            else:
                removed = ledger.prune()
                print(
                    f"Ledger at {ledger.redacted_url}: pruned {removed} entries older than {args.retention_days} days."
                )
    except LedgerError as exc:
        print(f"target-snapchat-capi-ledger: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
