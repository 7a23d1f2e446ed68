# %% [markdown]
# # 12 · The claims ledger, its stability and the deviation log
#
# **What this is.** One verdict per claim of the paper (C1–C14, `shared/paper/CLAIMS.md`),
# under both presets (`paper_text`, `paper_code`) and, wherever worst-group accuracy is
# involved, under both definitions (WGA(s) and WGA(y,s)). Every rule lives in
# `ugc_lib/claims.py` (one registry, `CLAIMS`), was committed before the numbers it judges,
# and has one of five answers: reproduced, partly reproduced, not reproduced,
# **inconclusive** (the data cannot decide at this number of seeds) and not testable as
# stated. A claim that says "matches" or quotes a number is an equivalence test with a
# stated margin; a claim of direction is tested against a stated minimal effect; a
# multi-part claim is "partly" only when no part is contradicted.
#
# **How it is checked.** A pilot on seeds the ledger never uses plans the seed count; the
# ledger then judges every claim over its seeds (BCa intervals, paired by seed) and
# re-judges every verdict on two disjoint halves of those seeds: a verdict that says
# "reproduced" on one half and "not reproduced" on the other is a decisive flip, and
# there must be none. Then the **deviation log**: every choice the paper leaves open, and
# whether changing it flips a verdict (each alternative is run, not argued).

# %% tags=["parameters"]
n_seeds = 100
n_seeds_cnn = 20
deviation_seeds = 10  # both sides of every flip check (a budget choice, stated below)
weight_decay_seeds = 300  # C10: at 100 seeds its verdict flipped between the seed halves
paper_seeds = [0, 1, 2]
pilot_seeds = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]
jobs = 2
results_dir = "../reports/results"
claims_path = "../reports/claims.json"
claims_v1_path = "../reports/claims_v1.json"
benchmarks_path = "../reports/benchmarks.json"
figures_dir = "../reports/figures"

# %%
import json

import pandas as pd
from IPython.display import Markdown, display

from ugc_lib import PAPER_CODE, PAPER_TEXT, bench, claims, diagnostics, figures, ledger, report

pd.set_option("display.width", 220)
pd.set_option("display.max_colwidth", 90)
presets = {cfg.name: cfg for cfg in (PAPER_TEXT, PAPER_CODE)}
seeds = list(range(n_seeds))
cnn_seeds = list(range(n_seeds_cnn))
study_seeds = {"weight_decay": list(range(weight_decay_seeds))}
print(f"seeds per synthetic verdict: {len(seeds)} (floor {claims.MIN_SEEDS}); "
      f"per CNN verdict: {len(cnn_seeds)} (floor {claims.MIN_SEEDS_CNN})")
if len(seeds) < claims.MIN_SEEDS or len(cnn_seeds) < claims.MIN_SEEDS_CNN:
    print("WARNING: fewer seeds than the floor: these verdicts are not the ledger's")

# %% [markdown]
# ## Planning the number of seeds
# A pilot over seeds disjoint from the ledger's: for every part of every rule, the number
# of seeds at which its interval's half-width falls below the part's distance to its
# decision boundary (its margin or threshold). Parts whose pilot mean sits on the boundary
# need more seeds than any budget: their verdicts are expected to stay inconclusive, by
# the rule, not by hand.

# %%
pilot = [v for cfg in presets.values() for v in ledger.evaluate(cfg, pilot_seeds, jobs=jobs)]
power = ledger.power_table(pilot)
need = power.groupby("claim", sort=False)["seeds needed"].agg(["median", "max"]).astype(int)
display(need.rename(columns={"median": "median over parts", "max": "largest part"}))
over = power[power["seeds needed"] > len(seeds)]
print(f"{len(power)} parts planned; {len(power) - len(over)} need at most {len(seeds)} seeds; "
      f"{len(over)} need more (expected to stay undecided at n = {len(seeds)}).")

# %% [markdown]
# ## Judging every claim

# %%
baseline = {name: ledger.evaluate(cfg, seeds, jobs=jobs, study_seeds=study_seeds)
            for name, cfg in presets.items()}
print("seeds per study: " + ", ".join(f"{s}: {len(v)}" for s, v in study_seeds.items())
      + f"; every other study: {len(seeds)}")
three_seed = []
for name, cfg in presets.items():
    for v in ledger.evaluate(cfg, paper_seeds, jobs=jobs, studies=("headline",)):
        if v.id == "C3":
            v.id = "C3 (3 seeds)"
            three_seed.append(v)
groupings = {n: cfg.grouping for n, cfg in presets.items()}
c4_al, c4_linear = claims.c4_frames(PAPER_TEXT.data, seeds, groupings)  # judged again on halves
c4 = claims.c4_verdicts(PAPER_TEXT.data, seeds, groupings, al=c4_al, linear=c4_linear)
c14_checks = diagnostics.c14_checks(list(presets), seeds)
c14 = claims.verdict_c14(c14_checks)
stored_bench = bench.load(benchmarks_path)  # written by `python -m benchmarks`
c11 = [claims.verdict_c11(stored_bench, name) for name in presets]
c12 = [v for cfg in presets.values()
       for v in ledger.evaluate(cfg, cnn_seeds, jobs=jobs, studies=("colored_mnist",))]
verdicts = (baseline["paper_text"] + baseline["paper_code"] + three_seed + c4 + c11 + c12
            + [c14] + claims.verdict_c13(list(presets)))
print(f"{len(verdicts)} verdicts; the ledger table follows the stability check below")

# %% [markdown]
# ## Stability: every verdict on two disjoint halves of the seeds, then the ledger
# C11 is judged over timing repeats of one run, not seeds, and C13 is not computed; the
# three-seed C3 row is the paper's protocol. Every other verdict is recomputed on the
# first and the second half of its seeds with the same rules. A verdict whose halves give
# different decisive answers is not decided at this number of seeds: the stability rule
# (`claims.settle_by_halves`, shared/STATISTICS.md) makes it inconclusive.

# %%
halves = (seeds[: len(seeds) // 2], seeds[len(seeds) // 2:])
cnn_halves = (cnn_seeds[: len(cnn_seeds) // 2], cnn_seeds[len(cnn_seeds) // 2:])


def judged_on(part, cnn_part, half):
    own = {s: v[: len(v) // 2] if half == 0 else v[len(v) // 2:] for s, v in study_seeds.items()}
    out = [v for cfg in presets.values()
           for v in ledger.evaluate(cfg, part, jobs=jobs, study_seeds=own)]
    out += claims.c4_verdicts(PAPER_TEXT.data, part, groupings, al=c4_al[c4_al["seed"].isin(part)],
                              linear=c4_linear[c4_linear["seed"].isin(part)])
    out += [v for cfg in presets.values()
            for v in ledger.evaluate(cfg, cnn_part, jobs=jobs, studies=("colored_mnist",))]
    out.append(claims.verdict_c14(c14_checks[c14_checks["seed"].isin(part)]))
    return out


stability_table, stability = ledger.stability(judged_on(halves[0], cnn_halves[0], 0),
                                              judged_on(halves[1], cnn_halves[1], 1))
print(f"verdicts compared: {stability['compared']}; agree: {stability['agree']}; "
      f"decisive flips: {stability['decisive_flips']}; changes to or from inconclusive: "
      f"{stability['to_or_from_inconclusive']}")
display(stability_table[~stability_table["agree"]])
settled = [f"{v.id} {v.preset} {v.definition}" for v in
           claims.settle_by_halves(verdicts, stability_table)
           if "before_stability_rule" in v.detail]
left = [f"{v.id} {v.preset} {v.definition}" for v in verdicts
        if v.verdict in claims.DECISIVE and ((stability_table["claim"] == v.id)
        & (stability_table["preset"] == v.preset) & (stability_table["WGA def"] == v.definition)
        & stability_table["decisive flip"]).any()]
print(f"stability rule: {len(settled)} verdict(s) made inconclusive ({', '.join(settled) or 'none'}); "
      f"decisive flips left in the ledger: {len(left)}")
ledger_table = report.claims_summary([v.to_dict() for v in verdicts])
display(ledger_table)
fig = figures.nb12_stability(stability_table)
_ = figures.save_figure(fig, "nb12_stability", figures_dir)

# %%
v1 = {(r["id"], r["preset"], r["definition"]): r["verdict"]
      for r in json.loads(open(claims_v1_path).read())["claims"]}
changed_v1_v2 = [v for v in verdicts if v1.get((v.id, v.preset, v.definition), v.verdict) != v.verdict]
amendments = [{**a.__dict__, "verdicts_changed": (f"{len(changed_v1_v2)} of {len(verdicts)} cells"
                                                  if a.verdicts_changed.startswith("see") else
                                                  a.verdicts_changed)}
              for a in claims.AMENDMENTS]
counts = ledger.verdict_counts(verdicts)
meta = {"rules_sha256": claims.rules_sha256(), "ci_method": claims.CI_METHOD,
        "n_seeds": {"synthetic": len(seeds), "cnn (C12)": len(cnn_seeds),
                    **{f"study {s}": len(v) for s, v in study_seeds.items()},
                    "C3 (3 seeds)": len(paper_seeds), "C11": "5 timing repeats, not seeds"},
        "margins": {cid: {"margin": m, "reason": r} for cid, (m, r) in claims.MARGINS.items()},
        "amendments": amendments, "verdict_counts": counts,
        "stability": {**stability, "halves": "first and second half of each verdict's seeds",
                      "settled_as_inconclusive": settled, "decisive_flips_left": len(left),
                      "table": stability_table.to_dict("records")}}
_ = report.write_claims_json(claims_path, verdicts, meta)

# %% [markdown]
# ## Every verdict in full: statistic, paper value, measurement, margin, rule

# %%
full = claims.verdict_table(verdicts)
full["rule"] = [v.rule for v in verdicts]
display(full)

# %% [markdown]
# ## Every part of every verdict
# Equivalence parts show the 90% interval (two one-sided tests), the others the 95%.

# %%
parts = claims.part_table(verdicts)
display(parts)

# %% [markdown]
# ## Margins and minimal effects, with their reasons (fixed before the numbers)

# %%
display(pd.DataFrame([{"claim": cid, "margin or minimal effect": m, "reason": r}
                      for cid, (m, r) in claims.MARGINS.items()]))

# %% [markdown]
# ## Amendment log
# Every change to a rule after it was first written, with its reason. The v1 → v2 change
# is compared cell by cell with the v1 ledger (`reports/claims_v1.json`, kept as it was).

# %%
display(pd.DataFrame(amendments))
display(pd.DataFrame([{"claim": v.id, "preset": v.preset, "WGA def": v.definition,
                       "v1": v1[(v.id, v.preset, v.definition)], "v2": v.verdict}
                      for v in changed_v1_v2]))

# %% [markdown]
# ## The claims, as the paper states them

# %%
display(pd.DataFrame([{"claim": c.id, "where": c.where, "paper": c.quote, "measured in": c.experiment}
                      for c in claims.CLAIMS.values()]))

# %% [markdown]
# ## Verdict counts by claim family

# %%
family = {"method (C1-C4, C14)": ["C1", "C2", "C3", "C3 (3 seeds)", "C4", "C14"],
          "ablations (C5-C10)": ["C5a", "C5b", "C5c", "C6a", "C6b", "C6c", "C7", "C8", "C9", "C10"],
          "beyond the paper (C11, C12)": ["C11", "C12"],
          "literature (C13)": ["C13"]}
by_family = pd.DataFrame([{"family": f, "verdict": v.verdict} for f, ids in family.items()
                          for v in verdicts if v.id in ids])
display(pd.crosstab(by_family["family"], by_family["verdict"]))

# %% [markdown]
# ## Verdicts that change with the preset or the WGA definition

# %%
for line in ledger.definition_flips(baseline):
    print(" -", line)

# %% [markdown]
# ## The evidence behind each "not reproduced"
# Every part that was contradicted: its test, its interval and the number of seeds.

# %%
display(parts[parts["outcome"] == claims.CONTRADICTED])

# %% [markdown]
# ## The deviation log
# Each alternative is applied to one preset (column `base`), every claim it can affect is
# re-judged with the same rules, and every verdict that changes is listed ("none" = no
# verdict changes; "decisive flips" counts the changes among reproduced, partly and not
# reproduced). For budget, both sides of every comparison use the first
# `deviation_seeds` seeds (printed below): the baseline is re-judged on those same seeds,
# so a change is due to the choice, not to the number of seeds. With fewer seeds more
# verdicts are inconclusive on both sides.

# %%
flip_seeds = seeds[:deviation_seeds]
print(f"deviation log: {len(flip_seeds)} seeds on both sides")
small = {name: ledger.evaluate(cfg, flip_seeds, jobs=jobs) for name, cfg in presets.items()}
deviations = ledger.deviation_log(small, flip_seeds, jobs=jobs)
display(deviations)

# %%
_ = report.save_results(results_dir, "12_claims",
                        tables={"Claims ledger": ledger_table, "Deviation log": deviations},
                        verdicts=verdicts)

# %% [markdown]
# ## Reading

# %%
display(Markdown(ledger.reading(verdicts, stability, changed_v1_v2, len(seeds),
                                deviations)))
