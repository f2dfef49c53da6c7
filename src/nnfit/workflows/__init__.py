"""One module per command: the only package that knows every part.

``run`` holds the steps of one training run (prepare, fit, score, save) that
every training command shares; ``train`` holds ``nnfit train`` and ``nnfit
summary``; ``inference`` holds ``nnfit eval``, ``nnfit predict`` and ``nnfit
show``, which start from a saved run.
"""

from .inference import check_output_path, evaluate, predict, show
from .run import FitResult, Prepared, Scores, fit, prepare, save, score
from .train import exit_code, summary, train

__all__ = ["FitResult", "Prepared", "Scores", "check_output_path", "evaluate", "exit_code", "fit",
           "predict", "prepare", "save", "score", "show", "summary", "train"]
