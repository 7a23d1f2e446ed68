"""Compare re-executed notebook outputs and result JSON with the committed ones, within tolerances."""

from __future__ import annotations

import base64
import configparser
import math
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Tolerance:
    abs: float    # |new - ref| <= max(abs, rel * |ref|, width * w) passes, where w is the mean
    rel: float    # width of the committed and the new 95% interval that the number belongs
    width: float  # to (a pooled measure of the seed-to-seed spread; 0 outside an interval)
    why: str


# Every numeric tolerance of the tolerant notebook check, by the kind of number. The kind is read
# from how the number is written (an output's text does not say what it measures); see kind_of.
# Measured against the AVX512 outputs with PyTorch's kernel switch: under ATEN_CPU_CAPABILITY=avx2
# nothing moves (notebooks 05, 12, 15); under =default the MLP notebooks do not move either, but
# the CNN of notebook 15 (and its rows in notebook 12) moves by up to 0.093 (a bound): 54 of
# its 119 moved interval numbers by more than 0.02, none by more than 0.86 of the pooled
# interval width (a mean: 0.58 of it).
TOLERANCES: dict[str, Tolerance] = {
    "integer": Tolerance(0.0, 0.0, 0.0, why=(
        "counts, sizes, seeds, epochs, k: made by NumPy's seeded generators and integer "
        "arithmetic, which give the same values on every CPU; a moved count means that the "
        "data or a clustering changed, and that must fail")),
    "mean": Tolerance(0.02, 0.0, 1.0, why=(
        "the estimate before '[lo, hi]' (a mean over seeds of an accuracy, WGA, ARI, F1 or a "
        "paired difference). 0.02 is below the gaps between methods that the notebooks draw "
        "conclusions from, and the verdicts are compared exactly. Where training is chaotic "
        "(the CNN of notebook 15: Adam at LR 1e-2 on 1,000 images) other float rounding "
        "re-draws each seed's run, and a mean of 3-5 re-drawn seeds moves by about half its "
        "interval's width (one width is about two standard errors of that move); a shift "
        "within the seed-to-seed uncertainty printed beside it supports no other conclusion")),
    "bound": Tolerance(0.02, 0.0, 1.0, why=(
        "one end of a 95% bootstrap interval over seeds: the same 0.02 as a mean where runs "
        "are stable; each end is set by one or two seeds, so where runs are chaotic it moves "
        "with them, within one pooled width, as a mean does (a bound that moves outwards "
        "widens the new interval, but can pass by at most twice the committed width)")),
    "decimal": Tolerance(0.02, 0.05, 0.0, why=(
        "any other non-integer (a per-seed value, a fraction of seeds, a ledger statistic, a "
        "loss, a norm, a ratio): 0.02 on the 0-1 scale, so that a fraction of 5 seeds (steps "
        "of 0.2) must not move at all, and 5% of the value for larger numbers (losses, "
        "norms, speed ratios), whose last digits depend on the order of float sums")),
}

# A number standing alone: not part of a word ("C12", "y0s1", "fig1") nor of a version ("2.13.0").
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?!\w|\.\d)")
WHITESPACE = re.compile(r"\s+")
OPEN, COMMA, CLOSE = (re.compile(r"\s*\[\s*"), re.compile(r"\s*,\s*"), re.compile(r"\s*\]"))


@dataclass
class Deviation:
    kind: str
    ref: float
    new: float
    where: str
    allowed: float  # the tolerance that applied to this number

    @property
    def size(self) -> float:
        return abs(self.new - self.ref)

    @property
    def share(self) -> float:
        """size / allowed: how much of its tolerance the number used (inf for an exact kind)."""
        return self.size / self.allowed if self.allowed > 0 else (math.inf if self.size else 0.0)


@dataclass
class Comparison:
    """What a comparison found: failures (each one line) and every numeric deviation."""
    failures: list[str] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)

    def extend(self, other: "Comparison") -> None:
        self.failures += other.failures
        self.deviations += other.deviations

    def largest(self, key=lambda d: d.size) -> dict[str, Deviation]:
        """Kind -> the largest non-zero deviation of that kind by key (by default its size;
        `lambda d: d.share` gives the one nearest its tolerance)."""
        out: dict[str, Deviation] = {}
        for d in self.deviations:
            if d.size > 0 and (d.kind not in out or key(d) > key(out[d.kind])):
                out[d.kind] = d
        return out

    def check(self, kind: str, ref: float, new: float, where: str, width: float = 0.0,
              shown: tuple[str, str] | None = None) -> None:
        """Record one number's deviation, and a failure if it is beyond its tolerance."""
        self.deviations.append(Deviation(kind, ref, new, where, allowed(kind, ref, width)))
        if not within(kind, ref, new, width):
            tol = TOLERANCES[kind]
            a, b = shown or (repr(ref), repr(new))
            scale = f", {tol.width:g} x pooled interval width {width:.3g}" if tol.width else ""
            self.failures.append(f"{where}: {kind} {a} -> {b} beyond its tolerance "
                                 f"{allowed(kind, ref, width):.3g} (abs {tol.abs:g}, "
                                 f"rel {tol.rel:g}{scale})")


def allowed(kind: str, ref: float, width: float = 0.0) -> float:
    """The largest |new - ref| that passes for a number of this kind (width: the pooled
    interval width)."""
    if kind not in TOLERANCES:
        raise ValueError(f"unknown number kind {kind!r}; allowed: {sorted(TOLERANCES)}")
    tol = TOLERANCES[kind]
    return max(tol.abs, tol.rel * abs(ref), tol.width * abs(width))


def within(kind: str, ref: float, new: float, width: float = 0.0) -> bool:
    """Whether new is within the tolerance of its kind of ref (width: pooled interval width)."""
    limit = allowed(kind, ref, width)
    if math.isnan(ref) or math.isnan(new):
        return math.isnan(ref) and math.isnan(new)
    return abs(new - ref) <= limit + 1e-12  # 1e-12: decimal literals parsed into floats


def split_numbers(text: str) -> tuple[list[str], list[str], list[str], list[tuple]]:
    """The text pieces between numbers (n + 1 of them), the n numbers as written, their kinds,
    and the intervals among them as (index of the mean or None, index of lo, index of hi)."""
    matches = list(NUMBER.finditer(text))
    pieces = [text[a.end() if a else 0:b.start() if b else len(text)]
              for a, b in zip([None] + matches, matches + [None])]
    literals = [m.group() for m in matches]
    kinds = [kind_of(lit, pieces[i], pieces[i + 1], pieces[i + 2] if i + 2 < len(pieces) else "")
             for i, lit in enumerate(literals)]
    intervals = []
    for i in range(len(literals) - 1):  # "mean [lo, hi]" as the tables print it, or "[lo, hi]"
        if kinds[i] == kinds[i + 1] == "bound" and COMMA.fullmatch(pieces[i + 1]):
            intervals.append((i - 1 if i > 0 and kinds[i - 1] == "mean" else None, i, i + 1))
    for i in range(len(literals) - 2):  # "[mean, lo, hi]" as a verdict's detail prints it
        three = literals[i:i + 3]
        if (OPEN.search(pieces[i]) and OPEN.search(pieces[i]).end() == len(pieces[i])
                and COMMA.fullmatch(pieces[i + 1]) and COMMA.fullmatch(pieces[i + 2])
                and CLOSE.match(pieces[i + 3]) and "integer" not in kinds[i:i + 3]
                and float(three[1]) <= float(three[0]) <= float(three[2])):
            kinds[i:i + 3] = ["mean", "bound", "bound"]
            intervals.append((i, i + 1, i + 2))
    return pieces, literals, kinds, intervals


def kind_of(literal: str, before: str, after: str, after_next: str) -> str:
    """The tolerance kind of a number from its form and its neighbours in the text:
    "integer" (no decimal point), "mean" (followed by "[lo, hi]"), "bound" (one end of a
    "[lo, hi]"), else "decimal"."""
    if re.fullmatch(r"[-+]?\d+", literal):
        return "integer"
    if OPEN.fullmatch(after) and COMMA.fullmatch(after_next):
        return "mean"
    opened = OPEN.search(before)
    if opened and opened.end() == len(before) and COMMA.fullmatch(after):
        return "bound"
    if COMMA.fullmatch(before) and CLOSE.match(after):
        return "bound"
    return "decimal"


def _norm(piece: str) -> str:
    # Runs of whitespace compare as one space: pandas pads columns to their widest entry, so a
    # number that gains a digit or a sign moves the padding of its whole column.
    return WHITESPACE.sub(" ", piece)


def compare_text(ref: str, new: str, where: str = "") -> Comparison:
    """Words and punctuation exactly (whitespace runs as one space), numbers within TOLERANCES;
    a number's kind and interval are read from the committed text."""
    out = Comparison()
    ref_pieces, ref_nums, kinds, intervals = split_numbers(ref)
    new_pieces, new_nums, new_kinds, _ = split_numbers(new)
    if (len(ref_nums) != len(new_nums)
            or [_norm(p) for p in ref_pieces] != [_norm(p) for p in new_pieces]):
        out.failures.append(f"{where}: text differs{_first_difference(ref, new)}")
        return out
    widths = [0.0] * len(ref_nums)
    for mean, lo, hi in intervals:  # pooled: the mean of the committed and the new width
        width = sum(abs(float(nums[hi]) - float(nums[lo])) for nums in (ref_nums, new_nums)) / 2
        for j in (mean, lo, hi):
            if j is not None:
                widths[j] = width
    for r_lit, n_lit, kind, n_kind, width in zip(ref_nums, new_nums, kinds, new_kinds, widths):
        if kind == "integer" and n_kind != "integer":
            kind = "decimal"  # "3" became "3.0": judged as a decimal
        out.check(kind, float(r_lit), float(n_lit), where, width, shown=(r_lit, n_lit))
    return out


def _first_difference(ref: str, new: str) -> str:
    n = next((i for i, (a, b) in enumerate(zip(ref, new)) if a != b), min(len(ref), len(new)))
    lo = max(0, n - 60)
    return f" at char {n}:\n  committed: {ref[lo:n + 60]!r}\n  now:       {new[lo:n + 60]!r}"


def _is_float(x) -> bool:
    return isinstance(x, float) or (isinstance(x, int) and not isinstance(x, bool))


def interval_of(ref) -> tuple[dict, float] | None:
    """A JSON interval: ({key or index: kind}, width) for {"mean", "ci_low", "ci_high"} (a
    claims.json row), a verdict part {"mean", "ci95": [lo, hi], ...} (its ci95 and ci90
    lists are bounds), or a [mean, lo, hi] list (a verdict's detail) with lo <= mean <= hi."""
    if isinstance(ref, dict) and all(_is_float(ref.get(k)) for k in ("mean", "ci_low", "ci_high")):
        return ({"mean": "mean", "ci_low": "bound", "ci_high": "bound"},
                ref["ci_high"] - ref["ci_low"])
    ci = ref.get("ci95") if isinstance(ref, dict) else None
    if (_is_float(ref.get("mean") if isinstance(ref, dict) else None) and isinstance(ci, list)
            and len(ci) == 2 and all(_is_float(x) for x in ci)):  # a verdict part (claims.py)
        return {"mean": "mean", "ci95": "bounds", "ci90": "bounds"}, ci[1] - ci[0]
    if (isinstance(ref, list) and len(ref) == 3 and all(_is_float(x) for x in ref)
            and any(isinstance(x, float) for x in ref) and ref[1] <= ref[0] <= ref[2]):
        return {0: "mean", 1: "bound", 2: "bound"}, ref[2] - ref[1]
    return None


def compare_json(ref, new, where: str = "", kind: str | None = None,
                 width: float = 0.0) -> Comparison:
    """Same keys, lengths and types; strings by compare_text; ints exactly; floats as
    "decimal", or as "mean"/"bound" inside an interval (see interval_of)."""
    out = Comparison()
    if isinstance(ref, (dict, list)) and type(ref) is type(new):
        if len(ref) != len(new) or (isinstance(ref, dict) and set(ref) != set(new)):
            out.failures.append(f"{where}: structure differs: committed {_shape(ref)}, "
                                f"now {_shape(new)}")
            return out
        if kind == "bounds" and isinstance(ref, list):  # a part's [lo, hi]: the part's width
            kinds = {i: "bound" for i in range(len(ref))}
        else:
            kinds, width = interval_of(ref) or ({}, 0.0)
            if kinds:
                width = (width + (interval_of(new) or ({}, width))[1]) / 2
        keys = list(ref) if isinstance(ref, dict) else range(len(ref))
        for k in keys:
            at = f"{where}.{k}" if isinstance(ref, dict) else f"{where}[{k}]"
            out.extend(compare_json(ref[k], new[k], at, kinds.get(k), width))
        return out
    if isinstance(ref, str) and isinstance(new, str):
        return compare_text(ref, new, where)
    if _is_float(ref) and _is_float(new):
        if isinstance(ref, int) and isinstance(new, int):
            kind = "integer"
        out.check(kind or "decimal", float(ref), float(new), where, width)
        return out
    if ref != new or type(ref) is not type(new):
        out.failures.append(f"{where}: {ref!r} committed, {new!r} now")
    return out


def _shape(x) -> str:
    return f"keys {sorted(x)}" if isinstance(x, dict) else f"{len(x)} items"


def compare_claims(ref: dict, new: dict) -> Comparison:
    """claims.json: the same entries, keyed by (id, preset, definition); every verdict and
    every other string identical; numbers within tolerance."""
    out = Comparison()
    key = lambda row: (row["id"], row["preset"], row["definition"])  # noqa: E731
    ref_rows = {key(r): r for r in ref["claims"]}
    new_rows = {key(r): r for r in new["claims"]}
    if set(ref_rows) != set(new_rows):
        out.failures.append(f"claims.json: entries differ: only committed "
                            f"{sorted(set(ref_rows) - set(new_rows))}, only now "
                            f"{sorted(set(new_rows) - set(ref_rows))}")
        return out
    for k, row in ref_rows.items():
        where = "claims.json " + "/".join(k)
        if row["verdict"] != new_rows[k]["verdict"]:
            out.failures.append(f"{where}: verdict {row['verdict']!r} -> "
                                f"{new_rows[k]['verdict']!r}")
        out.extend(compare_json(row, new_rows[k], where))
    return out


# --- notebook outputs -------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


def load_sanitizers(cfg_path: str | Path) -> list[tuple[str, str]]:
    """(regex, replacement) pairs from an nbval sanitize file (the same file exact mode uses)."""
    parser = configparser.ConfigParser()
    parser.read(cfg_path)
    return [(parser.get(s, "regex"), parser.get(s, "replace")) for s in parser.sections()]


def sanitize(text: str, sanitizers: list[tuple[str, str]]) -> str:
    for regex, replace in sanitizers:
        text = re.sub(regex, replace, text)
    return text


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def coalesce(outputs: list) -> list[dict]:
    """Consecutive stream outputs of one name joined into one (their split is not stable)."""
    merged: list[dict] = []
    for o in outputs:
        o = dict(o)
        if o.get("output_type") == "stream":
            o["text"] = _text(o["text"])
            last = merged[-1] if merged else {}
            if last.get("output_type") == "stream" and last["name"] == o["name"]:
                last["text"] += o["text"]
                continue
        merged.append(o)
    return merged


def is_png(b64: str) -> bool:
    try:
        return base64.b64decode(_text(b64), validate=False)[:8] == PNG_SIGNATURE
    except ValueError:
        return False


def compare_outputs(ref: list, new: list, where: str,
                    sanitizers: list[tuple[str, str]] = ()) -> Comparison:
    """One cell: the same outputs in the same order; text by compare_text after sanitizing;
    a PNG where there was one (its pixels are not compared: anti-aliasing turns any moved
    line into other pixels)."""
    out = Comparison()
    ref, new = coalesce(ref), coalesce(new)
    shape = lambda outs: [(o["output_type"], o.get("name"), sorted(o.get("data", {})))  # noqa: E731
                          for o in outs]
    if shape(ref) != shape(new):
        out.failures.append(f"{where}: outputs differ in kind: committed {shape(ref)}, "
                            f"now {shape(new)}")
        return out
    for i, (r, n) in enumerate(zip(ref, new)):
        at = f"{where} output {i}"
        if r["output_type"] == "error":
            out.failures.append(f"{at}: the committed notebook holds an error")
        elif r["output_type"] == "stream":
            out.extend(compare_text(sanitize(r["text"], sanitizers),
                                    sanitize(n["text"], sanitizers), f"{at} ({r['name']})"))
        else:
            for mime, value in r.get("data", {}).items():
                if mime in IMAGE_TYPES:
                    if mime == "image/png" and not is_png(n["data"][mime]):
                        out.failures.append(f"{at}: {mime} is not a PNG image")
                    continue
                new_value = n["data"][mime]
                if isinstance(value, (dict, list)):
                    out.extend(compare_json(value, new_value, f"{at} {mime}"))
                else:
                    out.extend(compare_text(sanitize(_text(value), sanitizers),
                                            sanitize(_text(new_value), sanitizers), f"{at} {mime}"))
    return out


def compare_notebooks(ref_nb, new_nb, name: str,
                      sanitizers: list[tuple[str, str]] = ()) -> Comparison:
    """Every code cell's outputs; cell sources must be the same (the same notebook was run).
    A cell tagged "injected-parameters" (papermill's, redirecting the outputs) is skipped."""
    out = Comparison()
    code = lambda nb: [c for c in nb["cells"] if c["cell_type"] == "code" and  # noqa: E731
                       "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    ref_cells, new_cells = code(ref_nb), code(new_nb)
    if [_text(c["source"]) for c in ref_cells] != [_text(c["source"]) for c in new_cells]:
        out.failures.append(f"{name}: the executed notebook's code cells differ from the "
                            "committed ones")
        return out
    for i, (r, n) in enumerate(zip(ref_cells, new_cells)):
        out.extend(compare_outputs(r.get("outputs", []), n.get("outputs", []),
                                   f"{name} code cell {i}", sanitizers))
    return out
