"""The series' teaching scaffolding (issue 18 item 4): a collapsible solution beside every exercise, and the
conventions every notebook follows — a difficulty / importance / time label under each exercise heading, a hint
per exercise, the glossary link in the title cell, and a quiz with hidden answers followed by key takeaways."""

import re
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
import make_exercises  # noqa: E402

SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))
LABEL = re.compile(r"^> \*\*Difficulty\*\* [★☆]{3} · \*\*Importance\*\* [★☆]{3} · \*\*~\d+ min\*\*$")
STARS = re.compile(r"\*\*(?:Difficulty|Importance)\*\* (★{1,3}☆{0,2})")
GLOSSARY = "**Glossary:** [SAE terms](https://github.com/saewidgets/saewidgets/blob/main/docs/glossary.md)"
HINT = "<details><summary>Hint</summary>"
ANSWER = "<details><summary>Answer</summary>"


def _solution_block(source):
    return "# BEGIN SOLUTION" in source


def test_one_collapsed_solution_per_exercise_cell_identical_to_the_solution_code():
    src = "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n\n\ncheck(f)"
    solution = nbformat.v4.new_notebook()
    solution.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Title"),
        nbformat.v4.new_code_cell(src),
        nbformat.v4.new_code_cell("print(1)"),
    ]
    learner = make_exercises.exercise_notebook(solution, "99_title.ipynb")
    kinds = [c.cell_type for c in learner.cells]
    assert kinds == ["markdown", "code", "markdown", "code"], (
        "the solution goes right after its exercise cell"
    )
    answer = learner.cells[2].source
    assert answer.startswith("<details><summary>Solution</summary>") and answer.endswith("</details>")
    code = re.search(r"```python\n(.*)\n```", answer, re.S).group(1)
    assert code == "def f(x):\n    return x + 1\n\n\ncheck(f)"
    assert make_exercises.STUB in learner.cells[1].source
    assert learner.cells[2].id == learner.cells[1].id + "-solution"  # stable ids: --check compares texts


def test_a_solution_holding_backticks_gets_a_longer_fence():
    cell = nbformat.v4.new_code_cell('# BEGIN SOLUTION\ns = "```"\n# END SOLUTION')
    md = make_exercises.solution_cell(cell).source
    assert "````python\n" in md and md.count("````") == 2


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_learner_solution_matches_its_solution_notebook(path):
    solution = nbformat.read(str(path), as_version=4)
    learner = nbformat.read(str(NOTEBOOKS / path.name), as_version=4)
    expected = [make_exercises.solution_source(c.source) for c in solution.cells if _solution_block(c.source)]
    shown = [
        re.search(r"(`{3,})python\n(.*)\n\1\n", c.source, re.S).group(2)
        for c in learner.cells
        if c.cell_type == "markdown" and c.source.startswith("<details><summary>Solution</summary>")
    ]
    assert shown == expected, "run: python notebooks/make_exercises.py"
    for i, cell in enumerate(learner.cells):
        if cell.cell_type == "code" and make_exercises.STUB in cell.source:
            after = learner.cells[i + 1]
            assert after.source.startswith("<details><summary>Solution</summary>"), (
                f"cell {i}: no solution after it"
            )


def _markdown(path):
    return [c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_notebook_follows_the_scaffolding_convention(path):
    """The convention of the series (one per notebook; see the rules under 'Scaffolding convention')."""
    nb = nbformat.read(str(path), as_version=4)
    cells = nb.cells
    problems = []
    if GLOSSARY not in cells[0].source:
        problems.append(f"the title cell lacks the glossary link line: {GLOSSARY}")

    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not cell.source.startswith("## Exercise"):
            continue
        lines = cell.source.splitlines()
        heading = lines[0]
        if not re.match(r"^## Exercise \d+(?: \(optional\))? — \S", heading):
            problems.append(f"cell {i} '{heading}': the heading must read '## Exercise N — title'")
        if len(lines) < 2 or not LABEL.match(lines[1]):
            problems.append(
                f"cell {i} '{heading}': the next line must be the label line, e.g. "
                "'> **Difficulty** ★★☆ · **Importance** ★★★ · **~15 min**'"
            )
        elif any(not m for m in STARS.findall(lines[1])) or len(STARS.findall(lines[1])) != 2:
            problems.append(
                f"cell {i} '{heading}': stars must be 1–3 filled (★) then empty (☆), three in all"
            )
        if HINT not in cell.source:
            problems.append(f"cell {i} '{heading}': no collapsible hint ({HINT} ... </details>)")
        if "</details>" not in cell.source.split(HINT, 1)[-1]:
            problems.append(f"cell {i} '{heading}': the hint's <details> is not closed")

    # Every code cell holding a solution block belongs to an exercise: the nearest markdown heading above it
    # starting '## Exercise' (the exercise may span a few markdown cells of explanation).
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and _solution_block(cell.source):
            above = [c.source for c in cells[:i] if c.cell_type == "markdown" and c.source.startswith("## ")]
            if not above or not above[-1].startswith("## Exercise"):
                problems.append(
                    f"code cell {i} holds a solution but its section is not an '## Exercise' heading"
                )

    md = [c for c in cells if c.cell_type == "markdown"]
    if (
        len(md) < 2
        or not md[-2].source.startswith("## Quiz")
        or not md[-1].source.startswith("## Key takeaways")
    ):
        problems.append("the last two markdown cells must be '## Quiz' then '## Key takeaways'")
    else:
        if cells[-1] is not md[-1]:
            problems.append("'## Key takeaways' must be the notebook's last cell")
        quiz = md[-2].source
        questions = re.findall(r"^\d+\. ", quiz, re.M)
        answers = quiz.count(ANSWER)
        if not 3 <= len(questions) <= 5:
            problems.append(f"the quiz has {len(questions)} numbered questions (want 3–5)")
        if answers != len(questions) or quiz.count("</details>") != answers:
            problems.append(
                f"each quiz question needs a hidden answer ({ANSWER} ... </details>): "
                f"{len(questions)} questions, {answers} answers"
            )
        bullets = re.findall(r"^[-*] ", md[-1].source, re.M)
        if not 3 <= len(bullets) <= 6:
            problems.append(f"key takeaways have {len(bullets)} bullets (want 3–6)")

    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and "> **Predict, then run.**" in cell.source:
            nxt = next((c for c in cells[i + 1 :] if c.cell_type == "code"), None)
            if nxt is None or "assert" not in nxt.source:
                problems.append(
                    f"cell {i}: a 'Predict, then run' prompt needs a code cell after it that asserts"
                )
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)
