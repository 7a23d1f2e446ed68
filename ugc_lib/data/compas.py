"""COMPAS (ProPublica's two-year file): y = two_year_recid, s = race (African-American or not).

Read from the data folder (store.data_dir(), filled by `python -m ugc_lib.data.fetch`):
compas-scores-two-years.csv (7,214 rows). The file carries no licence: it is never
committed. Every step, in order:
  filter    ProPublica's standard filter: days_b_screening_arrest within [-30, 30] (a
            missing value fails it), is_recid != -1, c_charge_degree != "O", score_text
            != "N/A" ("N/A" is read as text, not as missing) -> 6,172 rows;
  race      rows with race African-American or Caucasian only -> 5,278 rows;
  label     y = two_year_recid (0 or 1);
  s         s = 1 for African-American, 0 for Caucasian;
  numeric   age, juv_fel_count, juv_misd_count, juv_other_count, priors_count;
  binary    sex = Male (1) or Female (0); c_charge_degree = F (felony, 1) or M (0);
  not used  the COMPAS scores (decile_score, score_text, v_*): the task is to predict
            recidivism from the record, not from the tool's own score; is_recid, r_*,
            vr_*, start / end / event: they describe the outcome itself;
  s input   with data.s_as_input the 0/1 race is the last input column, else no input;
  splits    one seeded permutation of the 5,278 rows: split_sizes (train, val, test) rows
            (the file has no test split of its own);
  scaling   with data.normalize the numeric columns are z-scored with the train split's
            mean and std (+ data.normalize_eps); binary columns stay 0/1.
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

FILE = "compas-scores-two-years.csv"
ROWS = 5_278  # after the filter, African-American and Caucasian only
RACES = {"African-American": 1, "Caucasian": 0}  # race -> s
NUMERIC = ["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count"]
BINARY = {"sex": "Male", "c_charge_degree": "F"}
USED = ["days_b_screening_arrest", "is_recid", "score_text", "race", "two_year_recid",
        *NUMERIC, *BINARY]


def input_dim(cfg: DataConfig) -> int:
    """The encoded columns, plus s when it is an input."""
    return tabular.width(NUMERIC, {}, BINARY) + int(cfg.s_as_input)


def check(cfg: DataConfig) -> None:
    """Raise ValueError naming the field when the split sizes exceed the filtered rows."""
    if sum(cfg.split_sizes) > ROWS:
        raise ValueError(f"data.split_sizes={tuple(cfg.split_sizes)} is invalid: allowed sizes "
                         f"summing to at most {ROWS} (the filtered rows) for dataset='compas'")


def propublica_filter(frame: pd.DataFrame) -> pd.DataFrame:
    """ProPublica's filter, then the two races compared; adds y and s."""
    days = pd.to_numeric(frame["days_b_screening_arrest"], errors="coerce")
    keep = ((days >= -30) & (days <= 30) & (pd.to_numeric(frame["is_recid"]) != -1)
            & (frame["c_charge_degree"] != "O") & (frame["score_text"] != "N/A")
            & frame["race"].isin(list(RACES)))
    out = frame.loc[keep].reset_index(drop=True)
    y = pd.to_numeric(out["two_year_recid"], errors="raise")
    if not y.isin([0, 1]).all():
        raise ValueError(f"{FILE}: two_year_recid holds {sorted(set(y) - {0, 1})[:3]}, "
                         f"allowed 0 or 1")
    return out.assign(y=y.astype(np.int64), s=out["race"].map(RACES).astype(np.int64))


@lru_cache(maxsize=2)
def _table(path: str, stamp: tuple) -> pd.DataFrame:
    """The filtered file, parsed once per process (stamp: size and time, so an edit re-reads)."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
    missing = [c for c in USED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing: allowed ProPublica's "
                         f"{FILE} with its header")
    return propublica_filter(frame[USED])


def load_table() -> pd.DataFrame:
    """The filtered rows of compas-scores-two-years.csv, from the data folder."""
    path = data_file(FILE)
    return _table(str(path), (path.stat().st_size, path.stat().st_mtime_ns))


def make_compas(cfg: DataConfig, seed: int) -> Dataset:
    """The COMPAS splits for one seed. Same (cfg, seed) and file give the same arrays."""
    table = load_table()
    index = tabular.seeded_split(len(table), cfg.split_sizes, seed, f"{FILE} (filtered)")
    frames = dict(zip(("train", "val", "test"), (table.iloc[i] for i in index)))
    encoded = {name: tabular.encode(f, NUMERIC, {}, BINARY, f"compas {name}")
               for name, f in frames.items()}
    X = tabular.scale({k: v[0] for k, v in encoded.items()}, encoded["train"][1], cfg.normalize,
                      cfg.normalize_eps)
    return Dataset(**{name: Split(**tabular.split_fields(X[name], f["y"].to_numpy(),
                                                        f["s"].to_numpy(), cfg.s_as_input))
                      for name, f in frames.items()})


make = make_compas
