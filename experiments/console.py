"""What a command-line entry point tells its user, and how it fails.

Every entry point (trial, aggregate, figures, inference) talks through a ``Console``:

- ``log(line)``: detail, to the ``--log`` file; to stderr when there is none (as before --log);
- ``progress(line)``: the few lines a person watches (a trial's finished rounds), to stderr and
  to the log file;
- ``error(message)``: one line ``PROG: error: MESSAGE`` on stderr (and in the log file).

``guarded`` runs an entry point's body and turns the errors a user can cause (bad input, a file
that cannot be read or written, Ctrl-C) into that one line and a non-zero exit: no traceback.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Callable, TextIO

EXIT_INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C (128 + SIGINT)


class Console:
    """Log lines, progress lines and error lines of one command-line run."""

    def __init__(self, prog: str):
        self.prog = prog
        self._file: TextIO | None = None
        self._path: Path | None = None
        self._showwarning = warnings.showwarning

    def open_log(self, path: Path | None) -> None:
        """Send detail to ``path`` from now on (None: keep it on stderr). Called only once the
        arguments are known to be good, so that a refused command writes nothing."""
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "w", encoding="utf-8", buffering=1)  # line-buffered
        except OSError as err:
            raise OSError(err.errno, err.strerror, str(path)) from None
        self._path = path
        # Library warnings (torch's, numpy's) are detail: into the log, not onto the terminal.
        warnings.showwarning = self._log_warning

    def log(self, line: str) -> None:
        if self._file is None:
            _write(sys.stderr, line)
        else:
            self._to_file(line)

    def progress(self, line: str) -> None:
        _write(sys.stderr, line)
        if self._file is not None:
            self._to_file(line)

    def error(self, message: str) -> None:
        line = f"{self.prog}: error: {one_line(message)}"
        _write(sys.stderr, line)
        if self._file is not None:
            try:
                self._to_file(line)
            except OSError:
                pass  # the log is what failed (a full disk): stderr already has the line

    def close(self) -> None:
        warnings.showwarning = self._showwarning
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # only a flush of lines already lost to the same error
            self._file = None

    def _to_file(self, line: str) -> None:
        try:
            self._file.write(line + "\n")
        except OSError as err:
            raise OSError(err.errno, err.strerror, str(self._path)) from None

    def _log_warning(self, message, category, filename, lineno, file=None, line=None) -> None:
        self._to_file(f"{category.__name__}: {one_line(str(message))} ({filename}:{lineno})")


def _write(stream: TextIO, line: str) -> None:
    print(line, file=stream, flush=True)


def one_line(message: str) -> str:
    """``message`` with every run of whitespace (newlines too) made one space."""
    return " ".join(str(message).split())


def os_error_line(err: OSError) -> str:
    """``PATH: reason`` for a file that could not be read or written."""
    if err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return str(err)


def guarded(console: Console, body: Callable[[], int], expected: tuple[type, ...],
            code: int) -> int:
    """``body()``'s exit status, or ``code`` after one error line for an ``expected`` error or
    an ``OSError``; Ctrl-C ends with one line and EXIT_INTERRUPTED."""
    try:
        return body()
    except expected as err:
        console.error(str(err))
        return code
    except OSError as err:
        console.error(os_error_line(err))
        return code
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    finally:
        console.close()
