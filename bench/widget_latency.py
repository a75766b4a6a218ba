"""Widget latency on the embedded default (not a timed test: it prints, it does not assert).

    python bench/widget_latency.py

(1) First render of FeatureActivations with 10,000 tokens on one page (the worst case; the widget
    pages at 2,000 by default) in headless Chromium, measured with performance.now() inside render();
    target <= 300 ms.
(2) A slider move in SteeringPanel -> a new 32-token steered completion with the bundled model, measured
    kernel-side (the regeneration the move triggers, unsteered + steered, same seed); target <= 500 ms.
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


def main() -> None:
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

    panel = SteeringPanel(model, sae, HOOK, [0, 1, 2], activations=acts, max_new_tokens=32, seed=0)
    latencies = []
    for s in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, -1.0, -2.0):
        t = time.perf_counter()
        panel.strengths = [s, 0.0, 0.0]  # what a slider move does in the kernel
        latencies.append((time.perf_counter() - t) * 1000)
    print(
        f"(2) SteeringPanel slider move -> unsteered + steered 32-token completions: median "
        f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms (target <= 500 ms)"
    )


if __name__ == "__main__":
    main()
