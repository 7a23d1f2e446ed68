"""Shared fixtures: a tiny run configuration and an isolated result cache."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from ugc_lib.config import PAPER_TEXT, RunConfig, override
from ugc_lib.models import LinearProbe, MLP

TINY_UPDATES = {
    "name": "tiny",
    "data.n_samples": 200,
    "data.split_sizes": (100, 50, 50),
    "train.batch_size": 32,
    "train.warmup_epochs": 1,
    "train.robust_epochs": 2,
    "grouping.pca_dim": 5,
    "grouping.kmeans_n_init": 3,
    "grouping.kmeans_max_iter": 50,
}


def make_tiny(**dotted) -> RunConfig:
    """The tiny config, with further "section.field" overrides."""
    return override(override(PAPER_TEXT, TINY_UPDATES), dotted)


@pytest.fixture
def tiny_cfg() -> RunConfig:
    return make_tiny()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Never touch ~/.cache: the default cache dir points into this test's tmp_path."""
    cache = tmp_path / "ugc_cache"
    monkeypatch.setenv("UGC_CACHE_DIR", str(cache))
    monkeypatch.setenv("UGC_NO_PROGRESS", "1")
    # Unit tests compute their own runs: a run the committed store holds would otherwise come
    # back from it, and a test comparing two ways of computing it would compare two reads.
    # The notebook step of the test command (UGC_STORE_STRICT=1) renders from the store.
    if os.environ.get("UGC_STORE_STRICT") != "1":
        monkeypatch.setenv("UGC_STORE_DIR", "off")
        monkeypatch.delenv("UGC_STORE_RECORD", raising=False)
    return cache


@pytest.fixture
def batch():
    """A small (X, y) batch with 6 input features, 2 classes."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(12, 6, generator=g)
    y = torch.randint(0, 2, (12,), generator=g)
    return X, y


def _mlp() -> MLP:
    torch.manual_seed(1)
    return MLP(6, (8, 5), 2)


def _probe() -> LinearProbe:
    torch.manual_seed(2)
    return LinearProbe(6, 2)


@pytest.fixture(params=["mlp", "linear"])
def model(request):
    return _mlp() if request.param == "mlp" else _probe()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
