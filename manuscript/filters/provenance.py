"""Provenance appendix: for every figure, table and number the thesis shows, who made it.

Runs before the results filters, while the chapters still say which experiment output each
element comes from. Records are read from files the workflow writes beside its outputs:
``figures/NAME.provenance.json`` for a figure and the ``provenance`` block of
``results/EXPERIMENT/summary.json`` for tables and numbers; a hand-made diagram is traced to its
Typst source under ``diagram-sources`` (metadata; default ``diagrams``). The appendix is appended at the end
(after the bibliography); metadata ``provenance-appendix: false`` turns it off. Run on one part
of the thesis (see common.Part), the filter records what the part shows; the build makes the
appendix for all parts with `appendix`.
"""
from __future__ import annotations

import json
from pathlib import Path

import panflute as pf

from manuscript.filters.appendix import start as start_appendices
from manuscript.filters.common import part_of, run, setting


def prepare(doc: pf.Doc) -> None:
    doc.shown = {"figures": [], "tables": [], "numbers": []}


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Image) and "://" not in elem.url:
        _add(doc.shown["figures"], (elem.url, _figure_id(elem)))
    elif isinstance(elem, pf.Div) and "results-table" in elem.classes:
        _add(doc.shown["tables"], (elem.attributes.get("data", ""), elem.identifier))
    elif isinstance(elem, pf.Code) and "result" in elem.classes:
        _add(doc.shown["numbers"], (elem.text.strip(), elem.attributes.get("fmt")))
    return None


def _add(items: list, item) -> None:
    if item not in items:
        items.append(item)


def _figure_id(image: pf.Image) -> str:
    parent = image.parent.parent if isinstance(image.parent, pf.Plain) else None
    return image.identifier or (parent.identifier if isinstance(parent, pf.Figure) else "")


def finalize(doc: pf.Doc) -> None:
    shown = doc.shown
    del doc.shown
    part = part_of(doc)
    if part is not None:
        part.facts["shown"] = {kind: [list(item) for item in items] for kind, items in shown.items()}
    else:
        doc.content.extend(appendix(shown, doc))


def appendix(shown: dict, doc: pf.Doc) -> list:
    """The appendix blocks for what the thesis `shown` (figures, tables, numbers); none when
    there is nothing to show or metadata turns the appendix off."""
    if not setting(doc, "provenance-appendix", True) or not any(shown.values()):
        return []
    sources = Path(setting(doc, "diagram-sources", "diagrams"))
    return [
        # Justified lines would stretch the long unbreakable hashes and paths apart.
        start_appendices(doc), pf.RawBlock("#set par(justify: false)", format="typst"),
        pf.Header(pf.Str("Provenance"), pf.Space(), pf.Str("of"), pf.Space(), pf.Str("results"),
                  level=1, identifier="sec:provenance"),
        pf.Para(pf.Str(_INTRO)),
        *_section("Figures", [_figure_item(url, label, sources) for url, label in shown["figures"]]),
        *_section("Tables", [_table_item(data, label) for data, label in shown["tables"]]),
        *_section("Numbers quoted in the text", _number_items(shown["numbers"], doc)),
    ]


def sources(shown: dict, doc: pf.Doc) -> list[str]:
    """Every file `appendix` reads (or checks for) to describe what the thesis `shown`."""
    diagrams = Path(setting(doc, "diagram-sources", "diagrams"))
    results = Path(setting(doc, "results-root", "results"))
    files = [str(Path(url).with_suffix(".provenance.json")) for url, _ in shown["figures"]]
    files += [str(diagrams / f"{Path(url).stem}.typ") for url, _ in shown["figures"]]
    files += [str(Path(data).parent / "summary.json") for data, _ in shown["tables"]]
    files += [str(results / key.split(".")[0] / "summary.json") for key, _ in shown["numbers"]]
    return sorted(set(files))


_INTRO = ("Every figure, table and number below was made by the workflow from this repository; "
          "each entry names the rule that made it, the hash of the experiment configuration, "
          "the seeds, the code commit, the device and the date.")


def _section(title: str, items: list) -> list:
    if not items:
        return []
    return [pf.Header(*_words(title), level=2, classes=["unnumbered"]), pf.BulletList(*items)]


def _figure_item(url: str, label: str, diagram_sources: Path) -> pf.ListItem:
    sidecar = Path(url).with_suffix(".provenance.json")
    record = _read(sidecar)
    source = diagram_sources / f"{Path(url).stem}.typ"
    fallback = (f"a hand-made diagram, drawn from {source} by rule diagram" if source.exists()
                else "a file kept in the repository; no workflow record")
    return _item(label, url, record, fallback)


def _table_item(data: str, label: str) -> pf.ListItem:
    record = _read(Path(data).parent / "summary.json").get("provenance", {})
    return _item(label, data, record, "no workflow record beside this file")


def _number_items(numbers: list, doc: pf.Doc) -> list[pf.ListItem]:
    by_experiment: dict[str, list] = {}
    listed = set()
    for key, fmt in numbers:
        if key in listed:  # shown in two formats (".1%" and ".3f"): one entry, the first format
            continue
        listed.add(key)
        by_experiment.setdefault(key.split(".")[0], []).append((key, fmt))
    items = []
    for experiment, keys in by_experiment.items():
        summary = Path(setting(doc, "results-root", "results")) / experiment / "summary.json"
        record = _read(summary).get("provenance", {})
        values = [[pf.Code(key), pf.Str(" = "),
                   pf.Code(key, classes=["result"], attributes={"fmt": fmt} if fmt else {})]
                  for key, fmt in keys]
        item = _item("", str(summary), record, "no workflow record")
        item.content.append(pf.BulletList(*[pf.ListItem(pf.Plain(*v)) for v in values]))
        items.append(item)
    return items


def _item(label: str, path: str, record: dict, fallback: str) -> pf.ListItem:
    head = [pf.Cite(citations=[pf.Citation(label)]), pf.Str(": ")] if label else []
    head.append(pf.Code(path))
    details = _describe(record) if record else fallback
    return pf.ListItem(pf.Plain(*head, pf.Str(" — "), *_words(details)))


def _describe(record: dict) -> str:
    dirty = " with uncommitted changes" if record.get("code_dirty") else ""
    seeds = ", ".join(str(s) for s in record.get("seeds", [])) or "none"
    return (f"experiment {record.get('experiment', '?')}, rule {record.get('rule', '?')}; "
            f"config {str(record.get('config_hash', '?'))[:19]}; seeds {seeds}; "
            f"code {str(record.get('code_commit', '?'))[:10]}{dirty}; "
            f"device {record.get('device', '?')}; {str(record.get('date', '?'))[:16].replace('T', ' ')} UTC.")


def _words(text: str) -> list:
    words = text.split()
    out = []
    for word in words:
        out.extend([pf.Space(), pf.Str(word)] if out else [pf.Str(word)])
    return out


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
