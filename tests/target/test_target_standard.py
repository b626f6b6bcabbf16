"""singer-sdk's standard target tests, against a real sandbox over HTTP.

The SDK's sample streams carry no email or phone, so most of their records are (correctly) rejected; what the standard
suite checks here is the Singer side: schemas, state relaying, odd inputs, key properties, the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer
from target_snapchat_capi.sandbox.launcher import free_port
from target_snapchat_capi.target import TargetSnapchatCAPI

# The factory needs the config when the class is made, so the port is chosen at import and served by the fixture.
_PORT = free_port()
_OUT = Path(__import__("tempfile").mkdtemp(prefix="target-standard-"))

StandardTargetTests = get_target_test_class(
    TargetSnapchatCAPI,
    config={
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": f"http://127.0.0.1:{_PORT}",
        "default_phone_country": "US",
        "reject_path": str(_OUT / "rejects.jsonl"),
        "report_path": str(_OUT / "report.json"),
        "ledger_url": f"sqlite:///{_OUT / 'ledger.sqlite'}",
        "max_retries": 1,
    },
)


class TestTargetSnapchatCAPI(StandardTargetTests):  # type: ignore[misc, valid-type]
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _sandbox_on_port(cls) -> Iterator[SandboxServer]:
        with SandboxServer(port=_PORT) as server:
            yield server
