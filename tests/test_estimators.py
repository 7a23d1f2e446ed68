"""The scikit-learn estimators: sklearn's own checks, inputs as users have them (the
five failing inputs of the issue), errors, any torch model, and agreement with train.fit."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from ugc_lib import GradientGroups, UGCClassifier, group_report
from ugc_lib.config import DataConfig
from ugc_lib.data import make_synthetic
from ugc_lib.group_report import cluster_recovery
from ugc_lib.gradients import loop_signatures
from ugc_lib.train import fit as train_fit, run_experiment

# Small settings: sklearn's checks fit dozens of times on tiny data.
FAST = dict(hidden_dims=(8,), batch_size=32, kmeans_n_init=1, kmeans_max_iter=10, pca_dim=None)

# Checks that must fail, with the reason (scikit-learn marks them xfail). None do: both
# estimators pass every check that runs. (scikit-learn itself skips its array-API checks
# unless SCIPY_ARRAY_API=1 is set; neither estimator claims array-API support.)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {"GradientGroups": {}, "UGCClassifier": {}}


@parametrize_with_checks([GradientGroups(**FAST), UGCClassifier(robust_epochs=2, **FAST)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS[type(est).__name__])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def shortcut_data(n: int = 120, seed: int = 0):
    """X (n, 4) float64: three noisy copies of y and the shortcut s; y, s in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.where(rng.random(n) < 0.9, y, 1 - y)
    X = np.column_stack([y[:, None] + rng.normal(0, 1.0, (n, 3)), s]).astype(np.float64)
    return X, y, s


# ---------------------------------------------------------------- the five inputs

def test_float64_X_works_and_equals_float32():
    X, y, _ = shortcut_data()
    a = UGCClassifier(random_state=0, **FAST).fit(X, y)
    b = UGCClassifier(random_state=0, **FAST).fit(X.astype(np.float32), y)
    assert np.array_equal(a.predict(X), b.predict(X.astype(np.float32)))
    assert a.predict_proba(X).shape == (len(X), 2)


def test_int32_labels_work_and_come_back_as_given():
    X, y, _ = shortcut_data()
    clf = UGCClassifier(random_state=0, **FAST).fit(X, y.astype(np.int32))
    pred = clf.predict(X)
    assert pred.dtype == np.int32 and set(pred) <= {0, 1}
    assert clf.score(X, y.astype(np.int32)) > 0.5


def test_dataframe_works_and_names_a_non_numeric_column():
    X, y, _ = shortcut_data()
    df = pd.DataFrame(X, columns=["a", "b", "c", "shortcut"])
    clf = UGCClassifier(random_state=0, **FAST).fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "shortcut"]
    assert clf.config_["data"]["feature_names"] == ["a", "b", "c", "shortcut"]
    assert np.array_equal(clf.predict(df), UGCClassifier(random_state=0, **FAST).fit(X, y).predict(X))
    with pytest.raises(ValueError, match=r"X column 'colour' has dtype .*allowed numeric"):
        UGCClassifier(**FAST).fit(df.assign(colour=["red", "blue"] * (len(df) // 2)), y)


def test_spurious_in_minus_one_plus_one_gives_four_groups():
    X, y, s = shortcut_data()
    s_pm = np.where(s == 1, 1, -1)
    clf = UGCClassifier(random_state=0, **FAST).fit(X, y, groups=s_pm)
    assert clf.group_keys_ == [(0, -1), (0, 1), (1, -1), (1, 1)]
    assert np.array_equal(np.unique(clf.groups_), [0, 1, 2, 3])
    assert clf.config_["objective"]["method"] == "oracle_dro"
    assert all("worst_group_acc" in row for row in clf.history_)


def test_spurious_in_zero_two_does_not_collide():
    # 2y + s would give 2 for both (y=0, s=2) and (y=1, s=0).
    X, y, s = shortcut_data()
    s02 = 2 * s
    clf = UGCClassifier(random_state=0, **FAST).fit(X, y, groups=s02)
    assert clf.group_keys_ == [(0, 0), (0, 2), (1, 0), (1, 2)]
    a = clf.groups_[(y == 0) & (s02 == 2)]
    b = clf.groups_[(y == 1) & (s02 == 0)]
    assert len(a) and len(b) and set(a).isdisjoint(b)


def test_any_labels_and_hashable_groups():
    X, y, s = shortcut_data()
    labels = np.array(["cat", "dog"], dtype=object)[y]
    places = [("indoor",) if v else ("outdoor",) for v in s]  # tuples are hashable too
    clf = UGCClassifier(random_state=0, **FAST).fit(X, labels, groups=places)
    assert list(clf.classes_) == ["cat", "dog"] and set(clf.predict(X)) <= {"cat", "dog"}
    assert len(clf.group_keys_) == 4 and clf.group_keys_[0] == ("cat", ("indoor",))


def test_three_classes():
    X, y, _ = shortcut_data(150)
    y3 = np.where(X[:, 0] > 1.2, 2, y)
    clf = UGCClassifier(random_state=0, scope="per_class", **FAST).fit(X, y3)
    assert list(clf.classes_) == [0, 1, 2] and clf.predict_proba(X).shape == (150, 3)
    assert set(np.unique(clf.groups_)) <= set(range(6))  # class * k + cluster


# ---------------------------------------------------------------- one-line errors

def _bad(X, y, s):
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    s_nan = s.astype(float)
    s_nan[5] = np.nan
    return [
        ("nan", dict(X=X_nan, y=y), {}, "Input X contains NaN"),
        ("inf", dict(X=X_inf, y=y), {}, "Input X contains infinity"),
        ("one class", dict(X=X, y=np.zeros(len(y))), {}, "y has one class"),
        ("y length", dict(X=X, y=y[:-1]), {}, f"y has {len(y) - 1} samples but X has {len(y)}"),
        ("groups length", dict(X=X, y=y, groups=s[:-2]), {},
         f"groups has {len(y) - 2} samples but X has {len(y)}"),
        ("groups nan", dict(X=X, y=y, groups=s_nan), {}, "groups contains a missing value"),
        ("k > class", dict(X=X[:12], y=np.r_[np.zeros(10), np.ones(2)]),
         dict(scope="per_class", n_clusters=3), "n_clusters=3 is larger than class 1.0"),
        ("k > samples", dict(X=X[:4], y=y[:4]), dict(n_clusters=5),
         "n_clusters=5 is larger than the 4 samples"),
        ("one sample", dict(X=X[:1], y=y[:1]), {}, "X has 1 sample"),
        ("method", dict(X=X, y=y), dict(method="jtt"), "method='jtt' is invalid"),
        ("groups with erm", dict(X=X, y=y, groups=s), dict(method="erm"),
         "groups are used only by method='group_dro'"),
        ("layer", dict(X=X, y=y), dict(layer="nope"), "layer='nope' is not a layer of MLP"),
        ("scope", dict(X=X, y=y), dict(scope="local"), "scope='local' is invalid"),
        ("lr", dict(X=X, y=y), dict(lr=-1.0), "train.lr=-1.0 is invalid"),
        ("width", dict(X=X, y=y), dict(model=lambda d, c: nn.Linear(d, 3)),
         r"model maps \(B, 4\) inputs to shape"),
    ]


@pytest.mark.parametrize("case", range(15))
def test_bad_input_gives_a_one_line_error_naming_the_field(case):
    X, y, s = shortcut_data(40)
    name, args, params, message = _bad(X, y, s)[case]
    args = dict(args)
    clf = UGCClassifier(**{**FAST, "random_state": 0, **params})
    with pytest.raises(ValueError, match=message) as err:
        clf.fit(args.pop("X"), args.pop("y"), **args)
    assert "\n" not in str(err.value), name


def test_gradient_groups_errors_name_the_field():
    X, y, _ = shortcut_data(40)
    with pytest.raises(ValueError, match="pca_dim=50 is invalid"):
        GradientGroups(pca_dim=50, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"model=3 is invalid"):
        GradientGroups(model=3, **FAST).fit(X, y)


# ---------------------------------------------------------------- the same pipeline

def test_classifier_equals_train_fit_for_the_same_settings(tiny_cfg):
    ds = make_synthetic(tiny_cfg.data, 0)
    X, y = ds.train.X, ds.train.y
    ref = train_fit(tiny_cfg, X, y, seed=0, progress=False)
    clf = UGCClassifier(hidden_dims=(32, 32), pca_dim=5, kmeans_n_init=3, kmeans_max_iter=50,
                        batch_size=32, robust_epochs=2, random_state=0).fit(X, y)
    assert np.array_equal(clf.clusters_, ref["clusters"])
    for (name, a), b in zip(ref["model"].state_dict().items(), clf.model_.state_dict().values()):
        assert torch.equal(a, b), name
    clf = clf.fit(X, y, groups=ds.train.s)
    # the ids of the (y, s) pairs present, in sorted order: the partition of 2y + s
    assert len(set(zip(clf.groups_, ds.train.groups))) == len(np.unique(ds.train.groups))
    assert sorted(set(clf.groups_)) == list(range(len(np.unique(ds.train.groups))))
    oracle_cfg = tiny_cfg.with_updates(**{"objective.method": "oracle_dro"})
    ref = train_fit(oracle_cfg, X, y, seed=0, true_groups=clf.groups_, progress=False)
    assert torch.equal(ref["model"].final.weight, clf.model_.final.weight)


def test_gradient_groups_gives_the_classifiers_clusters():
    X, y, _ = shortcut_data()
    for scope in ("global", "per_class"):
        groups = GradientGroups(scope=scope, random_state=3, **FAST).fit(X, y)
        clf = UGCClassifier(scope=scope, random_state=3, **FAST).fit(X, y)
        assert np.array_equal(groups.labels_, clf.clusters_)
        assert groups.signatures_.shape == (len(X), 8 * 2 + 2)
    per_class = groups.labels_
    assert set(per_class[y == 0]) <= {0, 1} and set(per_class[y == 1]) <= {2, 3}


def test_config_data_section_comes_from_the_arrays():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(341, 31)), rng.integers(0, 2, 341)
    clf = UGCClassifier(random_state=0, **FAST).fit(X, y)
    data = clf.config_["data"]
    assert (data["dataset"], data["n_samples"], data["input_dim"], data["n_classes"]) == \
        ("arrays", 341, 31, 2)
    assert clf.config_["grouping"]["where"] == ["final.weight", "final.bias"]


def test_run_experiment_refuses_a_dataset_its_config_does_not_describe(tiny_cfg):
    other = make_synthetic(DataConfig(n_samples=120, split_sizes=(60, 30, 30)), 0)
    with pytest.raises(ValueError, match=r"data.split_sizes=\(100, 50, 50\) does not match"):
        run_experiment(tiny_cfg, 0, dataset=other, progress=False)


def test_fit_leaves_the_callers_random_state_and_threads_alone():
    X, y, _ = shortcut_data()
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    UGCClassifier(random_state=0, threads=1, **FAST).fit(X, y)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic


# ---------------------------------------------------------------- any torch model

class HeadFirst(nn.Module):
    """The output layer is registered before the encoder, so "the last nn.Linear
    registered" would be the encoder's; the default must be the last one called."""

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        self.head = nn.Linear(6, n_classes)
        self.encoder = nn.Sequential(nn.Linear(n_features, 6), nn.Tanh())

    def forward(self, x):
        return self.head(self.encoder(x))


def test_model_factory_default_layer_is_the_last_linear_called():
    X, y, _ = shortcut_data()
    groups = GradientGroups(model=HeadFirst, random_state=0, **FAST).fit(X, y)
    assert groups.signature_parameters_ == ["head.weight", "head.bias"]
    assert isinstance(groups.model_, HeadFirst)
    names = groups.signature_parameters_
    expected = loop_signatures(groups.model_, torch.as_tensor(X, dtype=torch.float32),
                               torch.as_tensor(y), names).double().numpy()
    assert np.allclose(groups.signatures_, expected, atol=1e-6)


def test_a_named_layer_forms_the_signature():
    X, y, _ = shortcut_data()
    groups = GradientGroups(model=HeadFirst, layer="encoder.0", random_state=0, **FAST).fit(X, y)
    assert groups.signature_parameters_ == ["encoder.0.weight", "encoder.0.bias"]
    assert groups.signatures_.shape == (len(X), 6 * 4 + 6)
    clf = UGCClassifier(model=lambda d, c: HeadFirst(d, c), layer="encoder", random_state=0,
                        **FAST).fit(X, y)
    assert clf.signature_parameters_ == ["encoder.0.weight", "encoder.0.bias"]
    assert clf.score(X, y) > 0.5
    with pytest.raises(ValueError, match=r"layer='decoder' is not a layer of HeadFirst: allowed "
                                         r"None \(the final nn.Linear\) or one of "
                                         r"\['head', 'encoder.0'\]"):
        GradientGroups(model=HeadFirst, layer="decoder", **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"layer='encoder.1' has no parameters"):
        GradientGroups(model=HeadFirst, layer="encoder.1", **FAST).fit(X, y)  # the Tanh


def test_a_trained_model_is_used_as_it_is_and_never_modified():
    X, y, _ = shortcut_data()
    torch.manual_seed(0)
    net = HeadFirst(4, 2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    groups = GradientGroups(model=net, random_state=0, **FAST).fit(X, y)  # no warm-up
    assert net.training and groups.model_ is net and groups.config_["train"] is None
    expected = loop_signatures(net, torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y),
                               ["head.weight", "head.bias"]).double().numpy()
    assert np.allclose(groups.signatures_, expected, atol=1e-6)
    UGCClassifier(model=net, random_state=0, **FAST).fit(X, y)  # trains a copy
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


class Matrix(nn.Module):
    """x @ W, a layer that is not an nn.Linear."""

    def __init__(self, d: int, c: int):
        super().__init__()
        self.weight = nn.Parameter(0.1 * torch.randn(d, c))

    def forward(self, x):
        return x @ self.weight


class NoLinear(nn.Module):
    def __init__(self, d: int, c: int):
        super().__init__()
        self.mix = Matrix(d, c)

    def forward(self, x):
        return self.mix(x)


def test_a_model_without_linear_layer_must_name_its_layer():
    X, y, _ = shortcut_data()
    with pytest.raises(ValueError, match=r"layer=None needs a model with an nn.Linear layer.*\['mix'\]"):
        GradientGroups(model=NoLinear, **FAST).fit(X, y)
    groups = GradientGroups(model=NoLinear, layer="mix", random_state=0, **FAST).fit(X, y)
    assert groups.signature_parameters_ == ["mix.weight"]
    assert groups.signatures_.shape == (len(X), 4 * 2)


def test_a_bare_linear_model_works():
    X, y, _ = shortcut_data()
    clf = UGCClassifier(model=lambda d, c: nn.Linear(d, c), random_state=0, **FAST).fit(X, y)
    assert clf.signature_parameters_ == ["weight", "bias"] and clf.score(X, y) > 0.5


# ---------------------------------------------------------------- metrics

def test_group_report_by_hand():
    rep = group_report(["a", "a", "b", "b", "b"], ["a", "b", "b", "b", "a"],
                       ["x", "y", "x", "y", "y"])
    assert rep.counts == {"x": 2, "y": 3}
    assert rep.group_accuracy == {"x": 1.0, "y": pytest.approx(1 / 3)}
    assert rep.accuracy == pytest.approx(3 / 5) and rep.worst_group == "y"
    assert rep.worst_group_accuracy == pytest.approx(1 / 3)
    assert "worst-group accuracy 0.333 (group y)" in str(rep)
    pairs = group_report([0, 1], [0, 0], np.array([[0, -1], [1, -1]]))  # rows as tuples
    assert pairs.group_accuracy == {(0, -1): 1.0, (1, -1): 0.0}
    with pytest.raises(ValueError, match="y_true, y_pred and groups have 2, 2 and 3 samples"):
        group_report([0, 1], [0, 1], ["a", "b", "c"])


def test_cluster_recovery_is_one_for_the_true_groups():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array(["u", "v", "u", "v", "u", "v"])
    perfect = np.array([5, 6, 7, 8, 5, 8])
    out = cluster_recovery(perfect, y, s)
    assert out["ari_ys"] == pytest.approx(1.0) and out["nmi_ys"] == pytest.approx(1.0)
    assert out["ari_s"] < 1.0 and out["worst_group_f1"] == pytest.approx(1.0)
    # clusters = the labels: group (0, "v") (1 sample) is best matched by cluster 0
    # (3 samples, 1 shared): F1 = 2 * 1 / (1 + 3)
    by_label = cluster_recovery(y, y, s)
    assert by_label["ari_y"] == pytest.approx(1.0)
    assert by_label["worst_group_f1"] == pytest.approx(0.5)


def test_works_in_a_pipeline_and_a_grid_search():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _ = shortcut_data()
    pipe = make_pipeline(StandardScaler(), UGCClassifier(random_state=0, **FAST))
    search = GridSearchCV(pipe, {"ugcclassifier__n_clusters": [2, 3]}, cv=2).fit(X, y)
    assert search.best_params_["ugcclassifier__n_clusters"] in (2, 3)
    assert search.score(X, y) > 0.5
