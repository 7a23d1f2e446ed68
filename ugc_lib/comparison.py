"""Tables and figures of the studies beyond the paper (notebooks 13 and 14).

Notebook 13 compares group-inference methods on equal terms (experiments.BASELINES);
notebook 14 sweeps the data choices the paper leaves open (experiments.sensitivity*).
Every run is labelled with its method by matching its config against BASELINES, so a
frame can be built from any list of records.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .config import RunConfig
from .data import make_dataset
from .experiments import BASELINES, NO_INFERRED_GROUPS
from .metrics import bootstrap_ci, recovery
from .runner import to_frame
from .summary import METRIC_LABELS, summarize

RECOVERY = ("rec_ari_ys", "rec_nmi_ys", "rec_ari_s", "rec_minority_f1")
TEST = ("acc", "wga_s", "wga_ys")
Y_ONLY = "reference: partition by y"
ONE_CLUSTER = "reference: one cluster"
REFERENCES = (Y_ONLY, ONE_CLUSTER)  # recovery scores needing no training (reference_rows)
NA = "n/a"
ORACLE = "oracle Group DRO"
GAP = " − "  # joins a method and its reference in paired_gaps
CELL = ("data.core_dim", "data.spurious_corr")  # the grid of notebook 14's heatmaps
RULE_REGIME = (
    "per cell (core dimension x P(s=y)) and UGC variant, over seeds 0-4: C1 (recovers the "
    "groups) if the 95% CI of its clusters' minority F1 lies above 0.5 (claims.RULE_C1's "
    "minority reading; ARI vs s is left out because per-class clusters inherit it from the "
    "label split); C2 (matches the oracle) if the 95% CI of the paired gap to oracle Group "
    "DRO in test WGA(y,s) reaches 0 (claims.RULE_C2 (b)); +ERM / -ERM if the 95% CI of the "
    "paired gap to ERM in test WGA(y,s) lies above / below 0; none if no tag applies")


def _flat(config: dict) -> dict:
    return {f"{section}.{k}": v for section, values in config.items() if isinstance(values, dict)
            for k, v in values.items()}


def method_name(config: dict) -> str:
    """The BASELINES name of a record's config ("other" if none matches).

    An entry that sets no objective.method means "the preset's own objective over the
    inferred groups", i.e. any method that no other entry names explicitly.
    """
    flat = _flat(config)
    named = {ov["objective.method"] for ov in BASELINES.values() if "objective.method" in ov}
    for name, overrides in BASELINES.items():
        own = "objective.method" in overrides or flat["objective.method"] not in named
        if own and all(flat[k] == v for k, v in overrides.items()):
            return name
    return "other"


def labelled_frame(records: Sequence[dict]) -> pd.DataFrame:
    """runner.to_frame plus "method" and, for JTT, the error-set size "jtt_n_errors"."""
    df = to_frame(records)
    df["method"] = df["run"].map({i: method_name(r["config"]) for i, r in enumerate(records)})
    df["jtt_n_errors"] = df["run"].map(
        {i: r["objective_state"].get("n_errors", np.nan) for i, r in enumerate(records)})
    return df


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


def blank_recovery(df: pd.DataFrame) -> pd.DataFrame:
    """Recovery columns set to NaN for the methods that infer no groups (ERM, oracle):
    their records hold the gradient clusters, which they never train on."""
    df = df.copy()
    cols = [c for c in df.columns if c.startswith("rec_")]
    df.loc[df["method"].isin(NO_INFERRED_GROUPS), cols] = np.nan
    return df


def method_table(final_test: pd.DataFrame, by: Sequence[str], metrics: Sequence[str],
                 reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean [95% CI] over seeds per `by` x method; "n/a" where a method has no value.

    Rows follow the order of BASELINES within each `by` group; reference rows (same
    columns, e.g. reference_rows) are appended with NaN for missing metrics.
    """
    df = blank_recovery(final_test)
    if reference is not None:
        df = pd.concat([df, reference.assign(**{m: np.nan for m in metrics
                                                 if m not in reference})], ignore_index=True)
    table = summarize(df, [*by, "method"], metrics).replace("nan [nan, nan]", NA)
    order = {name: i for i, name in enumerate([*BASELINES, *REFERENCES])}
    table["_order"] = table["method"].map(order)
    return table.sort_values([*by, "_order"]).drop(columns="_order").reset_index(drop=True)


def baseline_table(final_test: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Notebook 13's table: recovery of each method's groups, then test metrics."""
    return method_table(final_test, ["preset"], [*RECOVERY, *TEST], reference)


def baselines_figure(final_test: pd.DataFrame, title: str,
                     reference: pd.DataFrame | None = None) -> plt.Figure:
    """Per method: minority F1 and ARI vs (y,s) of its groups, test WGA(s) and WGA(y,s).

    One row per preset; points are means over seeds, bars 95% bootstrap intervals. Dashed
    lines: the partition by y (ARI), one cluster (minority F1) from `reference`
    (reference_rows), and the oracle's mean (WGA).
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


def heatmap_means(final: pd.DataFrame, method: str, metric: str, decimals: int = 2,
                  index: str = "data.core_dim", columns: str = "data.spurious_corr") -> pd.DataFrame:
    """Mean over seeds of metric for one method on the index x columns grid, rounded."""
    part = final[final["method"] == method]
    means = part.pivot_table(index=index, columns=columns, values=metric, aggfunc="mean")
    return means.round(decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def paired_gaps(final_test: pd.DataFrame, methods: Sequence[str], reference: str,
                metric: str = "wga_ys", by: Sequence[str] = CELL) -> pd.DataFrame:
    """Seed-by-seed metric(method) - metric(reference) in each cell (same data, initialisation
    and warm-up), as rows whose method is "<method> − <reference>"."""
    ref = final_test[final_test["method"] == reference].set_index([*by, "seed"])[metric]
    parts = []
    for m in methods:
        own = final_test[final_test["method"] == m].set_index([*by, "seed"])[metric]
        parts.append((own - ref).dropna().rename(metric).reset_index().assign(
            method=f"{m}{GAP}{reference}"))
    return pd.concat(parts, ignore_index=True)


def gap_table(final_test: pd.DataFrame, methods: Sequence[str], references: Sequence[str],
              metrics: Sequence[str] = ("wga_s", "wga_ys"), by: Sequence[str] = ("preset",)
              ) -> pd.DataFrame:
    """Mean [95% CI] of the paired gaps method - reference, per `by` group."""
    gaps = pd.concat([paired_gaps(final_test, methods, ref, m, by) for ref in references
                      for m in metrics], ignore_index=True)
    return summarize(gaps, [*by, "method"], metrics)


def jtt_table(final: pd.DataFrame) -> pd.DataFrame:
    """The JTT sweep: error-set size and minority F1, validation and test metrics."""
    by = ["preset", "train.warmup_epochs", "objective.jtt_lambda_up"]
    test = summarize(final[final["split"] == "test"], by,
                     ["jtt_n_errors", "rec_minority_f1", "acc", "wga_s", "wga_ys"])
    val = summarize(final[final["split"] == "val"], by, ["wga_ys"]).drop(columns="n_seeds")
    test = test.rename(columns={"jtt_n_errors": "error-set size", "accuracy": "test accuracy",
                                "WGA(s)": "test WGA(s)", "WGA(y,s)": "test WGA(y,s)"})
    out = val.rename(columns={"WGA(y,s)": "val WGA(y,s)"}).merge(test, on=by)
    return out.rename(columns={"train.warmup_epochs": "T (warm-up epochs)",
                               "objective.jtt_lambda_up": "lambda_up"})


def _cell_ci(df: pd.DataFrame, metric: str, by: Sequence[str]) -> pd.Series:
    return df.groupby(list(by))[metric].apply(lambda v: bootstrap_ci(v.to_numpy()))


def regime_table(final_test: pd.DataFrame, method: str, by: Sequence[str] = CELL) -> pd.DataFrame:
    """Which claims hold in each cell for one UGC variant (codes: see RULE_REGIME)."""
    f1 = _cell_ci(final_test[final_test["method"] == method], "rec_minority_f1", by)
    to_oracle = _cell_ci(paired_gaps(final_test, [method], ORACLE, by=by), "wga_ys", by)
    to_erm = _cell_ci(paired_gaps(final_test, [method], "ERM", by=by), "wga_ys", by)
    codes = {}
    for cell in f1.index:
        tags = ["C1"] if f1[cell][1] > 0.5 else []
        tags += ["C2"] if to_oracle[cell][2] >= 0 else []
        tags += ["+ERM"] if to_erm[cell][1] > 0 else ["-ERM"] if to_erm[cell][2] < 0 else []
        codes[cell] = " ".join(tags) or "none"
    return pd.Series(codes).rename_axis(list(by)).unstack(by[1])


def sensitivity_heatmaps(final_test: pd.DataFrame, panels: Sequence[tuple[str, str]],
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


def heatmap_table(final_test: pd.DataFrame, panels: Sequence[tuple[str, str]],
                  decimals: int = 2) -> pd.DataFrame:
    """The heatmaps' numbers as one wide table: (method, metric, core_dim) x spurious_corr."""
    parts = []
    for method, metric in panels:
        means = heatmap_means(final_test, method, metric, decimals)
        parts.append(means.assign(method=method, metric=METRIC_LABELS[metric]).reset_index())
    out = pd.concat(parts, ignore_index=True)
    cols = ["method", "metric", "data.core_dim"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    out.columns.name = None
    return out.rename(columns={c: f"P(s=y)={c:g}" for c in out.columns if isinstance(c, float)})
