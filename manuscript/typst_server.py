"""A Typst compiler kept warm for a writing session: started by you, never by a build.

    python -m manuscript.typst_server          in a second terminal, in the project root
    python -m manuscript.typst_server --stop   ends it (so do Ctrl-C and `rm -rf build`)

Typst memoises its work within a process, so a compiler that stays up between builds lays out
only what changed. While one runs, a thesis build hands its compile to it over
``build/typst-server.sock`` (unless run with ``--config typst_server=false``); when none answers
the build compiles in its own process, as it always can. The workflow never starts a server, so
no process outlives a Snakemake run, and a job on a cluster node, where no server listens,
simply compiles itself. The server compiles what an in-process compile would (the same files,
root and font folders; Typst rereads what changed on disk), prints one line per compile, and
exits after IDLE_SECONDS without a request, when its socket is deleted, or when a build of
other code or fonts reaches it (start it again then).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

from manuscript.cache import digest

SOCKET = "typst-server.sock"
IDLE_SECONDS = 2 * 60 * 60  # a forgotten server goes by itself
COMPILE_SECONDS = 300
ANSWER_SECONDS = 1.0      # how long a build waits for a server to take its request


def compile_warm(source: Path, output: str, root: Path, font_paths: list[str]) -> dict | None:
    """Compile `source` to `output` on the build folder's server. The reply holds Typst's
    "warnings", or its "error"; None when no server could do it."""
    address = _address(source, root)
    if not os.path.exists(address):
        return None  # no server: not even its version is worked out
    request = {"version": server_version(root, font_paths), "source": str(source.resolve()),
               "output": output}
    reply = _ask(address, request)
    return None if reply is None or "stale" in reply else reply


def _address(source: Path, root: Path) -> str:
    """The socket beside `source`, relative to the root the build and server run in: socket
    paths are limited to about a hundred characters."""
    return str(Path(os.path.relpath(source.parent, root)) / SOCKET)


def server_version(root: Path, font_paths: list[str]) -> str:
    """What a server must share with a build to compile for it: this code, the typst package,
    the project root and its font files."""
    from manuscript.cache import tools
    from manuscript.fonts import font_files

    return digest(Path(__file__).read_bytes(), tools(), str(root.resolve()),
                  font_paths, font_files([Path(p) for p in font_paths]))


def _ask(address: str, request: dict):
    """The server's reply, or None when none answers.

    A server acknowledges each request at once, before compiling: one that does not within
    ANSWER_SECONDS (stopped, hung, or a socket whose owner is gone) is given up on, so a stuck
    server delays a build by about a second at most."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(ANSWER_SECONDS)
            connection.connect(address)
            _send(connection, request)
            replies = connection.makefile("rb")  # the two replies may arrive in one packet
            if "accepted" not in _read_line(replies):
                return None
            connection.settimeout(COMPILE_SECONDS)
            return _read_line(replies)
    except (OSError, ValueError):  # none listens (a dead server's socket is replaced by the next)
        return None


def serve(build_dir: str = "build") -> None:
    """Answer compile requests on the build folder's socket until idle, displaced or outdated."""
    import typst

    from manuscript.fonts import font_dirs

    root, font_paths = Path.cwd(), [str(d) for d in font_dirs(Path.cwd())]
    address, version = str(Path(build_dir) / SOCKET), server_version(root, font_paths)
    Path(build_dir).mkdir(parents=True, exist_ok=True)
    compiler = typst.Compiler(root=str(root), font_paths=font_paths)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        # Bound and listening under another name first, so that no client ever finds the
        # socket before it accepts.
        unready = f"{address}.{os.getpid()}"
        listener.bind(unready)
        listener.listen()
        os.replace(unready, address)
        identity = os.stat(address).st_ino
        listener.settimeout(5)
        try:
            _serve(listener, compiler, version, lambda: _is_ours(address, identity))
        finally:
            if _is_ours(address, identity):
                _remove(address)


def _serve(listener, compiler, version: str, still_ours) -> None:
    last = time.monotonic()
    while time.monotonic() - last < IDLE_SECONDS and still_ours():
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        with connection:
            try:
                connection.settimeout(ANSWER_SECONDS)
                request = _receive(connection)
                _send(connection, {"accepted": True})
                if request.get("version") != version or request.get("stop"):
                    _send(connection, {"stale": True})
                    print("typst server: " + ("asked to stop" if request.get("stop") else
                          "a build of other code or fonts came: start the server again"))
                    return
                started = time.perf_counter()
                _send(connection, _compile(compiler, request))
                print(f"typst server: compiled {request['source']} in "
                      f"{time.perf_counter() - started:.2f} s", flush=True)
            except (OSError, ValueError, KeyError) as error:  # one client's trouble, not ours
                print(f"typst server: {error!r}", flush=True)
        last = time.monotonic()


def _compile(compiler, request: dict) -> dict:
    import typst

    try:
        _, warnings = compiler.compile_with_warnings(input=request["source"],
                                                     output=request["output"], format="pdf")
    except typst.TypstError as error:
        return {"error": str(error), "diagnostic": str(getattr(error, "diagnostic", "") or "")}
    return {"warnings": [str(warning) for warning in warnings], "pid": os.getpid()}


def stop(build_dir: str = "build") -> bool:
    """Ask the build folder's server to exit; False when none was running."""
    return _ask(str(Path(build_dir) / SOCKET), {"stop": True}) is not None


def _send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


def _receive(connection: socket.socket) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("connection closed mid-message")
        data += chunk
    return json.loads(data)


def _read_line(replies) -> dict:
    line = replies.readline()
    if not line.endswith(b"\n"):
        raise ValueError("connection closed mid-message")
    return json.loads(line)


def _is_ours(address: str, identity: int) -> bool:
    try:
        return os.stat(address).st_ino == identity
    except OSError:
        return False


def _remove(address: str) -> None:
    try:
        os.unlink(address)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build", help="the build folder (build)")
    parser.add_argument("--stop", action="store_true", help="stop the server of the build folder")
    args = parser.parse_args(argv)
    if args.stop:
        print("typst server stopped" if stop(args.build_dir) else "no typst server was running")
        return 0
    print(f"typst server: listening on {Path(args.build_dir) / SOCKET}; Ctrl-C ends it", flush=True)
    try:
        serve(args.build_dir)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
