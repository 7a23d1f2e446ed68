"""Sentences for the notebooks' readings, rendered from results so that nbval re-checks every number."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from .claims import Verdict
from .tables import fmt_number

DEF_NAMES = {"s": "WGA(s)", "ys": "WGA(y,s)", "-": ""}


def num(x: float, decimals: int = 3) -> str:
    """A number as the tables print it (no "-0.000")."""
    return fmt_number(float(x), decimals)


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
