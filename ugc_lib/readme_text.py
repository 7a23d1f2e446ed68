"""The README's generated prose ("What the notebooks show", "Beyond the paper") from results JSON.

Each bullet reads the tables and notes the notebooks saved (report.save_results) and
chooses its wording from those numbers, so the README carries no typed result and no
sentence that the numbers contradict. run_all.py writes the sections between their
markers; tests/test_reports.py fails when they are stale.
"""

from __future__ import annotations

from .config import PAPER_CODE, PAPER_TEXT
from .readings import (FLOOR_MARGIN, OBJECTIVE_WORDS, Estimate, by_preset, cell, column,
                       count_of, means, num, pct, pct_span, results_note, results_table, rows, sci,
                       span, words)
from .studies import CORE_DIMS, GAP, KS, LRS, ORACLE, UGC_METHOD

PRESETS = ("paper_text", "paper_code")
UGC_GLOBAL, UGC_PER_CLASS, RANDOM = "UGC global (paper)", "UGC per class", "random groups (UGC sizes)"
NB = {"01": "01_data", "12": "12_claims", "03": "03_gradient_theory", "04": "04_clustering", "06": "06_ablation_lr",
      "13": "13_baselines", "14": "14_sensitivity", "15": "15_colored_digits", "16": "16_scaling",
      "17": "17_colored_mnist", "18": "18_adult", "19": "19_compas"}
# Real-data notebooks in the README's order: (notebook, title in its tables, model, the row
# read: the text's preset, and s as an input where the data lets it be left out).
REAL_DATA = (("17", "Colored MNIST", "CNN", {"preset": "paper_text"}),
             ("15", "Colored-Digits", "CNN", {"preset": "paper_text"}),
             ("18", "Adult", "MLP", {"preset": "paper_text", "data__s_as_input": True}),
             ("19", "COMPAS", "MLP", {"preset": "paper_text", "data__s_as_input": True}))
REAL_SHOWN = ("ERM", "UGC (global)", "input k-means (per class)", "oracle DRO")


def _link(nb: str) -> str:
    return f"[{nb}](notebooks/{NB[nb]}.ipynb)"


def _arrow(values: list[Estimate], decimals: int = 2) -> str:
    return " → ".join(num(e.mean, decimals) for e in values)


# ---------------------------------------------------------------- What the notebooks show

def core_features(results: dict) -> str:
    bayes = float(results_note(results, NB["01"], "core_only_bayes_error"))
    table = results_table(results, NB["13"], "Group inference compared (test, last epoch)")
    acc = [cell(table, "accuracy", preset=p, method=m) for p in PRESETS
           for m in ("ERM", UGC_GLOBAL, ORACLE)]
    low = min(e.mean for e in acc)
    easy = (1 - low) <= 2 * bayes  # every method errs at most twice as often as the Bayes rule
    return (f"**The task is {'nearly solved' if bayes < 0.05 else 'not solved'} by its core features** (01): the "
            f"{PAPER_TEXT.data.core_dim} core features alone give a Bayes error of {pct(bayes)}, so ERM, "
            f"UGC and the oracle all reach a test accuracy of {span(means(acc))} (13)"
            + (", and the headline accuracy says little about group inference." if easy else "."))


def clusters(results: dict) -> str:
    table = results_table(results, NB["04"], "Cluster recovery by k (train): ARI, minority F1")
    sizes = results_table(results, NB["04"], "Smallest cluster share")
    c1 = results_table(results, NB["04"], "C1 cross-check (same rule and clusters as notebook 05)")
    c1_words = by_preset(dict(zip(c1["preset"], c1["verdict"])))
    aris = ("ARI vs s", "ARI vs y", "ARI vs (y,s)")

    def ari(col, p, k):
        return cell(table, col, preset=p, grouping__k=k)

    near = {k: all(abs(ari(c, p, k).mean) < FLOOR_MARGIN for p in PRESETS for c in aris) for k in KS}
    far = [k for k in KS if not near[k]]
    k0 = min(KS)
    share = [cell(sizes, "smallest_cluster_share", preset=p, grouping__k=k0).mean for p in PRESETS]
    f1_max = max(e.mean for e in column(table, "minority F1"))
    recovered = not all(v.startswith("not") for v in c1["verdict"])
    text = (f"**The gradient clusters {'recover' if recovered else 'do not recover'} the spurious groups** "
            f"(04, 05, 07; C1 cross-check: {c1_words}): after one warm-up epoch k-means with k = {k0} "
            f"splits off a small cluster ({pct_span(share)} of the training set), and the ARI against "
            f"s, y and (y, s) is {span([ari(c, p, k).mean for p in PRESETS for c in aris for k in KS if near[k]])}, "
            f"near 0, at k = {words([str(k) for k in KS if near[k]])}.")
    for k in far:
        top = max(PRESETS, key=lambda p: ari("ARI vs (y,s)", p, k).mean)
        by_y = ari("ARI vs y", top, k).mean >= ari("ARI vs s", top, k).mean
        text += (f" At k = {k} the ARI against (y, s) reaches {ari('ARI vs (y,s)', top, k).ci()} under "
                 f"`{top}`, {'moving with' if by_y else 'ahead of'} the ARI against y "
                 f"({ari('ARI vs y', top, k).m()}; against s {ari('ARI vs s', top, k).m()})"
                 + (": the extra clusters begin to split by label, not by s." if by_y else "."))
    return text + f" The minority F1 stays at or below {num(f1_max)} for every k."


def theory(results: dict) -> str:
    verdicts = [v for v in results[NB["03"]]["verdicts"] if v["id"] == "C4"]
    if not verdicts:
        raise KeyError(f"{NB['03']} saved no C4 verdict: rerun it with run_all.py")
    a = all(v["parts"][0]["outcome"] == "holds" for v in verdicts)  # (a) cosine above 0.95
    b = any(v["parts"][1]["outcome"] == "holds" for v in verdicts)  # (b) minority F1 above 0.5
    f1 = [v["parts"][1]["mean"] for v in verdicts]
    head = ("holds only in its algebra" if a and not b else "holds" if a and b else "fails")
    return (f"**The theory {head}** (03; C4: {by_preset({v['preset']: v['verdict'] for v in verdicts})}): "
            f"for a linear model with small initialisation and squared loss the gradient is −y·x "
            f"(mean cosine {span([v['mean'] for v in verdicts])}), but clustering those gradients "
            f"{'isolates' if b else 'does not isolate'} the minority (minority F1 {span(f1)}).")


def script_training(results: dict) -> str:
    table = results_table(results, NB["06"], "Train WGA and loss at epochs 1, 2, 6")
    reset = results_table(results, NB["06"], "paper_code, optimizer kept vs reset (val, last epoch)")
    epochs = sorted({int(e) for e in table["epoch"]})

    def curve(p, lr):
        return [cell(table, "WGA(s)", preset=p, train__lr=lr, epoch=e) for e in epochs]

    slower = [lr for lr in LRS if round(curve("paper_code", lr)[-1].mean, 2) < round(curve("paper_text", lr)[-1].mean, 2)]
    flat = [lr for lr in LRS if abs(curve("paper_code", lr)[-1].mean - curve("paper_code", lr)[0].mean) < 0.05
            and lr in slower]
    mid = LRS[1]
    kept = cell(reset, "WGA(y,s)", train__lr=mid, train__reset_optimizer=False)
    rebuilt = cell(reset, "WGA(y,s)", train__lr=mid, train__reset_optimizer=True)
    shrink = PAPER_CODE.data.split_sizes[0] / PAPER_CODE.grouping.k  # N / k: 1/|cluster| weights average k / N
    head = (f"trains more slowly than the text's method after clustering at LR {words([sci(lr) for lr in slower])}"
            if slower else "trains no more slowly than the text's method after clustering")
    curves = "; ".join(f"at LR {sci(lr)} {_arrow(curve('paper_code', lr))} against {_arrow(curve('paper_text', lr))}"
                       + (" (barely moving)" if lr in flat else "") for lr in LRS)
    return (f"**The paper's script {head}** (06). Train WGA(s) at epochs {words([str(e) for e in epochs])}, "
            f"`paper_code` against `paper_text`: {curves}"
            + f". Its unnormalised 1/|cluster| weights shrink the loss about {shrink:.0f}-fold while Adam's "
            f"moment estimates keep the warm-up's scale; rebuilding the optimizer after clustering moves "
            f"its final validation WGA(y,s) at LR {sci(mid)} from {kept.ci(2)} to {rebuilt.ci(2)} and "
            f"changes several verdicts (12).")


UNSTATED_CHOICES = ("**Many verdicts hinge on unstated choices** (12, deviation log): the core dimension, "
                    "s as an input, one or two hidden layers, the optimizer state, the WGA definition and "
                    "even the seed set flip some of them.")


def notebooks_show(results: dict) -> str:
    bullets = [core_features(results), clusters(results), theory(results), script_training(results),
               UNSTATED_CHOICES]
    return ("What the notebooks show, in short (each point is backed by the numbers in the notebook "
            "named; generated by `run_all.py` from `reports/results/`):\n\n"
            + "\n".join(f"- {b}" for b in bullets))


# ---------------------------------------------------------------- Beyond the paper

def baselines(results: dict) -> str:
    table = results_table(results, NB["13"], "Group inference compared (test, last epoch)")
    gaps = results_table(results, NB["13"], "Paired gaps in test WGA")
    no_groups = results_note(results, NB["13"], "no_inferred_groups")
    one_cluster, gap_sep = results_note(results, NB["13"], "one_cluster"), results_note(results, NB["13"], "gap")
    methods = [m for m in dict.fromkeys(table["method"]) if not m.startswith("reference")]
    inferring = [m for m in methods if m not in no_groups]
    f1 = [cell(table, "minority F1", preset=p, method=m) for p in PRESETS for m in inferring]
    floor = [cell(table, "minority F1", preset=p, method=one_cluster) for p in PRESETS]
    at_floor = all(abs(e.mean - fl.mean) <= FLOOR_MARGIN for e in f1 for fl in floor)
    to_random = {p: cell(gaps, "WGA(y,s)", preset=p, method=f"{UGC_GLOBAL}{gap_sep}{RANDOM}") for p in PRESETS}
    random_ok = all(e.side() != "above" for e in to_random.values())
    tops = []
    for p in PRESETS:
        wga = {m: cell(table, "WGA(y,s)", preset=p, method=m) for m in methods}
        o = wga[ORACLE]
        above = [m for m in methods if m != ORACLE and wga[m].mean >= o.mean]
        if above:
            verb = "reach or exceed" if len(above) > 1 else "reaches or exceeds"
            tops.append(f"under `{p}` {words([f'{m} ({wga[m].m()})' for m in above])} {verb} "
                        f"the oracle's mean ({o.m()})"
                        + (", within overlapping intervals" if all(wga[m].overlaps(o) for m in above) else ""))
        else:
            tops.append(f"under `{p}` the oracle, which is handed the groups, is on top ({o.m()})")
    best_p, best_m = max(((p, m) for p in PRESETS for m in inferring),
                         key=lambda pm: cell(table, "minority F1", preset=pm[0], method=pm[1]).mean)
    best = cell(table, "minority F1", preset=best_p, method=best_m)
    n_above = sum(e.mean - fl.mean > FLOOR_MARGIN for e, fl in zip(f1, [f for f in floor for _ in inferring]))
    floor_words = (f"every minority F1, {span(means(f1))}, is within {num(FLOOR_MARGIN, 2)} of the "
                   f"{span(means(floor))} of one cluster holding every sample" if at_floor else
                   f"minority F1 {span(means(f1))}, against {span(means(floor))} for one cluster holding "
                   f"every sample; {count_of(n_above, len(f1))} (preset, method) pairs are more than "
                   f"{num(FLOOR_MARGIN, 2)} above it, the highest {best_m} under `{best_p}` ({best.ci()})")
    return (f"- **Baselines at the paper's settings, untuned** ({_link('13')}, Part A): on the paper's data "
            + ("no group-inference method finds the minority groups" if at_floor else "group inference finds little of the minority")
            + f" ({floor_words}), and random pseudo-groups "
              f"with UGC's cluster sizes {'train at least as well as' if random_ok else 'train worse than'} UGC's "
              f"own clusters (paired gap UGC − random in test WGA(y,s): "
            + words([f"{to_random[p].ci()} under `{p}`" for p in PRESETS])
            + f"). Test WGA(y,s): {'; '.join(tops)}.")


def tuned_baselines(results: dict) -> str:
    """Notebook 13's Part B: first-ranked method per dataset and protocol, and the paired
    gaps UGC global - GRASP-style and UGC global - random groups, with their intervals."""
    nb = NB["13"]
    datasets = results_table(results, nb, "Tuned: datasets")
    ranks = results_table(results, nb, "Tuned: first-ranked")
    free = results_table(results, nb, "Tuned: first-ranked without group labels")
    gaps = results_table(results, nb, "Tuned: UGC paired gaps")
    protocols = results_note(results, nb, "protocols")
    full, reduced = results_note(results, nb, "grid_points"), results_note(results, nb, "reduced_grid_points")
    gap_sep = results_note(results, nb, "gap")

    def first(table, d, p):
        r = rows(table, dataset=d, protocol=p).iloc[0]
        first_mean = r["first's mean"]
        return (f"{r['first']} ({first_mean}"
                + ("" if r["separated"] else f"; not separated from {r['second']}") + ")")

    def gap(d, p, ref):
        e = cell(gaps, "test WGA(y,s)", dataset=d, protocol=p, gap=f"{UGC_GLOBAL}{gap_sep}{ref}")
        side = "above 0" if e.lo > 0 else "below 0" if e.hi < 0 else "includes 0"
        return f"{e.ci()} ({side})"

    lines = []
    for _, row in datasets.iterrows():
        d = row["dataset"]
        firsts = "; ".join(f"`{p}`: {first(ranks, d, p)}, without group labels {first(free, d, p)}"
                           for p in protocols)
        lines.append(f"  - **{d}** ({row['grid']} grid, {row['seeds']} seeds). First: {firsts}. "
                     f"UGC global − GRASP-style: "
                     + words([f"{gap(d, p, 'GRASP-style (gradients, DBSCAN)')} under `{p}`" for p in protocols])
                     + "; UGC global − random groups: "
                     + words([f"{gap(d, p, RANDOM)} under `{p}`" for p in protocols]) + ".")
    return (f"- **Tuned baselines** ({_link('13')}, Part B): every method, UGC and ERM included, gets "
            f"{full} grid points (LR × weight decay × its own hyperparameter) on the synthetic presets "
            f"and a reduced grid of {reduced} on the real datasets, early stopping by epoch, and the "
            f"model chosen on validation, never test: `group_wga` = {protocols['group_wga']}; "
            f"`worst_class` = {protocols['worst_class']}. First-ranked method by mean test WGA(y,s) "
            "(\"not separated\" when the paired interval to the runner-up reaches 0), and the paired gaps:\n"
            + "\n".join(lines))


def sensitivity(results: dict) -> str:
    regimes = results_table(results, NB["14"], "Where the claims hold")
    heat = results_table(results, NB["14"], "Heatmap means (core dim x P(s=y))")
    variants = list(dict.fromkeys(regimes["UGC variant"]))
    corr_cols = [c for c in regimes.columns if c not in ("UGC variant", "data.core_dim")]

    def tags(v, d):
        row = rows(regimes, data__core_dim=d, **{"UGC variant": v})
        return [str(row[c].iloc[0]).split() for c in corr_cols]

    c2_dims = [d for d in CORE_DIMS if all("C2" in t for v in variants for t in tags(v, d))]
    rest = [d for d in CORE_DIMS if d not in c2_dims]
    wga = rows(heat, metric="WGA(y,s)")
    wga = wga[~wga["method"].str.contains(GAP)]  # the methods' own WGA, not the gap panels
    easy = wga[wga["data.core_dim"].isin(c2_dims)][[c for c in heat.columns if c.startswith("P(s=y)=")]]
    c1 = sum("C1" in t for v in variants for d in CORE_DIMS for t in tags(v, d))
    plus = sum("+ERM" in t for v in variants for d in rest for t in tags(v, d))
    minus = sum("-ERM" in t for v in variants for d in rest for t in tags(v, d))
    n_rest = len(rest) * len(corr_cols) * len(variants)
    where = (f"only at core dimension {words([str(d) for d in c2_dims])}, where every method reaches "
             f"a test WGA(y,s) of {span(easy.to_numpy().ravel(), 2)}" if c2_dims
             else "at no core dimension for every P(s = y)")
    return (f"- **Where UGC works** ({_link('14')}): UGC matches the oracle (C2 by the regime rule) at every "
            f"P(s = y) {where}; at core dimension {words([str(d) for d in rest])} the clusters "
            + ("miss the minority in every cell (C1 holds nowhere)" if c1 == 0
               else f"recover the groups in {c1} (cell, variant) pairs")
            + f", and UGC is {'never above ERM' if plus == 0 else f'above ERM in {plus} (cell, variant) pairs'} "
              f"(below it in {count_of(minus, n_rest)} (cell, variant) pairs).")


def _gap_words(gaps, name: str, ref: str, **where) -> str:
    """"name − ref d [lo, hi]" with whether the interval excludes 0."""
    d = cell(gaps, "WGA(y,s)", gap=f"{name} − {ref}", **where)
    side = "above 0" if d.lo > 0 else "below 0" if d.hi < 0 else "interval spans 0"
    return f"{name} − {ref} {d.ci()} ({side})"


def real_data(results: dict) -> str:
    """One bullet per real-data notebook: test WGA(y,s) of ERM, UGC as the paper runs it,
    raw-input k-means and the oracle, and the paired gaps UGC − ERM and ERM − oracle."""
    lines = []
    for nb, title, model, where in REAL_DATA:
        test = results_table(results, NB[nb], f"{title} test metrics (last epoch)")
        gaps = results_table(results, NB[nb], f"{title} paired gaps (test)")
        n = int(rows(test, variant="ERM", **where)["n_seeds"].iloc[0])
        shown = words([f"{name} {cell(test, 'WGA(y,s)', variant=name, **where).m()}"
                       for name in REAL_SHOWN])
        s_words = ", s as an input" if "data__s_as_input" in where else ""
        lines.append(f"  - **{title}** ({_link(nb)}, {model}{s_words}, {n} seeds): {shown}; "
                     f"{_gap_words(gaps, 'UGC (global)', 'ERM', **where)}; "
                     f"{_gap_words(gaps, 'ERM', 'oracle DRO', **where)}.")
    # the ledger's verdicts (notebook 12: notebook 17's rule, then the seed-halves stability rule)
    c12 = [v for v in results[NB["12"]]["verdicts"] if v["id"] == "C12"]
    c12_words = "; ".join(f"`{v['preset']}` WGA({'s' if v['definition'] == 's' else 'y,s'}): "
                          f"{v['verdict']}" for v in c12)
    return ("- **Real data** (test WGA(y,s) under `paper_text`, mean [95% CI], last epoch; "
            "every notebook also has per-class UGC, random groups, per-group accuracy, both "
            f"presets where affordable and s left out of the inputs). C12 (Colored MNIST, the ledger's "
            f"verdicts): {c12_words}.\n"
            + "\n".join(lines))


def scaling(results: dict) -> str:
    speed = results_note(results, NB["16"], "closed_form_speedup")
    step = results_note(results, NB["16"], "step_over_epoch")
    c11 = {v["preset"]: v["verdict"] for v in results[NB["16"]]["verdicts"] if v["id"] == "C11"}
    sizes = sorted(speed, key=int)
    return (f"- **Overhead and scale** ({_link('16')}, `python -m benchmarks`, see "
            f"[benchmarks/README.md](benchmarks/README.md)): closed-form final-layer signatures are "
            + words([f"{speed[n]:.0f}×" for n in sizes]) + " faster than the paper's one-sample-at-a-time loop "
            f"(N = {words([f'{int(n):,}' for n in sizes])}); the UGC step costs {span(step.values(), 2)} of a "
            f"training epoch (C11: {by_preset(c11)}). The stored numbers are in "
            f"`reports/benchmarks.json`, with the command and the machine that produced them.")


def beyond_paper(results: dict) -> str:
    return "\n".join([baselines(results), tuned_baselines(results), sensitivity(results),
                      real_data(results), scaling(results)])


# Marker name -> generator of the text between `<!-- name:start ... -->` and `<!-- name:end -->`.
SECTIONS = {"notebooks-show": notebooks_show, "beyond-paper": beyond_paper}
