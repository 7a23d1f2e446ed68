"""Train S seeds of one RunConfig as one stacked model; records equal to run_experiment's.

run_batched(cfg, seeds) returns, for each seed, the record train.run_experiment(cfg, seed)
returns: same data (data.make_dataset per seed), same initial weights (seed_everything
then models.build_model, as train.fit draws them), same batch order (one
torch.Generator per seed), same pseudo-groups, and every seed's arithmetic done as in
its single run: the same BLAS calls on operands aligned as a single run's are
(stacked.py), convolutions seed by seed, the same k-means labels (fast_kmeans.py), the
same metrics (metrics.split_metrics_batched, cluster_scores.py). So the records agree
bitwise (tests/test_batched.py, on the pinned torch / MKL). Only "timings" differ: each
record holds the batch's phase times divided by S, the amortised cost of one run.

The summed loss sum_s loss_s gives each seed's parameters exactly its own gradient, and
Adam / SGD are elementwise, so one optimizer over the stacked parameters is S optimizers.
batch_problem(cfg) says why a config cannot be batched (runner.sweep then runs it alone).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .batched_grouping import infer_groups_batched
from .config import RunConfig
from .data import Dataset, make_dataset
from .metrics import split_metrics_batched
from .models import build_model
from .objectives import ERM, GroupDRO, Objective, StaticWeights, get_method
from .repro import resolve_device, seed_everything, seed_rngs
from .stacked import StackedModel
from .train import make_optimizer, make_record, progress_disabled

StackedEpochCallback = Callable[[int, str, StackedModel], None]  # (epoch, phase, stack)


class CannotBatch(ValueError):
    """The seeds of this config cannot be trained as one stack (the message says why)."""


def _loss_kind(method: type[Objective]) -> str | None:
    """"mean", "weights" or "dro": whose batch_loss StackedObjective reproduces; None if
    the method computes its batch loss some other way."""
    if method is ERM:
        return "mean"
    if issubclass(method, StaticWeights) and method.batch_loss is StaticWeights.batch_loss:
        return "weights"
    if issubclass(method, GroupDRO) and method.batch_loss is GroupDRO.batch_loss \
            and method.group_losses is GroupDRO.group_losses:
        return "dro"
    return None


def batch_problem(cfg: RunConfig) -> str | None:
    """Why cfg cannot be trained as a stack of seeds, or None when it can."""
    method = get_method(cfg.objective.method)
    name = f"objective.method={cfg.objective.method!r}"
    if method.retrains_model:
        return f"{name} retrains a fresh model after the warm-up, which the stack does not do"
    if method.last_layer_only:
        return f"{name} retrains the final layer on held-out validation rows, seed by seed"
    if method.resamples:
        return (f"{name} trains on resampled rows whose number differs by seed (its error "
                f"set or subsample), so the seeds' epochs differ in length")
    if cfg.grouping.source == "grasp" and cfg.grouping.dbscan_noise == "drop":
        return ("grouping.source='grasp' with dbscan_noise='drop' leaves each seed's noise "
                "rows out of the robust phase, so the seeds' epochs differ in length")
    if _loss_kind(method) is None:
        return (f"objective.method={cfg.objective.method!r}: {method.__name__} has its own "
                f"batch_loss, which StackedObjective does not reproduce")
    if cfg.model.kind not in ("mlp", "linear", "cnn"):
        return f"model.kind={cfg.model.kind!r} has no stacked form"
    return None


class StackedObjective:
    """S objectives (objectives.py instances, one per seed, one class) on (S, B) losses.

    batch_loss returns sum_s (seed s's batch loss), each computed with the expressions of
    the class's own batch_loss, so each seed's gradient is its single run's.
    """

    def __init__(self, objectives: Sequence[Objective], device: torch.device):
        self.objectives = list(objectives)
        self.kind = _loss_kind(type(self.objectives[0]))
        if self.kind is None or any(type(o) is not type(self.objectives[0])
                                    for o in self.objectives):
            raise ValueError(f"cannot stack objectives {[type(o).__name__ for o in objectives]}: "
                             f"allowed one class whose batch loss is ERM's, StaticWeights' or "
                             f"GroupDRO's")
        n_seeds = len(self.objectives)
        self.rows = torch.arange(n_seeds, device=device)[:, None]  # (S, 1)
        if self.kind == "weights":
            self.weights = torch.stack([o.weights for o in self.objectives]).to(device)  # (S, N)
        elif self.kind == "dro":
            self.n_groups = [o.n_groups for o in self.objectives]  # may differ by seed
            width = max(self.n_groups)  # seeds with fewer groups are padded with q = 0
            self.width = width
            self.groups = torch.stack([o.groups for o in self.objectives]).to(device)  # (S, N)
            self.offset = self.rows * width  # (S, 1): seed s's groups are s*width + g
            self.q = torch.zeros(n_seeds, width, device=device)  # (S, width)
            for s, o in enumerate(self.objectives):
                self.q[s, :o.n_groups] = o.q
            self.eta = self.objectives[0].cfg.dro_eta

    def batch_loss(self, losses: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """losses (S, B) per-sample losses, index (S, B) training-set indices per seed."""
        if self.kind == "mean":
            return losses.mean(1).sum()
        if self.kind == "weights":
            return (self.weights[self.rows, index] * losses).mean(1).sum()
        # GroupDRO.group_losses and batch_loss, for all seeds in one flat group axis
        g = (self.groups[self.rows, index] + self.offset).flatten()  # (S * B,)
        total = self.q.numel()
        sums = torch.zeros(total, dtype=losses.dtype, device=losses.device
                           ).index_add(0, g, losses.flatten())
        counts = torch.bincount(g, minlength=total).to(losses.dtype)
        group_loss = (sums / counts.clamp(min=1)).view_as(self.q)  # (S, width)
        with torch.no_grad():
            q = self.q * torch.exp(self.eta * group_loss.detach())
            self.q = self._normalise(q)
        return (self.q * group_loss).sum()

    def _normalise(self, q: torch.Tensor) -> torch.Tensor:
        """q / q.sum() per seed, summing exactly the seed's own groups (not the padding)."""
        if all(n == self.width for n in self.n_groups):
            return q / q.sum(1, keepdim=True)
        out = q.clone()
        for n in set(self.n_groups):
            sel = torch.tensor([m == n for m in self.n_groups], device=q.device)
            part = q[sel, :n]
            out[sel, :n] = part / part.sum(1, keepdim=True)
        return out

    def states(self) -> list[dict]:
        """Each seed's objective.state(), with Group DRO's q written back first."""
        if self.kind == "dro":
            for s, o in enumerate(self.objectives):
                o.q = self.q[s, :o.n_groups].cpu()
        return [o.state() for o in self.objectives]


def _train_epoch(stack: StackedModel, opt: torch.optim.Optimizer, X: torch.Tensor,
                 y: torch.Tensor, objective: StackedObjective, batch_size: int,
                 generators: Sequence[torch.Generator]) -> None:
    """train.train_epoch for S seeds: X (S, N, D), y (S, N), one generator per seed."""
    stack.train()  # (gathers go through index_select: advanced indexing is ~10x slower)
    n_seeds, n = X.shape[:2]
    order = torch.stack([torch.randperm(n, generator=g) for g in generators]
                        ).to(X.device)  # (S, N): each seed's own permutation
    flat_order = order + objective.rows * n  # (S, N) rows of X viewed as (S * N, D)
    X_flat, y_flat = X.flatten(0, 1), y.flatten()
    for start in range(0, n, batch_size):
        idx = order[:, start:start + batch_size]  # (S, B)
        rows = flat_order[:, start:start + batch_size].flatten()  # (S * B,)
        logits = stack(X_flat.index_select(0, rows).view(*idx.shape, -1))  # (S, B, C)
        losses = F.cross_entropy(logits.flatten(0, 1), y_flat.index_select(0, rows),
                                 reduction="none").view(idx.shape)  # (S, B)
        loss = objective.batch_loss(losses, idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def fit_batched(cfg: RunConfig, Xs: Sequence[np.ndarray], ys: Sequence[np.ndarray],
                seeds: Sequence[int], true_groups: Sequence[np.ndarray] | None = None,
                on_epoch: StackedEpochCallback | None = None,
                progress: bool | None = None) -> dict:
    """train.fit for S seeds at once (Xs[s], ys[s]: seed s's training set, one shape).

    Returns the StackedModel, per-seed clusters, signature norms and objective states,
    and the batch's timings.
    """
    problem = batch_problem(cfg)
    if problem is not None:
        raise CannotBatch(f"cannot batch this config: {problem}")
    if not seeds or len(Xs) != len(seeds) or len(ys) != len(seeds):
        raise ValueError("Xs, ys and seeds must have one entry per seed, and at least one")
    if len({x.shape for x in Xs}) != 1:
        raise CannotBatch(f"the seeds' training sets differ in shape "
                          f"({sorted({x.shape for x in Xs})}): one stack needs one shape")
    device = resolve_device(cfg.train.device)
    method = get_method(cfg.objective.method)
    if method.uses_true_groups and true_groups is None:
        raise ValueError(f"objective.method={cfg.objective.method!r} needs the true groups")
    seed_everything(seeds[0], cfg.train.threads)  # threads, deterministic algorithms
    models = []
    for seed in seeds:  # each seed's weights from the RNG state train.fit builds them in
        seed_rngs(seed, cpu_only=True)  # the weights are drawn on the CPU
        models.append(build_model(cfg.model, Xs[0].shape[1]))
    stack = StackedModel.from_models(models).to(device)
    opt = make_optimizer(stack, cfg)
    gens = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    X = torch.as_tensor(np.stack(Xs), device=device)  # (S, N, D)
    y = torch.as_tensor(np.stack(ys), device=device)  # (S, N)
    timings: dict[str, float] = {}
    epochs = range(1, cfg.train.total_epochs + 1)
    bar = None
    if not progress_disabled(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.train.total_epochs, desc=f"{cfg.name} x{len(seeds)} seeds",
                   leave=False)

    def run_epochs(objective, which, phase):
        t0 = time.perf_counter()
        for epoch in which:
            _train_epoch(stack, opt, X, y, objective, cfg.train.batch_size, gens)
            if on_epoch is not None:
                on_epoch(epoch, phase, stack)
            if bar is not None:
                bar.update(1)
        timings[phase] = time.perf_counter() - t0

    warm = StackedObjective([ERM(np.zeros(len(ys[0]), dtype=np.int64), x, cfg.objective)
                             for x in Xs], device)
    run_epochs(warm, epochs[:cfg.train.warmup_epochs], "warmup")

    norms, clusters, group_timings = infer_groups_batched(cfg.grouping, stack, X, y, Xs, ys,
                                                          list(seeds), device)
    timings.update(group_timings)
    groups = true_groups if method.uses_true_groups else clusters
    objective = StackedObjective([method(g, x, cfg.objective) for g, x in zip(groups, Xs)],
                                 device)
    if cfg.train.reset_optimizer:
        opt = make_optimizer(stack, cfg)
    run_epochs(objective, epochs[cfg.train.warmup_epochs:], "robust")
    if bar is not None:
        bar.close()
    return {"model": stack, "clusters": clusters, "signature_norms": norms,
            "timings": timings, "objective_states": objective.states(), "device": device}


def run_batched(cfg: RunConfig, seeds: Sequence[int],
                datasets: Sequence[Dataset] | None = None,
                progress: bool | None = None) -> list[dict]:
    """[train.run_experiment(cfg, seed) for seed in seeds], trained as one stack.

    Timings are the batch's divided by len(seeds): the amortised cost of one run.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        return []
    dss = list(datasets) if datasets is not None else [make_dataset(cfg.data, s) for s in seeds]
    device = resolve_device(cfg.train.device)
    histories: list[list[dict]] = [[] for _ in seeds]
    splits, labels, spurious = {}, {}, {}
    for name in ("train", "val", "test"):
        parts = [ds[name] for ds in dss]
        labels[name] = np.stack([p.y for p in parts])  # (S, n)
        spurious[name] = np.stack([p.s for p in parts])  # (S, n)
        splits[name] = (parts, torch.as_tensor(np.stack([p.X for p in parts]), device=device),
                        torch.as_tensor(labels[name], device=device))

    @torch.no_grad()
    def evaluate(epoch: int, phase: str, stack: StackedModel) -> None:
        stack.eval()
        for name, (parts, X, y) in splits.items():
            logits = torch.cat([stack(X[sl], sl) for sl in stack.seed_blocks(X.shape[1])])
            preds = logits.argmax(2).cpu().numpy()  # (S, n)
            # train.predict's loss F.cross_entropy(logits, y) is nll_loss(log_softmax(logits)):
            # the log-softmax row by row for all seeds at once, the mean per seed (a
            # batched mean would sum in another order)
            logp = F.log_softmax(logits.flatten(0, 1), dim=1).view_as(logits)  # (S, n, C)
            losses = [F.nll_loss(logp[s], y[s]).item() for s in range(len(parts))]
            rows = split_metrics_batched(preds, labels[name], spurious[name], losses)
            for history, row in zip(histories, rows):
                history.append({"epoch": epoch, "phase": phase, "split": name, **row})

    t0 = time.perf_counter()
    out = fit_batched(cfg, [ds.train.X for ds in dss], [ds.train.y for ds in dss], seeds,
                      true_groups=[ds.train.groups for ds in dss], on_epoch=evaluate,
                      progress=progress)
    total = time.perf_counter() - t0
    share = {k: v / len(seeds) for k, v in out["timings"].items()}
    return [make_record(cfg, seed, ds, history, clusters, norms, state, share,
                        total / len(seeds))
            for seed, ds, history, clusters, norms, state in
            zip(seeds, dss, histories, out["clusters"], out["signature_norms"],
                out["objective_states"])]
