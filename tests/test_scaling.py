"""Scaling: batched signatures, the seeded blockwise JL projection, MiniBatchKMeans, and
the benchmark helpers. Properties only; no timed assertion anywhere."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

from ugc_lib import bench, claims, gradients, tables
from ugc_lib.config import GroupingConfig
from ugc_lib.gradients import (final_layer_closed_form, projection_matrix, projection_rows,
                               project, signatures)
from ugc_lib.grouping import GradientClustering, KMeans
from ugc_lib.models import MLP
from ugc_lib.runner import run

from conftest import make_tiny


@pytest.fixture
def small_blocks(monkeypatch):
    """Projection blocks of 7 rows, so small examples span many blocks."""
    monkeypatch.setattr(gradients, "PROJECTION_BLOCK_ROWS", 7)
    return 7


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(23, 6, generator=g), torch.randint(0, 2, (23,), generator=g)


def _mlp(seed=1):
    torch.manual_seed(seed)
    return MLP(6, (8, 5), 2)


# ---------------------------------------------------------------- the projection

def test_projection_is_seeded_and_deterministic():
    a = projection_matrix(50, 8, seed=3)
    b = projection_matrix(50, 8, seed=3)
    c = projection_matrix(50, 8, seed=4)
    assert a.shape == (50, 8) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_blockwise_rows_equal_the_one_shot_matrix(small_blocks):
    whole = projection_matrix(50, 5, seed=1)
    cuts = [0, 3, 4, 11, 14, 30, 50]  # boundaries that do not align with the 7-row blocks
    pieces = [projection_rows(a, b, 5, seed=1) for a, b in zip(cuts[:-1], cuts[1:])]
    assert torch.equal(torch.cat(pieces), whole)
    # R for more rows extends R for fewer: row i depends on (seed, i) only.
    assert torch.equal(projection_matrix(80, 5, seed=1)[:50], whole)


def test_project_equals_product_with_the_whole_matrix(small_blocks):
    G = torch.randn(9, 50, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(project(G, 6, seed=5), G @ projection_matrix(50, 6, seed=5),
                               rtol=1e-5, atol=1e-5)


def test_project_never_generates_more_than_one_block(small_blocks, monkeypatch):
    sizes = []
    real = gradients.projection_rows

    def spy(start, stop, dim, seed):
        sizes.append(stop - start)
        return real(start, stop, dim, seed)

    monkeypatch.setattr(gradients, "projection_rows", spy)
    project(torch.randn(4, 50), 3, seed=0)
    assert sizes and max(sizes) <= small_blocks and sum(sizes) == 50


def test_projection_approximately_preserves_pairwise_distances():
    """Johnson-Lindenstrauss on a fixed, seeded example: 20 points in 3,000 dims to 400."""
    X = torch.randn(20, 3000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    Z = project(X.float(), 400, seed=0).double()
    d_in = torch.cdist(X, X)[np.triu_indices(20, 1)]
    d_out = torch.cdist(Z, Z)[np.triu_indices(20, 1)]
    ratio = d_out / d_in
    assert float((ratio - 1).abs().max()) < 0.2
    assert abs(float(ratio.mean()) - 1) < 0.05


def test_projection_rows_rejects_bad_ranges():
    with pytest.raises(ValueError, match="start"):
        projection_rows(5, 2, 3, seed=0)


# ---------------------------------------------------------------- batched signatures

@pytest.mark.parametrize("method,where", [("closed_form", "fc"), ("closed_form", "fc_weight"),
                                          ("torch_func", "all"), ("loop", "fc")])
def test_chunked_signatures_equal_unchunked(data, method, where):
    X, y = data
    model = _mlp()
    whole = signatures(model, X, y, where=where, method=method)
    chunked = signatures(model, X, y, where=where, method=method, batch_size=4)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-6)


def test_max_floats_caps_the_batch(data, monkeypatch):
    X, y = data
    model = _mlp()
    seen = []
    real = gradients._batch_gradients
    monkeypatch.setattr(gradients, "_batch_gradients",
                        lambda method, m, Xb, *a: seen.append(len(Xb)) or real(method, m, Xb, *a))
    n_params = sum(p.numel() for p in model.parameters())
    G = signatures(model, X, y, where="all", method="torch_func", max_floats=3 * n_params)
    assert max(seen) == 3 and sum(seen) == len(X)
    np.testing.assert_allclose(G, signatures(model, X, y, where="all", method="loop"),
                               rtol=0, atol=1e-5)


def test_default_closed_form_is_bitwise_the_one_pass_formula(data):
    X, y = data
    model = _mlp()
    model.eval()
    ref = final_layer_closed_form(model, X, y, include_bias=True).double().numpy()
    assert np.array_equal(signatures(model, X, y, where="fc"), ref)


@pytest.mark.parametrize("method,where", [("closed_form", "fc"), ("torch_func", "all"),
                                          ("torch_func", ["final.bias", "body.0.weight"])])
def test_projected_signatures_equal_full_signatures_times_R(data, method, where, small_blocks):
    X, y = data
    model = _mlp()
    full = signatures(model, X, y, where=where, method=method)
    R = projection_matrix(full.shape[1], 4, seed=9).double().numpy()
    got = signatures(model, X, y, where=where, method=method, projection_dim=4,
                     projection_seed=9, batch_size=5)
    assert got.shape == (len(X), 4)
    np.testing.assert_allclose(got, full @ R, rtol=1e-4, atol=1e-5)


def test_projection_dim_must_be_positive(data):
    X, y = data
    with pytest.raises(ValueError, match="projection_dim"):
        signatures(_mlp(), X, y, projection_dim=0)
    with pytest.raises(ValueError, match="grouping.projection_dim"):
        GroupingConfig(projection_dim=0)
    with pytest.raises(ValueError, match="grouping.minibatch_kmeans_above"):
        GroupingConfig(minibatch_kmeans_above=-1)


def test_pca_dim_is_checked_against_the_projection():
    with pytest.raises(ValueError, match="grouping.pca_dim"):
        make_tiny(**{"grouping.projection_dim": 3, "grouping.pca_dim": 5})


def test_a_run_with_projection_and_minibatch_kmeans():
    cfg = make_tiny(**{"grouping.where": "all", "grouping.projection_dim": 8,
                       "grouping.minibatch_kmeans_above": 0})
    rec = run(cfg, 0)
    assert len(rec["clusters"]) == cfg.data.split_sizes[0]
    assert rec["recovery"]["n_clusters"] >= 1


def test_scaling_defaults_leave_the_paper_pipeline_alone():
    g = GroupingConfig()
    assert g.projection_dim is None and g.minibatch_kmeans_above is None


# ---------------------------------------------------------------- MiniBatchKMeans

def _blobs(n=300):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, n)
    return rng.standard_normal((n, 3)) * 0.3 + 4 * truth[:, None], truth


def test_minibatch_kmeans_above_threshold_recovers_blobs_deterministically():
    Z, truth = _blobs()
    a = GradientClustering(k=2, pca_dim=None, minibatch_above=100, random_state=0).fit(Z)
    b = GradientClustering(k=2, pca_dim=None, minibatch_above=100, random_state=0).fit(Z)
    assert adjusted_rand_score(truth, a.labels_) == 1.0
    assert np.array_equal(a.labels_, b.labels_)


def test_below_threshold_the_exact_kmeans_is_used():
    Z, _ = _blobs()
    got = GradientClustering(k=2, pca_dim=None, minibatch_above=10_000, random_state=0).fit(Z)
    exact = KMeans(2, random_state=0).fit(Z)
    assert np.array_equal(got.labels_, exact.labels_)


# ---------------------------------------------------------------- benchmark helpers

def test_fit_exponent_recovers_a_power_law():
    x = np.array([1e3, 1e4, 1e5])
    assert bench.fit_exponent(x, 3 * x ** 1.5) == pytest.approx(1.5)


def test_peak_memory_sees_a_large_allocation():
    bench.prepare_memory_measurement()
    grown, mode = bench.peak_memory(lambda: np.ones(8_000_000).sum())  # 64 MB
    assert mode in ("rss", "tracemalloc")
    assert grown >= 50e6


def _fake_bench(mlp_epoch_ratio, cnn_epoch_ratio, cnn_training_ratio):
    def rec(model, e, t):
        return {"model": model, "preset": "paper_text", "repeats": 3, "step_over_epoch": e,
                "step_over_training": t, "per_repeat_step_over_epoch": [e, e, e]}
    return {"overhead": [rec("mlp", mlp_epoch_ratio, mlp_epoch_ratio / 6),
                         rec("cnn", cnn_epoch_ratio, cnn_training_ratio)]}


@pytest.mark.parametrize("ratios,expected", [((0.5, 0.9, 0.15), "reproduced"),
                                             ((0.5, 3.0, 0.5), "not reproduced"),
                                             ((1.5, 9.0, 1.5), "not reproduced")])
def test_verdict_c11_rule(ratios, expected):
    """Rules v2: one part per model, each step / epoch below 1 (tests/test_claims_rules.py has
    the threshold cases); a model above 1 contradicts the claim."""
    v = claims.verdict_c11(_fake_bench(*ratios), "paper_text")
    assert v.verdict == expected and v.id == "C11" and v.rule == claims.RULE_C11


def test_verdict_c11_needs_both_models():
    b = _fake_bench(0.5, 0.5, 0.1)
    b["overhead"] = b["overhead"][:1]
    with pytest.raises(ValueError, match="cnn"):
        claims.verdict_c11(b, "paper_text")


def test_quick_benchmark_writes_a_complete_file(tmp_path):
    out = bench.write(tmp_path / "b.json", bench.run_benchmarks(quick=True, command="test"))
    stored = json.loads(out.read_text())
    assert stored["command"] == "test" and "torch" in stored["environment"]
    assert set(stored["signature_speed"]["speedup_vs_loop"]) == {"torch_func", "closed_form"}
    assert stored["signature_speed"]["max_abs_diff_vs_loop"]["closed_form"] < 1e-5
    assert all(r["peak_bytes"] >= 0 for r in stored["scaling"]["rows"])
    assert len(tables.exponent_table(stored)) == 4
