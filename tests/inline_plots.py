"""A pytest plugin (``-p inline_plots`` in pyproject.toml): in-process tests draw their plots in
the test's own process (``NNFIT_PLOTS=inline``), so a CliRunner ``nnfit train`` does not start
a plot helper process each time. Real ``nnfit`` processes (``tests/cli/conftest.py``'s
``nnfit()``) drop it and draw as a user's do; ``tests/report/test_renderer.py`` tests the
helper itself."""

import os


def pytest_configure(config):
    os.environ.setdefault("NNFIT_PLOTS", "inline")
