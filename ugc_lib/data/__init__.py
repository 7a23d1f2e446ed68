"""The dataset registry: make_dataset(cfg, seed) dispatches on cfg.dataset through DATASETS.

Each dataset is one module of this package exposing make(cfg, seed) -> Dataset,
input_dim(cfg) -> int and check(cfg) (raises ValueError naming the field). Adding a
dataset is that module plus one line in DATASETS. The package holds data only (no
verdicts, figures or studies) and imports nothing else of ugc_lib: config validates
data.dataset against DATASETS. Files that are fetched at install time (Adult, COMPAS)
live in store.data_dir(); `python -m ugc_lib.data.fetch` fetches them, and a missing
file is an error naming that command. Nothing is downloaded at run time.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from . import adult, colored_digits, colored_mnist, compas, synthetic
from .base import GROUP_NAMES, GROUP_ORDER, SPLITS, Dataset, Split, group_counts, group_id
from .synthetic import make_synthetic

if TYPE_CHECKING:
    from ..config import DataConfig

DATASETS: dict[str, ModuleType] = {
    "synthetic": synthetic,
    "colored_digits": colored_digits,
    "colored_mnist": colored_mnist,
    "adult": adult,
    "compas": compas,
}


def dataset_module(name: str) -> ModuleType:
    """The module of dataset `name`; an unknown name lists the valid ones."""
    if name not in DATASETS:
        raise ValueError(f"data.dataset={name!r} is invalid: allowed one of {tuple(DATASETS)}")
    return DATASETS[name]


def make_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """The dataset cfg.dataset names, for one seed: the one entry point runs use."""
    return dataset_module(cfg.dataset).make(cfg, seed)


__all__ = ["DATASETS", "GROUP_NAMES", "GROUP_ORDER", "SPLITS", "Dataset", "Split", "dataset_module",
           "group_counts", "group_id", "make_dataset", "make_synthetic"]
