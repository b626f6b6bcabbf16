"""The target caps glibc's malloc arenas before its threads start (target.tune_malloc): threads then share
one arena instead of each holding freed memory of its own. Counted with glibc's own malloc_info."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Starts threads that each allocate through glibc (bytes objects too large for Python's own allocator), then counts
# the arenas ("<heap nr=...>") malloc_info reports.
COUNT_ARENAS = textwrap.dedent(
    """
    import ctypes, sys, tempfile, threading
    from target_snapchat_capi.target import tune_malloc
    applied = tune_malloc() if sys.argv[1] == "cap" else False
    barrier = threading.Barrier(6)
    def allocate():
        blocks = [bytes(4096 + n) for n in range(200)]
        barrier.wait()  # all alive at once: each would need an arena of its own
        del blocks
    threads = [threading.Thread(target=allocate) for _ in range(6)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile(suffix=".xml") as out:
        handle = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, handle)
        libc.fclose(handle)
        print(applied, open(out.name).read().count("<heap nr="))
    """
)


def _arenas(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode], capture_output=True, text=True, timeout=60, check=True, env=env
    )
    applied, arenas = result.stdout.split()
    return applied, int(arenas)


def test_threads_share_one_arena_once_capped() -> None:
    assert _arenas("cap") == ("True", 1)
    _, arenas = _arenas("no-cap")
    assert arenas > 1  # what the cap prevents: threads allocating at once get arenas of their own


def test_an_explicit_malloc_arena_max_wins() -> None:
    applied, arenas = _arenas("cap", env={"MALLOC_ARENA_MAX": "3", "PATH": "/usr/bin:/bin"})
    assert applied == "False"
    assert 1 < arenas <= 3
