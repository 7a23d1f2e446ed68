"""Per-sample gradient signatures of the cross-entropy loss.

Three paths give the same (N, P) matrix:
  final_layer_closed_form  the final layer only: (softmax - onehot) outer h, and the bias
  torch_func_signatures    any parameter subset, via functional_call + vmap(grad)
  loop_signatures          one backward pass per sample; the test oracle (and what the
                           paper's script does)
Column order is the order of `parameter_names(model, where)`, each parameter
flattened row-major.

Scaling (`signatures`): samples are processed in batches, so at most one batch of full
per-sample gradients (batch x P floats, capped by max_floats) exists at a time, and the
result is written into one preallocated (N, D) array. With projection_dim = d, each
batch is multiplied by a seeded Gaussian Johnson-Lindenstrauss matrix R (P x d, entries
N(0, 1/d)) and D = d; R is generated block by block (PROJECTION_BLOCK_ROWS rows per
sub-seed, see projection_rows) and never held whole.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

SIGNATURE_WHERE = ("fc_weight", "fc", "all")  # final weight; final weight + bias; every parameter


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


def _per_sample_grad_fn(model: nn.Module, names: Sequence[str]):
    """(fn, wrt): fn(wrt, X, y) -> {name: (B, *shape)} per-sample gradients via torch.func."""
    params = dict(model.named_parameters())
    wrt = {n: params[n].detach() for n in names}
    frozen = {n: p.detach() for n, p in params.items() if n not in wrt}

    def sample_loss(w, x, target):
        logits = functional_call(model, {**frozen, **w}, (x[None],))
        return F.cross_entropy(logits, target[None])

    return vmap(grad(sample_loss), in_dims=(None, 0, 0)), wrt


def torch_func_signatures(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                          names: Sequence[str], chunk_size: int = 1024) -> torch.Tensor:
    """(N, P) per-sample gradients for the named parameters, in chunks of chunk_size."""
    per_sample, wrt = _per_sample_grad_fn(model, names)
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


# ---------------------------------------------------------------- random projection

PROJECTION_BLOCK_ROWS = 4096  # rows of R drawn from one sub-seed (fixed: R must not depend
#                               on how a caller slices it)


def _block_generator(seed: int, block: int) -> torch.Generator:
    """Independent CPU stream for row block `block` of the projection with this seed."""
    state = np.random.SeedSequence([int(seed), int(block)]).generate_state(1, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state[0]) >> 1)


def projection_rows(start: int, stop: int, dim: int, seed: int) -> torch.Tensor:
    """Rows start..stop-1 of the Gaussian JL matrix R (entries N(0, 1/dim)), float32 on CPU.

    Row i depends only on (seed, i, dim), so any slicing gives the rows of the same R;
    only the blocks covering [start, stop) are generated.
    """
    if not 0 <= start <= stop or dim < 1:
        raise ValueError(f"rows [{start}, {stop}) with dim={dim}: need 0 <= start <= stop, dim >= 1")
    parts = []
    first, last = start // PROJECTION_BLOCK_ROWS, (stop - 1) // PROJECTION_BLOCK_ROWS
    for block in range(first, last + 1 if stop > start else first):
        rows = torch.randn(PROJECTION_BLOCK_ROWS, dim, generator=_block_generator(seed, block))
        lo = max(start - block * PROJECTION_BLOCK_ROWS, 0)
        hi = min(stop - block * PROJECTION_BLOCK_ROWS, PROJECTION_BLOCK_ROWS)
        parts.append(rows[lo:hi])
    out = torch.cat(parts) if parts else torch.empty(0, dim)
    return out / math.sqrt(dim)  # (stop - start, dim)


def projection_matrix(n_rows: int, dim: int, seed: int) -> torch.Tensor:
    """The whole (n_rows, dim) projection at once (tests and small problems only)."""
    return projection_rows(0, n_rows, dim, seed)


def project(G: torch.Tensor, dim: int, seed: int, offset: int = 0) -> torch.Tensor:
    """(B, dim) = G (B, P) @ R[offset:offset + P], R generated one row block at a time."""
    out = torch.zeros(G.shape[0], dim, dtype=G.dtype, device=G.device)
    for lo in range(0, G.shape[1], PROJECTION_BLOCK_ROWS):
        hi = min(lo + PROJECTION_BLOCK_ROWS, G.shape[1])
        R = projection_rows(offset + lo, offset + hi, dim, seed).to(G.device, G.dtype)
        out += G[:, lo:hi] @ R
    return out


# ---------------------------------------------------------------- the entry point

DEFAULT_BATCH = {"closed_form": 4096, "torch_func": 1024, "loop": 1024}  # samples per batch
MAX_FLOATS = 2 ** 26  # cap on batch x P per-sample gradient floats held at once (256 MB)


def _batch_rows(method: str, n_params: int, batch_size: int | None, max_floats: int) -> int:
    """Samples per batch: the method's default (or batch_size), capped so that one batch
    of full per-sample gradients holds at most max_floats numbers."""
    size = batch_size or DEFAULT_BATCH[method]
    return max(1, min(size, max_floats // max(n_params, 1)))


def _batch_gradients(method: str, model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                     names: list[str], projection_dim: int | None,
                     projection_seed: int) -> torch.Tensor:
    """(B, P), or (B, projection_dim) when projecting, for one batch."""
    if method == "closed_form":
        G = final_layer_closed_form(model, X, y, include_bias=len(names) == 2,
                                    batch_size=max(len(X), 1))
    elif method == "loop":
        G = loop_signatures(model, X, y, names)
    else:
        per_sample, wrt = _per_sample_grad_fn(model, names)
        g = per_sample(wrt, X, y)  # {name: (B, *shape)}: the batch's only full gradients
        pieces = [g[n].reshape(len(X), -1).detach() for n in names]
        if projection_dim is None:
            return torch.cat(pieces, dim=1)
        out, offset = 0, 0  # project parameter by parameter: no (B, P) concatenation
        for piece in pieces:
            out = out + project(piece, projection_dim, projection_seed, offset)
            offset += piece.shape[1]
        return out
    G = G.detach()
    return G if projection_dim is None else project(G, projection_dim, projection_seed)


def signatures(model: nn.Module, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
               where: str | Sequence[str] = "fc", method: str = "auto",
               device: str | torch.device = "cpu", projection_dim: int | None = None,
               projection_seed: int = 0, batch_size: int | None = None,
               max_floats: int = MAX_FLOATS) -> np.ndarray:
    """(N, P) float64 gradient signatures, computed in eval mode, batch by batch.

    method: "auto" (closed form for the final layer, torch.func otherwise),
    "closed_form", "torch_func" or "loop". projection_dim: None keeps all P columns;
    an integer d returns (N, d) = signatures @ R with R the seeded Gaussian JL matrix
    (projection_rows), never materialising (N, P). batch_size: samples per batch
    (default DEFAULT_BATCH[method]), capped so that batch x P <= max_floats. device:
    where the model and the computation live ("cpu", the tested default, or "cuda");
    the projection is drawn on the CPU, so it is the same on every device.
    """
    names = parameter_names(model, where)
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, dtype=torch.int64, device=device)
    final_only = names in (["final.weight"], ["final.weight", "final.bias"])
    if method == "auto":
        method = "closed_form" if final_only else "torch_func"
    if method not in DEFAULT_BATCH:
        raise ValueError(f"method={method!r} is invalid: allowed 'auto', 'closed_form', "
                         f"'torch_func', 'loop'")
    if method == "closed_form" and not final_only:
        raise ValueError(f"method='closed_form' needs where in ('fc_weight', 'fc'), "
                         f"got parameters {names}")
    if projection_dim is not None and projection_dim < 1:
        raise ValueError(f"projection_dim={projection_dim} is invalid: allowed None or >= 1")
    params = dict(model.named_parameters())
    n_params = sum(params[n].numel() for n in names)
    rows = _batch_rows(method, n_params, batch_size, max_floats)
    out = np.empty((len(Xt), projection_dim or n_params), dtype=np.float64)  # (N, D)
    was_training = model.training
    model.eval()
    try:
        for sl in _batches(len(Xt), rows):
            G = _batch_gradients(method, model, Xt[sl], yt[sl], names, projection_dim,
                                 projection_seed)
            out[sl] = G.cpu().double().numpy()
    finally:
        model.train(was_training)
    return out
