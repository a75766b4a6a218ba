"""The capstone's checks (notebook 12): each passes the right answer and names each plausible wrong one."""

from pathlib import Path

import nbformat
import pytest
import torch

from saewidgets import SAEConfig, TrainConfig, checks
from saewidgets.checks.capstone import _concept_case

TARGETS = checks.CapstoneTargets(l0_min=10, l0_max=40, fvu_max=0.2, n_tokens=1_000_000)
TOPK = SAEConfig("topk", d_in=64, d_sae=1024, k=24)
FULL = TrainConfig(n_tokens=1_000_000, batch_size=4096)


# ---- the training setup and the trained SAE ----


def test_setup_check_passes_a_config_that_can_reach_the_targets(capsys):
    checks.check_training_setup(TOPK, FULL, 64, TARGETS)
    checks.check_training_setup(SAEConfig("jumprelu", d_in=64, d_sae=512), FULL, 64, TARGETS)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize(
    "sae_cfg, train_cfg, hint",
    [
        ({"architecture": "topk", "d_in": 64, "d_sae": 1024, "k": 24}, FULL, "Build the two configs"),
        (SAEConfig("topk", d_in=128, d_sae=1024, k=24), FULL, "use d_in=model.cfg.d_model"),
        (SAEConfig("topk", d_in=64, d_sae=128, k=24), FULL, "expansion of 8-32x"),
        (TOPK, TrainConfig(n_tokens=200_000, batch_size=4096), "below the budget"),
        (SAEConfig("topk", d_in=64, d_sae=1024, k=64), FULL, "Lower k"),
        (SAEConfig("topk", d_in=64, d_sae=1024, k=4), FULL, "Raise k"),
    ],
)
def test_setup_check_names_the_mistake(sae_cfg, train_cfg, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_training_setup(sae_cfg, train_cfg, 64, TARGETS)


def _metrics(l0=20.0, fvu=0.1, dead=0.01):
    return {"l0": l0, "fvu": fvu, "dead_fraction": dead}


def test_run_check_passes_an_sae_on_target(capsys):
    checks.check_training_run(_metrics(), TOPK, FULL, TARGETS)
    assert "✓ Targets reached: L0 20.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "metrics, sae_cfg, train_cfg, hint",
    [
        (_metrics(l0=60), TOPK, FULL, "L0 is 60.0, above the target of 40. Lower k"),
        (_metrics(l0=60), SAEConfig("relu", d_in=64, d_sae=1024), FULL, "Raise l1_coefficient"),
        (_metrics(l0=60), SAEConfig("jumprelu", d_in=64, d_sae=1024), FULL, "Raise l0_coefficient"),
        (_metrics(l0=4), TOPK, FULL, "below the target of 10.*Raise k"),
        (_metrics(l0=4), SAEConfig("jumprelu", d_in=64, d_sae=1024), FULL, "Lower l0_coefficient"),
        (_metrics(dead=0.5), TOPK, FULL, "50% of the latents never fire"),
        (_metrics(fvu=0.3), TOPK, TrainConfig(n_tokens=200_000, batch_size=4096), "Train on more tokens"),
        (_metrics(l0=12, fvu=0.3), TOPK, FULL, "Spend more of the L0 budget"),
        (_metrics(l0=38, fvu=0.3), TOPK, FULL, "wider dictionary"),
        (_metrics(fvu=float("nan")), TOPK, FULL, "training diverged"),
    ],
)
def test_run_check_names_the_mistake(metrics, sae_cfg, train_cfg, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_training_run(metrics, sae_cfg, train_cfg, TARGETS)


# ---- the concept latent ----


def test_concept_check_passes_the_reference_and_agrees_with_the_library(capsys):
    from saewidgets.concepts import latent_scores

    checks.check_concept_search(checks.concept_search_reference)
    assert capsys.readouterr().out.count("✓") == 1
    # the fake's scores are what latent_scores (the library notebook 08 uses) gives on the same firing pattern
    fires, labels = _concept_case()
    sae = _FiringSAE(fires)
    scores = latent_scores(sae, torch.arange(len(fires), dtype=torch.float32)[:, None], labels.numpy())
    assert scores["precision"][2] == pytest.approx(0.85) and scores["precision"][3] == pytest.approx(20 / 26)
    assert scores["f1"][3] > scores["f1"][2] > scores["f1"][0] > scores["f1"][1]


class _FiringSAE(torch.nn.Module):
    """An 'SAE' whose latents fire on row i exactly as fires[i] says (its input is the row index)."""

    def __init__(self, fires):
        super().__init__()
        self.fires = fires.float()
        self.W_dec = torch.nn.Parameter(torch.zeros(fires.shape[1], 1))

    def encode(self, x):
        return self.fires[x[:, 0].long()]


def _ranked_by(key):
    """A wrong answer: the latent with the largest precision / recall / F1 / firing count, no precision floor."""

    def fn(fires, labels, min_precision):
        hits = (fires & labels[:, None]).sum(0).float()
        precision, recall = hits / fires.sum(0).clamp(min=1), hits / labels.sum()
        f1 = (2 * precision * recall / (precision + recall)).nan_to_num(0)
        return int({"precision": precision, "recall": recall, "f1": f1}[key].argmax())

    return fn


def _nan_precision(fires, labels, min_precision):
    """A wrong answer: precision 0/0 = NaN for a latent that never fires, and argmax takes NaN as largest."""
    hits = (fires & labels[:, None]).sum(0).float()
    precision, recall = hits / fires.sum(0).float(), hits / labels.sum()
    f1 = 2 * precision * recall / (precision + recall)
    return int(torch.where(precision < min_precision, -1.0, f1).argmax())


def _no_none(fires, labels, min_precision):
    """A wrong answer: right ranking, but a latent even when none is precise enough."""
    hits = (fires & labels[:, None]).sum(0).float()
    precision, recall = hits / fires.sum(0).clamp(min=1), hits / labels.sum()
    f1 = (2 * precision * recall / (precision + recall)).nan_to_num(0)
    ok = precision >= min_precision
    return int(torch.where(ok, f1, -1).argmax()) if ok.any() else int(precision.argmax())


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_ranked_by("recall"), "fires on every token"),
        (_ranked_by("precision"), "single concept token"),
        (_ranked_by("f1"), "precision on the concept is low"),
        (lambda fires, labels, p: 5, "not the highest-F1 latent"),
        (lambda fires, labels, p: 9, "out of range"),
        (_nan_precision, "never fires"),
        (lambda fires, labels, p: [2], "Return one latent id"),
        (_no_none, "return None"),
    ],
)
def test_concept_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_concept_search(wrong)


# ---- the steering window ----


def test_window_check_passes_the_reference(capsys):
    checks.check_steering_window(checks.steering_window_reference)
    assert capsys.readouterr().out.count("✓") == 1


def _every_good(strengths, rates, ces, gain, rise):
    good = [s for s, r, c in zip(strengths, rates, ces) if r >= rates[0] + gain and c <= ces[0] + rise]
    return (good[0], good[-1]) if good else None


def _appear_to_fluent(strengths, rates, ces, gain, rise):
    lo = next(s for s, r in zip(strengths, rates) if r >= rates[0] + gain)
    hi = [s for s, c in zip(strengths, ces) if c <= ces[0] + rise][-1]
    return lo, hi


def _absolute(strengths, rates, ces, gain, rise):
    good = [s for s, r, c in zip(strengths, rates, ces) if s > 0 and r >= gain and c <= rise]
    return (good[0], good[-1]) if good else None


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_every_good, "one contiguous run"),
        (_appear_to_fluent, "the window is empty — return None"),
        (_absolute, "compare with the unsteered sample"),
        (lambda s, r, c, g, m: (s[0], s[-1]), "Strength 0 \\(unsteered\\) is never in it"),
        (lambda s, r, c, g, m: 2.0, "Return a pair"),
    ],
)
def test_window_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_steering_window(wrong)


def test_every_capstone_name_reaches_the_checks_namespace_unshadowed():
    """checks/__init__ star-imports every module: a same-named check elsewhere would silently replace ours."""
    from saewidgets.checks import capstone

    assert all(getattr(checks, name) is getattr(capstone, name) for name in capstone.__all__)


# ---- notebook 12's online path, against stand-ins ----

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "solutions" / "12_capstone.ipynb"
FLAG = "ONLINE = torch.cuda.is_available() and hub_reachable()"


def _code_cells():
    from IPython.core.inputtransformer2 import TransformerManager

    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    return [TransformerManager().transform_cell(c.source) for c in nb.cells if c.cell_type == "code"]


def test_the_switch_never_asks_the_hub_without_a_gpu_and_says_offline(monkeypatch, capsys):
    """Offline the parameter cell prints one line saying so; without a GPU, hub_reachable is never called."""
    import saewidgets

    calls = []
    monkeypatch.setattr(
        saewidgets, "hub_reachable", lambda timeout=1.5: calls.append(1) or True, raising=False
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cells = _code_cells()
    assert FLAG in cells[1]
    namespace = {}
    exec(cells[1].replace("hub_reachable()}", "False}"), namespace)  # the printed line asks once more
    assert namespace["ONLINE"] is False and namespace["MODEL"] == "storyteller" and not calls
    out = capsys.readouterr().out
    assert out.startswith("Offline") and out.count("\n") == 1 and "storyteller" in out


def test_the_online_path_runs_against_stand_ins(monkeypatch, tmp_path, capsys, tiny_checkpoint):
    """Every cell with ONLINE true, from a local hub cache holding stand-ins under the notebook's names: a tiny
    random GPTNeoX (Pythia's architecture) as EleutherAI/pythia-70m-deduped, storyteller stories as TinyStories.
    Random weights: this proves the online code runs (model, corpus, bf16 disk cache, every exercise, the
    sweep), not what its numbers say."""
    import huggingface_hub.constants
    import pyarrow as pa
    import pyarrow.parquet as pq
    from hub_cache import put_in_hub_cache

    import saewidgets

    cache = tmp_path / "hub"
    put_in_hub_cache(tiny_checkpoint("gpt_neox"), cache, "EleutherAI/pythia-70m-deduped")
    (tmp_path / "ts" / "data").mkdir(parents=True)
    texts = saewidgets.load_corpus("storyteller", n_docs=300, seed=5).texts
    pq.write_table(pa.table({"text": texts}), tmp_path / "ts" / "data" / "train-00000-of-00001.parquet")
    put_in_hub_cache(tmp_path / "ts", cache, "roneneldan/TinyStories", repo_type="dataset")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    cells = _code_cells()
    namespace = {}
    exec(cells[1].replace(FLAG, "ONLINE = True"), namespace)  # imports + parameters, the online branch
    assert namespace["MODEL"] == "pythia-70m-deduped" and namespace["CORPUS"] == "tinystories"
    assert namespace["TARGETS"].n_tokens == 50_000_000 and namespace["HARVEST_TOKENS"] == 5_000_000
    lenient = checks.CapstoneTargets(l0_min=1, l0_max=64, fvu_max=100.0, n_tokens=8192, dead_max=1.0)
    namespace.update(
        HOOK="blocks.1.hook_resid_post", N_DOCS=200, N_HELD_OUT=100, HARVEST_TOKENS=6000,
        CACHE=str(tmp_path / "acts"), TARGETS=lenient, N_PROBE=4000, MIN_PRECISION=0.0,
        STRENGTHS=[0, 2], N_SAMPLES=2,
    )  # fmt: skip
    for src in cells[2:]:
        exec(compile(src, str(NOTEBOOK), "exec"), namespace)

    assert namespace["model"].cfg.d_model == namespace["D_IN"]
    assert type(namespace["train_acts"]).__name__ == "CachedActivations"  # harvested to disk ...
    assert namespace["train_acts"].meta["dtype"] == "bfloat16"  # ... in bf16
    assert len(namespace["train_acts"]) == 6000 and (tmp_path / "acts").is_dir()
    assert 0 <= namespace["LATENT"] < namespace["sae"].cfg.d_sae
    assert len(namespace["sweep"]["own_ce"]) == 2
    out = capsys.readouterr().out
    assert "Offline" not in out and out.count("✓") == 4  # setup, run, concept search, window
    assert "α=0 " in out and "α=2 " in out  # the sweep ran both strengths
