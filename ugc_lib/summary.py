"""Tables from the tidy frame: mean and 95% bootstrap interval over seeds."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from .config import PRESETS, TABLE1_FIELDS, get_field
from .metrics import bootstrap_ci

METRIC_LABELS = {"acc": "accuracy", "wga_s": "WGA(s)", "wga_ys": "WGA(y,s)", "loss": "loss",
                 "rec_ari_s": "ARI vs s", "rec_ari_y": "ARI vs y", "rec_ari_ys": "ARI vs (y,s)",
                 "rec_nmi_ys": "NMI vs (y,s)", "rec_minority_f1": "minority F1",
                 "rec_smallest_cluster_frac": "smallest cluster share",
                 "rec_grad_norm_ratio_smallest": "grad-norm ratio (smallest / rest)"}


def at_epoch(df: pd.DataFrame, epoch: int | None = None, split: str | None = None) -> pd.DataFrame:
    """Rows at one epoch (default: each run's last epoch), optionally one split."""
    if epoch is None:
        last = df.groupby("run")["epoch"].transform("max")
        out = df[df["epoch"] == last]
    else:
        out = df[df["epoch"] == epoch]
    if split is not None:
        out = out[out["split"] == split]
    return out.reset_index(drop=True)


def fmt_number(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000"


def summarize(df: pd.DataFrame, by: Sequence[str], metrics: Sequence[str],
              decimals: int = 3) -> pd.DataFrame:
    """One row per `by` group: for each metric "mean [low, high]" over seeds, and n."""
    rows = []
    for key, part in df.groupby(list(by), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        for m in metrics:
            mean, lo, hi = bootstrap_ci(part[m].to_numpy())
            row[METRIC_LABELS.get(m, m)] = (f"{fmt_number(mean, decimals)} [{fmt_number(lo, decimals)}, "
                                            f"{fmt_number(hi, decimals)}]")
        row["n_seeds"] = int(part["seed"].nunique())
        rows.append(row)
    return pd.DataFrame(rows)


def table1() -> pd.DataFrame:
    """The paper's Table 1 regenerated from the presets."""
    rows = []
    for label, dotted, paper, note in TABLE1_FIELDS:
        row = {"setting": label, "field": dotted, "paper value": paper, "paper note": note}
        for name, cfg in PRESETS.items():
            row[name] = str(get_field(cfg, dotted))
        rows.append(row)
    return pd.DataFrame(rows)
