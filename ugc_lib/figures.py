"""Every figure: one function per saved file, named after it (fig1_lr_sweep -> fig1_lr_sweep.png).

The paper's figures (fig1-fig6) read the tidy frame (runner.to_frame) and have one row per
preset; the notebooks' own figures are named nbNN_*. Shaded bands and error bars are 95%
bootstrap intervals over seeds. Figures are saved as PNG and SVG under reports/figures/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from sklearn.decomposition import PCA

from .data import GROUP_NAMES, GROUP_ORDER, Dataset
from .files import write_atomically
from .intervals import mean_ci as interval_of_mean
from .studies import BASELINES, GAP, ONE_CLUSTER, ORACLE, Y_ONLY
from .tables import METRIC_LABELS, at_epoch, blank_recovery, heatmap_means

MINORITY = ("y0s1", "y1s0")  # the (y, s) groups where s disagrees with y

CURVE_METRICS = ("wga_s", "wga_ys", "loss")

# The paper's captions, shown beside each reproduction in the report.
PAPER_CAPTIONS = {
    "fig1_lr_sweep": "Figure 1: (a-b) Training/validation worst-group accuracy and (c-d) loss "
                     "for three learning rates. Low rate learns slowly, moderate rate balances "
                     "speed and stability, and high rate converges immediately.",
    "fig2_k_ablation": "Figure 2: (a) Training and (b) validation worst-group accuracy over "
                       "epochs for k in {2,4,8} at LR=1e-2. All converge to high accuracy; "
                       "k = 4,8 train faster and k = 8 shows a modest validation boost after "
                       "epoch 2.",
    "fig3_reweighting": "Figure 3: Comparison of two reweighting strategies (k = 2, LR=1e-2). "
                        "Both inverse-frequency and input-feature schemes produce similar "
                        "worst-group training and validation accuracy.",
    "fig4_linear_probe": "Figure 4: Linear-probe vs. UGC on worst-group accuracy and loss. UGC "
                         "significantly outperforms a linear classifier in identifying spurious "
                         "structures.",
    "fig5_normalization": "Figure 5: Validation worst-group accuracy with and without input "
                          "feature normalization across LRs. Normalization greatly improves "
                          "performance at low to medium LRs.",
    "fig6_weight_decay": "Figure 6: Effect of weight decay on validation worst-group accuracy "
                         "(LR=1e-3). Moderate decay (e.g. 1e-4) yields slight robustness gains; "
                         "too large decays hurt performance.",
}


def _categorical(df: pd.DataFrame, column: str | None) -> pd.DataFrame:
    """Hue values as strings ("0.001", "True"), so every level gets its own colour."""
    if column is None:
        return df
    return df.assign(**{column: df[column].map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))})


def save_figure(fig: plt.Figure, name: str, outdir: str | Path) -> list[Path]:
    """Write name.png and name.svg into outdir; returns the paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = [outdir / f"{name}.png", outdir / f"{name}.svg"]
    _save_atomic(fig, paths[0], dpi=110, bbox_inches="tight")
    with plt.rc_context({"svg.hashsalt": "ugc"}):  # stable element ids: same figure, same file
        _save_atomic(fig, paths[1], bbox_inches="tight", metadata={"Date": None})
    return paths


def _save_atomic(fig: plt.Figure, path: Path, **kwargs) -> None:
    """savefig through files.write_atomically: never a truncated figure under its name."""
    write_atomically(path, lambda tmp: fig.savefig(tmp, format=path.suffix[1:], **kwargs))


def mean_ci(df: pd.DataFrame, by: Sequence[str], metric: str) -> pd.DataFrame:
    """Mean and 95% bootstrap interval over seeds of metric, per group of `by` (the same
    interval as the tables: intervals.mean_ci, BCa)."""
    rows = []
    for key, part in df.groupby(list(by), sort=False):
        mean, lo, hi = interval_of_mean(part[metric].to_numpy())
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def _levels(part: pd.DataFrame, column: str) -> list:
    return list(dict.fromkeys(part[column]))  # in order of appearance (the config order)


def curves(df: pd.DataFrame, hue: str, title: str, metrics: Sequence[str] = CURVE_METRICS,
           splits: Sequence[str] = ("train", "val")) -> plt.Figure:
    """Metric vs epoch, one column per (split, metric), one row per preset, hue = variant.
    Lines are means over seeds, bands 95% bootstrap intervals."""
    presets = sorted(df["preset"].unique())
    cols = [(s, m) for s in splits for m in metrics]
    fig, axes = plt.subplots(len(presets), len(cols), figsize=(3.1 * len(cols), 2.8 * len(presets)),
                             squeeze=False, sharex=True)
    colours = plt.get_cmap("tab10").colors
    for r, preset in enumerate(presets):
        part = _categorical(df[df["preset"] == preset], hue)
        for c, (split, metric) in enumerate(cols):
            ax = axes[r, c]
            stats = mean_ci(part[part["split"] == split], [hue, "epoch"], metric)
            for i, level in enumerate(_levels(part, hue)):
                line = stats[stats[hue] == level].sort_values("epoch")
                ax.plot(line["epoch"], line["mean"], marker="o", ms=3, color=colours[i % 10],
                        label=level)
                ax.fill_between(line["epoch"], line["lo"], line["hi"], color=colours[i % 10],
                                alpha=0.2, lw=0)
            ax.set_title(f"{preset}: {split} {METRIC_LABELS.get(metric, metric)}", fontsize=9)
            ax.set_xlabel("epoch")
    axes[0, -1].legend(title=hue, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def final_points(df: pd.DataFrame, x: str, hue: str | None, title: str, split: str = "val",
                 metrics: Sequence[str] = ("wga_s", "wga_ys"), logx: bool = False) -> plt.Figure:
    """Last-epoch metric vs x, one column per metric, one row per preset; points are means
    over seeds, bars 95% bootstrap intervals."""
    final = at_epoch(df, split=split)
    presets = sorted(final["preset"].unique())
    fig, axes = plt.subplots(len(presets), len(metrics), figsize=(4 * len(metrics), 3 * len(presets)),
                             squeeze=False)
    colours = plt.get_cmap("tab10").colors
    for r, preset in enumerate(presets):
        part = _categorical(_categorical(final[final["preset"] == preset], hue), x)
        xs = _levels(part, x)
        hues = _levels(part, hue) if hue else [None]
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            stats = mean_ci(part, [x] + ([hue] if hue else []), metric)
            for i, level in enumerate(hues):
                pts = stats if level is None else stats[stats[hue] == level]
                pts = pts.set_index(x).loc[xs]
                pos = [j + (i - (len(hues) - 1) / 2) * 0.1 for j in range(len(xs))]
                ax.errorbar(pos, pts["mean"], yerr=[pts["mean"] - pts["lo"], pts["hi"] - pts["mean"]],
                            fmt="o-", ms=4, capsize=3, color=colours[i % 10],
                            label=None if level is None else level)
            ax.set_xticks(range(len(xs)), xs, rotation=30 if logx else 0)
            ax.set_xlabel(x)
            ax.set_title(f"{preset}: {split} {METRIC_LABELS.get(metric, metric)} (last epoch)",
                         fontsize=9)
        if hue and r == 0:
            axes[0, -1].legend(title=hue, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def fig1_lr_sweep(df: pd.DataFrame) -> plt.Figure:
    return curves(df, hue="train.lr", title="Fig. 1: learning-rate sweep")


def fig2_k_ablation(df: pd.DataFrame) -> plt.Figure:
    return curves(df, hue="grouping.k", metrics=("wga_s", "wga_ys", "acc"),
                  title="Fig. 2: number of clusters k (LR 1e-2)")


def fig3_reweighting(df: pd.DataFrame) -> plt.Figure:
    return curves(df, hue="objective.method", metrics=("wga_s", "wga_ys"),
                  title="Fig. 3: reweighting strategies (k = 2, LR 1e-2)")


def fig4_linear_probe(df: pd.DataFrame) -> plt.Figure:
    return curves(df, hue="variant", title="Fig. 4: linear probe vs UGC")


def fig5_normalization(df: pd.DataFrame) -> plt.Figure:
    return final_points(df, x="train.lr", hue="data.normalize",
                        title="Fig. 5: input normalisation across learning rates")


def fig6_weight_decay(df: pd.DataFrame) -> plt.Figure:
    return final_points(df, x="train.weight_decay", hue=None, logx=True,
                        title="Fig. 6: weight decay at LR 1e-3")


FIGURES = {
    "fig1_lr_sweep": fig1_lr_sweep,
    "fig2_k_ablation": fig2_k_ablation,
    "fig3_reweighting": fig3_reweighting,
    "fig4_linear_probe": fig4_linear_probe,
    "fig5_normalization": fig5_normalization,
    "fig6_weight_decay": fig6_weight_decay,
}


# ---------------------------------------------------------------- the notebooks' own figures

def nb01_feature_distributions(long: pd.DataFrame, title: str) -> plt.Figure:
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


def nb02_warmup_decision(points: dict[str, pd.DataFrame], title: str) -> plt.Figure:
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


def nb03_gradient_alignment(al: pd.DataFrame, title: str) -> plt.Figure:
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


def nb04_cluster_scatter(panels: dict[str, dict], title: str) -> plt.Figure:
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


def nb13_baselines(final_test: pd.DataFrame, title: str,
                     reference: pd.DataFrame | None = None) -> plt.Figure:
    """Per method: minority F1 and ARI vs (y,s) of its groups, test WGA(s) and WGA(y,s).

    One row per preset; points are means over seeds, bars 95% bootstrap intervals. Dashed
    lines: the partition by y (ARI), one cluster (minority F1) from `reference`
    (diagnostics.reference_rows), and the oracle's mean (WGA).
    """
    df = blank_recovery(final_test)
    metrics = ("rec_ari_ys", "rec_minority_f1", "wga_s", "wga_ys")
    lines = {"rec_ari_ys": Y_ONLY, "rec_minority_f1": ONE_CLUSTER, "wga_s": ORACLE, "wga_ys": ORACLE}
    both = df if reference is None else pd.concat([df, reference], ignore_index=True)
    presets = sorted(df["preset"].unique())
    fig, axes = plt.subplots(len(presets), len(metrics), figsize=(3.4 * len(metrics),
                             0.45 * len(BASELINES) * len(presets) + 1), squeeze=False, sharey=True)
    for r, preset in enumerate(presets):
        part = df[df["preset"] == preset]
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            sns.pointplot(data=part, y="method", x=metric, order=list(BASELINES), errorbar=("ci", 95),
                          seed=0, n_boot=1000, linestyle="none", ax=ax, color="C0")
            ref = both[(both["preset"] == preset) & (both["method"] == lines[metric])][metric]
            if ref.notna().any():
                ax.axvline(ref.mean(), color="grey", ls="--", lw=1, label=lines[metric])
                ax.legend(fontsize=7, loc="lower right" if metric.startswith("rec_") else "lower left")
            ax.set_title(f"{preset}: {METRIC_LABELS[metric]}"
                         + ("" if metric.startswith("rec_") else " (test)"), fontsize=9)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.grid(axis="x", alpha=0.3)
            ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def nb13_tuned(frame: pd.DataFrame, title: str) -> plt.Figure:
    """Test WGA(y,s) of each method's selected model: one row per dataset, one column per
    selection protocol; points are means over seeds, bars 95% bootstrap intervals, the
    dashed line ERM's mean (comparison.selection_frame rows)."""
    datasets = list(dict.fromkeys(frame["dataset"]))
    protocols = list(dict.fromkeys(frame["protocol"]))
    methods = [m for m in BASELINES if m in set(frame["method"])]
    fig, axes = plt.subplots(len(datasets), len(protocols), squeeze=False, sharey=True,
                             figsize=(5.2 * len(protocols), 0.3 * len(methods) * len(datasets) + 1.5))
    for r, dataset in enumerate(datasets):
        for c, protocol in enumerate(protocols):
            ax = axes[r, c]
            part = frame[(frame["dataset"] == dataset) & (frame["protocol"] == protocol)]
            sns.pointplot(data=part, y="method", x="wga_ys", order=methods, errorbar=("ci", 95),
                          seed=0, n_boot=1000, linestyle="none", ax=ax, color="C0")
            erm = part.loc[part["method"] == "ERM", "wga_ys"]
            if len(erm):
                ax.axvline(erm.mean(), color="grey", ls="--", lw=1, label="ERM")
                ax.legend(fontsize=7, loc="lower left")
            ax.set_title(f"{dataset}: selected by {protocol}", fontsize=9)
            ax.set_xlabel("test WGA(y,s)")
            ax.set_ylabel("")
            ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def nb14_sensitivity(final_test: pd.DataFrame, panels: Sequence[tuple[str, str]],
                         title: str, ncols: int = 4) -> plt.Figure:
    """One annotated heatmap per (method, metric): core_dim (rows) x spurious_corr (columns).

    Means over seeds; a paired gap (a method containing " − ") gets a diverging scale.
    """
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.1 * nrows), squeeze=False)
    for ax, (method, metric) in zip(axes.flat, panels):
        gap = GAP in method
        sns.heatmap(heatmap_means(final_test, method, metric), annot=True, fmt=".2f",
                    vmin=-0.5 if gap else 0, vmax=0.5 if gap else 1,
                    cmap="RdBu" if gap else "viridis", cbar=False, annot_kws={"fontsize": 8}, ax=ax)
        label = method.replace(GAP, GAP.rstrip() + "\n")  # a gap's reference on its own line
        ax.set_title(f"{label}\n{METRIC_LABELS[metric]}", fontsize=8)
        ax.set_xlabel("P(s = y)")
        ax.set_ylabel("core dimension")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def nb15_examples(ds: Dataset, n: int = 8):
    """The first n training images of each (y, colour) group, drawn in red (s=0) / green (s=1)."""
    part = ds.train
    fig, axes = plt.subplots(4, n, figsize=(n * 0.9, 4 * 0.95))
    for g, (yy, ss) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        idx = np.flatnonzero((part.y == yy) & (part.s == ss))[:n]
        for j in range(n):
            ax = axes[g, j]
            ax.axis("off")
            if j < len(idx):
                rgb = np.zeros((8, 8, 3))
                rgb[..., ss] = part.core[idx[j]].reshape(8, 8)  # red channel 0, green 1
                ax.imshow(rgb, interpolation="nearest")
        axes[g, 0].set_title(f"y={yy}, colour={ss}", fontsize=8, loc="left")
    fig.suptitle("Colored-Digits training images by (label, colour) group", fontsize=10)
    fig.tight_layout()
    return fig


def nb15_colored_digits(df: pd.DataFrame):
    """Last-epoch test accuracy, WGA(s) and WGA(y,s) by variant, one row per preset."""
    fig = final_points(df, x="variant", hue=None, split="test",
                       metrics=("acc", "wga_s", "wga_ys"),
                       title="Colored-Digits (CNN): test metrics, last epoch")
    for ax in fig.axes:
        ax.tick_params(axis="x", rotation=30)
        ax.set_xlabel("")
    fig.tight_layout()
    return fig


def nb16_scaling(bench: dict):
    """Time and peak memory of the UGC step against N and against model size (log-log)."""
    df = pd.DataFrame(bench["scaling"]["rows"])
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for col, (prefix, x, label) in enumerate([("N:", "n", "training samples N"),
                                             ("params:", "params", "model parameters")]):
        part = df[df["series"].str.startswith(prefix)]
        for name, g in part.groupby("series", sort=False):
            e = bench["scaling"]["exponents"][name]
            axes[0, col].loglog(g[x], g["seconds"], "o-", label=f"{name} (slope {e['time']:.2f})")
            axes[1, col].loglog(g[x], g["peak_bytes"] / 2**20, "o-",
                                label=f"{name} (slope {e['peak_memory']:.2f})")
        sig = part.drop_duplicates(x)
        axes[1, col].loglog(sig[x], sig["signature_bytes"] / 2**20, "k:",
                            label=f"signature matrix N x D, float64 ({part['series'].iloc[0]})")
        axes[0, col].set_ylabel("seconds (median)")
        axes[1, col].set_ylabel("peak memory growth (MiB)")
        for ax in axes[:, col]:
            ax.set_xlabel(label)
            ax.legend(fontsize=7)
    fig.suptitle("UGC step: time and peak memory (stored benchmark, reports/benchmarks.json)")
    fig.tight_layout()
    return fig


def nb16_batched_seeds(bench: dict):
    """Speed-up of S seeds trained as one stack over one at a time, against S (log x), wall
    clock and CPU time, one line per model and preset, with the issue's target at S = 50."""
    sec = bench["batched_seeds"]
    df = pd.DataFrame(sec["rows"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, col, label in zip(axes, ("speedup", "speedup_cpu"), ("wall clock", "CPU time")):
        for (model, preset), g in df.groupby(["model", "preset"], sort=False):
            ax.semilogx(g["S"], g[col], "o-", label=f"{model.upper()} {preset}")
        for model, target in sec["targets_at_S50"].items():
            ax.plot([50], [target], marker="*", markersize=12, linestyle="none",
                    label=f"target at S = 50, {model.upper()}")
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("seeds trained as one stack, S")
        ax.set_title(f"batched over one at a time ({label})", fontsize=9)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("speed-up, runs per second")
    fig.suptitle("Seeds as a batch dimension (stored benchmark, reports/benchmarks.json)")
    fig.tight_layout()
    return fig


def nb12_stability(table: pd.DataFrame) -> plt.Figure:
    """Each verdict on the first and the second half of its seeds (ledger.stability's table):
    one column per (claim, preset, WGA definition), coloured by verdict; decisive flips
    are marked with an x."""
    order = ["reproduced", "partly reproduced", "not reproduced", "inconclusive",
             "not testable as stated"]
    colours = ["#4c9a5f", "#e0b84a", "#c8505a", "#b8b8b8", "#7d86c7"]
    codes = np.array([[order.index(v) for v in table["first half"]],
                      [order.index(v) for v in table["second half"]]])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.16 * len(table)), 2.6))
    ax.imshow(codes, cmap=ListedColormap(colours), vmin=-0.5, vmax=len(order) - 0.5,
              aspect="auto", interpolation="nearest")
    flips = np.flatnonzero(table["decisive flip"].to_numpy())
    ax.scatter(flips, np.full(len(flips), 0.5), marker="x", color="k", s=40, zorder=3)
    labels = [f"{c} {p[:6]} {d}" for c, p, d in zip(table["claim"], table["preset"],
                                                     table["WGA def"])]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
    ax.set_yticks([0, 1], ["first half", "second half"])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    ax.legend(handles, order, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"Verdicts on two disjoint halves of the seeds: {int(table['agree'].sum())} of "
                 f"{len(table)} agree, {len(flips)} decisive flips", fontsize=9)
    fig.tight_layout()
    return fig
