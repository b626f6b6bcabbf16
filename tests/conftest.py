"""Fixtures shared by every test suite.

`sandbox`: a local Snapchat CAPI sandbox (`target_snapchat_capi.sandbox.SandboxServer`) already listening on
127.0.0.1 (a free port), emptied before each test (events, dedup keys, faults, counters). One server serves
the whole session, so the fixture costs microseconds per test. Use:

    def test_something(sandbox):
        url = sandbox.url                          # api_url for the target or the client
        token, pixel = SANDBOX_TOKEN, SANDBOX_PIXEL_ID   # the pair it knows (= DEFAULT_TOKEN/_PIXEL_ID)
        sandbox.control.add_faults({"status": 429, "retry_after": 1})   # SandboxControl, over HTTP
        ... run things ...
        assert len(sandbox.control.events()) == 3  # or sandbox.state.events() in-process

Fault schema and endpoints: the docstring of `target_snapchat_capi/sandbox/server.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.servers.postgres import PostgresServer, running_postgres

SANDBOX_TOKEN = DEFAULT_TOKEN
SANDBOX_PIXEL_ID = DEFAULT_PIXEL_ID


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """A started sandbox knowing `SANDBOX_TOKEN` (owning `SANDBOX_PIXEL_ID`), reset for this test."""
    _sandbox_server.state.reset()
    yield _sandbox_server
    _sandbox_server.state.reset()


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own empty working directory, so a target run that keeps a default relative path writes
    there, not into the checkout: above all the delivery ledger (output/snapchat_capi_ledger.sqlite), which would
    otherwise let one test's deliveries (or an earlier `pytest`'s) stop another test's events from being sent."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL on 127.0.0.1 for the session (tests/servers/postgres.py); missing binaries fail."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of the session server's `postgres` database, as a user writes it (postgresql://user@host:port/db)."""
    return postgres_server.url()
