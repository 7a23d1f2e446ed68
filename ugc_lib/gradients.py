"""Per-sample gradient signatures of the cross-entropy loss.

Three paths give the same (N, P) matrix:
  final_layer_closed_form  the final layer only: (softmax - onehot) outer h, and the bias
  torch_func_signatures    any parameter subset, via functional_call + vmap(grad)
  loop_signatures          one backward pass per sample; the test oracle (and what the
                           paper's script does)
Column order is the order of `parameter_names(model, where)`, each parameter
flattened row-major.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from .config import SIGNATURE_WHERE


def parameter_names(model: nn.Module, where: str | Sequence[str]) -> list[str]:
    """Names of the parameters a signature is taken over."""
    all_names = [n for n, _ in model.named_parameters()]
    if isinstance(where, str):
        if where == "fc_weight":
            return ["final.weight"]
        if where == "fc":
            return ["final.weight", "final.bias"]
        if where == "all":
            return all_names
        raise ValueError(f"where={where!r} is invalid: allowed {SIGNATURE_WHERE} "
                         f"or a list of parameter names")
    names = list(where)
    unknown = [n for n in names if n not in all_names]
    if unknown or not names:
        raise ValueError(f"unknown parameter names {unknown or names}: allowed {all_names}")
    return names


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


@torch.no_grad()
def final_layer_closed_form(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                            include_bias: bool = True, batch_size: int = 4096) -> torch.Tensor:
    """(N, C*H [+ C]) gradients of CE w.r.t. the final layer, one forward pass per batch."""
    out = []
    for sl in _batches(len(X), batch_size):
        h = model.features(X[sl])  # (B, H)
        p = F.softmax(model.final(h), dim=1)  # (B, C)
        delta = p - F.one_hot(y[sl], p.shape[1]).to(p.dtype)  # (B, C) dL/dlogits
        g_w = (delta[:, :, None] * h[:, None, :]).reshape(len(h), -1)  # (B, C*H)
        out.append(torch.cat([g_w, delta], dim=1) if include_bias else g_w)
    return torch.cat(out)


def torch_func_signatures(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                          names: Sequence[str], chunk_size: int = 1024) -> torch.Tensor:
    """(N, P) per-sample gradients for the named parameters, in chunks of chunk_size."""
    params = dict(model.named_parameters())
    wrt = {n: params[n].detach() for n in names}
    frozen = {n: p.detach() for n, p in params.items() if n not in wrt}

    def sample_loss(w, x, target):
        logits = functional_call(model, {**frozen, **w}, (x[None],))
        return F.cross_entropy(logits, target[None])

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))
    out = []
    for sl in _batches(len(X), chunk_size):
        g = per_sample(wrt, X[sl], y[sl])
        out.append(torch.cat([g[n].reshape(len(X[sl]), -1) for n in names], dim=1))
    return torch.cat(out)


def loop_signatures(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                    names: Sequence[str]) -> torch.Tensor:
    """(N, P) per-sample gradients, one backward pass per sample (slow; the oracle)."""
    params = dict(model.named_parameters())
    rows = []
    for i in range(len(X)):
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X[i:i + 1]), y[i:i + 1])
        grads = torch.autograd.grad(loss, [params[n] for n in names])
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def signatures(model: nn.Module, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
               where: str | Sequence[str] = "fc", method: str = "auto",
               device: str | torch.device = "cpu") -> np.ndarray:
    """(N, P) float64 gradient signatures, computed in eval mode.

    method: "auto" (closed form for the final layer, torch.func otherwise),
    "closed_form", "torch_func" or "loop".
    """
    names = parameter_names(model, where)
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, dtype=torch.int64, device=device)
    final_only = names in (["final.weight"], ["final.weight", "final.bias"])
    if method == "auto":
        method = "closed_form" if final_only else "torch_func"
    was_training = model.training
    model.eval()
    try:
        if method == "closed_form":
            if not final_only:
                raise ValueError(f"method='closed_form' needs where in ('fc_weight', 'fc'), "
                                 f"got parameters {names}")
            G = final_layer_closed_form(model, Xt, yt, include_bias=len(names) == 2)
        elif method == "torch_func":
            G = torch_func_signatures(model, Xt, yt, names)
        elif method == "loop":
            G = loop_signatures(model, Xt, yt, names)
        else:
            raise ValueError(f"method={method!r} is invalid: allowed 'auto', 'closed_form', "
                             f"'torch_func', 'loop'")
    finally:
        model.train(was_training)
    return G.detach().cpu().double().numpy()
