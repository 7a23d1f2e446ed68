"""Numbers in prose: estimates read from the printed tables, formatted, compared and phrased.

Notebook readings and the README's generated sections quote numbers only through these
helpers, so every number in them is computed (and re-checked by nbval), and every
comparison word ("above", "all", "matches") is chosen from the numbers it describes.
An estimate is read back from a table cell printed by tables.summarize ("mean [low,
high]"), so a reading quotes exactly what the table beside it shows.
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .claims import Verdict
from .intervals import mean_ci
from .tables import NA, fmt_ci, fmt_number  # noqa: F401 (fmt_ci: re-exported for the notebooks)

# A minority F1 within this distance of the one-cluster floor is read as "at the floor"
# (the floor itself varies by about this much over seeds; notebooks 03, 04, 13, 14).
FLOOR_MARGIN = 0.05


# How the prose names a robust objective (config.objective.method) trained on the clusters.
OBJECTIVE_WORDS = {"erm": "ERM", "group_dro": "online Group DRO", "oracle_dro": "oracle Group DRO",
                   "inverse_freq": "static 1/|cluster| weights", "jtt": "JTT upweighting",
                   "feature_weight": "feature-magnitude weights"}


class Estimate(NamedTuple):
    """A mean over seeds and its 95% interval."""

    mean: float
    lo: float
    hi: float

    def ci(self, decimals: int = 3) -> str:
        """"mean [low, high]"."""
        return fmt_ci(self.mean, self.lo, self.hi, decimals)

    def m(self, decimals: int = 3) -> str:
        """The mean alone."""
        return num(self.mean, decimals)

    def side(self, reference: float = 0.0) -> str:
        """Where the interval lies against a reference: "above", "below" or "includes"."""
        if self.lo > reference:
            return "above"
        if self.hi < reference:
            return "below"
        return "includes"

    def overlaps(self, other: "Estimate") -> bool:
        """True when the two intervals share a point (unpaired: no difference resolved)."""
        return self.lo <= other.hi and other.lo <= self.hi

    def __str__(self) -> str:
        return self.ci()


def estimate(values) -> Estimate:
    """Mean and 95% interval of per-seed values (intervals.mean_ci, as the tables)."""
    return Estimate(*mean_ci(np.asarray(values, dtype=float)))


_CELL = re.compile(r"^\s*(\S+) \[(\S+), (\S+)\]\s*$")


def parse_estimate(text: str) -> Estimate:
    """The Estimate printed in a table cell "mean [low, high]"."""
    match = _CELL.match(str(text))
    if not match:
        raise ValueError(f"table cell {text!r} is not of the form 'mean [low, high]'")
    return Estimate(*(float(x) for x in match.groups()))


def num(x: float, decimals: int = 3) -> str:
    """x with a fixed number of decimals, never "-0.000"."""
    return fmt_number(float(x), decimals)


def sci(x: float) -> str:
    """A learning rate or scale as the text writes it: 0.001 -> "1e-3"; others as "%g"."""
    x = float(x)
    if x > 0:
        exponent = round(np.log10(x))
        if exponent <= -2 and np.isclose(x, 10.0 ** exponent, rtol=1e-9, atol=0):
            return f"1e{exponent}"
    return f"{x:g}"


def pct(x: float, decimals: int = 1) -> str:
    """A share as a percentage: 0.0127 -> "1.3%"."""
    return f"{num(100 * float(x), decimals)}%"


def span(values: Iterable[float], decimals: int = 3, sep: str = " to ") -> str:
    """"low to high" of the values as printed, or one number when they print the same."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("span: no values")
    low, high = num(min(vals), decimals), num(max(vals), decimals)
    return low if low == high else f"{low}{sep}{high}"


def pct_span(values: Iterable[float], decimals: int = 1) -> str:
    """span() of shares as percentages: "49.6% to 52.4%"."""
    vals = [100 * float(v) for v in values]
    low, high = num(min(vals), decimals), num(max(vals), decimals)
    return f"{low}%" if low == high else f"{low}% to {high}%"


def by_preset(values: dict[str, str]) -> str:
    """One phrase per preset, merged when they agree: "x for both presets" or
    "x for `paper_text` and y for `paper_code`"."""
    distinct = set(values.values())
    if len(values) > 1 and len(distinct) == 1:
        return f"{distinct.pop()} for {'both' if len(values) == 2 else 'all'} presets"
    return words([f"{v} for `{p}`" for p, v in values.items()])


def words(items: Sequence[str], last: str = "and") -> str:
    """"a", "a and b", "a, b and c"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def count_of(k: int, n: int) -> str:
    """"all 10", "none of the 10", "3 of 10"."""
    if n > 0 and k == n:
        return f"all {n}" if n > 2 else ("both" if n == 2 else "the one")
    return f"none of the {n}" if k == 0 else f"{k} of {n}"


def compare(a: float, b: float, decimals: int = 3) -> str:
    """"above", "below" or "equal to": a against b as printed with `decimals`."""
    ra, rb = round(float(a), decimals), round(float(b), decimals)
    return "above" if ra > rb else "below" if ra < rb else "equal to"


def growth(exponent: float, tolerance: float = 0.1) -> str:
    """How a quantity grows for a log-log slope: "about linearly", "faster than linearly", ..."""
    if abs(exponent - 1) <= tolerance:
        return "about linearly"
    return "faster than linearly" if exponent > 1 else "slower than linearly"


def _matches(column: pd.Series, value) -> pd.Series:
    if isinstance(value, (float, np.floating)) and pd.api.types.is_numeric_dtype(column):
        return pd.Series(np.isclose(column.astype(float), float(value)), index=column.index)
    return column == value


def rows(table: pd.DataFrame, **where) -> pd.DataFrame:
    """The rows of a table whose columns equal the given values ("a__b" names column "a.b")."""
    out = table
    for key, value in where.items():
        col = key.replace("__", ".")
        if col not in table.columns:
            raise KeyError(f"column {col!r} not in the table; it has {list(table.columns)}")
        out = out[_matches(out[col], value)]
    return out


def cell(table: pd.DataFrame, column: str, **where):
    """The one cell of `column` in the row matching `where`: an Estimate when the cell reads
    "mean [low, high]", None when it reads "n/a", else the raw value."""
    if column not in table.columns:
        raise KeyError(f"column {column!r} not in the table; it has {list(table.columns)}")
    found = rows(table, **where)
    if len(found) != 1:
        raise ValueError(f"{len(found)} rows match {where} (column {column!r}); need exactly one")
    value = found[column].iloc[0]
    if isinstance(value, str):
        return None if value == NA else parse_estimate(value) if _CELL.match(value) else value
    return value


def column(table: pd.DataFrame, column_name: str, **where) -> list[Estimate]:
    """Every Estimate of a column over the rows matching `where` ("n/a" cells left out)."""
    found = rows(table, **where)
    if column_name not in found.columns:
        raise KeyError(f"column {column_name!r} not in the table; it has {list(table.columns)}")
    return [parse_estimate(v) for v in found[column_name] if v != NA]


def means(estimates: Iterable[Estimate]) -> list[float]:
    return [e.mean for e in estimates]


def results_table(results: dict[str, dict], notebook: str, title: str) -> pd.DataFrame:
    """A table a notebook saved with report.save_results, from the loaded results files."""
    if notebook not in results:
        raise KeyError(f"no results for notebook {notebook!r} (have {sorted(results)}): "
                       f"run it with run_all.py")
    tables = results[notebook]["tables"]
    if title not in tables:
        raise KeyError(f"{notebook} saved no table {title!r}; it saved {sorted(tables)}")
    return pd.DataFrame(tables[title]["data"], columns=tables[title]["columns"])


def results_note(results: dict[str, dict], notebook: str, key: str):
    """A value a notebook saved under notes[key] with report.save_results."""
    notes = results.get(notebook, {}).get("notes", {})
    if key not in notes:
        raise KeyError(f"{notebook} saved no note {key!r} (notes: {sorted(notes)}): rerun it "
                       f"with run_all.py")
    return notes[key]


# ---------------------------------------------------------------- verdicts and curves

DEF_NAMES = {"s": "WGA(s)", "ys": "WGA(y,s)", "-": ""}


def verdict_bullets(verdicts: Sequence[Verdict]) -> str:
    """One Markdown bullet per verdict: claim, preset, definition, verdict, and the parts
    that decided it (each with its interval)."""
    lines = []
    for v in verdicts:
        where = f"{v.preset} {DEF_NAMES[v.definition]}".strip()
        parts = "; ".join(f"{p['name']}: {p['outcome']} ({num(p['mean'])} "
                          f"[{num((p['ci90'] or p['ci95'])[0])}, {num((p['ci90'] or p['ci95'])[1])}])"
                          for p in v.parts)
        lines.append(f"- **{v.id}**, {where}: **{v.verdict}** ({parts}).")
    return "\n".join(lines)


def mean_at(df: pd.DataFrame, metric: str, split: str, epoch: int | None = None,
            **where) -> float:
    """Mean over seeds of metric at one epoch (default: the last) for the rows matching
    where (dotted config columns written with "__")."""
    part = df[df["split"] == split]
    for col, value in where.items():
        part = part[part[col.replace("__", ".")] == value]
    epoch = int(part["epoch"].max()) if epoch is None else epoch
    return float(part.loc[part["epoch"] == epoch, metric].mean())


def trajectory(df: pd.DataFrame, metric: str, split: str, epochs: Sequence[int], **where) -> str:
    """"a → b → c": the mean of metric at each of the epochs."""
    return " → ".join(num(mean_at(df, metric, split, e, **where)) for e in epochs)
