"""The real-data studies (notebooks 17-19, C12) use the knobs the committed design chose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ugc_lib import claims, studies
from ugc_lib.real_studies import (COLORED_MNIST_UPDATES, MAP_METHODS, REAL_METHODS, TABULAR_EPOCHS,
                                  TABULAR_SIZES)

DESIGN = Path(__file__).resolve().parents[1] / "reports" / "design"


def test_colored_mnist_study_uses_the_design_choice():
    design = json.loads((DESIGN / "colored_mnist.json").read_text())
    choice = design["choice"]
    cfg = studies.study_configs("colored_mnist", "paper_text")[0]
    assert cfg.data.spurious_corr == choice["rho"]
    assert cfg.data.color_strength == choice["color_strength"]
    assert cfg.train.total_epochs == choice["epochs"]
    assert list(cfg.data.split_sizes) == design["split_sizes"]
    assert list(cfg.model.cnn_channels) == design["cnn_channels"]
    assert cfg.model.kind == "cnn" and cfg.model.image_side == cfg.data.mnist_side == 14
    assert COLORED_MNIST_UPDATES["data.color_where"] == "background"


def test_tabular_studies_use_the_design_epochs():
    cells = json.loads((DESIGN / "tabular.json").read_text())["cells"]
    for c in cells:
        assert TABULAR_EPOCHS[c["dataset"]][c["s_as_input"]] == c["epochs"]
        assert list(TABULAR_SIZES[c["dataset"]]) == c["split_sizes"]
        cfgs = studies.study_configs(c["dataset"], "paper_text")
        mine = [x for x in cfgs if x.data.s_as_input == c["s_as_input"]]
        assert len(mine) == len(REAL_METHODS)
        assert {x.train.total_epochs for x in mine} == {c["epochs"]}


@pytest.mark.parametrize("study", ["colored_mnist", "adult", "compas", "colored_mnist_map"])
@pytest.mark.parametrize("preset", ["paper_text", "paper_code"])
def test_every_run_of_a_real_study_has_a_method_label(study, preset):
    cfgs = studies.study_configs(study, preset)
    names = [studies.real_variant(c.model.kind, c.objective.method, c.grouping.scope,
                                  c.grouping.source) for c in cfgs]
    allowed = MAP_METHODS if study == "colored_mnist_map" else tuple(REAL_METHODS)
    assert set(names) == set(allowed)
    assert len(set(cfgs)) == len(cfgs)  # no duplicate config


def test_c12_reads_the_colored_mnist_study():
    assert claims.CLAIMS["C12"].study == "colored_mnist"
    assert any(a.claims == "C12" for a in claims.AMENDMENTS)


def test_colored_digits_recipe_uses_its_design_epochs_and_no_label_noise():
    design = json.loads((DESIGN / "colored_digits.json").read_text())
    cfgs = studies.study_configs("colored_digits_recipe", "paper_code")
    assert len(cfgs) == len(REAL_METHODS)
    for cfg in cfgs:
        assert cfg.train.total_epochs == design["epochs"]
        assert cfg.data.digits_label_noise == 0.0 and cfg.data.dataset == "colored_digits"
