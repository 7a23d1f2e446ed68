"""The studies of the paper: which configs each figure or claim runs.

A study maps a preset to a list of RunConfigs; the sweep runner runs each over the
seeds. The grids here are the single place where the paper's sweep values live.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from .config import RunConfig, get_preset, signature_dim

SEEDS = (0, 1, 2, 3, 4)  # [ours] 5 seeds for every interval
PAPER_SEEDS = (0, 1, 2)  # [text] "three independent seeds" (C3); which three is not given
LRS = (1e-4, 1e-3, 1e-2)  # [text] Table 1 / Fig. 1
KS = (2, 4, 8)  # [text] Fig. 2
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)  # [ours] Fig. 6 gives no grid
WD_LR = 1e-3  # [text] Fig. 6 caption
# [text] Fig. 3 compares inverse_freq and feature_weight; online DRO and ERM are references.
REWEIGHTINGS = ("erm", "group_dro", "inverse_freq", "feature_weight")
UGC_METHOD = {"paper_text": "group_dro", "paper_code": "inverse_freq"}


def grid(base: RunConfig, **axes: tuple) -> list[RunConfig]:
    """Cartesian product of dotted-field axes, e.g. grid(cfg, **{"train.lr": LRS})."""
    names = list(axes)
    return [base.with_updates(**dict(zip(names, values)))
            for values in itertools.product(*(axes[n] for n in names))]


def headline(base: RunConfig) -> list[RunConfig]:
    """C2/C3: ERM vs UGC (the preset's own objective) vs oracle Group DRO."""
    return [base.with_updates(**{"objective.method": "erm"}), base,
            base.with_updates(**{"objective.method": "oracle_dro"})]


def lr_sweep(base: RunConfig) -> list[RunConfig]:
    return grid(base, **{"train.lr": LRS})


def k_ablation(base: RunConfig) -> list[RunConfig]:
    """Fig. 2 at LR 1e-2. PCA needs dim >= k; the text's 10 dims suffice for k <= 8."""
    return grid(base, **{"train.lr": (1e-2,), "grouping.k": KS})


def reweighting(base: RunConfig) -> list[RunConfig]:
    return grid(base, **{"train.lr": (1e-2,), "objective.method": REWEIGHTINGS})


def normalization(base: RunConfig) -> list[RunConfig]:
    return grid(base, **{"data.normalize": (True, False), "train.lr": LRS})


def weight_decay(base: RunConfig) -> list[RunConfig]:
    return grid(base, **{"train.lr": (WD_LR,), "train.weight_decay": WEIGHT_DECAYS})


def linear_probe(base: RunConfig) -> list[RunConfig]:
    """Fig. 4: UGC on the MLP vs a linear classifier on the raw input.

    The paper does not define its "linear classifier"; we run it two ways: trained
    by ERM (the probe as a baseline) and trained with UGC (the same method on a
    linear model; where='fc' is then the whole model).
    """
    linear = base.with_updates(**{"model.kind": "linear", "model.hidden_dims": (),
                                  "grouping.pca_dim": None})
    if base.grouping.pca_dim is not None:
        # A linear model on 6 inputs has only 14 gradient coordinates; PCA keeps at most those.
        dim = min(base.grouping.pca_dim, signature_dim(linear))
        linear = linear.with_updates(**{"grouping.pca_dim": dim})
    return [base, linear.with_updates(**{"objective.method": "erm"}), linear]


STUDIES: dict[str, Callable[[RunConfig], list[RunConfig]]] = {
    "headline": headline,
    "lr": lr_sweep,
    "k": k_ablation,
    "reweighting": reweighting,
    "normalization": normalization,
    "weight_decay": weight_decay,
    "linear_probe": linear_probe,
}


def study_configs(study: str, preset: str | RunConfig, **overrides: Any) -> list[RunConfig]:
    """The configs of one study for one preset, with optional dotted overrides applied first."""
    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}: allowed {sorted(STUDIES)}")
    base = get_preset(preset) if isinstance(preset, str) else preset
    if overrides:
        base = base.with_updates(**overrides)
    return STUDIES[study](base)


def linear_probe_variant(model_kind: str, method: str) -> str:
    """Display name of a run in the Fig. 4 study."""
    if model_kind == "mlp":
        return "UGC (MLP)"
    return "linear probe (ERM)" if method == "erm" else "UGC (linear)"


def add_variant(df):
    """Adds the "variant" column the Fig. 4 figure and claim C8 group by."""
    df = df.copy()
    df["variant"] = [linear_probe_variant(k, m)
                     for k, m in zip(df["model.kind"], df["objective.method"])]
    return df


def feature_weight_spread(configs, seeds) -> "pd.DataFrame":
    """Smallest and largest normalised input-feature weight of each feature_weight run."""
    import numpy as np
    import pandas as pd

    from .data import make_synthetic
    from .objectives import FeatureMagnitude
    from .runner import run

    rows = []
    for cfg in configs:
        if cfg.objective.method != "feature_weight":
            continue
        for seed in seeds:
            clusters = np.asarray(run(cfg, seed)["clusters"])
            X = make_synthetic(cfg.data, seed).train.X
            w = FeatureMagnitude(clusters, X, cfg.objective).weights.numpy()
            w = w / w.mean()
            rows.append({"preset": cfg.name, "seed": seed, "w_min": float(w.min()),
                         "w_max": float(w.max())})
    return pd.DataFrame(rows)
