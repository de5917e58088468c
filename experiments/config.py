"""Experiment-set configs: YAML files validated against ``config/schema/experiments.schema.json``
plus the names of experiments/catalogue.py (methods, figure kinds).

``load_experiment_set(path)`` returns ``{experiment name: experiment config}`` with the schema's
defaults filled in. Every problem (YAML syntax, unknown key, unknown method/model/dataset/figure
kind, wrong type, broken cross-field rule, a figure that could not be drawn from the experiments
it names) raises ``ConfigError`` with a one-line message ``FILE:LINE: JSON.PATH: what is wrong``
(experiments/config_yaml.py finds the lines). This is the one place each rule is checked: the
workflow loads the set when it plans, so a mistake stops the dry run, not a job hours later.
"""

from __future__ import annotations

import copy
import hashlib
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import jsonschema

from experiments.catalogue import FIGURE_KINDS, METHODS, required_methods
from experiments.config_yaml import ConfigError, describe_first, parse_yaml
from experiments.config_yaml import Locator as _Locator
from experiments.settings import experiment_settings

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config" / "schema" / "experiments.schema.json"


def load_experiment_set(path: str | Path) -> dict[str, dict]:
    """Read, validate and default-fill the experiment set in ``path``; name -> experiment config."""
    path = Path(path)
    root, document = parse_yaml(path)
    locate = _Locator(path, root)
    schema = load_schema()
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if errors:
        raise ConfigError(describe_first(errors, locate))
    _fill_defaults(document, schema, schema)
    for name, experiment in document["experiments"].items():
        _check_experiment(name, experiment, locate)
        _check_figures(name, document["experiments"], locate)
    _check_unique_figures(document["experiments"], locate)
    return document["experiments"]


def experiment_config(path: str | Path, name: str) -> dict:
    """The validated config of experiment ``name`` in the set at ``path``."""
    experiments = load_experiment_set(path)
    if name not in experiments:
        known = ", ".join(sorted(experiments))
        raise ConfigError(f"{path}: no experiment named {name!r} (known: {known})")
    return experiments[name]


def find_figure(experiments: dict[str, dict], figure: str) -> tuple[str, dict]:
    """(experiment name, plot spec) of the experiment that declares ``figure``; KeyError if none."""
    for name, experiment in experiments.items():
        if figure in experiment["figures"]:
            return name, experiment["figures"][figure]
    raise KeyError(f"no experiment declares figure {figure!r}")


def config_hash(cfg: Any) -> str:
    """``"sha256:<hex>"`` of the canonical JSON of ``cfg`` (sorted keys, no whitespace)."""
    canonical = json.dumps(cfg, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_schema() -> dict:
    """The experiment-set JSON schema, with the catalogue's method and figure-kind names."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    experiment = schema["$defs"]["experiment"]["properties"]
    experiment["methods"]["items"]["enum"] = list(METHODS)
    figure = experiment["figures"]["additionalProperties"]["properties"]
    figure["kind"]["enum"] = list(FIGURE_KINDS)
    figure["methods"]["items"]["enum"] = list(METHODS)
    return schema


# --- Which results depend on which experiment keys ------------------------------------------------

# Every experiment key not named below changes the rows of every round (dataset, model, training,
# pruning, rewind_iteration, and any key the schema gains later): round and trial settings are
# both "all keys but some", so a new key can never count for one and not the other.

# Keys that choose which rounds a trial runs (methods) and which trials exist (seeds).
PLAN_KEYS = ("methods", "seeds")
# Keys that change what summary.json reports, not what a trial computes.
REPORT_KEYS = ("report_densities",)
# Keys that change only the prose and the figures.
PRESENTATION_KEYS = ("description", "figures")


def round_count(cfg: dict) -> int:
    """Number of pruning rounds after the dense round 0."""
    return cfg["pruning"]["rounds"]


def round_settings(cfg: dict) -> dict:
    """The experiment keys the rows of any one round depend on (absent ones as None): a trial
    may keep its finished rounds while these stay the same, whatever the methods or seeds."""
    experiment_keys = load_schema()["$defs"]["experiment"]["properties"]
    other_keys = PLAN_KEYS + REPORT_KEYS + PRESENTATION_KEYS
    return {key: cfg.get(key) for key in experiment_keys if key not in other_keys}


def trial_settings(cfg: dict) -> dict:
    """The part of an experiment config that a trial's results depend on: the round settings
    and the plan (all but report and presentation keys)."""
    return {key: value for key, value in cfg.items()
            if key not in REPORT_KEYS + PRESENTATION_KEYS}


def summary_settings(cfg: dict) -> dict:
    """The part of an experiment config that summary.json depends on (all but presentation)."""
    return {key: value for key, value in cfg.items() if key not in PRESENTATION_KEYS}


# --- Defaults -------------------------------------------------------------------------------------


def _fill_defaults(instance: Any, schema: dict, root: dict) -> None:
    """Insert the schema's ``default`` values into a valid ``instance`` (in place)."""
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            if key not in instance and "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
        for key, value in instance.items():
            sub = properties.get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                _fill_defaults(value, sub, root)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for item in instance:
            _fill_defaults(item, schema["items"], root)


def _resolve(ref: str, root: dict) -> dict:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


# --- Cross-field rules ----------------------------------------------------------------------------


def _check_experiment(name: str, experiment: dict, locate: _Locator) -> None:
    """Rules the schema cannot say (or cannot say with a readable message)."""
    at = ["experiments", name]
    _check_dataset(experiment["dataset"], at + ["dataset"], locate)
    _check_model(experiment["model"], at + ["model"], locate)
    _check_training(experiment["training"], at + ["training"], locate)
    _check_methods(experiment, at, locate)
    _check_pruning(experiment, at, locate)
    experiment_settings(experiment)  # what methods will read builds from every valid config


def _check_dataset(dataset: dict, at: list, locate: _Locator) -> None:
    for key in ("num_samples", "train_split", "generation_seed"):
        if key in dataset and dataset["name"] != "mnist1d":
            raise locate.error(at + [key], f"applies to mnist1d only, not {dataset['name']}", True)
    if dataset.get("augment") and dataset["name"] != "cifar10":
        raise locate.error(at + ["augment"], "augmentation exists for cifar10 only", True)


# Model options and the models each belongs to.
MODEL_OPTIONS = {"hidden": ("mlp",), "residual": ("mlp",), "shortcut": ("resnet20",),
                 "batch_norm": ("conv2", "conv4", "conv6", "convnet"),
                 "stage_widths": ("convnet",), "fc_hidden": ("convnet",)}
# Options a model cannot do without.
MODEL_NEEDS = {"mlp": ("hidden",), "convnet": ("stage_widths",)}


def _check_model(model: dict, at: list, locate: _Locator) -> None:
    for option in MODEL_NEEDS.get(model["name"], ()):
        if option not in model:
            raise locate.error(at, f"model {model['name']} needs '{option}'")
    for option, owners in MODEL_OPTIONS.items():
        if option in model and model["name"] not in owners:
            raise locate.error(at + [option],
                               f"applies to {', '.join(owners)} only, not {model['name']}", True)
    # The MLP adds a skip where a hidden layer is as wide as its input (experiments/models/mlp.py).
    if model.get("residual") and not any(a == b for a, b in pairwise(model["hidden"])):
        raise locate.error(at + ["residual"], "needs two consecutive hidden layers of one width",
                           True)


def _check_training(training: dict, at: list, locate: _Locator) -> None:
    iterations = training["iterations"]
    if training["eval_every"] > iterations:
        raise locate.error(at + ["eval_every"], f"exceeds iterations ({iterations})")
    milestones = training["lr_milestones"]
    if milestones != sorted(set(milestones)) or any(m >= iterations for m in milestones):
        raise locate.error(at + ["lr_milestones"], f"must increase and stay below {iterations}")
    if training["warmup_iterations"] >= iterations:
        raise locate.error(at + ["warmup_iterations"], f"must be below iterations ({iterations})")


def _check_pruning(experiment: dict, at: list, locate: _Locator) -> None:
    """Each method's pruning key is given; channel ratios match the rounds."""
    pruning, uses = experiment["pruning"], method_pruning_keys()
    for index, method in enumerate(experiment["methods"]):
        if uses[method] is not None and uses[method] not in pruning:
            raise locate.error(at + ["methods", index],
                               f"{method} needs pruning.{uses[method]}")
    _check_channel_models(experiment, at, locate)
    ratios = pruning.get("channel_ratios")
    if ratios is not None and len(ratios) != pruning["rounds"]:
        raise locate.error(at + ["pruning", "channel_ratios"],
                           f"gives {len(ratios)} ratios for {pruning['rounds']} rounds (one per round)")
    if "rates" in pruning:
        _check_rates(pruning, at + ["pruning"], locate)


# Models whose copies train as one stacked network (experiments/stacked.py); named here so that
# the workflow can plan its jobs without importing torch.
STACKED_MODELS = ("mlp", "lenet300_100")

# Models whose channels the structured methods can remove (experiments/structured/narrow.py).
CHANNEL_MODELS = ("conv2", "conv4", "conv6", "convnet", "vgg16", "vgg19")
ALWAYS_BATCH_NORM = ("vgg16", "vgg19")


def _check_channel_models(experiment: dict, at: list, locate: _Locator) -> None:
    model, uses = experiment["model"], method_pruning_keys()
    for index, method in enumerate(experiment["methods"]):
        if uses[method] != "channel_ratios":
            continue
        if model["name"] not in CHANNEL_MODELS:
            raise locate.error(at + ["methods", index], f"{method} prunes channels, which model "
                               f"{model['name']} cannot lose (use {', '.join(CHANNEL_MODELS)})")
        has_bn = model.get("batch_norm") or model["name"] in ALWAYS_BATCH_NORM
        if method.startswith("slim_") and not has_bn:
            raise locate.error(at + ["methods", index], f"{method} needs batch_norm: true in the "
                               "model (it prunes by batch-norm scale)")


def _check_rates(pruning: dict, at: list, locate: _Locator) -> None:
    rates, scope = pruning["rates"], pruning["scope"]
    if scope == "layerwise":
        if "global" in rates:
            raise locate.error(at + ["rates", "global"], "only for scope: global", True)
        if "output" not in rates or not {"linear", "conv"} & set(rates):
            raise locate.error(at + ["rates"],
                               "layerwise needs 'output' and 'linear' and/or 'conv'")
    else:
        for kind in ("linear", "conv"):
            if kind in rates:
                raise locate.error(at + ["rates", kind], "not used by scope: global", True)
        if "global" not in rates:
            raise locate.error(at + ["rates"], "scope: global needs rates.global")
        if pruning.get("output_in_pool") and "output" in rates:
            raise locate.error(at + ["rates", "output"], "the output layer is in the pool "
                               "(output_in_pool: true): no separate output rate", True)
    for key in ("global_count", "output_in_pool"):
        if scope != "global" and key in pruning:
            raise locate.error(at + [key], "only for scope: global", True)


def method_requirements() -> dict[str, list[str]]:
    """Method -> methods whose saved state it needs (from the catalogue)."""
    return {name: required_methods(name) for name in METHODS}


def method_pruning_keys() -> dict[str, str | None]:
    """Method -> the pruning key it reads its schedule from (rates, channel_ratios or None)."""
    return {name: entry.pruning for name, entry in METHODS.items()}


def _check_methods(experiment: dict, at: list, locate: _Locator) -> None:
    methods = experiment["methods"]
    for index, method in enumerate(methods):
        missing = [needed for needed in required_methods(method) if needed not in methods]
        if missing:
            raise locate.error(at + ["methods", index], f"{method} needs {missing[0]} listed too")
        for key in METHODS[method].needs:
            if experiment.get(key) is None:
                raise locate.error(at, f"{method} needs '{key}'")
    iterations = experiment["training"]["iterations"]
    rewind = experiment.get("rewind_iteration")
    if rewind is not None and rewind >= iterations:
        raise locate.error(at + ["rewind_iteration"], f"must be below iterations ({iterations})")


def _check_unique_figures(experiments: dict[str, dict], locate: _Locator) -> None:
    owner: dict[str, str] = {}
    for name, experiment in experiments.items():
        for figure in experiment["figures"]:
            if figure in owner:
                raise locate.error(["experiments", name, "figures", figure],
                                   f"figure already declared by experiment {owner[figure]!r}", True)
            owner[figure] = name


def _check_figures(name: str, experiments: dict[str, dict], locate: _Locator) -> None:
    """Each figure of experiment ``name`` can be drawn: its panels are experiments of the set
    (panel kinds only) and every method it draws runs in every experiment it draws (in one of
    them, for a pooled kind)."""
    for figure, spec in experiments[name]["figures"].items():
        at = ["experiments", name, "figures", figure]
        kind = FIGURE_KINDS[spec["kind"]]
        if "panels" in spec and not kind.panels:
            raise locate.error(at + ["panels"], f"kind {spec['kind']} has no panels", True)
        sources = spec.get("panels", [name]) if kind.panels else [name]
        for index, source in enumerate(sources):
            if source not in experiments:
                raise locate.error(at + ["panels", index], f"no experiment named {source!r}")
        if name not in sources:
            raise locate.error(at + ["panels"], f"must include {name!r}, the declaring one", True)
        check = _check_pooled_methods if kind.pooled else _check_figure_methods
        check(spec, kind.default_methods, sources, experiments, at, locate)


def _check_pooled_methods(spec: dict, default: tuple[str, ...] | None, sources: list[str],
                          experiments: dict[str, dict], at: list, locate: _Locator) -> None:
    """A pooled figure's methods each run in at least one of the experiments it reads."""
    methods = spec.get("methods") or default or []
    runs = set().union(*(experiments[source]["methods"] for source in sources))
    missing = [m for m in methods if m not in runs]
    if missing:
        where = at + ["methods"] if "methods" in spec else at + ["kind"]
        raise locate.error(where, f"draws {', '.join(missing)}, which none of experiments "
                           f"{', '.join(sources)} runs", True)


def _check_figure_methods(spec: dict, default: tuple[str, ...] | None, sources: list[str],
                          experiments: dict[str, dict], at: list, locate: _Locator) -> None:
    """The methods a figure draws (its own, else its kind's) run in each experiment it reads."""
    methods = spec.get("methods") or default or []
    for source in sources:
        missing = [m for m in methods if m not in experiments[source]["methods"]]
        if missing:
            where = at + ["methods"] if "methods" in spec else at + ["kind"]
            raise locate.error(where, f"draws {', '.join(missing)}, which experiment {source} "
                               "does not run", True)
