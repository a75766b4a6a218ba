"""A real JupyterLab server for the widget tests, driven through its UI by Playwright.

The server runs as a child process on a free loopback port with no token, in a temporary root
folder, and is stopped by its PID. The news/update toast is silenced through the environment's
settings overrides (as ENVIRONMENT.md describes).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


class Lab:
    def __init__(self, root: Path):
        settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
        settings.mkdir(parents=True, exist_ok=True)
        if not (settings / "overrides.json").is_file():
            (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "jupyterlab.log", "w")  # noqa: SIM115 (closed in stop)
        # Own settings and workspaces: a theme chosen in one test run must not leak into the next (or into
        # the user's own JupyterLab).
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
             "--ServerApp.token=", "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={root}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/status", timeout=2)  # noqa: S310 (loopback only)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not start; see {root / 'jupyterlab.log'}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def menu(page, *path: str) -> None:
    """Click through JupyterLab's menu bar, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel", has_text=path[0]).first.click()
    for label in path[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=label).first.click()


def open_and_run(page, lab: Lab, name: str, timeout_ms: int = 180_000) -> None:
    page.goto(f"{lab.url}/lab/tree/{name}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => document.body.textContent.includes('Kernel status: Idle')", timeout=60_000)
    # "Idle" can show before the session's kernel really is; if Run All came too early, nothing starts,
    # so look for the first cell to be queued or done, and ask again if it is not.
    started = "() => /\\[(\\*|\\d+)\\]/.test(document.querySelector('.jp-InputArea-prompt')?.textContent || '')"
    for attempt in range(4):
        menu(page, "Run", "Run All Cells")
        try:
            page.wait_for_function(started, timeout=15_000)
            break
        except Exception:
            if attempt == 3:
                raise
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-InputArea-prompt')].every(p => /\\[\\d+\\]/.test(p.textContent))",
        timeout=timeout_ms)
