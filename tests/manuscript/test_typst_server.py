"""The Typst server a user starts for a writing session: builds use it while it runs, compile
the same PDF without it, and a build never leaves a process behind."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from manuscript import typst_server
from manuscript.build import compile_pdf, main
from manuscript.errors import SourceError
from manuscript.fonts import font_dirs
from tests.checkout import checkout_env
from tests.manuscript.test_build import write_fixture

ARGS = ["--metadata", "metadata.yaml", "--output", "thesis.pdf", "--typst-server"]


@pytest.fixture
def served(project):
    """The project with a server running, as a user starts one in a second terminal."""
    server = subprocess.Popen([sys.executable, "-m", "manuscript.typst_server"], cwd=project,
                              env=checkout_env(), stdout=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not (project / "build" / typst_server.SOCKET).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield project, server
    server.kill()
    server.wait()


def _pdf_text(path="thesis.pdf") -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def _compile_warm(project, source, output):
    fonts = [str(d) for d in font_dirs(project)]
    return typst_server.compile_warm(Path(source), str(project / output), project, fonts)


def test_builds_compile_on_the_running_server_until_it_is_stopped(served):
    project, server = served
    chapters = write_fixture(project)
    assert main([*ARGS, *chapters]) == 0
    intro = project / "chapters" / "01-intro.md"
    intro.write_text(intro.read_text().replace("Tickets were proposed", "Tickets were first proposed"))
    assert main([*ARGS, *chapters]) == 0
    assert "Tickets were first proposed" in _pdf_text()
    assert _compile_warm(project, "build/thesis.typ", "again.pdf")["pid"] == server.pid
    assert typst_server.stop("build")
    assert server.wait(timeout=10) == 0
    assert "compiled" in server.stdout.read() and not (project / "build" / typst_server.SOCKET).exists()


def test_a_typst_error_on_the_server_reads_like_one_in_process(served):
    project, _ = served
    (project / "build" / "bad.typ").write_text("#let x = (\n")
    assert "error" in _compile_warm(project, "build/bad.typ", "bad.pdf")  # the server's answer
    with pytest.raises(SourceError) as here:
        compile_pdf(Path("build/bad.typ"), project / "bad.pdf")
    with pytest.raises(SourceError) as warm:
        compile_pdf(Path("build/bad.typ"), project / "bad.pdf", warm=True)
    assert warm.value.oneline() == here.value.oneline()
    assert not (project / "bad.pdf").exists()


def test_a_stuck_server_costs_the_build_about_a_second(served):
    project, server = served
    (project / "build" / "ok.typ").write_text("Hello.\n")
    os.kill(server.pid, signal.SIGSTOP)  # alive, listening, and answering nobody
    try:
        started = time.monotonic()
        compile_pdf(Path("build/ok.typ"), project / "ok.pdf", warm=True)
        waited = time.monotonic() - started
    finally:
        os.kill(server.pid, signal.SIGCONT)
    assert "Hello." in _pdf_text(project / "ok.pdf")
    assert waited < 1 + 5  # one second for the stuck server; the compile itself is quick


def test_a_socket_nobody_listens_on_is_left_alone_and_the_build_compiles_itself(project):
    (project / "build").mkdir()
    (project / "build" / typst_server.SOCKET).write_text("not a socket")  # a dead server's, say
    (project / "build" / "ok.typ").write_text("Hello.\n")
    compile_pdf(Path("build/ok.typ"), project / "ok.pdf", warm=True)
    assert "Hello." in _pdf_text(project / "ok.pdf")
    assert (project / "build" / typst_server.SOCKET).read_text() == "not a socket"


def _processes_in(folder: Path) -> list[int]:
    """Every process (but this one) whose working directory is `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            here = entry.name.isdigit() and (entry / "cwd").resolve() == folder.resolve()
        except OSError:  # gone, or not ours to look at
            continue
        if here and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def test_a_build_as_the_workflow_runs_it_leaves_no_process_behind(project):
    chapters = write_fixture(project)
    build = subprocess.run([sys.executable, "-m", "manuscript.build", *ARGS, *chapters],
                           env=checkout_env(), capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    assert build.returncode == 0, build.stderr
    time.sleep(0.5)  # a process started in the background would be up by now
    assert _processes_in(project) == []
    assert not (project / "build" / typst_server.SOCKET).exists()
