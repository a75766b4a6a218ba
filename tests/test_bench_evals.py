"""bench/evals_speed.py and bench/matryoshka_absorption.py run end to end at their --quick size, and measure what
their docstrings say (the times add up; the absorption and probing numbers are ``evaluate_planted``'s own)."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def evals_speed():
    yield _load("evals_speed")
    sys.modules.pop("bench_evals_speed", None)


@pytest.fixture
def matryoshka_absorption():
    yield _load("matryoshka_absorption")
    sys.modules.pop("bench_matryoshka_absorption", None)


def test_evals_speed_quick_times_every_piece_of_evaluate_planted(evals_speed, monkeypatch, capsys):
    from saewidgets.evals import planted

    originals = {name: getattr(planted, name) for name in evals_speed.PIECES}
    seen = []
    run = evals_speed.run
    monkeypatch.setattr(evals_speed, "run", lambda *a, **k: seen.extend(run(*a, **k)) or seen)
    assert evals_speed.main(["--quick", "--arch", "relu", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "x encode" in printed and "<= 60 s" in printed
    (row,) = seen
    assert row["arch"] == "relu" and row["docs"] == evals_speed.QUICK["eval_docs"][0] and row["tokens"] > 1000
    # the wrapped pieces are the calls evaluate_planted makes: each ran, and with "other" they add up to the total
    for column in ("labels", "truth", "probing", "absorption", "autointerp"):
        assert row[column] > 0, column
    assert sum(row[c] for c in evals_speed.COLUMNS) == pytest.approx(row["total"])
    assert 0 <= row["other"] < 0.1 * row["total"]
    assert row["encode"] > 0 and row["harvest"] > 0
    assert {name: getattr(planted, name) for name in originals} == originals  # unwrapped again


def test_matryoshka_absorption_quick_reports_evaluate_planteds_numbers(
    matryoshka_absorption, monkeypatch, capsys
):
    from saewidgets.evals.planted import evaluate_planted

    bench = matryoshka_absorption
    seen = {}
    measure = bench.measure

    def spy(model, corpus, acts, configs, saes, *args):
        seen.update(
            model=model,
            corpus=corpus,
            acts=acts,
            saes=saes,
            rows=measure(model, corpus, acts, configs, saes, *args),
        )
        return seen["rows"]

    monkeypatch.setattr(bench, "measure", spy)
    assert bench.main(["--quick", "--k", "8", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "at matched L0" in printed and "colour planted" in printed
    rows = seen["rows"]
    assert [(r["arch"], r["k"]) for r in rows] == [("batchtopk", 8), ("matryoshka", 8)]
    for r in rows:
        assert r["l0"] > 0 and 0 <= r["fvu"] <= 2
        for key in bench.KEYS:
            assert 0 <= r[f"colour:{key}"] <= 1 and 0 <= r[f"mean:{key}"] <= 1
    # the same calls as evaluate_planted, so the same numbers (its other metrics cost more than this check needs)
    result = evaluate_planted(
        seen["saes"][1], seen["acts"], seen["corpus"], seen["model"].tokenizer, n_latents=2
    )
    for parent in bench.PARENTS:
        for key in bench.KEYS:
            assert rows[1][f"{parent}:{key}"] == pytest.approx(result["absorption"][parent][key], nan_ok=True)
    for parent, probed in result["probing"].items():
        if parent.startswith("word:"):
            assert rows[1][f"f1@1:{parent[5:]}"] == pytest.approx(probed["sae"][1]["f1"])
    assert not any(math.isnan(rows[1][f"f1@1:{p}"]) for p in ("colour", "number"))


def test_matched_l0_interpolates_batchtopk_inside_its_range_only(matryoshka_absorption):
    bench = matryoshka_absorption
    keys = dict.fromkeys(bench.MATCHED, 0.0)
    rows = [
        {"arch": "batchtopk", "k": 8, "l0": 8.0, **keys, "mean:absorption_fraction": 0.4},
        {"arch": "batchtopk", "k": 32, "l0": 32.0, **keys, "mean:absorption_fraction": 0.2},
        {"arch": "matryoshka", "k": 16, "l0": 16.0, **keys, "mean:absorption_fraction": 0.1},
        {"arch": "matryoshka", "k": 64, "l0": 64.0, **keys},
    ]
    inside, outside = bench.matched(rows)
    assert inside["mean:absorption_fraction@batchtopk"] == pytest.approx(0.3)  # halfway in log L0
    assert inside["mean:absorption_fraction"] == 0.1
    assert np.isnan(outside["mean:absorption_fraction@batchtopk"])
    assert "0.100 / 0.300" in bench.format_matched([inside]) and "/ -" in bench.format_matched([outside])
