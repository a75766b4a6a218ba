"""The documentation site as CI builds it — strictly, every notebook executed small — then opened from disk.

Strict means any Sphinx warning fails the build: a broken link to a page, a bad cross-reference, a docstring
that does not parse. The site must work with no network: MathJax vendored, widgets rendered from their saved
state in offline pages.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))
# Anything a page *loads* (not an <a href> a reader may follow) must be local.
LOADS = re.compile(
    r"<(?:script|img|iframe|source|embed)\b[^>]*\ssrc=\"(https?:)?//|<link\b[^>]*\shref=\"(https?:)?//"
)

pytestmark = pytest.mark.slow


def _build(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build.py"), "--out", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    result = _build(out, "--size", "small")
    assert result.returncode == 0, f"docs build failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    print(result.stdout)
    return out


def test_every_notebook_and_guide_is_a_page(site):
    for stem in NOTEBOOKS:
        page = (site / "notebooks" / f"{stem}.html").read_text(encoding="utf-8")
        assert "Run it yourself" in page and f"{stem}.ipynb" in page, stem
        assert (site / "_downloads").exists()
    for name in (
        "getting-started",
        "concepts",
        "gpu",
        "report",
        "sae",
        "widgets",
        "datacentric",
        "api/index",
        "api/sae",
        "api/training",
        "api/datacentric",
    ):
        assert (site / f"{name}.html").is_file(), name


def test_api_reference_is_generated_from_docstrings(site):
    sae = (site / "api" / "sae.html").read_text(encoding="utf-8")
    for name in (
        "sae.JumpReLUSAE",
        "sae.GatedSAE",
        "sae.BatchTopKSAE",
        "ste.Heaviside",
        "io.load_gemma_scope",
        "config.SAEConfig",
    ):
        assert f'id="saewidgets.{name}"' in sae, name
    training = (site / "api" / "training.html").read_text(encoding="utf-8")
    assert 'id="saewidgets.training.train_sweep"' in training
    # a docstring's own words, not just the name
    assert "one pass over one activation stream" in training


def test_no_page_loads_anything_from_the_network(site):
    offenders = []
    for page in site.rglob("*.html"):
        for match in LOADS.finditer(page.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{page.relative_to(site)}: {match.group(0)[:80]}")
    assert not offenders, offenders
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_widget_pages_match_the_notebooks_widgets(site):
    pages = sorted((site / "_static" / "nbwidgets").glob("*.html"))
    assert len(pages) >= 8, [
        p.name for p in pages
    ]  # monitors, feature views, frontier, steering, data-centric
    texts = [p.read_text(encoding="utf-8") for p in (site / "notebooks").glob("*.html")]
    assert sum(len(re.findall(r'<iframe class="nb-widget"', t)) for t in texts) == len(pages)
    # each widget's static picture (its second output) is left out where the page draws the widget live
    assert not [t for t in texts if "saew-static" in t]


def test_a_notebook_page_renders_its_widgets_offline(site, page):
    p = page()
    pg = p.page
    pg.goto((site / "notebooks" / "00_quickstart.html").as_uri())
    frames = pg.query_selector_all("iframe.nb-widget")
    assert len(frames) == 2  # the training monitor and the feature view
    for element in frames:
        element.scroll_into_view_if_needed()  # frames load lazily
        frame = element.content_frame()
        frame.wait_for_selector("body[data-saew-ready='1']", timeout=20_000)
    monitor, features = (e.content_frame() for e in frames)
    assert (
        monitor.locator("path.saew-tm-line").count() >= 4
    )  # one curve per panel, from the saved state  # the loss curves were drawn from saved state
    assert features.locator(".saew-fa-tok").count() > 50  # tokens of the example texts
    # each frame grew to its content (the page posts its height to the docs page)
    pg.wait_for_function(
        "[...document.querySelectorAll('iframe.nb-widget')].every(f => f.offsetHeight > 430)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    frames[1].screenshot(path=str(ARTIFACTS / "docs_feature_view_frame.png"))
    frames[0].screenshot(path=str(ARTIFACTS / "docs_training_monitor_frame.png"))


def test_equations_render_offline(site, page):
    p = page()
    pg = p.page
    pg.goto((site / "concepts.html").as_uri())
    pg.wait_for_selector("mjx-container", timeout=20_000)
    assert pg.locator("mjx-container").count() > 10
    p.shot("docs_concepts")


def test_a_broken_link_fails_the_strict_build(tmp_path):
    # Without the notebook pages, the guides' links to them are broken: the build must refuse, naming them.
    result = _build(tmp_path / "html", "--skip-notebooks")
    assert result.returncode != 0
    assert "notebooks/05_jumprelu" in result.stdout + result.stderr
