"""gs:// and az:// for real: the tap's CLI against a GCS emulator and Azurite, both on 127.0.0.1 (free ports).

The GCS emulator is PyPI's gcp-storage-emulator (started here in a thread); Azurite is Microsoft's npm package,
installed into .cache/node by scripts/install-test-services.sh (`make test` runs it). A missing emulator fails
these tests: it is never a skip.

The tap always runs as its own process, as Meltano runs it, so what it does about gcsfs's import-time switch and the
Azure SDK's HTTP logging is tested from a clean start.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import time
import typing as t
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from tap_helpers import CONVERSION_HEADER, TapOutput, conversion_rows, run_cli

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / ".cache" / "node" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (public, the same in every installation).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
GCSFS_SWITCH = "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"
# Without the tap's handling, a gs:// run stalls 60 s per call (the CLI run then times out); one that works takes
# a few seconds.
RUN_SECONDS_BUDGET = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _csv_bytes(start: int, count: int) -> bytes:
    lines = [",".join(CONVERSION_HEADER)] + [",".join(map(str, row)) for row in conversion_rows(start, count)]
    return ("\n".join(lines) + "\n").encode()


def _run(
    tmp_path: Path, config: dict[str, t.Any], state: dict[str, t.Any] | None = None, *, gcsfs_switch: str | None = None
) -> TapOutput:
    """The tap's CLI as a user's environment has it: the gcsfs switch unset unless the test says otherwise."""
    saved = os.environ.pop(GCSFS_SWITCH, None)
    if gcsfs_switch is not None:
        os.environ[GCSFS_SWITCH] = gcsfs_switch
    try:
        out = run_cli(tmp_path, config, state=state, timeout=RUN_SECONDS_BUDGET)
    finally:
        os.environ.pop(GCSFS_SWITCH, None)
        if saved is not None:
            os.environ[GCSFS_SWITCH] = saved
    assert out.returncode == 0, out.stderr[-3000:]
    return out


# -- GCS ----------------------------------------------------------------------------------------


@dataclass
class GCSEmulator:
    endpoint_url: str

    def create_bucket(self, name: str) -> None:
        request = urllib.request.Request(
            f"{self.endpoint_url}/storage/v1/b",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()

    def put(self, bucket: str, name: str, body: bytes) -> None:
        query = urllib.parse.urlencode({"uploadType": "media", "name": name})
        request = urllib.request.Request(
            f"{self.endpoint_url}/upload/storage/v1/b/{bucket}/o?{query}",
            data=body,
            headers={"Content-Type": "text/csv"},
        )
        urllib.request.urlopen(request, timeout=10).close()

    def storage_options(self) -> dict[str, t.Any]:
        return {"gs": {"endpoint_url": self.endpoint_url, "token": "anon", "project": "test"}}


@pytest.fixture(scope="module")
def gcs_emulator() -> t.Iterator[GCSEmulator]:
    from gcp_storage_emulator.server import create_server  # noqa: PLC0415

    logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)  # a line per request otherwise
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield GCSEmulator(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def test_gs_incremental_read_against_the_emulator(gcs_emulator: GCSEmulator, tmp_path: Path) -> None:
    bucket = f"drops-{uuid.uuid4().hex[:8]}"
    gcs_emulator.create_bucket(bucket)
    gcs_emulator.put(bucket, "in/2026-01-01.csv", _csv_bytes(0, 3))
    gcs_emulator.put(bucket, "in/notes.txt", b"not a drop")
    config = {
        "path": f"gs://{bucket}/in/*.csv",
        "key_properties": ["event_id"],
        "column_types": {"value": "number"},
        "storage_options": gcs_emulator.storage_options(),
    }

    first = _run(tmp_path, config)
    first_url = f"gs://{bucket}/in/2026-01-01.csv"
    assert [r["event_id"] for r in first.records] == ["ev0", "ev1", "ev2"]
    assert {r["_sdc_source_file"] for r in first.records} == {first_url}
    assert first.records[0]["value"] == 0.5
    bookmark = first.files_state()[first_url]
    assert bookmark["done"] is True and bookmark["etag"]

    # The tap only fills the switch in when the environment lacks it: a user's explicit value is kept.
    unchanged = _run(tmp_path, config, state=first.final_state, gcsfs_switch="0")
    assert unchanged.records == []

    gcs_emulator.put(bucket, "in/2026-01-02.csv", _csv_bytes(3, 2))
    new = _run(tmp_path, config, state=unchanged.final_state)
    assert [r["event_id"] for r in new.records] == ["ev3", "ev4"]
    assert set(new.files_state()) == {first_url, f"gs://{bucket}/in/2026-01-02.csv"}


# -- Azure Blob Storage (Azurite) ---------------------------------------------------------------


@dataclass
class Azurite:
    blob_endpoint: str

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def put(self, container: str, name: str, body: bytes) -> None:
        from azure.storage.blob import BlobServiceClient  # noqa: PLC0415

        service = BlobServiceClient.from_connection_string(self.connection_string)
        client = service.get_container_client(container)
        if not client.exists():
            client.create_container()
        client.upload_blob(name, body, overwrite=True)

    def storage_options(self) -> dict[str, t.Any]:
        return {"az": {"connection_string": self.connection_string}}


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Azurite]:
    if not AZURITE.exists():
        raise RuntimeError(f"Azurite is not installed at {AZURITE}: run scripts/install-test-services.sh")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the test's own uploads
    port = _free_port()
    location = tmp_path_factory.mktemp("azurite")
    command = [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(location)]
    command += ["--silent", "--loose", "--skipApiVersionCheck", "--disableTelemetry"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0].decode(errors="replace")[-2000:]
                raise RuntimeError(f"Azurite did not start: {output}") from None
            time.sleep(0.05)
    try:
        yield Azurite(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}")
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(location, ignore_errors=True)


def test_az_incremental_read_against_azurite_without_http_logging(azurite: Azurite, tmp_path: Path) -> None:
    container = f"drops-{uuid.uuid4().hex[:8]}"
    azurite.put(container, "in/2026-01-01.csv", _csv_bytes(0, 3))
    config = {
        "path": f"az://{container}/in/*.csv",
        "key_properties": ["event_id"],
        "storage_options": azurite.storage_options(),
    }

    first = _run(tmp_path, config)
    first_url = f"az://{container}/in/2026-01-01.csv"
    assert [r["event_id"] for r in first.records] == ["ev0", "ev1", "ev2"]
    assert {r["_sdc_source_file"] for r in first.records} == {first_url}
    assert first.files_state()[first_url]["done"] is True
    # The Azure SDK's request logging (URL and headers of every call) stays out of the run's log.
    assert "Request URL" not in first.stderr
    assert "x-ms-" not in first.stderr
    assert AZURITE_KEY not in first.stderr + first.stdout  # type: ignore[attr-defined]
    assert len(first.stderr.splitlines()) < 40, first.stderr[-3000:]

    unchanged = _run(tmp_path, config, state=first.final_state)
    assert unchanged.records == []

    azurite.put(container, "in/2026-01-02.csv", _csv_bytes(3, 2))
    new = _run(tmp_path, config, state=unchanged.final_state)
    assert [r["event_id"] for r in new.records] == ["ev3", "ev4"]
