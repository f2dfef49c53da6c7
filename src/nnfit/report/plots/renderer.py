"""Learning curves drawn by a helper process, so that matplotlib costs the command less waiting.

Importing matplotlib and drawing the first figure take longer than reading a small CSV and
training on it. ``nnfit train`` therefore starts a helper first thing (:func:`background`):
it imports matplotlib while the command reads the data and trains, then draws each
``curves.png`` it is sent (:func:`draw_curves`: the plot's data as one JSON line) and writes
it atomically, while the command goes on. The command waits for the helper before it ends;
a plot the helper could not draw is the command's error, as it would be drawn in-process.
Without a helper (none started, it could not start, or it died), and with
``NNFIT_PLOTS=inline`` in the environment, the plot is drawn in the command's own process.

The helper ignores Ctrl-C (the command, in the same process group, decides what a Ctrl-C
does) and exits when its input closes: it outlives nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from ...errors import NnfitError
from ...store.atomic import write_atomic
from .learning_curves import CurvesPlot, Line, learning_curves

ENV = "NNFIT_PLOTS"  # "inline": draw in the command's own process
SERVE = "from nnfit.report.plots.renderer import serve; serve()"


class Helper:
    """The helper process: jobs written to its input, one answer line each on its output."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.sent = 0

    def draw(self, path: Path, plot: CurvesPlot) -> bool:
        """Send one plot; False when the helper cannot take it (then draw it here)."""
        if self.proc.poll() is not None or self.proc.stdin is None:
            return False
        try:
            line = json.dumps({"path": str(path), "plot": asdict(plot)}, default=_plain)
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError, TypeError):
            return False
        self.sent += 1
        return True

    def finish(self) -> list[str]:
        """Close its input and wait for it; the errors of the plots it could not draw."""
        out, _ = self.proc.communicate()
        answers = out.splitlines()
        errors = [a.removeprefix("error: ") for a in answers if a.startswith("error: ")]
        if len(answers) < self.sent and not errors:
            errors.append(f"the plot helper stopped (exit code {self.proc.returncode}) before "
                          f"it drew every plot")
        return errors


_helper: Helper | None = None


@contextmanager
def background() -> Iterator[None]:
    """Start the helper now; within the block, :func:`draw_curves` sends it the plots; at the
    end, wait for it (a plot it could not draw is an NnfitError, unless another error is
    already on its way)."""
    global _helper
    if os.environ.get(ENV) == "inline" or _helper is not None:
        yield
        return
    try:
        _helper = Helper()
    except OSError:
        _helper = None  # no process can start here: the plots are drawn in-process
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        helper, _helper = _helper, None
        errors = helper.finish() if helper is not None else []
        if errors and not failed:
            raise NnfitError(errors[0])


def draw_curves(path: Path, plot: CurvesPlot) -> None:
    """Write ``plot`` as the PNG ``path``: by the helper when one runs, else here."""
    if _helper is not None and _helper.draw(path, plot):
        return
    write_atomic(path, learning_curves(plot))


def serve() -> None:
    """The helper's loop: one JSON job per input line, one answer line each (``ok`` or
    ``error: …``), until the input closes."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import matplotlib.backends.backend_agg  # noqa: F401 — the import the helper is for
    import matplotlib.figure  # noqa: F401

    for line in sys.stdin:
        job = json.loads(line)
        path = Path(job["path"])
        try:
            write_atomic(path, learning_curves(_curves_plot(job["plot"])))
            answer = "ok"
        except NnfitError as exc:
            answer = f"error: {exc.message}"
        except Exception as exc:  # noqa: BLE001 — reported by the command, as its own error
            answer = f"error: {path}: cannot draw the plot ({type(exc).__name__}: {exc})"
        print(answer, flush=True)


def _curves_plot(data: dict) -> CurvesPlot:
    """A CurvesPlot from its JSON form (lists where it had tuples)."""
    data = dict(data, extra=[Line(**line) for line in data.get("extra", [])])
    return CurvesPlot(**data)


def _plain(value):
    """JSON for what ``json`` does not know: NumPy scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")
