"""The project's one HTTP client for the Snapchat Conversions API v3.

`CapiClient.send(events)` takes events that are already built (normalised, hashed, validated) and delivers
them: requests of at most `batch_size` events and under 2 MB of JSON, up to `max_concurrency` in flight over
one keep-alive pool, transient failures retried, and events Snap still rejects set aside one by one so that
the good events beside them are delivered. It returns which input indices were delivered and which rejected.

Decisions the contract leaves open (section 4):
- Success is a JSON body with `status == "VALID"`. A 2xx whose body says `INVALID` is handled like a 400
  INVALID; a 2xx with any other body (not JSON, no status) is retried like a 5xx, then a DeliveryError.
- 400/413/422 INVALID with an `event` index: that event is rejected, the rest of the request is sent again.
  Without an index: the request is split in halves until each bad event is alone (a one-event request that is
  rejected is a rejection).
- 401, 403, or a 400 whose reason mentions the token: AuthError at once, no retry, pending requests cancelled.
- 429, 408, 5xx, timeouts and dropped connections: retried with exponential backoff and full jitter, honouring
  `Retry-After` (seconds or an HTTP date, capped by `backoff_max_seconds`), up to `max_retries`; then
  DeliveryError. Any other status: DeliveryError at once. A DeliveryError carries the partial result so far.
- An event that alone exceeds the 2 MB request cap is never sent; it is rejected with code EVENT_TOO_LARGE.

Privacy: the access token travels only in the query string and is redacted from every message this module
writes; httpx's own request log line (which prints the full URL) is filtered to hide it. Nothing here logs or
raises event content: messages name the status, the pixel, the path and Snap's own (length-capped) reason.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from importlib import metadata
from types import TracebackType
from typing import Any, Final, Self

import httpx
import msgspec
from target_snapchat_capi import capi, wire
from target_snapchat_capi.settings import DEFAULTS

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS: Final = 300
RETRYABLE_STATUSES: Final[frozenset[int]] = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses that mean "this request's content is invalid": isolate the bad events.
INVALID_STATUSES: Final[frozenset[int]] = frozenset({400, 413, 422})
AUTH_STATUSES: Final[frozenset[int]] = frozenset({401, 403})
EVENT_TOO_LARGE: Final = "EVENT_TOO_LARGE"
DEFAULT_REJECTION_CODE: Final = "INVALID"
MISSING_VERDICT: Final = "MISSING_VERDICT"

_TOKEN_ERROR: Final = re.compile(r"token|unauthori[sz]ed|authenticat|credential|permission", re.IGNORECASE)
_TOKEN_IN_QUERY: Final = re.compile(r"(access_token=)[^&\s\"'#]*", re.IGNORECASE)


def _package_version() -> str:
    try:
        return metadata.version("target-snapchat-capi")
    except metadata.PackageNotFoundError:
        return "0"


DEFAULT_USER_AGENT: Final = f"target-snapchat-capi/{_package_version()}"


class DeliveryError(Exception):
    """Events could not be delivered (retries exhausted, or an unexpected answer). The message is redacted.

    `status` is the last HTTP status (None for a timeout or dropped connection); `result` is what was
    delivered or rejected before the failure, when known.
    """

    def __init__(self, message: str, *, status: int | None = None, result: DeliveryResult | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.result = result


class AuthError(DeliveryError):
    """Snap refused the access token or the pixel (401/403, or a 400 about the token): stop, do not retry."""


class _Aborted(Exception):
    """Another request of the same send() failed for good: stop this one quietly."""


@dataclass(frozen=True, slots=True)
class ApiRejection:
    """An event Snap rejected, isolated from its request."""

    index: int  # into the events passed to send()
    code: str  # Snap's error code if given (e.g. UNHASHED_PII), else "INVALID"
    message: str  # Snap's reason, length-capped; never event content


@dataclass
class DeliveryResult:
    delivered: list[int]  # input indices Snap accepted (status VALID); in validate_only, judged VALID
    rejected: list[ApiRejection]  # input indices Snap rejected, isolated
    requests: int = 0
    retries: int = 0
    verdicts: list[dict[str, Any]] | None = None  # validate_only: Snap's event_logs entries, re-indexed


class _QueryTokenFilter(logging.Filter):
    """Rewrites log records that carry a URL with an access token (httpx logs every request's full URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token" in message:
            record.msg = _TOKEN_IN_QUERY.sub(r"\1" + capi.REDACTED, message)
            record.args = None
        return True


_TOKEN_FILTER: Final = _QueryTokenFilter()
_HTTP_LIBRARY_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def _guard_http_library_logs() -> None:
    """Keep httpx/httpcore quiet unless asked otherwise, and never let them print the token."""
    for name in _HTTP_LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        if _TOKEN_FILTER not in library_logger.filters:
            library_logger.addFilter(_TOKEN_FILTER)
        if name in {"httpx", "httpcore"} and library_logger.level == logging.NOTSET:
            library_logger.setLevel(logging.WARNING)


@dataclass
class _SendState:
    """Book-keeping of one send(), shared by its worker threads."""

    validate_only: bool
    #: time.monotonic() past which this send gives up (the delivery_timeout_seconds setting)
    deadline: float = math.inf
    delivered: list[int] = field(default_factory=list)
    rejected: list[ApiRejection] = field(default_factory=list)
    verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    abort: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def result(self) -> DeliveryResult:
        with self.lock:
            verdicts = None
            if self.validate_only:
                verdicts = [self.verdicts[index] for index in sorted(self.verdicts)]
            return DeliveryResult(
                delivered=sorted(self.delivered),
                rejected=sorted(self.rejected, key=lambda rejection: rejection.index),
                requests=self.requests,
                retries=self.retries,
                verdicts=verdicts,
            )


@dataclass(frozen=True, slots=True)
class _Answer:
    """A final (non-retried) answer to one request."""

    status: int
    payload: Mapping[str, Any]


class CapiClient:
    """Delivers built events to one pixel. Thread-safe; reuse one instance for a whole run, then close()."""

    def __init__(
        self,
        api_url: str,
        pixel_id: str,
        access_token: str,
        *,
        timeout_seconds: float = DEFAULTS["request_timeout_seconds"],
        max_retries: int = DEFAULTS["max_retries"],
        max_concurrency: int = DEFAULTS["max_concurrency"],
        batch_size: int = DEFAULTS["batch_size"],
        give_up_seconds: float = DEFAULTS["delivery_timeout_seconds"],
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 60,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        if not pixel_id or not access_token:
            raise ValueError("pixel_id and access_token are required")
        if max_concurrency < 1 or batch_size < 1 or max_retries < 0:
            raise ValueError("max_concurrency and batch_size must be at least 1, max_retries at least 0")
        try:
            scheme = httpx.URL(api_url).scheme
        except httpx.InvalidURL:
            scheme = ""
        if scheme not in {"http", "https"}:
            raise ValueError("api_url must be an http:// or https:// URL, e.g. https://tr.snapchat.com")
        self.pixel_id = pixel_id
        self.batch_size = min(batch_size, capi.MAX_EVENTS_PER_REQUEST)
        self.max_retries = max_retries
        self.give_up_seconds = give_up_seconds
        self._timeout_seconds = timeout_seconds
        self.max_concurrency = max_concurrency
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self._token = access_token
        base_url = api_url.rstrip("/")
        self._events_url = base_url + capi.events_path(pixel_id)
        self._validate_url = base_url + capi.validate_path(pixel_id)
        self._validate_logs_url = base_url + capi.validate_logs_path(pixel_id)
        self._params = {"access_token": access_token}
        self._decoder = msgspec.json.Decoder()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        _guard_http_library_logs()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            headers={"User-Agent": user_agent, "Content-Type": "application/json"},
            follow_redirects=False,
        )

    # --- public -------------------------------------------------------------------------------------------

    def send(self, events: Sequence[Mapping[str, Any]], *, validate_only: bool = False) -> DeliveryResult:
        """Deliver (or, with validate_only, validate) every event; see the module docstring for the rules.

        Raises AuthError (token/pixel refused) or DeliveryError (retries exhausted, unexpected answer); both
        carry the partial result in `.result`.
        """
        return self.send_encoded([wire.encode(event) for event in events], validate_only=validate_only)

    def send_encoded(self, encoded: Sequence[bytes], *, validate_only: bool = False) -> DeliveryResult:
        """`send` for events already encoded (wire.py): result indices are positions in `encoded`."""
        state = _SendState(validate_only=validate_only, deadline=time.monotonic() + self.give_up_seconds)
        if not encoded:
            return state.result()
        batches = list(self._plan_batches(encoded, state))
        url = self._validate_url if validate_only else self._events_url
        try:
            if len(batches) == 1 or self.max_concurrency == 1:
                for batch in batches:
                    self._deliver_batch(batch, encoded, url, state)
            else:
                self._deliver_concurrently(batches, encoded, url, state)
        except DeliveryError as error:
            error.result = state.result()
            raise
        return state.result()

    def test_event_logs(self) -> list[Mapping[str, Any]]:
        """Snap's test-event log of the pixel (``GET .../events/validate/logs``): what arrived with a test code.

        One request, no retry (the run is over; the log is a diagnosis). Raises AuthError or DeliveryError.
        """
        path = capi.redact_url(self._validate_logs_url)
        try:
            response = self._http.get(self._validate_logs_url, params=self._params)
        except httpx.HTTPError as error:
            raise DeliveryError(f"Cannot read the test-event log at {path} ({type(error).__name__})") from None
        payload = self._json(response) or {}
        if response.status_code in AUTH_STATUSES:
            raise AuthError(self._auth_message(response.status_code, payload, path), status=response.status_code)
        logs = payload.get("logs")
        if response.status_code != 200 or not isinstance(logs, list):
            reason = self._scrub(_reason_text(payload)) or "no logs in the answer"
            raise DeliveryError(
                f"Snapchat CAPI answered HTTP {response.status_code} for {path}: {reason}",
                status=response.status_code,
            )
        return [log for log in logs if isinstance(log, Mapping)]

    def close(self) -> None:
        with self._executor_lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- batching -----------------------------------------------------------------------------------------

    def _plan_batches(self, encoded: Sequence[bytes], state: _SendState) -> Iterator[list[int]]:
        """Index lists of at most batch_size events whose request body stays under the byte cap."""
        sendable = []
        for index, event_bytes in enumerate(encoded):
            if wire.BODY_OVERHEAD + len(event_bytes) > capi.MAX_REQUEST_BYTES:
                message = f"event is larger than the {capi.MAX_REQUEST_BYTES}-byte request limit; not sent"
                self._reject(state, index, EVENT_TOO_LARGE, message)
            else:
                sendable.append(index)
        return wire.plan_batches(encoded, self.batch_size, sendable)

    def _deliver_concurrently(
        self, batches: list[list[int]], encoded: Sequence[bytes], url: str, state: _SendState
    ) -> None:
        executor = self._get_executor()
        futures: list[Future[None]] = [
            executor.submit(self._deliver_batch, batch, encoded, url, state) for batch in batches
        ]
        done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
        failure = next((future.exception() for future in done if future.exception() is not None), None)
        if failure is not None:
            state.abort.set()  # requests in flight finish their current attempt, nothing new starts
            for future in not_done:
                future.cancel()
            wait(futures)
        errors = [future.exception() for future in futures if not future.cancelled()]
        delivery_errors = [error for error in errors if isinstance(error, DeliveryError)]
        auth_error = next((error for error in delivery_errors if isinstance(error, AuthError)), None)
        if auth_error is not None:
            raise auth_error
        if delivery_errors:
            raise delivery_errors[0]
        unexpected = next((error for error in errors if error is not None and not isinstance(error, _Aborted)), None)
        if unexpected is not None:
            raise unexpected

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="capi-send")
            return self._executor

    # --- one request and its follow-ups -------------------------------------------------------------------

    def _deliver_batch(self, batch: list[int], encoded: Sequence[bytes], url: str, state: _SendState) -> None:
        """Send one batch; isolate any events Snap rejects and resend the rest until all are settled."""
        pending = [batch]
        # A request-level problem (a field Snap does not take, a pixel issue) fails every sub-request alike; a few
        # bad events fail only the halves holding them, so a success comes within about log2(n) splits.
        unnamed_failures, any_success = 0, False
        systemic_limit = 2 * max(1, len(batch) - 1).bit_length() + 2
        while pending:
            indices = pending.pop()
            answer = self._post(indices, encoded, url, state)
            payload = answer.payload
            if state.validate_only and isinstance(payload.get("event_logs"), list):
                self._record_verdicts(indices, payload["event_logs"], state)
                continue
            if payload.get("status") == capi.STATUS_VALID:
                any_success = True
                with state.lock:
                    state.delivered.extend(indices)
                continue
            code, message = _rejection_reason(payload, answer.status)
            bad = payload.get("event")
            if isinstance(bad, int) and not isinstance(bad, bool) and 0 <= bad < len(indices):
                self._reject(state, indices[bad], code, message)
                rest = indices[:bad] + indices[bad + 1 :]
                if rest:
                    pending.append(rest)
                continue
            unnamed_failures += 1
            if len(batch) > 1 and not any_success and unnamed_failures >= systemic_limit:
                raise DeliveryError(
                    f"Snapchat rejected {unnamed_failures} requests in a row without naming an event "
                    f"(last: HTTP {answer.status} {code}: {message}). This is a problem with the requests as a "
                    "whole (pixel, token, or a field Snapchat does not accept), not with single events; the run "
                    "stops so that no state moves past these events.",
                    status=answer.status,
                )
            if len(indices) == 1:
                self._reject(state, indices[0], code, message)
            else:
                middle = len(indices) // 2
                pending.append(indices[middle:])
                pending.append(indices[:middle])

    def _post(self, indices: list[int], encoded: Sequence[bytes], url: str, state: _SendState) -> _Answer:
        """POST these events until a final answer; retries transient failures, raises on a fatal one."""
        body = wire.request_body(encoded, indices)
        path = capi.redact_url(url)
        attempt = 0
        while True:
            if state.abort.is_set():
                raise _Aborted
            with state.lock:
                state.requests += 1
            status: int | None = None
            retry_after: float | None = None
            started = time.monotonic()
            # No request outlives the send's deadline, so the total give-up time holds even against a hung API.
            timeout = max(min(self._timeout_seconds, state.deadline - started), 0.001)
            try:
                response = self._http.post(url, params=self._params, content=body, timeout=timeout)
            except httpx.UnsupportedProtocol:
                raise DeliveryError(f"Cannot send to {path}: not an http(s) URL; check api_url") from None
            except httpx.TimeoutException as error:
                failure = f"timeout ({type(error).__name__})"
            except httpx.TransportError as error:
                failure = f"connection error ({type(error).__name__})"
            else:
                status = response.status_code
                payload = self._json(response)
                logger.debug(
                    "POST %s: %d events, HTTP %d in %.3fs",
                    path,
                    len(indices),
                    status,
                    time.monotonic() - started,
                )
                answer = self._classify(status, payload, path)
                if answer is not None:
                    return answer
                failure = f"HTTP {status}"
                retry_after = self._retry_after(response.headers.get("Retry-After"))

            delay = self._retry_delay(
                attempt, retry_after, state, what=f"request to {path}", failure=failure, status=status
            )
            attempt += 1
            with state.lock:
                state.retries += 1
            logger.warning(
                "Snapchat CAPI %s (%d events); retry %d/%d in %.2fs",
                failure,
                len(indices),
                attempt,
                self.max_retries,
                delay,
            )
            if state.abort.wait(delay):
                raise _Aborted

    def _retry_delay(
        self,
        attempt: int,
        retry_after: float | None,
        state: _SendState,
        *,
        what: str,
        failure: str,
        status: int | None,
    ) -> float:
        """How long to wait before the next attempt; raises DeliveryError when retries or the time budget are spent."""
        if attempt >= self.max_retries:
            raise DeliveryError(
                f"Snapchat CAPI {what} failed after {attempt} retries (last: {failure})",
                status=status,
            )
        # Retry-After is honoured when it asks for a wait; "0" or a date in the past would burn every retry at once.
        delay = retry_after if retry_after is not None and retry_after > 0 else self._backoff(attempt + 1)
        if time.monotonic() + delay >= state.deadline:
            raise DeliveryError(
                f"Snapchat CAPI {what} gave up after {self.give_up_seconds:g} s "
                f"(delivery_timeout_seconds) and {attempt} retries (last: {failure})",
                status=status,
            )
        return delay

    def _classify(self, status: int, payload: Mapping[str, Any] | None, path: str) -> _Answer | None:
        """A final answer, None for a retryable one; raises AuthError / DeliveryError for fatal ones."""
        body: Mapping[str, Any] = payload or {}
        if status in AUTH_STATUSES:
            raise AuthError(self._auth_message(status, body, path), status=status)
        if status in INVALID_STATUSES or 200 <= status < 300:
            has_index = isinstance(body.get("event"), int)
            if status != 200 and not has_index and _TOKEN_ERROR.search(_reason_text(body)):
                raise AuthError(self._auth_message(status, body, path), status=status)
            if status in INVALID_STATUSES:
                return _Answer(status, body)
            if body.get("status") in {capi.STATUS_VALID, capi.STATUS_INVALID} or "event_logs" in body:
                return _Answer(status, body)
            return None  # a 2xx that does not say VALID: retried, it may be a proxy's page
        if status in RETRYABLE_STATUSES:
            return None
        reason = self._scrub(_reason_text(body)) or "no reason given"
        raise DeliveryError(f"Snapchat CAPI answered HTTP {status} for {path}: {reason}", status=status)

    def _auth_message(self, status: int, body: Mapping[str, Any], path: str) -> str:
        reason = self._scrub(_reason_text(body)) or "no reason given"
        return (
            f"Snapchat CAPI refused the access token for pixel {self.pixel_id} (HTTP {status}: {reason}) at "
            f"{path}. Check access_token and pixel_id (the token must own this pixel); nothing more was sent."
        )

    def _record_verdicts(self, indices: list[int], logs: list[Any], state: _SendState) -> None:
        seen: set[int] = set()
        for entry in logs:
            if not isinstance(entry, dict):
                continue
            position = entry.get("event")
            if not isinstance(position, int) or not 0 <= position < len(indices) or position in seen:
                continue
            seen.add(position)
            index = indices[position]
            verdict = {**entry, "event": index}
            with state.lock:
                state.verdicts[index] = verdict
            if entry.get("status") == capi.STATUS_VALID:
                with state.lock:
                    state.delivered.append(index)
            else:
                code, message = _first_error(entry.get("errors"))
                self._reject(state, index, code, message, verdict=False)
        for position, index in enumerate(indices):
            if position not in seen:
                self._reject(state, index, MISSING_VERDICT, "Snap returned no verdict for this event")

    def _reject(self, state: _SendState, index: int, code: str, message: str, *, verdict: bool = True) -> None:
        rejection = ApiRejection(index=index, code=code, message=self._scrub(message))
        with state.lock:
            state.rejected.append(rejection)
            if verdict and state.validate_only:
                state.verdicts[index] = {
                    "event": index,
                    "status": capi.STATUS_INVALID,
                    "errors": {"codes": [code], "error_msgs": [rejection.message]},
                    "warnings": [],
                }

    # --- helpers ------------------------------------------------------------------------------------------

    def _json(self, response: httpx.Response) -> Mapping[str, Any] | None:
        try:
            payload = self._decoder.decode(response.content)
        except msgspec.DecodeError:
            return None
        return payload if isinstance(payload, dict) else None

    def _scrub(self, text: str) -> str:
        """Cap the length and hide the token, should a server ever echo it."""
        text = text.replace(self._token, capi.REDACTED) if self._token else text
        text = _TOKEN_IN_QUERY.sub(r"\1" + capi.REDACTED, text)
        return text[:MAX_MESSAGE_CHARS]

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    def _retry_after(self, header: str | None) -> float | None:
        if not header:
            return None
        try:
            seconds = float(header)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(header).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        if not math.isfinite(seconds):
            return None
        return min(max(seconds, 0.0), self.backoff_max_seconds)


def _reason_text(body: Mapping[str, Any]) -> str:
    """Snap's reason and error codes/messages, as one string (for display and the token-error check)."""
    parts = [str(body.get("reason") or "")]
    errors = body.get("errors")
    if isinstance(errors, dict):
        for key in ("codes", "error_msgs"):
            values = errors.get(key)
            if isinstance(values, list) and values and str(values[0]) not in parts[0]:
                parts.append(str(values[0]))
    return "; ".join(part for part in parts if part)


def _first_error(errors: object) -> tuple[str, str]:
    """The first code and message of an `errors` object ({"codes": [...], "error_msgs": [...]})."""
    codes = errors.get("codes") if isinstance(errors, dict) else None
    messages = errors.get("error_msgs") if isinstance(errors, dict) else None
    code = str(codes[0]) if isinstance(codes, list) and codes else DEFAULT_REJECTION_CODE
    message = str(messages[0]) if isinstance(messages, list) and messages else "rejected by validation"
    return code, message


def _rejection_reason(payload: Mapping[str, Any], status: int) -> tuple[str, str]:
    errors = payload.get("errors")
    codes = errors.get("codes") if isinstance(errors, dict) else None
    code = str(codes[0]) if isinstance(codes, list) and codes else DEFAULT_REJECTION_CODE
    reason = payload.get("reason")
    if not reason and isinstance(errors, dict) and errors.get("error_msgs"):
        reason = errors["error_msgs"][0]
    return code, str(reason or f"rejected by Snapchat (HTTP {status})")
