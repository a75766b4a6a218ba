"""`saewidgets eval DIR...` (saewidgets/evaluation.py, eval_page.py): eval.json's numbers, the offline page, and
the errors for what is not an SAE. Two small TopK SAEs alike, one trained and one as built, saved with save_sae
(each costs ~20 s of planted metrics on 150 documents, most of it the raw-activation probes)."""

import json
import math
import re

import pytest
from eval_saes import HOOK, HOSTILE, run_eval, save_two_saes

import saewidgets as sw
from saewidgets.cli import main
from saewidgets.evaluation import LoadedSAE, _stability
from saewidgets.metric_info import EVAL_METRICS, SUMMARY_KEYS
from saewidgets.widgets.frontier_plot import HIGHER_IS_BETTER, LABELS

FRACTIONS = ("dead_fraction", "dense_fraction", *SUMMARY_KEYS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, model):
    root = tmp_path_factory.mktemp("saes")
    return root, save_two_saes(root, model)


@pytest.fixture(scope="module")
def evaluated(saved, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    return out, run_eval(saved[1], out)


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def test_eval_json_holds_every_metric_of_every_sae(evaluated, saved):
    _, result = evaluated
    assert set(result) == {"model", "hooks", "corpus", "settings", "saes", "stability", "seconds"}
    assert result["model"] == "storyteller" and result["hooks"] == [HOOK]
    corpus = result["corpus"]
    assert corpus["n_docs"] == 150 and corpus["seed"] == 3000 and corpus["n_tokens"][HOOK] > 5000
    assert [s["name"] for s in result["saes"]] == [HOSTILE, "untrained"]
    assert [s["path"] for s in result["saes"]] == saved[1]
    for s in result["saes"]:
        assert s["hook"] == HOOK and s["d_sae"] == 256 and s["n_tokens"] == corpus["n_tokens"][HOOK]
        for key in FRACTIONS:
            assert s[key] is None or 0 <= s[key] <= 1, (s["name"], key, s[key])
        for key in ("l0", "fvu", "delta_ce", "truth_f1", "probing_f1_k1", "autointerp"):
            assert math.isfinite(s[key]), (s["name"], key)
        assert s["details"]["concepts"] and s["details"]["autointerp"]["n_scored"] >= 10
        assert "dialogue" in s["details"]["concepts"]
    trained, untrained = result["saes"]
    assert trained["k"] == 8 and trained["l0"] <= 8.0 + 1e-9 and trained["architecture"] == "topk"
    assert trained["fvu"] < 0.5 < untrained["fvu"]  # training reconstructs; a fresh SAE does not
    assert trained["delta_ce"] < untrained["delta_ce"] and trained["truth_f1"] > untrained["truth_f1"]
    # JSON proper: no NaN (it would not parse in a browser), only plain numbers
    assert all(math.isfinite(v) for v in _numbers(result))


def test_stability_of_the_pair_alike(evaluated):
    _, result = evaluated
    assert len(result["stability"]) == 1
    pair = result["stability"][0]
    assert (pair["a"], pair["b"], pair["architecture"], pair["d_sae"]) == (HOSTILE, "untrained", "topk", 256)
    for key in ("shared", "random_baseline", "mean_cosine", "random_mean_cosine"):
        assert 0 <= pair[key] <= 1
    assert pair["random_baseline"] == 0.0


def test_stability_pairs_only_saes_of_one_architecture_width_and_hook():
    def sae(arch, d_sae, seed=0):
        return sw.build_sae(
            sw.SAEConfig(arch, d_in=8, d_sae=d_sae, **({"k": 2} if arch == "topk" else {})), seed
        )

    saes = [
        LoadedSAE("a", "a", sae("topk", 16), HOOK),
        LoadedSAE("relu", "relu", sae("relu", 16), HOOK),
        LoadedSAE("wider", "wider", sae("topk", 32), HOOK),
        LoadedSAE("elsewhere", "elsewhere", sae("topk", 16), "blocks.0.hook_resid_post"),
        LoadedSAE("b", "b", sae("topk", 16, seed=1), HOOK),
        LoadedSAE("same", "same", sae("topk", 16), HOOK),  # a copy of a: every latent shared
    ]
    pairs = _stability(saes, seed=0, log=lambda line: None)
    assert [(p["a"], p["b"]) for p in pairs] == [("a", "b"), ("a", "same"), ("b", "same")]
    assert pairs[1]["shared"] == 1.0 and pairs[0]["shared"] < 1.0


def test_the_page_is_offline_and_escapes_every_name(evaluated):
    out, result = evaluated
    page = (out / "eval.html").read_text(encoding="utf-8")
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp and "default-src 'none'" in csp.group(1)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert len(re.findall(r'<div [^>]*data-saew-widget data-saew-name="frontier"', page)) == 1
    assert "<b>" not in page and "topk &lt;b&gt;bold&lt;b&gt; &amp; &quot;quoted&quot;" in page
    # the plot's state: every SAE a point, truth F1 on y, every summary metric in the menu
    state = json.loads(
        re.search(r'<script type="application/json" id="saew-state-\d+">(.*?)</script>', page).group(1)
    )
    assert [p["name"] for p in state["points"]] == [s["name"] for s in result["saes"]]
    assert state["y_metric"] == "truth_f1" and set(SUMMARY_KEYS) <= set(state["_metrics"])
    assert {k for k, up in SUMMARY_KEYS.items() if up} <= set(state["_higher_is_better"])
    assert "absorption" not in state["_higher_is_better"]
    for key in ("l0", "fvu", "delta_ce", "dead_fraction", "stability", *SUMMARY_KEYS):  # the meanings
        assert f"<dt>{key}</dt>" in page


def test_the_frontier_plot_knows_the_eval_metrics():
    assert {k for k, up in SUMMARY_KEYS.items() if up} <= HIGHER_IS_BETTER
    assert not {k for k, up in SUMMARY_KEYS.items() if not up} & HIGHER_IS_BETTER
    assert all(LABELS[k] == m.label for k, m in EVAL_METRICS.items())


def test_a_folder_that_is_not_an_sae_is_named_with_what_it_holds(saved, tmp_path, capsys):
    root, folders = saved
    (tmp_path / "notes.txt").write_text("not an SAE")
    assert main(["eval", folders[1], str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saewidgets eval: ") and f"{tmp_path} is not a SAE folder" in err
    assert "cfg.json" in err and "notes.txt" in err
    # the folder above the SAEs (saes/ rather than saes/*): it says which to pass
    assert main(["eval", str(root)]) == 2
    err = capsys.readouterr().err
    assert "holds 2 of them" in err and f"saewidgets eval {root}/*" in err
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert "missing does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_no_folder_and_no_hook_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval"])
    assert exc.value.code == 2 and "DIR" in capsys.readouterr().err
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=16))
    folder = sw.save_sae(sae, tmp_path / "hookless")
    assert main(["eval", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "hookless: its files name no hook" in err and "--hook" in err
