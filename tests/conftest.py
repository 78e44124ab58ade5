from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Processes
from tls_certs import TlsFiles, make_tls_files


@pytest.fixture(scope="session", autouse=True)
def _children_leave_no_temp_files() -> Iterator[None]:
    """Every process the suite starts gets a private TMPDIR that must be empty at the end.

    The suite's own temporary files (``tmp_path``) stay where pytest puts them;
    this catches what servers, workers, examples and clients leave behind (the
    file_download example once left a generated file per run in /tmp).
    """
    tempfile.gettempdir()  # pin this process's own temp dir before changing TMPDIR
    private = tempfile.mkdtemp(prefix="pagi-tests-tmp-")
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = private
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = previous
        left = sorted(os.listdir(private))
        shutil.rmtree(private, ignore_errors=True)
        assert not left, f"processes started by the tests left temporary files: {left}"


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    """Start real pagi processes; all are killed when the test ends."""
    p = Processes(tmp_path)
    try:
        yield p
    finally:
        p.cleanup()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA with a server (localhost, 127.0.0.1) and a client certificate, as PEM files."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def module_procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """Like ``procs``, for servers a whole test module shares (started once,
    killed when the module is done)."""
    p = Processes(tmp_path_factory.mktemp("procs"))
    try:
        yield p
    finally:
        p.cleanup()


@pytest.fixture(params=["h11", "httptools"])
def http_parser(request: pytest.FixtureRequest) -> str:
    """Run a test once per HTTP/1.1 parser backend."""
    return str(request.param)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by playwright (a real browser as a client).

    Module-scoped, not session-scoped: playwright's sync API keeps an event loop
    running in this thread while it is open, which other tests' loops cannot
    share. A missing browser is a failure, not a skip: `.ci/run` installs it.
    """
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
