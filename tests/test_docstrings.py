"""Every docstring parses as reStructuredText without a warning.

The API reference is built from them by Sphinx with warnings as errors, but only in the docs build, which runs
every notebook first (minutes, `tests/browser/test_docs_site.py`). Twice a docstring that only failed there
(``fn(x, *args)``, ``Function``s) cost a whole CI run; this finds the same docutils warnings in about a second.
"""

import ast
import inspect
import io
from pathlib import Path

import docutils.core
from docutils import nodes
from docutils.parsers.rst import roles

PACKAGE = Path(__file__).resolve().parents[1] / "saewidgets"
for _role in ("class", "func", "data", "mod", "meth", "attr", "obj", "exc", "ref", "doc"):
    roles.register_generic_role(_role, nodes.literal)  # Sphinx's cross-reference roles, as plain literals


def _docstrings(tree: ast.Module):
    """(line, text) of the module's, classes', functions' and attributes' docstrings (autodoc reads all)."""
    if (doc := ast.get_docstring(tree)) is not None:
        yield 1, doc
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if (doc := ast.get_docstring(node)) is not None:
                yield node.lineno, doc
        body = getattr(node, "body", None)
        if isinstance(body, list):  # an attribute docstring: a string right after an assignment
            for before, after in zip(body, body[1:]):
                if isinstance(before, (ast.Assign, ast.AnnAssign)) and isinstance(after, ast.Expr):
                    value = after.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        yield after.lineno, inspect.cleandoc(value.value)


def _warnings(text: str) -> str:
    stream = io.StringIO()
    docutils.core.publish_doctree(
        text, settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream}
    )
    return stream.getvalue()


def test_every_docstring_is_valid_restructuredtext():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, doc in _docstrings(ast.parse(path.read_text())):
            if found := _warnings(doc):
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {found.strip()}")
    assert not problems, "docstrings the strict docs build would reject:\n" + "\n".join(problems)


def test_the_check_catches_what_the_docs_build_rejected():
    assert "Inline literal start-string without end-string" in _warnings("as ``torch.autograd.Function``s.")
    assert "Inline emphasis start-string without end-string" in _warnings("fn(x, *args) for every x")
    assert _warnings("as a ``torch.autograd.Function``; see :func:`saewidgets.train`.") == ""


# Modules a reader of the API pages does not call: packages that only re-export, the command line and the
# pages it writes, the embedded default's word lists and the scripts that trained its bundled artefacts.
UNDOCUMENTED = {
    "saewidgets.checks",
    "saewidgets.datacentric",
    "saewidgets.widgets",
    "saewidgets.cli",
    "saewidgets.eval_page",
    "saewidgets.report",
    "saewidgets.zoo.lexicon",
    "saewidgets.zoo.lexicon_topics",
    "saewidgets.zoo.train_reader_sae",
    "saewidgets.zoo.train_storyteller",
}


def test_every_public_module_has_an_api_page():
    """A module added without a docs/api entry is invisible on the site (the evals and five checks modules were)."""
    import pkgutil
    import re

    import saewidgets

    pages = "".join(p.read_text() for p in (PACKAGE.parent / "docs" / "api").glob("*.md"))
    documented = set(re.findall(r"automodule:: (\S+)", pages))
    public = {
        m.name
        for m in pkgutil.walk_packages(saewidgets.__path__, "saewidgets.")
        if not any(part.startswith("_") for part in m.name.split("."))
    }
    assert sorted(public - documented - UNDOCUMENTED) == []
    assert sorted(UNDOCUMENTED - public) == [], "an UNDOCUMENTED module no longer exists"
