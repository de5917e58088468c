"""Inline results: `` `EXPERIMENT.key.path`{.result fmt=".1%"} `` becomes the formatted number.

The value is read from ``<results-root>/EXPERIMENT/summary.json`` (metadata `results-root`,
default ``results``); path parts that are digits index lists. `fmt` is a Python format spec
(default: ``g`` for numbers, none for text such as a device name). An unknown experiment, key or a bad format stops the build at the chapter line.
"""
from __future__ import annotations

import json
from pathlib import Path

import panflute as pf

from manuscript.errors import error_at
from manuscript.filters.common import run, setting, source_files


def prepare(doc: pf.Doc) -> None:
    doc.results_root = Path(setting(doc, "results-root", "results"))
    doc.summaries = {}


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Code) and "result" in elem.classes:
        return pf.Str(format_result(elem, doc))
    return None


def finalize(doc: pf.Doc) -> None:
    del doc.summaries


def format_result(code: pf.Code, doc: pf.Doc) -> str:
    key = code.text.strip()
    value = lookup(key, code, doc)
    fmt = code.attributes.get("fmt", "" if isinstance(value, str) else "g")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _error(f"result '{key}' is {type(value).__name__}, not a number or text", code, doc)
    try:
        return format(value, fmt)
    except (ValueError, TypeError) as exc:
        raise _error(f"result '{key}': bad format '{fmt}' ({exc})", code, doc) from None


def lookup(key: str, code: pf.Code, doc: pf.Doc):
    experiment, *path = key.split(".")
    if not experiment or not path:
        raise _error(f"result '{key}' must read EXPERIMENT.key[.key...]", code, doc)
    value = summary(experiment, code, doc)
    for depth, part in enumerate(path):
        value = _step(value, part)
        if value is _MISSING:
            known = ", ".join(sorted(_keys(_walk(summary(experiment, code, doc), path[:depth]))))
            raise _error(f"result '{key}': no key '{part}' (known here: {known})", code, doc)
    return value


_MISSING = object()


def _step(value, part: str):
    if isinstance(value, dict):
        return value.get(part, _MISSING)
    if isinstance(value, list) and part.isdigit() and int(part) < len(value):
        return value[int(part)]
    return _MISSING


def _walk(value, parts: list[str]):
    for part in parts:
        value = _step(value, part)
    return value


def _keys(value) -> list[str]:
    if isinstance(value, dict):
        return list(value)
    return [str(i) for i in range(len(value))] if isinstance(value, list) else []


def summary(experiment: str, code: pf.Code, doc: pf.Doc) -> dict:
    if experiment not in doc.summaries:
        path = doc.results_root / experiment / "summary.json"
        try:
            doc.summaries[experiment] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _error(f"result '{code.text}': {path} does not exist", code, doc) from None
        except json.JSONDecodeError as exc:
            raise _error(f"result '{code.text}': {path} is not valid JSON ({exc.msg})", code, doc) from None
    return doc.summaries[experiment]


def _error(message: str, code: pf.Code, doc: pf.Doc):
    return error_at(message, f"`{code.text}`", source_files(doc))


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
