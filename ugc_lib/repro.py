"""Determinism: one helper that seeds everything and pins the thread count."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def seed_everything(seed: int, threads: int = 1) -> None:
    """Seed Python, NumPy and torch; deterministic algorithms; fixed thread count."""
    seed_rngs(seed)
    torch.use_deterministic_algorithms(True, warn_only=False)
    torch.set_num_threads(threads)
    # NumPy/scikit-learn BLAS (PCA, k-means distances) too, so a run gives the same numbers
    # whether it runs alone or in a parallel sweep.
    threadpool_limits(limits=threads)
    # cuBLAS needs this for deterministic matmuls on CUDA; harmless on CPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def seed_rngs(seed: int, cpu_only: bool = False) -> None:
    """Seed Python's, NumPy's and torch's global generators (seed_everything's RNG part).

    cpu_only seeds torch's CPU generator alone, which is all that models.build_model
    draws from: torch.manual_seed also queues the CUDA seeding together with a formatted
    stack trace, about 2 ms per call, which batched.fit_batched would pay once per seed.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if cpu_only:
        torch.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("train.device='cuda' but CUDA is not available: use 'cpu' or 'auto'")
    return torch.device(name)


def environment_info() -> dict:
    """Versions and machine facts recorded in every report."""
    import sklearn

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "machine": platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
