"""One function per command: the only package that knows every part.

``train`` holds ``nnfit train`` and ``nnfit summary``; ``inference`` holds
``nnfit eval``, ``nnfit predict`` and ``nnfit show``, which start from a saved run.
"""

from .inference import check_output_path, evaluate, predict, show
from .train import exit_code, prepare, summary, train_run

__all__ = ["check_output_path", "evaluate", "exit_code", "predict", "prepare", "show", "summary", "train_run"]
