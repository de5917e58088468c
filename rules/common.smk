# Shared by every file under rules/ -- the checked settings, the experiment set, the names each
# wildcard may take, and the functions the rules call. The other files hold only rules.
import gc
import json
import os
import re
import shlex
import sys
import threading
from glob import glob
from pathlib import Path

from experiments.budget import trial_mem_mb, trial_minutes
from experiments.config import (
    STACKED_MODELS,
    ConfigError,
    config_hash,
    load_experiment_set,
    summary_settings,
    trial_settings,
)
from experiments.devices import gpu_slots_per_trial
from experiments.workflow_config import checked_workflow_config
from manuscript.cache import Cache
from manuscript.errors import SourceError
from manuscript.fonts import FONT_SUFFIXES
from manuscript.scan import check_producible, scan

# Snakemake's start leaves some 80,000 objects that live as long as the process; the garbage
# collector would scan them again at each collection and at exit, a third of a second of every
# run. Frozen, they are left alone.
gc.freeze()


def stop(error):
    """End the run with one line naming what is wrong (a WorkflowError would add a traceback)."""
    sys.exit(f"error: {' '.join(str(error).split())}")


try:  # an unknown key or bad value, in the file or in --config, is an error, not ignored
    config.update(checked_workflow_config(config, "config/config.yaml"))
    EXPERIMENTS = load_experiment_set(
        config["experiments_file"]
    )  # name -> validated config
    # One GPU job at a time: with the profile's `resources: gpu=1`, CUDA trials run one by one.
    # On a cluster trial_gpus says it (profiles/slurm), not the driver of the submitting host.
    GPUS_PER_TRIAL = gpu_slots_per_trial(config["device"], config["trial_gpus"])
except (ConfigError, ValueError) as error:
    stop(error)

# Jobs run the packages with the interpreter that runs Snakemake, so an unactivated
# .venv/bin/snakemake still uses the project's environment: `python` in a command is that one.
shell.prefix(
    f'set -euo pipefail; python() {{{{ {shlex.quote(sys.executable)} "$@"; }}}}; '
)

# figure name -> experiment that declares it (names are unique across the set: the loader checks)
FIGURE_EXPERIMENT = {
    figure: name for name, cfg in EXPERIMENTS.items() for figure in cfg["figures"]
}


def rst_text(text):
    """`text` on one line, its RST markup characters escaped: a report caption shows it as is."""
    return re.sub(r"([\\`*_|<>\[\]])", r"\\\1", " ".join(str(text).split()))


# What `snakemake --report` says of each result. The captions under report/ are RST templates
# that Snakemake renders with the job's wildcards and the workflow's config, nothing else: the
# experiment set's words reach them through this key, set after the config was checked.
config["report"] = {
    "experiments": {
        name: {"description": rst_text(cfg.get("description", ""))}
        for name, cfg in EXPERIMENTS.items()
    },
    "figures": {
        figure: {
            "experiment": name,
            "kind": spec["kind"],
            "sources": spec.get("panels") or [name],
        }
        for name, cfg in EXPERIMENTS.items()
        for figure, spec in cfg["figures"].items()
    },
}


def figure_category(wildcards):
    """A figure's report category: the experiment that declares it."""
    return FIGURE_EXPERIMENT[wildcards.name]


def figure_labels(wildcards):
    return {
        "figure": wildcards.name,
        "kind": config["report"]["figures"][wildcards.name]["kind"],
    }


# With trial_jobs=experiment, an experiment whose networks stack trains all its seeds in one job;
# the others keep one job per seed, so their seeds still run in parallel.
TOGETHER = [
    name
    for name, cfg in EXPERIMENTS.items()
    if config["trial_jobs"] == "experiment" and cfg["model"]["name"] in STACKED_MODELS
]
APART = [name for name in EXPERIMENTS if name not in TOGETHER]
# Experiments that prune channels also time inference of their dense, narrow and masked nets.
TIMED = [
    name for name, cfg in EXPERIMENTS.items() if "channel_ratios" in cfg["pruning"]
]

# Hand-made diagrams: diagrams/style.typ and diagrams/_*.typ are shared by every drawing.
DIAGRAM_LIBRARIES = sorted(glob("diagrams/style.typ") + glob("diagrams/_*.typ"))
DIAGRAMS = sorted(
    Path(p).stem for p in glob("diagrams/*.typ") if p not in DIAGRAM_LIBRARIES
)
if set(DIAGRAMS) & set(FIGURE_EXPERIMENT):
    name = sorted(set(DIAGRAMS) & set(FIGURE_EXPERIMENT))[0]
    stop(
        f"diagrams/{name}.typ: figures/{name}.pdf is also an experiment's figure; rename one"
    )

CHAPTERS = sorted(glob("chapters/*.md"))
# The code that aggregates, draws and typesets is an input of those jobs, so editing it redoes
# them (seconds each). Trials leave their code out on purpose: the hash of their settings
# decides, since a rerun costs hours and most edits to training code do not change a number.
# Found by glob: a workflow copied without the packages (they are installed) has none.
AGGREGATE_CODE = glob("experiments/aggregate.py") + glob("experiments/rounds.py")
FIGURE_CODE = sorted(
    glob("experiments/figures.py") + AGGREGATE_CODE + glob("experiments/plots/*.py")
)
DIAGRAM_CODE = glob("manuscript/diagrams.py")
DOCUMENT_CODE = sorted(glob("manuscript/**/*.py", recursive=True))
# A font dropped into fonts/ (or removed) changes the fonts chosen: the thesis is typeset again.
PROJECT_FONTS = sorted(
    p
    for p in glob("fonts/**/*", recursive=True)
    if Path(p).suffix.lower() in FONT_SUFFIXES and os.path.isfile(p)
)


def staged(path):
    """Where a job that an edit can make fail writes `path`: in `.staged/` beside it (build/ for
    the thesis), so that `rm -r results/E` also forgets E's staged files. rules/publish.smk copies
    it into place once the job has succeeded: a failure never deletes the last good file.
    """
    folder, name = os.path.split(path)
    return f"{staged_folder(folder or 'build')}/{name}"


def staged_folder(folder):
    return f"{folder}/.staged"


def one_of(names):
    """A wildcard pattern matching exactly these names (and nothing when there are none)."""
    return "|".join(re.escape(name) for name in sorted(names)) or "(?!)"


def seed_rounds(wildcards):
    """The per-seed rounds.csv of every seed the experiment declares."""
    seeds = EXPERIMENTS[wildcards.experiment]["seeds"]
    return [f"results/{wildcards.experiment}/seeds/{seed}/rounds.csv" for seed in seeds]


def trial_runtime(wildcards):
    """Minutes a one-seed trial job asks a cluster for, from the experiment's size."""
    return trial_minutes(EXPERIMENTS[wildcards.experiment], 1, GPUS_PER_TRIAL)


def trial_memory(wildcards):
    return trial_mem_mb(EXPERIMENTS[wildcards.experiment])


def trial_hash(wildcards):
    return config_hash(trial_settings(EXPERIMENTS[wildcards.experiment]))


def summary_hash(wildcards):
    return config_hash(summary_settings(EXPERIMENTS[wildcards.experiment]))


def figure_results(wildcards):
    """The results folder of the experiment that declares the figure."""
    return f"results/{FIGURE_EXPERIMENT[wildcards.name]}"


def figure_summary(wildcards):
    return str(Path(figure_results(wildcards), "summary.json"))


def figure_rounds(wildcards):
    """The combined rounds.csv of every experiment the figure draws (its panels, or its own)."""
    experiment = FIGURE_EXPERIMENT[wildcards.name]
    panels = EXPERIMENTS[experiment]["figures"][wildcards.name].get("panels") or [
        experiment
    ]
    return [f"results/{panel}/rounds.csv" for panel in panels]


def figure_spec(wildcards):
    """The figure's spec as canonical text: editing it (and only it) redraws the figure."""
    experiment = EXPERIMENTS[FIGURE_EXPERIMENT[wildcards.name]]
    return json.dumps(experiment["figures"][wildcards.name], sort_keys=True)


def published_files():
    """Every file under figures/ and results/ that a rule of this workflow publishes."""
    figures = [f"figures/{name}.pdf" for name in [*FIGURE_EXPERIMENT, *DIAGRAMS]]
    results = [
        f"results/{e}/{f}" for e in EXPERIMENTS for f in ("rounds.csv", "summary.json")
    ]
    return {*figures, *results, *[f"results/{e}/inference.csv" for e in TIMED]}


def referenced_by_chapters(wildcards):
    """The files the chapters show, scanned only when the thesis is part of the plan; a
    reference no rule can make stops the plan at its chapter line."""
    try:
        referenced = scan(CHAPTERS, cache=Cache("build/cache"))
        made = published_files()
        check_producible(referenced, CHAPTERS, lambda p: os.path.exists(p) or p in made)
    except SourceError as error:
        stop(error.oneline())
    return referenced.files()


def published_paths():
    """Every single file rule publish makes (figures and experiments have rules of their own)."""
    paths = ["thesis.pdf", *[f"figures/{name}.pdf" for name in DIAGRAMS]]
    paths += [f"results/{experiment}/inference.csv" for experiment in TIMED]
    return "|".join(map(re.escape, paths))


def cancel_pending_timers():
    """Snakemake's job-rate limiter (--max-jobs-per-timespan) starts a timer when it submits
    jobs, and the process cannot exit before it fires: up to a second after a job as short as a
    text-only thesis rebuild. Once the workflow is over there is nothing left to pace.
    """
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
