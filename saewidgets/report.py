"""The demo's offline report: one page that shows what ``saewidgets demo --out DIR`` found.

``write_report`` writes, into DIR:

- ``report.html``: a header (model, hook, tokens, run time; no date, so two runs with the same settings
  differ only in their timings), the interactive FrontierPlot and the frontier as a table, a
  FeatureActivations view of a few good latents of one JumpReLU SAE (each named by the planted concept
  it predicts best, with its F1), a SteeringPanel with a precomputed grid, and the PNG figures. One
  self-contained file: it opens from disk with no network and no kernel (``widgets._base.render_document``).
- the same figures as PNG files (``frontier_fvu.png``, ``frontier_delta_ce.png``, ``density.png``);
- ``metrics.json``: every SAE's metrics, and which SAE and latents the page shows.

"Good latents" are found against the storyteller corpus's planted labels (``concepts.py``): each latent is
scored as a classifier of each concept at the token level, and the best (concept, latent) pairs win, one
latent per concept. Labels are the ground truth the corpus was built with, so a reader can check the names.
This file sits with cli.py above the widgets: it imports analysis and widgets, and nothing imports it but
the cli.
"""

from __future__ import annotations

import base64
import html
import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np

MODERATE_L0 = (8.0, 64.0)
"""L0 range of the SAE shown: sparse enough that a token's few latents can be read, dense enough to
reconstruct well (the JumpReLU paper's Fig. 2 compares architectures over L0 ~ 10-100)."""
N_LATENTS = 4
N_STEER = 2
FEATURE_TOKENS = 6000
"""Tokens in the feature view (~85 documents): about 87 bytes each in the page, ~0.5 of the report's ~0.7 MB;
enough for every common concept to show up several times."""
MIN_POSITIVES = 20
"""A concept needs this many labelled tokens in the held-out text to be scored at all (F1 on fewer is noise)."""
STEER_PROMPT = "Once upon a time"
STEER_GRID = (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0)
FIGURES = ("frontier_fvu.png", "frontier_delta_ce.png", "density.png")


def default_concepts() -> list[str]:
    """The storyteller corpus's common planted concepts (rare ones have too few tokens in held-out text)."""
    from .zoo.corpus import CONCEPTS, RARE_CONCEPTS, TOPICS

    return (
        [c for c in CONCEPTS if c not in RARE_CONCEPTS]
        + [f"topic={t}" for t in TOPICS]
        + ["tone=happy", "tone=sad"]
    )


def choose_sae(points: list[dict]) -> int:
    """Index of the SAE the page looks inside: the JumpReLU point with the lowest FVU among those at
    moderate L0 (falling back to every JumpReLU point, then every point)."""
    pool = [i for i, p in enumerate(points) if p["architecture"] == "jumprelu"] or list(range(len(points)))
    lo, hi = MODERATE_L0
    pool = [i for i in pool if lo <= points[i]["l0"] <= hi] or pool
    return min(pool, key=lambda i: (points[i].get("fvu", math.inf), i))


def good_latents(sae, activations, corpus, tokenizer, concepts=None, n: int = N_LATENTS) -> list[dict]:
    """The ``n`` best (concept, latent) pairs by token-level F1, each concept and each latent used once:
    [{concept, latent, f1, precision, recall, density, base_rate}], best first."""
    from .concepts import best_latents, latent_scores_many, token_labels

    label_sets = {}
    for concept in concepts or default_concepts():
        try:
            labels = token_labels(activations, corpus, tokenizer, concept)
        except (KeyError, ValueError):  # a corpus without this label (or without storyteller spans)
            continue
        if labels.sum() >= MIN_POSITIVES:
            label_sets[concept] = labels
    if not label_sets:
        return []
    pairs = [
        {"concept": concept, **row, "base_rate": scores["base_rate"]}
        for concept, scores in latent_scores_many(sae, activations, label_sets).items()
        for row in best_latents(scores, n=n)
    ]
    chosen, used = [], set()
    for row in sorted(pairs, key=lambda r: -r["f1"]):
        if (
            row["latent"] not in used
            and row["concept"] not in {c["concept"] for c in chosen}
            and row["f1"] > 0
        ):
            chosen.append(row)
            used.add(row["latent"])
    return chosen[:n]


def steer_latents(rows: list[dict], n: int = N_STEER) -> list[dict]:
    """Which good latents to steer with: topic latents first (their effect is plain in a short story)."""
    return sorted(rows, key=lambda r: (not r["concept"].startswith("topic="), -r["f1"]))[:n]


# ---------------------------------------------------------------------------------------------- figures


def density_png(density, name: str) -> bytes:
    """Histogram of log10 firing frequency of one SAE's latents (dead latents counted apart)."""
    from .widgets._fallback import figure_png, new_figure
    from .widgets._palette import color

    d = np.asarray(density, dtype=np.float64)
    alive = d[d > 0]
    fig = new_figure(figsize=(6.4, 3.2), dpi=100)
    ax = fig.add_subplot()
    if len(alive):
        ax.hist(np.log10(alive), bins=40, color=color(0))
    ax.set_xlabel("log10 firing frequency (fraction of held-out tokens)")
    ax.set_ylabel("latents")
    ax.set_title(f"{name}: {len(alive)} of {len(d)} latents fire, {len(d) - len(alive)} dead", fontsize=9)
    ax.grid(True, alpha=0.3)
    return figure_png(fig)


def frontier_pngs(points: list[dict], title: str) -> dict[str, bytes]:
    from .widgets.frontier_plot import frontier_metrics, frontier_png

    out = {"frontier_fvu.png": frontier_png(points, "fvu", title=title)}
    if "delta_ce" in frontier_metrics(points):
        out["frontier_delta_ce.png"] = frontier_png(points, "delta_ce", y_log=True, title=title)
    return out


# ---------------------------------------------------------------------------------------------- HTML


def e(value) -> str:
    """Escaped text for HTML (attributes included): model names and corpus text are never markup."""
    return html.escape(str(value), quote=True)


def _num(v, fmt: str) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def header_html(info: dict) -> str:
    rows = [
        (
            "model",
            f"{info['model']} ({info['n_layers']} layers, d_model {info['d_model']}, "
            f"{info['n_params'] / 1e6:.2f} M parameters)",
        ),
        ("hook", info["hook"]),
        (
            "tokens",
            f"{info['n_tokens']:,} harvested from {info['n_docs']:,} documents; "
            f"{info['sae_tokens']:,} training tokens per SAE (d_sae {info['d_sae']}); metrics on "
            f"{info['eval_tokens']:,} held-out tokens, ΔCE on {info['ce_docs']} documents",
        ),
        (
            "run time",
            f"{info['seconds']:.0f} s up to this report (training and evaluation "
            f"{info['train_seconds']:.0f} s)",
        ),
    ]
    items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    sample = info.get("greedy_sample")
    quote = (
        f'<p class="saew-report-sample"><span class="saew-muted">Greedy sample:</span> {e(sample)}</p>'
        if sample
        else ""
    )
    return (
        f'<header class="saew-report-head"><h1>saewidgets demo report</h1>'
        f'<dl class="saew-report-facts">{items}</dl>{quote}{_NAV}</header>'
    )


_NAV = (
    '<nav class="saew-report-nav"><a href="#frontier">Frontier</a> · <a href="#features">Features</a> · '
    '<a href="#steering">Steering</a> · <a href="#figures">Figures</a></nav>'
)


def frontier_table(points: list[dict], chosen: int | None = None) -> str:
    """The frontier as an HTML table (architecture, coefficient, L0, FVU, ΔCE, dead fraction)."""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("SAE", "architecture", "coefficient", "L0", "FVU", "ΔCE (nats)", "dead fraction")
    )
    body = []
    for i, p in enumerate(points):
        mark = ' class="saew-report-chosen" title="shown in the feature view"' if i == chosen else ""
        cells = [
            e(p.get("name", "")),
            e(p["architecture"]),
            f"{e(p.get('knob', ''))} = {_num(p.get('value'), 'g')}",
            _num(p["l0"], ".1f"),
            _num(p.get("fvu"), ".4f"),
            _num(p.get("delta_ce"), ".4f"),
            _num(p.get("dead_fraction"), ".3f"),
        ]
        body.append(f"<tr{mark}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        f'<table class="saew-report-table saew-report-frontier"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def latent_table(rows: list[dict]) -> str:
    """The good latents, each a button that shows it in the feature view (static/report.js)."""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("latent", "concept", "F1", "precision", "recall", "fires on", "concept base rate")
    )
    body = []
    for r in rows:
        button = (
            f'<button type="button" class="saew-report-show" data-latent="{int(r["latent"])}">'
            f"#{int(r['latent'])}</button>"
        )
        cells = [
            button,
            e(r["concept"]),
            _num(r["f1"], ".2f"),
            _num(r["precision"], ".2f"),
            _num(r["recall"], ".2f"),
            f"{100 * r['density']:.2f}% of tokens",
            f"{100 * r['base_rate']:.1f}%",
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        f'<table class="saew-report-table saew-report-latents"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def figure_html(name: str, png: bytes, caption: str) -> str:
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    return (
        f'<figure class="saew-report-fig"><img src="{uri}" alt="{e(caption)}">'
        f"<figcaption>{e(caption)} (<code>{e(name)}</code>)</figcaption></figure>"
    )


def section(anchor: str, title: str, intro: str) -> str:
    return f'<h2 id="{e(anchor)}">{e(title)}</h2><p class="saew-report-intro">{e(intro)}</p>'


# ---------------------------------------------------------------------------------------------- assembly


def feature_view(sae, activations, model, latents: list[int]):
    """The report's FeatureActivations: the first ``FEATURE_TOKENS`` held-out tokens, ``latents`` first.
    Logit-effect tokens are vocabulary pieces (``token_text.vocab_piece``): a byte of a character shows as
    its bytes, not as U+FFFD."""
    from functools import partial

    from .features import readable_tokens, unembedding
    from .token_text import vocab_piece
    from .widgets.feature_activations import FeatureActivations

    view = activations.head(FEATURE_TOKENS)
    features = FeatureActivations.from_activations(
        sae,
        view,
        readable_tokens(model.tokenizer, view),
        W_U=unembedding(model),
        decode=partial(vocab_piece, model.tokenizer),
        latent=latents[0] if latents else None,
        n_latents=N_LATENTS,
    )
    features.add_latents(latents[1:])
    return features


def write_report(
    out_dir: str | Path,
    *,
    points: list[dict],
    saes: list,
    densities: list,
    model,
    corpus,
    activations,
    info: dict,
    concepts=None,
) -> dict:
    """Write report.html, the PNG figures and metrics.json into ``out_dir``; return their paths and the
    choices made (``sae``, ``latents``, ``steer``).

    ``points`` / ``saes`` / ``densities`` are ``run_frontier``'s; ``corpus`` and ``activations`` the held-out
    text and its harvest (used to score latents against the planted labels, and shown in the feature view);
    ``info`` the header's facts (see ``header_html``)."""
    from ._files import write_bytes_atomic, write_json_atomic
    from .steering import typical_max
    from .widgets._base import render_document, static_text
    from .widgets.frontier_plot import FrontierPlot
    from .widgets.steering_panel import SteeringPanel

    out = Path(out_dir)
    k = choose_sae(points)
    sae, name = saes[k], points[k]["name"]
    rows = good_latents(sae, activations, corpus, model.tokenizer, concepts)
    latents = [r["latent"] for r in rows]
    title = f"{info['model']} · {info['hook']}"

    frontier = FrontierPlot(points, y_metric="fvu", selected=k, title=title)

    features = feature_view(sae, activations, model, latents)

    steer = steer_latents(rows)
    panel = None
    if steer:
        ids = [r["latent"] for r in steer]
        with _one_thread():
            panel = SteeringPanel(
                model,
                sae,
                info["hook"],
                ids,
                units=typical_max(sae, activations, latents=ids),
                prompt=STEER_PROMPT,
                seed=0,
                labels=[f"#{r['latent']} {r['concept']}" for r in steer],
            )
            panel._grid = panel.precompute_grid(STEER_GRID)

    pngs = frontier_pngs(points, title)
    pngs["density.png"] = density_png(densities[k], name)
    captions = {
        "frontier_fvu.png": "Frontier: L0 against FVU, one Pareto front per architecture",
        "frontier_delta_ce.png": "Frontier: L0 against ΔCE (log scale)",
        "density.png": f"Latent firing frequency of {name} on held-out tokens",
    }
    for fname, png in pngs.items():
        write_bytes_atomic(out / fname, png)

    parts = [
        header_html(info),
        section(
            "frontier",
            "Sparsity–fidelity frontier",
            "Each point is one SAE: fewer active latents per token (L0, left) against a worse "
            "reconstruction (FVU, up). Click a point for its numbers; the menu switches the metric.",
        ),
        frontier.html_part("frontier"),
        frontier_table(points, k),
        section(
            "features",
            f"Features of {name}",
            f"The JumpReLU SAE at moderate L0 with the lowest FVU (L0 {points[k]['l0']:.1f}). Its latents "
            "were scored as classifiers of the corpus's planted concepts on held-out text; these predict "
            "a concept best (one latent per concept). Click a latent to show it below.",
        ),
        latent_table(rows) if rows else '<p class="saew-muted">No latent predicts a planted concept.</p>',
        features.html_part("features"),
    ]
    if panel is not None:
        parts += [
            section(
                "steering",
                "Steering",
                "Adding a latent's decoder direction to the residual stream at the hook, in units of its "
                "typical maximum activation; unsteered and steered text use the same seed. Precomputed: "
                "one latent at a time, on the grid of strengths.",
            ),
            panel.html_part("steering"),
        ]
    parts.append(section("figures", "Figures", "The same figures are PNG files beside this page."))
    parts.append(
        '<div class="saew-report-figs">'
        + "".join(figure_html(f, png, captions[f]) for f, png in pngs.items())
        + "</div>"
    )
    page = render_document(
        f"saewidgets demo report · {title}",
        parts,
        css=static_text("report.css"),
        script=static_text("report.js"),
    )
    html_path = write_bytes_atomic(out / "report.html", page.encode("utf-8"))

    metrics = {
        "model": info["model"],
        "hook": info["hook"],
        "saes": {p["name"]: {key: _plain(v) for key, v in p.items()} for p in points},
        "feature_view": {"sae": name, "latents": rows, "n_tokens": min(len(activations), FEATURE_TOKENS)},
        "steering": {
            "latents": [r["latent"] for r in steer],
            "grid": list(STEER_GRID),
            "prompt": STEER_PROMPT,
        },
    }
    metrics_path = write_json_atomic(out / "metrics.json", metrics)
    return {
        "html": html_path,
        "metrics": metrics_path,
        "figures": [out / f for f in pngs],
        "sae": name,
        "latents": rows,
        "steer": [r["latent"] for r in steer],
    }


@contextmanager
def _one_thread():
    """Sampling token by token from a small model is a chain of tiny ops: a second thread only adds
    synchronisation. On a busy 2-core machine a 32-token generation took 2.6 s with 2 threads, 0.16 s with 1."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _plain(v):
    """JSON-safe: numpy scalars to numbers, NaN/inf to None."""
    if hasattr(v, "item"):
        v = v.item()
    return None if isinstance(v, float) and not math.isfinite(v) else v
