"""Real-data study grids (notebooks 17-19, C12): Colored MNIST with the CNN, Adult, COMPAS.

Each study maps a paper preset to RunConfigs at the design's knobs (chosen from ERM against
the oracle only: benchmarks/design_*.py, reports/design/*.json); studies.STUDIES registers
them. Run labels are studies.add_variant's ("variant" column, REAL_METHODS names).
"""

from __future__ import annotations

from typing import Any, Sequence

from .config import RunConfig, get_preset

# [ours] The knobs chosen by the committed design rules (benchmarks/design_colored_mnist.py,
# benchmarks/design_tabular.py; outputs in reports/design/*.json), from ERM against the
# oracle only. tests/test_real_studies.py checks these values against the design files.
COLORED_MNIST_UPDATES = {
    "data.dataset": "colored_mnist", "data.n_samples": 5000,
    "data.split_sizes": (3000, 1000, 1000),  # 250 test images per (y, s) group
    "data.spurious_corr": 0.99, "data.spurious_corr_test": 0.5,  # rho: the rule's step 6
    "data.color_strength": 0.25, "data.color_where": "background", "data.mnist_side": 14,
    "model.kind": "cnn", "model.hidden_dims": (), "model.cnn_channels": (8, 16),
    "model.image_side": 14,
    "train.warmup_epochs": 1, "train.robust_epochs": 18,  # E* = 19 epochs in all
}
TABULAR_SIZES = {"adult": (26_000, 6_561, 16_281), "compas": (3_278, 1_000, 1_000)}
# dataset -> s_as_input -> E* (total epochs: one warm-up epoch, the rest robust)
TABULAR_EPOCHS = {"adult": {True: 13, False: 9}, "compas": {True: 9, False: 2}}
# The rho x strength sensitivity map (notebook 17): the design's strength grid at every rho
# of the issue, the design's E* throughout; exploratory, not read by any verdict.
MAP_RHOS = (0.9, 0.95, 0.99)
MAP_STRENGTHS = (0.25, 0.5, 1.0)
# Display name -> overrides on a real-data base config: the same warm-up, epochs, optimiser
# and seeds for all; robust training over inferred groups uses the preset's own objective.
REAL_METHODS: dict[str, dict[str, Any]] = {
    "ERM": {"objective.method": "erm"},
    "UGC (global)": {"grouping.source": "gradients", "grouping.scope": "global"},
    "UGC (per class)": {"grouping.source": "gradients", "grouping.scope": "per_class"},
    # k-means on the raw inputs within each class: is the structure already in the inputs?
    "input k-means (per class)": {"grouping.source": "inputs", "grouping.scope": "per_class"},
    # the global UGC clusters with their membership permuted: UGC's sizes, random members
    "random groups (UGC sizes)": {"grouping.source": "random", "grouping.scope": "global"},
    "oracle DRO": {"objective.method": "oracle_dro"},
}
MAP_METHODS = ("ERM", "UGC (global)", "oracle DRO")
INFERRED = ("UGC (global)", "UGC (per class)", "input k-means (per class)",
            "random groups (UGC sizes)")  # the methods whose recovery columns are theirs


def colored_mnist(preset: str | RunConfig = "paper_text", **overrides) -> RunConfig:
    """A paper preset moved onto Colored MNIST and the CNN (COLORED_MNIST_UPDATES)."""
    base = get_preset(preset) if isinstance(preset, str) else preset
    return base.with_updates(**{**COLORED_MNIST_UPDATES, **overrides})


def tabular(dataset: str, s_as_input: bool, preset: str | RunConfig = "paper_text") -> RunConfig:
    """A paper preset (its MLP) on Adult or COMPAS, with the design's epochs."""
    base = get_preset(preset) if isinstance(preset, str) else preset
    sizes = TABULAR_SIZES[dataset]
    return base.with_updates(**{
        "data.dataset": dataset, "data.n_samples": sum(sizes), "data.split_sizes": sizes,
        "data.s_as_input": s_as_input, "train.warmup_epochs": 1,
        "train.robust_epochs": TABULAR_EPOCHS[dataset][s_as_input] - 1})


def real_methods(base: RunConfig, names: Sequence[str] = tuple(REAL_METHODS)) -> list[RunConfig]:
    """One config per REAL_METHODS name on one base. PCA cannot keep more dimensions than
    the raw inputs have (COMPAS: 7 or 8 columns), so input k-means keeps at most those."""
    out = []
    for name in names:
        updates = dict(REAL_METHODS[name])
        if updates.get("grouping.source") == "inputs" and base.grouping.pca_dim is not None:
            updates["grouping.pca_dim"] = min(base.grouping.pca_dim, base.data.input_dim)
        out.append(base.with_updates(**updates))
    return out


def colored_mnist_study(base: RunConfig) -> list[RunConfig]:
    """Notebook 17 and C12: every REAL_METHODS entry on Colored MNIST with the CNN."""
    return real_methods(colored_mnist(base))


def colored_mnist_map(base: RunConfig) -> list[RunConfig]:
    """rho x strength, MAP_METHODS in each cell (exploratory; test stays balanced)."""
    return [cfg for rho in MAP_RHOS for a in MAP_STRENGTHS
            for cfg in real_methods(colored_mnist(base, **{"data.spurious_corr": rho,
                                                           "data.color_strength": a}), MAP_METHODS)]


def colored_mnist_ceiling(base: RunConfig) -> list[RunConfig]:
    """ERM on the grey digit alone (colour strength 0): the design's ceiling."""
    return [colored_mnist(base, **{"data.color_strength": 0.0, "objective.method": "erm"})]


def adult_study(base: RunConfig) -> list[RunConfig]:
    """Notebook 18: every REAL_METHODS entry on Adult, s as an input and not."""
    return [c for s in (True, False) for c in real_methods(tabular("adult", s, base))]


def compas_study(base: RunConfig) -> list[RunConfig]:
    """Notebook 19: every REAL_METHODS entry on COMPAS, s as an input and not."""
    return [c for s in (True, False) for c in real_methods(tabular("compas", s, base))]
