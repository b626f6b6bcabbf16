"""A real PostgreSQL server on 127.0.0.1 for the tests and the benchmark, from Debian's `postgresql` package.

`scripts/install-test-services.sh` installs the package; this module only runs its binaries
(/usr/lib/postgresql/<version>/bin). The cluster lives in a fresh temporary directory: initdb, a free TCP port on
127.0.0.1 only, the unix socket inside that directory, and trust authentication except for members of the role
`password_users`, who must give their password (so tests can prove a password never leaks into an error).
PostgreSQL refuses to run as root, and CI runs as root: then every binary runs as the `postgres` system user the
package creates (`setpriv` execs in place, so the process we hold is the postmaster itself).

Missing binaries raise `PostgresUnavailable`; the fixture turns that into an error, never a skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN_GLOB = "/usr/lib/postgresql/*/bin"
SUPERUSER = "postgres"
PASSWORD_GROUP = "password_users"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15

# Settings for a throwaway cluster: no crash safety needed, so no fsync (the benchmark asks for `durable=True`).
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries are not installed, or the server did not start."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    bin_dir: Path
    base_dir: Path

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3 driver spelled the way users write it: `postgresql://`)."""
        credentials = user if password is None else f"{user}:{password}"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the unix socket; returns psql's output (unaligned, tuples only)."""
        command = [
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.base_dir / "socket"),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-c",
            sql,
        ]
        done = subprocess.run(_as_postgres(command), capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str, owner: str = SUPERUSER) -> str:
        """A new empty database (owned by `owner`); returns the superuser's URL of it."""
        self.psql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name)

    def create_password_user(self, name: str, password: str) -> None:
        """A login role that must authenticate with `password` over TCP (scram-sha-256)."""
        self.psql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}' IN ROLE {PASSWORD_GROUP}")


def find_bin_dir() -> Path:
    candidates = sorted(glob.glob(BIN_GLOB), key=_version_key)
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        f"No PostgreSQL binaries in {BIN_GLOB}: run `make test-services` (scripts/install-test-services.sh)."
    )


@contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a throwaway cluster on 127.0.0.1 and a free port; stop it and delete its files on exit."""
    bin_dir = find_bin_dir()
    base_dir = Path(tempfile.mkdtemp(prefix="test-postgres-"))
    try:
        data_dir, socket_dir = base_dir / "data", base_dir / "socket"
        socket_dir.mkdir()
        if os.geteuid() == 0:
            _give_to_postgres(base_dir)
        _initdb(bin_dir, data_dir)
        (data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n",
            encoding="utf-8",
        )
        port = _free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(socket_dir),
            "max_connections": "40",
            "log_min_messages": "warning",
            **({} if durable else FAST_SETTINGS),
        }
        command = [str(bin_dir / "postgres"), "-D", str(data_dir)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with (base_dir / "server.log").open("wb") as log:
            process = subprocess.Popen(_as_postgres(command), stdout=log, stderr=subprocess.STDOUT)
        try:
            server = PostgresServer("127.0.0.1", port, bin_dir, base_dir)
            _wait_ready(server, process)
            server.psql(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")
            yield server
        finally:
            _stop(process)
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


def _initdb(bin_dir: Path, data_dir: Path) -> None:
    command = [
        str(bin_dir / "initdb"),
        "-D",
        str(data_dir),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")


def _wait_ready(server: PostgresServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        ready = subprocess.run(
            [str(server.bin_dir / "pg_isready"), "-q", "-h", server.host, "-p", str(server.port)],
            check=False,
            timeout=10,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    log = (server.base_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    _stop(process)
    raise PostgresUnavailable(f"PostgreSQL did not start on port {server.port}:\n{log[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # "fast" shutdown: disconnect clients, stop cleanly
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _as_postgres(command: list[str]) -> list[str]:
    """Root cannot run PostgreSQL: drop to the package's `postgres` user (exec in place, same process)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", f"--reuid={SUPERUSER}", f"--regid={SUPERUSER}", "--init-groups", "--", *command]


def _give_to_postgres(path: Path) -> None:
    try:
        account = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresUnavailable(
            "Running as root needs the `postgres` system user, which Debian's postgresql package creates: "
            "run `make test-services`."
        ) from None
    for item in (path, *path.rglob("*")):
        os.chown(item, account.pw_uid, account.pw_gid)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())
