"""One function per paper figure, each reading the tidy frame (runner.to_frame).

Every figure has one row per preset; shaded bands and error bars are 95% bootstrap
intervals over seeds (seaborn, seeded). Figures are saved as PNG and SVG under
reports/figures/ with the paper's figure number in the name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .metrics import bootstrap_ci
from .summary import METRIC_LABELS, at_epoch

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
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    with plt.rc_context({"svg.hashsalt": "ugc"}):  # stable element ids: same figure, same file
        fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    return paths


def mean_ci(df: pd.DataFrame, by: Sequence[str], metric: str) -> pd.DataFrame:
    """Mean and 95% bootstrap interval over seeds of metric, per group of `by` (the same
    interval as the tables: metrics.bootstrap_ci)."""
    rows = []
    for key, part in df.groupby(list(by), sort=False):
        mean, lo, hi = bootstrap_ci(part[metric].to_numpy())
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
