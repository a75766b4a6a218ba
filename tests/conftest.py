"""Shared fixtures. Tests never touch the network: HF_HUB_OFFLINE is set before anything imports.

Markers (registered in pyproject.toml) are applied here by where a test lives, so a new test gets them without
remembering to: `browser` for everything under tests/browser, `notebooks` for the solution notebooks (nbval) and
the tests that execute notebooks. `make check` runs the rest: `pytest tests -m "not browser and not notebooks
and not slow"`.
"""

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))

TESTS = Path(__file__).resolve().parent
BROWSER = TESTS / "browser"
# Tests that execute a notebook's cells (outside nbval), by node id relative to the repository; a file path marks
# the whole file. tests/test_markers.py checks that each entry still names a test.
NOTEBOOK_TESTS = (
    "tests/test_notebook_10_offline.py::test_offline_it_says_so_once_and_skips_everything",
    "tests/test_notebook_10_offline.py::test_the_online_path_runs_against_stand_ins",
    "tests/test_packaging.py::test_binder_environment_builds_and_runs_notebook_00",
    "tests/browser/test_docs_site.py",  # the docs build executes every notebook (small)
)


def marks_for(path: Path, nodeid: str) -> set[str]:
    """The markers a test gets from where it lives (`nodeid` without its [parameters])."""
    marks = set()
    if BROWSER in path.parents:
        marks.add("browser")
    if path.suffix == ".ipynb" or any(nodeid == t or nodeid.startswith(t + "::") for t in NOTEBOOK_TESTS):
        marks.add("notebooks")
    return marks


def pytest_collection_modifyitems(config, items):
    # Runs before pytest's own hook deselects by -m (conftest hooks are called first), so `-m` sees these.
    for item in items:
        for name in sorted(marks_for(item.path, item.nodeid.split("[")[0])):
            item.add_marker(name)


@pytest.fixture(scope="session")
def model():
    from saewidgets import load_model

    return load_model("storyteller", device="cpu")


@pytest.fixture(scope="session")
def corpus():
    from saewidgets import load_corpus

    return load_corpus("storyteller", n_docs=64, seed=0)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Offline first: any connection beyond loopback during a test is a failure."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def sea_sae(model):
    """A toy SAE (d_sae 8) whose latent 0 writes the unembedding direction of ' sea': steering with it
    at the last layer visibly makes a story about the sea (or, too strong, 'sea sea sea')."""
    import saewidgets as sw

    W_U = model.original_model.lm_head.weight.detach()  # [vocab, d_model]
    sea = model.tokenizer(" sea", add_special_tokens=False)["input_ids"][0]
    torch.manual_seed(0)
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
    with torch.no_grad():
        sae.W_dec[0] = W_U[sea] / W_U[sea].norm()
    return sae


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """``tiny_checkpoint(family) -> Path``: a tiny random-weight checkpoint folder (tests/tiny_models.py), built
    once per session per family."""
    from tiny_models import TinyCheckpoints

    return TinyCheckpoints(tmp_path_factory.mktemp("tiny_models"))
