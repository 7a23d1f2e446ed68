"""Adult (UCI census income, CC BY 4.0): y = income > 50K, s = sex, the original test file.

Read from the data folder (store.data_dir(), filled by `python -m ugc_lib.data.fetch`):
adult.data (32,561 rows) for train and val, adult.test (16,281 rows; its first line,
"|1x3 Cross validator", is skipped) for test. Every step, in order:
  rows      all rows are kept; "?" (missing) is read as missing, never dropped;
  label     y = 1 where income is ">50K" (adult.test writes ">50K."; the dot is removed),
            else 0 ("<=50K"); any other value is an error;
  s         s = 1 for Male, 0 for Female (the sex column); (y = 1, s = 0) is the smallest
            training group, about 3.6% of adult.data;
  dropped   fnlwgt (a census sampling weight, not a trait of the person) and education
            (the same information as education-num, which is kept);
  numeric   age, education-num, log(1 + capital-gain), log(1 + capital-loss) (heavy
            tailed: mostly 0, up to 99,999), hours-per-week;
  one-hot   workclass, marital-status, occupation, relationship, race over the values
            listed in adult.names (CATEGORIES); a missing value is all zeros in its block;
  binary    native-country = United-States (1) or not (0; missing counts as not): the
            other 40 countries hold about 10% of rows between them;
  s input   with data.s_as_input the 0/1 sex is the last input column, else it is no input
            (relationship still holds Husband / Wife: a proxy of s the data keeps);
  splits    train and val: one seeded permutation of adult.data, split_sizes[0] and [1]
            rows; test: adult.test, every row when split_sizes[2] equals its row count,
            else a seeded subsample of that size;
  scaling   with data.normalize the numeric columns are z-scored with the train split's
            mean and std (+ data.normalize_eps); one-hot and binary columns stay 0/1.
core is the input without s.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import tabular
from .base import Dataset, Split
from .store import data_file

if TYPE_CHECKING:  # annotations only: config imports this package, not the reverse
    from ..config import DataConfig

TRAIN_ROWS, TEST_ROWS = 32_561, 16_281  # rows of adult.data and adult.test
COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
           "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
           "hours-per-week", "native-country", "income"]
NUMERIC = ["age", "education-num", "log-capital-gain", "log-capital-loss", "hours-per-week"]
CATEGORIES = {  # adult.names
    "workclass": ["Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov",
                  "State-gov", "Without-pay", "Never-worked"],
    "marital-status": ["Married-civ-spouse", "Divorced", "Never-married", "Separated", "Widowed",
                       "Married-spouse-absent", "Married-AF-spouse"],
    "occupation": ["Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial",
                   "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical",
                   "Farming-fishing", "Transport-moving", "Priv-house-serv", "Protective-serv",
                   "Armed-Forces"],
    "relationship": ["Wife", "Own-child", "Husband", "Not-in-family", "Other-relative",
                     "Unmarried"],
    "race": ["White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"],
}
BINARY = {"native-country": "United-States"}


def input_dim(cfg: DataConfig) -> int:
    """The encoded columns, plus s when it is an input."""
    return tabular.width(NUMERIC, CATEGORIES, BINARY) + int(cfg.s_as_input)


def check(cfg: DataConfig) -> None:
    """Raise ValueError naming the field when the split sizes do not fit the two files."""
    n_train, n_val, n_test = cfg.split_sizes
    if n_train + n_val > TRAIN_ROWS or n_test > TEST_ROWS:
        raise ValueError(f"data.split_sizes={tuple(cfg.split_sizes)} is invalid: allowed "
                         f"train + val <= {TRAIN_ROWS} (adult.data) and test <= {TEST_ROWS} "
                         f"(adult.test) for dataset='adult'")


def read_table(path, skip_first_line: bool) -> pd.DataFrame:
    """One Adult file as a frame with COLUMNS plus y, s and the log capital columns."""
    frame = pd.read_csv(path, header=None, names=COLUMNS, skipinitialspace=True,
                        na_values="?", skiprows=1 if skip_first_line else 0, index_col=False)
    income = frame["income"].astype(str).str.rstrip(".")
    bad = sorted(set(income) - {">50K", "<=50K"})
    if bad:
        raise ValueError(f"{path}: income holds {bad[:3]}, allowed '>50K' or '<=50K'")
    sex = frame["sex"].astype(str)
    if not sex.isin(["Male", "Female"]).all():
        raise ValueError(f"{path}: sex holds {sorted(set(sex) - {'Male', 'Female'})[:3]}, "
                         f"allowed 'Male' or 'Female'")
    frame["y"] = (income == ">50K").astype(np.int64)
    frame["s"] = (sex == "Male").astype(np.int64)
    for col in ("capital-gain", "capital-loss"):
        frame[f"log-{col}"] = np.log1p(pd.to_numeric(frame[col], errors="raise"))
    return frame


@lru_cache(maxsize=2)
def _tables(train_path: str, test_path: str, stamp: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both files parsed once per process (stamp: sizes and times, so an edit re-reads)."""
    return read_table(train_path, False), read_table(test_path, True)


def load_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(adult.data, adult.test) as frames, from the data folder."""
    train, test = data_file("adult.data"), data_file("adult.test")
    stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in (train, test))
    return _tables(str(train), str(test), stamp)


def make_adult(cfg: DataConfig, seed: int) -> Dataset:
    """The Adult splits for one seed. Same (cfg, seed) and files give the same arrays."""
    train_file, test_file = load_tables()
    n_train, n_val, n_test = cfg.split_sizes
    tr, va = tabular.seeded_split(len(train_file), (n_train, n_val), seed, "adult.data")
    # the test subsample has its own stream, so it does not move when train/val sizes do
    (te,) = tabular.seeded_split(len(test_file), (n_test,), seed + 1_000_003, "adult.test")
    frames = {"train": train_file.iloc[tr], "val": train_file.iloc[va], "test": test_file.iloc[te]}
    encoded = {name: tabular.encode(f, NUMERIC, CATEGORIES, BINARY, f"adult {name}")
               for name, f in frames.items()}
    is_numeric = encoded["train"][1]
    X = tabular.scale({k: v[0] for k, v in encoded.items()}, is_numeric, cfg.normalize,
                      cfg.normalize_eps)
    return Dataset(**{name: Split(**tabular.split_fields(X[name], f["y"].to_numpy(),
                                                        f["s"].to_numpy(), cfg.s_as_input))
                      for name, f in frames.items()})


make = make_adult
