"""Packaging end to end: the wheel, a fresh install of it, the Binder environment, the Colab install cell.

The slow tests build real virtual environments under pytest's tmp dirs (never the dev .venv):

* the wheel is built once per module with ``python -m build`` (sdist, then the wheel from the sdist, as a
  release does) from the working tree into a tmp dir, so the source tree gets no build/ or dist/;
* a fresh venv installs the CPU torch pinned in constraints.txt, then the wheel, and runs ``saewidgets demo``
  from a directory outside the repository, offline;
* a second fresh venv is built from ``binder/requirements.txt`` exactly as repo2docker does (from the root of
  a copy of the repository), ``binder/postBuild`` runs with that venv first on PATH, and notebook 00 (the
  learner copy a Binder user opens) runs in that venv's kernel, wrapped in ``binder/start`` as on Binder.

Timings (and the notebook kernel's peak RSS) are printed at the end of the module.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

import saewidgets

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT_VERSION = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
MAX_WHEEL_BYTES = 30 * 1024 * 1024
# Small demo arguments (as in tests/test_cli.py), ~10 s. The default `saewidgets demo` is ~3 min on 2 idle cores
# and was heading for ~10 min on a shared CI machine (measured: 67 s to harvest 285k tokens, then ~2,200 SAE
# steps at 3-4 steps/s), which would double this suite, and it tests no more packaging: the same modules,
# bundled files and entry point. test_cli.py covers the demo's logic at these sizes; `make demo` runs the default.
SMALL_DEMO = [
    "--n-docs",
    "60",
    "--n-tokens",
    "3000",
    "--sae-tokens",
    "8192",
    "--d-sae",
    "64",
    "--eval-docs",
    "10",
    "--ce-docs",
    "4",
]
# Any network attempt fails at once: HF hub offline, and every proxy is a closed local port.
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "",
    "NO_PROXY": "",
}
# pip keeps its own index configuration (the local/CI index must stay reachable), but an index it cannot
# reach (binder/requirements.txt's CPU torch index, offline) must cost one failed lookup per project, not
# five retries with back-off: ~150 projects x ~8 s otherwise.
PIP_FAST_FAIL = {
    "PIP_RETRIES": "0",
    "PIP_TIMEOUT": "5",
    "PIP_DEFAULT_TIMEOUT": "5",
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}
# Kernel peak RSS budget for notebook 00 at full size: Binder gives ~2 GB to the whole session (the Jupyter
# server takes ~150 MB of it).
MAX_KERNEL_RSS_MB = 1800

_TIMINGS: list[str] = []


def _note(line: str) -> None:
    _TIMINGS.append(line)
    print(line)


@pytest.fixture(scope="module", autouse=True)
def _report_timings(request):
    yield
    if not _TIMINGS:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # shown without -s, once, after the module's last test
        reporter.write_line("")
        for line in _TIMINGS:
            reporter.write_line(f"test_packaging: {line}")


def _run(cmd, *, step: str, cwd=None, env=None, timeout=900) -> subprocess.CompletedProcess:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    _note(f"{step:<42} {time.perf_counter() - t0:6.1f} s")
    if proc.returncode != 0:
        pytest.fail(
            f"{step} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout (tail) ---\n{proc.stdout[-6000:]}\n--- stderr (tail) ---\n{proc.stderr[-6000:]}"
        )
    return proc


def _clean_env(**extra) -> dict:
    """The current environment minus anything that would leak the dev venv or user Jupyter/IPython config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "VIRTUAL_ENV",
            "PYTHONPATH",
            "PYTHONHOME",
            "JUPYTER_PATH",
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_DATA_DIR",
            "IPYTHONDIR",
            "SAEW_SIZE",
        )
    }
    env.update(extra)
    return env


def _new_venv(path: Path) -> Path:
    t0 = time.perf_counter()
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(path)
    _note(f"{'venv create (' + path.name + ')':<42} {time.perf_counter() - t0:6.1f} s")
    return path / "bin" / "python"


def _repo_files() -> list[str]:
    """Files a clone would have (tracked + new, not ignored); without git, the tree minus obvious junk."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        return [p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]
    skip = {".venv", ".git", "__pycache__", "build", "dist", "out", "runs", ".pytest_cache", ".ruff_cache"}
    return [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*")
        if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
    ]


def _copy_repo(dest: Path) -> Path:
    for rel in _repo_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


# ---------------------------------------------------------------------------------------------- the wheel


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """``python -m build`` (sdist, then the wheel from the sdist) of the working tree, into a tmp dir."""
    pytest.importorskip("build", reason="pip install -c constraints.txt -e '.[dev]' (the build frontend)")
    out = tmp_path_factory.mktemp("dist")
    # Isolated build: pip fetches hatchling from the configured index into a throwaway env.
    _run(
        [sys.executable, "-m", "build", "--outdir", out, ROOT],
        step="python -m build (sdist + wheel)",
        env=_clean_env(**PIP_FAST_FAIL),
    )
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def test_wheel_has_the_package_its_assets_and_nothing_else(dists):
    wheel = dists["wheel"]
    size = wheel.stat().st_size
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        model_in_wheel = hashlib.sha256(zf.read("saewidgets/zoo/storyteller/model.safetensors")).hexdigest()
        sae_in_wheel = hashlib.sha256(
            zf.read("saewidgets/zoo/storyteller_sae/sae_weights.safetensors")
        ).hexdigest()
        unpacked = sum(i.file_size for i in zf.infolist())
    _note(f"wheel {wheel.name}: {size / 1e6:.2f} MB ({unpacked / 1e6:.1f} MB unpacked), {len(names)} files")
    assert size <= MAX_WHEEL_BYTES, f"wheel is {size / 1e6:.1f} MB (limit 30 MB)"

    # Every file of the package in the source tree ships, the widgets' JS/CSS and the bundled model included.
    expected = {
        rel
        for rel in _repo_files()
        if rel.startswith("saewidgets/") and "__pycache__" not in rel and not rel.endswith(".pyc")
    }
    assert expected - names == set(), f"missing from the wheel: {sorted(expected - names)}"
    for must in (
        "saewidgets/static/base.css",
        "saewidgets/static/common.js",
        "saewidgets/static/offline.js",
        "saewidgets/zoo/storyteller/config.json",
        "saewidgets/zoo/storyteller/model.safetensors",
        "saewidgets/zoo/storyteller/tokenizer.json",
        "saewidgets/zoo/storyteller/tokenizer_config.json",
        "saewidgets/zoo/storyteller/generation_config.json",
        "saewidgets/zoo/storyteller_sae/cfg.json",
        "saewidgets/zoo/storyteller_sae/sae_weights.safetensors",
    ):
        assert must in names, must
    assert {n for n in names if n.startswith("saewidgets/static/") and n.endswith(".js")}
    assert {n for n in names if n.startswith("saewidgets/static/") and n.endswith(".css")}
    # The bundled weights are the repository's, byte for byte (not a Git LFS pointer or a stale copy).
    assert (
        model_in_wheel
        == hashlib.sha256((ROOT / "saewidgets/zoo/storyteller/model.safetensors").read_bytes()).hexdigest()
    )
    assert (
        sae_in_wheel
        == hashlib.sha256(
            (ROOT / "saewidgets/zoo/storyteller_sae/sae_weights.safetensors").read_bytes()
        ).hexdigest()
    )

    # Nothing else: no tests, notebooks, docs, caches or stray top-level files.
    info = f"saewidgets-{PYPROJECT_VERSION}.dist-info/"
    stray = sorted(n for n in names if not (n.startswith("saewidgets/") or n.startswith(info)))
    assert stray == [], f"unexpected files in the wheel: {stray}"
    junk = sorted(
        n
        for n in names
        if "__pycache__" in n
        or n.endswith((".pyc", ".ipynb"))
        or "/." in n
        or "/tests/" in n
        or "/notebooks/" in n
    )
    assert junk == [], junk


def test_wheel_metadata_matches_the_package_version(dists):
    assert saewidgets.__version__ == PYPROJECT_VERSION
    wheel = dists["wheel"]
    assert wheel.name == f"saewidgets-{PYPROJECT_VERSION}-py3-none-any.whl"
    assert dists["sdist"].name == f"saewidgets-{PYPROJECT_VERSION}.tar.gz"
    info = f"saewidgets-{PYPROJECT_VERSION}.dist-info"
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(f"{info}/METADATA").decode()
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        names = zf.namelist()
    assert re.search(r"^Name: saewidgets$", meta, re.M)
    assert re.search(rf"^Version: {re.escape(PYPROJECT_VERSION)}$", meta, re.M)
    assert re.search(r"^Requires-Python: >=3\.10$", meta, re.M)
    requires = re.findall(r"^Requires-Dist: (.+)$", meta, re.M)
    assert any(r.startswith("torch") for r in requires) and any(
        r.startswith("transformer-lens") for r in requires
    )
    assert re.search(r"^Provides-Extra: notebooks$", meta, re.M)
    assert "saewidgets = saewidgets.cli:main" in entry_points
    assert f"{info}/licenses/LICENSE" in names


# -------------------------------------------------------------------------------- a fresh install of it


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_the_demo_runs_offline(dists, tmp_path_factory):
    env_dir = tmp_path_factory.mktemp("wheel") / "wheel-venv"
    python = _new_venv(env_dir)
    pip_env = _clean_env(**PIP_FAST_FAIL)
    # torch first, pinned (ENVIRONMENT.md: anything needing torch before it is present resolves a CUDA build).
    _run(
        [python, "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", "torch"],
        step="pip install torch (CPU, constraints.txt)",
        env=pip_env,
    )
    _run(
        [python, "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", dists["wheel"]],
        step="pip install the wheel (+ dependencies)",
        env=pip_env,
    )

    # Run from outside the repository so that nothing can import the source tree instead of the install.
    work = tmp_path_factory.mktemp("demo-cwd")
    out = work / "out"
    proc = _run(
        [env_dir / "bin" / "saewidgets", "demo", *SMALL_DEMO, "--out", out],
        step="saewidgets demo (small, offline)",
        cwd=work,
        env=_clean_env(**OFFLINE, PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"),
    )
    # the known greedy story (tests/test_generation.py): generation works in the installed set, not just runs
    assert (
        "generate  Once upon a time, there was a girl called Mia, whose best friend was Tom." in proc.stdout
    )
    _assert_installed_set_is_the_lock(python)
    frontier = json.loads((out / "frontier.json").read_text())
    names = [p["name"] for p in frontier["points"]]
    assert names and all((out / "saes" / n / "cfg.json").is_file() for n in names)
    assert all((out / "saes" / n / "sae_weights.safetensors").is_file() for n in names)
    assert json.loads((out / "summary.json").read_text())["n_tokens"] == 3000
    # the offline report, built from the installed package's own static files (tests/browser/test_report.py
    # opens one in Chromium)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "data-saew-widget" in report and "Content-Security-Policy" in report
    assert (out / "metrics.json").is_file() and (out / "frontier_fvu.png").read_bytes()[:4] == b"\x89PNG"

    # The import came from the venv's site-packages, not from the repository.
    where = _run(
        [
            python,
            "-c",
            "import saewidgets, torch; print(saewidgets.__file__, saewidgets.__version__, "
            "torch.version.cuda)",
        ],
        step="import check",
        cwd=work,
        env=_clean_env(**OFFLINE),
    ).stdout.split()
    assert Path(where[0]).is_relative_to(env_dir) and where[1] == PYPROJECT_VERSION
    assert where[2] == "None", "a CUDA build of torch got installed"


# ----------------------------------------------------------------------------------------------- the lock


def _lock() -> dict[str, str]:
    """constraints.txt as {normalised name: version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[\w.]+", version), f"constraints.txt: not an exact pin: {line!r}"
            pins[re.sub(r"[-_.]+", "-", name.lower())] = version
    return pins


def _installed(python) -> dict[str, str]:
    freeze = _run([python, "-m", "pip", "list", "--format=freeze"], step="pip list", env=_clean_env()).stdout
    return {
        re.sub(r"[-_.]+", "-", n.lower()): v.split("+")[0]
        for n, _, v in (line.partition("==") for line in freeze.splitlines() if "==" in line)
    }


def _assert_installed_set_is_the_lock(python) -> None:
    lock, installed = _lock(), _installed(python)
    drift = {n: (v, lock[n]) for n, v in installed.items() if n in lock and v != lock[n]}
    assert drift == {}, f"installed (version, locked version) differ from constraints.txt: {drift}"
    unlocked = sorted(set(installed) - set(lock) - {"pip", "setuptools", "wheel", "saewidgets"})
    assert unlocked == [], f"installed but not in the lock (run `make lock`): {unlocked}"


def test_the_lock_pins_every_dependency_and_excludes_the_broken_transformers():
    import tomllib

    lock = _lock()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [
        d for extra in ("dev", "notebooks", "docs") for d in project["optional-dependencies"][extra]
    ]
    names = {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", d).group().lower()) for d in wanted}
    assert names - set(lock) == set(), (
        f"pyproject dependencies missing from constraints.txt: {names - set(lock)}"
    )
    assert len(lock) > 100  # the whole tree, not just the top level
    assert not lock["transformers"].startswith("5.24."), "transformers 5.24 breaks the bridge's KV cache"
    assert "!=5.24.*" in next(d for d in project["dependencies"] if d.startswith("transformers"))
    assert lock["torch"] == re.search(r"TORCH_VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text()).group(1)


def test_this_environment_is_the_lock():
    """`make test` runs the suite in the locked set: what a user installs is what was tested."""
    _assert_installed_set_is_the_lock(sys.executable)


# ----------------------------------------------------------------------------------------------- Binder

_NOTEBOOK_DRIVER = r'''
"""Run a notebook in this interpreter's "python3" kernel; print one JSON line about the kernel."""
import json, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

src, dest = Path(sys.argv[1]), Path(sys.argv[2])
nb = nbformat.read(src, as_version=4)
n_cells = len(nb.cells)
# One extra cell, run last in the same kernel: which interpreter ran it, and its peak resident memory.
nb.cells.append(nbformat.v4.new_code_cell(
    "import json as _j, os as _o, resource as _r, sys as _s\n"
    "print('KERNEL' + _j.dumps({'prefix': _s.prefix, 'executable': _s.executable,\n"
    "    'maxrss_kb': _r.getrusage(_r.RUSAGE_SELF).ru_maxrss,\n"
    "    'children_maxrss_kb': _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss,\n"
    "    'omp_num_threads': _o.environ.get('OMP_NUM_THREADS')}))"))
client = NotebookClient(nb, kernel_name="python3", timeout=1200, allow_errors=True,
                        resources={"metadata": {"path": str(src.parent)}})
t0 = time.time()
client.execute()
seconds = time.time() - t0
errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
          for o in c.get("outputs", []) if o.get("output_type") == "error"]
probe = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("name") == "stdout")
kernel = json.loads(probe.split("KERNEL", 1)[1]) if "KERNEL" in probe else None
nb.cells = nb.cells[:n_cells]
nbformat.write(nb, dest)
print(json.dumps({"seconds": seconds, "errors": errors, "kernel": kernel, "kernel_name": client.kernel_name}))
'''


@pytest.mark.slow
def test_binder_environment_builds_and_runs_notebook_00(tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    repo = _copy_repo(base / "repo")  # repo2docker works in a clone of the repository
    env_dir = base / "binder-venv"
    python = _new_venv(env_dir)
    bin_dir = env_dir / "bin"
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"

    # repo2docker: `pip install -r binder/requirements.txt` from the repository root; the file brings the lock.
    _run(
        [python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=repo,
        step="pip install -r binder/requirements.txt",
        env=_clean_env(**PIP_FAST_FAIL, PATH=path),
    )
    versions = _run(
        [
            python,
            "-c",
            "import torch, saewidgets; print(torch.__version__, torch.version.cuda, saewidgets.__file__)",
        ],
        step="import check",
        cwd=base,
        env=_clean_env(**OFFLINE),
    ).stdout.split()
    assert versions[0].endswith("+cpu") and versions[1] == "None", f"not the CPU build of torch: {versions}"
    assert Path(versions[2]).is_relative_to(env_dir), (
        "the package must be installed, not imported from the repo"
    )
    freeze = _run([python, "-m", "pip", "list", "--format=freeze"], step="pip list", env=_clean_env()).stdout
    cuda = [line for line in freeze.splitlines() if line.lower().startswith(("nvidia-", "triton"))]
    assert cuda == [], f"CUDA wheels in the Binder environment: {cuda}"
    _assert_installed_set_is_the_lock(python)
    _note(
        f"Binder venv size: {sum(f.stat().st_size for f in env_dir.rglob('*') if f.is_file()) / 1e9:.2f} GB"
    )

    # postBuild: from the repository root, the environment first on PATH, executable, `set -e` honoured.
    post_build = repo / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), (
        "binder/postBuild must be executable (repo2docker runs it directly)"
    )
    assert (
        post_build.read_text().startswith("#!/bin/bash\n") and "set -euo pipefail" in post_build.read_text()
    )
    proc = _run([post_build], step="binder/postBuild", cwd=repo, env=_clean_env(PATH=path))
    assert "model + reader SAE OK offline" in proc.stdout
    overrides = json.loads((env_dir / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false",
        "checkForUpdates": False,
    }

    # Notebook 00, the learner copy, at full size (what a Binder user runs), in the venv's own python3 kernel.
    # binder/start wraps it as it wraps the Jupyter server on Binder. Jupyter's user dirs point at an empty
    # tmp dir so that no user-level kernelspec can redirect "python3" to another interpreter.
    jupyter_home = base / "jupyter-user"
    driver = base / "run_notebook.py"
    driver.write_text(_NOTEBOOK_DRIVER)
    executed = base / "00_quickstart.executed.ipynb"
    kernel_env = _clean_env(
        **OFFLINE,
        PATH=path,
        JUPYTER_DATA_DIR=str(jupyter_home / "data"),
        JUPYTER_CONFIG_DIR=str(jupyter_home / "config"),
        IPYTHONDIR=str(jupyter_home / "ipython"),
    )
    proc = _run(
        [repo / "binder" / "start", python, driver, repo / "notebooks" / "00_quickstart.ipynb", executed],
        step="notebook 00 (full size) in the Binder venv",
        cwd=repo / "notebooks",
        env=kernel_env,
        timeout=1500,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == [], f"cells raised: {result['errors']}"
    kernel = result["kernel"]
    assert kernel is not None, "the kernel probe cell printed nothing"
    assert Path(kernel["prefix"]).resolve() == env_dir.resolve(), f"the kernel ran in {kernel['prefix']}"
    peak_mb = kernel["maxrss_kb"] / 1024
    _note(
        f"notebook 00 kernel peak RSS: {peak_mb:,.0f} MB (children {kernel['children_maxrss_kb'] / 1024:,.0f} MB),"
        f" cells ran in {result['seconds']:.1f} s, OMP_NUM_THREADS={kernel['omp_num_threads']}"
    )
    assert peak_mb < MAX_KERNEL_RSS_MB, f"notebook 00's kernel peaked at {peak_mb:.0f} MB (Binder has ~2 GB)"


def test_binder_config_files():
    """Cheap checks on binder/ that need no environment: the CPU torch index stays, the files are scripts."""
    req = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    lines = [line.strip() for line in req if line.strip() and not line.lstrip().startswith("#")]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines, (
        "keep the CPU torch index (no CUDA)"
    )
    assert "-c ../constraints.txt" in lines, "Binder installs the lock"
    assert any(re.fullmatch(r"torch==[\d.]+\+cpu", line) for line in lines)
    pinned = re.search(r"^torch==(\S+)", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert f"torch=={pinned}+cpu" in lines, "binder/requirements.txt and constraints.txt pin different torch"
    assert ".[notebooks]" in lines
    assert re.fullmatch(r"python-3\.\d+\n?", (ROOT / "binder" / "runtime.txt").read_text())
    for script in ("postBuild", "start"):
        path = ROOT / "binder" / script
        assert os.access(path, os.X_OK) and path.read_text().startswith("#!/bin/bash\n"), script
    assert subprocess.run(["bash", "-n", ROOT / "binder" / "postBuild"]).returncode == 0


@pytest.mark.parametrize(
    ("cpu_max", "preset", "expected"),
    [
        ("150000 100000\n", None, "2"),  # a 1.5-core quota -> 2 threads
        ("100000 100000\n", None, "1"),
        ("max 100000\n", None, ""),  # no quota: leave PyTorch's default
        ("150000 100000\n", "3", "3"),  # never override the user's choice
        (None, None, ""),  # no cgroup file at all
    ],
)
def test_binder_start_sets_threads_from_the_cpu_quota_and_execs(tmp_path, cpu_max, preset, expected):
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"} | {
        "SAEW_CGROUP_ROOT": str(tmp_path)
    }
    if preset:
        env["OMP_NUM_THREADS"] = preset
    proc = subprocess.run(
        [ROOT / "binder" / "start", "bash", "-c", 'echo "${OMP_NUM_THREADS:-}|$1|$2"', "_", "a b", "c"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{expected}|a b|c\n"  # exec "$@": arguments pass through intact


# ------------------------------------------------------------------------------------------------ Colab


@pytest.mark.parametrize(
    "path",
    sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("notebooks/solutions/*.ipynb")),
    ids=lambda p: str(p.relative_to(ROOT / "notebooks")),
)
def test_colab_install_cell_is_the_guarded_repository_install(path):
    """The cell after the title installs saewidgets from its repository on Colab (it is not on PyPI: a pin
    to a release there failed at cell 1) and does nothing anywhere else; tests/test_notebooks.py runs it."""
    cells = json.loads(path.read_text())["cells"]
    code = "".join(cells[1]["source"])
    assert cells[1]["cell_type"] == "code" and 'if "google.colab" in sys.modules:' in code, path.name
    assert "saewidgets==" not in code and "git+https://github.com/" in code, path.name
    # Only the guarded lines install anything.
    install_lines = [
        line for line in code.splitlines() if "pip" in line and not line.lstrip().startswith("#")
    ]
    assert install_lines and all(line.startswith("    ") for line in install_lines), f"{path.name}: unguarded"
