"""Config validation, overrides, serialisation and the two presets."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch

from ugc_lib.config import (PAPER_CODE, PAPER_TEXT, PRESETS, DataConfig, GroupingConfig,
                            ObjectiveConfig, RunConfig, TrainConfig, from_dict, get_preset,
                            override, signature_dim)
from ugc_lib.gradients import signatures
from ugc_lib.models import build_model

from conftest import make_tiny


@pytest.mark.parametrize("updates,field", [
    ({"grouping.k": 0}, "grouping.k"),
    ({"grouping.k": -2}, "grouping.k"),
    ({"grouping.k": 101}, "grouping.k"),  # tiny train split has 100 samples
    ({"train.lr": 0.0}, "train.lr"),
    ({"train.lr": -1e-3}, "train.lr"),
    ({"train.lr": float("nan")}, "train.lr"),
    ({"data.spurious_corr": 1.01}, "data.spurious_corr"),
    ({"data.spurious_corr": -0.1}, "data.spurious_corr"),
    ({"data.spurious_corr_test": 1.5}, "data.spurious_corr_test"),
    ({"data.spurious_corr_test": -0.01}, "data.spurious_corr_test"),
    ({"objective.method": "bogus"}, "objective.method"),
    ({"data.split_sizes": (100, 50, 49)}, "data.split_sizes"),
    ({"data.n_samples": 201}, "data.split_sizes"),
    ({"grouping.pca_dim": 0}, "grouping.pca_dim"),
    ({"grouping.where": "everything"}, "grouping.where"),
])
def test_invalid_values_name_the_field(updates, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        make_tiny(**updates)


def test_pca_dim_larger_than_signature_dim():
    # default MLP: final weight is 2 x 32 = 64 numbers; train size 1000
    with pytest.raises(ValueError, match=re.escape("grouping.pca_dim")):
        override(PAPER_TEXT, {"grouping.where": "fc_weight", "grouping.pca_dim": 100})
    with pytest.raises(ValueError, match=re.escape("grouping.pca_dim")):
        override(PAPER_TEXT, {"grouping.where": "fc_weight", "grouping.pca_dim": 65})
    ok = override(PAPER_TEXT, {"grouping.where": "fc_weight", "grouping.pca_dim": 64})
    assert ok.grouping.pca_dim == 64


def test_pca_dim_larger_than_train_size():
    with pytest.raises(ValueError, match=re.escape("grouping.pca_dim")):
        make_tiny(**{"grouping.where": "all", "grouping.pca_dim": 101})


def test_section_level_validation_directly():
    with pytest.raises(ValueError, match=re.escape("train.lr")):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match=re.escape("grouping.k")):
        GroupingConfig(k=0)
    with pytest.raises(ValueError, match=re.escape("objective.method")):
        ObjectiveConfig(method="nope")
    with pytest.raises(ValueError, match=re.escape("data.split_sizes")):
        DataConfig(n_samples=10, split_sizes=(5, 3, 3))


def test_override_unknown_section_lists_allowed():
    with pytest.raises(ValueError) as info:
        override(PAPER_TEXT, {"optim.lr": 0.1})
    msg = str(info.value)
    assert "optim" in msg
    for section in ("data", "model", "train", "grouping", "objective"):
        assert section in msg


def test_override_unknown_field_lists_allowed():
    with pytest.raises(ValueError) as info:
        override(PAPER_TEXT, {"train.learning_rate": 0.1})
    msg = str(info.value)
    assert "learning_rate" in msg
    for name in (f.name for f in dataclasses.fields(TrainConfig)):
        assert name in msg


def test_override_unknown_top_level_key():
    with pytest.raises(ValueError, match="bogus"):
        override(PAPER_TEXT, {"bogus": 1})


def test_override_returns_new_config_and_coerces_lists():
    cfg = override(PAPER_TEXT, {"train.lr": 1e-3, "model.hidden_dims": [16, 8], "name": "x"})
    assert cfg.train.lr == 1e-3 and cfg.model.hidden_dims == (16, 8) and cfg.name == "x"
    assert PAPER_TEXT.train.lr == 1e-2  # the preset is untouched
    assert cfg.with_updates(**{"train.lr": 1e-2}).train == PAPER_TEXT.train


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_from_dict_round_trip(name):
    import json
    cfg = get_preset(name)
    assert from_dict(cfg.to_dict()) == cfg
    assert from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_get_preset_unknown():
    with pytest.raises(ValueError, match="paper_code"):
        get_preset("nope")


def _flat(cfg: RunConfig) -> dict:
    out = {}
    for key, value in cfg.to_dict().items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def test_presets_differ_exactly_as_documented():
    text, code = _flat(PAPER_TEXT), _flat(PAPER_CODE)
    diff = {k for k in text if text[k] != code[k]}
    assert diff == {"name", "grouping.where", "grouping.pca_dim", "grouping.kmeans_init",
                    "grouping.kmeans_n_init", "grouping.kmeans_max_iter", "objective.method",
                    "objective.normalize_weights"}
    assert code["grouping.where"] == "fc_weight" and text["grouping.where"] == "fc"
    assert code["grouping.pca_dim"] is None and text["grouping.pca_dim"] == 10
    assert code["grouping.kmeans_init"] == "random"
    assert code["grouping.kmeans_n_init"] == 1
    assert code["grouping.kmeans_max_iter"] == 10
    assert code["objective.method"] == "inverse_freq" and text["objective.method"] == "group_dro"
    assert code["objective.normalize_weights"] is False
    assert text["objective.normalize_weights"] is True


def test_paper_defaults_match_table1_and_script():
    c = PAPER_TEXT
    assert c.data.n_samples == 2000 and c.data.split_sizes == (1000, 500, 500)
    assert c.data.core_dim == 5 and c.data.spurious_corr == 0.95 and c.data.s_as_input
    assert c.model.hidden_dims == (32, 32) and c.model.n_classes == 2
    assert c.train.batch_size == 64 and c.train.warmup_epochs == 1
    assert c.train.robust_epochs == 5 and c.train.optimizer == "adam"
    assert c.grouping.k == 2 and c.grouping.scope == "global"


@pytest.mark.parametrize("kind", ["mlp", "linear"])
@pytest.mark.parametrize("where", ["fc_weight", "fc", "all"])
def test_signature_dim_matches_actual_signatures(kind, where):
    cfg = override(PAPER_TEXT, {"model.kind": kind, "grouping.where": where,
                                "grouping.pca_dim": None})
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.data.input_dim)
    X = np.random.default_rng(0).standard_normal((4, cfg.data.input_dim)).astype(np.float32)
    G = signatures(model, X, np.array([0, 1, 1, 0]), where=where)
    assert G.shape == (4, signature_dim(cfg))
    assert signature_dim(cfg) == sum(p.numel() for n, p in model.named_parameters()
                                     if where == "all" or n == "final.weight"
                                     or (where == "fc" and n == "final.bias"))


def test_signature_dim_paper_values():
    assert signature_dim(PAPER_CODE) == 64  # 2 x 32, as the script
    assert signature_dim(PAPER_TEXT) == 66
    assert signature_dim(override(PAPER_TEXT, {"data.s_as_input": False,
                                               "grouping.where": "all"})) == \
        5 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2
