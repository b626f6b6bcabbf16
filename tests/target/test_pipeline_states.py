"""The pipeline's STATE gate passes each settled STATE on once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from target_snapchat_capi.accounting import Accounting
from target_snapchat_capi.delivery import DryRunDelivery
from target_snapchat_capi.pipeline import DeliveryPipeline
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport


def test_the_same_state_offered_again_is_written_once(tmp_path: Path) -> None:
    """A slow run drains at a checkpoint and again at the end of its input, offering the same STATE twice (the
    ledger test saw two identical lines on a loaded machine): Meltano needs it once."""
    report = RunReport()
    accounting = Accounting(report, RejectsFile(tmp_path / "rejects.jsonl", report.started_at))
    states: list[dict[str, Any]] = []
    pipeline = DeliveryPipeline(DryRunDelivery(tmp_path / "bodies.jsonl", 10, accounting), accounting, states.append)
    pipeline.hold_state({"bookmark": 1})
    pipeline.hold_state({"bookmark": 1})
    pipeline.finish()
    pipeline.hold_state({"bookmark": 2})
    pipeline.hold_state({"bookmark": 1})  # a tap may go back (a reset): a different STATE from the last is written
    pipeline.finish()
    pipeline.close()
    assert states == [{"bookmark": 1}, {"bookmark": 2}, {"bookmark": 1}]
