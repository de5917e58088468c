"""A Typst compiler kept warm between builds, so that a rebuild lays out only what changed.

Typst memoises its work within a process: the thesis takes about a second to compile from cold
and a fifth of that again after a one-sentence edit. `compile_warm` hands the compile to a
server that stays up between builds, listening on ``build/typst-server.sock``. When none answers
the build compiles in its own process and then calls `start`: a server that warms up on the same
source in the background, ready for the next build. The server compiles what an in-process
compile would (the
same files, root and font folders; Typst rereads what changed on disk) and exits after
IDLE_SECONDS without a request, after MAX_COMPILES, when its socket is deleted (``rm -rf
build``), or when a build of other code or fonts reaches it. Whenever the server cannot be
used, `compile_warm` returns None and the build compiles in its own process.

    python -m manuscript.typst_server --stop [build]    stop the server of a build folder
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from manuscript.cache import digest

SOCKET = "typst-server.sock"
IDLE_SECONDS = 30 * 60
MAX_COMPILES = 200        # memory stays near 0.3 GB for the thesis; a fresh start bounds it anyway
COMPILE_SECONDS = 300
ANSWER_SECONDS = 1.0      # how long a build waits for a server to take its request


def compile_warm(source: Path, output: str, root: Path, font_paths: list[str]) -> dict | None:
    """Compile `source` to `output` on the build folder's server. The reply holds Typst's
    "warnings", or its "error"; None when no server could do it."""
    request = {"version": server_version(root, font_paths), "source": str(source.resolve()),
               "output": output}
    reply = _ask(_address(source, root), request)
    return None if reply is None or "stale" in reply else reply


def _address(source: Path, root: Path) -> str:
    """The socket beside `source`, relative to the root the build and server run in: socket
    paths are limited to about a hundred characters."""
    return str(Path(os.path.relpath(source.parent, root)) / SOCKET)


def start(source: Path, root: Path, font_paths: list[str]) -> None:
    """Start a server for the build folder of `source`, in its own session so that it outlives
    this build and its job; it first compiles `source` to warm up."""
    address, version = _address(source, root), server_version(root, font_paths)
    package_root = str(Path(__file__).resolve().parents[1])  # the same code as this build
    paths = [package_root, os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
    arguments = [sys.executable, "-m", "manuscript.typst_server", address, "--version", version,
                 "--warm-up", str(source.resolve()), *[f"--font-path={p}" for p in font_paths]]
    with open(Path(root, address).with_suffix(".log"), "ab") as log:
        subprocess.Popen(arguments, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=log, start_new_session=True, close_fds=True)


def server_version(root: Path, font_paths: list[str]) -> str:
    """What a server must share with a build to compile for it: this code, the typst package,
    the project root and its font files."""
    from manuscript.cache import tools
    from manuscript.fonts import font_files

    return digest(Path(__file__).read_bytes(), tools(), str(root.resolve()),
                  font_paths, font_files([Path(p) for p in font_paths]))


def _ask(address: str, request: dict, wait: float = 0):
    """The server's reply, or None when none answers within `wait` seconds.

    A server acknowledges each request at once, before compiling: one that does not within
    ANSWER_SECONDS (stopped, hung, or a socket whose owner is gone) is given up on, so a stuck
    server delays a build by about a second at most."""
    deadline = time.monotonic() + wait
    while True:
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
        except ConnectionRefusedError:
            _remove(address)  # left by a server that died; the next one binds afresh
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


def serve(address: str, version: str, font_paths: list[str], warm_up: str | None = None) -> None:
    """Answer compile requests on `address` until idle, full, displaced or outdated; first
    compile `warm_up` (a request arriving meanwhile waits for it)."""
    import typst

    if version != server_version(Path.cwd(), font_paths):
        return  # started for other code or fonts than this process has
    compiler = typst.Compiler(root=str(Path.cwd()), font_paths=font_paths)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        # Bound and listening under another name first, so that no client ever finds the
        # socket before it accepts (a refused connection means a dead server to a client).
        unready = f"{address}.{os.getpid()}"
        listener.bind(unready)
        listener.listen()
        os.replace(unready, address)
        identity = os.stat(address).st_ino
        listener.settimeout(5)
        try:
            if warm_up:
                _compile(compiler, {"source": warm_up, "output": f"{unready}.pdf"})
                _remove(f"{unready}.pdf")
            _serve(listener, compiler, version, lambda: _is_ours(address, identity))
        finally:
            if _is_ours(address, identity):
                _remove(address)


def _serve(listener, compiler, version: str, still_ours) -> None:
    compiles, last = 0, time.monotonic()
    while compiles < MAX_COMPILES and time.monotonic() - last < IDLE_SECONDS and still_ours():
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
                    return
                _send(connection, _compile(compiler, request))
            except (OSError, ValueError, KeyError) as error:  # one client's trouble, not ours
                print(f"typst server {os.getpid()}: {error!r}", flush=True)
        compiles, last = compiles + 1, time.monotonic()


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
    parser.add_argument("address", nargs="?", default="build",
                        help="the socket to serve on; with --stop, the build folder")
    parser.add_argument("--version", help="the build's server_version (serve only that)")
    parser.add_argument("--font-path", action="append", default=[])
    parser.add_argument("--warm-up", help="a Typst source to compile first")
    parser.add_argument("--stop", action="store_true", help="stop the server of the build folder")
    args = parser.parse_args(argv)
    if args.stop:
        print("typst server stopped" if stop(args.address) else "no typst server was running")
        return 0
    # The log (build/typst-server.log) says when each server came and went.
    print(f"typst server {os.getpid()}: started", flush=True)
    try:
        serve(args.address, args.version, args.font_path, args.warm_up)
    finally:
        print(f"typst server {os.getpid()}: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
