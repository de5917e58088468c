"""The checks of metadata.yaml and the files it names, each error at its line.

Pandoc reads metadata.yaml for the build, but its YAML errors do not say where, and it takes
any value for the settings our filters read (`provenance-appendix: 3` would be "3", which is
true). So the file is first read here with PyYAML, which keeps each value's line, and every
documented setting is checked against what it must be (RULES). Booleans are YAML 1.2's (pandoc's):
`yes` and `no` are text there, so they are refused. The CSL style is an XML file; an XML parser
gives the line of its errors.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from manuscript.errors import SourceError, require_utf8

CSL_NAMESPACE = "{http://purl.org/net/xbiblio/csl}"


def _scalar(node) -> bool:
    return node.id == "scalar"


def _text(node) -> str | None:
    if _scalar(node) and node.tag.endswith(":str"):
        return None
    return "must be text"


def _boolean(node) -> str | None:
    ok = _scalar(node) and node.tag.endswith(":bool") and node.value.lower() in ("true", "false")
    return None if ok else "must be true or false"


def _one_of(*choices: str) -> Callable:
    def check(node) -> str | None:
        ok = _scalar(node) and node.value in choices
        return None if ok else "must be " + " or ".join(choices)
    return check


def _texts(node) -> str | None:
    """Text, or a list of texts."""
    items = node.value if node.id == "sequence" else [node]
    return None if items and all(_text(item) is None for item in items) else "must be text or a list of texts"


def _file(node) -> str | None:
    if _texts(node) is not None:
        return "must be a file name or a list of them"
    missing = [item.value for item in (node.value if node.id == "sequence" else [node])
               if not Path(item.value).is_file()]
    return f"file {missing[0]} does not exist" if missing else None


def _library_links(node):
    """None, or the problem with the node it is at (one pattern's own line); `false` turns the
    links off."""
    if _scalar(node) and node.tag.endswith(":bool") and node.value == "false":
        return None
    keys = {key.value: value for key, value in node.value} if node.id == "mapping" else {}
    for name in ("arxiv", "doi", "url"):
        if name not in keys:
            return "must map arxiv, doi and url to link patterns, or be false"
        if _text(keys[name]) is not None or f"{{{name}}}" not in keys[name].value:
            return f"{name} must be a link pattern holding {{{name}}}", keys[name]
    return None


# The title-page and list wording templates/thesis.typ takes from `labels:` (default-labels).
LABELS = ("chapter", "contents", "figures", "tables", "equation", "supervisor", "supervisors",
          "degree-intro", "by", "appendix")


def _labels(node):
    """A mapping of known label names to text; the problem is at the bad entry's line."""
    if node.id != "mapping":
        return "must map label names (" + ", ".join(LABELS) + ") to text"
    for key, value in node.value:
        if key.value not in LABELS:
            return f"unknown label '{key.value}' (known: {', '.join(LABELS)})", key
        if _text(value) is not None:
            return f"{key.value} must be text", value
    return None


def _language(node) -> str | None:
    ok = _scalar(node) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]+)*", node.value)
    return None if ok else "must be a language tag such as en or en-GB"


# Every setting the build or its filters read, and what it must be.
RULES: dict[str, Callable] = {
    "lang": _language, "toc": _boolean, "lof": _boolean, "lot": _boolean,
    "bibliography": _file, "csl": _file, "link-citations": _boolean,
    "uncited-entries": _one_of("warn", "error"), "library-links": _library_links,
    "unlinkable-entries": _one_of("warn", "error"),
    "fonts": _texts, "results-root": _text, "table-templates": _text, "diagram-sources": _text,
    "provenance-appendix": _boolean, "labels": _labels,
}


def check(path: str) -> None:
    """Raise a SourceError at the line of metadata.yaml's first bad setting or YAML error."""
    import yaml  # late: only a changed metadata file is checked

    data = Path(path).read_bytes()
    require_utf8(path, data)
    try:
        root = yaml.compose(data.decode("utf-8"))
    except yaml.MarkedYAMLError as error:
        # the context (an unclosed quote, say) is where the mistake is; the problem may be at the end
        mark = error.context_mark or error.problem_mark
        message = "; ".join(part for part in (error.context, error.problem) if part)
        raise SourceError(f"YAML: {message}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise SourceError(f"YAML: {error}", path) from None
    if root is None:
        return
    if root.id != "mapping":
        raise SourceError("must be a YAML mapping of settings (key: value)", path, root.start_mark.line + 1)
    for key, value in root.value:
        problem = RULES[key.value](value) if key.value in RULES else None
        where = value
        if isinstance(problem, tuple):
            problem, where = problem
        if problem:
            raise SourceError(f"{key.value}: {problem}", path, where.start_mark.line + 1)
        if key.value == "csl":
            check_csl(value.value)


def check_csl(path: str) -> None:
    """Raise a SourceError at the line of a CSL style's XML error, or if it is not a style."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        message = re.sub(r": line \d+, column \d+$", "", str(error))
        raise SourceError(f"not well-formed XML: {message}", path, error.position[0]) from None
    if root.tag != f"{CSL_NAMESPACE}style":
        raise SourceError(f"not a CSL style: the root element is <{root.tag}>, not <style> in "
                          f"the CSL namespace", path, 1)
