"""The pruning methods: one module each, one line each in experiments/catalogue.py.

A method is an ``experiments.method_api.Method`` subclass (the contract is written there); its
catalogue line names the class, the options it is built with, the methods it requires (by role),
its pruning key and its figure style. ``load_methods`` builds the objects a trial runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from experiments.catalogue import METHODS as CATALOGUE
from experiments.method_api import Method, load_method


def load_methods(names: Iterable[str]) -> dict[str, Method]:
    """Name -> method object, for the catalogue's methods ``names``."""
    return {name: load_method(CATALOGUE[name]) for name in names}
