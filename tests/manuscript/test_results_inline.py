import re

import pytest

from manuscript.errors import SourceError
from manuscript.filters import results_inline
from tests.manuscript.docs import parse, to_typst


def test_number_is_read_from_summary_and_formatted(project):
    doc = results_inline.main(parse('Dense nets reach `toy.dense.test_acc.mean`{.result fmt=".1%"}.\n'))
    assert "Dense nets reach 73.1%." in to_typst(doc)


def test_list_index_in_key_path(project):
    doc = results_inline.main(parse('Round one keeps `toy.methods.imp.rounds.1.density`{.result fmt=".0%"}.\n'))
    assert "keeps 80%." in to_typst(doc)


def test_default_format_is_general(project):
    doc = results_inline.main(parse("Std `toy.dense.test_acc.std`{.result}.\n"))
    assert "Std 0.0123." in to_typst(doc)


@pytest.mark.parametrize("snippet, message", [
    ("`toy.dense.nope`{.result}", "no key 'nope'"),
    ("`missing.dense.x`{.result}", "results/missing/summary.json does not exist"),
    ('`toy.dense.test_acc.mean`{.result fmt="%d"}', "bad format"),
    ("`toy.dense`{.result}", "not a number"),
    ("`toy`{.result}", "EXPERIMENT.key"),
])
def test_bad_reference_names_chapter_and_line(project, snippet, message):
    doc = parse(f"First line.\n\nSecond paragraph with {snippet} in it.\n", chapter="ch1.md")
    with pytest.raises(SourceError) as caught:
        results_inline.main(doc)
    assert caught.value.file == "ch1.md" and caught.value.line == 3
    assert message in caught.value.message


def test_plain_code_is_untouched(project):
    doc = results_inline.main(parse("Run `snakemake --cores 4`.\n"))
    assert "snakemake --cores 4" in to_typst(doc)


def test_text_value_prints_as_it_is(project):
    doc = results_inline.main(parse("Made by rule `toy.provenance.rule`{.result}.\n"))
    assert "Made by rule aggregate." in to_typst(doc)


def test_a_number_wrapped_to_a_line_start_never_opens_a_typst_list(project):
    # Typst reads a line starting "1. " as a numbered list item. Pandoc escapes such a line only
    # when the digits and the full stop are one piece of text, so the value joins the text after
    # it; wherever the wrap falls, no line of the Typst starts with a bare "N. ".
    for words in range(25, 45):
        text = "a " * words + '`toy.dense.test_acc.mean`{.result fmt=".0f"}. Then more words.\n'
        lines = to_typst(results_inline.main(parse(text))).splitlines()
        assert not [line for line in lines if re.match(r"\d+\. ", line)], words
