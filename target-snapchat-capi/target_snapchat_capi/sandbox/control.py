"""`SandboxControl`: a small HTTP client for the sandbox's `/_sandbox/` test API (also for a subprocess)."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx


class SandboxControl:
    """Read back what the sandbox received and inject faults: `SandboxControl("http://127.0.0.1:8765")`."""

    def __init__(self, url: str, *, timeout_seconds: float = 10.0) -> None:
        self._client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_seconds)

    def _get(self, path: str, **params: Any) -> Any:
        response = self._client.get(path, params=params or None)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, payload: object = None) -> Any:
        response = self._client.post(path, json=payload)
        response.raise_for_status()
        return response.json()

    def health(self) -> bool:
        try:
            return bool(self._get("/_sandbox/health").get("ok"))
        except httpx.HTTPError:
            return False

    def events(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored live events (unique, accepted), in arrival order."""
        params: dict[str, Any] = {"offset": offset} if offset else {}
        if limit is not None:
            params["limit"] = limit
        return list(self._get("/_sandbox/events", **params))

    def test_events(self) -> list[dict[str, Any]]:
        return list(self._get("/_sandbox/test_events"))

    def stats(self) -> dict[str, Any]:
        return dict(self._get("/_sandbox/stats"))

    def requests(self) -> list[dict[str, Any]]:
        return list(self._get("/_sandbox/requests"))

    def reset(self) -> None:
        self._post("/_sandbox/reset")

    def add_faults(self, *faults: Mapping[str, Any]) -> int:
        """Queue faults (see the server module docstring for the schema); returns how many were added."""
        return int(self._post("/_sandbox/faults", [dict(fault) for fault in faults])["added"])

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
