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
    """Title + goals/prerequisites/difficulty/time, the Colab install cell pinned to this version, and a
    size switch so CI runs it small."""
    import saewidgets

    nb = nbformat.read(str(path), as_version=4)
    head = nb.cells[0].source
    assert head.startswith(f"# {path.stem[:2]} · "), "first cell: '# NN · Title'"
    for field in ("**Goals.**", "**Prerequisites.**", "**Difficulty:**", "**Time:**"):
        assert field in head, f"{path.name}: the title cell lacks {field}"
    install = nb.cells[1].source
    assert '"google.colab" in sys.modules' in install
    assert f"saewidgets=={saewidgets.__version__}" in install, "pin the install cell to the package version"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "size(" in code, f"{path.name}: use saewidgets.notebook.size(small=..., full=...) for CI's size"
    learner = nbformat.read(str(NOTEBOOKS / path.name), as_version=4)
    assert (
        "colab.research.google.com/github/" in learner.cells[0].source
        and path.name in learner.cells[0].source
    )
