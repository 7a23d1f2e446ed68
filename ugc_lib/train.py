"""The UGC pipeline: ERM warm-up -> gradient signatures -> clusters -> robust phase.

`fit` sees only what the method may see: the training inputs X and labels y
(plus the true groups, for the oracles alone, and for DFR half of the validation set
with its groups). The spurious attribute s and the
group ids reach `run_experiment` only through the metrics callback, so C14 ("no
group labels") can be tested by scrambling them and checking the fit is unchanged.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import RunConfig
from .data import Dataset, Split, make_dataset
from .grouping import infer_groups
from .metrics import recovery, split_metrics
from .models import build_model
from .objectives import ERM, get_method
from .repro import resolve_device, seed_everything

EpochCallback = Callable[[int, str, nn.Module], None]  # (epoch, phase, model)
ModelFactory = Callable[[int, int], nn.Module]  # (input_dim, n_classes) -> untrained model
GroupFn = Callable[..., tuple]  # (model, X, y, seed, device) -> (signatures, labels, timings)


def progress_disabled(explicit: bool | None = None) -> bool:
    """Progress bars: the explicit choice if given; else UGC_NO_PROGRESS read as a boolean
    (1/true/yes/on disable, 0/false/no/off enable); else on only in a terminal (so never
    in CI logs or under nbval)."""
    if explicit is not None:
        return not explicit
    value = os.environ.get("UGC_NO_PROGRESS")
    if value is not None:
        v = value.strip().lower()
        if v in ("1", "true", "yes", "on"):
            return True
        if v in ("", "0", "false", "no", "off"):
            return False
        raise ValueError(f"UGC_NO_PROGRESS={value!r} is invalid: allowed 1/true/yes/on "
                         f"(no progress bars) or 0/false/no/off")
    return not sys.stderr.isatty()


def make_optimizer(model: nn.Module, cfg: RunConfig) -> torch.optim.Optimizer:
    """The config's optimizer over model's parameters (a module: DFR passes model.final)."""
    t = cfg.train
    if t.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)


def train_epoch(model: nn.Module, opt: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                objective, batch_size: int, generator: torch.Generator,
                rows: np.ndarray | None = None, penalty=None) -> None:
    """One epoch over X's rows in a random order, or over `rows` (indices into X, repeats
    allowed: upsampled or subsampled data) in a random order; penalty(model) is added to
    each batch loss when given."""
    model.train()
    if rows is None:
        order = torch.randperm(len(X), generator=generator).to(X.device)
    else:
        rows_t = torch.as_tensor(np.asarray(rows, dtype=np.int64))
        order = rows_t[torch.randperm(len(rows_t), generator=generator)].to(X.device)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        losses = F.cross_entropy(model(X[idx]), y[idx], reduction="none")  # (B,)
        loss = objective.batch_loss(losses, idx.cpu())
        if penalty is not None:
            loss = loss + penalty(model)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@torch.no_grad()
def predict(model: nn.Module, X: np.ndarray, y: np.ndarray,
            device: torch.device) -> tuple[np.ndarray, float]:
    """(predictions, mean cross-entropy) in eval mode."""
    model.eval()
    logits = model(torch.as_tensor(X, device=device))
    loss = F.cross_entropy(logits, torch.as_tensor(y, device=device)).item()
    return logits.argmax(1).cpu().numpy(), loss


def _erm_for(y: np.ndarray, X: np.ndarray, cfg: RunConfig) -> ERM:
    """The warm-up objective: plain ERM over every training sample."""
    return ERM(np.zeros(len(y), dtype=np.int64), X, cfg.objective)


def warmup(cfg: RunConfig, X: np.ndarray, y: np.ndarray, seed: int,
           device: str | torch.device = "cpu") -> nn.Module:
    """The model after cfg's warm-up epochs of ERM, exactly as fit draws it (same seed, same
    initialisation and batch order); the signatures of UGC are taken from it. Unlike fit,
    it leaves the thread settings alone, so a benchmark can time it under its own."""
    torch.manual_seed(seed)
    model = build_model(cfg.model, X.shape[1]).to(device)
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(seed)
    Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)
    erm = _erm_for(y, X, cfg)
    for _ in range(cfg.train.warmup_epochs):
        train_epoch(model, opt, Xt, yt, erm, cfg.train.batch_size, gen)
    return model


def fit(cfg: RunConfig, X: np.ndarray, y: np.ndarray, seed: int,
        true_groups: np.ndarray | None = None, on_epoch: EpochCallback | None = None,
        progress: bool | None = None, make_model: ModelFactory | None = None,
        group_fn: GroupFn | None = None,
        holdout: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> dict:
    """Train one UGC (or baseline) model. Returns the model, clusters, signatures, timings.

    true_groups is read only by a method with uses_true_groups (the oracles). holdout
    (X, y, true groups) is the data a last_layer_only method (DFR) retrains the final
    layer on, and is read by no other method. A retrains_model method (JTT) trains its
    robust phase from a fresh initialisation drawn from `seed`, as the warm-up's was.
    make_model(input_dim, n_classes) replaces build_model(cfg.model, ...) (called after
    seeding, so its initialisation is seeded too); group_fn(model, X, y, seed, device)
    -> (signatures, labels, timings) replaces infer_groups(cfg.grouping, ...). Both
    serve the estimators (ugc_lib.estimators) for any torch model and layer.
    """
    seed_everything(seed, cfg.train.threads)
    device = resolve_device(cfg.train.device)
    method = get_method(cfg.objective.method)
    if method.uses_true_groups and true_groups is None:
        raise ValueError(f"objective.method={cfg.objective.method!r} needs the true groups")
    if method.last_layer_only and holdout is None:
        raise ValueError(f"objective.method={cfg.objective.method!r} needs the holdout data "
                         f"(X, y, groups) its final layer is retrained on")

    def new_model() -> nn.Module:
        return (build_model(cfg.model, X.shape[1]) if make_model is None
                else make_model(X.shape[1], cfg.model.n_classes)).to(device)

    model = new_model()
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(seed)
    Xt = torch.as_tensor(X, device=device)
    yt = torch.as_tensor(y, device=device)
    timings: dict[str, float] = {}
    epochs = range(1, cfg.train.total_epochs + 1)
    bar = None
    if not progress_disabled(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.train.total_epochs, desc=f"{cfg.name} seed {seed}", leave=False)

    def run_epochs(objective, which, phase, data=(Xt, yt), rows=None, penalty=None):
        t0 = time.perf_counter()
        for epoch in which:
            train_epoch(model, opt, *data, objective, cfg.train.batch_size, gen, rows, penalty)
            if on_epoch is not None:
                on_epoch(epoch, phase, model)
            if bar is not None:
                bar.update(1)
        timings[phase] = time.perf_counter() - t0

    warm = epochs[:cfg.train.warmup_epochs]
    run_epochs(_erm_for(y, X, cfg), warm, "warmup")

    # Signatures and pseudo-groups (from grouping.source: the paper's gradient clusters by
    # default, or a baseline's, see grouping.SOURCES) are computed for every method (the
    # recovery metrics are reported for all), but only methods with needs_clusters train
    # on them. Neither step draws from the torch RNG, so baselines are unaffected.
    if group_fn is None:
        G, clusters, group_timings = infer_groups(cfg.grouping, model, X, y, seed, device)  # (N, P), (N,)
    else:
        G, clusters, group_timings = group_fn(model, X, y, seed, device)
    timings.update(group_timings)

    # A source may call some samples outliers (label -1: GRASP's noise points). They are
    # left out of the robust phase of a method that trains on the clusters, and form one
    # extra cluster id in the record.
    outliers = clusters < 0
    data, extra = (Xt, yt), {}
    if method.last_layer_only:  # DFR: the final layer alone, fresh, on the holdout data
        objective = method(holdout[2], holdout[0], cfg.objective, seed=seed)
        objective.epoch_size = len(X)  # as many rows per epoch as a training epoch
        data = (torch.as_tensor(holdout[0], device=device), torch.as_tensor(holdout[1], device=device))
        model.requires_grad_(False)
        torch.manual_seed(seed)
        model.final.reset_parameters()
        model.final.requires_grad_(True)
        opt = make_optimizer(model.final, cfg)
    else:
        groups = true_groups if method.uses_true_groups else np.where(outliers, 0, clusters)
        objective = method(groups, X, cfg.objective, seed=seed)
    rows = objective.rows()
    if outliers.any() and method.needs_clusters:
        rows = np.flatnonzero(~outliers) if rows is None else rows[~outliers[rows]]
        extra["n_outliers_dropped"] = int(outliers.sum())
    if outliers.any():
        clusters = np.where(outliers, clusters.max() + 1, clusters)
    if method.retrains_model:  # JTT: the final model starts from scratch, seeded as fit's first
        torch.manual_seed(seed)
        model = new_model()
        opt = make_optimizer(model, cfg)
    elif cfg.train.reset_optimizer and not method.last_layer_only:
        opt = make_optimizer(model, cfg)  # fresh moments: the robust loss may differ in scale
    run_epochs(objective, epochs[cfg.train.warmup_epochs:], "robust", data, rows,
               getattr(objective, "penalty", None))
    if bar is not None:
        bar.close()
    return {"model": model, "clusters": clusters, "signatures": G, "timings": timings,
            "objective_state": {**objective.state(), **extra}, "device": device}


def check_dataset_matches(cfg: RunConfig, ds: Dataset) -> None:
    """A dataset handed to run_experiment must be the one cfg.data describes, since the
    record stores cfg as the description of the data it ran on."""
    sizes = tuple(len(ds[name]) for name in ("train", "val", "test"))
    if sizes != tuple(cfg.data.split_sizes):
        raise ValueError(f"data.split_sizes={tuple(cfg.data.split_sizes)} does not match the "
                         f"dataset's (train, val, test) sizes {sizes}: for your own arrays use "
                         f"ugc_lib.UGCClassifier")
    if ds.train.X.shape[1] != cfg.data.input_dim:
        raise ValueError(f"data.input_dim={cfg.data.input_dim} does not match the dataset's "
                         f"{ds.train.X.shape[1]} input columns: for your own arrays use "
                         f"ugc_lib.UGCClassifier")


def halve(part: Split, seed: int) -> tuple[Split, Split]:
    """Two halves of a split, each (y, s) group divided evenly (the odd row to the first),
    drawn from seed: DFR retrains on the first and selects on the second."""
    rng = np.random.default_rng(seed)
    first = []
    for g in np.unique(part.groups):
        members = rng.permutation(np.flatnonzero(part.groups == g))
        first.append(members[:(len(members) + 1) // 2])
    mask = np.zeros(len(part), dtype=bool)
    mask[np.concatenate(first)] = True

    def take(m):
        return Split(part.X[m], part.y[m], part.s[m], part.core[m])
    return take(mask), take(~mask)


def run_experiment(cfg: RunConfig, seed: int, dataset: Dataset | None = None,
                   progress: bool | None = None) -> dict:
    """One run: data, fit, per-epoch metrics on every split. A JSON-able record."""
    ds = dataset if dataset is not None else make_dataset(cfg.data, seed)
    if dataset is not None:
        check_dataset_matches(cfg, dataset)
    history: list[dict] = []
    device = resolve_device(cfg.train.device)
    parts, holdout = {"train": ds.train, "val": ds.val, "test": ds.test}, None
    if get_method(cfg.objective.method).last_layer_only:  # DFR reads half of val, groups too
        fit_half, parts["val"] = halve(ds.val, seed)  # "val": the half kept for selection
        holdout = (fit_half.X, fit_half.y, fit_half.groups)

    def evaluate(epoch: int, phase: str, model: nn.Module) -> None:
        for split in ("train", "val", "test"):
            part = parts[split]
            pred, loss = predict(model, part.X, part.y, device)
            history.append({"epoch": epoch, "phase": phase, "split": split,
                            **split_metrics(pred, part.y, part.s, loss)})

    t0 = time.perf_counter()
    out = fit(cfg, ds.train.X, ds.train.y, seed, true_groups=ds.train.groups,
              on_epoch=evaluate, progress=progress, holdout=holdout)
    total = time.perf_counter() - t0
    norms = np.linalg.norm(out["signatures"], axis=1)  # (N,) signature lengths
    return make_record(cfg, seed, ds, history, out["clusters"], norms, out["objective_state"],
                       out["timings"], total)


def make_record(cfg: RunConfig, seed: int, ds: Dataset, history: list[dict],
                clusters: np.ndarray, signature_norms: np.ndarray, objective_state: dict,
                timings: dict[str, float], total: float) -> dict:
    """The JSON-able record of one run (shared by run_experiment and batched.run_batched)."""
    sizes = np.bincount(clusters)
    small = int(np.argmin(np.where(sizes > 0, sizes, len(clusters) + 1)))
    rest = clusters != small
    shape = {"smallest_cluster_frac": float(sizes[small] / len(clusters)),
             # how much longer the gradients of the smallest cluster are than the rest's
             "grad_norm_ratio_smallest":
                 float(signature_norms[~rest].mean() / signature_norms[rest].mean())
                 if rest.any() else None}
    final = {row["split"]: row for row in history if row["epoch"] == cfg.train.total_epochs}
    return {
        "config": cfg.to_dict(),
        "seed": int(seed),
        "history": history,
        "final": final,
        "clusters": clusters.tolist(),
        "recovery": {**recovery(clusters, ds.train.y, ds.train.s), **shape},
        "objective_state": objective_state,
        "timings": {**{k: round(v, 6) for k, v in timings.items()},
                    "total": round(total, 6)},
    }
