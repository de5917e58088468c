"""Does every method converge inside its budget? A report on the rounds.csv files of a build.

    python benchmarks/convergence.py               # every results/*/rounds.csv
    python benchmarks/convergence.py --results DIR

For each experiment, method and round it prints the mean over seeds of ``early_stop_iter`` (the
evaluation with the lowest validation loss) against the budget ``iterations`` (the steps that
run trained), and flags the rows whose mean lies at or above 90% of the budget: there the
accuracy is cut by the budget rather than measured at convergence (issue 13). Methods that train
nothing (``iterations`` 0) are left out. Where the rows say what the last tenth of the budget
bought (``late_test_acc_gain``, mean over seeds), a flagged row shows it: a network still
learning gains visibly there, one whose loss only drifts at the schedule's smallest rate does not.
Under a schedule that decays to zero at the end of the budget (cosine) the lowest loss comes
late whatever the budget, so the last tenth cannot tell; a longer run can. Where a budget check
of the experiment (an experiment named EXPERIMENT_long or EXPERIMENT_..._long, such as
supermask_mnist1d_long) has the same method at the same round or density with a larger budget,
a flagged row shows what that budget bought in test accuracy, and that decides whether the row
counts as still learning. The last lines count the flagged rows, and those still learning: a
longer budget, or else the last tenth, bought at least half a point of test accuracy. It is a report, so it exits 0 whatever it finds; it needs no torch and runs no
experiment.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from experiments.budget import INSIDE_BUDGET as LIMIT  # noqa: E402  (torch-free)


STILL_LEARNING = 0.005  # half a point of test accuracy bought by the last tenth
SAME_DENSITY = 0.02  # two points of density: runs this close are the same round of one experiment
LEARNED_DENSITY = 0.05  # how far a Bernoulli mask's density drifts with five times the search


class Row(NamedTuple):
    """One trained method and round of a rounds.csv, means over seeds."""
    method: str
    round: int
    density: float
    stop: float            # early-stop iteration
    budget: float          # iterations
    gain: float | None     # what the last tenth bought in test accuracy, where the rows say
    test_acc: float


def convergence_rows(rounds_csv: Path) -> list[Row]:
    """Every trained method and round of one rounds.csv, in the file's order."""
    groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
    with rounds_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            groups[(row["method"], int(row["round"]))].append(row)
    rows = []
    for (method, round_index), seeds in groups.items():
        budget = max(float(seed["iterations"] or 0) for seed in seeds)
        stops = [float(seed["early_stop_iter"]) for seed in seeds if seed["early_stop_iter"]]
        gains = [float(seed["late_test_acc_gain"]) for seed in seeds
                 if seed.get("late_test_acc_gain")]
        if budget > 0 and stops:
            rows.append(Row(method, round_index, float(seeds[0]["density"]),
                            statistics.mean(stops), budget,
                            statistics.mean(gains) if gains else None,
                            statistics.mean(float(seed["test_acc"]) for seed in seeds)))
    return rows


def budget_checks(experiment: str, tables: dict[str, list[Row]]) -> list[str]:
    """The experiments that check ``experiment``'s budget: named ``EXPERIMENT_..._long`` or
    ``EXPERIMENT_long`` (supermask_mnist1d_long, supermask_mnist1d_bernoulli_long)."""
    return [name for name in tables
            if name.startswith(experiment + "_") and name.endswith("_long")]


def longer_run(experiment: str, row: Row, tables: dict[str, list[Row]]) -> tuple[str, Row] | None:
    """The row of ``row``'s method in a budget check of its experiment, with the largest budget
    above ``row``'s, and that check's name; None when there is none. The check's row is the
    same round at a density within ``LEARNED_DENSITY`` (a Bernoulli mask learns its own, more so
    the longer it searches), else any round at the same density within ``SAME_DENSITY`` (a
    check that removes three quarters of the channels in its first round)."""
    found = []
    for check in budget_checks(experiment, tables):
        longer = [other for other in tables[check]
                  if other.method == row.method and other.budget > row.budget]
        same = ([other for other in longer if other.round == row.round
                 and abs(other.density - row.density) <= LEARNED_DENSITY]
                or [other for other in longer if abs(other.density - row.density) <= SAME_DENSITY])
        found += [(other.budget, check, other) for other in same]
    return max(found, key=lambda item: item[0])[1:] if found else None


def report(results: Path) -> int:
    """Print the table for every experiment under ``results``; the number of flagged rows."""
    tables = {path.parent.name: convergence_rows(path)
              for path in sorted(results.glob("*/rounds.csv"))}
    flagged = learning = 0
    for experiment, rows in tables.items():
        print(experiment)
        for row in rows:
            late = row.stop >= LIMIT * row.budget
            longer = longer_run(experiment, row, tables) if late else None
            flagged += late
            learning += late and still_learning(row, longer)
            print(f"  {row.method:28s} round {row.round:2d}  density {row.density:6.3f}  "
                  f"early stop {row.stop:7.0f} / {row.budget:5.0f}  ({row.stop / row.budget:4.0%})"
                  + (f"  <- at or above {LIMIT:.0%} of the budget{bought(row, longer)}"
                     if late else ""))
    print(f"{flagged} method-round rows stop at or above {LIMIT:.0%} of their budget")
    print(f"{learning} of them still learning: a longer budget, or else the last tenth, bought at "
          f"least {STILL_LEARNING:.1%} of test accuracy")
    return flagged


def still_learning(row: Row, longer: tuple[str, Row] | None) -> bool:
    """Whether a flagged row still learns: the longer run decides where there is one."""
    if longer is not None:
        return longer[1].test_acc - row.test_acc >= STILL_LEARNING
    return row.gain is not None and row.gain >= STILL_LEARNING


def bought(row: Row, longer: tuple[str, Row] | None) -> str:
    """What a flagged row's last tenth, and a longer budget elsewhere, bought."""
    text = "" if row.gain is None else f"; its last tenth bought {row.gain:+.1%} test accuracy"
    if longer is not None:
        experiment, other = longer
        gain = other.test_acc - row.test_acc
        text += f"; {other.budget:.0f} steps ({experiment}) bought {gain:+.1%}"
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="folder holding EXPERIMENT/rounds.csv (default: results)")
    report(parser.parse_args(argv).results)


if __name__ == "__main__":
    main()
