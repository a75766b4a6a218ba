"""The markers `make check` relies on: tests/conftest.py applies them by place, so check the places are real."""

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tests_conftest():
    # By path: a full run also collects notebooks/solutions/conftest.py, and `from conftest import` would pick
    # whichever of the two was imported as "conftest" first.
    spec = importlib.util.spec_from_file_location("saew_tests_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_conftest = _tests_conftest()
NOTEBOOK_TESTS, marks_for = _conftest.NOTEBOOK_TESTS, _conftest.marks_for


def test_each_notebook_test_entry_names_a_test_that_exists():
    """A renamed test would silently lose its marker and slip into `make check`."""
    for entry in NOTEBOOK_TESTS:
        file, _, name = entry.partition("::")
        path = ROOT / file
        assert path.is_file(), f"NOTEBOOK_TESTS: {file} does not exist"
        if name:
            tests = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
            assert name in tests, f"NOTEBOOK_TESTS: {file} has no test {name}"


def test_marks_follow_the_place_of_a_test():
    browser = ROOT / "tests" / "browser" / "test_report.py"
    assert marks_for(browser, "tests/browser/test_report.py::test_x") == {"browser"}
    assert marks_for(ROOT / "tests/browser/test_docs_site.py", "tests/browser/test_docs_site.py::test_y") == {
        "browser",
        "notebooks",
    }
    nb = ROOT / "notebooks" / "solutions" / "00_quickstart.ipynb"
    assert marks_for(nb, "notebooks/solutions/00_quickstart.ipynb::Cell 3") == {"notebooks"}
    offline = "tests/test_notebook_10_offline.py"
    assert marks_for(ROOT / offline, f"{offline}::test_the_online_path_runs_against_stand_ins") == {
        "notebooks"
    }
    assert marks_for(ROOT / offline, f"{offline}::test_every_cell_after_the_flag_is_guarded") == set()
    assert marks_for(ROOT / "tests" / "test_sae.py", "tests/test_sae.py::test_z") == set()
