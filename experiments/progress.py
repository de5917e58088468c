"""How far a trial job has got: one line per finished round, with the time the job has left.

The estimate is the time per round this run has taken so far times the rounds still to do,
counted over every method and seed of the job. Rounds done before a resume count as done but
not towards the time per round (they cost this run nothing). Rounds differ in cost (a round 0
that reuses imp's dense network takes no training), so the estimate settles as rounds finish.
"""

from __future__ import annotations

import time


class Progress:
    """The job-wide part of a finished round's line."""

    def __init__(self, total: int, started: float | None = None):
        self.total = total
        self.started = time.perf_counter() if started is None else started
        self.finished_here = 0

    def after_round(self, remaining: int) -> str:
        """``"N/TOTAL rounds, ELAPSED elapsed, about LEFT left"`` once a round has finished and
        ``remaining`` rounds are still to do."""
        self.finished_here += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.finished_here * remaining
        done = self.total - remaining
        return (f"{done}/{self.total} rounds, {clock(elapsed)} elapsed, "
                f"about {clock(left)} left")


def clock(seconds: float) -> str:
    """A duration as H:MM:SS (M:SS under an hour): short, and sortable by eye."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
