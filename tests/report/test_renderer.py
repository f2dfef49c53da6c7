"""curves.png drawn by the plot helper process: the same picture, errors as the command's own."""

import pytest

from nnfit.errors import NnfitError
from nnfit.report.plots import renderer
from nnfit.report.plots.learning_curves import CurvesPlot, Line, learning_curves

PNG = b"\x89PNG\r\n\x1a\n"


def _plot(**changes) -> CurvesPlot:
    base = dict(history={"train_loss": [1.0, 0.6, 0.5], "val_loss": [1.1, 0.7, float("nan")]},
                epochs=[1, 2, 3], best_epoch=2, title="a run",
                extra=[Line("refit", [1, 2], [0.9, 0.4])], spread={"val_loss": ([1.0], [1.2])})
    return CurvesPlot(**{**base, **changes})


@pytest.fixture
def helper(monkeypatch):
    monkeypatch.delenv(renderer.ENV, raising=False)  # tests/inline_plots.py sets it


def test_the_helper_draws_the_same_png_as_the_command_would(tmp_path, helper):
    plot = _plot()
    with renderer.background():
        assert renderer._helper is not None  # started: the plot goes to it
        renderer.draw_curves(tmp_path / "curves.png", plot)
    assert renderer._helper is None
    drawn = (tmp_path / "curves.png").read_bytes()
    assert drawn.startswith(PNG) and drawn == learning_curves(plot)


def test_a_plot_the_helper_cannot_draw_is_the_commands_error(tmp_path, helper):
    with pytest.raises(NnfitError, match=r"curves.png: cannot draw the plot \(ValueError"):
        with renderer.background():
            renderer.draw_curves(tmp_path / "curves.png", _plot(epochs=[1]))  # 3 losses, 1 epoch
    assert not (tmp_path / "curves.png").exists()


def test_an_error_already_raised_is_not_replaced_by_the_helpers(tmp_path, helper):
    with pytest.raises(KeyError):
        with renderer.background():
            renderer.draw_curves(tmp_path / "curves.png", _plot(epochs=[1]))
            raise KeyError("the command's own")


def test_inline_and_without_a_helper_the_plot_is_drawn_here(tmp_path, monkeypatch):
    monkeypatch.setenv(renderer.ENV, "inline")
    with renderer.background():
        assert renderer._helper is None
        renderer.draw_curves(tmp_path / "a.png", _plot())
    renderer.draw_curves(tmp_path / "b.png", _plot())  # no block at all
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_a_helper_that_died_leaves_the_plot_to_the_command(tmp_path, helper):
    with renderer.background():
        assert renderer._helper is not None
        renderer._helper.proc.kill()
        renderer._helper.proc.wait()
        renderer.draw_curves(tmp_path / "curves.png", _plot())  # drawn here instead
    assert (tmp_path / "curves.png").read_bytes().startswith(PNG)
