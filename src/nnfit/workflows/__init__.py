"""One module per command: the only package that knows every part.

``run`` holds the steps of one training run (prepare, fit, score, save) that
every training command shares; ``train`` holds ``nnfit train`` and ``nnfit
summary``; ``inference`` holds ``nnfit eval``, ``nnfit predict`` and ``nnfit
show``, which start from a saved run; ``curve`` holds ``nnfit curve``
(``curve.curve``; not re-exported here, where the name would hide the module).
Many-run commands hand their jobs to ``executor.run_jobs``, the one place that
runs trainings in parallel.
"""

from .executor import JobFailed, run_jobs
from .inference import check_output_path, evaluate, predict, show
from .prepared import Prepared, prepare, subset
from .run import FitResult, Scores, fit, save, score
from .train import exit_code, summary, train

__all__ = ["FitResult", "JobFailed", "Prepared", "Scores", "check_output_path", "evaluate",
           "exit_code", "fit", "predict", "prepare", "run_jobs", "save", "score", "show", "subset",
           "summary", "train"]
