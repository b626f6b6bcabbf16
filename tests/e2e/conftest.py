"""End-to-end fixtures (defined in helpers.py, which the tests also import from)."""

from tests.e2e.helpers import sandbox_process

__all__ = ["sandbox_process"]
