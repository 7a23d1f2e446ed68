"""Per-sample gradient signatures: the three paths agree, and errors are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ugc_lib.gradients import (final_layer_closed_form, loop_signatures, parameter_names,
                               signatures, torch_func_signatures)
from ugc_lib.models import MLP

ATOL = 1e-5


@pytest.mark.parametrize("where", ["fc_weight", "fc"])
def test_closed_form_equals_torch_func_equals_loop(model, batch, where):
    X, y = batch
    closed = signatures(model, X, y, where=where, method="closed_form")
    func = signatures(model, X, y, where=where, method="torch_func")
    loop = signatures(model, X, y, where=where, method="loop")
    n_final = model.final.weight.numel() + (model.final.bias.numel() if where == "fc" else 0)
    assert closed.shape == func.shape == loop.shape == (len(X), n_final)
    assert closed.dtype == np.float64
    np.testing.assert_allclose(closed, loop, atol=ATOL, rtol=0)
    np.testing.assert_allclose(func, loop, atol=ATOL, rtol=0)
    # The signature is not trivially zero.
    assert np.abs(loop).max() > 1e-3


def test_closed_form_function_matches_loop_directly(batch):
    X, y = batch
    m = MLP(6, (8, 5), 2)
    m.eval()
    cf = final_layer_closed_form(m, X, y, include_bias=True, batch_size=5)  # several batches
    lp = loop_signatures(m, X, y, ["final.weight", "final.bias"])
    torch.testing.assert_close(cf, lp, atol=ATOL, rtol=0)


@pytest.mark.parametrize("where", ["all", ["final.bias", "body.0.weight"], ["final.weight"]])
def test_torch_func_equals_loop_any_parameters(batch, where):
    X, y = batch
    model = MLP(6, (8, 5), 2)
    names = parameter_names(model, where)
    params = dict(model.named_parameters())
    width = sum(params[n].numel() for n in names)
    func = signatures(model, X, y, where=where, method="torch_func")
    loop = signatures(model, X, y, where=where, method="loop")
    assert func.shape == loop.shape == (len(X), width)
    np.testing.assert_allclose(func, loop, atol=ATOL, rtol=0)


def test_explicit_list_column_order_follows_names(batch):
    X, y = batch
    model = MLP(6, (8, 5), 2)
    a = signatures(model, X, y, where=["final.bias", "final.weight"], method="loop")
    b = signatures(model, X, y, where="fc", method="loop")  # weight first, then bias
    n_w = model.final.weight.numel()
    np.testing.assert_allclose(a[:, :2], b[:, n_w:], atol=ATOL, rtol=0)
    np.testing.assert_allclose(a[:, 2:], b[:, :n_w], atol=ATOL, rtol=0)


@pytest.mark.parametrize("method", ["loop", "torch_func"])
def test_mean_of_per_sample_gradients_is_batch_gradient(model, batch, method):
    X, y = batch
    names = [n for n, _ in model.named_parameters()]
    G = signatures(model, X, y, where="all", method=method)
    model.eval()
    loss = F.cross_entropy(model(X), y)  # batch-mean loss
    grads = torch.autograd.grad(loss, [p for _, p in model.named_parameters()])
    full = torch.cat([g.reshape(-1) for g in grads]).double().numpy()
    assert G.shape[1] == len(full) == sum(p.numel() for p in model.parameters())
    assert len(names) == len(grads)
    np.testing.assert_allclose(G.mean(0), full, atol=ATOL, rtol=0)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("method", ["closed_form", "torch_func", "loop"])
def test_signatures_restore_training_flag(batch, training, method):
    X, y = batch
    model = MLP(6, (8, 5), 2)
    model.train(training)
    signatures(model, X, y, where="fc", method=method)
    assert model.training is training
    assert all(m.training is training for m in model.modules())


def test_training_flag_restored_after_error(batch):
    X, y = batch
    model = MLP(6, (8, 5), 2)
    model.train()
    with pytest.raises(ValueError):
        signatures(model, X, y, where="fc", method="bogus")
    assert model.training


@pytest.mark.parametrize("method", ["closed_form", "torch_func", "loop"])
def test_signatures_are_taken_in_eval_mode(batch, method):
    """A dropout layer must be inactive: signatures equal those of the dropout-free model."""
    X, y = batch
    torch.manual_seed(3)
    plain = MLP(6, (8, 5), 2)
    with_dropout = MLP(6, (8, 5), 2)
    with_dropout.load_state_dict(plain.state_dict())
    with_dropout.body.append(nn.Dropout(p=0.9))
    with_dropout.train()
    expected = signatures(plain, X, y, where="fc", method="loop")
    got = signatures(with_dropout, X, y, where="fc", method=method)
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)


def test_unknown_where_raises(batch):
    X, y = batch
    with pytest.raises(ValueError, match="where='bogus'"):
        signatures(MLP(6, (8,), 2), X, y, where="bogus")


def test_unknown_parameter_name_raises(batch):
    X, y = batch
    with pytest.raises(ValueError, match="no_such_param"):
        signatures(MLP(6, (8,), 2), X, y, where=["final.weight", "no_such_param"])
    with pytest.raises(ValueError):
        signatures(MLP(6, (8,), 2), X, y, where=[])


def test_closed_form_with_all_raises(batch):
    X, y = batch
    with pytest.raises(ValueError, match="closed_form"):
        signatures(MLP(6, (8,), 2), X, y, where="all", method="closed_form")


def test_unknown_method_raises(batch):
    X, y = batch
    with pytest.raises(ValueError, match="bogus"):
        signatures(MLP(6, (8,), 2), X, y, where="fc", method="bogus")
