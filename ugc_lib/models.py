"""Models: the paper's MLP, the Fig. 4 linear probe, and a small CNN (C12).

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


class SmallCNN(nn.Module):
    """The C12 "more complex model": a few 3x3 convolutions on a (C, side, side) image.

    Takes the flat input (B, C * side * side), reshapes it to (B, C, side, side); one
    3x3 conv (padding 1) + ReLU per entry of `channels`, a 2x2 max-pool after the first;
    flatten -> final Linear. features(x) is the flattened conv output (B, channels[-1] *
    (side / 2)^2), the final layer's input, as for the other models.
    """

    def __init__(self, input_dim: int, channels: tuple[int, ...], n_classes: int, side: int):
        super().__init__()
        if input_dim % (side * side):
            raise ValueError(f"input_dim={input_dim} is not C x {side} x {side} for "
                             f"model.image_side={side}: allowed a multiple of {side * side}")
        self.side = side
        self.in_channels = input_dim // (side * side)
        layers: list[nn.Module] = []
        width = self.in_channels
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(width, int(c), kernel_size=3, padding=1), nn.ReLU()]
            if i == 0:
                layers.append(nn.MaxPool2d(2))
            width = int(c)
        self.body = nn.Sequential(*layers)
        self.final = nn.Linear(width * (side // 2) ** 2, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        image = x.reshape(len(x), self.in_channels, self.side, self.side)  # (B, C, side, side)
        return self.body(image).flatten(1)  # (B, channels[-1] * (side / 2)^2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final(self.features(x))  # (B, n_classes) logits


def build_model(cfg: ModelConfig, input_dim: int) -> nn.Module:
    if cfg.kind == "mlp":
        return MLP(input_dim, tuple(cfg.hidden_dims), cfg.n_classes)
    if cfg.kind == "linear":
        return LinearProbe(input_dim, cfg.n_classes)
    if cfg.kind == "cnn":
        return SmallCNN(input_dim, tuple(cfg.cnn_channels), cfg.n_classes, cfg.image_side)
    raise ValueError(f"model.kind={cfg.kind!r} is invalid: allowed 'mlp', 'linear', 'cnn'")
