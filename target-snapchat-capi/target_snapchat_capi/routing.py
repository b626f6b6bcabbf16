"""Several pixels: which pixel (and token) each event goes to. Pure: no I/O, nothing from Singer.

The `pixels` setting is ``{route value: {"pixel_id": ..., "access_token": ...}}``; the mapped ``pixel_route`` column
(a store, a brand, a market) names a row's route. Route values are matched trimmed and case-insensitively. A row
whose route is blank goes to the single-pixel `pixel_id`/`access_token` when those are set too; any other unlisted
route is rejected as `unknown_pixel_route`. Without `pixels`, every event goes to `pixel_id` (one route, named "").

A token is never part of a message, a repr or a report: errors name the route and the pixel id only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: The route of the single-pixel settings (and of rows whose route is blank when both are configured).
DEFAULT_ROUTE: Final = ""


class RouteError(ValueError):
    """The `pixels` setting is wrong; the message names the route, never a token."""


@dataclass(frozen=True)
class Pixel:
    """One pixel and its token. `route` is the route value as configured (the report's name for the pixel)."""

    route: str
    pixel_id: str
    access_token: str = field(repr=False)

    @property
    def label(self) -> str:
        """How messages and the report name this pixel: its route, or the pixel id for the single pixel."""
        return self.route or self.pixel_id


def route_key(raw: str) -> str:
    """The form route values are compared in."""
    return raw.strip().casefold()


@dataclass(frozen=True)
class PixelRoutes:
    """The run's pixels by route key. `routed` is True when the `pixels` setting is used."""

    pixels: Mapping[str, Pixel]
    routed: bool

    @classmethod
    def from_settings(cls, raw_pixels: Any, pixel_id: str | None, access_token: str | None) -> PixelRoutes:
        """Checked routes. Raises RouteError naming the wrong entry."""
        pixels: dict[str, Pixel] = {}
        if pixel_id and access_token:
            pixels[DEFAULT_ROUTE] = Pixel(DEFAULT_ROUTE, pixel_id, access_token)
        if raw_pixels in (None, {}, ""):
            return cls(pixels=pixels, routed=False)
        if not isinstance(raw_pixels, Mapping):
            raise RouteError('pixels must be an object, e.g. {"store-12": {"pixel_id": "...", "access_token": "..."}}')
        for route, entry in raw_pixels.items():
            key = route_key(str(route))
            if not key:
                raise RouteError("pixels: a route value must not be blank")
            if key in pixels:
                raise RouteError(f"pixels: route {route!r} is listed twice (routes are matched case-insensitively)")
            if not isinstance(entry, Mapping):
                raise RouteError(f"pixels[{route!r}] must be an object with pixel_id and access_token")
            entry_pixel, entry_token = entry.get("pixel_id"), entry.get("access_token")
            if not isinstance(entry_pixel, str) or not entry_pixel.strip():
                raise RouteError(f"pixels[{route!r}].pixel_id is required (the Snap Pixel ID, a UUID)")
            if not isinstance(entry_token, str) or not entry_token.strip():
                raise RouteError(f"pixels[{route!r}].access_token is required (that pixel's Conversions API token)")
            unknown = sorted(set(entry) - {"pixel_id", "access_token"})
            if unknown:
                raise RouteError(f"pixels[{route!r}] has unknown keys: {', '.join(unknown)}")
            pixels[key] = Pixel(str(route).strip(), entry_pixel.strip(), entry_token.strip())
        return cls(pixels=pixels, routed=True)

    def lookup(self, raw_route: str | None) -> Pixel | None:
        """The pixel of a row's route value (None or blank: the default route), or None when not listed."""
        return self.pixels.get(route_key(raw_route) if raw_route else DEFAULT_ROUTE)

    @property
    def route_keys(self) -> frozenset[str]:
        return frozenset(self.pixels)
