"""Models: the paper's MLP and the Fig. 4 linear probe.

Every model exposes `features(x)` (the input of the final layer) and `final`
(the final nn.Linear), which the closed-form gradient signatures rely on.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


class MLP(nn.Module):
    """Linear(d, h1) -> ReLU -> ... -> Linear(h_last, n_classes)."""

    def __init__(self, input_dim: int, hidden_dims: tuple[int, ...], n_classes: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for h in hidden_dims:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.final = nn.Linear(width, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, h_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(self.features(x))  # (B, n_classes) logits


class LinearProbe(nn.Module):
    """A linear classifier on the raw input: the paper's Fig. 4 "linear probe"."""

    def __init__(self, input_dim: int, n_classes: int):
        super().__init__()
        self.final = nn.Linear(input_dim, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(x)


def build_model(cfg: ModelConfig, input_dim: int) -> nn.Module:
    if cfg.kind == "mlp":
        return MLP(input_dim, tuple(cfg.hidden_dims), cfg.n_classes)
    if cfg.kind == "linear":
        return LinearProbe(input_dim, cfg.n_classes)
    raise ValueError(f"model.kind={cfg.kind!r} is invalid: allowed 'mlp', 'linear'")
