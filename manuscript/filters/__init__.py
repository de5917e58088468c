"""Pandoc filters, one concern each, in the order the build applies them.

Each module has `prepare`, `action`, `finalize` and a `main(doc=None)`, so it runs in-process
(the build passes a panflute Doc) or as a standalone pandoc filter (``--filter`` with
``python -m manuscript.filters.NAME``).
"""
from manuscript.filters import (
    abstract,
    appendix,
    bibliography_links,
    citations,
    crossref,
    figures,
    provenance,
    results_inline,
    results_table,
)

# Provenance reads the chapters' references before the results filters replace them, and adds
# numbers and labels of its own that the results and crossref filters then resolve.
BEFORE_CITEPROC = (abstract, appendix, provenance, results_inline, results_table, figures, crossref, citations)
AFTER_CITEPROC = (bibliography_links,)
