"""A student's additions, typed into a fresh clone: a new pruning method is one module and one
catalogue line, and runs through the workflow into results and a figure; a misspelled figure
kind stops the dry run at its line of the experiment set."""
import csv
import json

import pytest

from tests.workflow.journeys import fresh_clone, snakemake

# Magnitude pruning at initialisation: each round prunes theta_0's magnitudes under the previous
# round's mask and trains the survivors from theta_0. It uses nothing but its context.
TOY_METHOD = '''\
"""Prune by the magnitudes of theta_0, round after round, and train from theta_0."""

from experiments.method_api import Method, MethodContext, RoundRun


class InitMagnitude(Method):
    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        mask = context.dense_mask()
        if round_index > 0:
            previous = context.own.mask(round_index - 1)
            mask = context.prune(context.initial_weights(), previous)
        result = yield context.job(mask, context.initial_weights())
        return mask, result.metrics()
'''
CATALOGUE_LINE = '''\
    MethodEntry("init_magnitude", M + "init_magnitude:InitMagnitude",
                MethodStyle("Magnitude at init", YELLOW, "X", ":"), "prunes theta_0's magnitudes"),
'''
TOY_SET = """\
experiments:
  toy:
    dataset: {name: mnist1d, validation: 100, num_samples: 600}
    model: {name: mlp, hidden: [12]}
    training: {optimizer: adam, lr: 0.01, batch_size: 50, iterations: 20, eval_every: 10}
    pruning: {rates: {linear: 0.5, output: 0.2}, rounds: 2}
    methods: [imp, init_magnitude]
    seeds: [0]
    figures:
      toy_accuracy: {kind: accuracy_vs_density, methods: [imp, init_magnitude]}
"""
SETTINGS = ["--config", "experiments_file=config/experiments/toy.yaml", "device=cpu",
            "typst_server=false"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return fresh_clone(tmp_path_factory.mktemp("clone"))


def add_method(project) -> None:
    """The two edits the README asks for: the module, and its line in the catalogue."""
    (project / "experiments" / "methods" / "init_magnitude.py").write_text(TOY_METHOD)
    catalogue = project / "experiments" / "catalogue.py"
    text = catalogue.read_text()
    end = text.index(")}\n", text.index("METHODS: dict[str, MethodEntry]"))
    catalogue.write_text(text[:end] + CATALOGUE_LINE + text[end:])
    (project / "config" / "experiments" / "toy.yaml").write_text(TOY_SET)


def test_a_new_method_is_one_module_and_one_catalogue_line(clone):
    add_method(clone)
    run = snakemake(clone, "--cores", "2", "results/toy/summary.json", "figures/toy_accuracy.pdf",
                    *SETTINGS)
    assert run.returncode == 0, run.stderr[-3000:]
    with open(clone / "results" / "toy" / "rounds.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["method"] == "init_magnitude"]
    assert [row["round"] for row in rows] == ["0", "1", "2"]
    assert float(rows[2]["density"]) < float(rows[1]["density"]) < 1.0
    summary = json.loads((clone / "results" / "toy" / "summary.json").read_text())
    assert "init_magnitude" in summary["methods"]
    assert (clone / "figures" / "toy_accuracy.pdf").read_bytes().startswith(b"%PDF")


def test_a_misspelled_figure_kind_stops_the_dry_run_at_its_line(clone):
    experiments = clone / "config" / "experiments" / "default.yaml"
    good = experiments.read_text()
    experiments.write_text(good.replace("kind: rewind_vs_reset", "kind: rewind_vs_rest"))
    try:
        run = snakemake(clone, "-n", "figures/lth_accuracy.pdf")
    finally:
        experiments.write_text(good)
    line = 1 + next(i for i, text in enumerate(good.splitlines()) if "rewind_vs_reset" in text)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1].startswith(
        f"error: config/experiments/default.yaml:{line}: experiments.lth_mnist1d.figures."
        "lth_rewind.kind: unknown figure kind 'rewind_vs_rest' (known: accuracy_vs_density, ")
