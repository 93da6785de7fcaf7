"""A real server in a subprocess and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, free_port

CHROMIUM = os.environ.get("VENTANILLA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """ventanilla serving a fresh SQLite database holding the demo sample."""
    import shutil

    db = tmp_path / "e2e.db"
    shutil.copy(sqlite_template, db)
    env = {**os.environ, "VENTANILLA_DATABASE_URL": f"sqlite:///{db}",
           "VENTANILLA_SECRET_KEY": "e2e-secret-key-0123456789-abcdefghij",
           "VENTANILLA_ARGON2_TIME_COST": "1", "VENTANILLA_ARGON2_MEMORY_KIB": "1024",
           "VENTANILLA_SHARED_DATA": str(tmp_path / "no-shared-data")}
    env.pop("VENTANILLA_BROKER_URL", None)
    exe = [sys.executable, "-m", "ventanilla.cli"]
    subprocess.run([*exe, "demo", "--no-serve", "--shared-data", str(tmp_path / "none")], env=env,
                   check=True, capture_output=True, cwd=tmp_path)
    port = free_port()
    server = subprocess.Popen([*exe, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.kill()
        raise RuntimeError(f"server did not start: {server.stderr.read().decode() if server.stderr else ''}")
    yield url
    server.terminate()
    server.wait(timeout=10)
