"""Generate the learner notebooks (notebooks/NN_*.ipynb) from the solution notebooks (notebooks/solutions/).

The solution notebooks are the one source of truth: CI executes them. In a learner notebook every block
between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes ``raise NotImplementedError(...)`` at the same
indentation, outputs are cleared, and the title cell gets an "Open in Colab" badge pointing at the
learner notebook on the main branch. After every cell that held a solution block comes a collapsed
"Solution" markdown cell with that cell's solution source (markers removed), so the hint, the exercise and
its answer sit together and come from one source. ``--check`` exits 1 if a learner notebook is out of date.

    python notebooks/make_exercises.py          # write
    python notebooks/make_exercises.py --check  # verify (the test suite does this)
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
STUB = 'raise NotImplementedError("Your code here: write it, then run the check below.")'
COLAB = "https://colab.research.google.com/github/saewidgets/saewidgets/blob/main/notebooks/{name}"
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def strip_solutions(source: str) -> str:
    out, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == "# BEGIN SOLUTION":
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif marker == "# END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("a '# BEGIN SOLUTION' has no matching '# END SOLUTION'")
    return "\n".join(out)


def solution_source(source: str) -> str:
    """The solution cell as the learner should read it: the marker lines dropped, everything else kept."""
    kept = [
        line for line in source.splitlines() if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")
    ]
    return "\n".join(kept)


def solution_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A collapsed markdown cell holding ``cell``'s solution (a <details> block renders closed in Jupyter and Colab)."""
    code = solution_source(cell.source)
    fence = "```"
    while fence in code:  # a fence longer than any run of backticks in the code cannot close early
        fence += "`"
    text = f"<details><summary>Solution</summary>\n\n{fence}python\n{code}\n{fence}\n\n</details>"
    md = nbformat.v4.new_markdown_cell(text)
    md.id = f"{cell.get('id', 'cell')}-solution"[:64]  # deterministic, so --check compares equal texts
    return md


def exercise_notebook(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(solution)
    title = nb.cells[0]
    if title.cell_type != "markdown" or not title.source.startswith("# "):
        raise ValueError(f"{name}: the first cell must be the markdown title ('# NN · ...')")
    title.source = BADGE.format(url=COLAB.format(name=name)) + "\n\n" + title.source
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code":
            has_solution = any(line.strip() == "# BEGIN SOLUTION" for line in cell.source.splitlines())
            if has_solution:
                answer = solution_cell(cell)
            cell.source = strip_solutions(cell.source)
            cell.outputs, cell.execution_count = [], None
            if has_solution:
                cells.append(answer)
    nb.cells = cells
    return nb


def targets() -> list[tuple[Path, Path]]:
    return [(src, HERE / src.name) for src in sorted(SOLUTIONS.glob("*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    stale = []
    for src, dst in targets():
        text = nbformat.writes(exercise_notebook(nbformat.read(str(src), as_version=4), dst.name)) + "\n"
        if args.check:
            if not dst.is_file() or dst.read_text() != text:
                stale.append(dst.name)
        else:
            dst.write_text(text)
    if stale:
        print(f"out of date (run python notebooks/make_exercises.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
