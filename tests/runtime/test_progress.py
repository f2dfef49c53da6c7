"""Progress events from a run (in this or another process) to the parent's queue."""

import multiprocessing

from nnfit.runtime.progress import ProgressReporter, ProgressServer


def _train_three_epochs(channel):
    reporter = ProgressReporter(channel, run=7, interval=0.0)
    reporter.on_train_begin(trainer=None)
    for epoch in (1, 2, 3):
        reporter.on_epoch_end(epoch, {"epoch": epoch, "train_loss": 1.0 / epoch,
                                      "val_loss": 2.0 / epoch, "lr": 0.1})
    reporter.on_train_end({})


def test_events_from_another_process_reach_the_queue():
    with ProgressServer() as server:
        process = multiprocessing.get_context("spawn").Process(target=_train_three_epochs,
                                                               args=(server.channel,))
        process.start()
        process.join(30)
        events = [server.events.get(timeout=10) for _ in range(4)]  # 3 epochs, the last again
    assert events[0] == (7, 1, {"train_loss": 1.0, "val_loss": 2.0})
    assert events[-1] == (7, 3, {"train_loss": 1 / 3, "val_loss": 2 / 3})


def test_a_reporter_that_cannot_reach_the_server_trains_on_silently():
    reporter = ProgressReporter((("127.0.0.1", 9), b"key"), run=1)
    reporter.on_train_begin(trainer=None)
    reporter.on_epoch_end(1, {"train_loss": 0.5})
    reporter.on_train_end({})  # no exception: progress is a view, never a condition
