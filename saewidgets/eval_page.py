"""The ``saewidgets eval`` page: what ``evaluation.evaluate_saes`` found, as one self-contained offline file.

``eval_page(result)`` returns eval.html: a header (model, hooks, corpus, run time), a FrontierPlot of the SAEs
whose y menu offers every metric (``truth_f1`` first shown; ``metric_info`` gives each its label and direction),
a table of metric and value per SAE with its per-concept numbers folded below, the stability of each like pair,
and one line on what each metric means. Every text from the files (SAE names, paths, hooks, concept names) is
escaped; the page fetches nothing (``widgets._base.render_document``: inline CSS, JSON state, CSP).
The demo report's helpers (``report.e``, ``report.section``) and its stylesheet are reused as they are.
"""

from __future__ import annotations

from .metric_info import EVAL_METRICS, RECONSTRUCTION_MEANINGS, STABILITY_MEANING
from .report import _num, e, section

DEFAULT_Y = "truth_f1"
TABLE_KEYS = (
    "l0",
    "fvu",
    "explained_variance",
    "delta_ce",
    "ce_loss_score",
    "dead_fraction",
    *EVAL_METRICS,
)
"""The rows of each SAE's table, in order (those the SAE has)."""

PLOT_KEYS = ("name", "architecture", "d_sae", "l0", "fvu", "explained_variance", "delta_ce", "ce_loss_score")
CSS = """
.saew-eval-metrics td:nth-child(2), .saew-eval-concepts td:nth-child(n + 2) { text-align: right; }
.saew-eval-stability td:nth-child(n + 4) { text-align: right; }
.saew-eval-sae { margin: 18px 0 4px; font-size: 15px; font-family: var(--saew-mono); }
.saew-eval-meanings dt { font-family: var(--saew-mono); }
.saew-eval-meanings dd { margin: 0 0 4px 18px; color: var(--saew-fg2); }
.saew-page details { margin: 4px 0 10px; }
.saew-page summary { cursor: pointer; color: var(--saew-accent); }
"""


def eval_page(result: dict) -> str:
    """eval.html for a ``evaluate_saes`` result (eval.json's contents)."""
    from .widgets._base import render_document, static_text
    from .widgets.frontier_plot import FrontierPlot, frontier_metrics

    saes = result["saes"]
    title = f"{result['model']} · {', '.join(result['hooks'])}"
    points = [
        {k: s[k] for k in (*PLOT_KEYS, *EVAL_METRICS, "dead_fraction", "kl") if k in s}
        | {"architecture": str(s["architecture"])}
        for s in saes
    ]
    metrics = frontier_metrics(points)
    y = DEFAULT_Y if DEFAULT_Y in metrics else ("fvu" if "fvu" in metrics else metrics[0])
    plot = FrontierPlot(points, y_metric=y, title=title)
    parts = [
        header(result),
        section(
            "frontier",
            "SAEs on the frontier",
            "Each point is one SAE: active latents per token (L0, across) against any metric below (the menu; "
            "truth F1 first). Lines join each architecture's Pareto front; hover a point for its name.",
        ),
        plot.html_part("frontier"),
        section(
            "saes",
            "Each SAE",
            "Its numbers on the held-out text; the per-concept numbers behind the averages are folded below each.",
        ),
        *(sae_html(s, i) for i, s in enumerate(saes)),
        section("stability", "Stability", STABILITY_MEANING[0].upper() + STABILITY_MEANING[1:] + "."),
        stability_table(result["stability"]),
        section("meanings", "What the numbers mean", "One line each; the modules named say exactly how."),
        meanings_html(),
    ]
    return render_document(f"saewidgets eval · {title}", parts, css=static_text("report.css") + CSS)


def header(result: dict) -> str:
    corpus = result["corpus"]
    tokens = "; ".join(f"{n:,} tokens at {h}" for h, n in corpus["n_tokens"].items())
    rows = [
        ("model", result["model"]),
        ("hooks", ", ".join(result["hooks"])),
        (
            "text",
            f"{corpus['n_docs']:,} held-out storyteller documents (corpus seed {corpus['seed']}): {tokens}; "
            f"ΔCE on the first {corpus['ce_docs']}",
        ),
        ("SAEs", f"{len(result['saes'])}; {len(result['stability'])} like pairs compared for stability"),
        ("run time", f"{result['seconds']:.0f} s"),
    ]
    items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    nav = (
        '<nav class="saew-report-nav"><a href="#frontier">Frontier</a> · <a href="#saes">SAEs</a> · '
        '<a href="#stability">Stability</a> · <a href="#meanings">Meanings</a></nav>'
    )
    return (
        f'<header class="saew-report-head"><h1>saewidgets eval</h1>'
        f'<dl class="saew-report-facts">{items}</dl>{nav}</header>'
    )


def _better(key: str) -> str:
    if key in EVAL_METRICS:
        return "higher" if EVAL_METRICS[key].higher_is_better else "lower"
    return {"explained_variance": "higher", "ce_loss_score": "higher", "l0": ""}.get(key, "lower")


def _table(cls: str, head: tuple[str, ...], rows: list[list[str]]) -> str:
    """``rows`` hold HTML already escaped."""
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="saew-report-table {cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def sae_html(s: dict, i: int) -> str:
    """One SAE: its name, what it is, its metric/value table, and its per-concept numbers folded."""
    shape = f"{s['architecture']}, d_in {s['d_in']}, d_sae {s['d_sae']}" + (
        f", k {s['k']}" if "k" in s else ""
    )
    facts = f"{shape}; reads {s['hook']}; from {s['path']}; evaluated in {s['seconds']:.1f} s"
    rows = [[e(k), _num(s[k], ".4g"), e(_better(k))] for k in TABLE_KEYS if k in s]
    details = s.get("details") or {}
    concepts = details.get("concepts") or {}
    concept_rows = [
        [
            e(name),
            *(
                _num(c.get(k), ".3f")
                for k in ("truth_f1", "probing_f1_k1", "probing_f1_k5", "probe_ceiling_f1")
            ),
            e(c.get("top_latent", "–")),
        ]
        for name, c in concepts.items()
    ]
    absorbed = details.get("absorption") or {}
    absorption_rows = [
        [
            e(parent),
            *(_num(a.get(k), ".3f") for k in ("absorption", "full_absorption", "planted_absorption")),
            e(a.get("n_evaluated", "–")),
        ]
        for parent, a in absorbed.items()
    ]
    folded = ""
    if concept_rows:
        folded += _table(
            "saew-eval-concepts",
            ("concept", "truth F1", "probe k=1", "probe k=5", "linear probe", "top latent"),
            concept_rows,
        )
    if absorption_rows:
        folded += _table(
            "saew-eval-concepts",
            ("parent word", "absorption", "full absorption", "planted absorption", "tokens evaluated"),
            absorption_rows,
        )
    return (
        f'<h3 class="saew-eval-sae" id="sae-{i}">{e(s["name"])}</h3>'
        f'<p class="saew-report-intro">{e(facts)}</p>'
        + _table("saew-eval-metrics", ("metric", "value", "better"), rows)
        + (f"<details><summary>per concept</summary>{folded}</details>" if folded else "")
    )


def stability_table(pairs: list[dict]) -> str:
    if not pairs:
        return '<p class="saew-muted">No two SAEs share architecture, width and hook: nothing to compare.</p>'
    rows = [
        [
            e(p["a"]),
            e(p["b"]),
            e(f"{p['architecture']}, d_sae {p['d_sae']}"),
            _num(p.get("shared"), ".3f"),
            _num(p.get("random_baseline"), ".3f"),
            _num(p.get("mean_cosine"), ".3f"),
        ]
        for p in pairs
    ]
    return _table(
        "saew-eval-stability",
        ("SAE", "other SAE", "shape", "shared", "random baseline", "mean matched cosine"),
        rows,
    )


def meanings_html() -> str:
    lines = {**RECONSTRUCTION_MEANINGS, **{k: m.meaning for k, m in EVAL_METRICS.items()}}
    lines["stability"] = STABILITY_MEANING
    items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in lines.items())
    return f'<dl class="saew-eval-meanings">{items}</dl>'
