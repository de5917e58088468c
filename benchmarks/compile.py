"""Time Typst laying out the thesis: build/thesis.typ compiled in a fresh process, as a build does.

    source .venv/bin/activate
    python benchmarks/compile.py                         # 7 compiles, prints each and the median
    python benchmarks/compile.py --against old.typ       # the template against another one

Run it after a build (`snakemake --cores 4 thesis.pdf`), which writes build/thesis.typ. Each
compile runs in a new Python process: a process that compiled once keeps Typst's memoized layout
and compiles again in a fraction of the time, which a build never sees. With --against, the
thesis is also compiled with that file in place of templates/thesis.typ, the two alternating, so
that a change to the template is measured on one machine at one time (the machine's noise is
larger than most template costs). Nothing in the project is changed: the variant is written to
build/bench-compile/.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

SOURCE = Path("build/thesis.typ")
TEMPLATE_IMPORT = '"../templates/thesis.typ"'
VARIANTS = Path("build/bench-compile")
# Compiles and prints seconds; the font folders are the build's own (manuscript.fonts).
COMPILE = """
import sys, time
from pathlib import Path
import typst
from manuscript.fonts import font_dirs
fonts = [str(d) for d in font_dirs(Path.cwd())]
started = time.perf_counter()
typst.compile(sys.argv[1], output=sys.argv[2], format="pdf", root=".", font_paths=fonts)
print(time.perf_counter() - started)
"""


def sources(against: Path | None) -> dict[str, Path]:
    """The Typst files to compile, by label: the thesis, and the thesis on the other template."""
    if not SOURCE.is_file():
        raise SystemExit(f"compile.py: no {SOURCE}; run `snakemake --cores 4 thesis.pdf` first")
    if against is None:
        return {"thesis": SOURCE}
    text = SOURCE.read_text(encoding="utf-8")
    if TEMPLATE_IMPORT not in text:
        raise SystemExit(f"compile.py: {SOURCE} does not import {TEMPLATE_IMPORT}")
    VARIANTS.mkdir(parents=True, exist_ok=True)
    (VARIANTS / "template.typ").write_bytes(against.read_bytes())
    variant = VARIANTS / "against.typ"  # the thesis names its figures from the project root
    variant.write_text(text.replace(TEMPLATE_IMPORT, '"template.typ"'), "utf-8")
    return {"thesis": SOURCE, f"against {against}": variant}


def compile_once(source: Path) -> float:
    """Seconds to compile `source` in a new process (to build/bench-compile/, named after it)."""
    output = VARIANTS / f"{source.stem}.pdf"
    output.parent.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([sys.executable, "-c", COMPILE, str(source), str(output)],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if run.returncode != 0:
        raise SystemExit(f"compile.py: {source} did not compile:\n{run.stderr[-2000:]}")
    return float(run.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="compiles of each (default 7)")
    parser.add_argument("--against", type=Path, help="another template to compile the thesis with")
    args = parser.parse_args(argv)
    files = sources(args.against)
    seconds: dict[str, list[float]] = {name: [] for name in files}
    for _ in range(args.repeats):
        for name, source in files.items():
            seconds[name].append(compile_once(source))
            print(f"{name}: {seconds[name][-1]:.3f} s", flush=True)
    for name, times in seconds.items():
        print(f"{name}: median {statistics.median(times):.3f} s over {len(times)} "
              f"({min(times):.3f}-{max(times):.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
