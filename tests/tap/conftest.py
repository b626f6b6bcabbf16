"""Real servers on 127.0.0.1 for the tap tests: S3 (moto), SFTP (asyncssh), FTP (pyftpdlib).

Each binds port 0 so suites can run in parallel; each is started once per test session.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import typing as t
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import boto3
import pytest
from target_snapchat_capi.sandbox.launcher import free_port

# The tests import tap_helpers (next to this file) whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))

__all__ = ["free_port"]  # the tap tests import the one free_port helper from here

S3_KEY_ID = "testing-key-id"
S3_SECRET = "testing-secret-do-not-log"
SFTP_USER = "dropper"
SFTP_PASSWORD = "sftp-pass-do-not-log"
FTP_USER = "ftpuser"
FTP_PASSWORD = "ftp-pass-do-not-log"


# -- S3 -----------------------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint_url: str

    def client(self) -> t.Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=S3_KEY_ID,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
        )

    def settings(self) -> dict[str, t.Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": S3_KEY_ID,
            "aws_secret_access_key": S3_SECRET,
            "region_name": "us-east-1",
        }


@pytest.fixture(scope="session")
def s3_server() -> t.Iterator[S3Server]:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()


# -- SFTP ---------------------------------------------------------------------------------------


@dataclass
class SFTPServer:
    port: int
    root: Path
    host_key: asyncssh.SSHKey
    client_key: asyncssh.SSHKey

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n"

    def url(self, path: str) -> str:
        return f"sftp://127.0.0.1:{self.port}/{path.lstrip('/')}"


class _DropServer(asyncssh.SSHServer):
    """Password login for SFTP_USER, or the one authorised client key."""

    def __init__(self, client_key: asyncssh.SSHKey) -> None:
        self._client_key = client_key

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == SFTP_USER and password == SFTP_PASSWORD

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == SFTP_USER and key.export_public_key() == self._client_key.export_public_key()


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[SFTPServer]:
    root = tmp_path_factory.mktemp("sftp_root")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, t.Any] = {}

    async def start() -> None:
        server = await asyncssh.create_server(
            lambda: _DropServer(client_key),
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
        )
        holder["server"] = server
        holder["port"] = server.sockets[0].getsockname()[1]

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True, name="sftp-server")
    thread.start()
    started.wait(10)
    try:
        yield SFTPServer(port=holder["port"], root=root, host_key=host_key, client_key=client_key)
    finally:

        async def stop() -> None:
            holder["server"].close()
            await holder["server"].wait_closed()
            # Sessions of clients still open in this process end with the server.
            current = asyncio.current_task()
            pending = [task for task in asyncio.all_tasks() if task is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


# -- FTP ----------------------------------------------------------------------------------------


@dataclass
class FTPServer:
    port: int
    root: Path

    def url(self, path: str) -> str:
        return f"ftp://127.0.0.1:{self.port}/{path.lstrip('/')}"


@pytest.fixture(scope="session")
def ftp_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[FTPServer]:
    from pyftpdlib.authorizers import DummyAuthorizer  # noqa: PLC0415
    from pyftpdlib.handlers import FTPHandler  # noqa: PLC0415
    from pyftpdlib.servers import FTPServer as PyFTPServer  # noqa: PLC0415

    root = tmp_path_factory.mktemp("ftp_root")
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elr")
    handler = type("QuietFTPHandler", (FTPHandler,), {"authorizer": authorizer, "log_prefix": "ftp"})
    server = PyFTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    try:
        yield FTPServer(port=port, root=root)
    finally:
        server.close_all()
        thread.join(5)
