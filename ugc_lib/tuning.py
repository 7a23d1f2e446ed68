"""Equal tuning: every method's grid, the same number of points, and the grids as a table.

Each method of studies.BASELINES (UGC and ERM included) gets GRID_POINTS configs:
LR x weight decay x its own hyperparameter, with OWN_POINTS values of the latter:
  k          number of clusters (per class for per-class scopes): UGC, GEORGE-, SPARE-style,
             raw-input clustering, random groups
  eta        Group DRO's step size: oracle Group DRO
  T, lambda  JTT's identification epochs and upsampling factor, lambda in {5, 20, 50, 100}
             (Liu et al.'s range); total epochs stay the preset's (robust = total - T)
  eps        DBSCAN's radius: GRASP-style; None is GRASP's own silhouette rule (grasp.py)
  l1         DFR's penalty on the retrained final layer
A method without a hyperparameter of its own (ERM, the balancing baselines) spends the
same number of points on a finer LR x weight-decay grid over the same ranges. Every
point is then early-stopped by epoch and selected under both protocols of selection.py.
reduced=True is the real datasets' grid (the full grids there exceed the store's
30-minute recompute budget many times over): REDUCED_POINTS points for every method, at
the base config's LR (the dataset design's): a method with an own hyperparameter tries the
two values of REDUCED_OWN at the base's weight decay; one without tries the base's weight
decay and REDUCED_WEIGHT_DECAY. The values were fixed before any tuned run was looked at.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

from .config import RunConfig
from .studies import BASELINES, baseline_configs, method_name

LRS = (1e-3, 1e-2)  # [ours] the paper's sweep without 1e-4, which learns too slowly (C5a)
WEIGHT_DECAYS = (0.0, 1e-2)  # [ours] none and strong l2 (Sagawa et al.: Group DRO needs it)
# [ours] the same ranges, finer, for methods with nothing else to tune
LRS_FINE = (1e-3, 2e-3, 5e-3, 1e-2)
WEIGHT_DECAYS_FINE = (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 6e-3, 1e-2)
KS = (2, 3, 4, 5, 6, 8, 10, 12)
ETAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
JTT_POINTS = tuple(itertools.product((1, 2), (5.0, 20.0, 50.0, 100.0)))  # (T, lambda_up)
EPS = (None, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # GRASP's eps range; None: its own rule
DFR_L1 = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
OWN_POINTS = 8
GRID_POINTS = len(LRS) * len(WEIGHT_DECAYS) * OWN_POINTS
assert len(LRS_FINE) * len(WEIGHT_DECAYS_FINE) == GRID_POINTS

# own hyperparameter of each method: (label, one dict of dotted overrides per value)
_K = ("k", tuple({"grouping.k": k} for k in KS))
OWN: dict[str, tuple[str, tuple[dict[str, Any], ...]] | None] = {
    "ERM": None,
    "JTT (retrained)": ("T, lambda_up", tuple({"train.warmup_epochs": t,
                                               "objective.jtt_lambda_up": lam}
                                              for t, lam in JTT_POINTS)),
    "JTT ablation (continued, reweighted)": None,  # filled below: JTT's own axis
    "UGC global (paper)": _K,
    "UGC per class": _K,
    "GRASP-style (gradients, DBSCAN)": ("eps", tuple({"grouping.dbscan_eps": e} for e in EPS)),
    "GEORGE-style (features)": _K,
    "SPARE-style (outputs)": _K,
    "raw-input clustering": _K,
    "random groups (UGC sizes)": _K,
    "class-balanced reweighting": None,
    "class-balanced subsampling": None,
    "group-balanced subsampling (oracle)": None,
    "DFR (validation groups)": ("l1", tuple({"objective.dfr_l1": v} for v in DFR_L1)),
    "oracle Group DRO": ("eta", tuple({"objective.dro_eta": v} for v in ETAS)),
}
OWN["JTT ablation (continued, reweighted)"] = OWN["JTT (retrained)"]
assert list(OWN) == list(BASELINES), "every BASELINES method has its tuning axis here"

# The reduced grid's two values of each own hyperparameter [ours]: the default and one
# value far from it, in the method's own range (the robust-training defaults of config.py).
REDUCED_POINTS = 2
REDUCED_WEIGHT_DECAY = 1e-2  # [ours] methods with no own axis: the base's, and strong l2
REDUCED_OWN: dict[str, tuple[dict[str, Any], ...]] = {
    "k": ({"grouping.k": 2}, {"grouping.k": 4}),
    "eta": ({"objective.dro_eta": 1e-2}, {"objective.dro_eta": 1e-1}),
    "T, lambda_up": ({"train.warmup_epochs": 1, "objective.jtt_lambda_up": 20.0},
                     {"train.warmup_epochs": 2, "objective.jtt_lambda_up": 100.0}),
    "eps": ({"grouping.dbscan_eps": None}, {"grouping.dbscan_eps": 0.4}),
    "l1": ({"objective.dfr_l1": 0.0}, {"objective.dfr_l1": 1e-3}),
}
assert all(len(v) == REDUCED_POINTS for v in REDUCED_OWN.values())
assert {own[0] for own in OWN.values() if own} == set(REDUCED_OWN)


def _shared_axes(name: str, reduced: bool, base: RunConfig | None = None
                 ) -> tuple[tuple, tuple, tuple]:
    """(LRs, weight decays, own-axis points) of one method; the reduced grid reads the
    base's LR and weight decay ("base" in the printed table when there is none)."""
    own = OWN[name]
    if reduced:
        lr = base.train.lr if base is not None else "base"
        wd = base.train.weight_decay if base is not None else "base"
        if base is not None and wd == REDUCED_WEIGHT_DECAY:
            raise ValueError(f"train.weight_decay={wd!r} of the base is the reduced grid's "
                             f"second value: allowed any other")
        if own is None:
            return (lr,), (wd, REDUCED_WEIGHT_DECAY), ({},)
        return (lr,), (wd,), REDUCED_OWN[own[0]]
    if own is None:
        return LRS_FINE, WEIGHT_DECAYS_FINE, ({},)
    return LRS, WEIGHT_DECAYS, own[1]


def method_grid(name: str, base: RunConfig, reduced: bool = False) -> list[RunConfig]:
    """The configs of one method's grid on one base config (a preset or a dataset's)."""
    if name not in OWN:
        raise ValueError(f"method={name!r} is invalid: allowed {list(OWN)}")
    method = baseline_configs(base, (name,))[name]
    total = base.train.total_epochs
    lrs, wds, points = _shared_axes(name, reduced, base)
    out = []
    for lr, wd, point in itertools.product(lrs, wds, points):
        updates = {"train.lr": lr, "train.weight_decay": wd, **point}
        if "train.warmup_epochs" in point:  # T moves epochs between the phases, not the total
            updates["train.robust_epochs"] = total - point["train.warmup_epochs"]
        out.append(method.with_updates(**updates))
    return out


def grid_size(name: str, reduced: bool = False) -> int:
    lrs, wds, points = _shared_axes(name, reduced)
    return len(lrs) * len(wds) * len(points)


def tuning_configs(base: RunConfig, names=tuple(OWN), reduced: bool = False) -> list[RunConfig]:
    """Every listed method's grid on base, method after method (studies.method_name labels
    each back)."""
    return [cfg for name in names for cfg in method_grid(name, base, reduced)]


def method_of(record: dict) -> str:
    """The method a record of a tuning grid belongs to (selection.selection_rows' key)."""
    return method_name(record["config"])


def _fmt(values) -> str:
    return ", ".join("rule" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
                     for v in values)


def grid_table(reduced: bool = False) -> pd.DataFrame:
    """One row per method: its own hyperparameter and values, LRs, weight decays, points."""
    rows = []
    for name, own in OWN.items():
        lrs, wds, points = _shared_axes(name, reduced)
        values = "none (finer LR x weight decay)" if own is None else "; ".join(
            _fmt(p.values()) for p in points)
        rows.append({"method": name, "own hyperparameter": "-" if own is None else own[0],
                     "values": values, "LR": _fmt(lrs), "weight decay": _fmt(wds),
                     "grid points": grid_size(name, reduced)})
    return pd.DataFrame(rows)


def print_grids(reduced: bool = False) -> pd.DataFrame:
    """Prints grid_table (and returns it): the grids notebook 13 states."""
    table = grid_table(reduced)
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(table.to_string(index=False))
    return table
