"""A simulated X account served from a process of its own, driven over a pipe.

The in-thread :class:`~tests.connectors_sim.server.SimServer` shares the interpreter (and its
GIL) with the code under test. That is fine for behaviour, not for measuring throughput: a
real network's servers are not in our process, so a benchmark that times our code against a
busy simulator would bill the simulator's work to us. The benchmarks run each simulator here.

    with XSimProcess(first_id=1_870_000_000_000_000_000, failure="500") as sim:
        connector = XConnector(settings, creds, base_url=sim.base_url)
        sim.add_mentions(["@AcmeAyuda hola", ...])     # returns once they are served

``failure``: ``None`` (healthy), ``"500"`` (every request answers HTTP 500), ``"429"`` (every
request is rate limited, with X's headers) or ``"hang"`` (every request is held open until
the process stops: a network that never answers).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

FAILURES = ("500", "429", "hang")
ROOT = Path(__file__).resolve().parents[2]


def serve(first_id: int, failure: str | None, commands: IO[str], answers: IO[str]) -> None:
    """Serve one simulated X account until ``commands`` ends (the child process's main)."""
    import threading

    from tests.connectors_sim.server import SimRequest, SimResponse, SimServer
    from tests.connectors_sim.x import XSim

    server = SimServer().start()
    sim = XSim(server)
    sim._ids = itertools.count(first_id)  # tweet ids are unique per network: one range per account
    release = threading.Event()
    if failure == "500":
        server.fail_with_status(500, times=None)  # type: ignore[arg-type]
    elif failure == "429":
        server.fail_with_rate_limit(1, times=None)  # type: ignore[arg-type]
    elif failure == "hang":
        def hang(request: SimRequest) -> SimResponse | None:
            release.wait(600)
            return None

        server.guards.append(hang)
    answers.write(server.base_url + "\n")
    answers.flush()
    try:
        for line in commands:  # one JSON command a line; the end of input stops the server
            command = json.loads(line)
            for text in command.get("mentions", []):
                sim.add_mention(text)
            answers.write(f"{len(sim.mentions)}\n")
            answers.flush()
    finally:
        release.set()
        server.stop()


class XSimProcess:
    """One simulated X account (``tests.connectors_sim.x.XSim``) in a child process."""

    def __init__(self, *, first_id: int = 1_860_000_000_000_000_000, failure: str | None = None) -> None:
        if failure is not None and failure not in FAILURES:
            raise ValueError(f"failure must be one of {FAILURES}, not {failure!r}")
        self.first_id = first_id
        self.failure = failure
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> XSimProcess:
        """Start the process and wait until it serves; ``base_url`` is set then."""
        command = [sys.executable, "-m", "tests.connectors_sim.x_process", "--first-id", str(self.first_id)]
        if self.failure is not None:
            command += ["--failure", self.failure]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()
        if not self.base_url.startswith("http://"):
            self.stop()
            raise RuntimeError("the X simulator process did not start")
        return self

    def add_mentions(self, texts: list[str]) -> int:
        """Add new mentions (newest last); returns how many the account has now."""
        assert self._process is not None and self._process.stdin and self._process.stdout, "start() it first"
        self._process.stdin.write(json.dumps({"mentions": list(texts)}) + "\n")
        self._process.stdin.flush()
        return int(self._process.stdout.readline())

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and end the process (killed if it does not end within ``timeout``)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> XSimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve a simulated X account; JSON commands on stdin.")
    parser.add_argument("--first-id", type=int, default=1_860_000_000_000_000_000)
    parser.add_argument("--failure", choices=FAILURES)
    args = parser.parse_args()
    serve(args.first_id, args.failure, sys.stdin, sys.stdout)
