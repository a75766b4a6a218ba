"""Widget latency on the embedded default (not a timed test: it prints, it does not assert).

    python bench/widget_latency.py

(1) First render of FeatureActivations with 10,000 tokens on one page (the worst case; the widget
    pages at 2,000 by default) in headless Chromium, measured with performance.now() inside render();
    target <= 300 ms.
(2) A slider move in SteeringPanel -> a new 32-token steered completion with the bundled model, measured
    kernel-side from the trait change to the new ``steered`` text, on 2 torch threads; target <= 500 ms.
    "before": the unsteered text regenerated with it (the cache emptied before each move, as before
    issue 16); "after": the cached unsteered text, the steered row alone. Both are also given as a ratio
    to a baseline measured in the same run (one plain 32-token generation), so machines compare.

    python bench/widget_latency.py --steering-only   # (2) alone, no browser
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

import saewidgets as sw
from saewidgets.widgets import FeatureActivations, SteeringPanel

HOOK = "blocks.1.hook_resid_post"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def render_ms(path: Path, repeats: int = 5) -> list[float]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(repeats):
            page = browser.new_page()
            page.goto(path.resolve().as_uri())
            page.wait_for_selector("body[data-saew-ready='1']", timeout=60_000)
            out.append(float(page.get_attribute("#saew-root", "data-saew-render-ms")))
            page.close()
        browser.close()
    return out


def steering_ms(model, sae, acts) -> None:
    from saewidgets.steering import generate

    torch.set_num_threads(2)
    panel = SteeringPanel(model, sae, HOOK, [0, 1, 2], activations=acts, max_new_tokens=32, seed=0)
    moves = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, -1.0, -2.0)

    def timed(fn) -> list[float]:
        out = []
        for _ in range(2):  # the first round warms up
            out = []
            for s in moves:
                fn()
                t = time.perf_counter()
                panel.strengths = [s, 0.0, 0.0]  # what a slider move does in the kernel
                out.append((time.perf_counter() - t) * 1000)
        return out

    def one_generation() -> float:
        t = time.perf_counter()
        generate(model, panel.prompt, max_new_tokens=32, temperature=0.8, seed=0)
        return (time.perf_counter() - t) * 1000

    one_generation()
    base = statistics.median(one_generation() for _ in range(8))
    before = timed(panel._unsteered_cache.clear)
    after = timed(lambda: None)
    for name, ms in (("before (unsteered regenerated)", before), ("after (unsteered cached)", after)):
        med = statistics.median(ms)
        print(
            f"(2) SteeringPanel slider move -> new steered text, {name}: median {med:.0f} ms, max "
            f"{max(ms):.0f} ms = {med / base:.2f}x a plain 32-token generation ({base:.0f} ms); target <= 500 ms"
        )


def main() -> None:
    import sys

    torch.manual_seed(0)
    model = sw.load_model("storyteller", device="cpu")
    corpus = sw.load_corpus("storyteller", n_docs=400, seed=0)
    acts = sw.harvest(model, corpus, HOOK)
    sae = sw.train(
        sw.build_sae(sw.SAEConfig("topk", d_in=128, d_sae=512, k=16)),
        acts,
        n_tokens=200_000,
        batch_size=2048,
        progress=False,
    ).sae

    if "--steering-only" in sys.argv:
        return steering_ms(model, sae, acts)
    docs, n = [], 0
    for text in corpus.texts:  # about 10,000 tokens of stories
        docs.append(text)
        n += len(model.to_tokens(text)[0]) - 1
        if n >= 10_000:
            break
    widget = FeatureActivations.from_sae(sae, model, docs, HOOK, max_tokens=10_000)
    widget._page_size = 10_000  # every token on one page: the worst case for one render
    with tempfile.TemporaryDirectory() as tmp:
        times = render_ms(widget.to_html(Path(tmp) / "fa.html"))
    print(
        f"(1) FeatureActivations, {n:,} tokens on one page: first render median {statistics.median(times):.0f} ms "
        f"(runs: {', '.join(f'{t:.0f}' for t in times)}; target <= 300 ms)"
    )

    steering_ms(model, sae, acts)


if __name__ == "__main__":
    main()
