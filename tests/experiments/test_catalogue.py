"""The catalogue is the one list of methods and figure kinds: every line builds a method that keeps
the contract, everything derived from it agrees with it, and the method modules stay inside
their narrow context (no raw trial, config or state, no other method's name)."""

from __future__ import annotations

import re
from pathlib import Path

from experiments.catalogue import FIGURE_KINDS, METHODS, PRUNING_KEYS, readme_table
from experiments.method_api import Method
from experiments.methods import load_methods
from tests.checkout import modules_imported_by

REPO = Path(__file__).resolve().parents[2]
METHOD_MODULES = sorted((REPO / "experiments" / "methods").glob("*.py"))


def test_every_line_builds_a_method_with_the_roles_it_names():
    methods = load_methods(METHODS)  # load_method checks the roles against the line
    assert all(isinstance(method, Method) for method in methods.values())


def test_requirements_are_catalogue_methods_without_cycles():
    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        assert name not in seen, f"requirement cycle: {' -> '.join(seen + (name,))}"
        required = METHODS[name].requires.values()
        return 1 + max((depth(needed, seen + (name,)) for needed in required), default=0)

    for name, entry in METHODS.items():
        unknown = [needed for needed in entry.requires.values() if needed not in METHODS]
        assert not unknown, f"{name} requires unknown method(s) {unknown}"
        assert entry.pruning in PRUNING_KEYS + (None,)
        depth(name)


def test_figure_kinds_are_drawn_and_their_methods_are_catalogued():
    from experiments.figures import KINDS

    assert not set(FIGURE_KINDS) - set(KINDS), f"no drawing for {set(FIGURE_KINDS) - set(KINDS)}"
    assert not set(KINDS) - set(FIGURE_KINDS), f"not catalogued: {set(KINDS) - set(FIGURE_KINDS)}"
    for name, kind in FIGURE_KINDS.items():
        unknown = [m for m in kind.default_methods or () if m not in METHODS]
        assert not unknown, f"figure kind {name} draws unknown method(s) {unknown}"


def test_every_method_has_a_figure_style():
    from experiments.plots.style import METHOD_STYLES

    assert list(METHOD_STYLES) == list(METHODS)


def test_the_readme_method_table_is_the_catalogues():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- catalogue:methods -->\n(.*?)<!-- /catalogue:methods -->", readme,
                      re.S)
    assert shown, "README.md has no <!-- catalogue:methods --> table"
    expected = readme_table().splitlines()
    missing = [line for line in expected if line not in shown.group(1).splitlines()]
    stale = [line for line in shown.group(1).splitlines() if line not in expected]
    assert not missing and not stale, (
        f"README.md's method table differs from the catalogue (python -m experiments.catalogue "
        f"prints it): missing {missing}, not in the catalogue {stale}")


def test_method_modules_see_only_their_context():
    """No raw trial, config or state, and no other method named: roles and settings instead."""
    raw = re.compile(r"\btrial\b|\.cfg\b|\.state\b|\bTrial\b")
    for path in METHOD_MODULES:
        source = path.read_text(encoding="utf-8")
        code = re.sub(r'"""(.*?)"""', "", source, flags=re.S)  # docstrings may explain
        code = re.sub(r"#.*", "", code)
        assert not raw.search(code), f"{path.name} reaches past its context: {raw.search(code)}"
        named = [name for name in REQUIRED if f'"{name}"' in code]
        assert not named, f"{path.name} names required method(s) {named}; use a role"


# The methods others require: a module reaches their results through a role, never a name.
REQUIRED = {name for entry in METHODS.values() for name in entry.requires.values()}


def test_the_contract_has_no_import_cycle():
    """The contract, the scheduler and the trial state import neither the trial nor the methods:
    both of those import them."""
    for name in ("method_api", "trials", "trial_state"):
        loaded = modules_imported_by(f"import experiments.{name}")
        assert not {"experiments.trial", "experiments.methods"} & loaded, name
