"""CapiClient against a real SandboxServer over HTTP: batching, retries, poison isolation, auth, privacy."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from target_snapchat_capi import capi, wire
from target_snapchat_capi.client import AuthError, CapiClient, DeliveryError
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.waiting import wait_until

EMAIL_HASH = hashlib.sha256(b"person@example.com").hexdigest()
OTHER_PIXEL_ID = "99999999-2222-4333-8444-555555555555"
ClientFactory = Callable[..., CapiClient]


def make_events(count: int, *, padding: int = 0, prefix: str = "e") -> list[dict[str, Any]]:
    now = int(time.time()) - 600
    custom: dict[str, Any] = {"value": 19.99, "currency": "EUR"}
    if padding:
        custom["brands"] = "b" * padding
    return [
        {
            "event_name": "PURCHASE",
            "event_time": now,
            "event_id": f"{prefix}-{i}",
            "action_source": "OFFLINE",
            "user_data": {"em": [EMAIL_HASH]},
            "custom_data": custom,
        }
        for i in range(count)
    ]


@pytest.fixture
def make_client(sandbox: SandboxServer) -> Iterator[ClientFactory]:
    clients: list[CapiClient] = []

    def factory(**overrides: Any) -> CapiClient:
        settings: dict[str, Any] = {
            "api_url": sandbox.url,
            "pixel_id": DEFAULT_PIXEL_ID,
            "access_token": DEFAULT_TOKEN,
            "timeout_seconds": 5,
            "max_retries": 4,
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 2,
        }
        settings.update(overrides)
        client = CapiClient(**settings)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def stored_ids(sandbox: SandboxServer) -> list[str]:
    return [event["event_id"] for event in sandbox.control.events()]


# --- batching ---------------------------------------------------------------------------------------------


def test_4500_events_go_in_3_requests_and_arrive_once(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    events = make_events(4500)
    result = make_client().send(events)

    assert result.delivered == list(range(4500))
    assert result.rejected == []
    assert (result.requests, result.retries) == (3, 0)
    assert sorted(r["n_events"] for r in sandbox.control.requests()) == [500, 2000, 2000]
    assert sorted(stored_ids(sandbox)) == sorted(e["event_id"] for e in events)
    assert sandbox.control.stats()["duplicates"] == 0


def test_batch_size_setting_is_honoured(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    result = make_client(batch_size=7, max_concurrency=2).send(make_events(20))
    assert result.requests == 3
    assert sorted(r["n_events"] for r in sandbox.control.requests()) == [6, 7, 7]
    assert len(stored_ids(sandbox)) == 20


def test_requests_stay_under_2_mb(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    events = make_events(1200, padding=4000)  # ~4.9 MB in all, far fewer than 2000 events
    result = make_client().send(events)

    assert result.delivered == list(range(1200))
    assert result.requests >= 3  # the sandbox answers 400 to any body over 2 MB, so none was
    assert all(r["status"] == 200 for r in sandbox.control.requests())
    assert len(stored_ids(sandbox)) == 1200


def test_an_event_too_large_alone_is_rejected_locally(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    events = make_events(3)
    events[1]["custom_data"] = {**events[1]["custom_data"], "brands": "x" * 2_100_000}
    result = make_client().send(events)

    assert result.delivered == [0, 2]
    assert [(r.index, r.code) for r in result.rejected] == [(1, "EVENT_TOO_LARGE")]
    assert result.requests == 1


def test_planned_request_bodies_are_what_send_posts(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    events = make_events(900, padding=4000) + make_events(3000, prefix="small")
    bodies = list(wire.plan_request_bodies([wire.encode(event) for event in events], 2000))

    assert all(len(body) <= capi.MAX_REQUEST_BYTES for body in bodies)
    decoded = [msgspec.json.decode(body)["data"] for body in bodies]
    assert all(1 <= len(data) <= 2000 for data in decoded)
    assert [event for data in decoded for event in data] == events  # every event once, in order

    result = make_client(max_concurrency=1).send(events)
    assert result.requests == len(bodies)
    assert [r["n_events"] for r in sandbox.control.requests()] == [len(data) for data in decoded]


def test_no_events_no_request(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    result = make_client().send([])
    assert (result.delivered, result.rejected, result.requests) == ([], [], 0)
    assert sandbox.control.stats()["requests"] == 0


def test_concurrency_is_bounded(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    # 8 requests, each held 0.5 s by the sandbox; 4 in flight at once means two waves (~1 s): not one wave
    # (more than 4 in flight) and not eight (one at a time, 4 s).
    sandbox.control.add_faults({"delay_seconds": 0.5, "times": 8})
    started = time.monotonic()
    result = make_client(batch_size=10, max_concurrency=4).send(make_events(80))
    elapsed = time.monotonic() - started

    assert len(result.delivered) == 80
    assert result.requests == 8
    assert 0.95 <= elapsed < 2.5


# --- transient failures -----------------------------------------------------------------------------------


def test_429_with_retry_after_is_honoured(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    sandbox.control.add_faults({"status": 429, "retry_after": 1})
    started = time.monotonic()
    result = make_client().send(make_events(5))
    elapsed = time.monotonic() - started

    assert result.delivered == list(range(5))
    assert (result.requests, result.retries) == (2, 1)
    assert 0.9 <= elapsed < 3
    assert [r["status"] for r in sandbox.control.requests()] == [429, 200]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "times": 2},
        {"status": 500, "times": 2},
        {"status": 503, "times": 2},
        {"drop": True, "times": 2},
        {"status": 200, "times": 2},  # HTTP 200 whose body does not say VALID is not a success
    ],
    ids=["429-no-retry-after", "500", "503", "dropped-connection", "200-not-valid"],
)
def test_transient_failures_are_retried_and_delivered_once(
    sandbox: SandboxServer, make_client: ClientFactory, fault: dict[str, Any]
) -> None:
    sandbox.control.add_faults(fault)
    result = make_client().send(make_events(10))

    assert result.delivered == list(range(10))
    assert (result.requests, result.retries) == (3, 2)
    assert sorted(stored_ids(sandbox)) == sorted(f"e-{i}" for i in range(10))


def test_slow_response_beyond_timeout_is_retried(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    sandbox.control.add_faults({"delay_seconds": 1.5})
    started = time.monotonic()
    result = make_client(timeout_seconds=0.3).send(make_events(4))

    assert result.delivered == [0, 1, 2, 3]
    assert (result.requests, result.retries) == (2, 1)
    assert time.monotonic() - started < 1.4  # it did not wait for the slow answer
    # The slow request is still processed once its delay is over: the sandbox then counts duplicates.
    wait_until(lambda: sandbox.control.stats()["duplicates"] >= 4, "the sandbox to finish the slow request")
    assert sandbox.control.stats()["duplicates"] == 4
    assert sorted(stored_ids(sandbox)) == ["e-0", "e-1", "e-2", "e-3"]


def test_retries_exhausted_raise_a_delivery_error_naming_the_status(
    sandbox: SandboxServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.control.add_faults({"status": 503, "times": 10})
    with pytest.raises(DeliveryError) as caught:
        make_client(max_retries=2).send(make_events(3))

    error = caught.value
    assert not isinstance(error, AuthError)
    assert "HTTP 503" in str(error)
    assert "2 retries" in str(error)
    assert DEFAULT_TOKEN not in str(error)
    assert error.status == 503
    assert error.result is not None
    assert (error.result.delivered, error.result.requests, error.result.retries) == ([], 3, 2)
    assert stored_ids(sandbox) == []
    assert DEFAULT_TOKEN not in caplog.text


def test_unexpected_status_fails_at_once(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    client = make_client(api_url=sandbox.url + "/not-snap")
    with pytest.raises(DeliveryError, match="HTTP 404") as caught:
        client.send(make_events(2))
    assert caught.value.result is not None
    assert caught.value.result.retries == 0


# --- events Snap rejects ----------------------------------------------------------------------------------


def test_rejected_event_with_index_is_set_aside_and_the_rest_resent(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    sandbox.control.add_faults({"reject_event_id": "e-4", "code": "UNHASHED_PII", "reason": "Unhashed email"})
    result = make_client().send(make_events(10))

    assert result.delivered == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    [rejection] = result.rejected
    assert (rejection.index, rejection.code, rejection.message) == (4, "UNHASHED_PII", "Unhashed email")
    assert result.requests == 2
    assert sorted(stored_ids(sandbox)) == sorted(f"e-{i}" for i in range(10) if i != 4)


def test_rejected_event_without_index_is_isolated_by_halving(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    sandbox.control.add_faults({"reject_event_id": "e-5", "with_index": False})
    result = make_client().send(make_events(16))

    assert result.delivered == [i for i in range(16) if i != 5]
    assert [(r.index, r.code) for r in result.rejected] == [(5, "SANDBOX_REJECTED")]
    # 16 → 8+8 → 4+4 → 2+2 → 1+1: one failing request per level plus the good halves.
    assert result.requests <= 9
    assert len(stored_ids(sandbox)) == 15


def test_several_bad_events_across_concurrent_batches(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    sandbox.control.add_faults(
        {"reject_event_id": "e-10"},
        {"reject_event_id": "e-2500", "with_index": False},
        {"reject_event_id": "e-4499"},
    )
    result = make_client().send(make_events(4500))

    assert sorted(r.index for r in result.rejected) == [10, 2500, 4499]
    assert len(result.delivered) == 4497
    assert len(set(stored_ids(sandbox))) == len(stored_ids(sandbox)) == 4497
    assert result.requests < 40


def test_request_level_400_on_a_single_event_becomes_its_rejection(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    events = make_events(3)
    events[2]["event_time"] = events[2]["event_time"] * 1000  # milliseconds: the sandbox reports index 2
    result = make_client().send(events)
    assert result.delivered == [0, 1]
    assert [(r.index, r.code) for r in result.rejected] == [(2, "EVENT_TIME_IN_FUTURE")]


def test_a_400_that_fails_every_request_alike_stops_the_run(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    """A request-level problem must not turn into 2000 "rejected" events and a state that moves past them."""
    sandbox.control.add_faults({"status": 400, "reason": "Unknown field: foo", "times": 10_000})
    with pytest.raises(DeliveryError, match="problem with the requests as a whole") as caught:
        make_client().send(make_events(2000))
    # It gives up after about 2*log2(n) unnamed failures instead of the 3999 requests full isolation would take.
    assert sandbox.control.stats()["requests"] <= 2 * (2000).bit_length() + 2
    assert caught.value.result is not None
    assert caught.value.result.delivered == []


def test_two_bad_events_without_index_are_still_isolated(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    sandbox.control.add_faults(
        {"reject_event_id": "e-0", "with_index": False}, {"reject_event_id": "e-1", "with_index": False}
    )
    result = make_client().send(make_events(64))
    assert sorted(r.index for r in result.rejected) == [0, 1]
    assert len(result.delivered) == 62


# --- token and pixel errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fault", "status"),
    [
        ({"access_token": "wrong-token-SECRET"}, None, 401),
        ({"pixel_id": OTHER_PIXEL_ID}, None, 403),
        ({}, {"status": 400, "reason": "Invalid access token", "times": 3}, 400),
    ],
    ids=["401", "403", "token-400"],
)
def test_auth_errors_stop_at_once_without_leaking_the_token(
    sandbox: SandboxServer,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    overrides: dict[str, Any],
    fault: dict[str, Any] | None,
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    if fault:
        sandbox.control.add_faults(fault)
    token = overrides.get("access_token", DEFAULT_TOKEN)
    started = time.monotonic()
    with pytest.raises(AuthError) as caught:
        make_client(**overrides).send(make_events(4500))

    assert time.monotonic() - started < 2
    error = caught.value
    assert error.status == status
    assert f"HTTP {status}" in str(error)
    assert "access_token" in str(error)  # tells the user what to check ...
    assert token not in str(error)  # ... without showing it
    assert error.result is not None
    assert error.result.retries == 0
    assert error.result.delivered == []
    assert stored_ids(sandbox) == []
    out, err = capfd.readouterr()
    assert token not in caplog.text + out + err


def test_privacy_of_logs_across_faults(
    sandbox: SandboxServer,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # even when asked for, httpx must not print the token
    caplog.set_level(logging.DEBUG, logger="httpcore")
    sandbox.control.add_faults(
        {"status": 429, "retry_after": 0},
        {"status": 500},
        {"drop": True},
        {"reject_event_id": "e-3", "with_index": False},
    )
    result = make_client().send(make_events(8))
    assert len(result.delivered) == 7

    out, err = capfd.readouterr()
    everything = caplog.text + out + err
    assert "HTTP Request: POST" in caplog.text  # httpx did log its request lines ...
    assert "access_token=***" in caplog.text  # ... with the token redacted
    assert DEFAULT_TOKEN not in everything
    assert EMAIL_HASH not in everything  # no event content, not even hashed


# --- validate_only ----------------------------------------------------------------------------------------


def test_validate_only_returns_verdicts_and_records_nothing(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    events = make_events(2500)
    events[7]["user_data"] = {"em": ["Person@Example.COM"]}
    events[2100]["custom_data"] = {"value": 1}
    result = make_client().send(events, validate_only=True)

    assert result.verdicts is not None
    assert [verdict["event"] for verdict in result.verdicts] == list(range(2500))
    assert result.verdicts[7]["status"] == "INVALID"
    assert result.verdicts[2100]["errors"]["codes"] == ["MISSING_CURRENCY"]
    assert [(r.index, r.code) for r in result.rejected] == [(7, "UNHASHED_PII"), (2100, "MISSING_CURRENCY")]
    assert len(result.delivered) == 2498
    assert result.requests == 2
    assert stored_ids(sandbox) == []
    stats = sandbox.control.stats()
    assert (stats["events_accepted"], stats["validated_events"]) == (0, 2500)
    assert all(r["path"].endswith("/events/validate") for r in sandbox.control.requests())


def test_client_is_reusable_and_resending_is_harmless(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    with make_client() as client:
        events = make_events(50)
        first = client.send(events)
        second = client.send(events)
    assert first.delivered == second.delivered == list(range(50))
    assert len(stored_ids(sandbox)) == 50
    assert sandbox.control.stats()["duplicates"] == 50


@pytest.mark.parametrize("api_url", ["tr.snapchat.com", "ftp://example.com", ""])
def test_api_url_must_be_http(api_url: str) -> None:
    with pytest.raises(ValueError, match="api_url"):
        CapiClient(api_url, DEFAULT_PIXEL_ID, DEFAULT_TOKEN)
