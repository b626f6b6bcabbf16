"""singer-sdk's standard target tests, against a real sandbox over HTTP.

The SDK's sample streams carry no email or phone, so most of their records are (correctly) rejected; what the standard
suite checks here is the Singer side: schemas, state relaying, odd inputs, key properties, the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.target_tests import TargetRecordMissingKeyProperty
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer
from target_snapchat_capi.sandbox.launcher import free_port
from target_snapchat_capi.target import TargetSnapchatCAPI


class RecordMissingKeyPropertyIsRejected(TargetRecordMissingKeyProperty):
    """The SDK's test expects the run to fail; here such a record is a counted rejection and the run goes on
    (issue 8.3: one bad record never costs the records around it)."""

    def test(self) -> None:
        targets: list[TargetSnapchatCAPI] = []
        new_target = self.runner.new_target

        def keep_target() -> TargetSnapchatCAPI:
            targets.append(new_target())
            return targets[-1]

        self.runner.new_target = keep_target  # type: ignore[method-assign]
        super(TargetRecordMissingKeyProperty, self).test()  # the template's run, without the SDK's pytest.raises
        assert targets[-1].report.rejected_by_reason == {"missing_key_property": 1}


_SUITE = SingerTestSuite(
    kind="target",
    tests=[
        RecordMissingKeyPropertyIsRejected if test is TargetRecordMissingKeyProperty else test
        for test in target_tests.tests
    ],
)

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
        "report_html_path": str(_OUT / "report.html"),
        "report_history_path": str(_OUT / "history.jsonl"),
        "max_retries": 1,
        # The SDK's sample streams are no conversions (no event time, no match key): judge Singer handling only.
        "max_reject_ratio": 1,
    },
    include_target_tests=False,
    custom_suites=[_SUITE],
)


class TestTargetSnapchatCAPI(StandardTargetTests):  # type: ignore[misc, valid-type]
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _sandbox_on_port(cls) -> Iterator[SandboxServer]:
        with SandboxServer(port=_PORT) as server:
            yield server
