# The thesis workflow. Read it as a table of contents: settings, the rule files, the top target.
#   snakemake --cores 4 thesis.pdf                     the whole thesis
#   snakemake --cores 4 results/lth_mnist1d/summary.json   one experiment
#   snakemake --cores 4 figures/lth_accuracy.pdf       one figure
import sys
import threading

from experiments.config_yaml import ConfigError
from experiments.workflow_config import checked_workflow_config


def stop(error):
    """End the run with one line naming what is wrong (a WorkflowError would add a traceback)."""
    sys.exit(f"error: {' '.join(str(error).split())}")


configfile: "config/config.yaml"


try:  # an unknown key or bad value, in the file or in --config, is an error, not ignored
    config.update(checked_workflow_config(config, "config/config.yaml"))
except ConfigError as error:
    stop(error)

# Jobs run the packages with the interpreter that runs Snakemake, so an unactivated
# .venv/bin/snakemake still uses the project's environment.
PYTHON = sys.executable



def staged(path):
    """Where a job that an edit can make fail writes `path`; rules/publish.smk copies it to its
    place once the job has succeeded, so a failure never deletes the last good file."""
    return f"build/staged/{path}"


include: "rules/experiments.smk"
include: "rules/figures.smk"
include: "rules/diagrams.smk"
include: "rules/thesis.smk"
include: "rules/publish.smk"


rule all:
    input:
        "thesis.pdf",


# Snakemake's job-rate limiter (--max-jobs-per-timespan, 100/1s by default) starts a timer when
# it submits jobs, and the process cannot exit before it fires: up to a second after a job as
# short as a text-only thesis rebuild. Once the workflow is over there is nothing left to pace.
def _cancel_pending_timers(log):
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


onsuccess: _cancel_pending_timers(log)
onerror: _cancel_pending_timers(log)
