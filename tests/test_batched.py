"""Seeds as a batch dimension: a record computed in a stack equals the record computed alone."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ugc_lib.batched import StackedObjective, batch_problem, fit_batched, run_batched
from ugc_lib.config import PAPER_CODE, PAPER_TEXT, ObjectiveConfig, override
from ugc_lib.data import make_dataset
from ugc_lib.studies import colored_digits
from ugc_lib.metrics import split_metrics, split_metrics_batched
from ugc_lib.objectives import ERM, GroupDRO, METHODS, Objective
from ugc_lib.stacked import StackedModel, stacked_linear
from ugc_lib.train import fit, run_experiment

# Small data and few epochs; grouping and objective stay the preset's. 70 = 2 x 32 + 6:
# the last batch of 6 rows meets the small products torch's bmm computes its own way.
SMALL = {"data.n_samples": 150, "data.split_sizes": (70, 40, 40), "train.batch_size": 32,
         "train.warmup_epochs": 1, "train.robust_epochs": 2}
SEEDS = {1: [5], 3: [0, 2, 7], 8: list(range(8))}
FLOAT_TOL = 1e-6


def _config(preset, method: str):
    extra = {"grouping.source": "errors"} if method in ("jtt", "jtt_retrain") else \
        {"grouping.source": "labels"} if method == "subsample" else {}
    return override(preset, {**SMALL, "objective.method": method, **extra})


def _canon(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "timings"}, sort_keys=True)


def _assert_close(a, b, path="record"):
    """Same structure; ints, strings and None equal; floats within FLOAT_TOL."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            _assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert isinstance(b, float) and (math.isclose(a, b, rel_tol=0, abs_tol=FLOAT_TOL)
                                         or (math.isnan(a) and math.isnan(b))), \
            f"{path}: {a} != {b}"
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def alone():
    """run_experiment per (preset, method, seed), computed once for the module."""
    cache: dict = {}

    def get(preset, method, seed):
        key = (preset.name, method, seed)
        if key not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # JTT's empty error set
                cache[key] = run_experiment(_config(preset, method), seed, progress=False)
        return cache[key]

    return get


# Methods the stack declines (batch_problem says why; tests/test_baseline_methods.py) run
# one seed at a time in runner.sweep, so only the others are compared here.
STACKED_METHODS = [m for m in METHODS if batch_problem(_config(PAPER_TEXT, m)) is None]


@pytest.mark.parametrize("n_seeds", sorted(SEEDS))
@pytest.mark.parametrize("method", STACKED_METHODS)
@pytest.mark.parametrize("preset", [PAPER_TEXT, PAPER_CODE], ids=["paper_text", "paper_code"])
def test_batched_record_equals_record_alone(preset, method, n_seeds, alone):
    cfg = _config(preset, method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = run_batched(cfg, SEEDS[n_seeds], progress=False)
    assert [r["seed"] for r in batch] == SEEDS[n_seeds]
    for rec in batch:
        single = alone(preset, method, rec["seed"])
        assert rec["clusters"] == single["clusters"]  # cluster assignments identical
        assert set(rec["timings"]) == set(single["timings"])
        _assert_close({k: v for k, v in rec.items() if k != "timings"},
                      {k: v for k, v in single.items() if k != "timings"})
        # and, on this machine, bitwise: every record field but the timings
        assert _canon(rec) == _canon(single)


def _tiny_cnn():
    return colored_digits("paper_code", **{
        "data.n_samples": 120, "data.split_sizes": (60, 30, 30), "model.cnn_channels": (4, 8),
        "train.batch_size": 16, "train.warmup_epochs": 1, "train.robust_epochs": 1,
        "objective.method": "group_dro"})


@pytest.mark.parametrize("cfg", [
    _config(PAPER_CODE, "group_dro"),
    override(PAPER_TEXT, {**SMALL, "model.kind": "linear", "grouping.pca_dim": None,
                          "train.weight_decay": 1e-3}),
    override(PAPER_CODE, {**SMALL, "train.optimizer": "sgd", "train.weight_decay": 1e-2,
                          "train.reset_optimizer": True}),
    _tiny_cnn(),
], ids=["mlp", "linear_wd", "mlp_sgd_reset", "cnn"])
def test_stacked_weights_and_predictions_equal_single_fits(cfg):
    seeds = [1, 4, 6]
    data = [make_dataset(cfg.data, s) for s in seeds]
    out = fit_batched(cfg, [d.train.X for d in data], [d.train.y for d in data], seeds,
                      true_groups=[d.train.groups for d in data], progress=False)
    stack = out["model"]
    for i, (seed, ds) in enumerate(zip(seeds, data)):
        single = fit(cfg, ds.train.X, ds.train.y, seed, true_groups=ds.train.groups,
                     progress=False)
        model = stack.unstack(i)
        for (name, p), (_, q) in zip(model.named_parameters(),
                                     single["model"].named_parameters()):
            assert torch.equal(p, q), name
        with torch.no_grad():
            X = torch.as_tensor(ds.test.X)
            assert torch.equal(model(X).argmax(1), single["model"](X).argmax(1))
            assert torch.equal(stack(X[None].expand(3, -1, -1))[i], single["model"](X))
        assert np.array_equal(out["clusters"][i], single["clusters"])


@pytest.mark.parametrize("kind,kwargs", [("adam", {"weight_decay": 1e-2}), ("adam", {}),
                                         ("sgd", {"weight_decay": 1e-3})])
def test_one_optimizer_over_stacked_parameters_is_independent_optimizers(kind, kwargs):
    """Adam and SGD (with weight decay) act elementwise: one optimizer over (S, *shape)
    parameters gives each seed bitwise what its own optimizer gives it."""
    g = torch.Generator().manual_seed(0)
    shapes = [(32, 6), (32,), (2, 32), (2,), (3, 5), (16, 2, 3, 3)]  # odd sizes: SIMD tails
    n_seeds = 5
    start = [torch.randn(n_seeds, *s, generator=g) for s in shapes]
    make = (lambda ps: torch.optim.Adam(ps, lr=1e-2, **kwargs)) if kind == "adam" else \
        (lambda ps: torch.optim.SGD(ps, lr=1e-2, **kwargs))
    stacked = [nn.Parameter(t.clone()) for t in start]
    alone = [[nn.Parameter(t[s].clone()) for t in start] for s in range(n_seeds)]
    opt = make(stacked)
    opts = [make(ps) for ps in alone]
    for step in range(25):
        scale = 10.0 ** (step % 7 - 5)  # gradients from 1e-5 to 10
        grads = [torch.randn(t.shape, generator=g) * scale for t in start]
        for p, gr in zip(stacked, grads):
            p.grad = gr.clone()
        opt.step()
        for s in range(n_seeds):
            for p, gr in zip(alone[s], grads):
                p.grad = gr[s].clone()
            opts[s].step()
    for i, p in enumerate(stacked):
        assert torch.equal(p.detach(), torch.stack([alone[s][i].detach() for s in range(n_seeds)]))


@pytest.mark.parametrize("n_in,n_out,batch", [(6, 32, 64), (32, 32, 40), (32, 2, 64),
                                              (512, 2, 16), (6, 2, 1000), (6, 32, 1),
                                              (6, 32, 2), (32, 2, 4), (32, 2, 6), (32, 2, 7),
                                              (6, 2, 3)])
def test_stacked_linear_matches_nn_linear_forward_and_backward(n_in, n_out, batch):
    g = torch.Generator().manual_seed(n_in * n_out + batch)
    n_seeds = 4
    layers = [nn.Linear(n_in, n_out) for _ in range(n_seeds)]
    x = torch.randn(n_seeds, batch, n_in, generator=g)
    grad_out = torch.randn(n_seeds, batch, n_out, generator=g)
    W = nn.Parameter(torch.stack([l.weight.detach() for l in layers]))
    b = nn.Parameter(torch.stack([l.bias.detach() for l in layers]))
    xb = x.clone().requires_grad_(True)
    out = stacked_linear(xb, W, b)
    out.backward(grad_out)
    for s, layer in enumerate(layers):
        xs = x[s].clone().requires_grad_(True)
        ys = layer(xs)
        ys.backward(grad_out[s])
        assert torch.equal(out[s], ys)
        assert torch.equal(W.grad[s], layer.weight.grad)
        assert torch.equal(b.grad[s], layer.bias.grad)
        assert torch.equal(xb.grad[s], xs.grad)


@pytest.mark.parametrize("n_in,n_out", [(6, 32), (32, 2), (5, 30), (30, 2)])
def test_stacked_linear_is_exact_for_every_batch_size(n_in, n_out):
    """Odd sizes put seed s of a stacked tensor off the 16-byte boundary MKL's rounding
    depends on, and tiny products take bmm's own loop: every size must still match."""
    g = torch.Generator().manual_seed(n_in + n_out)
    n_seeds = 3
    for batch in range(1, 41):
        x = torch.randn(n_seeds, batch, n_in, generator=g)
        grad_out = torch.randn(n_seeds, batch, n_out, generator=g)
        W = nn.Parameter(torch.randn(n_seeds, n_out, n_in, generator=g))
        b = nn.Parameter(torch.randn(n_seeds, n_out, generator=g))
        xb = x.clone().requires_grad_(True)
        out = stacked_linear(xb, W, b)
        out.backward(grad_out)
        for s in range(n_seeds):
            Ws = W.detach()[s].clone().requires_grad_(True)
            bs = b.detach()[s].clone().requires_grad_(True)
            xs = x[s].clone().requires_grad_(True)
            ys = F.linear(xs, Ws, bs)
            ys.backward(grad_out[s])
            assert torch.equal(out[s], ys), batch
            assert torch.equal(W.grad[s], Ws.grad), batch
            assert torch.equal(b.grad[s], bs.grad), batch
            assert torch.equal(xb.grad[s], xs.grad), batch


def test_group_dro_with_different_group_counts_per_seed():
    """Seeds whose clusters number 2, 4 and 3: q and the loss gradients are each seed's
    own GroupDRO's, bitwise (the padding of q never enters a seed's normalisation)."""
    rng = np.random.default_rng(0)
    n = 120
    cfg = ObjectiveConfig(dro_eta=0.3)
    groups = [rng.integers(0, k, n) for k in (2, 4, 3)]
    singles = [GroupDRO(gr, np.zeros((n, 1)), cfg) for gr in groups]
    stacked = StackedObjective([GroupDRO(gr, np.zeros((n, 1)), cfg) for gr in groups],
                               torch.device("cpu"))
    for _ in range(15):
        index = torch.stack([torch.as_tensor(rng.choice(n, 32, replace=False)) for _ in groups])
        losses = torch.as_tensor(rng.uniform(0, 3, index.shape), dtype=torch.float32)
        lb = losses.clone().requires_grad_(True)
        stacked.batch_loss(lb, index).backward()
        for s, obj in enumerate(singles):
            ls = losses[s].clone().requires_grad_(True)
            obj.batch_loss(ls, index[s]).backward()
            assert torch.equal(lb.grad[s], ls.grad)
            assert torch.equal(stacked.q[s, :obj.n_groups], obj.q)
            assert torch.all(stacked.q[s, obj.n_groups:] == 0)
    assert stacked.states() == [o.state() for o in singles]


def test_split_metrics_batched_equals_split_metrics():
    rng = np.random.default_rng(1)
    n_seeds, n = 6, 50
    y = rng.integers(0, 2, (n_seeds, n))
    s = np.where(rng.random((n_seeds, n)) < 0.9, y, 1 - y)
    s[0] = y[0]  # seed 0: no minority group at all
    s[1] = 1  # seed 1: one value of s only
    preds = np.where(rng.random((n_seeds, n)) < 0.8, y, 1 - y)
    losses = rng.uniform(0, 1, n_seeds)
    rows = split_metrics_batched(preds, y, s, losses)
    for i in range(n_seeds):
        expected = split_metrics(preds[i], y[i], s[i], losses[i])
        assert list(rows[i]) == list(expected)
        assert rows[i] == expected


def test_stacked_model_rejects_mixed_architectures():
    from ugc_lib.models import MLP
    with pytest.raises(ValueError, match="architecture"):
        StackedModel.from_models([MLP(6, (8,), 2), MLP(6, (9,), 2)])
    with pytest.raises(ValueError, match="cannot stack"):
        StackedModel.from_models([nn.Linear(3, 2)])


def test_a_method_with_its_own_batch_loss_is_not_batched(monkeypatch):
    class Focal(Objective):
        def batch_loss(self, losses, index):
            return (losses ** 2).mean()

    import ugc_lib.objectives as objectives
    monkeypatch.setitem(objectives.METHODS, "erm", Focal)
    cfg = _config(PAPER_CODE, "erm")
    assert "batch_loss" in batch_problem(cfg)
    with pytest.raises(ValueError, match="cannot batch"):
        run_batched(cfg, [0, 1], progress=False)
    monkeypatch.setitem(objectives.METHODS, "erm", ERM)
    assert batch_problem(cfg) is None


def test_cross_entropy_of_stacked_logits_is_row_exact():
    """The batched loss path relies on this: log-softmax of all seeds' rows at once equals
    each seed's own cross-entropy, row by row and in the per-seed mean."""
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(5, 300, 2, generator=g) * 4
    y = torch.randint(0, 2, (5, 300), generator=g)
    logp = F.log_softmax(logits.flatten(0, 1), dim=1).view_as(logits)
    for s in range(5):
        assert F.nll_loss(logp[s], y[s]).item() == F.cross_entropy(logits[s], y[s]).item()
