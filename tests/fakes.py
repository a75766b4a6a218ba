"""Stand-in SAEs whose activations are known exactly, for testing the analyses that read an SAE's latents."""

import torch


class TableSAE(torch.nn.Module):
    """encode(x) looks up fixed activations by row id: x[:, 0] is the row, ``acts`` [n_rows, d_sae]."""

    def __init__(self, acts):
        super().__init__()
        self.register_buffer("table", torch.as_tensor(acts, dtype=torch.float32))
        self.W_dec = torch.nn.Parameter(torch.zeros(self.table.shape[1], 1))

    def encode(self, x):
        return self.table[x[:, 0].long()]


class ReluSAE(torch.nn.Module):
    """encode(x) = relu(x): every activation row is its own latent vector (d_sae = d_in)."""

    def __init__(self, d):
        super().__init__()
        self.W_dec = torch.nn.Parameter(torch.eye(d))

    def encode(self, x):
        return torch.relu(x)
