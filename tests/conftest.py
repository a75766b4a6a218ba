"""Shared fixtures. Tests never touch the network: HF_HUB_OFFLINE is set before anything imports."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def model():
    from saewidgets import load_model

    return load_model("storyteller", device="cpu")


@pytest.fixture(scope="session")
def corpus():
    from saewidgets import load_corpus

    return load_corpus("storyteller", n_docs=64, seed=0)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Offline first: any connection beyond loopback during a test is a failure."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def sea_sae(model):
    """A toy SAE (d_sae 8) whose latent 0 writes the unembedding direction of ' sea': steering with it
    at the last layer visibly makes a story about the sea (or, too strong, 'sea sea sea')."""
    import saewidgets as sw

    W_U = model.original_model.lm_head.weight.detach()  # [vocab, d_model]
    sea = model.tokenizer(" sea", add_special_tokens=False)["input_ids"][0]
    torch.manual_seed(0)
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
    with torch.no_grad():
        sae.W_dec[0] = W_U[sea] / W_U[sea].norm()
    return sae
