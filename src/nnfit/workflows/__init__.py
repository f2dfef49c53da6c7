"""One module per command, and the single run they share: the only package that knows every part.

``run`` holds the steps of one training run (prepare, fit, score, save) that every
training command shares; ``prepared`` the data side of a run, done once; ``probe`` the
capacity probe; ``ensemble`` seed ensembles. The commands: ``train``, ``summary``,
``cv``, ``curve``, ``sweep``, ``lr_find``, ``inference`` (eval, predict, show), ``init``.
Many-run commands hand their jobs to :func:`nnfit.runtime.executor.run_jobs`.
"""

from .fit import FitResult, fit
from .prepared import Prepared, prepare, subset
from .run import Scores, save, score

__all__ = ["FitResult", "Prepared", "Scores", "fit", "prepare", "save", "score", "subset"]
