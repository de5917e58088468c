"""Reading experiment-set YAML with line numbers, and turning schema errors into one-line
messages ``FILE:LINE: JSON.PATH: what is wrong``.

Lines come from the YAML node tree (``yaml.compose``), which keeps the position of every key and
value; ``Locator`` maps a JSON path of the loaded data back to its line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import jsonschema
import yaml

JsonPath = Sequence[str | int]


class ConfigError(ValueError):
    """A bad experiment config; ``str(err)`` is one line naming the file, line and key."""


# libyaml's parser where PyYAML was built with it: it reads the experiment set about ten times
# faster, and every Snakemake start, trial and figure job reads it.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ConfigLoader(_SafeLoader):
    """The safe loader, also reading ``1e-3`` as a float (YAML 1.1 would make it a string)."""


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


# --- YAML and line numbers ------------------------------------------------------------------------


def parse_yaml(path: Path) -> tuple[yaml.Node | None, Any]:
    """(node tree, plain data) of the YAML file; ConfigError on unreadable file or bad syntax."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {getattr(err, 'strerror', None) or err}") from None
    try:
        root = yaml.compose(text, Loader=_ConfigLoader)
        document = yaml.load(text, Loader=_ConfigLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(str(err.problem or err.context or "syntax error").split())
        raise ConfigError(f"{path}:{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}:1: YAML error: {' '.join(str(err).split())}") from None
    check_duplicate_keys(path, root)
    return root, document


def check_duplicate_keys(path: Path, node: yaml.Node | None, where: str = "") -> None:
    """PyYAML silently keeps the last of two equal keys; a config with one is an error."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{path}:{line}: {where + key}: duplicate key {key!r}")
            seen.add(key)
            check_duplicate_keys(path, value_node, f"{where}{key}.")
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            check_duplicate_keys(path, item, f"{where}[{index}].")


class Locator:
    """Maps a JSON path (keys and list indices) to a line of the YAML file."""

    def __init__(self, path: Path, root: yaml.Node | None):
        self.path = path
        self.root = root

    def line(self, json_path: JsonPath, key_of_last: bool = False) -> int:
        """1-based line of the value at ``json_path`` (or of its key), else its nearest parent."""
        node, line = self.root, 1
        if node is not None:
            line = node.start_mark.line + 1
        last = len(json_path) - 1
        for depth, step in enumerate(json_path):
            child = _child(node, step)
            if child is None:
                break
            key_node, node = child
            # A block mapping or list starts on the line after its key: name the key's line.
            use_key = isinstance(node, yaml.CollectionNode) or (key_of_last and depth == last)
            line = (key_node if use_key else node).start_mark.line + 1
        return line

    def error(self, json_path: JsonPath, message: str, key_of_last: bool = False) -> ConfigError:
        """ConfigError ``FILE:LINE: PATH: message``."""
        line = self.line(json_path, key_of_last)
        return ConfigError(f"{self.path}:{line}: {_format_path(json_path)}: {message}")


def _child(node: yaml.Node | None, step: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(key node, value node) of ``step`` inside ``node``; for lists the key node is the item."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if str(key_node.value) == str(step):
                return key_node, value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step], node.value[step]
    return None


def _format_path(json_path: JsonPath) -> str:
    text = ""
    for step in json_path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


# --- Schema errors --------------------------------------------------------------------------------


def describe_first(errors: list[jsonschema.ValidationError], locate: Locator) -> str:
    """Message of the schema error that comes first in the file."""
    described = [_describe(error, locate) for error in errors]
    described.sort(key=lambda item: (item[0], item[1]))
    return str(described[0][2])


def _describe(error: jsonschema.ValidationError, locate: Locator) -> tuple[int, str, ConfigError]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        unknown = [key for key in error.instance if key not in allowed]
        key_path = path + [unknown[0]]
        message = f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        err = locate.error(key_path, message, key_of_last=True)
        return locate.line(key_path, True), _format_path(key_path), err
    err = locate.error(path, _schema_message(error))
    return locate.line(path), _format_path(path), err


def _schema_message(error: jsonschema.ValidationError) -> str:
    """A short, one-line reading of a schema violation."""
    value = error.instance
    if error.validator == "enum":
        what = error.schema.get("title", "value")
        return f"unknown {what} {value!r} (known: {', '.join(map(str, error.validator_value))})"
    if error.validator == "type":
        got = "null" if value is None else type(value).__name__
        return f"expected {error.validator_value}, got {got} {value!r}"
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in value]
        return f"missing required key {missing[0]!r}"
    if error.validator == "propertyNames":
        return f"bad name: {' '.join(error.message.split())}"
    return " ".join(error.message.split())
