"""Model selection over a method's grid: the (config, epoch) chosen on validation, never test.

Two protocols, both reading only the validation rows of each record's per-epoch history:
  group_wga    validation WGA(y,s): the field's usual protocol; reads validation group
               labels (Sagawa et al., 2020; Liu et al., 2021; Idrissi et al., 2022)
  worst_class  validation worst-class accuracy: needs no group label (SubpopBench's
               label-free protocol); UGC's "no group labels" claim is judged under it
Early stopping is part of the choice: any epoch the method would output may be selected
(selectable_epochs). Ties go to the earlier record of the grid, then the earlier epoch.
The chosen model's test row is looked up only after the choice is made, so poisoning every
test number leaves the choice unchanged (tests/test_selection.py).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

PROTOCOLS: dict[str, tuple[str, str]] = {  # name -> (validation metric, what it reads)
    "group_wga": ("wga_ys", "validation WGA(y,s); reads validation group labels"),
    "worst_class": ("wca", "validation worst-class accuracy; no group labels"),
}
TEST_METRICS = ("acc", "wga_ys", "wga_s", "wca")


def _check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is invalid: allowed {sorted(PROTOCOLS)}")
    return PROTOCOLS[protocol][0]


def selectable_epochs(record: dict) -> list[int]:
    """The epochs whose model the method outputs: the robust phase's (the warm-up model is
    ERM's, or JTT's identification model, or DFR's base); ERM's every epoch, since its
    two phases are one method; every epoch when there is no robust phase."""
    epochs = sorted({h["epoch"] for h in record["history"]})
    robust = sorted({h["epoch"] for h in record["history"] if h["phase"] == "robust"})
    if record["config"]["objective"]["method"] == "erm" or not robust:
        return epochs
    return robust


def _val_rows(record: dict) -> dict[int, dict]:
    return {h["epoch"]: h for h in record["history"] if h["split"] == "val"}


def select(records: Sequence[dict], protocol: str) -> dict:
    """The grid point and epoch one protocol selects among `records` (one method's grid,
    one seed), and that model's test metrics.

    Returns {"protocol", "index" (into records), "config", "epoch", "val_score",
    "test": {metric: value}}. Raises ValueError on an empty grid, on records of several
    seeds, or when no selectable epoch has a finite validation score.
    """
    metric = _check_protocol(protocol)
    if not records:
        raise ValueError("records is empty: allowed one method's grid of records for one seed")
    seeds = sorted({r["seed"] for r in records})
    if len(seeds) != 1:
        raise ValueError(f"records hold seeds {seeds}: allowed the grid of one seed")
    best = None  # (score, index, epoch)
    for i, record in enumerate(records):
        val = _val_rows(record)
        for epoch in selectable_epochs(record):
            score = val[epoch][metric]
            if not (isinstance(score, (int, float)) and math.isfinite(score)):
                continue
            if best is None or score > best[0]:  # strict: ties keep the earlier choice
                best = (float(score), i, epoch)
    if best is None:
        raise ValueError(f"no record has a finite validation {metric!r} at a selectable epoch")
    score, i, epoch = best
    test = next(h for h in records[i]["history"] if h["split"] == "test" and h["epoch"] == epoch)
    return {"protocol": protocol, "index": i, "config": records[i]["config"], "epoch": epoch,
            "val_score": score, "test": {m: test.get(m) for m in TEST_METRICS}}


def select_both(records: Sequence[dict]) -> dict[str, dict]:
    """select(records, protocol) for each protocol."""
    return {p: select(records, p) for p in PROTOCOLS}


def selection_rows(records: Sequence[dict], method_of: Callable[[dict], str],
                   extra: Callable[[dict], dict] | None = None) -> list[dict]:
    """One row per (method, seed, protocol) of a sweep over several methods' grids:
    method, seed, protocol, selected epoch and grid index, validation score, test metrics,
    plus extra(record) of the selected record (e.g. its recovery scores)."""
    by_cell: dict[tuple[str, int], list[dict]] = {}
    for record in records:
        by_cell.setdefault((method_of(record), record["seed"]), []).append(record)
    rows = []
    for (method, seed), grid in by_cell.items():
        for protocol, chosen in select_both(grid).items():
            rows.append({"method": method, "seed": seed, "protocol": protocol,
                         "epoch": chosen["epoch"], "grid_index": chosen["index"],
                         "val_score": chosen["val_score"], **chosen["test"],
                         **(extra(grid[chosen["index"]]) if extra else {})})
    return rows
