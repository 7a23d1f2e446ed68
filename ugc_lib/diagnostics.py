"""Diagnostics behind notebooks 01-04, 08 and 13-14: data descriptions, warm-up reliance on s,
cluster profiles, the C14 scrambled-s check and reference recovery scores (no figures,
verdicts or study grids).

Everything here is deterministic given its seeds, and reads only public pieces of the
library: data, train.fit / train.predict, metrics, objectives.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm

from . import stored_checks
from .config import DataConfig, RunConfig, get_preset
from .data import GROUP_NAMES, GROUP_ORDER, SPLITS, Dataset, make_dataset, make_synthetic
from .metrics import recovery, split_metrics
from .objectives import FeatureMagnitude
from .runner import run
from .studies import ONE_CLUSTER, Y_ONLY
from .train import fit, predict


# ---------------------------------------------------------------- 01: the data

def group_count_frame(cfg: DataConfig, seeds: Sequence[int]) -> pd.DataFrame:
    """One row per (seed, split): n, the four (y, s) group counts, P(s = y), P(y = 1)."""
    rows = []
    for seed in seeds:
        ds = make_synthetic(cfg, seed)
        for split in SPLITS:
            part = ds[split]
            g = part.groups
            rows.append({"seed": seed, "split": split, "n": len(part),
                         **{GROUP_NAMES[k]: int((g == k).sum()) for k in range(4)},
                         "p_s_eq_y": float((part.s == part.y).mean()),
                         "p_y1": float(part.y.mean())})
    return pd.DataFrame(rows)


def bayes_table(cfg: DataConfig) -> pd.DataFrame:
    """Analytic error rates of three rules on this data (balanced y, core ~ N(c y, I_d)).

    The log-likelihood ratio of the core features is N(+-m, 2m) with m = c^2 d / 2, that
    of s is +-L with L = log(rho / (1 - rho)). Rules: "core only" (Bayes on the core),
    "core + s" (the full Bayes rule), "s only" (predict y = s). Columns: error on the
    majority (s = y) and minority (s != y) samples, overall error, WGA(y,s) = 1 - the
    worse of the two, and WGA(s) (each value of s holds a fraction rho of majority
    samples, so it equals overall accuracy here). z-scoring is affine, so it changes
    none of these.
    """
    c, d, rho = cfg.core_shift, cfg.core_dim, cfg.spurious_corr
    m, sd = c * c * d / 2, c * np.sqrt(d)
    L = np.log(rho / (1 - rho)) if 0 < rho < 1 else np.inf
    rules = {"core only (Bayes on core)": (norm.cdf(-m / sd), norm.cdf(-m / sd)),
             "core + s (full Bayes)": (norm.cdf((-L - m) / sd), norm.cdf((L - m) / sd)),
             "s only (predict y = s)": (0.0, 1.0)}
    rows = []
    for name, (e_maj, e_min) in rules.items():
        overall = rho * e_maj + (1 - rho) * e_min
        rows.append({"rule": name, "err_majority": e_maj, "err_minority": e_min,
                     "err_overall": overall, "WGA(y,s)": 1 - max(e_maj, e_min),
                     "WGA(s)": 1 - overall})
    return pd.DataFrame(rows)


def simple_rule_frame(cfg: DataConfig, seeds: Sequence[int], split: str = "test") -> pd.DataFrame:
    """Empirical metrics of two fixed rules on one split: "core midpoint" (predict 1 when
    the mean z-scored core feature is > 0, close to the core-only Bayes rule) and
    "s only". One row per (seed, rule), with metrics.split_metrics columns (loss = nan)."""
    rows = []
    for seed in seeds:
        part = make_synthetic(cfg, seed)[split]
        preds = {"core midpoint": (part.core.mean(1) > 0).astype(np.int64), "s only": part.s}
        for rule, pred in preds.items():
            rows.append({"seed": seed, "rule": rule,
                         **split_metrics(pred, part.y, part.s, float("nan"))})
    return pd.DataFrame(rows)


def feature_frame(ds: Dataset, split: str = "train") -> pd.DataFrame:
    """Long frame (sample, feature, value, group) of the model input X for one split."""
    part = ds[split]
    cols = [f"core{j}" for j in range(part.core.shape[1])] + ["s"] * (part.X.shape[1] -
                                                                     part.core.shape[1])
    wide = pd.DataFrame(part.X, columns=cols)
    wide["core mean"] = part.core.mean(1)
    wide["group"] = pd.Categorical([GROUP_NAMES[g] for g in part.groups], GROUP_ORDER)
    return wide.reset_index(names="sample").melt(id_vars=["sample", "group"],
                                                 var_name="feature", value_name="value")


# ---------------------------------------------------------------- 02: the warm-up model

def flip_s(X: np.ndarray) -> np.ndarray:
    """(N, d) copy of X with the last input column (s in {0, 1}) replaced by 1 - s."""
    out = np.array(X, copy=True)
    out[:, -1] = 1 - out[:, -1]
    return out


@torch.no_grad()
def logit_margin(model: torch.nn.Module, X: np.ndarray, device) -> np.ndarray:
    """(N,) logit(y = 1) - logit(y = 0) in eval mode."""
    model.eval()
    z = model(torch.as_tensor(np.asarray(X, dtype=np.float32), device=device))
    return (z[:, 1] - z[:, 0]).cpu().double().numpy()


def reliance_metrics(model: torch.nn.Module, X: np.ndarray, y: np.ndarray, s: np.ndarray,
                     device) -> dict:
    """How much predictions depend on s (the last input column).

    flip_rate: share of samples whose predicted class changes when s is flipped;
    s_effect: mean change of the logit margin (class 1 - class 0) when s goes 0 -> 1;
    margin_abs: mean |logit margin| (the scale s_effect is to be read against);
    acc_minority / acc_majority: accuracy on s != y / s = y.
    """
    base, flipped = logit_margin(model, X, device), logit_margin(model, flip_s(X), device)
    pred = (base > 0).astype(np.int64)
    sign = np.where(np.asarray(X)[:, -1] > 0.5, 1.0, -1.0)  # +1 when s = 1 in the input
    minority = np.asarray(s) != np.asarray(y)
    correct = pred == np.asarray(y)
    return {"flip_rate": float(((flipped > 0) != (base > 0)).mean()),
            "s_effect": float((sign * (base - flipped)).mean()),
            "margin_abs": float(np.abs(base).mean()),
            "acc_minority": float(correct[minority].mean()),
            "acc_majority": float(correct[~minority].mean())}


def warmup_frame(configs: Sequence[RunConfig], seeds: Sequence[int]) -> pd.DataFrame:
    """One row per (config, seed, split) after training each config with train.fit.

    Columns: preset, train.lr, seed, split, the metrics.split_metrics columns (acc,
    wga_s, wga_ys, loss, acc_y*s*) and the reliance_metrics columns.
    """
    rows = []
    for cfg in configs:
        for seed in seeds:
            ds = make_dataset(cfg.data, seed)
            out = fit(cfg, ds.train.X, ds.train.y, seed, progress=False)
            for split in SPLITS:
                part = ds[split]
                pred, loss = predict(out["model"], part.X, part.y, out["device"])
                rows.append({"preset": cfg.name, "train.lr": cfg.train.lr, "seed": seed,
                             "split": split, **split_metrics(pred, part.y, part.s, loss),
                             **reliance_metrics(out["model"], part.X, part.y, part.s,
                                                out["device"])})
    return pd.DataFrame(rows)


def reliance_points(cfg: RunConfig, seed: int, split: str = "test") -> pd.DataFrame:
    """Per sample of one split: mean z-scored core feature, s, group, P(y = 1) with the
    real s and with s flipped, for the model train.fit gives for (cfg, seed)."""
    ds = make_dataset(cfg.data, seed)
    out = fit(cfg, ds.train.X, ds.train.y, seed, progress=False)
    part = ds[split]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    return pd.DataFrame({
        "core mean": part.core.mean(1), "s": part.s,
        "group": pd.Categorical([GROUP_NAMES[g] for g in part.groups], GROUP_ORDER),
        "P(y=1)": sig(logit_margin(out["model"], part.X, out["device"])),
        "P(y=1), s flipped": sig(logit_margin(out["model"], flip_s(part.X), out["device"]))})


# ---------------------------------------------------------------- 04: the clusters

def warmup_signatures(cfg: RunConfig, seed: int) -> dict:
    """train.fit on the training split: dataset, signatures G (N, P), clusters (N,) and the
    fitted model's training predictions (N,)."""
    ds = make_dataset(cfg.data, seed)
    out = fit(cfg, ds.train.X, ds.train.y, seed, progress=False)
    pred, _ = predict(out["model"], ds.train.X, ds.train.y, out["device"])
    return {"dataset": ds, "signatures": out["signatures"], "clusters": out["clusters"],
            "pred": pred}


def cluster_crosstab(clusters: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """(cluster x (y, s) group) counts, with margins."""
    g = pd.Categorical([GROUP_NAMES[int(v)] for v in groups], GROUP_ORDER)
    return pd.crosstab(pd.Series(clusters, name="cluster"), pd.Series(g, name="group"),
                       margins=True, dropna=False)


def cluster_profile(G: np.ndarray, clusters: np.ndarray, y: np.ndarray, s: np.ndarray,
                    pred: np.ndarray) -> pd.DataFrame:
    """One row per cluster: size, mean signature norm |g|, and the shares of y = 1, s = 1,
    minority (s != y) and misclassified (pred != y) samples in it. G (N, P); the rest (N,)."""
    df = pd.DataFrame({"cluster": clusters, "norm": np.linalg.norm(G, axis=1), "y1": y == 1,
                       "s1": s == 1, "minority": s != y, "wrong": pred != y})
    out = df.groupby("cluster").agg(size=("norm", "size"), mean_grad_norm=("norm", "mean"),
                                    share_y1=("y1", "mean"), share_s1=("s1", "mean"),
                                    share_minority=("minority", "mean"),
                                    share_misclassified=("wrong", "mean"))
    return out.round(3)


def cluster_size_frame(records: Sequence[dict]) -> pd.DataFrame:
    """One row per run record: preset, k, seed, and the smallest cluster's share of the
    training set."""
    rows = []
    for rec in records:
        sizes = np.bincount(np.asarray(rec["clusters"]))
        rows.append({"preset": rec["config"]["name"], "grouping.k": rec["config"]["grouping"]["k"],
                     "seed": rec["seed"], "smallest_cluster_share": sizes.min() / sizes.sum()})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- 04, 12: C14 (no group labels)

def scrambled_dataset(ds: Dataset, seed: int) -> Dataset:
    """ds with every split's s label array replaced by random 0/1 garbage.

    X (which holds s as its last column, as in the paper) is left unchanged: only the
    group-label array, which the method must never read, is scrambled.
    """
    rng = np.random.default_rng(seed)
    return Dataset(**{name: dataclasses.replace(ds[name], s=rng.integers(0, 2, len(ds[name])),
                                                X=ds[name].X.copy()) for name in SPLITS})


@stored_checks.stored("c14_check", helpers=(scrambled_dataset,))
def c14_check(cfg: RunConfig, seed: int, garbage_seed: int = 10_000) -> dict:
    """Train the full config twice with train.fit, handing it the true groups built
    from the real s and then from garbage s (X and y unchanged); compare everything.

    Returns booleans: clusters / signatures / final weights / val+test predictions
    identical, and the share of training s labels the garbage changed. The answer is kept
    in the results store (stored_checks.py), so rendering reads it instead of training.
    """
    ds = make_dataset(cfg.data, seed)
    bad = scrambled_dataset(ds, garbage_seed + seed)
    a = fit(cfg, ds.train.X, ds.train.y, seed, true_groups=ds.train.groups, progress=False)
    b = fit(cfg, bad.train.X, bad.train.y, seed, true_groups=bad.train.groups, progress=False)
    sa, sb = a["model"].state_dict(), b["model"].state_dict()
    preds = all(np.array_equal(predict(a["model"], ds[n].X, ds[n].y, a["device"])[0],
                               predict(b["model"], bad[n].X, bad[n].y, b["device"])[0])
                for n in SPLITS)
    return {"s_changed": float((ds.train.s != bad.train.s).mean()),
            "clusters_identical": bool(np.array_equal(a["clusters"], b["clusters"])),
            "signatures_identical": bool(np.array_equal(a["signatures"], b["signatures"])),
            "weights_identical": all(torch.equal(sa[k], sb[k]) for k in sa),
            "predictions_identical": bool(preds)}


def c14_checks(presets: Sequence[str], seeds: Sequence[int], **dotted) -> pd.DataFrame:
    """c14_check for each preset (with optional dotted overrides) and seed, as a frame."""
    return pd.DataFrame([{"preset": p, "seed": seed,
                          **c14_check(get_preset(p).with_updates(**dotted), seed)}
                         for p in presets for seed in seeds])


# ---------------------------------------------------------------- 08: input-feature weights

def feature_weight_spread(configs: Sequence[RunConfig], seeds: Sequence[int]) -> pd.DataFrame:
    """Smallest and largest normalised input-feature weight of each feature_weight run."""
    rows = []
    for cfg in configs:
        if cfg.objective.method != "feature_weight":
            continue
        for seed in seeds:
            clusters = np.asarray(run(cfg, seed)["clusters"])
            X = make_dataset(cfg.data, seed).train.X
            w = FeatureMagnitude(clusters, X, cfg.objective).weights.numpy()
            w = w / w.mean()
            rows.append({"preset": cfg.name, "seed": seed, "w_min": float(w.min()),
                         "w_max": float(w.max())})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- 13-14: reference partitions

def reference_rows(configs: Sequence[RunConfig], seeds: Sequence[int]) -> pd.DataFrame:
    """Recovery scores that need no training, on each config's training set per seed.

    Y_ONLY: the partition by the label y alone (what per-class clusters get for free);
    ONE_CLUSTER: every sample in one group (the floor of the minority F1, 2p / (1 + p)
    for a minority share p). Rows carry the preset and the data.* columns of the config.
    """
    rows, seen = [], set()
    for cfg in configs:
        key = (cfg.name, json.dumps(asdict(cfg.data), sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        base = {"preset": cfg.name, **{f"data.{k}": v for k, v in asdict(cfg.data).items()}}
        for seed in seeds:
            train = make_dataset(cfg.data, seed).train
            for name, labels in ((Y_ONLY, train.y), (ONE_CLUSTER, np.zeros_like(train.y))):
                rec = recovery(labels, train.y, train.s)
                rows.append({**base, "method": name, "seed": seed,
                             **{f"rec_{k}": v for k, v in rec.items()}})
    return pd.DataFrame(rows)
