"""The ``saewidgets`` command.

saewidgets demo                 the embedded default end to end (the README's main job)
saewidgets harvest --hook H     harvest activations into an on-disk cache
saewidgets eval DIR [DIR ...]   every metric of saved SAEs -> eval.json and eval.html (saewidgets/evaluation.py)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_HOOK = "blocks.1.hook_resid_post"


def demo(args: argparse.Namespace) -> dict:
    import torch

    from . import harvest, load_corpus, load_model
    from .generation import generate
    from .models import n_parameters

    t_start = time.time()
    model = load_model(args.model, device=args.device)
    t_load = time.time() - t_start

    n_params = n_parameters(model)
    print(
        f"model     {args.model}: {model.cfg.n_layers} layers, d_model {model.cfg.d_model}, "
        f"n_ctx {model.cfg.n_ctx}, {n_params / 1e6:.2f} M parameters, loaded in {t_load:.2f} s on "
        f"{model.cfg.device}"
    )

    t0 = time.time()
    corpus = load_corpus("storyteller", n_docs=args.n_docs, seed=args.seed)
    print(f"corpus    storyteller: {len(corpus)} documents (seed {args.seed}) in {time.time() - t0:.2f} s")
    print(f"          e.g. [{_label_line(corpus[0].labels)}]")
    print(f"          {corpus[0].text[:160]}...")

    t0 = time.time()
    acts = harvest(model, corpus, args.hook, n_tokens=args.n_tokens, cache_dir=args.cache_dir)
    dt = time.time() - t0
    if not hasattr(acts, "acts"):  # an on-disk cache: summarise from memory all the same
        acts = acts.load()
    norms = acts.acts.float().norm(dim=1)
    print(
        f"harvest   {len(acts):,} tokens x d_in {acts.d_in} at {args.hook} in {dt:.2f} s "
        f"({len(acts) / dt:,.0f} tokens/s); mean |x| {norms.mean():.2f}, norm scale {acts.norm_scale:.4f}"
    )
    row = int(torch.argmax(norms))
    doc, pos = int(acts.doc_ids[row]), int(acts.positions[row])
    tokens = model.to_str_tokens(acts.text_of(row))
    context = (
        "".join(tokens[max(1, pos - 8) : pos])
        + "[["
        + tokens[pos]
        + "]]"
        + "".join(tokens[pos + 1 : pos + 4])
    )
    print(f"trace     largest-norm row {row}: document {doc}, position {pos}: ...{context}...")
    story = generate(model, "Once upon a time", max_new_tokens=args.max_new_tokens)  # greedy
    print(f"generate  {story}")
    summary = {
        "model": args.model,
        "n_params": n_params,
        "n_layers": model.cfg.n_layers,
        "d_model": model.cfg.d_model,
        "load_seconds": round(t_load, 3),
        "hook": args.hook,
        "n_docs": len(corpus),
        "n_tokens": len(acts),
        "harvest_seconds": round(dt, 3),
        "norm_scale": acts.norm_scale,
        "greedy_sample": story,
    }
    if args.sae_tokens:
        summary |= _frontier(args, model, acts, summary, t_start)
    summary["total_seconds"] = round(time.time() - t_start, 1)
    print(f"done      in {summary['total_seconds']:.0f} s")
    if args.out:
        from ._files import write_json_atomic

        print(f"wrote     {write_json_atomic(Path(args.out) / 'summary.json', summary)}")
    return summary


def _frontier(args: argparse.Namespace, model, acts, summary: dict, t_start: float) -> dict:
    """Train the ReLU and JumpReLU sweeps, print the frontier, save the SAEs, frontier.json and the offline
    report (report.html, its PNG figures and metrics.json)."""
    import dataclasses

    import torch

    from . import harvest, load_corpus
    from .frontier import compare_at_matched_l0, format_table
    from .sweeps import DEMO_SWEEPS, DEMO_TRAIN, run_frontier

    eval_corpus = load_corpus("storyteller", n_docs=args.eval_docs, seed=args.seed + 1)
    eval_acts = harvest(model, eval_corpus, args.hook)
    cfg = dataclasses.replace(
        DEMO_TRAIN, n_tokens=args.sae_tokens, batch_size=min(DEMO_TRAIN.batch_size, len(acts))
    )
    n_saes = sum(len(s.values) for s in DEMO_SWEEPS)
    print(
        f"train     {n_saes} SAEs (d_sae {args.d_sae}) in one pass, {cfg.n_tokens:,} tokens each ...",
        flush=True,
    )
    t0 = time.time()
    points, saes, densities = run_frontier(
        acts,
        DEMO_SWEEPS,
        cfg,
        d_sae=args.d_sae,
        eval_activations=eval_acts,
        model=model,
        eval_texts=eval_corpus.texts[: args.ce_docs],
        progress=args.progress,
    )
    train_seconds = time.time() - t0
    print(
        f"          trained and evaluated in {train_seconds:.0f} s "
        f"(metrics on {len(eval_acts):,} held-out tokens; dCE on {min(args.ce_docs, len(eval_corpus))} documents)"
    )
    print(format_table(points))
    rows = compare_at_matched_l0(points)
    for r in rows:
        print(
            f"matched   L0 {r['l0']:6.1f}: FVU jumprelu {r['fvu']:.4f} vs relu {r['fvu_relu']:.4f}; "
            f"dCE jumprelu {r['delta_ce']:.4f} vs relu {r['delta_ce_relu']:.4f}"
        )
    if args.out:
        from ._files import write_json_atomic
        from .io import save_sae

        out = Path(args.out)
        for point, sae, density in zip(points, saes, densities):
            density = torch.tensor(density)
            save_sae(
                sae,
                out / "saes" / point["name"],
                hook=args.hook,
                model_name=args.model,
                sparsity=torch.log10(density + 1e-10),
                metadata={"frontier": point},
            )
        write_json_atomic(
            out / "frontier.json",
            {
                "hook": args.hook,
                "model": args.model,
                "train": cfg.to_dict(),
                "points": points,
                "matched_l0": rows,
            },
        )
        print(f"wrote     {out / 'frontier.json'} and {len(saes)} SAEs under {out / 'saes'}/")
        from .report import write_report

        t0 = time.time()
        info = summary | {
            "sae_tokens": cfg.n_tokens,
            "d_sae": args.d_sae,
            "eval_tokens": len(eval_acts),
            "ce_docs": min(args.ce_docs, len(eval_corpus)),
            "train_seconds": train_seconds,
            "seconds": time.time() - t_start,
        }
        report = write_report(
            out,
            points=points,
            saes=saes,
            densities=densities,
            model=model,
            corpus=eval_corpus,
            activations=eval_acts,
            info=info,
        )
        size = report["html"].stat().st_size / 1024
        shown = ", ".join(f"{r['latent']} ({r['concept']})" for r in report["latents"]) or "none"
        print(
            f"wrote     {report['html']} ({size:,.0f} KB; {report['sae']}, latents {shown}), "
            f"{len(report['figures'])} PNG figures and {report['metrics'].name} in {time.time() - t0:.1f} s"
        )
    return {"frontier": points, "matched_l0": rows}


def _label_line(labels: dict) -> str:
    flags = [k for k, v in labels.items() if v is True]
    return f"topic={labels.get('topic')}, tone={labels.get('tone')}, " + ", ".join(flags)


def harvest_cmd(args: argparse.Namespace) -> None:
    from . import harvest, load_corpus, load_model

    model = load_model(args.model, device=args.device)
    corpus = load_corpus("storyteller", n_docs=args.n_docs, seed=args.seed)
    cache = harvest(model, corpus, args.hook, n_tokens=args.n_tokens, cache_dir=args.cache_dir, progress=True)
    print(f"{len(cache):,} tokens x {cache.d_in} at {cache.hook} in {cache.path}")


def _eval_parser(sub) -> None:
    from .evaluation import EVAL_CORPUS_SEED

    s = sub.add_parser(
        "eval",
        help="evaluate saved SAEs: eval.json and an offline page",
        description="Every metric of saved SAEs (save_sae or SAELens folders) on held-out storyteller text: "
        "L0, FVU, dCE, dead fraction, truth F1, sparse probing, absorption, autointerp, and the stability "
        "of SAEs alike. Writes OUT/eval.json and OUT/eval.html.",
    )
    s.add_argument("dirs", nargs="+", metavar="DIR", help="SAE folders, e.g. OUT/saes/* of the demo")
    s.add_argument("--model", default="storyteller")
    s.add_argument("--hook", default=None, help="the hook of SAEs whose files name none")
    s.add_argument("--n-docs", type=int, default=1000, help="held-out documents")
    s.add_argument(
        "--seed", type=int, default=0, help=f"metrics' seed; the corpus's is {EVAL_CORPUS_SEED} + this"
    )
    s.add_argument("--n-latents", type=int, default=100, help="latents scored by autointerp")
    s.add_argument("--ce-docs", type=int, default=100, help="of the documents, this many for dCE (0: none)")
    s.add_argument("--out", default="eval_out", help="folder for eval.json and eval.html")
    s.add_argument("--device", default=None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="saewidgets", description="Sparse autoencoders you can look inside.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_ in (("demo", "run the embedded default end to end"), ("harvest", "cache activations")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("--model", default="storyteller")
        s.add_argument("--hook", default=DEFAULT_HOOK)
        s.add_argument("--n-docs", type=int, default=4000)
        s.add_argument("--n-tokens", type=int, default=None, help="harvest at most this many (default: all)")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--device", default=None)
        if name == "demo":
            s.add_argument("--cache-dir", default=None)
            s.add_argument(
                "--out", default=None, help="folder for summary.json, frontier.json, saes/ and report.html"
            )
            s.add_argument("--max-new-tokens", type=int, default=60)
            s.add_argument(
                "--sae-tokens",
                type=int,
                default=1_000_000,
                help="training tokens per SAE of the frontier sweeps (0: skip the SAEs)",
            )
            s.add_argument("--d-sae", type=int, default=1024)
            s.add_argument("--eval-docs", type=int, default=200, help="held-out documents for the metrics")
            s.add_argument("--ce-docs", type=int, default=100, help="of which this many for dCE")
            s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
        else:
            s.add_argument("--cache-dir", required=True)
    _eval_parser(sub)
    args = p.parse_args(argv)
    try:
        if args.command == "eval":
            from .evaluation import eval_cmd

            eval_cmd(args)
        else:
            demo(args) if args.command == "demo" else harvest_cmd(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"saewidgets {args.command}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
