import json
import subprocess
import sys

from saewidgets.cli import main

SMALL = [
    "--n-docs",
    "60",
    "--n-tokens",
    "3000",
    "--sae-tokens",
    "8192",
    "--d-sae",
    "64",
    "--eval-docs",
    "10",
    "--ce-docs",
    "4",
]


def test_demo_runs_offline_and_writes_frontier_and_saes(tmp_path, capsys):
    from saewidgets import load_sae

    assert main(["demo", *SMALL, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "harvest   3,000 tokens" in out and "generate  Once upon a time" in out
    assert "architecture knob" in out and out.count("jumprelu     l0_coefficient") == 4
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_tokens"] == 3000 and summary["d_model"] == 128
    assert summary["greedy_sample"].startswith("Once upon a time")
    frontier = json.loads((tmp_path / "frontier.json").read_text())
    names = [p["name"] for p in frontier["points"]]
    assert len(names) == 11
    assert {p["architecture"] for p in frontier["points"]} == {"relu", "jumprelu", "matryoshka"}
    assert all({"l0", "fvu", "delta_ce", "dead_fraction"} <= set(p) for p in frontier["points"])
    sae = load_sae(tmp_path / "saes" / names[0])
    assert (
        sae.cfg.d_sae == 64
        and sae.hook_name == "blocks.1.hook_resid_post"
        and sae.model_name == "storyteller"
    )
    assert (tmp_path / "saes" / names[0] / "sparsity.safetensors").is_file()


def test_demo_without_saes(capsys):
    assert main(["demo", "--n-docs", "20", "--sae-tokens", "0"]) == 0
    assert "architecture knob" not in capsys.readouterr().out


def test_demo_reports_bad_input_clearly(capsys):
    assert main(["demo", "--n-docs", "5", "--hook", "blocks.1.hook_resid_pots"]) == 2
    err = capsys.readouterr().err
    assert "Closest valid names: blocks.1.hook_resid_post" in err


def test_harvest_command_writes_a_cache(tmp_path):
    from saewidgets import CachedActivations

    assert main(["harvest", "--n-docs", "20", "--n-tokens", "1000", "--cache-dir", str(tmp_path / "c")]) == 0
    assert len(CachedActivations(tmp_path / "c")) == 1000


def test_console_script_entry_point():
    out = subprocess.run([sys.executable, "-m", "saewidgets.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "demo" in out.stdout
