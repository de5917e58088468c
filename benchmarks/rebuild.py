"""Time the text-only rebuild: edit one sentence of a chapter, then `snakemake --cores 4 thesis.pdf`.

    source .venv/bin/activate
    python benchmarks/rebuild.py               # 3 timed rebuilds, prints each and the median
    python benchmarks/rebuild.py --repeats 5 --cold   # also time one build with no build cache
    python benchmarks/rebuild.py --typst-server       # a writing session: a warm Typst compiler
    python benchmarks/rebuild.py --repeats 21 --against ../other   # this checkout against another

Run it from the project root with thesis.pdf up to date (a plain `snakemake --cores 4
thesis.pdf` first); it refuses otherwise, so no experiment is ever run by a benchmark. Each
repeat appends a fresh word to the last sentence of the first prose paragraph of the chapter, so
every timed build sees text it has never seen. The chapter is always restored byte for byte and
the thesis rebuilt once more, so thesis.pdf matches the sources again when the script ends.
--cold first times a build from nothing: it deletes build/cache/ (never results or figures)
and stops the Typst server, if you started one (manuscript.typst_server). With a server running,
the timed rebuilds use it; without one, they compile in the build's own process.
--against DIR alternates the timed rebuilds with the same rebuild in another checkout of the
project (a git worktree at another commit, say; its thesis.pdf up to date too), so that a change is
measured on one machine at one time, and prints the paired difference with a 95% bootstrap
interval: a single run's noise on a shared machine (0.2-0.4 s) is larger than most changes. Each
checkout runs its own code: Snakemake and the build import the project's packages from the
folder they run in. It takes neither --cold nor --typst-server.
--typst-server starts a server for the timed rebuilds (after one untimed build, which pays its
first, cold layout as a writing session does once) and stops it at the end. Processor seconds
then leave out the server's.
"""
from __future__ import annotations

import argparse
import contextlib
import random
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHAPTER = Path("chapters/01-introduction.md")
TARGET = "thesis.pdf"
# What --cold removes: the document build's own caches; results and figures stay.
BUILD_CACHE = Path("build/cache")
SERVER_SOCKET = Path("build/typst-server.sock")
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args: str, root: Path = Path(".")) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, cwd=root)


def require_up_to_date(root: Path = Path(".")) -> None:
    """Exit non-zero unless a dry run in `root` says there is nothing to do for the thesis."""
    dry_run = snakemake("--dry-run", TARGET, root=root)
    output = dry_run.stdout + dry_run.stderr
    if dry_run.returncode != 0 or "Nothing to be done" not in output:
        print(output[-3000:], file=sys.stderr)
        where, there = ("", "") if root == Path(".") else (f" in {root}", " there")
        sys.exit(f"rebuild.py: {TARGET} is not up to date{where}; run `snakemake --cores 4 "
                 f"{TARGET}`{there} first (the benchmark never runs experiments)")


def edited(text: str, word: str) -> str:
    """`text` with `word` added before the full stop ending its first prose paragraph."""
    paragraphs = text.split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        if _is_prose(paragraph):
            stripped = paragraph.rstrip()
            paragraphs[index] = f"{stripped[:-1]} {word}." + paragraph[len(stripped):]
            return "\n\n".join(paragraphs)
    raise SystemExit(f"rebuild.py: {CHAPTER} has no prose paragraph ending in a full stop")


def _is_prose(paragraph: str) -> bool:
    first = paragraph.lstrip()[:1]
    return first.isalpha() and paragraph.rstrip().endswith(".")


def timed_build(*extra: str, root: Path = Path(".")) -> tuple[float, float]:
    """Wall and processor seconds of one `snakemake --cores 4 thesis.pdf` in `root`; a failed
    build ends the script. Processor time (Snakemake and every process it waits for, not a Typst
    server) is the steadier figure on a machine shared with other work."""
    started, cpu_before = time.perf_counter(), _children_cpu()
    build = snakemake("--cores", "4", *extra, TARGET, root=root)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if build.returncode != 0:
        print((build.stdout + build.stderr)[-3000:], file=sys.stderr)
        raise SystemExit(f"rebuild.py: snakemake failed with status {build.returncode}")
    return seconds, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_text_edits(originals: dict[Path, bytes], repeats: int) -> dict[Path, list]:
    """`repeats` one-sentence rebuilds in each checkout (wall and processor seconds), the
    checkouts taking turns at going first."""
    times: dict[Path, list] = {root: [] for root in originals}
    roots = list(originals)
    for index in range(repeats):
        # A word never built before, so no cache can have seen this version of the chapter.
        word = "indeed" + "".join(chr(ord("a") + int(c, 16)) for c in secrets.token_hex(3))
        for root in roots if index % 2 == 0 else roots[::-1]:
            text = edited(originals[root].decode("utf-8"), word)
            (root / CHAPTER).write_text(text, encoding="utf-8")
            times[root].append(timed_build(root=root))
            where = f" in {root}" if len(roots) > 1 else ""
            print(f"text-only rebuild{where}: {times[root][-1][0]:.2f} s, processor "
                  f"{times[root][-1][1]:.2f} s (snakemake --cores 4 {TARGET} after editing one "
                  f"sentence of {CHAPTER})", flush=True)
    return times


def paired_difference(first: list[float], second: list[float], resamples: int = 2000,
                      seed: int = 0) -> tuple[float, float, float]:
    """Median of first[i] - second[i], and a 95% bootstrap interval of that median (seeded)."""
    differences = [a - b for a, b in zip(first, second)]
    draw = random.Random(seed)
    medians = sorted(statistics.median(draw.choices(differences, k=len(differences)))
                     for _ in range(resamples))
    low, high = medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]
    return statistics.median(differences), low, high


def report(times: dict[Path, list]) -> None:
    for root, runs in times.items():
        walls, cpus = [t for t, _ in runs], [c for _, c in runs]
        where = f" in {root}" if len(times) > 1 else ""
        each = ", ".join(f"{t:.2f}" for t in walls)
        print(f"text-only rebuild{where}: median {statistics.median(walls):.2f} s, processor "
              f"{statistics.median(cpus):.2f} s, over {len(runs)} (each: {each} s)")
    if len(times) == 2:
        (here, ours), (there, theirs) = times.items()
        middle, low, high = paired_difference([t for t, _ in ours], [t for t, _ in theirs])
        print(f"difference, {here} minus {there}: median {middle:+.2f} s, 95% bootstrap interval "
              f"{low:+.2f} to {high:+.2f} s, over {len(ours)} pairs")


def time_cold_build() -> tuple[float, float]:
    shutil.rmtree(BUILD_CACHE, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "manuscript.typst_server", "--stop", "build"],
                   capture_output=True, stdin=subprocess.DEVNULL)  # a warm compiler would make this build less cold
    seconds, cpu = timed_build("--forcerun", "thesis")
    print(f"cold build: {seconds:.2f} s, processor {cpu:.2f} s (no {BUILD_CACHE}/ and no Typst "
          f"server; snakemake --cores 4 --forcerun thesis {TARGET})", flush=True)
    return seconds, cpu


@contextlib.contextmanager
def typst_server():
    """A Typst server for the block, warmed by one untimed rebuild; stopped afterwards."""
    server = subprocess.Popen([sys.executable, "-m", "manuscript.typst_server"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # one line per compile
    try:
        deadline = time.monotonic() + 30
        while not SERVER_SOCKET.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("rebuild.py: the Typst server did not start")
            time.sleep(0.1)
        CHAPTER.write_text(edited(CHAPTER.read_text(encoding="utf-8"), "warming"), encoding="utf-8")
        timed_build()
        yield
    finally:
        subprocess.run([sys.executable, "-m", "manuscript.typst_server", "--stop"],
                       capture_output=True, stdin=subprocess.DEVNULL)
        server.wait(timeout=30)


def checkouts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Path]:
    """This checkout, and the one --against names once it is seen to be another checkout."""
    if not args.against:
        return [Path(".")]
    if args.cold or args.typst_server:
        parser.error("--against takes neither --cold nor --typst-server")
    if not (args.against / CHAPTER).is_file():
        parser.error(f"--against {args.against}: not a checkout of the project (no {CHAPTER})")
    if args.against.resolve() == Path.cwd().resolve():
        parser.error("--against names this checkout; give another one")
    return [Path("."), args.against]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed rebuilds (default 3)")
    parser.add_argument("--cold", action="store_true", help=f"also time one build without {BUILD_CACHE}/")
    parser.add_argument("--typst-server", action="store_true",
                        help="time the rebuilds with a warm Typst server, started and stopped here")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="alternate with the same rebuild in another checkout")
    args = parser.parse_args(argv)
    roots = checkouts(parser, args)
    for root in roots:
        require_up_to_date(root)
    if args.cold:
        time_cold_build()
    originals = {root: (root / CHAPTER).read_bytes() for root in roots}
    try:
        with typst_server() if args.typst_server else contextlib.nullcontext():
            times = time_text_edits(originals, args.repeats)
    finally:
        for root, original in originals.items():  # every chapter first: a build may fail
            (root / CHAPTER).write_bytes(original)
        for root in originals:
            timed_build(root=root)  # thesis.pdf matches the restored sources again
    report(times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
