"""The local CAPI sandbox over HTTP: the contract's checks, deduplication, the test API, fault injection."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from target_snapchat_capi import capi
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxControl, SandboxServer

from tests.waiting import wait_until

EMAIL_HASH = hashlib.sha256(b"person@example.com").hexdigest()
PHONE_HASH = hashlib.sha256(b"448444124653").hexdigest()
OTHER_PIXEL_ID = "99999999-2222-4333-8444-555555555555"


def make_event(event_id: Any = "order-1", /, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_name": "PURCHASE",
        "event_time": int(time.time()) - 3600,
        "event_id": event_id,
        "action_source": "OFFLINE",
        "integration": "tests",
        "user_data": {"em": [EMAIL_HASH], "ph": [PHONE_HASH]},
        "custom_data": {"value": 142.52, "currency": "USD", "order_id": event_id},
    }
    event.update(overrides)
    return event


def post(
    sandbox: SandboxServer,
    events: list[Any] | None = None,
    *,
    token: str | None = DEFAULT_TOKEN,
    pixel: str = DEFAULT_PIXEL_ID,
    validate: bool = False,
    content: bytes | None = None,
) -> httpx.Response:
    path = capi.validate_path(pixel) if validate else capi.events_path(pixel)
    params = {"access_token": token} if token is not None else {}
    body = content if content is not None else httpx.Request("POST", "/", json={"data": events}).content
    return httpx.post(sandbox.url + path, params=params, content=body, timeout=10)


# --- accepted requests --------------------------------------------------------------------------------------


def test_valid_request_is_stored_and_summarised_without_token(sandbox: SandboxServer) -> None:
    events = [make_event(f"order-{i}") for i in range(3)]
    response = post(sandbox, events)

    assert response.status_code == 200
    assert response.json() == {"status": "VALID", "reason": "Events have been processed successfully."}
    assert sandbox.control.events() == events
    [summary] = sandbox.control.requests()
    assert summary["path"] == f"/v3/{DEFAULT_PIXEL_ID}/events"
    assert summary["event_ids"] == ["order-0", "order-1", "order-2"]
    assert summary["status"] == 200
    stats = sandbox.control.stats()
    assert (stats["events_received"], stats["events_accepted"], stats["duplicates"]) == (3, 3, 0)


def test_ip_and_user_agent_together_are_enough_to_match(sandbox: SandboxServer) -> None:
    pair = {"client_ip_address": "203.0.113.9", "client_user_agent": "Mozilla/5.0"}
    assert post(sandbox, [make_event(user_data=pair)]).status_code == 200
    only_ip = {"client_ip_address": "203.0.113.9"}
    response = post(sandbox, [make_event("order-2", user_data=only_ip)])
    assert response.status_code == 400
    assert response.json()["errors"]["codes"] == ["INSUFFICIENT_PII"]


def test_madid_alone_is_enough_under_both_names(sandbox: SandboxServer) -> None:
    madid = "6d92078a-8246-4ba4-ae5b-76104861e7dc"
    assert post(sandbox, [make_event("a", user_data={"madid": madid})]).status_code == 200
    assert post(sandbox, [make_event("b", user_data={"mobile_ad_id": madid})]).status_code == 200


# --- the contract's checks ----------------------------------------------------------------------------------


def test_unhashed_email_rejects_the_whole_request_at_its_index(sandbox: SandboxServer) -> None:
    bad = make_event("order-bad", user_data={"em": ["Person@Example.com"]})
    response = post(sandbox, [make_event("order-1"), make_event("order-2"), bad, make_event("order-4")])

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "INVALID"
    assert body["event"] == 2
    assert body["errors"]["codes"] == ["UNHASHED_PII"]
    assert "Person@Example.com" not in response.text  # the reason names the field, never the value
    assert sandbox.control.events() == []  # all or nothing
    assert sandbox.control.stats()["events_accepted"] == 0


NOW = int(time.time())


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"user_data": {"fn": [EMAIL_HASH]}}, "INSUFFICIENT_PII"),
        ({"user_data": {"em": EMAIL_HASH}}, "UNHASHED_PII"),  # a string, not a list
        ({"user_data": {"em": [EMAIL_HASH.upper()]}}, "UNHASHED_PII"),
        ({"user_data": {"em": [hashlib.md5(b"x").hexdigest()]}}, "UNHASHED_PII"),
        ({"user_data": {"em": [EMAIL_HASH], "madid": EMAIL_HASH}}, "INVALID_MADID"),
        ({"user_data": {"em": [EMAIL_HASH], "email": "x@y.z"}}, "UNKNOWN_FIELD"),
        ({"event_time": NOW - 38 * 86400}, "EVENT_TIME_TOO_OLD"),
        ({"event_time": NOW * 1000}, "EVENT_TIME_IN_FUTURE"),  # milliseconds
        ({"event_time": NOW + 3600}, "EVENT_TIME_IN_FUTURE"),
        ({"event_time": float(NOW)}, "INVALID_EVENT_TIME"),
        ({"event_time": str(NOW)}, "INVALID_EVENT_TIME"),
        ({"event_name": "Closed Won"}, "INVALID_EVENT_NAME"),
        ({"event_name": "purchase"}, "INVALID_EVENT_NAME"),
        ({"action_source": "STORE"}, "INVALID_ACTION_SOURCE"),
        ({"custom_data": {"value": 10.0}}, "MISSING_CURRENCY"),
        ({"custom_data": {"value": 10.0, "currency": "usd"}}, "INVALID_CURRENCY"),
        ({"custom_data": {"value": 10.0, "currency": "XYZ"}}, "INVALID_CURRENCY"),
        ({"custom_data": {"currency": "USD"}}, "MISSING_VALUE"),
        ({"custom_data": {"value": "10.00", "currency": "USD"}}, "INVALID_VALUE"),
        ({"custom_data": {"value": 1, "currency": "USD", "num_items": "2"}}, "INVALID_CUSTOM_DATA"),
        ({"custom_data": {"value": 1, "currency": "USD", "customer_email": "x"}}, "UNKNOWN_FIELD"),
        ({"first_name": "Ann"}, "UNKNOWN_FIELD"),
        ({"event_id": 17}, "INVALID_EVENT_ID"),
        ({"data_processing_options": "LDU"}, "INVALID_DATA_PROCESSING_OPTIONS"),
        # Odd JSON types are reported, never a crash.
        ({"event_name": ["PURCHASE"]}, "INVALID_EVENT_NAME"),
        ({"action_source": {"x": 1}}, "INVALID_ACTION_SOURCE"),
        ({"user_data": {"em": [1, 2]}}, "UNHASHED_PII"),
        ({"user_data": ["em"]}, "INVALID_USER_DATA"),
        ({"custom_data": {"value": 1, "currency": ["USD"]}}, "INVALID_CURRENCY"),
        ({"custom_data": {"value": True, "currency": "USD"}}, "INVALID_VALUE"),
        ({"custom_data": [1]}, "INVALID_CUSTOM_DATA"),
    ],
)
def test_each_contract_rule_rejects_with_its_code(sandbox: SandboxServer, overrides: dict[str, Any], code: str) -> None:
    bad = make_event("bad")
    bad.update(overrides)
    response = post(sandbox, [make_event("good"), bad])
    assert response.status_code == 400
    body = response.json()
    assert body["event"] == 1
    assert code in body["errors"]["codes"]
    assert sandbox.control.events() == []


def test_an_event_that_is_not_an_object_is_reported(sandbox: SandboxServer) -> None:
    response = post(sandbox, [make_event("good"), 17])
    assert response.status_code == 400
    assert (response.json()["event"], response.json()["errors"]["codes"]) == (1, ["INVALID_EVENT"])


def test_non_purchase_events_need_no_value_or_currency(sandbox: SandboxServer) -> None:
    event = make_event(event_name="SIGN_UP", custom_data={})
    assert post(sandbox, [event]).status_code == 200
    assert post(sandbox, [make_event("x", event_name="CUSTOM_EVENT_1", custom_data=None)]).status_code == 200


def test_time_window_edges_are_inclusive_of_the_skew(sandbox: SandboxServer) -> None:
    now = int(time.time())
    inside = [
        make_event("old", event_time=now - 36 * 86400),
        make_event("skew", event_time=now + 5 * 60),
        make_event("data-processing", data_processing_options=["LDU"], data_processing_options_country=1),
    ]
    assert post(sandbox, inside).status_code == 200


@pytest.mark.parametrize(
    ("content", "reason_fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"data": []}', "no events"),
        (b'{"events": [{}]}', '"data" list'),
        (b"[]", '"data" list'),
    ],
)
def test_malformed_requests_are_rejected_without_an_index(
    sandbox: SandboxServer, content: bytes, reason_fragment: str
) -> None:
    response = post(sandbox, content=content)
    assert response.status_code == 400
    assert response.json()["status"] == "INVALID"
    assert "event" not in response.json()
    assert reason_fragment in response.json()["reason"]


def test_more_than_2000_events_is_rejected(sandbox: SandboxServer) -> None:
    events = [make_event(f"o-{i}") for i in range(capi.MAX_EVENTS_PER_REQUEST + 1)]
    response = post(sandbox, events)
    assert response.status_code == 400
    assert "more than 2000" in response.json()["reason"]
    assert post(sandbox, events[:2000]).status_code == 200


def test_a_body_over_2_mb_is_rejected(sandbox: SandboxServer) -> None:
    padding = "x" * 1500
    events = [make_event(f"o-{i}", custom_data={"value": 1, "currency": "USD", "brands": padding}) for i in range(1400)]
    response = post(sandbox, events)
    assert response.status_code == 400
    assert "larger than" in response.json()["reason"]
    assert sandbox.control.stats()["events_accepted"] == 0


# --- tokens and pixels --------------------------------------------------------------------------------------


def test_tokens_and_pixels_are_checked(sandbox: SandboxServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert post(sandbox, [make_event()], token=None).status_code == 401
    assert post(sandbox, [make_event()], token="wrong-secret-token").status_code == 401
    assert post(sandbox, [make_event()], pixel=OTHER_PIXEL_ID).status_code == 403
    assert sandbox.control.events() == []
    assert [r["status"] for r in sandbox.control.requests()] == [401, 401, 403]
    # The sandbox's own log lines (this test's httpx client logs its URLs, token included, by itself).
    sandbox_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("target_snapchat_capi"))
    assert "wrong-secret-token" not in sandbox_log
    assert DEFAULT_TOKEN not in sandbox_log
    assert f"POST /v3/{OTHER_PIXEL_ID}/events 403" in sandbox_log


# --- deduplication, test events, validation ---------------------------------------------------------------


def test_duplicates_are_accepted_but_stored_once(sandbox: SandboxServer) -> None:
    batch = [make_event(f"order-{i}") for i in range(5)]
    assert post(sandbox, batch).status_code == 200
    assert post(sandbox, batch).status_code == 200
    # Same event_id under another event name is another event.
    assert post(sandbox, [make_event("order-0", event_name="CUSTOM_EVENT_1")]).status_code == 200

    stats = sandbox.control.stats()
    assert stats["events_accepted"] == 6
    assert stats["duplicates"] == 5
    assert [e["event_id"] for e in sandbox.control.events()] == [f"order-{i}" for i in range(5)] + ["order-0"]


def test_deduplication_forgets_after_48_hours(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    no_order = {"value": 1.0, "currency": "USD"}  # order_id dedup has its own, longer window (tested below)
    assert post(sandbox, [make_event("ev-1", custom_data=no_order)]).status_code == 200
    later = time.time() + 49 * 3600
    monkeypatch.setattr(sandbox.state, "clock", lambda: later)
    assert post(sandbox, [make_event("ev-1", event_time=int(later) - 60, custom_data=no_order)]).status_code == 200
    assert sandbox.control.stats()["duplicates"] == 0
    assert len(sandbox.control.events()) == 2


def test_purchases_with_the_same_order_id_merge_for_30_days(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = {"value": 5.0, "currency": "USD", "order_id": "A-1"}
    assert post(sandbox, [make_event("ev-1", custom_data=order)]).status_code == 200
    # Another event_id, same order, three days later: still the same purchase.
    later = time.time() + 3 * 24 * 3600
    monkeypatch.setattr(sandbox.state, "clock", lambda: later)
    assert post(sandbox, [make_event("ev-2", event_time=int(later) - 60, custom_data=order)]).status_code == 200
    assert sandbox.control.stats()["duplicates"] == 1
    # A non-purchase event with that order_id is not merged with it.
    assert (
        post(
            sandbox, [make_event("ev-3", event_name="CUSTOM_EVENT_1", event_time=int(later) - 60, custom_data=order)]
        ).status_code
        == 200
    )
    # After 30 days the order_id is forgotten.
    much_later = time.time() + 31 * 24 * 3600
    monkeypatch.setattr(sandbox.state, "clock", lambda: much_later)
    again = make_event("ev-4", event_time=int(much_later) - 60, custom_data=order)
    assert post(sandbox, [again]).status_code == 200
    assert [event["event_id"] for event in sandbox.control.events()] == ["ev-1", "ev-3", "ev-4"]


def test_test_events_are_counted_apart(sandbox: SandboxServer) -> None:
    assert post(sandbox, [make_event("t-1", test_event_code="TEST123"), make_event("live-1")]).status_code == 200
    stats = sandbox.control.stats()
    assert stats["test_events"] == 1
    assert [e["event_id"] for e in sandbox.control.events()] == ["live-1"]
    assert [e["event_id"] for e in sandbox.control.test_events()] == ["t-1"]
    path = capi.validate_stats_path(DEFAULT_PIXEL_ID)
    body = httpx.get(sandbox.url + path, params={"access_token": DEFAULT_TOKEN}).json()
    assert body["stats"]["test"]["event_count_past_hour"] == 1
    assert body["stats"]["live"]["event_count_past_hour"] == 1


def test_validate_gives_verdicts_and_records_no_conversion(sandbox: SandboxServer) -> None:
    events = [make_event("ok"), make_event("bad", user_data={"em": ["raw@example.com"]}), make_event("ok-2")]
    response = post(sandbox, events, validate=True)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "INVALID"
    assert body["test_event"] is True
    assert [log["status"] for log in body["event_logs"]] == ["VALID", "INVALID", "VALID"]
    assert body["event_logs"][1]["errors"]["codes"] == ["UNHASHED_PII"]
    assert sandbox.control.events() == []
    assert sandbox.control.stats()["events_accepted"] == 0
    assert sandbox.control.stats()["validated_events"] == 3

    logs = httpx.get(
        sandbox.url + capi.validate_logs_path(DEFAULT_PIXEL_ID), params={"access_token": DEFAULT_TOKEN}
    ).json()
    assert logs["status"] == "SUCCESS"
    assert [log["status"] for log in logs["logs"]] == ["VALID", "INVALID", "VALID"]
    assert "raw@example.com" not in str(logs)
    refused = httpx.get(sandbox.url + capi.validate_logs_path(DEFAULT_PIXEL_ID), params={"access_token": "x"})
    assert refused.status_code == 401


def get_logs(sandbox: SandboxServer, token: str = DEFAULT_TOKEN, pixel: str = DEFAULT_PIXEL_ID) -> httpx.Response:
    return httpx.get(sandbox.url + capi.validate_logs_path(pixel), params={"access_token": token}, timeout=10)


def test_test_events_sent_live_show_in_the_test_event_logs(sandbox: SandboxServer) -> None:
    """Contract section 1: the logs endpoint is the test-event log; events with test_event_code belong in it."""
    events = [
        make_event("t-1", test_event_code="TEST123"),
        make_event("live-1"),
        make_event("t-2", test_event_code="X"),
    ]
    assert post(sandbox, events).status_code == 200

    body = get_logs(sandbox).json()
    assert body["status"] == "SUCCESS"
    assert [log["event_id"] for log in body["logs"]] == ["t-1", "t-2"]  # the live event is no test event
    first = body["logs"][0]
    assert first["status"] == "VALID"
    assert first["event_name"] == "PURCHASE"
    assert first["raw_event_name"] == "PURCHASE"
    assert first["asset_id"] == DEFAULT_PIXEL_ID
    assert first["action_source"] == "OFFLINE"
    assert first["error_records"] == [] and first["warning_records"] == []
    assert EMAIL_HASH not in str(body)  # the log tells what arrived, not the hashed keys


def test_a_refused_test_event_request_logs_nothing(sandbox: SandboxServer) -> None:
    bad = make_event("t-bad", test_event_code="TEST123", user_data={"em": ["raw@example.com"]})
    assert post(sandbox, [make_event("t-ok", test_event_code="TEST123"), bad]).status_code == 400
    assert get_logs(sandbox).json()["logs"] == []


def test_test_event_logs_keep_24_hours_per_pixel(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert post(sandbox, [make_event("t-old", test_event_code="T")]).status_code == 200
    assert post(sandbox, [make_event("v-old")], validate=True).status_code == 200
    later = time.time() + 25 * 3600
    monkeypatch.setattr(sandbox.state, "clock", lambda: later)
    assert post(sandbox, [make_event("t-new", event_time=int(later) - 60, test_event_code="T")]).status_code == 200
    assert [log["event_id"] for log in get_logs(sandbox).json()["logs"]] == ["t-new"]
    assert get_logs(sandbox, pixel=OTHER_PIXEL_ID).status_code == 403
    assert get_logs(sandbox, token="wrong").status_code == 401


# --- fault injection ----------------------------------------------------------------------------------------


def test_transient_faults_apply_in_order_then_normal_service(sandbox: SandboxServer) -> None:
    sandbox.control.add_faults(
        {"status": 429, "retry_after": 1, "times": 2},
        {"status": 429},
        {"status": 503},
    )
    first, second, third, fourth = (post(sandbox, [make_event()]) for _ in range(4))
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "1")
    assert (second.status_code, second.headers.get("Retry-After")) == (429, "1")
    assert (third.status_code, third.headers.get("Retry-After")) == (429, None)
    assert fourth.status_code == 503
    assert post(sandbox, [make_event()]).status_code == 200
    assert [r["status"] for r in sandbox.control.requests()] == [429, 429, 429, 503, 200]
    assert sandbox.control.requests()[0]["event_ids"] == ["order-1"]
    assert len(sandbox.control.events()) == 1


def test_fault_can_target_one_endpoint(sandbox: SandboxServer) -> None:
    sandbox.control.add_faults({"status": 500, "endpoint": "validate"})
    assert post(sandbox, [make_event()]).status_code == 200
    assert post(sandbox, [make_event()], validate=True).status_code == 500


def test_drop_closes_the_connection_without_an_answer(sandbox: SandboxServer) -> None:
    sandbox.control.add_faults({"drop": True})
    with pytest.raises(httpx.RemoteProtocolError):
        post(sandbox, [make_event()])
    assert sandbox.control.events() == []
    assert post(sandbox, [make_event()]).status_code == 200


def test_delay_then_normal_answer(sandbox: SandboxServer) -> None:
    sandbox.control.add_faults({"delay_seconds": 0.5})
    started = time.monotonic()
    assert post(sandbox, [make_event()]).status_code == 200
    assert time.monotonic() - started >= 0.45
    sandbox.control.add_faults({"delay_seconds": 0.6})
    body = httpx.Request("POST", "/", json={"data": [make_event("slow")]}).content
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            sandbox.url + capi.events_path(DEFAULT_PIXEL_ID),
            params={"access_token": DEFAULT_TOKEN},
            content=body,
            timeout=0.2,
        )
    # The server still finishes the slow request; wait for it so that it does not land in the next test.
    wait_until(lambda: len(sandbox.control.events()) >= 2, "the sandbox to finish the slow request")
    assert [e["event_id"] for e in sandbox.control.events()] == ["order-1", "slow"]


def test_reject_event_id_with_and_without_index(sandbox: SandboxServer) -> None:
    sandbox.control.add_faults(
        {"reject_event_id": "poison", "code": "UNHASHED_PII", "reason": "injected"},
        {"reject_event_id": "hidden", "with_index": False},
    )
    response = post(sandbox, [make_event("a"), make_event("poison"), make_event("b")])
    assert response.status_code == 400
    assert response.json()["event"] == 1
    assert response.json()["errors"]["codes"] == ["UNHASHED_PII"]

    response = post(sandbox, [make_event("a"), make_event("hidden")])
    assert response.status_code == 400
    assert "event" not in response.json()
    assert response.json()["errors"]["codes"] == ["SANDBOX_REJECTED"]

    # Persistent: still rejected; other events still pass.
    assert post(sandbox, [make_event("poison")]).status_code == 400
    assert post(sandbox, [make_event("a"), make_event("b")]).status_code == 200


def test_token_shaped_400(sandbox: SandboxServer) -> None:
    sandbox.control.add_faults({"status": 400, "reason": "Invalid access token"})
    response = post(sandbox, [make_event()])
    assert response.status_code == 400
    assert response.json() == {"status": "INVALID", "reason": "Invalid access token"}


def test_malformed_faults_are_refused(sandbox: SandboxServer) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.control.add_faults({"colour": "red"})
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.control.add_faults({"status": 500, "times": 0})
    assert sandbox.control.stats()["pending_faults"] == 0


def test_reset_forgets_everything(sandbox: SandboxServer) -> None:
    post(sandbox, [make_event()])
    sandbox.control.add_faults({"status": 500, "times": 3}, {"reject_event_id": "order-1"})
    sandbox.control.reset()
    stats = sandbox.control.stats()
    assert stats["requests"] == 0
    assert stats["pending_faults"] == 0
    assert sandbox.control.events() == []
    assert post(sandbox, [make_event()]).status_code == 200  # no fault, no reject, no duplicate
    assert sandbox.control.stats()["duplicates"] == 0


def test_storage_is_capped_but_counts_and_dedup_go_on() -> None:
    with SandboxServer(max_stored_events=3) as server:
        events = [make_event(f"o-{i}") for i in range(5)]
        assert post(server, events).status_code == 200
        assert post(server, events).status_code == 200
        stats = server.control.stats()
        assert (stats["stored_events"], stats["events_accepted"], stats["duplicates"]) == (3, 5, 5)
        assert [e["event_id"] for e in server.control.events()] == ["o-0", "o-1", "o-2"]
        assert [e["event_id"] for e in server.control.events(offset=1, limit=1)] == ["o-1"]


def test_custom_tokens_and_stop_closes_the_port() -> None:
    server = SandboxServer(tokens={"tok-a": {"pixel-a", "pixel-b"}}).start()
    url = server.url
    try:
        assert post(server, [make_event()], token="tok-a", pixel="pixel-b").status_code == 200
        assert post(server, [make_event()], token=DEFAULT_TOKEN, pixel="pixel-b").status_code == 401
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/_sandbox/health", timeout=2)


# --- the executable ---------------------------------------------------------------------------------------


def test_cli_serves_until_sigterm_and_never_logs_the_token() -> None:
    command = [
        sys.executable,
        "-m",
        "target_snapchat_capi.sandbox.server",
        "--port",
        "0",
        "--token",
        "cli-secret-token:pixel-1,pixel-2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        with SandboxControl(url) as control:
            assert control.health()
            response = httpx.post(
                url + capi.events_path("pixel-2"),
                params={"access_token": "cli-secret-token"},
                json={"data": [make_event()]},
            )
            assert response.status_code == 200
            assert len(control.events()) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    stderr = process.stderr.read() if process.stderr else ""
    assert "POST /v3/pixel-2/events 200 events=1" in stderr
    assert "cli-secret-token" not in stderr


def test_a_post_without_content_length_is_refused(sandbox: SandboxServer) -> None:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as connection:
        connection.sendall(f"POST {capi.events_path(DEFAULT_PIXEL_ID)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = connection.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 411")
    assert "Connection: close" in answer
