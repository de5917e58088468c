"""Print the result keys a chapter may quote from an experiment's summary.json.

    python -m manuscript.keys lth_mnist1d            # every key with its value
    python -m manuscript.keys lth_mnist1d dense      # only keys under lth_mnist1d.dense

Each line is a key as a chapter writes it, `lth_mnist1d.dense.test_acc.mean = 0.7312`, ready for
`` `lth_mnist1d.dense.test_acc.mean`{.result fmt=".1%"} ``; list items are indexed by digits.
The workflow's `provenance` record is left out: it is shown by the provenance appendix.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from manuscript.errors import SourceError


def leaves(value, prefix: str):
    """(key path, value) for every number or text under `value`, in file order."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        yield prefix, value
        return
    for key, child in items:
        if prefix.count(".") == 0 and key == "provenance":
            continue
        yield from leaves(child, f"{prefix}.{key}")


def keys(experiment: str, results_root: str = "results", under: str = "") -> list[str]:
    path = Path(results_root) / experiment / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError("no summary.json (has the experiment run? snakemake "
                          f"{path})", str(path)) from None
    except json.JSONDecodeError as error:
        raise SourceError(f"not JSON: {error.msg}", str(path), error.lineno) from None
    start = f"{experiment}.{under}" if under else experiment
    return [f"{key} = {json.dumps(value)}" for key, value in leaves(summary, experiment)
            if key == start or key.startswith(start + ".")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m manuscript.keys", description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("under", nargs="?", default="", help="only keys under this path")
    parser.add_argument("--results-root", default="results")
    args = parser.parse_args(argv)
    try:
        print("\n".join(keys(args.experiment, args.results_root, args.under)))
    except SourceError as error:
        print(f"error: {error.oneline()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
