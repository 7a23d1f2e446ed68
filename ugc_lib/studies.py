"""Every study grid and run label: which configs each figure, claim or table runs.

A study maps a base config (a preset) to a list of RunConfigs; the sweep runner runs
each over the seeds. The grids here are the single place where sweep values live, and
the labels here are the single place where a run's display name comes from.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .config import PRESETS, RunConfig, get_preset, signature_dim
from .data.colored_digits import N_IMAGES as DIGITS_N_IMAGES
from .real_studies import (REAL_METHODS, adult_study, colored_mnist_ceiling, colored_mnist_map, real_methods,
                           colored_mnist_study, compas_study)
from .runner import to_frame

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
# over any inferred groups uses the preset's own objective (UGC_METHOD) unless the entry
# names one. The equal-tuning grids over these are in tuning.py.
BASELINES: dict[str, dict[str, Any]] = {
    "ERM": {"objective.method": "erm"},
    # Liu et al.'s JTT: a fresh model on the training set with the error set upsampled
    "JTT (retrained)": {"objective.method": "jtt_retrain", "grouping.source": "errors"},
    # the ablation kept from before: training continues, the error set upweighted in the loss
    "JTT ablation (continued, reweighted)": {"objective.method": "jtt",
                                             "grouping.source": "errors"},
    "UGC global (paper)": {"grouping.source": "gradients", "grouping.scope": "global"},
    "UGC per class": {"grouping.source": "gradients", "grouping.scope": "per_class"},
    # GRASP clusters per-class gradients with DBSCAN (grasp.py), then Group DRO; no PCA
    "GRASP-style (gradients, DBSCAN)": {"grouping.source": "grasp", "grouping.pca_dim": None,
                                        "objective.method": "group_dro"},
    # GEORGE clusters (UMAP-reduced) features per class; we keep the preset's PCA.
    "GEORGE-style (features)": {"grouping.source": "features", "grouping.scope": "per_class"},
    # SPARE clusters the outputs per class; softmax has n_classes columns, so no PCA.
    "SPARE-style (outputs)": {"grouping.source": "outputs", "grouping.scope": "per_class",
                              "grouping.pca_dim": None},
    # k-means per class on the raw inputs: are the groups visible without gradients?
    "raw-input clustering": {"grouping.source": "inputs", "grouping.scope": "per_class",
                             "grouping.pca_dim": None},
    "random groups (UGC sizes)": {"grouping.source": "random", "grouping.scope": "global"},
    # Idrissi et al. (2022): classes balanced (no group labels), groups balanced (oracle)
    "class-balanced reweighting": {"objective.method": "inverse_freq",
                                   "grouping.source": "labels"},
    "class-balanced subsampling": {"objective.method": "subsample", "grouping.source": "labels"},
    "group-balanced subsampling (oracle)": {"objective.method": "oracle_subsample"},
    # Kirichenko et al. (2023): the last layer on half of validation; reads its group labels
    "DFR (validation groups)": {"objective.method": "dfr"},
    "oracle Group DRO": {"objective.method": "oracle_dro"},
}
# Their recovery columns are not theirs: the gradient clusters are computed but unused.
NO_INFERRED_GROUPS = ("ERM", "oracle Group DRO", "group-balanced subsampling (oracle)",
                      "DFR (validation groups)")
JTT_ABLATION = "JTT ablation (continued, reweighted)"
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
    jtt = base.with_updates(**BASELINES[JTT_ABLATION])
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


# ---------------------------------------------------------------- Colored-Digits (C12)

# [ours] The benchmark's settings, applied on top of a paper preset (colored_digits()).
COLORED_DIGITS_UPDATES = {
    "data.dataset": "colored_digits",
    "data.n_samples": DIGITS_N_IMAGES,  # every image
    "data.split_sizes": (1000, 297, 500),  # [ours] 1000 train as the paper's task; 500 test
    "data.spurious_corr": 0.9,  # [ours] P(colour = y) in train and val (Colored-MNIST: 0.8-0.9)
    "data.spurious_corr_test": 0.5,  # [ours] colour independent of y: ~125 test images per group
    "data.digits_label_noise": 0.25,  # [ours] Colored-MNIST's label noise
    "model.kind": "cnn",  # [ours] the "more complex model": SmallCNN, channels (16, 32, 32)
    "model.hidden_dims": (),  # unused by the CNN
}
# Training (Adam, LR 1e-2, batch 64, 1 warm-up + 5 robust epochs) and grouping (final-
# layer signatures, k = 2, PCA 10 / none) stay the preset's: the paper's recipe, unchanged.
LONG_ROBUST_EPOCHS = 20  # [ours] the sensitivity run: 4x the paper's 5 robust epochs


def colored_digits(preset: str | RunConfig = "paper_text", **overrides) -> RunConfig:
    """A paper preset moved onto Colored-Digits and the CNN (COLORED_DIGITS_UPDATES)."""
    base = get_preset(preset) if isinstance(preset, str) else preset
    return base.with_updates(**{**COLORED_DIGITS_UPDATES, **overrides})


# Notebook 15 redone on this recipe: Colored-Digits as first built (COLORED_DIGITS_UPDATES)
# without label noise, for the epoch count its design rule chose from ERM alone
# (benchmarks/design_colored_digits.py, reports/design/colored_digits.json; a test ties them).
COLORED_DIGITS_RECIPE = {"data.digits_label_noise": 0.0, "train.warmup_epochs": 1,
                         "train.robust_epochs": 19}  # E* = 20 epochs in all


def colored_digits_recipe(preset: str | RunConfig = "paper_text") -> RunConfig:
    """Colored-Digits with the suite's CNN, no label noise, the design's epochs."""
    base = get_preset(preset) if isinstance(preset, str) else preset
    return base.with_updates(**{**COLORED_DIGITS_UPDATES, **COLORED_DIGITS_RECIPE})


def colored_digits_recipe_study(base: RunConfig) -> list[RunConfig]:
    """Notebook 15: every REAL_METHODS entry on Colored-Digits redone on the recipe."""
    return real_methods(colored_digits_recipe(base))


def colored_digits_study(base: RunConfig) -> list[RunConfig]:
    """On the same splits and seeds: ERM, UGC global (the paper's), UGC per class
    (GRASP-style), JTT (error set of the warm-up model) and oracle Group DRO."""
    ugc = colored_digits(base)
    return [ugc.with_updates(**{"objective.method": "erm"}), ugc,
            ugc.with_updates(**{"grouping.scope": "per_class"}),
            ugc.with_updates(**{"objective.method": "jtt", "grouping.source": "errors"}),
            ugc.with_updates(**{"objective.method": "oracle_dro"})]


def colored_digits_long(base: RunConfig) -> list[RunConfig]:
    """Exploratory, not read by the verdict: ERM, UGC global, UGC per class and oracle
    Group DRO with a longer robust phase, to tell group inference from training budget."""
    longer = colored_digits(base, **{"train.robust_epochs": LONG_ROBUST_EPOCHS})
    return [longer.with_updates(**{"objective.method": "erm"}), longer,
            longer.with_updates(**{"grouping.scope": "per_class"}),
            longer.with_updates(**{"objective.method": "oracle_dro"})]


# ---------------------------------------------------------------- single-run studies

def warmup_config(cfg: RunConfig, lr: float) -> RunConfig:
    """The warm-up alone (notebook 02): warmup_epochs ERM epochs, no robust epochs, at lr."""
    return cfg.with_updates(**{"train.robust_epochs": 0, "objective.method": "erm",
                               "train.lr": lr})


def ugc_warmup_config(preset: str, **dotted) -> RunConfig:
    """The preset's own UGC config stopped right after clustering (robust_epochs = 0).

    The clusters are those of the full UGC run: the warm-up and the clustering do not
    depend on the robust phase.
    """
    return get_preset(preset).with_updates(**{"train.robust_epochs": 0, **dotted})


def overhead_config(model: str, preset: str) -> RunConfig:
    """The run whose fit is timed (C11): the paper's MLP on its data, or the CNN on
    Colored-Digits."""
    if model == "mlp":
        return PRESETS[preset]
    if model == "cnn":
        return colored_digits(preset)
    raise ValueError(f"model={model!r} is invalid: allowed 'mlp', 'cnn'")


# ---------------------------------------------------------------- the registry

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
    "colored_digits": colored_digits_study,
    "colored_digits_recipe": colored_digits_recipe_study,
    "colored_digits_long": colored_digits_long,
    "colored_mnist": colored_mnist_study,
    "colored_mnist_map": colored_mnist_map,
    "colored_mnist_ceiling": colored_mnist_ceiling,
    "adult": adult_study,
    "compas": compas_study,
}


def study_configs(study: str, preset: str | RunConfig, **overrides: Any) -> list[RunConfig]:
    """The configs of one study for one preset, with optional dotted overrides applied first."""
    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}: allowed {sorted(STUDIES)}")
    base = get_preset(preset) if isinstance(preset, str) else preset
    if overrides:
        base = base.with_updates(**overrides)
    return STUDIES[study](base)


# ---------------------------------------------------------------- run labels

def linear_probe_variant(model_kind: str, method: str, scope: str, source: str = "gradients") -> str:
    """Display name of a run in the Fig. 4 study."""
    if model_kind == "mlp":
        return "UGC (MLP)"
    return "linear probe (ERM)" if method == "erm" else "UGC (linear)"


UGC_METHODS = ("group_dro", "inverse_freq")  # the presets' own UGC objectives
DIGITS_VARIANT_ORDER = ("ERM", "UGC (global)", "UGC (per class)", "JTT", "oracle DRO")


def colored_digits_variant(model_kind: str, method: str, scope: str,
                           source: str = "gradients") -> str:
    """Display name of a run in the Colored-Digits studies."""
    if method in UGC_METHODS:
        return "UGC (global)" if scope == "global" else "UGC (per class)"
    return {"erm": "ERM", "jtt": "JTT", "oracle_dro": "oracle DRO"}.get(method, method)


REAL_SOURCES = {("gradients", "global"): "UGC (global)", ("gradients", "per_class"): "UGC (per class)",
                ("inputs", "per_class"): "input k-means (per class)",
                ("random", "global"): "random groups (UGC sizes)"}


def real_variant(model_kind: str, method: str, scope: str, source: str = "gradients") -> str:
    """Display name of a run in the real-data studies (real_studies.REAL_METHODS names)."""
    if method in UGC_METHODS:
        return REAL_SOURCES.get((source, scope), f"{source} ({scope})")
    return {"erm": "ERM", "oracle_dro": "oracle DRO"}.get(method, method)


# study -> (label of a run from (model.kind, objective.method, grouping.scope,
# grouping.source), label order for an ordered categorical column, or None for plain strings)
VARIANTS: dict[str, tuple[Callable[[str, str, str, str], str], tuple[str, ...] | None]] = {
    "linear_probe": (linear_probe_variant, None),
    "colored_digits": (colored_digits_variant, DIGITS_VARIANT_ORDER),
    "colored_digits_recipe": (real_variant, tuple(REAL_METHODS)),
    "colored_digits_long": (colored_digits_variant, DIGITS_VARIANT_ORDER),
    **{s: (real_variant, tuple(REAL_METHODS)) for s in ("colored_mnist", "colored_mnist_map",
                                                         "colored_mnist_ceiling", "adult", "compas")},
}


def add_variant(df: pd.DataFrame, study: str) -> pd.DataFrame:
    """Adds the "variant" column that the study's figure and claim group by."""
    if study not in VARIANTS:
        raise ValueError(f"study {study!r} has no variant labels: allowed {sorted(VARIANTS)}")
    label, order = VARIANTS[study]
    df = df.copy()
    names = [label(k, m, s, src) for k, m, s, src in
             zip(df["model.kind"], df["objective.method"], df["grouping.scope"],
                 df["grouping.source"])]
    df["variant"] = names if order is None else pd.Categorical(
        names, categories=[v for v in order if v in names])
    return df


# Notebook 13-14 labels beside the BASELINES names: references that need no training,
# the oracle, and the joiner of a paired gap's two names.
Y_ONLY = "reference: partition by y"
ONE_CLUSTER = "reference: one cluster"
REFERENCES = (Y_ONLY, ONE_CLUSTER)  # recovery scores needing no training
ORACLE = "oracle Group DRO"
GAP = " − "  # joins a method and its reference in tables.paired_gaps
CELL = ("data.core_dim", "data.spurious_corr")  # the grid of notebook 14's heatmaps


def _flat(config: dict) -> dict:
    return {f"{section}.{k}": v for section, values in config.items() if isinstance(values, dict)
            for k, v in values.items()}


def method_name(config: dict) -> str:
    """The BASELINES name of a record's config ("other" if none matches).

    Among the entries whose every override the config holds, one that names the config's
    objective.method wins over one that does not (which means "the preset's own objective
    over the inferred groups"), and then the one with more overrides.
    """
    flat = _flat(config)
    matches = [(("objective.method" in ov), len(ov), -i, name)
               for i, (name, ov) in enumerate(BASELINES.items())
               if all(flat[k] == v for k, v in ov.items())]
    return max(matches)[3] if matches else "other"


def labelled_frame(records: Sequence[dict]) -> pd.DataFrame:
    """runner.to_frame plus "method" and, for JTT, the error-set size "jtt_n_errors"."""
    df = to_frame(records)
    df["method"] = df["run"].map({i: method_name(r["config"]) for i, r in enumerate(records)})
    df["jtt_n_errors"] = df["run"].map(
        {i: r["objective_state"].get("n_errors", np.nan) for i, r in enumerate(records)})
    return df
