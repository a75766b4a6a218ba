"""bench/gpu_check.py: its CPU smoke run end to end (every check, the DDP launch included), the exit without
a GPU, and the judgements its checks make."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "bench" / "gpu_check.py"
ARCHITECTURES = ["relu", "gated", "topk", "batchtopk", "jumprelu"]
# what the broken KV cache generated (issue 13), and the storyteller's known greedy story
GARBAGE = (
    "Once upon a time, Jack built a little cottage that in Finn shared a daisy been plan Nina rescued "
    "the the compost closely petals crawled pirate took the the the the the the the the"
)
STORY = (
    'Once upon a time, Jack built a little cottage. He was happy. "Can I help?" asked Nina. They ate '
    "the cake and went home. The"
)


def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run_script(*args: str, timeout: float, **env: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", **env)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.mark.slow
def test_cpu_smoke_run_passes_every_check_within_90_s(tmp_path):
    proc = run_script("--cpu-smoke", "--json", str(tmp_path / "out" / "gpu.json"), timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    data = json.loads((tmp_path / "out" / "gpu.json").read_text())
    assert [c["name"] for c in data["checks"]] == [
        "device",
        "matmul",
        *(f"train/{a}" for a in ARCHITECTURES),
        "gradients",
        "ddp",
        "generate",
    ]
    assert data["ok"] and all(c["ok"] for c in data["checks"]) and data["mode"] == "cpu-smoke"
    assert data["total_seconds"] < 90
    got = {c["name"]: c["numbers"] for c in data["checks"]}
    assert got["device"]["default_device"] == got["device"]["sae_device"] == "cpu"
    assert got["matmul"]["dtype"] == "float32"  # the smoke run makes no bf16 claim
    for arch in ARCHITECTURES:
        numbers = got[f"train/{arch}"]
        assert numbers["tokens_per_s"] > 0 and 0 < numbers["matmul_fraction"] < 1.5, (arch, numbers)
    ddp = got["ddp"]
    assert (ddp["backend"], ddp["world"]) == ("gloo", 2)
    assert set(ddp["max_replica_diff"].values()) == {0.0}  # every tensor of relu (it resampled) and batchtopk
    assert got["generate"]["sentences"] >= 3 and got["generate"]["steered"] != got["generate"]["unsteered"]
    table = proc.stdout[proc.stdout.index("\ncheck ") + 1 :]  # the summary: a row per check, then the total
    rows = [line.split()[:2] for line in table.splitlines()[1:]]
    assert rows == [[c["name"], "PASS"] for c in data["checks"]] + [["total", "PASS"]]


def test_without_a_gpu_it_exits_2_and_says_what_to_do(tmp_path):
    proc = run_script("--json", str(tmp_path / "gpu.json"), timeout=120, CUDA_VISIBLE_DEVICES="")
    assert proc.returncode == 2
    assert "No CUDA GPU is visible" in proc.stderr and "--cpu-smoke" in proc.stderr
    assert not (tmp_path / "gpu.json").exists()


def test_sentence_count_tells_a_story_from_a_broken_cache():
    count = gpu_check().count_sentences
    assert count(GARBAGE) == 0
    assert count(STORY) == 4  # the unfinished "The" is not a sentence
    assert count('"Look!" said Tom. "A boat?" The end.') == 3


def test_a_failing_check_is_a_failed_row_and_a_nonzero_exit(capsys):
    mod = gpu_check()

    def broken():
        raise RuntimeError("expected dtype float for `end` but got dtype c10::BFloat16")

    passed = mod.run_check("fine", lambda: mod.Result("fine", True, "all good"))
    failed = mod.run_check("train/batchtopk", broken)
    assert passed.ok and not failed.ok and failed.name == "train/batchtopk"
    assert failed.detail.startswith("RuntimeError: expected dtype float")
    assert mod.exit_code([passed]) == 0 and mod.exit_code([passed, failed]) == 1 and mod.exit_code([]) == 1
    table = mod.summary([passed, failed], total=1.0).splitlines()
    assert table[2].split()[:2] == ["train/batchtopk", "FAIL"] and table[-1].split()[:2] == ["total", "FAIL"]
