"""A local Snapchat Conversions API v3 server for tests and the demo (`snapchat-capi-sandbox`).

It answers as the contract (`docs/snapchat-capi-contract.md`, sections 1 to 4) says Snap answers, over real
HTTP/1.1 with keep-alive, on 127.0.0.1 by default. The checks live in `rules.py`, the memory in `state.py`.

Snap's endpoints (token in the `access_token` query parameter; missing or unknown token: 401; a token that
does not own the pixel: 403):

- `POST /v3/{pixel}/events`: body `{"data": [event, ...]}`, 1 to 2000 events, at most 2 MB. Any invalid
  event rejects the WHOLE request: 400 `{"status": "INVALID", "event": <index of the first bad event>,
  "reason": ..., "errors": {"codes": [...], "error_msgs": [...]}}` and nothing is recorded. Request-level
  problems (malformed JSON, no events, too many, too large): 400 `{"status": "INVALID", "reason": ...}`.
  Success: 200 `{"status": "VALID", "reason": "Events have been processed successfully."}`. Events are
  deduplicated by (pixel, event_name, event_id) within 48 h, and PURCHASE events also by (pixel, order_id)
  within 30 days: a duplicate is accepted but stored once and counted as a duplicate. Events carrying
  `test_event_code` are counted as test events, not live ones.
- `POST /v3/{pixel}/events/validate`: the same checks, always 200 for a well-formed request, with
  `{"status": "VALID"|"INVALID", "test_event": true, "event_logs": [{"event": i, "status": ...,
  "errors": {"codes": [...], "error_msgs": [...]}, "warnings": []}, ...]}`; nothing counts as a conversion.
- `GET /v3/{pixel}/events/validate/logs`: `{"status": "SUCCESS", "logs": [...]}`, Snap's test-event log of
  the last 24 h: every validated event, and every accepted event that carried `test_event_code`, each as
  `{"asset_id", "event_name", "raw_event_name", "event_time", "event_id", "action_source", "integration",
  "status", "error_records", "warning_records"}` (never user data).
- `GET /v3/{pixel}/events/validate/stats`: `{"status": "SUCCESS", "stats": {"test":
  {"event_count_past_hour", "latest_event_ts"}, "live": {...}}}`.

Inspection and fault injection for tests, JSON, no token:

- `GET /_sandbox/health` → `{"ok": true}`
- `GET /_sandbox/events[?offset=N&limit=M]` → stored live events (unique, accepted), in arrival order
- `GET /_sandbox/test_events` → stored events that carried `test_event_code`
- `GET /_sandbox/stats` → `{"requests", "events_received", "events_accepted", "duplicates",
  "rejected_requests", "test_events", "validated_events", "stored_events", "pending_faults",
  "by_status": {"200": n, ...}}`
- `GET /_sandbox/requests` → one summary per request to Snap's endpoints: `{"method", "path" (never the
  query), "status" (0 for a dropped connection), "n_events", "event_ids", "fault"}`
- `POST /_sandbox/reset` → forget events, deduplication keys, faults, counters and logs
- `POST /_sandbox/faults` with a JSON list of faults (or one fault) → `{"added": n}`; 400 if any is malformed.

Fault schema. Transient faults queue up in the order given; each POST to `/v3/.../events` or
`/v3/.../events/validate` takes the first queued fault whose `endpoint` matches and uses up one of its
`times`:

    {"status": 429, "retry_after": 1, "times": 2}  429 with `Retry-After: 1` (no retry_after: no header)
    {"status": 500}                                 answer 500 (any status; `times` defaults to 1)
    {"status": 400, "reason": "Invalid access token"}  400 INVALID with that reason (token-error shaped)
    {"delay_seconds": 2.0}                          wait, then answer normally (or with `status` if given)
    {"drop": true}                                  read the request, close the connection, no answer
    optional on each: "times": n (default 1), "endpoint": "events" | "validate" | "any" (default "any")

Persistent faults, until reset:

    {"reject_event_id": "X", "with_index": true, "code": "SANDBOX_REJECTED", "reason": "..."}
        the event with that event_id is invalid: its request gets 400 INVALID (with `event` = its index when
        with_index is true, without `event` otherwise), and the validate endpoint reports it INVALID.

Privacy: log lines carry the method, the path without its query (so never the token), the status and the
event count; never event contents.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

import msgspec
from target_snapchat_capi import capi
from target_snapchat_capi.sandbox import rules
from target_snapchat_capi.sandbox.control import SandboxControl
from target_snapchat_capi.sandbox.state import (
    DEFAULT_MAX_STORED_EVENTS,
    ENDPOINT_EVENTS,
    ENDPOINT_VALIDATE,
    SandboxState,
    TransientFault,
)

logger = logging.getLogger("target_snapchat_capi.sandbox")

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
DEFAULT_TOKEN: Final = "sandbox-token"
DEFAULT_PIXEL_ID: Final = "11111111-2222-4333-8444-555555555555"
DEFAULT_TOKENS: Final[Mapping[str, frozenset[str]]] = {DEFAULT_TOKEN: frozenset({DEFAULT_PIXEL_ID})}

#: Bodies beyond this are not even read: the connection is closed after a 413.
HARD_BODY_LIMIT: Final = 8 * capi.MAX_REQUEST_BYTES
#: Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT_SECONDS: Final = 120

SUCCESS_REASON: Final = "Events have been processed successfully."
_SNAP_PATH: Final = re.compile(r"^/v3/(?P<pixel>[^/]+)/events(?P<sub>/validate(?:/logs|/stats)?)?/?$")
_encoder: Final = msgspec.json.Encoder()

_STATUS_REASONS: Final = {
    400: "Bad request",
    401: "Unauthorized: invalid or missing access token",
    403: "Forbidden: the access token does not own this pixel",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class _HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers its open connections so that stop() can close them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        self.state = state
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The stdlib prints a full traceback, whose messages could quote request content: name the type only.
        logger.error("sandbox: unhandled %s while serving a request", type(sys.exc_info()[1]).__name__)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snapchat-capi-sandbox"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: _HTTPServer

    # The stdlib logs the request line, query string (and so the token) included: silence it, log our own.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> SandboxState:
        return self.server.state

    # --- plumbing -----------------------------------------------------------------------------------------

    def _read_body(self) -> bytes | int:
        """The request body, or the status already answered (connection closed) when it is not read."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            if self.command == "GET":
                return b""
            self._send_json(411, {"status": capi.STATUS_INVALID, "reason": "Content-Length is required"}, close=True)
            return 411
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0 or length > HARD_BODY_LIMIT:
            self._send_json(413, {"status": capi.STATUS_INVALID, "reason": "Request body too large"}, close=True)
            return 413
        return self.rfile.read(length) if length else b""

    def _send_json(
        self,
        status: int,
        payload: object,
        *,
        headers: Mapping[str, str] | None = None,
        close: bool = False,
    ) -> None:
        body = _encoder.encode(payload)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            # The client gave up (e.g. its timeout fired during an injected delay): nothing to answer.
            self.close_connection = True

    def _log(self, path: str, status: int, n_events: int | None = None) -> None:
        suffix = "" if n_events is None else f" events={n_events}"
        logger.info("%s %s %s%s", self.command, path, status, suffix)

    # --- routing ------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        # A sandbox bug must answer, not hang the client; its text may quote content: name the type only.
        try:
            self._route()
        except Exception as error:
            logger.error("sandbox: %s while serving %s", type(error).__name__, urlsplit(self.path).path)
            self._send_json(500, {"status": "ERROR", "reason": "Sandbox internal error"}, close=True)

    def _route(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        body = self._read_body()
        if isinstance(body, int):
            self._log(path, body)
            return
        if path.startswith("/_sandbox/"):
            self._control(path, parts.query, body)
            return
        match = _SNAP_PATH.match(path)
        if match is None:
            self._send_json(404, {"status": capi.STATUS_INVALID, "reason": "Not found"})
            self._log(path, 404)
            return
        pixel_id, sub = match["pixel"], match["sub"] or ""
        expected_method = "GET" if sub in {"/validate/logs", "/validate/stats"} else "POST"
        if self.command != expected_method:
            self._send_json(405, {"status": capi.STATUS_INVALID, "reason": "Method not allowed"})
            self._log(path, 405)
            return
        token = parse_qs(parts.query).get("access_token", [""])[0]
        if expected_method == "POST":
            self._post_events(path, pixel_id, token, body, validate=sub == "/validate")
        else:
            self._get_validate_info(path, pixel_id, token, logs=sub == "/validate/logs")

    def _auth_failure(self, pixel_id: str, token: str) -> int | None:
        if not token or token not in self.state.tokens:
            return 401
        if pixel_id not in self.state.tokens[token]:
            return 403
        return None

    # --- Snap's endpoints ---------------------------------------------------------------------------------

    def _post_events(self, path: str, pixel_id: str, token: str, body: bytes, *, validate: bool) -> None:
        # Parsed first so that even a faulted or refused request is summarised with its event ids.
        request_error: rules.RequestError | None = None
        events: list[Any] = []
        try:
            events = rules.parse_request(body)
        except rules.RequestError as error:
            request_error = error

        fault = self.state.take_fault(ENDPOINT_VALIDATE if validate else ENDPOINT_EVENTS)
        if fault is not None and self._apply_fault(path, fault, events):
            return

        auth_status = self._auth_failure(pixel_id, token)
        if auth_status is not None:
            refusal = {"status": capi.STATUS_INVALID, "reason": _STATUS_REASONS[auth_status]}
            self._answer(path, auth_status, refusal, events)
            return
        if request_error is not None:
            self._answer(path, 400, {"status": capi.STATUS_INVALID, "reason": request_error.reason})
            return

        now = self.state.clock()
        errors = [rules.check_event(event, now) for event in events]
        rejects = self.state.reject_faults()
        hidden_index: set[int] = set()
        if rejects:
            for index, event in enumerate(events):
                event_id = event.get("event_id") if isinstance(event, dict) else None
                reject = rejects.get(event_id) if isinstance(event_id, str) else None
                if reject is not None:
                    errors[index].append(rules.EventError(reject.code, reject.reason))
                    if not reject.with_index:
                        hidden_index.add(index)

        if validate:
            self._answer_validate(path, pixel_id, events, errors)
            return
        first_bad = next((index for index, found in enumerate(errors) if found), None)
        if first_bad is not None:
            found = errors[first_bad]
            payload: dict[str, Any] = {"status": capi.STATUS_INVALID}
            if first_bad not in hidden_index:
                payload["event"] = first_bad
            payload["reason"] = found[0].message
            payload["errors"] = {
                "codes": [error.code for error in found],
                "error_msgs": [error.message for error in found],
            }
            self._answer(path, 400, payload, events)
            return
        self.state.record_events(pixel_id, events)
        self._answer(path, 200, {"status": capi.STATUS_VALID, "reason": SUCCESS_REASON}, events)

    def _answer_validate(
        self, path: str, pixel_id: str, events: list[Any], errors: list[list[rules.EventError]]
    ) -> None:
        verdicts = [
            {
                "event": index,
                "status": capi.STATUS_INVALID if found else capi.STATUS_VALID,
                "errors": {"codes": [e.code for e in found], "error_msgs": [e.message for e in found]},
                "warnings": [],
            }
            for index, found in enumerate(errors)
        ]
        self.state.record_validation(pixel_id, events, verdicts)
        all_valid = not any(errors)
        payload = {
            "status": capi.STATUS_VALID if all_valid else capi.STATUS_INVALID,
            "test_event": True,
            "reason": "All events are valid." if all_valid else "Some events are invalid.",
            "event_logs": verdicts,
        }
        self._answer(path, 200, payload, events)

    def _apply_fault(self, path: str, fault: TransientFault, events: list[Any]) -> bool:
        """Apply an injected fault; True when it answered (or dropped) the request."""
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.drop:
            self.close_connection = True
            self.state.record_request(self.command, path, 0, events, fault=fault.describe())
            self._log(path, 0)
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status is None:
            return False
        reason = fault.reason or _STATUS_REASONS.get(fault.status, "Injected fault")
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        payload = {"status": capi.STATUS_INVALID if fault.status == 400 else "ERROR", "reason": reason}
        # Recorded before answering, so that a client that reads /_sandbox/ right after its answer sees it.
        self.state.record_request(self.command, path, fault.status, events, fault=fault.describe())
        self._send_json(fault.status, payload, headers=headers)
        self._log(path, fault.status, len(events))
        return True

    def _answer(self, path: str, status: int, payload: object, events: list[Any] | None = None) -> None:
        self.state.record_request(self.command, path, status, events)  # before answering: no race
        self._send_json(status, payload)
        self._log(path, status, None if events is None else len(events))

    def _get_validate_info(self, path: str, pixel_id: str, token: str, *, logs: bool) -> None:
        auth_status = self._auth_failure(pixel_id, token)
        if auth_status is not None:
            self._answer(path, auth_status, {"status": "FAILURE", "reason": _STATUS_REASONS[auth_status]})
        elif logs:
            self._answer(path, 200, {"status": "SUCCESS", "reason": "", "logs": self.state.validate_logs(pixel_id)})
        else:
            self._answer(path, 200, {"status": "SUCCESS", "reason": "", "stats": self.state.rate_stats(pixel_id)})

    # --- the test API -------------------------------------------------------------------------------------

    def _control(self, path: str, query: str, body: bytes) -> None:
        route = (self.command, path.rstrip("/"))
        params = parse_qs(query)
        payload: object
        status = 200
        if route == ("GET", "/_sandbox/health"):
            payload = {"ok": True}
        elif route == ("GET", "/_sandbox/events"):
            offset = int(params.get("offset", ["0"])[0])
            limit_values = params.get("limit")
            payload = self.state.events(offset, int(limit_values[0]) if limit_values else None)
        elif route == ("GET", "/_sandbox/test_events"):
            payload = self.state.test_events()
        elif route == ("GET", "/_sandbox/stats"):
            payload = self.state.stats()
        elif route == ("GET", "/_sandbox/requests"):
            payload = self.state.requests()
        elif route == ("POST", "/_sandbox/reset"):
            self.state.reset()
            payload = {"ok": True}
        elif route == ("POST", "/_sandbox/faults"):
            try:
                specs = json.loads(body or b"[]")
                added = self.state.add_faults(specs if isinstance(specs, list) else [specs])
                payload = {"added": added}
            except (ValueError, TypeError) as error:
                status, payload = 400, {"error": f"bad fault: {error}"}
        else:
            status, payload = 404, {"error": "not found"}
        self._send_json(status, payload)
        logger.debug("%s %s %s", self.command, path, status)


class SandboxServer:
    """The sandbox in a background thread, for tests: `with SandboxServer() as sandbox: ... sandbox.url`.

    `tokens` maps each known access token to the pixel ids it owns (default: `sandbox-token` owning
    `11111111-2222-4333-8444-555555555555`). Port 0 picks a free port. `state` is the live memory, for
    in-process inspection; `control` is an HTTP helper bound to this server.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        tokens: Mapping[str, Iterable[str]] | None = None,
        *,
        max_stored_events: int = DEFAULT_MAX_STORED_EVENTS,
    ) -> None:
        self.state = SandboxState(DEFAULT_TOKENS if tokens is None else tokens, max_stored_events=max_stored_events)
        self._host = host
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._control: SandboxControl | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._httpd.server_address[1])

    @property
    def control(self) -> SandboxControl:
        """A `SandboxControl` bound to this server (created on first use, closed by stop())."""
        if self._control is None:
            self._control = SandboxControl(self.url)
        return self._control

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self._host, self._port), self.state)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="snapchat-capi-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _parse_token(spec: str) -> tuple[str, frozenset[str]]:
    token, separator, pixels = spec.partition(":")
    pixel_ids = frozenset(pixel for pixel in pixels.split(",") if pixel)
    if not separator or not token or not pixel_ids:
        raise argparse.ArgumentTypeError("expected TOKEN:PIXEL[,PIXEL...]")
    return token, pixel_ids


def main(argv: Sequence[str] | None = None) -> int:
    """`snapchat-capi-sandbox`: serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        prog="snapchat-capi-sandbox",
        description="A local Snapchat Conversions API v3 sandbox for tests and demos.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8765; 0 picks a free one)")
    parser.add_argument(
        "--token",
        action="append",
        type=_parse_token,
        metavar="TOKEN:PIXEL[,PIXEL...]",
        help=f"a token and the pixels it owns; repeatable (default {DEFAULT_TOKEN}:{DEFAULT_PIXEL_ID})",
    )
    parser.add_argument(
        "--max-stored-events",
        type=int,
        default=DEFAULT_MAX_STORED_EVENTS,
        help="keep full events up to this many; beyond it only counts and deduplication keys",
    )
    parser.add_argument("--log-level", default="INFO", help="log level on stderr (default INFO)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(message)s")
    tokens: dict[str, frozenset[str]] = dict(args.token) if args.token else dict(DEFAULT_TOKENS)
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        server = SandboxServer(args.host, args.port, tokens, max_stored_events=args.max_stored_events).start()
    except OSError as error:
        print(f"snapchat-capi-sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    print(f"listening on {server.url}", flush=True)
    while not stop_requested.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
