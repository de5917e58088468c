"""The workflow's own settings (config/config.yaml merged with ``snakemake --config``), checked
against ``config/schema/workflow.schema.json`` so a typo is a one-line error, not ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from experiments.config_yaml import ConfigError, Locator, _schema_message, parse_yaml

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config" / "schema" / "workflow.schema.json"


def checked_workflow_config(config: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """`config` with the schema's defaults filled in; ConfigError naming the file and line of a
    bad key or value, or the ``--config`` option it came from."""
    path = Path(path)
    root, from_file = parse_yaml(path)
    from_file = from_file if isinstance(from_file, dict) else {}
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    allowed = schema["properties"]
    config = {key: _as_boolean(value, allowed.get(key, {})) for key, value in config.items()}
    for key, value in config.items():
        if key not in allowed:
            raise _error(path, root, from_file, config, key,
                         f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        problem = next(jsonschema.Draft202012Validator(allowed[key]).iter_errors(value), None)
        if problem is not None:
            expected = allowed[key].get("title") if problem.validator in ("pattern", "anyOf") else None
            message = f"expected {expected}, got {value!r}" if expected else _schema_message(problem)
            raise _error(path, root, from_file, config, key, message)
    for key in schema["required"]:
        if key not in config:
            raise ConfigError(f"{path}:1: missing required key {key!r}")
    return {**{k: v["default"] for k, v in allowed.items() if "default" in v}, **config}


def _as_boolean(value: Any, schema: dict) -> Any:
    """`--config typst_server=false` reaches the workflow as the text 'false'."""
    if schema.get("type") == "boolean" and str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    return value


def _error(path, root, from_file, config, key, message) -> ConfigError:
    """The error placed where the value came from: the file's line, or the --config option."""
    if key in from_file and from_file[key] == config[key]:
        return Locator(path, root).error([key], message, key_of_last=True)
    return ConfigError(f"--config {key}={config[key]}: {message}")
