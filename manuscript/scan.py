"""What the chapters reference, so the workflow makes exactly that before typesetting.

Snakemake calls `referenced_files` while it builds the job graph: each figure path, each table's
CSV and template, and the summary.json behind each inline number becomes an input of the thesis
target. Editing prose changes none of these, so no experiment reruns.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import panflute as pf

from manuscript.errors import error_at
from manuscript.pandoc import load_doc


@dataclass
class References:
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)

    def files(self) -> list[str]:
        return sorted(set(self.figures + self.tables + self.templates + self.summaries))


def scan(chapters: list[str], templates_dir: str = "templates", results_root: str = "results") -> References:
    refs = References()
    doc = load_doc(["-f", "markdown", *chapters])

    def visit(elem, doc):
        if isinstance(elem, pf.Image) and "://" not in elem.url:
            _add(refs.figures, elem.url)
        elif isinstance(elem, pf.Div) and "results-table" in elem.classes:
            _add(refs.tables, elem.attributes.get("data", ""))
            _add(refs.templates, f"{templates_dir}/{elem.attributes.get('template', '')}")
        elif isinstance(elem, pf.Code) and "result" in elem.classes:
            experiment = elem.text.strip().split(".")[0]
            _add(refs.summaries, f"{results_root}/{experiment}/summary.json")

    doc.walk(visit)
    return refs


def _add(items: list[str], item: str) -> None:
    if item and item not in items:
        items.append(item)


def check_producible(refs: References, chapters: list[str], can_make) -> None:
    """Raise a SourceError at the chapter line of the first file that neither exists nor has a rule."""
    for path, needle in _needles(refs):
        if not can_make(path):
            raise error_at(f"{path} is referenced, but it does not exist and no rule makes it", needle, chapters)


def _needles(refs: References):
    """Each referenced file with the text that points at it in a chapter."""
    yield from ((path, f"({path}") for path in refs.figures)
    yield from ((path, path) for path in refs.tables)
    yield from ((path, path.rsplit("/", 1)[-1]) for path in refs.templates)
    yield from ((path, f"`{path.split('/')[-2]}.") for path in refs.summaries)
