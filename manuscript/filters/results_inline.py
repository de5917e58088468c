"""Inline results: `` `EXPERIMENT.key.path`{.result fmt=".1%"} `` becomes the formatted number.

The value is read from ``<results-root>/EXPERIMENT/summary.json`` (metadata `results-root`,
default ``results``); path parts that are digits index lists. `fmt` is a Python format spec
(default: ``g`` for numbers, none for text such as a device name). An unknown experiment, key or a bad format stops the build at the chapter line.
"""
from __future__ import annotations

import json
from pathlib import Path

import panflute as pf

from manuscript.filters.common import element_error, ordinal, run, setting


class _Problem(Exception):
    """What is wrong with a result, before it is placed at the element's line."""


def prepare(doc: pf.Doc) -> None:
    doc.results_root = Path(setting(doc, "results-root", "results"))
    doc.summaries = {}
    doc.result_parents = []  # inline containers holding a replaced value, joined in finalize


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Code) and "result" in elem.classes:
        key = elem.text.strip()
        nth = ordinal(doc, "result", key)
        try:
            value = pf.Str(format_result(elem, doc))
            doc.result_parents.append(elem.parent)
            return value
        except _Problem as problem:
            raise element_error(str(problem), doc, "result", key, nth) from None
    return None


def finalize(doc: pf.Doc) -> None:
    del doc.summaries
    for parent in {id(parent): parent for parent in doc.result_parents}.values():
        _join_texts(parent)
    del doc.result_parents


def _join_texts(elem) -> None:
    """Join each value with the text beside it ("967" "." -> "967."): pandoc's Typst writer
    escapes a wrapped line that starts "967. " (else a numbered list item) only when the digits
    and the full stop are one Str."""
    items = list(elem.content)
    if not any(isinstance(a, pf.Str) and isinstance(b, pf.Str) for a, b in zip(items, items[1:])):
        return
    joined: list = []
    for item in items:
        if joined and isinstance(item, pf.Str) and isinstance(joined[-1], pf.Str):
            joined[-1] = pf.Str(joined[-1].text + item.text)
        else:
            joined.append(item)
    elem.content = joined


def format_result(code: pf.Code, doc: pf.Doc) -> str:
    key = code.text.strip()
    value = lookup(key, doc)
    fmt = code.attributes.get("fmt", "" if isinstance(value, str) else "g")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Problem(f"result '{key}' is {_kind(value)}, not a number or text")
    try:
        return format(value, fmt)
    except (ValueError, TypeError) as exc:
        raise _Problem(f"result '{key}': bad format '{fmt}' ({exc})") from None


def lookup(key: str, doc: pf.Doc):
    experiment, *path = key.split(".")
    if not experiment or not path:
        raise _Problem(f"result '{key}' must read EXPERIMENT.key[.key...]")
    value = summary(experiment, key, doc)
    for depth, part in enumerate(path):
        if value is None:  # a value the experiment could not compute, e.g. no ticket was found
            where = ".".join([experiment, *path[:depth]])
            raise _Problem(f"result '{key}': '{where}' is null in {_file(doc, experiment)}, "
                           f"so it has no '{part}'")
        value = _step(value, part)
        if value is _MISSING:
            known = ", ".join(sorted(_keys(_walk(summary(experiment, key, doc), path[:depth]))))
            raise _Problem(f"result '{key}': no key '{part}' (known here: {known})")
    return value


_MISSING = object()


def _kind(value) -> str:
    return "null" if value is None else type(value).__name__


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


def _file(doc: pf.Doc, experiment: str) -> Path:
    return doc.results_root / experiment / "summary.json"


def summary(experiment: str, key: str, doc: pf.Doc) -> dict:
    if experiment not in doc.summaries:
        path = _file(doc, experiment)
        try:
            doc.summaries[experiment] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _Problem(f"result '{key}': {path} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _Problem(f"result '{key}': {path} is not valid JSON ({getattr(exc, 'msg', exc)})") from None
    return doc.summaries[experiment]


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
