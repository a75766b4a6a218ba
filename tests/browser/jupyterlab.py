"""A real JupyterLab server for the widget tests, driven through its UI by Playwright.

Notebook 7 (Lab(root, app="notebook")) is driven the same way. The server runs as a child process on a free loopback port with no token, in a temporary root
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

APPS = ["jupyterlab", "notebook"]
# Notebook 7.6.5 logs this console error on its own page load (no widget involved; likely the settings
# override for JupyterLab's notification plugin, which Notebook 7 does not load): not ours to fail on.
NB7_OWN_ERROR = "Cannot read properties of undefined (reading 'schema')"

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
    """JupyterLab (app "jupyterlab") or Notebook 7 (app "notebook"): the same server, options and UI toolkit."""

    def __init__(self, root: Path, app: str = "jupyterlab"):
        self.app = app
        settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
        settings.mkdir(parents=True, exist_ok=True)
        if not (settings / "overrides.json").is_file():
            (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "jupyterlab.log", "w")  # noqa: SIM115 (closed in stop)
        # Own settings and workspaces: a theme chosen in one test run must not leak into the next (or into
        # the user's own JupyterLab).
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"),
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                app,
                "--no-browser",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                "--ServerApp.token=",
                "--ServerApp.password=",
                "--allow-root",
                f"--ServerApp.root_dir={root}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/status", timeout=2)  # noqa: S310 (loopback only)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not start; see {root / 'jupyterlab.log'}")

    def wait_for_idle_kernel(self, notebook: str, timeout: float = 90) -> None:
        """Until the server reports the notebook's session with a started, idle kernel."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with urllib.request.urlopen(f"{self.url}/api/sessions", timeout=5) as r:  # noqa: S310 (loopback)
                sessions = json.loads(r.read())
            states = [s["kernel"].get("execution_state") for s in sessions if s.get("path") == notebook]
            if states == ["idle"]:
                return
            time.sleep(0.5)
        raise TimeoutError(f"no idle kernel for {notebook} after {timeout} s")

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
    # A workspace of its own: JupyterLab restores the last layout of a workspace, so in a shared one an
    # earlier test's notebook could be the current tab when "Run All" is clicked.
    if lab.app == "notebook":  # Notebook 7: one notebook per page, no workspaces
        page.goto(f"{lab.url}/notebooks/{name}")
    else:
        page.goto(f"{lab.url}/lab/workspaces/{Path(name).stem}/tree/{name}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    lab.wait_for_idle_kernel(
        name
    )  # the REST API knows when the session's kernel is really up, the DOM may not
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-InputArea-prompt')].every(p => /\\[\\d+\\]/.test(p.textContent))",
        timeout=timeout_ms,
    )


def start(app: str, root: Path) -> Lab:
    """A server for ``app``, failing clearly when Notebook 7 is not installed."""
    import importlib.util

    if app == "notebook" and importlib.util.find_spec("notebook") is None:
        raise RuntimeError("Notebook 7 is not installed: pip install -c constraints.txt -e '.[notebooks]'")
    return Lab(root, app=app)


def drop_own_errors(lab: Lab, errors: list[str]) -> None:
    """Forget the console errors the app logs by itself (NB7_OWN_ERROR), keep every other."""
    if lab.app == "notebook":
        errors[:] = [e for e in errors if e != NB7_OWN_ERROR]


def run_in_theme(page, lab: Lab, name: str, theme: str) -> None:
    """Open and run notebook ``name``, then switch the app to JupyterLab's ``theme`` ("light" or "dark")
    through its menu and wait until the page says so."""
    open_and_run(page, lab, name)
    menu(page, "Settings", "Theme", "JupyterLab Dark" if theme == "dark" else "JupyterLab Light")
    page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{str(theme == 'light').lower()}'", timeout=20_000
    )
