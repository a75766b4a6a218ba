"""Build the documentation site, strictly: any Sphinx warning (a broken link, a bad reference) fails the build.

    python docs/build.py                    # full-size notebooks (~5 min on 2 cores), site in build/docs/
    python docs/build.py --size small       # what CI runs (tests/test_docs.py)
    python docs/build.py --only 00 05       # quick iteration on a few notebooks (strict fails on links to others)

Steps: copy docs/ into a staging folder, execute each solution notebook there (widget state kept) and write it
as a page with its figures and offline widget pages, then run Sphinx with warnings as errors. The built site
opens from disk with no network: MathJax is vendored and widgets render from their saved state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
LEARNER = ROOT / "notebooks"
COLAB = "https://colab.research.google.com/github/saewidgets/saewidgets/blob/main/notebooks/{name}"
sys.path.insert(0, str(DOCS / "_tools"))

from notebook_page import PageAssets, notebook_to_myst  # noqa: E402


def execute(path: Path, size: str, workdir: Path, timeout: int = 900):
    """Run a notebook in a fresh kernel, in an empty working folder, keeping the final widget state."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    os.environ["SAEW_SIZE"] = size  # the kernel inherits this process's environment
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from jupyter_client.manager import AsyncKernelManager

    workdir.mkdir(parents=True, exist_ok=True)
    # IPC sockets in the work folder, not TCP ports: kernels started at the same moment by other processes
    # (a parallel test run) can race for the same free port and leave a kernel that never answers.
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(workdir / "kernel"))
    client = nbclient.NotebookClient(nb, km=km, timeout=timeout, startup_timeout=120, store_widget_state=True,
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def notebook_pages(stage: Path, size: str, only: list[str] | None) -> list[str]:
    """Execute and convert the solution notebooks; return the page names for the toctree."""
    pages = []
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        if only and path.name[:2] not in only:
            continue
        t0 = time.time()
        nb = execute(path, size, stage.parent / "work" / path.stem)
        title = _title(nb, path.stem)
        shutil.copy(LEARNER / path.name, stage / "notebooks" / path.name)
        header = (f"```{{admonition}} Run it yourself\n"
                  f"This page is the notebook with its solutions, executed at `SAEW_SIZE={size}`. "
                  f"Open the exercise version [in Colab]({COLAB.format(name=path.name)}), or download "
                  f"{{download}}`{path.name} <{path.name}>` and open it in Jupyter.\n```")
        assets = PageAssets(path.stem, stage / "notebooks", stage / "_static" / "nbwidgets", "../_static/nbwidgets")
        text = notebook_to_myst(nb, assets, title, header)
        (stage / "notebooks" / f"{path.stem}.md").write_text(text, encoding="utf-8")
        pages.append(path.stem)
        print(f"notebook  {path.name}: {time.time() - t0:5.1f} s, {assets.figures} figures, "
              f"{len(assets.widgets)} widgets", flush=True)
    return pages


def stage_sources(stage: Path) -> None:
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(DOCS, stage, ignore=shutil.ignore_patterns("_tools", "build.py", "conf.py", "__pycache__"))
    (stage / "notebooks").mkdir()


def write_notebook_index(stage: Path, pages: list[str]) -> None:
    toc = "\n".join(pages)
    (stage / "notebooks" / "index.md").write_text(
        "# Notebooks\n\n"
        "The teaching series, executed, with the answers filled in. Each page links its exercise version.\n\n"
        f"```{{toctree}}\n:maxdepth: 1\n\n{toc}\n```\n", encoding="utf-8")


def build(out: Path, size: str = "full", only: list[str] | None = None, strict: bool = True) -> Path:
    from sphinx.cmd.build import build_main

    stage = out.parent / (out.name + "-src")
    stage_sources(stage)
    pages = notebook_pages(stage, size, only)
    write_notebook_index(stage, pages)
    args = ["-b", "html", "-c", str(DOCS), "-q", str(stage), str(out)]
    if strict:
        args = ["-W", "--keep-going", "-n", "-E", *args]
    t0 = time.time()
    code = build_main(args)
    if code:
        raise SystemExit(f"sphinx-build failed (exit {code}); the warnings above say where")
    # Widget pages are whole HTML documents for iframes, not Sphinx sources: copied beside _static's files.
    widgets = stage / "_static" / "nbwidgets"
    if widgets.exists():
        shutil.copytree(widgets, out / "_static" / "nbwidgets", dirs_exist_ok=True)
    print(f"sphinx    {time.time() - t0:.1f} s -> {out / 'index.html'}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "build" / "docs")
    p.add_argument("--size", choices=("small", "full"), default="full")
    p.add_argument("--only", nargs="+", help="notebook numbers to include, e.g. 00 05 (default: all)")
    p.add_argument("--skip-notebooks", action="store_true",
                   help="no notebook pages (a strict build then fails on the links to them)")
    p.add_argument("--no-strict", action="store_true", help="let warnings through (never in CI)")
    args = p.parse_args(argv)
    only = ["none"] if args.skip_notebooks else args.only
    build(args.out.resolve(), args.size, only, strict=not args.no_strict)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
