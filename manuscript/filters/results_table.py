"""Results tables: a div names a CSV written by the workflow and a jinja2 template that renders it.

    ::: {#tbl:lth .results-table data=results/lth_mnist1d/rounds.csv template=lth_rounds.md.j2}
    Test accuracy at each round, mean and standard deviation over seeds.
    :::

The template (looked up in metadata `table-templates`, default ``templates``) receives `rows`
(list of dicts, numbers parsed), `columns`, `summary` (the experiment's summary.json when it
sits beside the CSV) and `options` (the div's attributes, e.g. ``family=l1``), and must render markdown holding exactly one table. The div's text becomes
the caption and its id the table's label, so ``@tbl:lth`` refers to it.
"""
from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import panflute as pf

from manuscript.errors import SourceError
from manuscript.filters.common import element_error, element_place, ordinal, run, setting
from manuscript.pandoc import markdown_to_blocks


class _Problem(Exception):
    """What is wrong with a table, before it is placed at the div's line."""


def prepare(doc: pf.Doc) -> None:
    doc.table_env = None  # made at the first table: most chapters have none, and jinja2 is slow to import


def _environment(doc: pf.Doc):
    import jinja2

    if doc.table_env is None:
        templates = Path(setting(doc, "table-templates", "templates"))
        doc.table_env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        doc.table_env.filters.update(fmt=format, mean=_mean, std=_std, pct=_pct, pm=_plus_minus)
    return doc.table_env


def action(elem, doc: pf.Doc):
    if isinstance(elem, pf.Div) and "results-table" in elem.classes:
        data = elem.attributes.get("data", "")
        nth = ordinal(doc, "results-table", data)
        try:
            return render_table(elem, doc)
        except _Problem as problem:
            raise element_error(str(problem), doc, "results-table", data, nth) from None
        except SourceError as error:  # in a file the table reads: say which table read it
            file, line = element_place(doc, "results-table", data, nth)
            error.message += f" (read for the table at {file}:{line})"
            raise
    return None


def finalize(doc: pf.Doc) -> None:
    del doc.table_env


def render_table(div: pf.Div, doc: pf.Doc) -> pf.Table:
    data, template = div.attributes.get("data"), div.attributes.get("template")
    if not data or not template:
        raise _Problem("a results-table div needs both data=FILE.csv and template=NAME.md.j2")
    rows, columns = read_csv(Path(data))
    markdown = _render(doc, template, rows=rows, columns=columns,
                       summary=_summary_beside(Path(data)), options=dict(div.attributes))
    table = _only_table(markdown, template)
    table.identifier = div.identifier
    table.caption = pf.Caption(pf.Plain(*_caption_inlines(div)))
    return table


def read_csv(path: Path) -> tuple[list[dict], list[str]]:
    """Rows (numbers parsed) and columns; a row of another length than the header is an error
    at its line of the CSV, since csv.DictReader would fill or drop values silently."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            columns = next(reader, [])
            rows = [_row(columns, values, path, reader.line_num) for values in reader if values]
            return rows, columns
    except FileNotFoundError:
        raise _Problem(f"table data {path} does not exist") from None
    except (csv.Error, UnicodeDecodeError, IsADirectoryError) as exc:
        raise _Problem(f"table data {path} is not a readable CSV ({exc})") from None


def _row(columns: list[str], values: list[str], path: Path, line: int) -> dict:
    if len(values) != len(columns):
        raise SourceError(f"row has {len(values)} values, the header {len(columns)} columns", str(path), line)
    return {key: _number(value) for key, value in zip(columns, values)}


def _render(doc: pf.Doc, template: str, **context) -> str:
    import jinja2

    environment = _environment(doc)
    try:
        return environment.get_template(template).render(**context)
    except jinja2.TemplateNotFound:
        raise _Problem(f"table template {template} not found in {environment.loader.searchpath[0]}/") from None
    except jinja2.TemplateSyntaxError as exc:
        raise SourceError(f"template syntax: {exc.message}", exc.filename or template, exc.lineno) from None
    except (jinja2.UndefinedError, TypeError, ValueError, KeyError) as exc:
        raise _Problem(f"table template {template} failed: {exc}") from None


def _only_table(markdown: str, template: str) -> pf.Table:
    tables = [block for block in markdown_to_blocks(markdown) if isinstance(block, pf.Table)]
    if len(tables) != 1:
        raise _Problem(f"table template {template} rendered {len(tables)} tables, expected 1")
    return tables[0]


def _caption_inlines(div: pf.Div) -> list[pf.Inline]:
    inlines: list[pf.Inline] = []
    for block in div.content:
        if isinstance(block, (pf.Para, pf.Plain)):
            inlines.extend([pf.Space()] if inlines else [])
            inlines.extend(block.content)
    return inlines


def _summary_beside(data: Path) -> dict:
    path = data.parent / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _number(text):
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _mean(values) -> float:
    return statistics.fmean(values)


def _std(values) -> float:
    values = list(values)
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}"


def _plus_minus(stat: dict | None, scale: float = 100, digits: int = 1) -> str:
    """A summary statistic {"mean", "std"} as "71.2 ± 1.3" (percent by default); "–" if absent."""
    if not stat or stat.get("mean") is None:
        return "–"
    mean = f"{scale * stat['mean']:.{digits}f}"
    # no-break spaces: a narrow table column must not wrap "44.2 ±" away from "12.2"
    return mean if stat.get("std") is None else f"{mean}\u00a0±\u00a0{scale * stat['std']:.{digits}f}"


def main(doc: pf.Doc | None = None):
    return run(action, prepare, finalize, doc)


if __name__ == "__main__":
    main()
