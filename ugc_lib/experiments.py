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


# ---------------------------------------------------------------- beyond the paper

# Group inference compared on equal terms (notebook 13): display name -> dotted overrides
# on a preset. Same model, epochs, optimiser, seeds and warm-up for all; robust training
# over any inferred groups uses the preset's own objective (UGC_METHOD), JTT its upweighting.
BASELINES: dict[str, dict[str, Any]] = {
    "ERM": {"objective.method": "erm"},
    "JTT (error set)": {"objective.method": "jtt", "grouping.source": "errors"},
    "UGC global (paper)": {"grouping.source": "gradients", "grouping.scope": "global"},
    "UGC per class": {"grouping.source": "gradients", "grouping.scope": "per_class"},
    # GEORGE clusters (UMAP-reduced) features per class; we keep the preset's PCA.
    "GEORGE-style (features)": {"grouping.source": "features", "grouping.scope": "per_class"},
    # SPARE clusters the outputs per class; softmax has n_classes columns, so no PCA.
    "SPARE-style (outputs)": {"grouping.source": "outputs", "grouping.scope": "per_class",
                              "grouping.pca_dim": None},
    "random groups (UGC sizes)": {"grouping.source": "random", "grouping.scope": "global"},
    "oracle Group DRO": {"objective.method": "oracle_dro"},
}
NO_INFERRED_GROUPS = ("ERM", "oracle Group DRO")  # their recovery columns are not theirs
JTT_LAMBDAS = (5.0, 20.0, 50.0)  # [ours] light sweep around the default 20
JTT_WARMUPS = (1, 2)  # [ours] JTT's T; robust epochs shrink so every run has 6 epochs
# Notebook 14: the data choices the paper leaves open, and the methods read there.
CORE_DIMS = (1, 2, 3, 5, 10)  # [ours] the script's 5 and the range around it
SPURIOUS_CORRS = (0.8, 0.9, 0.95, 0.99)  # [ours] the paper's 0.95 and the range around it
SENSITIVITY_METHODS = ("ERM", "UGC global (paper)", "UGC per class", "oracle Group DRO")


def baseline_configs(base: RunConfig, names=tuple(BASELINES)) -> dict[str, RunConfig]:
    """Display name -> config of each group-inference method on one base config."""
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}: allowed {list(BASELINES)}")
    return {name: base.with_updates(**BASELINES[name]) for name in names}


def baselines(base: RunConfig) -> list[RunConfig]:
    return list(baseline_configs(base).values())


def jtt_sweep(base: RunConfig) -> list[RunConfig]:
    """JTT's lambda_up x T at a fixed total number of epochs."""
    total = base.train.total_epochs
    jtt = base.with_updates(**BASELINES["JTT (error set)"])
    return [jtt.with_updates(**{"objective.jtt_lambda_up": lam, "train.warmup_epochs": t,
                                "train.robust_epochs": total - t})
            for t in JTT_WARMUPS for lam in JTT_LAMBDAS]


def sensitivity(base: RunConfig) -> list[RunConfig]:
    """core_dim x spurious_corr, for each method of SENSITIVITY_METHODS.

    The test set keeps the training correlation, as in the paper's script.
    """
    return [cfg for d in CORE_DIMS for rho in SPURIOUS_CORRS
            for cfg in baseline_configs(base.with_updates(**{
                "data.core_dim": d, "data.spurious_corr": rho, "data.spurious_corr_test": rho}),
                SENSITIVITY_METHODS).values()]


def sensitivity_s_and_test(base: RunConfig) -> list[RunConfig]:
    """s as input or hidden x test set with the training correlation or group-balanced."""
    return [cfg for data in grid(base, **{"data.s_as_input": (True, False),
                                          "data.spurious_corr_test": (base.data.spurious_corr, 0.5)})
            for cfg in baseline_configs(data, SENSITIVITY_METHODS).values()]


STUDIES: dict[str, Callable[[RunConfig], list[RunConfig]]] = {
    "headline": headline,
    "lr": lr_sweep,
    "k": k_ablation,
    "reweighting": reweighting,
    "normalization": normalization,
    "weight_decay": weight_decay,
    "linear_probe": linear_probe,
    "baselines": baselines,
    "jtt": jtt_sweep,
    "sensitivity": sensitivity,
    "sensitivity_s_and_test": sensitivity_s_and_test,
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

    from .data import make_dataset
    from .objectives import FeatureMagnitude
    from .runner import run

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
