"""Colored-Digits (real images, offline), the small CNN, and the C12 rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ugc_lib import claims, studies, tables
from ugc_lib.data import colored_digits as digits
from ugc_lib.config import PAPER_TEXT, DataConfig, ModelConfig, signature_dim
from ugc_lib.data import make_dataset, make_synthetic
from ugc_lib.gradients import signatures
from ugc_lib.models import SmallCNN, build_model
from ugc_lib.runner import run

SMALL = dict(dataset="colored_digits", n_samples=400, split_sizes=(200, 100, 100),
             spurious_corr=0.9, spurious_corr_test=0.5)


def small(**kw) -> DataConfig:
    return DataConfig(**{**SMALL, **kw})


def test_shapes_types_and_one_colour_channel():
    ds = make_dataset(small(), seed=0)
    for name, n in zip(("train", "val", "test"), (200, 100, 100)):
        part = ds[name]
        assert part.X.shape == (n, 128) and part.X.dtype == np.float32
        assert part.core.shape == (n, 64)
        assert set(np.unique(part.y)) <= {0, 1} and set(np.unique(part.s)) <= {0, 1}
        img = part.X.reshape(n, 2, 64)
        chosen = img[np.arange(n), part.s]
        other = img[np.arange(n), 1 - part.s]
        np.testing.assert_array_equal(chosen, part.core)
        assert not other.any()
        assert 0.0 <= part.X.min() and part.X.max() <= 1.0


def test_labels_follow_the_digit_and_the_noise():
    images, digit = digits.load_digit_images()
    for noise, lo, hi in ((0.0, 0.0, 0.0), (0.25, 0.2, 0.3)):
        cfg = DataConfig(**{**SMALL, "n_samples": 1797, "split_sizes": (1000, 297, 500),
                            "digits_label_noise": noise})
        ds = make_dataset(cfg, seed=4)
        order = np.random.default_rng(4).permutation(1797)
        parts = [ds.train, ds.val, ds.test]
        core = np.concatenate([p.core for p in parts])
        y = np.concatenate([p.y for p in parts])
        np.testing.assert_allclose(core, images[order], atol=1e-7)  # the seeded permutation
        flipped = float((y != (digit[order] < 5)).mean())
        assert lo <= flipped <= hi


def test_colour_correlation_per_split():
    cfg = DataConfig(**{**SMALL, "n_samples": 1797, "split_sizes": (1000, 297, 500),
                        "spurious_corr": 0.9, "spurious_corr_test": 0.1})
    ds = make_dataset(cfg, seed=1)
    assert abs((ds.train.s == ds.train.y).mean() - 0.9) < 0.03
    assert abs((ds.test.s == ds.test.y).mean() - 0.1) < 0.04


def test_same_seed_same_data_other_seed_differs():
    a, b, c = (make_dataset(small(), seed) for seed in (3, 3, 5))
    assert np.array_equal(a.train.X, b.train.X) and np.array_equal(a.test.y, b.test.y)
    assert not np.array_equal(a.train.X, c.train.X)


def test_synthetic_dispatch_is_make_synthetic():
    cfg = DataConfig()
    a, b = make_dataset(cfg, 2), make_synthetic(cfg, 2)
    for name in ("train", "val", "test"):
        assert np.array_equal(a[name].X, b[name].X) and np.array_equal(a[name].s, b[name].s)


def test_config_validation_names_the_field():
    with pytest.raises(ValueError, match="data.n_samples"):
        DataConfig(dataset="colored_digits", n_samples=2000, split_sizes=(1000, 500, 500))
    with pytest.raises(ValueError, match="data.s_as_input"):
        small(s_as_input=False)
    with pytest.raises(ValueError, match="data.dataset"):
        DataConfig(dataset="mnist")
    with pytest.raises(ValueError, match="data.digits_label_noise"):
        small(digits_label_noise=0.7)
    with pytest.raises(ValueError, match="model.cnn_channels"):
        ModelConfig(kind="cnn", cnn_channels=())


def test_missing_bundled_data_is_a_clear_error(monkeypatch):
    import sklearn.datasets

    def broken(*a, **k):
        raise FileNotFoundError("digits.csv.gz")

    monkeypatch.setattr(sklearn.datasets, "load_digits", broken)
    with pytest.raises(RuntimeError, match="bundled"):
        digits.load_digit_images()


def test_loading_never_touches_the_network(monkeypatch):
    import socket

    def no_network(*a, **k):
        raise AssertionError("Colored-Digits tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    images, digit = digits.load_digit_images()
    assert images.shape == (1797, 64) and len(digit) == 1797


# ---------------------------------------------------------------- the CNN

def _cnn():
    torch.manual_seed(0)
    return build_model(ModelConfig(kind="cnn", cnn_channels=(4, 6), hidden_dims=()), 128)


def test_cnn_shapes_and_interface():
    model = _cnn()
    x = torch.rand(5, 128)
    assert isinstance(model, SmallCNN) and isinstance(model.final, torch.nn.Linear)
    assert model(x).shape == (5, 2)
    assert model.features(x).shape == (5, 6 * 4 * 4)
    with pytest.raises(ValueError, match="image_side"):
        SmallCNN(100, (4,), 2, side=8)


@pytest.mark.parametrize("where", ["fc_weight", "fc", "all"])
def test_cnn_signature_paths_agree_and_match_signature_dim(where):
    model = _cnn()
    g = torch.Generator().manual_seed(1)
    X, y = torch.rand(6, 128, generator=g), torch.randint(0, 2, (6,), generator=g)
    fast = signatures(model, X, y, where=where)  # closed form or torch.func
    loop = signatures(model, X, y, where=where, method="loop")
    np.testing.assert_allclose(fast, loop, rtol=0, atol=1e-5)
    cfg = studies.colored_digits(**{"model.cnn_channels": (4, 6), "grouping.where": where})
    assert fast.shape[1] == signature_dim(cfg)


def test_a_tiny_colored_digits_run_end_to_end():
    cfg = studies.colored_digits(**{"data.n_samples": 300, "data.split_sizes": (200, 50, 50),
                                   "model.cnn_channels": (4, 8), "train.robust_epochs": 1,
                                   "grouping.kmeans_n_init": 2})
    rec = run(cfg, 0)
    assert rec["config"]["data"]["dataset"] == "colored_digits"
    assert len(rec["clusters"]) == 200 and rec["final"]["test"]["wga_ys"] >= 0


# ---------------------------------------------------------------- the study and C12

def test_study_has_every_method_on_the_same_data():
    cfgs = studies.study_configs("colored_digits", "paper_text")
    names = [studies.colored_digits_variant(c.model.kind, c.objective.method, c.grouping.scope) for c in cfgs]
    assert names == list(studies.DIGITS_VARIANT_ORDER)
    assert len({c.data for c in cfgs}) == 1 and len({c.model for c in cfgs}) == 1
    jtt = cfgs[names.index("JTT")]
    assert jtt.grouping.source == "errors"
    assert all(c.train == PAPER_TEXT.train for c in cfgs)


def _frame(erm, ugc, oracle, f1, preset="paper_text"):
    rows = []
    for seed in range(5):
        for variant, wga in (("ERM", erm[seed]), ("UGC (global)", ugc[seed]),
                             ("oracle DRO", oracle[seed])):
            for split in ("train", "test"):
                rows.append({"preset": preset, "variant": variant, "seed": seed, "epoch": 6,
                             "split": split, "wga_ys": wga, "wga_s": wga,
                             "rec_minority_f1": f1[seed]})
    return pd.DataFrame(rows)


LOW, HIGH, TOP = [0.3, 0.32, 0.28, 0.31, 0.3], [0.6, 0.62, 0.58, 0.61, 0.6], [0.7] * 5


@pytest.mark.parametrize("ugc,f1,expected", [
    (HIGH, [0.6] * 5, "reproduced"),
    (HIGH, [0.2] * 5, "not reproduced"),  # rules v2: a contradicted part is not "partly"
    (LOW, [0.6] * 5, "not reproduced"),
    (LOW, [0.2] * 5, "not reproduced"),
])
def test_verdict_c12_rule(ugc, f1, expected):
    v = claims.verdict_c12(_frame(LOW, ugc, TOP, f1), "paper_text", "ys")
    assert v.verdict == expected and v.id == "C12" and v.n_seeds == 5


def test_verdict_c12_not_testable_when_the_oracle_does_not_beat_erm():
    v = claims.verdict_c12(_frame(HIGH, TOP, HIGH, [0.6] * 5), "paper_text", "s")
    assert v.verdict == "not testable as stated"


def test_c12_table_has_one_row_per_verdict_and_no_negative_zero():
    frame = _frame(LOW, [v - 1e-4 for v in LOW], TOP, [0.6] * 5)
    table = tables.c12_table([claims.verdict_c12(frame, "paper_text", d) for d in ("s", "ys")])
    assert list(table["WGA def"]) == ["s", "ys"]
    assert not table["UGC - ERM (95% CI)"].str.contains("-0.000").any()
