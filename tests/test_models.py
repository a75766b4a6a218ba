import os
import subprocess
import sys
import time

import pytest
import torch

from saewidgets import load_model
from saewidgets.models import OfflineError, check_hook, default_device, hook_layer, hook_names


def test_storyteller_has_transformerlens_hooks_and_api(model):
    names = hook_names(model)
    for layer in range(model.cfg.n_layers):
        for site in ("hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_mlp_out", "hook_attn_out"):
            assert f"blocks.{layer}.{site}" in names
    assert model.cfg.n_layers >= 2 and 128 <= model.cfg.d_model <= 256 and model.cfg.n_ctx >= 128
    tokens = model.to_tokens("Once upon a time")
    assert tokens[0, 0].item() == model.tokenizer.bos_token_id
    assert model.to_string(tokens[0, 1:]) == "Once upon a time"
    logits, cache = model.run_with_cache(tokens)
    assert logits.shape == (1, tokens.shape[1], model.cfg.d_vocab)
    assert cache["blocks.1.hook_resid_post"].shape == (1, tokens.shape[1], model.cfg.d_model)


def test_storyteller_generates_from_prompt(model):
    with torch.no_grad():
        out = model.generate("Once upon a time", max_new_tokens=20, do_sample=False, verbose=False)
    assert out.startswith("Once upon a time") and len(out.split()) > 8


def test_default_device_is_cpu_here():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type in (expected, "mps")


def test_unknown_name_lists_available_models():
    with pytest.raises(ValueError, match="storyteller") as e:
        load_model("storytellr")
    assert "Did you mean 'storyteller'" in str(e.value) and "gpt2-small" in str(e.value)


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        load_model(tmp_path)


def test_local_checkpoint_folder_loads(model):
    from saewidgets.zoo import STORYTELLER_DIR

    again = load_model(str(STORYTELLER_DIR), device="cpu")
    tokens = model.to_tokens("The cat sat.")
    with torch.no_grad():
        assert torch.allclose(again(tokens), model(tokens), atol=1e-5)


@pytest.mark.parametrize("name", ["gelu-1l", "tiny-stories-1M", "pythia-70m-deduped", "gpt2-small"])
def test_hub_name_offline_fails_fast_with_a_clear_message(name, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # empty: a machine that has the model cached loads it
    t = time.perf_counter()
    with pytest.raises(OfflineError, match="storyteller") as e:
        load_model(name)
    # The failure mode this guards against is the hub client's ~23 s of retries.
    assert time.perf_counter() - t < 5
    assert "not reachable" in str(e.value)


def test_hub_name_without_offline_flag_still_fails_fast_here(tmp_path):
    # No HF_HUB_OFFLINE: the package's own 1.5 s reachability probe must answer for it. The endpoint
    # points at a closed local port so the test means the same on a machine with network.
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    env["HF_HUB_CACHE"] = str(tmp_path)  # empty, as above
    code = (
        "import time,saewidgets\nt=time.perf_counter()\ntry:\n saewidgets.load_model('gelu-1l')\n"
        "except Exception as e:\n print(type(e).__name__, round(time.perf_counter()-t,2))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    kind, seconds = out.stdout.split()
    assert kind == "OfflineError" and float(seconds) < 5, out.stdout + out.stderr


def test_check_hook_suggests_closest_names(model):
    with pytest.raises(ValueError, match="blocks.1.hook_resid_post"):
        check_hook("blocks.1.hook_resid_pots", hook_names(model))
    with pytest.raises(ValueError, match="hook_resid_post"):
        check_hook("resid_post", hook_names(model))
    assert hook_layer("blocks.3.hook_mlp_out") == 3 and hook_layer("ln_final.hook_out") is None


def test_bad_name_type():
    with pytest.raises(TypeError, match="model name"):
        load_model(42)


def test_parameter_count_matches_the_model_card(model):
    import json

    from saewidgets.models import n_parameters
    from saewidgets.zoo import STORYTELLER_DIR

    card = json.loads((STORYTELLER_DIR / "training.json").read_text())
    assert n_parameters(model) == card["n_params"] == 1_310_720
