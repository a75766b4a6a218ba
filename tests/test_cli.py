import json
import subprocess
import sys

from saewidgets.cli import main


def test_demo_runs_offline_and_writes_a_summary(tmp_path, capsys):
    assert main(["demo", "--n-docs", "60", "--n-tokens", "3000", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "harvest   3,000 tokens" in out and "generate  Once upon a time" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_tokens"] == 3000 and summary["d_model"] == 128
    assert summary["greedy_sample"].startswith("Once upon a time")


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
