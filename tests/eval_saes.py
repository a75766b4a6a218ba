"""The two saved SAEs that `saewidgets eval`'s tests score (tests/test_eval_cli.py, tests/browser/test_eval_page.py):
small TopK SAEs alike, one trained and one as built, the first under a folder name a page must escape."""

import json
from pathlib import Path

import saewidgets as sw
from saewidgets.cli import main

HOOK = "blocks.1.hook_resid_post"
HOSTILE = 'topk <b>bold<b> & "quoted"'  # no "/": it is a folder name


def save_two_saes(root: Path, model) -> list[str]:
    """[trained, untrained] SAE folders under ``root``, saved with save_sae."""
    acts = sw.harvest(model, sw.load_corpus("storyteller", n_docs=120, seed=5), HOOK)
    folders = []
    for name, seed in ((HOSTILE, 0), ("untrained", 1)):
        sae = sw.build_sae(sw.SAEConfig("topk", d_in=128, d_sae=256, k=8), seed=seed)
        if seed == 0:  # trained, so that its numbers mean something (FVU ~0.25); the other stays as built
            sw.train(sae, acts, n_tokens=20_000, batch_size=256, seed=seed, progress=False)
        folders.append(str(sw.save_sae(sae, root / name, hook=HOOK, model_name="storyteller")))
    return folders


def run_eval(folders: list[str], out: Path) -> dict:
    """`saewidgets eval` at test size (150 documents, 20 autointerp latents, ΔCE on 10); eval.json's contents."""
    argv = ["eval", *folders, "--n-docs", "150", "--n-latents", "20", "--ce-docs", "10", "--out", str(out)]
    assert main(argv) == 0
    return json.loads((out / "eval.json").read_text())
