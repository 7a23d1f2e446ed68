"""Fitting without side effects: seed through repro, then restore the caller's random
states, thread counts and deterministic flag; random_state to an int seed."""

from __future__ import annotations

import random
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state
from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    """One controller per process: building one scans the loaded libraries (~10 ms)."""
    return ThreadpoolController()


@contextmanager
def preserve_global_state():
    """Run a block that calls repro.seed_everything, then put back the caller's Python,
    NumPy and torch random states, torch's thread count and deterministic flag, and the
    BLAS thread limits, so fitting an estimator has no side effects on the session."""
    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    with _blas_controller().limit(limits=None):  # records the BLAS limits, restores them on exit
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
            torch.set_rng_state(torch_state)
            if cuda_states is not None:
                torch.cuda.set_rng_state_all(cuda_states)
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def _seed(random_state: Any) -> int:
    """An int seed for train.fit: the int itself, or one drawn from a RandomState/None."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state={random_state} is invalid: allowed None, an "
                             f"integer >= 0 or a numpy RandomState")
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


