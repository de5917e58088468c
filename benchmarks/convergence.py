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
The last lines count the flagged rows, and those whose last tenth bought at least half a point of
test accuracy. It is a report, so it exits 0 whatever it finds; it needs no torch and runs no
experiment.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from experiments.budget import INSIDE_BUDGET as LIMIT  # noqa: E402  (torch-free)


STILL_LEARNING = 0.005  # half a point of test accuracy bought by the last tenth


def convergence_rows(rounds_csv: Path) -> list[tuple]:
    """(method, round, density, mean early-stop iteration, budget, mean late test-accuracy gain
    or None) of every trained method and round of one rounds.csv, in the file's order."""
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
            rows.append((method, round_index, float(seeds[0]["density"]),
                         statistics.mean(stops), budget, statistics.mean(gains) if gains else None))
    return rows


def report(results: Path) -> int:
    """Print the table for every experiment under ``results``; the number of flagged rows."""
    flagged = learning = 0
    for rounds_csv in sorted(results.glob("*/rounds.csv")):
        print(rounds_csv.parent.name)
        for method, round_index, density, stop, budget, gain in convergence_rows(rounds_csv):
            late = stop >= LIMIT * budget
            flagged += late
            learning += late and gain is not None and gain >= STILL_LEARNING
            print(f"  {method:28s} round {round_index:2d}  density {density:6.3f}  "
                  f"early stop {stop:7.0f} / {budget:5.0f}  ({stop / budget:4.0%})"
                  + (f"  <- at or above {LIMIT:.0%} of the budget{bought(gain)}" if late else ""))
    print(f"{flagged} method-round rows stop at or above {LIMIT:.0%} of their budget")
    print(f"{learning} of them gained at least {STILL_LEARNING:.1%} of test accuracy in the last "
          "tenth of it")
    return flagged


def bought(gain: float | None) -> str:
    """What a flagged row's last tenth bought, when its rows say."""
    return "" if gain is None else f"; its last tenth bought {gain:+.1%} test accuracy"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="folder holding EXPERIMENT/rounds.csv (default: results)")
    report(parser.parse_args(argv).results)


if __name__ == "__main__":
    main()
