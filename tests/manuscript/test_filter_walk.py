"""The filters' walk: panflute's order and meaning of an action's result, in place."""
import panflute as pf

from manuscript.filters.common import Part, walk_document
from tests.manuscript.docs import parse

MARKDOWN = """\
---
title: A *title* with `code`{.result}
---

# Head {#sec:h}

Some *emphasis*, `code`{.result} and [@key; @other] in a paragraph.[^1]

[^1]: A note with `more`{.result}.

| a | b |
|---|---|
| `x`{.result} | *y* |

: Caption with `cap`{.result}

- item `one`{.result}
- item two

::: {.box}
Text in a div.
:::
"""


def _editing_action(visited):
    def action(elem, doc):
        visited.append(type(elem).__name__)
        if isinstance(elem, pf.Code):
            return pf.Str(elem.text.upper())
        if isinstance(elem, pf.Emph):
            return []
        if isinstance(elem, pf.Div):
            return list(elem.content)
        return None
    return action


def test_walk_matches_panflute_in_order_and_result(project):
    ours, theirs = parse(MARKDOWN), parse(MARKDOWN)
    visited_ours, visited_theirs = [], []
    walk_document(ours, _editing_action(visited_ours))
    theirs = theirs.walk(_editing_action(visited_theirs))
    assert visited_ours == visited_theirs[:-1]  # panflute also offers the Doc itself
    assert ours.to_json() == theirs.to_json()


def test_a_part_walks_its_metadata_only_when_it_owns_it(project):
    doc = parse(MARKDOWN)
    doc.part = Part(walk_metadata=False)
    seen = []
    walk_document(doc, lambda elem, doc: seen.append(elem) if isinstance(elem, pf.MetaValue) else None)
    assert seen == []
    doc.part = Part(walk_metadata=True)
    walk_document(doc, lambda elem, doc: seen.append(elem) if isinstance(elem, pf.MetaValue) else None)
    assert seen
