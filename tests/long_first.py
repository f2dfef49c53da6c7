"""A pytest plugin (``-p long_first`` in pyproject.toml): the longest tests start first, so
that under ``pytest -n auto`` no worker is left with a long one at the end while the others
sit idle."""

LONG_FIRST = ("test_readme.py::test_every_documented_command_works",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not any(name in item.nodeid for name in LONG_FIRST))
