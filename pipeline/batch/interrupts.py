"""Interrupts: SIGINT and SIGTERM become ``Interrupted`` (the CLI installs ``on_signal``),
except while a chunk's outputs are being committed — then the signal waits for the
commit to finish, so a chunk's files and its manifest go in together."""
from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised by ``on_signal`` (installed by the CLI)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_commit = {"depth": 0, "pending": None}    # signals wait while a chunk's outputs are moved in


def on_signal(signum: int, frame) -> None:
    """Turn SIGINT/SIGTERM into ``Interrupted``, except while outputs are being committed:
    then the signal waits for the commit to finish, so a chunk's files and its manifest
    go in together."""
    if _commit["depth"]:
        _commit["pending"] = signum
        return
    raise Interrupted(signum)


@contextmanager
def uninterrupted() -> Iterator[None]:
    _commit["depth"] += 1
    try:
        yield
    finally:
        _commit["depth"] -= 1
        if not _commit["depth"] and _commit["pending"] is not None:
            signum, _commit["pending"] = _commit["pending"], None
            raise Interrupted(signum)


def ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C reaches the whole process group, but only the parent
    acts on it (it stops the workers); a worker never prints a KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
