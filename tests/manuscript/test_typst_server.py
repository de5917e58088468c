"""The warm Typst server: it compiles what an in-process compile would, and goes away when asked."""
import os
import signal
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from manuscript import typst_server
from manuscript.build import compile_pdf, main
from manuscript.errors import SourceError
from manuscript.fonts import font_dirs
from tests.manuscript.test_build import write_fixture

ARGS = ["--metadata", "metadata.yaml", "--output", "thesis.pdf", "--typst-server"]


@pytest.fixture
def served(project):
    yield project
    _stop_every_server(project)


def _stop_every_server(project):
    """Stop the servers the test started, including one still starting, as their log tells."""
    log = project / "build" / "typst-server.log"
    deadline = time.monotonic() + 20
    while log.exists() and time.monotonic() < deadline:
        text = log.read_text()
        if text.count(": started") == text.count(": stopped"):
            return
        typst_server.stop("build")
        time.sleep(0.05)


def _wait_for_server(project):
    """A build that found no server starts one and compiles without it; wait until it listens."""
    deadline = time.monotonic() + 20
    while not (project / "build" / typst_server.SOCKET).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _pdf_text(path="thesis.pdf") -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_one_server_compiles_successive_builds_and_stops_when_asked(served):
    chapters = write_fixture(served)
    assert main([*ARGS, *chapters]) == 0
    _wait_for_server(served)
    fonts = [str(d) for d in font_dirs(served)]
    first = typst_server.compile_warm(Path("build/thesis.typ"), str(served / "again.pdf"), served, fonts)
    intro = served / "chapters" / "01-intro.md"
    intro.write_text(intro.read_text().replace("Tickets were proposed", "Tickets were first proposed"))
    assert main([*ARGS, *chapters]) == 0
    assert "Tickets were first proposed" in _pdf_text()
    second = typst_server.compile_warm(Path("build/thesis.typ"), str(served / "again.pdf"), served, fonts)
    assert first["pid"] == second["pid"] and _alive(first["pid"])
    assert typst_server.stop("build")
    deadline = time.monotonic() + 10
    while _alive(first["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(first["pid"]) and not (served / "build" / typst_server.SOCKET).exists()


def test_a_typst_error_on_the_server_reads_like_one_in_process(served):
    (served / "build").mkdir()
    (served / "build" / "ok.typ").write_text("Hello.\n")
    compile_pdf(Path("build/ok.typ"), served / "ok.pdf", warm=True)  # starts the server
    _wait_for_server(served)
    (served / "build" / "bad.typ").write_text("#let x = (\n")
    reply = typst_server.compile_warm(Path("build/bad.typ"), str(served / "bad.pdf"), served,
                                      [str(d) for d in font_dirs(served)])
    assert "error" in reply  # the server's answer, not a fallback
    with pytest.raises(SourceError) as here:
        compile_pdf(Path("build/bad.typ"), served / "bad.pdf")
    with pytest.raises(SourceError) as warm:
        compile_pdf(Path("build/bad.typ"), served / "bad.pdf", warm=True)
    assert warm.value.oneline() == here.value.oneline()
    assert not (served / "bad.pdf").exists()


def test_a_dead_servers_socket_is_replaced(served):
    (served / "build").mkdir()
    (served / "build" / typst_server.SOCKET).write_text("not a socket")
    (served / "build" / "ok.typ").write_text("Hello.\n")
    compile_pdf(Path("build/ok.typ"), served / "ok.pdf", warm=True)
    assert "Hello." in _pdf_text(served / "ok.pdf")
    _wait_for_server(served)
    assert typst_server.stop("build")


def test_a_stuck_server_costs_the_build_about_a_second(served):
    (served / "build").mkdir()
    (served / "build" / "ok.typ").write_text("Hello.\n")
    compile_pdf(Path("build/ok.typ"), served / "ok.pdf", warm=True)  # starts the server
    _wait_for_server(served)
    fonts = [str(d) for d in font_dirs(served)]
    pid = typst_server.compile_warm(Path("build/ok.typ"), str(served / "a.pdf"), served, fonts)["pid"]
    os.kill(pid, signal.SIGSTOP)  # alive, listening, and answering nobody
    try:
        started = time.monotonic()
        compile_pdf(Path("build/ok.typ"), served / "ok.pdf", warm=True)
        waited = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "Hello." in _pdf_text(served / "ok.pdf")
    assert waited < 1 + 5  # one second for the stuck server; the compile itself is quick
