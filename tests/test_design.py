"""The Colored MNIST design rule's choice step (benchmarks/design_colored_mnist.py), on made-up
cells: no training."""

from __future__ import annotations

from benchmarks.design_colored_mnist import DESIGN_RULE, RULE_SHA256, choose, config


def _cell(strength, mean, high):
    return {"strength": strength, "qualifies": mean <= -0.2 and high < 0,
            "erm_minus_oracle_wga_ys": {"mean": mean, "high": high}}


def test_choose_takes_the_largest_qualifying_gap_and_breaks_near_ties_to_the_subtler_colour():
    cells = [_cell(0.25, -0.30, -0.1), _cell(0.5, -0.305, -0.2), _cell(1.0, -0.5, 0.1)]
    assert choose(cells)["strength"] == 0.25  # 1.0 does not qualify; 0.25 and 0.5 near-tie
    cells = [_cell(0.25, -0.21, -0.1), _cell(0.5, -0.35, -0.2)]
    assert choose(cells)["strength"] == 0.5
    assert choose([_cell(0.25, -0.19, -0.1), _cell(0.5, -0.4, 0.01)]) is None


def test_design_configs_are_valid_and_the_rule_is_hashed():
    cfg = config(0.95, 0.25, "oracle_dro", epochs=18)
    assert cfg.train.total_epochs == 18 and cfg.data.input_dim == 3 * 14 * 14
    assert cfg.data.spurious_corr_test == 0.5 and cfg.model.kind == "cnn"
    assert len(RULE_SHA256) == 64 and "Knobs:" in DESIGN_RULE
