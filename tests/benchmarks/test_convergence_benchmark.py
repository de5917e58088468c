"""The convergence report: mean early stop over seeds against the budget, flagged at 90%, with
what the last tenth bought where the rows say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import convergence  # noqa: E402

HEADER = "method,seed,round,density,test_acc,early_stop_iter,iterations\n"


def write_rounds(results: Path, experiment: str, rows: list[str]) -> None:
    folder = results / experiment
    folder.mkdir(parents=True)
    (folder / "rounds.csv").write_text(HEADER + "".join(row + "\n" for row in rows))


def test_means_over_seeds_flag_at_ninety_percent_and_skip_untrained(tmp_path, capsys):
    write_rounds(tmp_path, "lottery", [
        "imp,0,0,1.0,0.6,300,1000", "imp,1,0,1.0,0.6,500,1000",  # mean 400: inside
        "imp,0,1,0.5,0.6,900,1000", "imp,1,1,0.5,0.6,800,1000",  # mean 850: inside
        "reinit,0,1,0.5,0.5,1000,1000", "reinit,1,1,0.5,0.5,800,1000",  # mean 900: flagged
        "untrained,0,1,0.5,0.1,0,0", "untrained,1,1,0.5,0.1,0,0",  # trains nothing
    ])
    write_rounds(tmp_path, "other", ["random,0,2,0.25,0.4,1450,1450"])
    assert convergence.convergence_rows(tmp_path / "lottery" / "rounds.csv") == [
        ("imp", 0, 1.0, 400.0, 1000.0, None, 0.6), ("imp", 1, 0.5, 850.0, 1000.0, None, 0.6),
        ("reinit", 1, 0.5, 900.0, 1000.0, None, 0.5)]
    assert convergence.report(tmp_path) == 2
    out = capsys.readouterr().out.splitlines()
    flagged = [line.split()[0] for line in out if "<-" in line]
    assert flagged == ["reinit", "random"]
    assert out[-2].startswith("2 method-round rows")
    assert out[-1].startswith("0 of them still learning")
    assert not any("untrained" in line for line in out)


def test_the_script_exits_zero_with_flagged_rows(tmp_path):
    write_rounds(tmp_path, "lottery", ["reinit,0,1,0.5,0.5,1000,1000"])
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "convergence.py"),
                          "--results", str(tmp_path)], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    assert run.returncode == 0
    assert run.stdout.splitlines()[-2].startswith("1 method-round rows")


def test_flagged_rows_show_what_their_last_tenth_bought(tmp_path, capsys):
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "rounds.csv").write_text(
        "method,seed,round,density,test_acc,early_stop_iter,iterations,late_test_acc_gain\n"
        "edgepopup,0,1,0.5,0.4,4000,4000,0.02\nedgepopup,1,1,0.5,0.4,3800,4000,0.03\n"
        "finetune,0,1,0.5,0.9,3900,4000,0.001\nfinetune,1,1,0.5,0.9,4000,4000,-0.001\n")
    assert convergence.report(tmp_path) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith("its last tenth bought +2.5% test accuracy")
    assert out[2].endswith("its last tenth bought +0.0% test accuracy")
    assert out[-1].startswith("1 of them still learning")


def test_a_longer_budget_elsewhere_decides_whether_a_flagged_row_still_learns(tmp_path, capsys):
    header = "method,seed,round,density,test_acc,early_stop_iter,iterations,late_test_acc_gain\n"
    for name, rows in {"search": "edgepopup,0,1,0.5,0.50,4000,4000,0.03\n"
                                 "bernoulli,0,1,0.6,0.40,4000,4000,0.001\n",
                       "search_long": "edgepopup,0,1,0.5,0.502,8000,8000,0.03\n"
                                      "bernoulli,0,1,0.6,0.45,8000,8000,0.001\n"}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "rounds.csv").write_text(header + rows)
    assert convergence.report(tmp_path) == 4
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith("8000 steps (search_long) bought +0.2%")  # converged, despite +3.0%
    assert out[2].endswith("8000 steps (search_long) bought +5.0%")  # learning, despite +0.1%
    assert "steps (" not in out[4] + out[5]  # the longest runs have nothing longer
    assert out[-1].startswith("2 of them still learning")  # short bernoulli, long edgepopup


def test_only_the_experiments_budget_checks_count_matched_by_round_else_by_density(tmp_path,
                                                                                  capsys):
    header = "method,seed,round,density,test_acc,early_stop_iter,iterations,late_test_acc_gain\n"
    tables = {
        "prune": "bernoulli,0,3,0.36,0.30,4000,4000,0.001\nfinetune,0,3,0.23,0.80,4000,4000,0.0\n",
        # the Bernoulli mask drifted 4 points in density; the cut of round 3 is round 1 here
        "prune_bernoulli_long": "bernoulli,0,3,0.40,0.36,20000,20000,0.0\n"
                                "bernoulli,0,4,0.37,0.35,20000,20000,0.0\n",
        "prune_long": "finetune,0,1,0.23,0.81,8000,8000,0.0\n",
        # not a budget check of "prune": same method and density, but another experiment
        "prune2": "finetune,0,3,0.23,0.95,16000,16000,0.0\n",
    }
    for name, rows in tables.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "rounds.csv").write_text(header + rows)
    convergence.report(tmp_path)
    out = capsys.readouterr().out.splitlines()
    prune = out[out.index("prune") + 1:out.index("prune") + 3]
    assert prune[0].endswith("20000 steps (prune_bernoulli_long) bought +6.0%")  # round 3, not 4
    assert prune[1].endswith("8000 steps (prune_long) bought +1.0%")
