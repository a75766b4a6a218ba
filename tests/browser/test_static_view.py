"""A notebook exported by ``jupyter nbconvert --to html``, opened with no network: each widget's static
picture shows (issue 16 item 5: before, every widget output was blank, waiting for html-manager from a CDN).

The page is nbconvert's, not ours: its template asks for require.js, html-manager and MathJax from CDNs. Those
requests are refused here (as they fail offline) and checked to be only the template's; nothing else may load.
That the live view hides the same picture is checked in a real JupyterLab and Notebook 7
(tests/browser/test_jupyterlab.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

from displayed import executed_notebook, nbconvert_html

from .conftest import _local

TEMPLATE_CDNS = {"cdnjs.cloudflare.com", "unpkg.com", "cdn.jsdelivr.net"}


def test_an_exported_notebook_shows_every_widgets_picture_offline(page, tmp_path):
    out = tmp_path / "exported.html"
    out.write_text(nbconvert_html(executed_notebook(tmp_path)), encoding="utf-8")
    p = page()
    pg = p.page
    pg.route(lambda url: not _local(url), lambda route: route.abort())
    pg.goto(out.as_uri())
    pg.wait_for_load_state("load")
    pictures = pg.locator(".saew-static img")
    assert pictures.count() == 2
    for i in range(2):
        img = pictures.nth(i)
        img.scroll_into_view_if_needed()
        assert img.is_visible()
        width, height = img.evaluate("e => [e.naturalWidth, e.getBoundingClientRect().height]")
        assert width > 300 and height > 200, (i, width, height)
    # the finished monitor's curves, not the placeholder it was displayed with
    assert pg.locator(".saew-static pre").count() == 0
    assert "finished" in pictures.nth(1).get_attribute("alt")
    p.shot("nbconvert_offline")
    assert {urlparse(u).hostname for u in p.requests} <= TEMPLATE_CDNS, p.requests
    p.requests.clear()
    p.errors[:] = [e for e in p.errors if e != "Failed to load resource: net::ERR_FAILED"]  # those refused
