"""Model selection (never on test) and the equal-tuning grids."""

from __future__ import annotations

import copy

import pytest

from ugc_lib import selection, studies, tables, tuning
from ugc_lib.config import PAPER_CODE, PAPER_TEXT


def _record(seed, method, val, test, name="p"):
    """A hand-made record: val and test are {epoch: (wga_ys, wca)}; epoch 1 is the warm-up."""
    history = []
    for split, table in (("val", val), ("test", test)):
        for epoch, (wga, wca) in table.items():
            history.append({"epoch": epoch, "phase": "warmup" if epoch == 1 else "robust",
                            "split": split, "acc": (wga + wca) / 2, "wga_ys": wga,
                            "wga_s": wga, "wca": wca})
    return {"seed": seed, "history": history,
            "config": {"name": name, "objective": {"method": method}}}


GRID = [  # one method's grid, one seed: epochs 1 (warm-up), 2, 3
    _record(0, "group_dro", {1: (0.99, 0.99), 2: (0.60, 0.90), 3: (0.70, 0.80)},
            {1: (0.1, 0.1), 2: (0.2, 0.3), 3: (0.4, 0.5)}),
    _record(0, "group_dro", {1: (0.99, 0.99), 2: (0.65, 0.85), 3: (0.50, 0.88)},
            {1: (0.1, 0.1), 2: (0.6, 0.7), 3: (0.8, 0.9)}),
]


def test_each_protocol_selects_its_validation_best_among_robust_epochs():
    group = selection.select(GRID, "group_wga")
    assert (group["index"], group["epoch"], group["val_score"]) == (0, 3, 0.70)
    assert group["test"]["wga_ys"] == 0.4  # the chosen model's test numbers, read afterwards
    free = selection.select(GRID, "worst_class")
    assert (free["index"], free["epoch"], free["val_score"]) == (0, 2, 0.90)
    assert free["test"]["wca"] == 0.3
    # the warm-up epoch (0.99 on validation) is never chosen for a robust method
    assert selection.selectable_epochs(GRID[0]) == [2, 3]


def test_erm_may_stop_at_any_epoch():
    erm = _record(0, "erm", {1: (0.9, 0.9), 2: (0.5, 0.5)}, {1: (0.3, 0.3), 2: (0.7, 0.7)})
    chosen = selection.select([erm], "group_wga")
    assert chosen["epoch"] == 1 and chosen["test"]["wga_ys"] == 0.3


@pytest.mark.parametrize("protocol", list(selection.PROTOCOLS))
def test_selection_never_reads_test_metrics(protocol):
    clean = selection.select(GRID, protocol)
    poisoned = copy.deepcopy(GRID)
    for record in poisoned:
        for row in record["history"]:
            if row["split"] == "test":
                for key in ("acc", "wga_ys", "wga_s", "wca"):
                    row[key] = 1e9 if row["epoch"] % 2 else float("nan")
    again = selection.select(poisoned, protocol)
    assert (again["index"], again["epoch"], again["val_score"]) == \
        (clean["index"], clean["epoch"], clean["val_score"])


def test_ties_keep_the_earlier_grid_point_and_epoch():
    tie = [_record(0, "group_dro", {1: (0, 0), 2: (0.5, 0.5), 3: (0.5, 0.5)}, {2: (0, 0), 3: (0, 0)}),
           _record(0, "group_dro", {1: (0, 0), 2: (0.5, 0.5)}, {2: (0, 0)})]
    chosen = selection.select(tie, "group_wga")
    assert (chosen["index"], chosen["epoch"]) == (0, 2)


def test_selection_refuses_bad_inputs_with_the_reason():
    with pytest.raises(ValueError, match="protocol"):
        selection.select(GRID, "test_wga")
    with pytest.raises(ValueError, match="seeds"):
        selection.select([GRID[0], _record(1, "group_dro", {2: (1, 1)}, {2: (1, 1)})], "group_wga")
    with pytest.raises(ValueError, match="empty"):
        selection.select([], "worst_class")


def test_selection_rows_cover_every_method_seed_and_protocol():
    records = GRID + [_record(1, "erm", {1: (0.5, 0.6)}, {1: (0.4, 0.4)})]
    rows = selection.selection_rows(records, lambda r: r["config"]["objective"]["method"])
    assert {(r["method"], r["seed"], r["protocol"]) for r in rows} == {
        (m, s, p) for m, s in (("group_dro", 0), ("erm", 1)) for p in selection.PROTOCOLS}


# ---------------------------------------------------------------- the grids


@pytest.mark.parametrize("reduced", [False, True])
def test_every_method_gets_the_same_number_of_grid_points(reduced):
    sizes = {name: tuning.grid_size(name, reduced) for name in tuning.OWN}
    assert set(sizes.values()) == {tuning.REDUCED_POINTS if reduced else tuning.GRID_POINTS}, sizes
    assert list(tuning.OWN) == list(studies.BASELINES)
    assert len(tuning.grid_table(reduced)) == len(studies.BASELINES)


@pytest.mark.parametrize("base", [PAPER_TEXT, PAPER_CODE], ids=lambda c: c.name)
def test_grid_configs_are_distinct_and_labelled_back_to_their_method(base):
    for name in tuning.OWN:
        grid = tuning.method_grid(name, base, reduced=True)
        assert len(set(grid)) == len(grid) == tuning.grid_size(name, reduced=True)
        for cfg in grid:
            assert tuning.method_of({"config": cfg.to_dict()}) == name
            assert cfg.train.total_epochs == base.train.total_epochs
    jtt = tuning.method_grid("JTT (retrained)", base)
    assert {c.objective.jtt_lambda_up for c in jtt} == {5.0, 20.0, 50.0, 100.0}
    assert {c.train.warmup_epochs for c in jtt} == {1, 2}
    for name in tuning.OWN:  # the reduced grid keeps the base's LR; one axis of two values
        grid = tuning.method_grid(name, base, reduced=True)
        assert {c.train.lr for c in grid} == {base.train.lr}
        varied = [f for f in ("train.weight_decay", "grouping.k", "objective.dro_eta",
                              "objective.jtt_lambda_up", "grouping.dbscan_eps",
                              "objective.dfr_l1")
                  if len({tables.get_field(c, f) for c in grid}) > 1]
        assert len(varied) == 1, (name, varied)


def test_the_reduced_grid_refuses_a_base_whose_weight_decay_is_its_second_value():
    with pytest.raises(ValueError, match="train.weight_decay"):
        tuning.method_grid("ERM", PAPER_TEXT.with_updates(**{
            "train.weight_decay": tuning.REDUCED_WEIGHT_DECAY}), reduced=True)


def test_print_grids_prints_one_line_per_method(capsys):
    tuning.print_grids()
    out = capsys.readouterr().out
    for name in studies.BASELINES:
        assert name in out
