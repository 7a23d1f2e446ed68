"""Helpers for the exploratory notebooks 01 (data), 02 (warm-up) and 04 (clustering).

Everything here is deterministic given its seeds, and reads only public pieces of the
library: data.make_synthetic, train.fit / train.predict, gradients, metrics.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from scipy.stats import norm
from sklearn.decomposition import PCA

from .claims import NOT_REPRODUCED, REPRODUCED, Verdict
from .config import DataConfig, RunConfig, get_preset
from .data import GROUP_NAMES, SPLITS, Dataset, make_dataset, make_synthetic
from .metrics import bootstrap_ci, split_metrics
from .train import fit, predict

GROUP_ORDER = [GROUP_NAMES[g] for g in range(4)]  # y0s0, y0s1, y1s0, y1s1
MINORITY = ("y0s1", "y1s0")


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


def feature_figure(long: pd.DataFrame, title: str) -> plt.Figure:
    """(a) each core feature by (y, s) group (box plots); (b) density of the mean core
    feature by group (each group normalised on its own); (c) group sizes."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8), gridspec_kw={"width_ratios": [3, 2, 1.2]})
    core = long[long["feature"].str.startswith("core") & (long["feature"] != "core mean")]
    sns.boxplot(data=core, x="feature", y="value", hue="group", hue_order=GROUP_ORDER,
                fliersize=1, ax=axes[0], palette="tab10")
    axes[0].set_title("z-scored core features by (y, s) group")
    mean = long[long["feature"] == "core mean"]
    sns.kdeplot(data=mean, x="value", hue="group", hue_order=GROUP_ORDER, common_norm=False,
                ax=axes[1], palette="tab10")
    axes[1].axvline(0, color="k", lw=0.8, ls="--")
    axes[1].set_title("mean of the 5 core features (dashed: midpoint rule)")
    sizes = mean.groupby("group", observed=False).size().reindex(GROUP_ORDER)
    sns.barplot(x=sizes.index, y=sizes.to_numpy(), ax=axes[2], hue=sizes.index,
                palette="tab10", legend=False)
    axes[2].set_title("group sizes")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- 02: the warm-up model

def warmup_config(cfg: RunConfig, lr: float) -> RunConfig:
    """The warm-up alone: warmup_epochs ERM epochs, no robust epochs, at this LR."""
    return cfg.with_updates(**{"train.robust_epochs": 0, "objective.method": "erm",
                               "train.lr": lr})


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


def reliance_figure(points: dict[str, pd.DataFrame], title: str) -> plt.Figure:
    """One panel per key (e.g. LR): P(y = 1) against the mean core feature, hue = s."""
    fig, axes = plt.subplots(1, len(points), figsize=(4.5 * len(points), 3.6), squeeze=False,
                             sharey=True)
    for ax, (name, df) in zip(axes[0], points.items()):
        sns.scatterplot(data=df, x="core mean", y="P(y=1)", hue="s", style="group",
                        style_order=GROUP_ORDER, palette="coolwarm", s=14, ax=ax,
                        legend=ax is axes[0, -1])
        ax.axhline(0.5, color="k", lw=0.6, ls=":")
        ax.set_title(name)
    if axes[0, -1].get_legend() is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- 04: the clusters

def ugc_warmup_config(preset: str, **dotted) -> RunConfig:
    """The preset's own UGC config stopped right after clustering (robust_epochs = 0).

    The clusters are those of the full UGC run: the warm-up and the clustering do not
    depend on the robust phase.
    """
    return get_preset(preset).with_updates(**{"train.robust_epochs": 0, **dotted})


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


def cluster_scatter(panels: dict[str, dict], title: str) -> plt.Figure:
    """One panel per key: the first two principal components of the signatures,
    colour = k-means cluster, marker = true (y, s) group (minority groups drawn on top)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (name, p) in zip(axes[0], panels.items()):
        Z = PCA(n_components=2, random_state=0).fit_transform(p["signatures"])
        df = pd.DataFrame({"PC1": Z[:, 0], "PC2": Z[:, 1], "cluster": p["clusters"].astype(str),
                           "group": [GROUP_NAMES[int(g)] for g in p["dataset"].train.groups]})
        df["minority"] = df["group"].isin(MINORITY)
        sns.scatterplot(data=df.sort_values("minority", kind="stable"), x="PC1", y="PC2",
                        hue="cluster", style="group", style_order=GROUP_ORDER, s=18, alpha=0.8,
                        palette="Set1", ax=ax)
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        ax.set_title(name, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def scrambled_dataset(ds: Dataset, seed: int) -> Dataset:
    """ds with every split's s label array replaced by random 0/1 garbage.

    X (which holds s as its last column, as in the paper) is left unchanged: only the
    group-label array, which the method must never read, is scrambled.
    """
    rng = np.random.default_rng(seed)
    return Dataset(**{name: dataclasses.replace(ds[name], s=rng.integers(0, 2, len(ds[name])),
                                                X=ds[name].X.copy()) for name in SPLITS})


def c14_check(cfg: RunConfig, seed: int, garbage_seed: int = 10_000) -> dict:
    """Train the full config twice with train.fit, handing it the true groups built
    from the real s and then from garbage s (X and y unchanged); compare everything.

    Returns booleans: clusters / signatures / final weights / val+test predictions
    identical, and the share of training s labels the garbage changed.
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


# ---------------------------------------------------------------- 03: gradient alignment

def alignment_figure(al: pd.DataFrame, title: str) -> plt.Figure:
    """(a) mean cos(grad, -y x) against the init scale, before training; (b) against the
    epoch of training, one line per optimizer. al is theory.alignment_frame's output;
    bands are 95% bootstrap intervals over seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    init = al[al["stage"] == "init"]
    sns.lineplot(data=init, x="init_scale", y="mean_cos", marker="o", errorbar=("ci", 95),
                 seed=0, n_boot=1000, ax=axes[0])
    axes[0].set_xscale("log")
    axes[0].set_title("before training, by init scale")
    sns.lineplot(data=al[al["stage"] == "train"], x="epoch", y="mean_cos", hue="optimizer",
                 marker="o", errorbar=("ci", 95), seed=0, n_boot=1000, ax=axes[1])
    axes[1].set_title(f"during training (init {al.loc[al['stage'] == 'train', 'init_scale'].iloc[0]:g})")
    for ax in axes:
        ax.axhline(0.95, color="k", lw=0.6, ls=":")
        ax.set_ylabel("mean cos(grad, -y x)")
        ax.set_ylim(-0.05, 1.05)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


RULE_C14 = ("reproduced if, for every seed and both presets, train.fit given the true groups "
            "built from garbage s (X and y unchanged) returns cluster assignments identical to "
            "those it returns given the real s; not reproduced otherwise. Statistic: the "
            "fraction of (preset, seed) runs with identical clusters")


def verdict_c14(checks: pd.DataFrame) -> Verdict:
    """C14 from c14_check rows (columns preset, seed, clusters_identical, ...) of the UGC
    configs of both presets; preset "both"."""
    ok = checks["clusters_identical"].astype(float).to_numpy()
    m, lo, hi = bootstrap_ci(ok)
    detail = {f"{p}_fraction_identical": float(part["clusters_identical"].mean())
              for p, part in checks.groupby("preset")}
    for col in ("weights_identical", "predictions_identical"):
        detail[f"all_{col}"] = bool(checks[col].all())
    return Verdict("C14", "both", "-", "fraction of runs with identical clusters (real vs garbage s)",
                   None, m, lo, hi, int(checks["seed"].nunique()),
                   REPRODUCED if ok.all() else NOT_REPRODUCED, RULE_C14, detail)


def c14_checks(presets: Sequence[str], seeds: Sequence[int], **dotted) -> pd.DataFrame:
    """c14_check for each preset (with optional dotted overrides) and seed, as a frame."""
    return pd.DataFrame([{"preset": p, "seed": seed,
                          **c14_check(get_preset(p).with_updates(**dotted), seed)}
                         for p in presets for seed in seeds])
