"""S models of one architecture as one module: parameters stacked on a leading seed axis.

StackedModel.from_models(models) holds, for every parameter of the single model, one
tensor of shape (S, *shape) whose row s is seed s's parameter; inputs are
(S, B, input_dim) and outputs (S, B, n_classes). Every seed's arithmetic is the arithmetic of its model alone, so that a
stacked training step gives each seed bitwise the gradient it gets when trained alone:

  Linear   one batched matmul (baddbmm / bmm) for all seeds, with the backward formulas
           of a single nn.Linear (see _StackedLinear): checked bitwise in tests.
  Conv2d   one convolution call per seed: a grouped (or vmapped) convolution over the
           seeds runs other oneDNN kernels and rounds differently (measured: up to 1e-6
           in the output and 3e-4 in the weight gradient), so it is not used.
  ReLU, MaxPool2d  elementwise / per image plane: applied per seed with the model's own
           modules.
Adam and SGD are elementwise, so one optimizer over the stacked parameters is S
independent optimizers (tests/test_batched.py checks it bitwise, with weight decay).
"""

from __future__ import annotations

import copy
import math
from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from .models import MLP, LinearProbe, SmallCNN

STACKABLE = (MLP, LinearProbe, SmallCNN)
INFERENCE_FLOATS = 2 ** 19  # float32 activations of one inference block: 2 MB, in cache


# Two ways a batched matmul can round differently from the single model's mm / addmm:
# 1. torch's bmm / baddbmm compute a product with contraction x rows x cols below
#    SMALL_PRODUCT with their own loop (aten/native/LinearAlgebra.cpp,
#    bmm_out_or_baddbmm_), not with the BLAS call mm / addmm make (seen: 1 or 2 rows into
#    6 features, up to 6 rows into 32 -> 2). Such products go seed by seed through mm.
# 2. MKL's sgemm rounds differently when an operand or the output does not start on a
#    16-byte boundary (seen for inputs and outputs, offsets of 1 or 2 floats; never for
#    offsets of 4 or 8). A single run's tensors always start aligned (torch allocates on
#    64 bytes, NumPy on 16), but seed s of a stacked (S, B, D) tensor starts s * B * D
#    floats in. Operands whose seeds are not all aligned are copied into a layout whose
#    seed stride is padded to ALIGN_BYTES, and outputs are written into one.
SMALL_PRODUCT = 400
ALIGN_BYTES = 64


def _small(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape[1] * a.shape[2] * b.shape[2] < SMALL_PRODUCT


def _seeds_aligned(t: torch.Tensor) -> bool:
    """Does every seed slice t[s] start on a 16-byte boundary?"""
    return t.data_ptr() % 16 == 0 and (t.stride(0) * t.element_size()) % 16 == 0


def _empty_padded(shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """Uninitialised (S, *rest), row-major within a seed, seed stride padded so that every
    seed starts on an ALIGN_BYTES boundary (the buffer itself is allocated aligned)."""
    per_seed = math.prod(shape[1:])
    step = ALIGN_BYTES // like.element_size()
    stride = -(-per_seed // step) * step
    inner = [math.prod(shape[i + 1:]) for i in range(1, len(shape))]
    buf = torch.empty(shape[0] * stride, dtype=like.dtype, device=like.device)
    return buf.as_strided(shape, (stride, *inner))


def _aligned(t: torch.Tensor) -> torch.Tensor:
    """t if its seeds start aligned, else a padded copy (t row-major within each seed)."""
    if _seeds_aligned(t):
        return t
    out = _empty_padded(tuple(t.shape), t)
    out.copy_(t)
    return out


def _out(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The output of a (S, n, k) @ b (S, k, m), allocated with aligned seeds."""
    shape = (a.shape[0], a.shape[1], b.shape[2])
    if (shape[1] * shape[2] * a.element_size()) % 16 == 0:
        return torch.empty(shape, dtype=a.dtype, device=a.device)
    return _empty_padded(shape, a)


def _bmm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a (S, n, k) @ b (S, k, m), each seed's product as torch.mm computes it. a and b
    must have aligned seeds (_aligned, before any transpose)."""
    if _small(a, b):
        return torch.stack([torch.mm(x, y) for x, y in zip(a, b)])
    return torch.bmm(a, b, out=_out(a, b))


def _baddbmm(bias: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """bias (S, m) + a (S, n, k) @ b (S, k, m), each seed's as torch.addmm computes it."""
    if _small(a, b):
        return torch.stack([torch.addmm(c, x, y) for c, x, y in zip(bias, a, b)])
    return torch.baddbmm(bias.unsqueeze(1), a, b, out=_out(a, b))


class _StackedLinear(torch.autograd.Function):
    """x @ W^T + b for S seeds: x (S, B, I), weight (S, O, I), bias (S, O) -> (S, B, O).

    The backward uses the formulas autograd uses for one nn.Linear on a 2-D input
    (addmm on the transposed weight): dx = g W, dW = g^T x (g^T a transposed view),
    db = g summed over the batch. torch's own baddbmm backward forms dW as (x^T g)^T
    instead, which rounds differently from the single model for some shapes (seen for
    6 input features), so the seeds would drift apart from their single runs.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        x, weight = _aligned(x), _aligned(weight)
        ctx.save_for_backward(x, weight)
        return _baddbmm(bias, x, weight.transpose(1, 2))  # (S, B, O)

    @staticmethod
    def backward(ctx, g):  # g (S, B, O)
        x, weight = ctx.saved_tensors
        g = _aligned(g)
        gx = _bmm(g, weight) if ctx.needs_input_grad[0] else None  # (S, B, I)
        gw = _bmm(g.transpose(1, 2), x) if ctx.needs_input_grad[1] else None  # (S, O, I)
        gb = g.sum(1) if ctx.needs_input_grad[2] else None  # (S, O)
        return gx, gw, gb


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return _StackedLinear.apply(x, weight, bias)


class StackedModel(nn.Module):
    """S copies of one architecture (MLP, LinearProbe or SmallCNN) with per-seed weights.

    Build with from_models. parameters() come in the single model's order, each
    (S, *shape); param_names[i] is the single model's name of the i-th one. unstack(s)
    rebuilds seed s's nn.Module.
    """

    def __init__(self, template: nn.Module, param_names: Sequence[str],
                 tensors: Sequence[torch.Tensor]):
        super().__init__()
        if not isinstance(template, STACKABLE):
            raise ValueError(f"cannot stack a {type(template).__name__}: allowed "
                             f"{[c.__name__ for c in STACKABLE]}")
        # layout and stateless modules only; kept out of the module tree, so its own
        # parameters are neither trained nor moved
        object.__setattr__(self, "template", template)
        self.param_names = list(param_names)
        self.stacked = nn.ParameterList([nn.Parameter(t) for t in tensors])  # each (S, *shape)
        self.n_seeds = len(tensors[0])

    @classmethod
    def from_models(cls, models: Sequence[nn.Module]) -> "StackedModel":
        """Stack S models of one architecture (seed s = models[s]); copies the weights."""
        if not models:
            raise ValueError("models is empty: allowed one or more models of one architecture")
        layout = [(n, p.shape) for n, p in models[0].named_parameters()]
        for m in models[1:]:
            if type(m) is not type(models[0]) or \
                    [(n, p.shape) for n, p in m.named_parameters()] != layout:
                raise ValueError("models differ in architecture: all must be built from one "
                                 "ModelConfig")
        names = [n for n, _ in layout]
        tensors = [torch.stack([dict(m.named_parameters())[n].detach() for m in models])
                   for n in names]
        return cls(copy.deepcopy(models[0]).requires_grad_(False), names, tensors)

    def _param(self, name: str, seeds: slice | None) -> torch.Tensor:
        p = self.stacked[self.param_names.index(name)]
        return p if seeds is None else p[seeds]

    def features(self, x: torch.Tensor, seeds: slice | None = None) -> torch.Tensor:
        """(S, B, input_dim) -> (S, B, H): the final layer's input, per seed. seeds: the
        seeds x holds (a slice of the stack), None for all."""
        t = self.template
        if isinstance(t, LinearProbe):
            return x
        if isinstance(t, MLP):
            h = x
            for i, layer in enumerate(t.body):
                if isinstance(layer, nn.Linear):
                    h = stacked_linear(h, self._param(f"body.{i}.weight", seeds),
                                       self._param(f"body.{i}.bias", seeds))
                else:
                    h = layer(h)  # ReLU: elementwise
            return h
        return self._cnn_features(x, seeds)

    def _cnn_features(self, x: torch.Tensor, seeds: slice | None) -> torch.Tensor:
        t = self.template
        # per seed (B, C, side, side), exactly SmallCNN.features' reshape, each seed's
        # input aligned as a single run's is
        hs = [xs.reshape(len(xs), t.in_channels, t.side, t.side) for xs in _aligned(x).unbind(0)]
        for i, layer in enumerate(t.body):
            if isinstance(layer, nn.Conv2d):
                ws = self._param(f"body.{i}.weight", seeds).unbind(0)
                bs = self._param(f"body.{i}.bias", seeds).unbind(0)
                hs = [F.conv2d(h, w, b, layer.stride, layer.padding, layer.dilation, layer.groups)
                      for h, w, b in zip(hs, ws, bs)]
            else:
                hs = [layer(h) for h in hs]  # ReLU, MaxPool2d: the model's own modules
        return torch.stack([h.flatten(1) for h in hs])  # (S, B, channels * (side / 2)^2)

    def final(self, h: torch.Tensor, seeds: slice | None = None) -> torch.Tensor:
        """(S, B, H) -> (S, B, n_classes) logits of the final layer."""
        return stacked_linear(h, self._param("final.weight", seeds),
                              self._param("final.bias", seeds))

    def forward(self, x: torch.Tensor, seeds: slice | None = None) -> torch.Tensor:
        return self.final(self.features(x, seeds), seeds)  # (S, B, n_classes)

    def width(self) -> int:
        """The widest activation of one sample (inputs excluded): sizes inference blocks."""
        t = self.template
        if isinstance(t, SmallCNN):
            side, widths = t.side, []
            for layer in t.body:
                if isinstance(layer, nn.Conv2d):
                    widths.append(layer.out_channels * side * side)
                elif isinstance(layer, nn.MaxPool2d):
                    side //= 2
            return max(widths)
        return max(p.shape[1] for p in self.stacked if p.dim() == 3)  # Linear out_features

    def seed_blocks(self, n_rows: int) -> list[slice]:
        """Slices of seeds whose activations on n_rows samples fit in INFERENCE_FLOATS:
        inference a block at a time stays in cache (measured 2x faster than all seeds at
        once for the MLP on 1,000 samples)."""
        step = max(1, INFERENCE_FLOATS // max(n_rows * self.width(), 1))
        return [slice(lo, min(lo + step, self.n_seeds)) for lo in range(0, self.n_seeds, step)]

    def unstack(self, s: int) -> nn.Module:
        """Seed s's model as a plain nn.Module (a copy: training it leaves the stack alone)."""
        model = copy.deepcopy(self.template).requires_grad_(True).to(self.stacked[0].device)
        with torch.no_grad():
            for (name, p), stacked in zip(model.named_parameters(), self.stacked):
                p.copy_(stacked[s])
        return model
