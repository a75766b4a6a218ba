"""The notebooks' machinery: exercise notebooks generated from the solutions, and the exercise checks.

The solution notebooks themselves are executed by nbval (pytest --nbval-lax notebooks/solutions, small size).
"""

import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from saewidgets import checks

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
import make_exercises  # noqa: E402

SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))


def test_learner_notebooks_are_generated_from_the_solutions():
    assert make_exercises.main(["--check"]) == 0, "run: python notebooks/make_exercises.py"
    solutions = sorted(p.name for p in (NOTEBOOKS / "solutions").glob("*.ipynb"))
    assert solutions and solutions == sorted(p.name for p in NOTEBOOKS.glob("[0-9]*.ipynb"))
    for name in solutions:
        learner = (NOTEBOOKS / name).read_text()
        assert "BEGIN SOLUTION" not in learner and '"outputs": []' in learner
        n_exercises = (NOTEBOOKS / "solutions" / name).read_text().count("# BEGIN SOLUTION")
        assert learner.count("NotImplementedError") == n_exercises


def test_strip_solutions_keeps_indentation_and_refuses_unclosed_blocks():
    src = "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n\ncheck(f)"
    assert make_exercises.strip_solutions(src) == f"def f(x):\n    {make_exercises.STUB}\n\ncheck(f)"
    with pytest.raises(ValueError, match="no matching"):
        make_exercises.strip_solutions("# BEGIN SOLUTION\nx = 1")


def test_learner_notebook_stub_fails_its_check():
    nb = nbformat.read(str(NOTEBOOKS / "01_superposition.ipynb"), as_version=4)
    cell = next(c.source for c in nb.cells if "def relu_encode" in c.source)
    namespace = {"torch": torch, "checks": checks}
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, namespace)  # the learner's cell as shipped: the check runs the stub


def test_checks_pass_on_the_reference(capsys):
    checks.check_relu_encode(checks.relu_encode_reference)
    checks.check_l1_penalty(checks.l1_penalty_reference)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, W, b, bd: x @ W + b, "Subtract b_dec"),
        (lambda x, W, b, bd: (x - bd) @ W + b, "Apply the ReLU"),
        (lambda x, W, b, bd: torch.relu((x - bd) @ W), "Add the encoder bias"),
        (lambda x, W, b, bd: torch.relu((x - bd) @ W + b)[:, :3], "shape"),
        (lambda x, W, b, bd: torch.relu((x - bd) @ W + b) * 2, "order of operations"),
    ],
)
def test_encoder_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_relu_encode(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, W, c: c * a.sum(-1).mean(), "decoder row"),
        (lambda a, W, c: c * (a * W.norm(dim=1)).sum(), "Average over the batch"),
        (lambda a, W, c: (a * W.norm(dim=1)).sum(-1).mean(), "coefficient"),
        (lambda a, W, c: c * (a * W.pow(2).sum(1)).sum(-1).mean(), "not its square"),
        (lambda a, W, c: c * (a * W.norm(dim=1)).sum(-1), "one number"),
        (lambda a, W, c: torch.tensor(0.0), "Expected"),
        (lambda a, W, c: (c * a.sum(-1).mean()).item(), "decoder row"),  # a wrong float is still wrong
        (lambda a, W, c: 1.0, "Expected"),
        (lambda a, W, c: "5.7", "one number"),
    ],
)
def test_l1_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_l1_penalty(wrong)


@pytest.mark.parametrize(
    "form",
    [
        lambda t: (
            t.item()
        ),  # a Python float (issue 18: was rejected with "Expected 5.71359, got 5.7135896...")
        lambda t: np.float32(t.item()),
        lambda t: np.array(t.item()),
        lambda t: t.reshape(1),
        lambda t: t.double(),
    ],
    ids=["float", "np.float32", "0-d array", "shape [1]", "float64 tensor"],
)
def test_l1_check_accepts_the_right_value_as_any_one_number(form, capsys):
    checks.check_l1_penalty(lambda a, W, c: form(checks.l1_penalty_reference(a, W, c)))
    out = capsys.readouterr().out
    assert "✓" in out
    # the loop in notebook 01 backpropagates through the penalty: a plain number passes, with a warning
    assert ("no gradient" in out) == (not isinstance(form(torch.ones(())), torch.Tensor))


@pytest.mark.parametrize("path", sorted((NOTEBOOKS / "solutions").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_notebook_follows_the_series_conventions(path):
    """Title + goals/prerequisites/difficulty/time, the one Colab install cell, and a size switch so CI runs it
    small."""
    nb = nbformat.read(str(path), as_version=4)
    head = nb.cells[0].source
    assert head.startswith(f"# {path.stem[:2]} · "), "first cell: '# NN · Title'"
    for field in ("**Goals.**", "**Prerequisites.**", "**Difficulty:**", "**Time:**"):
        assert field in head, f"{path.name}: the title cell lacks {field}"
    first = nbformat.read(str(SOLUTIONS[0]), as_version=4).cells[1].source
    assert nb.cells[1].source == first, (
        f"{path.name}: cell 1 must be the series' Colab install cell (as in 00)"
    )
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "size(" in code, f"{path.name}: use saewidgets.notebook.size(small=..., full=...) for CI's size"
    learner = nbformat.read(str(NOTEBOOKS / path.name), as_version=4)
    assert (
        "colab.research.google.com/github/" in learner.cells[0].source
        and path.name in learner.cells[0].source
    )


def _run_install_cell(monkeypatch, returncode: int) -> list:
    """Cell 1 of the notebooks as Colab runs it: google.colab imported, pip answering ``returncode``."""
    import subprocess
    import types

    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(
        subprocess,
        "run",
        lambda args, **kw: calls.append(args) or types.SimpleNamespace(returncode=returncode),
    )
    source = nbformat.read(str(SOLUTIONS[0]), as_version=4).cells[1].source
    exec(compile(source, "install-cell", "exec"), {})
    return calls


def test_the_colab_install_cell_installs_from_the_repository_the_badge_opens(monkeypatch):
    """saewidgets is not on PyPI: the cell installs the branch the Colab badge opened the notebook from."""
    import re

    pyproject = (NOTEBOOKS.parent / "pyproject.toml").read_text()  # no tomllib on Python 3.10
    repository = re.search(r'^Repository = "(.+)"$', pyproject, re.M).group(
        1
    )  # https://github.com/<owner>/<name>
    (args,) = _run_install_cell(monkeypatch, 0)
    assert args[1:4] == ["-m", "pip", "install"] and args[0] == sys.executable
    assert args[-1] == f"saewidgets @ git+{repository}@main"
    owner_name = repository.removeprefix("https://github.com/")
    assert make_exercises.COLAB.startswith(
        f"https://colab.research.google.com/github/{owner_name}/blob/main/"
    )


def test_the_colab_install_cell_says_how_else_to_install_when_pip_fails(monkeypatch):
    with pytest.raises(RuntimeError, match=r"(?s)could not install.*releases.*\.whl"):
        _run_install_cell(monkeypatch, 1)


def test_outside_colab_the_install_cell_does_nothing(monkeypatch):
    import subprocess

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran outside Colab"))
    exec(compile(nbformat.read(str(SOLUTIONS[0]), as_version=4).cells[1].source, "install-cell", "exec"), {})


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_the_time_label_is_the_measured_full_size_run(path):
    """The title's run time quotes the last full-size run recorded by ``bench/notebook_budgets.py --record``
    (notebooks/run_times.json; within 2x of it), so a notebook cannot keep an old promise."""
    import json
    import re

    measured = json.loads((NOTEBOOKS / "run_times.json").read_text())["seconds"]
    assert path.name in measured, f"run python bench/notebook_budgets.py --record {path.name[:2]}"
    head = nbformat.read(str(path), as_version=4).cells[0].source
    label = re.search(r"\*\*Time:\*\*[^*]*?(\d+) s (?:measured|to run)", head)
    assert label, (
        f"{path.name}: the Time line should quote the measured seconds, e.g. '(21 s measured at full size'"
    )
    assert measured[path.name] / 2 <= int(label.group(1)) <= measured[path.name] * 2, (
        f"{path.name}: label {label.group(1)} s, measured {measured[path.name]} s"
    )
