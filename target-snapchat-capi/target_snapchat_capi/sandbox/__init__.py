"""A local Snapchat Conversions API v3 sandbox: real HTTP, the contract's checks, dedup, fault injection.

Run it with `snapchat-capi-sandbox` (or as a child process with `SandboxProcess`, the one launcher the demo, tests and
benchmark use), or in-process with `SandboxServer`; read it back with `SandboxControl`.
"""

from target_snapchat_capi.sandbox.control import SandboxControl
from target_snapchat_capi.sandbox.launcher import SandboxProcess, SandboxStartError, free_port
from target_snapchat_capi.sandbox.server import (
    DEFAULT_PIXEL_ID,
    DEFAULT_TOKEN,
    SandboxServer,
    main,
)

__all__ = [
    "DEFAULT_PIXEL_ID",
    "DEFAULT_TOKEN",
    "SandboxControl",
    "SandboxProcess",
    "SandboxServer",
    "SandboxStartError",
    "free_port",
    "main",
]
