"""What the helper processes a command forks for itself (triage ahead, crisis scans) share."""

from __future__ import annotations

import signal


def ignore_interrupts() -> None:
    """Ctrl-C reaches the whole process group: a helper leaves it to its parent, which stops the
    work in order (the chunks already committed are still scanned) and then ends the helper."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
